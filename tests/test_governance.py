"""S-9: withdrawing an item, or deploying a version that changes its time limits or materials, needs
a supervisor's approval — a case of the platform's own governance process — for exactly that change,
used once and recorded."""

from __future__ import annotations

import copy
import json

import pytest
from cli_helpers import one_error_line, run, run_json
from conftest import ACCEPT_DATA, ALL_GROUPS, PROCESSES, make_actor
from sqlalchemy import select

from engine.catalogue import governance, governance_requests
from engine.catalogue.deployment import deploy_package
from engine.catalogue.governance import ApprovalRequired
from engine.desk import casework
from engine.diagrams.package import ProcessPackage, load_package
from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.reads import queries
from engine.runtime import intake
from engine.store.tables import items

CODE = "DEMO-001"


def _package(**guide_changes) -> ProcessPackage:
    package = load_package(PROCESSES / "demo-joint-review")
    metadata = copy.deepcopy(package.metadata)
    metadata["guide"].update(guide_changes)
    return ProcessPackage(metadata, dict(package.files))


def _shorter() -> ProcessPackage:
    guide = load_package(PROCESSES / "demo-joint-review").metadata["guide"]
    return _package(committed_limit_days=guide["committed_limit_days"] - 1)


@pytest.fixture
def people(db):
    deploy_package(db, _package(), "analyst")  # the first deployment needs no approval
    return {"analyst": make_actor(db, "liu", [], ["analyst"]),
            "supervisor": make_actor(db, "zhou", [governance.SUPERVISION_GROUP], ["supervisor"]),
            "clerk": make_actor(db, "clerk", ALL_GROUPS)}


def _decide(db, case_no: str, supervisor, decision: str = "批准") -> None:
    task = queries.open_tasks(db, case_no=case_no)[0]
    assert task.candidate_group == governance.SUPERVISION_GROUP
    casework.claim_task(db, task.task_id, supervisor)
    casework.complete_task(db, task.task_id, {"decision": decision, "decision_reason": "经审查，理由充分"}, supervisor)


def _approved(db, people, package: ProcessPackage | None = None, withdraw: bool = False) -> str:
    case_no = governance_requests.request_change(db, people["analyst"], CODE, "缩短承诺时限", "群众反映办理时间长",
                                        package=package, withdraw=withdraw)
    _decide(db, case_no, people["supervisor"])
    return case_no


def _latest(db) -> int:
    with db.reading() as conn:
        return conn.execute(select(items.c.latest_version).where(items.c.code == CODE)).scalar_one()


def test_a_diagram_only_change_needs_no_approval_but_a_time_limit_change_does(db, people):
    files = dict(_package().files)
    files["joint-review.bpmn"] = files["joint-review.bpmn"].replace('name="办结发证"', 'name="办结并发证"')
    assert deploy_package(db, ProcessPackage(_package().metadata, files), "analyst").version == 2
    with pytest.raises(ApprovalRequired, match="承诺时限") as refused:
        deploy_package(db, _shorter(), "analyst")
    assert "--approval" in refused.value.message and refused.value.details["governed"][0]["field"] == \
        "committed_limit_days"
    assert _latest(db) == 2


def test_an_approved_request_allows_exactly_that_deploy_once_and_is_recorded(db, people):
    approval = _approved(db, people, package=_shorter())
    assert queries.case_detail(db, approval)["status"] == "approved"

    result = deploy_package(db, _shorter(), "liu", approval=approval)
    assert result.created and result.version == 2
    [record] = governance.history(db, CODE)
    assert (record["kind"], record["approval_case_no"], record["version_number"], record["acted_by"]) == \
        ("deploy", approval, 2, "liu")
    assert record["changes"][0]["field"] == "committed_limit_days"

    fewer = copy.deepcopy(_shorter().metadata["guide"]["materials"][:1])
    with pytest.raises(ApprovalRequired, match="已经使用过"):
        deploy_package(db, _package(materials=fewer, committed_limit_days=_shorter().metadata["guide"][
            "committed_limit_days"]), "liu", approval=approval)
    assert _latest(db) == 2


