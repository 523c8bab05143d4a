"""The working-day case clock (S-7, S-15 自动预警): starts at acceptance, pauses for supplement,
keeps committed and statutory deadlines apart, reminds a working day before the committed deadline and
gives a yellow card once it has passed (issue 15, item 10: the old "yellow before, red after" read a
reminder as a card), flags a step over its own limit, fires working-day timers, and accepts an extension
only before the deadline.

Dates are checked against ../shared/data's calendar (copied to tests/data): 2026 Spring Festival is
15–23 February, with make-up working Saturdays on 14 and 28 February.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.desk.clockops import extend_deadline
from engine.diagrams.package import load_package
from engine.errors import OnewindowError, PermissionDenied
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import notifications
from engine.time import clock

CLOCK_ITEM = Path(__file__).resolve().parent / "data" / "clock-item"


def local(text: str) -> datetime:
    """A district-time moment ("2026-02-12 10:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def people(db):
    deploy_package(db, load_package(CLOCK_ITEM), "analyst")
    return {"window": make_actor(db, "window", ["受理窗口"]), "reviewer": make_actor(db, "reviewer", ["审查组"]),
            "chief": make_actor(db, "chief", ["区中心/测试部门·批准"], ["chief"])}  # head of the deciding organ


def _open(db, case_no, element):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def _accept(db, people, at: str, needs_supplement: bool = False) -> str:
    with clock.frozen_at(local(at)):
        case = start_case(db, "TEST-CLOCK", {"needs_supplement": needs_supplement}, people["window"])
        assert queries.case_detail(db, case.case_no)["clock"]["started_at"] is None  # not at application
        complete_task(db, _open(db, case.case_no, "accept").task_id, ACCEPT_DATA, people["window"])
    return case.case_no


def _clock(db, case_no, at: str):
    with clock.frozen_at(local(at)):
        return queries.case_detail(db, case_no)["clock"]


def test_deadlines_count_working_days_across_the_spring_festival(db, people):
    case_no = _accept(db, people, "2026-02-12 10:00")
    view = _clock(db, case_no, "2026-02-12 10:00")
    assert view["started_at"] == local("2026-02-12 10:00").isoformat()
    # 5 working days after Thu 12 Feb: 13, 14 (make-up Sat), 24, 25, 26 → ends 24:00 on 26 Feb.
    assert view["committed_deadline"] == local("2026-02-27 00:00").isoformat()
    # 20 working days: …, 27, 28 (make-up Sat), 2–6, 9–13, 16, 17, 18 March.
    assert view["statutory_deadline"] == local("2026-03-19 00:00").isoformat()
    assert (view["working_days_used"], view["working_days_remaining"]) == (0, 5)
    assert _clock(db, case_no, "2026-02-20 12:00")["working_days_used"] == 2  # holidays do not count
    assert _clock(db, case_no, "2026-02-25 09:00")["working_days_remaining"] == 1


def test_reminder_then_yellow_then_statutory_each_raised_once_by_the_tick(db, people):
    """Issue 15, item 10: the day before the deadline is a reminder (was "yellow"), the deadline passed is the
    yellow card (was "red"), a step over its own limit is a yellow card too (was "red"); no chase, no red card."""
    case_no = _accept(db, people, "2026-02-12 10:00")
    tick(db, local("2026-02-24 23:59"))
    assert _clock(db, case_no, "2026-02-24 23:59")["warning_level"] == "none"
    tick(db, local("2026-02-25 00:01"))
    view = _clock(db, case_no, "2026-02-25 00:01")
    assert view["warning_level"] == "reminder"
    case_level = [w for w in view["warnings"] if w["kind"] != "step"]
    assert [(w["level"], w["kind"]) for w in case_level] == [("reminder", "committed")]
    assert "role:supervisor" in case_level[0]["notified"] and "审查组" in case_level[0]["notified"]
    tick(db, local("2026-02-25 12:00"))  # nothing new in between
    tick(db, local("2026-02-27 00:30"))
    tick(db, local("2026-02-27 01:00"))
    tick(db, local("2026-03-19 08:00"))
    view = _clock(db, case_no, "2026-03-19 08:00")
    assert view["warning_level"] == "statutory"
    assert [(w["level"], w["kind"]) for w in view["warnings"]] == [
        ("yellow", "step"), ("reminder", "committed"), ("yellow", "committed"), ("statutory", "statutory")]
    raised = [e for e in queries.case_history(db, case_no) if e["type"] == "warning_raised"]
    assert len(raised) == 4


def test_a_supplement_pause_stops_the_clock_and_moves_both_deadlines(db, people):
    case_no = _accept(db, people, "2026-03-02 09:00", needs_supplement=True)
    paused = _clock(db, case_no, "2026-03-04 09:00")
    assert paused["paused"] and paused["working_days_used"] == 0
    assert paused["pauses"][0]["reason"] == "等待申请人补正" and paused["pauses"][0]["ended_at"] is None
    with clock.frozen_at(local("2026-03-05 10:00")):
        complete_task(db, _open(db, case_no, "supplement").task_id, {"opinion": "同意"}, people["window"])
    view = _clock(db, case_no, "2026-03-05 10:00")
    assert not view["paused"] and view["paused_working_days"] == 3  # 3, 4 and 5 March
    assert view["pauses"][0]["working_days"] == 3
    assert view["committed_deadline"] == local("2026-03-13 00:00").isoformat()  # 9 Mar + 3 working days
    assert view["working_days_used"] == 0
    assert _clock(db, case_no, "2026-03-09 10:00")["working_days_used"] == 2


def test_a_step_over_its_own_limit_is_flagged_while_the_case_is_on_time(db, people):
    case_no = _accept(db, people, "2026-03-05 10:00")
    review = _open(db, case_no, "review")
    assert review.task_id
    tick(db, local("2026-03-09 23:00"))
    assert [w["kind"] for w in _clock(db, case_no, "2026-03-09 23:00")["warnings"]] == []
    tick(db, local("2026-03-10 00:10"))  # review ready 5 Mar, 2 working days → ends 24:00 on 9 Mar
    view = _clock(db, case_no, "2026-03-10 00:10")
    assert [(w["kind"], w["element_id"]) for w in view["warnings"]] == [("step", "review")]
    assert view["warning_level"] == "none"  # the case as a whole is on time (deadline 12 March)
    tick(db, local("2026-03-10 08:00"))
    assert len(_clock(db, case_no, "2026-03-10 08:00")["warnings"]) == 1


def test_a_working_day_timer_chases_the_review_once_without_deciding_anything(db, people):
    case_no = _accept(db, people, "2026-02-13 16:00")  # Friday before the make-up Saturday
    detail = queries.case_detail(db, case_no)
    assert [t["element_id"] for t in detail["timers"]] == ["remind"]
    assert detail["timers"][0]["due_at"] == local("2026-02-14 16:00").isoformat()  # next working day
    assert tick(db, local("2026-02-14 15:59")).fired == []
    report = tick(db, local("2026-02-14 16:01"))
    assert report.fired == [{"case_no": case_no, "element_id": "remind"}]
    assert tick(db, local("2026-02-15 16:01")).fired == []
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["review"]
    with db.reading() as conn:  # the chase told the review group and its chief, once
        sent = conn.execute(select(notifications.c.recipient, notifications.c.kind, notifications.c.created_at)
                            .order_by(notifications.c.recipient)).all()
    assert [(n.recipient, n.kind) for n in sent] == [("chief:审查组", "chase"), ("group:审查组", "chase")]
    notified = [e for e in queries.case_history(db, case_no) if e["type"] == "notified"]
    assert len(notified) == 1 and notified[0]["element_id"] == "chase"


def test_an_extension_needs_a_chief_moves_the_deadline_and_is_refused_after_it(db, people):
    case_no = _accept(db, people, "2026-03-02 09:00")
    with clock.frozen_at(local("2026-03-06 10:00")):
        with pytest.raises(PermissionDenied):
            extend_deadline(db, case_no, 3, "需现场核查", people["window"])
        with pytest.raises(OnewindowError, match="理由"):
            extend_deadline(db, case_no, 3, " ", people["chief"])
        extend_deadline(db, case_no, 3, "需现场核查", people["chief"])
    view = _clock(db, case_no, "2026-03-06 10:00")
    assert view["extension_days"] == 3
    assert view["committed_deadline"] == local("2026-03-13 00:00").isoformat()  # 9 Mar + 3
    assert view["statutory_deadline"] == local("2026-04-03 00:00").isoformat()
    with clock.frozen_at(local("2026-03-13 00:01")), pytest.raises(OnewindowError, match="届满"):
        extend_deadline(db, case_no, 2, "再次延期", people["chief"])
    extended = [e for e in queries.case_history(db, case_no) if e["type"] == "deadline_extended"]
    assert len(extended) == 1 and extended[0]["actor"] == "chief" and extended[0]["data"]["days"] == 3


def test_the_clock_stops_when_the_case_closes(db, people):
    case_no = _accept(db, people, "2026-03-02 09:00")
    with clock.frozen_at(local("2026-03-03 09:00")):
        complete_task(db, _open(db, case_no, "review").task_id, {"opinion": "同意"}, people["reviewer"])
        complete_task(db, _open(db, case_no, "issue").task_id, {"certificate_no": "X"}, people["window"])
    view = _clock(db, case_no, "2026-04-30 09:00")
    assert view["stopped_at"] == local("2026-03-03 09:00").isoformat()
    assert view["working_days_used"] == 1 and view["warning_level"] == "none"
    assert tick(db, local("2026-04-30 09:00")).fired == []


def test_the_case_page_and_the_api_show_deadline_days_used_pauses_and_warnings(db, people):
    from test_web import login, text

    from engine.org.accounts import issue_token
    from webapp import create_app

    case_no = _accept(db, people, "2026-03-02 09:00", needs_supplement=True)
    with clock.frozen_at(local("2026-03-05 10:00")):
        complete_task(db, _open(db, case_no, "supplement").task_id, {"opinion": "同意"}, people["window"])
    tick(db, local("2026-03-12 00:30"))  # review (ready 5 Mar, 2 working days) is over its own limit
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": db.url}, db=db)
    client = app.test_client()
    login(client, "window")
    with clock.frozen_at(local("2026-03-12 09:00")):
        page = text(client.get(f"/cases/{case_no}"))
        token = issue_token(db, "window")
        body = client.get(f"/api/v1/cases/{case_no}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert "办理时限" in page and "2026-03-12 24:00" in page  # committed deadline: the end of its day
    assert "等待申请人补正" in page and "环节时限" in page
    assert "已用 5 个工作日，剩余 0 个工作日" in page  # the last day: the deadline is tonight
    assert "临期提醒" in page  # the last day: a reminder, not a card (issue 15, item 10)
    assert body["clock"]["working_days_used"] == 5 and body["clock"]["paused_working_days"] == 3
    assert body["clock"]["warning_level"] == "reminder"
    assert [w["kind"] for w in body["clock"]["warnings"]] == ["step", "committed"]


def test_reminder_then_an_extension_then_reminder_again_then_yellow_each_on_its_own_row(db, people):
    """Issue 12: a case warned yellow, extended, then due again made every later tick fail on the unique key of
    `case_warnings` (and a clerk completing its task got an IntegrityError). Now the level reached again is
    raised anew on its row; the trail keeps every raise. Dated: accepted Monday 2 March 2026, 5 working days.
    Issue 15, item 10 renamed the levels: the warning before the deadline is a reminder, the passed deadline yellow."""
    case_no = _accept(db, people, "2026-03-02 09:00")
    assert tick(db, local("2026-03-06 00:01")).errors == []
    assert _clock(db, case_no, "2026-03-06 00:01")["warning_level"] == "reminder"
    with clock.frozen_at(local("2026-03-06 10:00")):
        extend_deadline(db, case_no, 2, "需现场核查", people["chief"])
    view = _clock(db, case_no, "2026-03-06 10:00")
    assert view["warning_level"] == "none" and view["committed_deadline"] == local("2026-03-12 00:00").isoformat()
    again = tick(db, local("2026-03-10 00:01"))
    assert again.errors == [] and _clock(db, case_no, "2026-03-10 00:01")["warning_level"] == "reminder"
    late = tick(db, local("2026-03-12 00:01"))
    assert late.errors == [] and _clock(db, case_no, "2026-03-12 00:01")["warning_level"] == "yellow"
    with clock.frozen_at(local("2026-03-12 09:00")):
        complete_task(db, _open(db, case_no, "review").task_id, {"opinion": "同意"}, people["reviewer"])
    case_level = [(w["level"], w["raised_at"]) for w in _clock(db, case_no, "2026-03-12 09:00")["warnings"]
                  if w["kind"] == "committed"]
    assert case_level == [("reminder", local("2026-03-10 00:01").isoformat()),
                          ("yellow", local("2026-03-12 00:01").isoformat())]
    raised = [e["data"]["level"] for e in queries.case_history(db, case_no)
              if e["type"] == "warning_raised" and e["data"]["kind"] == "committed"]
    assert raised == ["reminder", "reminder", "yellow"]
