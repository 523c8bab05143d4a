"""Re-execution (S-14, S-16): a case rebuilt from its recorded inputs only, on its pinned version,
produces the recorded events change by change and the stored final state — and a tampered input
shows up as the first divergence."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from conftest import ACCEPT_DATA, DATA_DIR, make_actor
from sqlalchemy import select, update

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import claim_task, complete_task, release_task, start_case
from engine.desk.clockops import extend_deadline
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import cases
from engine.time import clock
from engine.time.calendar_admin import set_override


def _open(db, case_no, element):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def test_a_joint_review_case_re_executes_identically_step_by_step(db, joint, clerk):
    case = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    claim_task(db, _open(db, case.case_no, "accept").task_id, clerk)
    release_task(db, _open(db, case.case_no, "accept").task_id, clerk)
    complete_task(db, _open(db, case.case_no, "accept").task_id, ACCEPT_DATA, clerk)
    for element in ("review_fire", "review_env", "review_housing"):
        complete_task(db, _open(db, case.case_no, element).task_id, {"opinion": "同意"}, clerk)
    complete_task(db, _open(db, case.case_no, "issue").task_id, {"certificate_no": "C-7"}, clerk)
    report = replay_case(db, case.case_no)
    assert report.identical, report.divergence
    assert [s.input for s in report.steps] == ["case_started", "task_claimed", "task_released", "task_completed",
                                               "task_completed", "task_completed", "task_completed",
                                               "task_completed"]
    after_accept = report.steps[3]
    assert {"review_env", "review_fire", "review_housing"} <= set(after_accept.active_after)
    assert "accept" in after_accept.completed and "split" in after_accept.completed
    assert after_accept.changed["decision"] == [None, "受理"]
    assert report.steps[-1].active_after == []


def test_timers_warnings_pauses_and_extensions_re_execute_at_their_recorded_times(db):
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口"])
    reviewer = make_actor(db, "reviewer", ["审查组"])
    chief = make_actor(db, "chief", ["区中心/测试部门·批准"], ["chief"])  # head of the deciding organ
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    with clock.frozen_at(t0):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": True}, window).case_no
        complete_task(db, _open(db, case_no, "accept").task_id, ACCEPT_DATA, window)
    with clock.frozen_at(t0 + timedelta(days=3)):
        complete_task(db, _open(db, case_no, "supplement").task_id, {"opinion": "同意"}, window)
    for hours in (30, 80, 200):
        tick(db, t0 + timedelta(days=3, hours=hours))
    with clock.frozen_at(t0 + timedelta(days=9)):
        extend_deadline(db, case_no, 2, "需现场核查", chief)
        complete_task(db, _open(db, case_no, "review").task_id, {"opinion": "同意"}, reviewer)
    types = [e["type"] for e in queries.case_history(db, case_no)]
    assert {"timer_fired", "warning_raised", "clock_paused", "clock_resumed", "deadline_extended"} <= set(types)
    report = replay_case(db, case_no)
    assert report.identical, report.divergence
    assert "tick" in [s.input for s in report.steps]


def test_a_tampered_stored_state_is_reported(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    complete_task(db, _open(db, case.case_no, "accept").task_id, ACCEPT_DATA, clerk)
    assert replay_case(db, case.case_no).identical
    with db.transaction() as conn:  # someone edits the stored workflow: the applicant's name
        state = conn.execute(select(cases.c.state).where(cases.c.case_no == case.case_no)).scalar_one()
        edited = json.dumps(json.loads(state)).replace(json.dumps("张三"), json.dumps("李四"))
        assert edited != json.dumps(json.loads(state))
        conn.execute(update(cases).where(cases.c.case_no == case.case_no).values(state=edited))
    report = replay_case(db, case.case_no)
    assert not report.identical and "流程状态" in report.divergence


def test_a_rule_that_now_gives_another_answer_is_the_first_divergence(db):
    """The calendar changed after the case ran: the same acceptance now yields another deadline."""
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口"])
    with clock.frozen_at(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, window).case_no
        complete_task(db, _open(db, case_no, "accept").task_id, ACCEPT_DATA, window)
    set_override(db, date(2026, 3, 4), False, "临时停电闭厅", "admin")
    report = replay_case(db, case_no)
    assert not report.identical
    assert report.divergence.startswith("第 2 次变更") and "clock_started" in report.divergence
