"""Moving open cases to another version of their item: safe cases move in one audited transaction
each, unsafe ones are refused with the reason and left exactly as they were, and a migrated case
still re-executes identically."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import ACCEPT_DATA, ALL_GROUPS, PROCESSES, make_actor
from sqlalchemy import select

from engine.audit import verify
from engine.audit.replay import replay_case
from engine.catalogue.case_migration import MigrationRefused, assess_version, migrate_case, migrate_cases
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import ProcessPackage, load_package
from engine.errors import PermissionDenied
from engine.reads import queries
from engine.store.tables import cases

MAIN = "joint-review.bpmn"


def _package(edit=None, form_edit=None) -> ProcessPackage:
    package = load_package(PROCESSES / "demo-joint-review")
    files = dict(package.files)
    if edit:
        files[MAIN] = edit(files[MAIN])
    if form_edit:
        files["forms/accept.json"] = form_edit(files["forms/accept.json"])
    return ProcessPackage(copy.deepcopy(package.metadata), files)


def renamed(text: str) -> str:
    """Version 2: only names change (a safe migration for every case)."""
    return text.replace('name="办结发证"', 'name="办结并发证"').replace('name="住建部门审查"', 'name="住建局审查"')


def env_review_replaced(text: str) -> str:
    """A version where the environmental review is a new element (its id changed)."""
    return text.replace("review_env", "review_environment")


def address_required(text: str) -> str:
    """The 受理 form asks for one more required field."""
    form = json.loads(text)
    form["required"] = [*form["required"], "address"]
    form["properties"]["address"] = {"type": "string", "title": "经营地址", "minLength": 2}
    return json.dumps(form, ensure_ascii=False)


@pytest.fixture
def world(db):
    """Version 1 deployed; case `at_accept` waits at 受理, case `reviewing` is in the three reviews
    with the housing review claimed."""
    deploy_package(db, _package(), "analyst")
    clerk = make_actor(db, "clerk", ALL_GROUPS)
    analyst = make_actor(db, "liu", [], ["analyst"])
    at_accept = casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
    reviewing = casework.start_case(db, "DEMO-001", {"applicant_name": "李四"}, clerk).case_no
    accept = queries.open_tasks(db, case_no=reviewing)[0].task_id
    casework.claim_task(db, accept, clerk)
    casework.complete_task(db, accept, ACCEPT_DATA, clerk)
    housing = next(t for t in queries.open_tasks(db, case_no=reviewing) if t.element_id == "review_housing")
    casework.claim_task(db, housing.task_id, clerk)
    return {"db": db, "clerk": clerk, "analyst": analyst, "at_accept": at_accept, "reviewing": reviewing}


def _row(db, case_no):
    with db.reading() as conn:
        return conn.execute(select(cases).where(cases.c.case_no == case_no)).one()


def test_the_studio_list_says_which_cases_can_move_and_why_not(world):
    db = world["db"]
    deploy_package(db, _package(env_review_replaced), "analyst")
    verdicts = {v.case_no: v for v in assess_version(db, "DEMO-001", 1, 2)}
    assert verdicts[world["at_accept"]].can and verdicts[world["at_accept"]].open_elements == ("accept",)
    refused = verdicts[world["reviewing"]]
    assert not refused.can
    assert refused.reasons == ("办件停在环节「环保部门审查」（review_env），第 2 版中没有这个环节",)
    assert "review_housing" in refused.open_elements


def test_a_migration_moves_the_case_keeps_claims_and_timers_and_is_audited(world):
    db, case_no = world["db"], world["reviewing"]
    deploy_package(db, _package(renamed), "analyst")
    before = _row(db, case_no)
    timers_before = queries.case_detail(db, case_no)["timers"]

    assert migrate_case(db, case_no, 2, world["analyst"]) == 1

    after = _row(db, case_no)
    detail = queries.case_detail(db, case_no)
    assert detail["version"] == 2 and after.lock_version == before.lock_version + 1
    assert detail["timers"] == timers_before  # an unchanged timer keeps its due time
    tasks = {t.element_id: t for t in queries.open_tasks(db, case_no=case_no)}
    assert tasks["review_housing"].assignee == "clerk" and tasks["review_housing"].name == "住建局审查"
    event = queries.case_history(db, case_no)[-1]
    assert event["type"] == "case_migrated" and event["actor"] == "liu"
    assert (event["data"]["version_from"], event["data"]["version_to"]) == (1, 2)
    assert verify.verify_case(db, case_no).ok
    # the case goes on, on the new version, to its end
    for task in queries.open_tasks(db, case_no=case_no):
        casework.complete_task(db, task.task_id, {"opinion": "同意"}, world["clerk"])
    issue = queries.open_tasks(db, case_no=case_no)[0]
    assert issue.name == "办结并发证"
    casework.complete_task(db, issue.task_id, {"certificate_no": "JY12345"}, world["clerk"])
    assert queries.case_detail(db, case_no)["closed_at"] is not None
    assert replay_case(db, case_no).identical


def test_an_unsafe_migration_is_refused_and_leaves_the_case_untouched(world):
    db = world["db"]
    deploy_package(db, _package(env_review_replaced), "analyst")
    before = _row(db, world["reviewing"])
    with pytest.raises(MigrationRefused, match="review_env"):
        migrate_case(db, world["reviewing"], 2, world["analyst"])
    assert _row(db, world["reviewing"])._mapping == before._mapping

    result = migrate_cases(db, [world["at_accept"], world["reviewing"]], 2, world["analyst"])
    assert result.migrated == [world["at_accept"]]
    assert list(result.refused) == [world["reviewing"]]
    assert _row(db, world["reviewing"])._mapping == before._mapping
    assert queries.case_detail(db, world["at_accept"])["version"] == 2
    assert replay_case(db, world["at_accept"]).identical


def test_data_that_does_not_fit_the_new_forms_refuses_the_migration(world):
    db = world["db"]
    deploy_package(db, _package(form_edit=address_required), "analyst")
    verdicts = {v.case_no: v for v in assess_version(db, "DEMO-001", 1, 2)}
    assert verdicts[world["at_accept"]].can  # its 受理 form is still to be filled: the new form will ask
    reasons = verdicts[world["reviewing"]].reasons
    assert len(reasons) == 1 and "已填写的数据不符合第 2 版的表单 accept.json" in reasons[0]
    assert "经营地址" in reasons[0] and "address" not in reasons[0]  # the field's title, not its key


def test_a_failure_half_way_rolls_back_that_case_only(world, monkeypatch):
    db = world["db"]
    deploy_package(db, _package(renamed), "analyst")
    before = _row(db, world["reviewing"])
    from engine.runtime import change as runtime

    real_rewrite = runtime.indexes.rewrite

    def failing_rewrite(conn, case_id, *args, **kwargs):
        if case_id == before.id:
            raise RuntimeError("disk full")
        return real_rewrite(conn, case_id, *args, **kwargs)

    monkeypatch.setattr(runtime.indexes, "rewrite", failing_rewrite)
    with pytest.raises(RuntimeError):
        migrate_cases(db, [world["at_accept"], world["reviewing"]], 2, world["analyst"])
    assert queries.case_detail(db, world["at_accept"])["version"] == 2
    assert _row(db, world["reviewing"])._mapping == before._mapping


def test_only_analysts_migrate(world):
    deploy_package(world["db"], _package(renamed), "analyst")
    with pytest.raises(PermissionDenied):
        migrate_case(world["db"], world["at_accept"], 2, world["clerk"])


# --- the studio's migration page ------------------------------------------------------------------


def test_the_migration_page_lists_moves_and_refuses_for_analysts_only(world, client):
    from test_web import csrf_token, login, text

    db = world["db"]
    deploy_package(db, _package(env_review_replaced), "analyst")
    login(client, "clerk")
    assert client.get("/studio/items/DEMO-001/migrate").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/cases")})
    login(client, "liu")
    versions = text(client.get("/studio/items/DEMO-001/versions"))  # the way there: version 1 has open cases
    assert versions.count("迁移未结办件到第 2 版") == 1
    assert 'href="/studio/items/DEMO-001/migrate?from=1&amp;to=2"' in versions
    page = text(client.get("/studio/items/DEMO-001/migrate?from=1&to=2"))
    assert "可迁移 1 件" in page and "第 2 版中没有这个环节" in page
    assert f'name="case_no" value="{world["at_accept"]}"' in page
    assert f'name="case_no" value="{world["reviewing"]}"' not in page  # no box to tick for an unsafe case

    token = csrf_token(client, "/studio/items/DEMO-001/migrate?from=1&to=2")
    assert client.post("/studio/items/DEMO-001/migrate", data={
        "from": "1", "to": "2", "case_no": [world["at_accept"]]}).status_code == 400  # no CSRF token
    done = text(client.post("/studio/items/DEMO-001/migrate", data={
        "from": "1", "to": "2", "case_no": [world["at_accept"], world["reviewing"]], "csrf_token": token}))
    assert f"已迁移 1 个办件到第 2 版：{world['at_accept']}" in done
    assert f"办件 {world['reviewing']} 未迁移" in done
    assert queries.case_detail(db, world["at_accept"])["version"] == 2
    assert queries.case_detail(db, world["reviewing"])["version"] == 1


# --- a case inside a called process -----------------------------------------------------------------


def test_a_case_inside_a_called_process_moves_only_if_that_process_is_unchanged(db):
    from datetime import timedelta

    from test_demo_processes import DISTRICT, T0, TOWN, _accept_at_town

    from engine.time import clock

    package = load_package(PROCESSES / "demo-report-up")
    deploy_package(db, package, "analyst")
    town, district = make_actor(db, "town", [TOWN]), make_actor(db, "civil", [DISTRICT])
    analyst = make_actor(db, "liu", [], ["analyst"])
    case_no = _accept_at_town(db, town)
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["district_review"]

    def version(main_edit=None, shared_edit=None) -> ProcessPackage:
        files = dict(package.files)
        main = next(n for n in files if n.endswith(".bpmn") and not n.startswith("shared/"))
        if main_edit:
            files[main] = main_edit(files[main])
        if shared_edit:
            files["shared/relay-to-district.bpmn"] = shared_edit(files["shared/relay-to-district.bpmn"])
        return ProcessPackage(copy.deepcopy(package.metadata), files)

    task = '<bpmn:userTask id="district_review" name="区民政局{}"'
    deploy_package(db, version(shared_edit=lambda t: t.replace(task.format("审批"), task.format("审核"))), "analyst")
    [verdict] = assess_version(db, "DEMO-003", 1, 2)
    assert verdict.reasons == ("办件正在调用流程 relay_to_district 中，而第 2 版修改了该流程；"
                               "请待其返回主流程后再迁移",)

    deploy_package(db, version(main_edit=lambda t: t.replace('name="受理"', 'name="镇窗口受理"', 1)), "analyst")
    with clock.frozen_at(T0 + timedelta(hours=1)):
        assert migrate_case(db, case_no, 3, analyst) == 1
    assert queries.case_detail(db, case_no)["timers"][0]["element_id"] == "review_overdue"
    review = queries.open_tasks(db, case_no=case_no)[0]
    with clock.frozen_at(T0 + timedelta(hours=5)):
        casework.complete_task(db, review.task_id, {"approval": "批准", "approved_amount": 930}, district)
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["deliver"]
    assert replay_case(db, case_no).identical


def test_the_command_line_lists_then_migrates(world, env_db, capsys):
    from cli_helpers import run, run_json

    deploy_package(env_db, _package(env_review_replaced), "analyst")
    listed = {v["case_no"]: v for v in run_json(capsys, "migrate", "DEMO-001", "--from", "1", "--to", "2")}
    assert listed[world["at_accept"]]["can"] and not listed[world["reviewing"]]["can"]
    assert queries.case_detail(env_db, world["at_accept"])["version"] == 1  # a dry run changes nothing
    status, out, _ = run(capsys, "migrate", "DEMO-001", "--from", "1", "--to", "2", "--apply", "--as", "liu")
    assert status == 0 and f"migrated {world['at_accept']} to version 2" in out
    status, out, _ = run(capsys, "migrate", "DEMO-001", "--from", "1", "--to", "2", "--apply", "--as", "liu",
                         "--case", world["reviewing"])
    assert status == 1 and f"refused {world['reviewing']}: 办件" in out