def test_an_approval_for_another_change_or_not_approved_is_refused(db, people):
    approval = _approved(db, people, package=_shorter())
    fewer = copy.deepcopy(_package().metadata["guide"]["materials"][:1])
    with pytest.raises(ApprovalRequired, match="不一致"):
        deploy_package(db, _package(materials=fewer), "liu", approval=approval)

    refused = governance_requests.request_change(db, people["analyst"], CODE, "", "试试看", package=_shorter())
    with pytest.raises(ApprovalRequired, match="尚未批准"):
        deploy_package(db, _shorter(), "liu", approval=refused)
    _decide(db, refused, people["supervisor"], "不予批准")
    assert queries.case_detail(db, refused)["status"] == "refused"
    with pytest.raises(ApprovalRequired, match="尚未批准"):
        deploy_package(db, _shorter(), "liu", approval=refused)

    with pytest.raises(ApprovalRequired, match="撤出中心"):  # a deploy approval does not withdraw
        governance.withdraw_item(db, CODE, people["analyst"], approval)
    assert _latest(db) == 1 and governance.history(db, CODE) == []


def test_withdrawal_stops_new_cases_but_running_ones_continue(db, people):
    running = casework.start_case(db, CODE, {"applicant_name": "张三"}, people["clerk"]).case_no
    with pytest.raises(ApprovalRequired, match="须经电子监察批准"):
        governance.withdraw_item(db, CODE, people["analyst"], "")
    approval = _approved(db, people, withdraw=True)
    governance.withdraw_item(db, CODE, people["analyst"], approval)

    assert governance.withdrawn_codes(db) == {CODE}
    with db.reading() as conn, pytest.raises(NotFound, match="已撤出中心"):
        intake.ensure_offered(conn, CODE)
    task = queries.open_tasks(db, case_no=running)[0]
    casework.complete_task(db, task.task_id, ACCEPT_DATA, people["clerk"])  # the running case goes on
    assert queries.open_tasks(db, case_no=running)[0].element_id.startswith("review_")
    with pytest.raises(ApprovalRequired, match="已撤出中心"):
        deploy_package(db, _shorter(), "liu", approval=approval)


def test_who_may_ask_and_what_there_is_to_ask(db, people):
    with pytest.raises(PermissionDenied):
        governance_requests.request_change(db, people["clerk"], CODE, "", "理由", withdraw=True)
    with pytest.raises(OnewindowError, match="无需审批"):
        governance_requests.request_change(db, people["analyst"], CODE, "", "理由", package=_package())
    with pytest.raises(OnewindowError, match="变更理由"):
        governance_requests.request_change(db, people["analyst"], CODE, "", " ", withdraw=True)


def test_the_command_line_deploys_and_withdraws_with_an_approval(env_db, people, capsys, tmp_path):
    folder = tmp_path / "demo-joint-review"
    package = _shorter()
    folder.mkdir()
    (folder / "item.json").write_text(json.dumps(package.metadata, ensure_ascii=False), encoding="utf-8")
    (folder / "joint-review.bpmn").write_text(package.files["joint-review.bpmn"], encoding="utf-8")
    status, _, err = run(capsys, "deploy", str(folder))
    assert status == 1 and "--approval" in one_error_line(err)
    approval = _approved(env_db, people, package=_shorter())
    assert run_json(capsys, "deploy", str(folder), "--approval", approval)["version"] == 2

    withdrawal = _approved(env_db, people, withdraw=True)
    out = run_json(capsys, "withdraw", CODE, "--approval", withdrawal, "--as", "liu")
    assert out == {"item_code": CODE, "withdrawn": True, "approval": withdrawal}


def test_the_version_page_asks_for_and_carries_out_a_withdrawal(db, people, client):
    from test_web import csrf_token, login, text

    login(client, "liu")
    page = "/studio/items/DEMO-001/versions"
    client.post("/studio/items/DEMO-001/withdrawal-request",
                data={"reason": "职能调整，改由镇便民服务中心办理", "csrf_token": csrf_token(client, page)})
    [approval] = [t.case_no for t in queries.open_tasks(db) if t.item_code == governance.GOVERNANCE_ITEM]
    assert f"审批办件编号 {approval}" in text(client.get(page))
    refused = client.post("/studio/items/DEMO-001/withdraw",
                          data={"approval": approval, "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    assert "尚未批准" in text(refused) and governance.withdrawn_codes(db) == set()

    _decide(db, approval, people["supervisor"])
    done = client.post("/studio/items/DEMO-001/withdraw",
                       data={"approval": approval, "csrf_token": csrf_token(client, page)}, follow_redirects=True)
    body = text(done)
    assert "已撤出中心" in body and approval in body and "申请撤出中心" not in body
    assert governance.withdrawn_codes(db) == {CODE}
