"""The supervisor's actions (S-15 异常处理, S-16 管办分离): acknowledge a warning, chase, open an exception.

Each action is an audit event in the case's own hash chain (the chain still verifies, and the case
re-executes identically with the action fed back), changes nothing of the workflow, and is refused to
anyone but a supervisor. Supervisors cannot claim or complete a clerk's task.
"""

from __future__ import annotations

import pytest
from conftest import PROCESSES, make_actor
from sqlalchemy import select
from watch_scenarios import accept, local, setup, task_of

from engine.audit import verify
from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import claim_task, complete_task
from engine.diagrams.package import load_package
from engine.errors import ConflictError, FormValidationError, PermissionDenied
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import case_warnings, cases, notifications
from engine.time import clock
from engine.watch.supervision import (
    SupervisionRefused,
    WarningFilter,
    acknowledge_warning,
    chase_case,
    list_warnings,
    open_exception,
)


@pytest.fixture
def people(db):
    return setup(db)


@pytest.fixture
def yellow_case(db, people):
    case_no = accept(db, people, "2026-02-12 10:00", unit="梁子镇")
    tick(db, local("2026-02-25 00:01"))
    return case_no


def _state(db, case_no):
    with db.reading() as conn:
        return conn.execute(select(cases.c.state, cases.c.status).where(cases.c.case_no == case_no)).one()


def test_the_warnings_list_shows_open_warnings_and_acknowledging_one_is_recorded_in_the_chain(db, people, yellow_case):
    listed = list_warnings(db)
    # issue 15, item 10: on 25 February (the working day before the deadline) it is a reminder, not a card
    assert [(w["case_no"], w["level"], w["kind"]) for w in listed if w["kind"] != "step"] == \
        [(yellow_case, "reminder", "committed")]
    yellow = next(w for w in listed if w["kind"] == "committed")
    assert yellow["window"] == "梁子镇" and yellow["case_open"]
    before = _state(db, yellow_case)

    with clock.frozen_at(local("2026-02-25 09:00")):
        acknowledge_warning(db, yellow["id"], people.supervisor, "已电话联系审查组")

    with db.reading() as conn:
        row = conn.execute(select(case_warnings).where(case_warnings.c.id == yellow["id"])).one()
    assert row.acknowledged_by == "centre-watch"
    assert yellow["id"] not in [w["id"] for w in list_warnings(db)]  # no longer open
    assert yellow["id"] in [w["id"] for w in list_warnings(db, WarningFilter(state="acknowledged"))]
    event = queries.case_history(db, yellow_case)[-1]
    assert (event["type"], event["actor"], event["data"]) == (
        "warning_acknowledged", "centre-watch", {"level": "reminder", "kind": "committed", "note": "已电话联系审查组"})
    assert _state(db, yellow_case) == before  # the workflow and the status are untouched
    assert verify.verify_case(db, yellow_case).ok
    report = replay_case(db, yellow_case)
    assert report.identical, report.divergence

    with pytest.raises(ConflictError):
        acknowledge_warning(db, yellow["id"], people.supervisor)


def test_only_a_supervisor_acknowledges_or_chases(db, people, yellow_case):
    warning = list_warnings(db)[0]
    for actor in (people.window, people.reviewer):
        with pytest.raises(PermissionDenied):
            acknowledge_warning(db, warning["id"], actor)
        with pytest.raises(PermissionDenied):
            chase_case(db, yellow_case, actor, "快办")
    assert not any(e["type"] in ("warning_acknowledged", "case_chased") for e in queries.case_history(db, yellow_case))


def test_chasing_notifies_the_groups_of_the_open_steps_and_re_executes(db, people, yellow_case):
    before = _state(db, yellow_case)
    with clock.frozen_at(local("2026-02-25 10:00")):
        recipients = chase_case(db, yellow_case, people.supervisor, "请于今日办结")
    assert recipients == ["group:审查组"]
    with db.reading() as conn:
        rows = conn.execute(select(notifications.c.recipient, notifications.c.kind, notifications.c.message)
                            .where(notifications.c.kind == "supervision")).all()
    assert [(r.recipient, r.kind) for r in rows] == [("group:审查组", "supervision")]
    assert yellow_case in rows[0].message and "请于今日办结" in rows[0].message
    assert queries.case_history(db, yellow_case)[-1]["type"] == "case_chased"
    assert _state(db, yellow_case) == before
    report = replay_case(db, yellow_case)
    assert report.identical, report.divergence


