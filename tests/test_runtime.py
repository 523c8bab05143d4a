"""The runtime: cases pinned to versions, forms validated, groups enforced, every change audited.

Serves S-13 (flows fixed once, run the same everywhere) and S-14 (every step recorded).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import func, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import claim_task, complete_task, release_task, start_case
from engine.diagrams.package import load_package
from engine.errors import FormValidationError, NotFound, PermissionDenied, ScriptError, StaleTaskError
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import audit_events, cases
from engine.time import clock

DATA = Path(__file__).resolve().parent / "data"
REVIEW_OK = {"opinion": "同意"}


def _names(db, actor=None, case_no=None):
    return sorted(t.name for t in queries.open_tasks(db, actor, case_no=case_no))


def _task(db, case_no, element_id):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element_id)


def test_joint_review_runs_to_completion_with_parallel_reviews(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    assert _names(db, case_no=case.case_no) == ["受理"]
    complete_task(db, _task(db, case.case_no, "accept").task_id, ACCEPT_DATA, clerk)
    assert _names(db, case_no=case.case_no) == ["住建部门审查", "消防部门审查", "环保部门审查"]
    for element in ("review_fire", "review_env", "review_housing"):
        complete_task(db, _task(db, case.case_no, element).task_id, REVIEW_OK, clerk)
    assert _names(db, case_no=case.case_no) == ["办结发证"]
    complete_task(db, _task(db, case.case_no, "issue").task_id, {"certificate_no": "C-1"}, clerk)
    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "completed"
    assert detail["closed_at"] is not None
    assert detail["open_tasks"] == []
    types = [e["type"] for e in queries.case_history(db, case.case_no)]
    assert types.count("task_completed") == 5
    assert types[0] == "case_started" and types[-1] == "case_closed"


def test_invalid_form_is_refused_with_field_errors_and_changes_nothing(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    task = _task(db, case.case_no, "accept")
    before = _snapshot(db)
    with pytest.raises(FormValidationError) as err:
        complete_task(db, task.task_id, {"applicant_name": "", "id_number": "123", "decision": "也许"}, clerk)
    assert set(err.value.field_errors) == {"applicant_name", "id_number", "decision"}
    assert "格式不正确" in err.value.field_errors["id_number"]
    assert _snapshot(db) == before


def test_only_members_of_the_lane_group_may_claim_or_complete(db, joint, clerk):
    outsider = make_actor(db, "outsider", ["消防审查"])
    case = start_case(db, "DEMO-001", {}, clerk)
    task = _task(db, case.case_no, "accept")
    assert queries.open_tasks(db, outsider) == []
    with pytest.raises(PermissionDenied):
        complete_task(db, task.task_id, ACCEPT_DATA, outsider)
    with pytest.raises(PermissionDenied):
        claim_task(db, task.task_id, outsider)


def test_a_claimed_task_belongs_to_its_claimer_until_released(db, joint, clerk):
    colleague = make_actor(db, "colleague", ["受理窗口"])
    case = start_case(db, "DEMO-001", {}, clerk)
    task = _task(db, case.case_no, "accept")
    claim_task(db, task.task_id, clerk)
    assert _task(db, case.case_no, "accept").assignee == "clerk"
    with pytest.raises(StaleTaskError, match="已由 clerk 签收"):
        complete_task(db, task.task_id, ACCEPT_DATA, colleague)
    release_task(db, task.task_id, clerk)
    assert _task(db, case.case_no, "accept").assignee is None
    complete_task(db, task.task_id, ACCEPT_DATA, colleague)
    types = [e["type"] for e in queries.case_history(db, case.case_no)]
    assert types.count("task_claimed") == 1 and types.count("task_released") == 1


def test_a_stale_submission_to_a_completed_task_is_refused_cleanly(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    task = _task(db, case.case_no, "accept")
    complete_task(db, task.task_id, ACCEPT_DATA, clerk)
    before = _snapshot(db)
    with pytest.raises(StaleTaskError, match="已办理完毕"):
        complete_task(db, task.task_id, ACCEPT_DATA, clerk)
    assert _snapshot(db) == before


def test_unknown_item_and_unknown_case_say_what_is_wrong(db, joint, clerk):
    with pytest.raises(NotFound, match="NOPE"):
        start_case(db, "NOPE", {}, clerk)
    with pytest.raises(NotFound, match="000"):
        queries.case_detail(db, "000")


def test_a_case_stays_on_the_version_it_started_with(db, joint, clerk, tmp_path):
    old_case = start_case(db, "DEMO-001", {}, clerk)
    package = load_package(Path(__file__).resolve().parent.parent / "processes" / "demo-joint-review")
    package.files["joint-review.bpmn"] = package.files["joint-review.bpmn"].replace('name="受理"', 'name="受理登记"')
    result = deploy_package(db, package, "analyst")
    assert (result.created, result.version) == (True, 2)
    new_case = start_case(db, "DEMO-001", {}, clerk)
    assert new_case.version == 2
    assert _names(db, case_no=old_case.case_no) == ["受理"]
    assert _names(db, case_no=new_case.case_no) == ["受理登记"]
    complete_task(db, _task(db, old_case.case_no, "accept").task_id, ACCEPT_DATA, clerk)
    assert queries.case_detail(db, old_case.case_no)["version"] == 1


def test_script_gateway_and_call_activity_path(db, clerk):
    deploy_package(db, load_package(DATA / "engine-paths"), "analyst")
    reviewer = make_actor(db, "reviewer", ["复核组"])
    case = start_case(db, "TEST-PATHS", {"a": 7, "b": 5}, clerk)
    open_now = queries.open_tasks(db, case_no=case.case_no)
    assert [(t.element_id, t.candidate_group) for t in open_now] == [("sub_check", "复核组")]
    assert queries.open_tasks(db, clerk) == []
    complete_task(db, open_now[0].task_id, REVIEW_OK, reviewer)
    finish = _task(db, case.case_no, "finish")
    complete_task(db, finish.task_id, {"certificate_no": "X"}, clerk)
    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "approved"


def test_timer_waits_in_the_index_and_fires_once_when_due(db, clerk):
    deploy_package(db, load_package(DATA / "engine-paths"), "analyst")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(start):
        case = start_case(db, "TEST-PATHS", {"a": 1, "b": 2}, clerk)
    detail = queries.case_detail(db, case.case_no)
    assert detail["open_tasks"] == []
    assert [t["element_id"] for t in detail["timers"]] == ["wait"]
    assert datetime.fromisoformat(detail["timers"][0]["due_at"]) == start + timedelta(hours=1)

    early = tick(db, start + timedelta(minutes=59))
    assert early.fired == [] and queries.case_detail(db, case.case_no)["timers"]
    report = tick(db, start + timedelta(hours=1, seconds=1))
    assert report.fired == [{"case_no": case.case_no, "element_id": "wait"}]
    assert tick(db, start + timedelta(hours=2)).fired == []
    detail = queries.case_detail(db, case.case_no)
    assert detail["timers"] == [] and [t["element_id"] for t in detail["open_tasks"]] == ["finish"]
    fired = [e for e in queries.case_history(db, case.case_no) if e["type"] == "timer_fired"]
    assert len(fired) == 1 and fired[0]["at"].startswith("2026-03-02T10:00:01")


def test_every_event_holds_the_hash_of_the_previous_one(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    complete_task(db, _task(db, case.case_no, "accept").task_id, ACCEPT_DATA, clerk)
    history = queries.case_history(db, case.case_no)
    assert history[0]["prev_hash"] == "0" * 64
    for previous, event in itertools.pairwise(history):
        assert event["prev_hash"] == previous["hash"]
        assert event["seq"] == previous["seq"] + 1
    with db.reading() as conn:
        head = conn.execute(select(cases.c.audit_head).where(cases.c.case_no == case.case_no)).scalar_one()
    assert head == history[-1]["hash"]


def _snapshot(db):
    """Everything a change may write, to prove a refused change wrote nothing."""
    from engine.store.tables import task_index, timer_index

    with db.reading() as conn:
        return (
            conn.execute(select(cases.c.case_no, cases.c.lock_version, cases.c.state, cases.c.status,
                                cases.c.audit_head).order_by(cases.c.id)).all(),
            conn.execute(select(task_index).order_by(task_index.c.task_id)).all(),
            conn.execute(select(timer_index).order_by(timer_index.c.task_id)).all(),
            conn.execute(select(func.count()).select_from(audit_events)).scalar_one(),
        )



def test_a_failing_script_names_its_element_and_no_case_is_left_behind(db, clerk):
    deploy_package(db, load_package(DATA / "engine-paths"), "analyst")
    with pytest.raises(ScriptError, match="compute") as err:
        start_case(db, "TEST-PATHS", {"a": 1}, clerk)
    assert "b" in err.value.message
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == 0


def test_case_numbers_carry_the_local_date_not_the_utc_date(db, joint, clerk):
    with clock.frozen_at(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)):  # 07:30 on 2 March in the district
        case = start_case(db, "DEMO-001", {}, clerk)
    assert case.case_no.startswith("20260302")