def test_a_closed_case_is_not_chased(db, people):
    from watch_scenarios import finish

    case_no = accept(db, people, "2026-02-12 10:00")
    finish(db, people, case_no, "2026-02-13 10:00")
    with pytest.raises(SupervisionRefused):
        chase_case(db, case_no, people.supervisor)


def test_supervisors_cannot_claim_or_complete_a_clerks_task(db, people, yellow_case):
    task_id = task_of(db, yellow_case, "review")
    lock = _lock(db, yellow_case)
    with pytest.raises(PermissionDenied):
        claim_task(db, task_id, people.supervisor)
    with pytest.raises(PermissionDenied):
        complete_task(db, task_id, {"opinion": "同意"}, people.supervisor)
    assert _lock(db, yellow_case) == lock


def _lock(db, case_no):
    with db.reading() as conn:
        return conn.execute(select(cases.c.lock_version).where(cases.c.case_no == case_no)).scalar_one()


def test_an_exception_case_goes_to_the_window_concerned_and_back_to_the_supervisors(db, people):
    deploy_package(db, load_package(PROCESSES / "supervision" / "exception-handling"), "analyst")
    original = accept(db, people, "2026-02-12 10:00", unit="区中心/区民政局")
    window = make_actor(db, "mz-window", ["区中心/区民政局·窗口"])

    with pytest.raises(SupervisionRefused):
        open_exception(db, original, people.supervisor, "  ")
    with pytest.raises(PermissionDenied):
        open_exception(db, original, people.window, "超期未办")
    with clock.frozen_at(local("2026-02-13 09:00")):
        exception = open_exception(db, original, people.supervisor, "审查环节超期未办，申请人投诉")

    detail = queries.case_detail(db, exception)
    assert detail["item_code"] == "SUP-EXCEPTION"
    [handle] = detail["open_tasks"]
    assert (handle["element_id"], handle["candidate_group"]) == ("window_handle", "区中心/区民政局·窗口")
    started = queries.case_history(db, exception)[0]["data"]["data"]
    assert started["original_case_no"] == original and started["problem"] == "审查环节超期未办，申请人投诉"
    linked = queries.case_history(db, original)[-1]
    assert (linked["type"], linked["data"]["exception_case_no"]) == ("exception_opened", exception)

    with pytest.raises(PermissionDenied):  # the supervisor does not do the window's part
        complete_task(db, handle["task_id"], {"explanation": "人手不足", "measures": "已调配人员"}, people.supervisor)
    complete_task(db, handle["task_id"], {"explanation": "人手不足", "measures": "已调配人员"}, window)
    review = task_of(db, exception, "supervisor_review")
    with pytest.raises(FormValidationError):  # sending it back needs a reason
        complete_task(db, review, {"decision": "退回重办"}, people.supervisor)
    complete_task(db, review, {"decision": "退回重办", "reason": "未说明对申请人的补救"}, people.supervisor)
    again = task_of(db, exception, "window_handle")
    complete_task(db, again, {"explanation": "人手不足", "measures": "已调配人员并电话致歉"}, window)
    complete_task(db, task_of(db, exception, "supervisor_review"), {"decision": "办结"}, people.supervisor)
    assert queries.case_detail(db, exception)["status"] == "completed"

    report = replay_case(db, original)
    assert report.identical, report.divergence


def test_the_warnings_list_filters_by_level_and_by_kind(db, people, yellow_case):
    """The list's two filters, each run against the database (the supervisor's 级别 and 时限 selects)."""
    everything = list_warnings(db)
    assert {w["level"] for w in everything} >= {"reminder"}
    reminders = list_warnings(db, WarningFilter(level="reminder"))
    assert reminders and all(w["level"] == "reminder" for w in reminders)
    assert list_warnings(db, WarningFilter(level="red")) == []
    committed = list_warnings(db, WarningFilter(kind="committed"))
    assert [w["case_no"] for w in committed] == [yellow_case] and committed[0]["kind"] == "committed"
    assert list_warnings(db, WarningFilter(level="reminder", kind="statutory")) == []
