"""Acceptance within 5 working days (行政许可法 第三十二条, issue 15 item 1) and direct items (即办, S-6 ①,
S-7 "能当场办理的，应立即办理"; issue 15 item 6), dated in 2026 around 国庆 and 春节.

Art 32: an application neither accepted, nor sent back for 补正, nor refused within five (working, art 82)
days of its receipt counts as accepted from the day the materials were received. The platform then starts
the clock at the receipt, marks the case and warns the supervisors (S-15 自动预警) — whether a late
answer or the scheduler's tick is what finds it.

Dates (tests/data/cn-calendar-2025-2026.csv): Mon 28 Sep 2026 received; working days after it 29, 30 Sep,
8, 9, 10 (make-up Saturday) Oct — the acceptance limit ends 24:00 on Sat 10 Oct; 12, 13, 14 Oct follow
(14 Oct is the 8th working day).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from law_scenarios import (
    ACCEPT,
    REVIEW,
    SUPPLEMENT,
    case_row,
    cold_start,
    complete,
    deploy_law_item,
    events,
    notified,
    nth_working_day_after,
    people,
    receive,
    warnings_of,
)
from watch_scenarios import local

from engine.audit.replay import replay_case
from engine.runtime.scheduler import tick
from engine.time import clock

RECEIVED = "2026-09-28 10:00"


@pytest.fixture
def who(db, tmp_path):
    deploy_law_item(db, tmp_path)
    return people(db)


def test_the_calendar_the_dates_assume():
    assert nth_working_day_after(date(2026, 9, 28), 5) == date(2026, 10, 10)  # 国庆 make-up Saturday
    assert nth_working_day_after(date(2026, 9, 28), 8) == date(2026, 10, 14)


def test_a_supplement_notice_8_working_days_after_receipt_counts_as_accepted_on_the_receipt_day(db, who):
    """Art 32: the 补正 notice came on the 8th working day (14 Oct); the application counts as accepted on
    28 Sep. The clock runs from the receipt — the committed 5 days ended 24:00 on 10 Oct and the statutory 20
    end on the 20th working day after 28 Sep — and the supervisors are warned once."""
    case_no = receive(db, who, RECEIVED)
    assert case_row(db, case_no).acceptance_due_at == local("2026-10-11 00:00")
    complete(db, who, case_no, "accept", SUPPLEMENT, "2026-10-14 10:00")
    row = case_row(db, case_no)
    assert clock.as_utc(row.deemed_accepted_at) == local("2026-10-14 10:00")
    assert clock.as_utc(row.clock_started_at) == local(RECEIVED)  # the receipt, not the 补正 notice
    assert clock.as_utc(row.committed_deadline) == local("2026-10-11 00:00")
    statutory_day = nth_working_day_after(date(2026, 9, 28), 20)
    assert row.statutory_deadline == local(f"{statutory_day + timedelta(days=1)} 00:00")
    assert row.acceptance_due_at is None
    assert warnings_of(db, case_no) == [("yellow", "acceptance", None)]
    [deemed] = events(db, case_no, "deemed_accepted")
    assert deemed["actor"] == "system" and deemed["data"]["received_at"] == local(RECEIVED).isoformat()
    [message] = notified(db, "role:supervisor")
    assert case_no in message and "第三十二条" in message and "2026-09-28" in message
    assert [e["data"]["level"] for e in events(db, case_no, "warning_raised")] == ["yellow"]
    tick(db, local("2026-10-14 12:00"))  # nothing more: the case waits for the applicant (paused)
    assert warnings_of(db, case_no) == [("yellow", "acceptance", None)]
    assert replay_case(db, case_no).identical


def test_acceptance_on_the_5th_working_day_raises_nothing(db, who):
    """Art 32: 受理 on Sat 10 Oct (the make-up working day, the 5th) is in time: no flag, the clock starts at
    the acceptance, and the limit is no longer watched."""
    case_no = receive(db, who, RECEIVED)
    complete(db, who, case_no, "accept", ACCEPT, "2026-10-10 16:00")
    tick(db, local("2026-10-11 00:01"))
    row = case_row(db, case_no)
    assert row.deemed_accepted_at is None and row.acceptance_due_at is None
    assert clock.as_utc(row.clock_started_at) == local("2026-10-10 16:00")
    assert events(db, case_no, "deemed_accepted") == [] and warnings_of(db, case_no) == []
    assert notified(db, "role:supervisor") == []
    assert replay_case(db, case_no).identical


def test_the_tick_alone_catches_an_application_nobody_answered(db, who):
    """Art 32 without any human action: the tick at 00:01 on Sun 11 Oct finds the limit passed. Ticks again,
    and a restarted process (cold caches), add nothing; the 受理 on 12 Oct does not restart the clock."""
    case_no = receive(db, who, RECEIVED)
    assert clock.as_utc(case_row(db, case_no).next_check_at) == local("2026-10-11 00:00")
    tick(db, local("2026-10-10 23:59"))
    assert case_row(db, case_no).deemed_accepted_at is None
    tick(db, local("2026-10-11 00:01"))
    row = case_row(db, case_no)
    assert clock.as_utc(row.deemed_accepted_at) == local("2026-10-11 00:01")
    assert clock.as_utc(row.clock_started_at) == local(RECEIVED)
    assert warnings_of(db, case_no)[0] == ("yellow", "acceptance", None)
    tick(db, local("2026-10-11 00:02"))
    cold_start()
    tick(db, local("2026-10-11 08:00"))
    assert [w for w in warnings_of(db, case_no) if w[1] == "acceptance"] == [("yellow", "acceptance", None)]
    assert len(events(db, case_no, "deemed_accepted")) == 1 and len(notified(db, "role:supervisor")) == 1
    complete(db, who, case_no, "accept", ACCEPT, "2026-10-12 09:00")
    assert clock.as_utc(case_row(db, case_no).clock_started_at) == local(RECEIVED)
    assert events(db, case_no, "clock_started") == []
    assert replay_case(db, case_no).identical


@pytest.fixture
def direct(db, tmp_path):
    code = deploy_law_item(db, tmp_path, direct=True)
    return code, people(db)


def test_a_direct_case_is_due_the_same_working_day_and_not_warned_at_acceptance(db, direct):
    """即办 (S-6 ①, S-7): accepted on Sat 14 Feb 2026 (a make-up working day before 春节), due 24:00 that day;
    no warning at acceptance (each direct case used to be yellow at once); a yellow card only once the day
    has passed."""
    code, who = direct
    case_no = receive(db, who, "2026-02-14 09:00", code)
    complete(db, who, case_no, "accept", ACCEPT, "2026-02-14 09:05")
    row = case_row(db, case_no)
    assert clock.as_utc(row.committed_deadline) == local("2026-02-15 00:00")
    assert row.warning_level == "none" and warnings_of(db, case_no) == []
    tick(db, local("2026-02-14 23:59"))
    assert warnings_of(db, case_no) == []
    tick(db, local("2026-02-15 00:01"))
    assert [w[:2] for w in warnings_of(db, case_no)] == [("yellow", "committed"), ("statutory", "statutory")]
    assert replay_case(db, case_no).identical


def test_a_direct_case_accepted_on_a_holiday_is_due_at_the_end_of_the_next_working_day(db, direct):
    """即办 accepted on Sun 15 Feb 2026 (春节, a day off — e.g. online self-service): due 24:00 on Tue 24 Feb,
    the first working day after the holiday, so the same-working-day promise can be kept at all."""
    code, who = direct
    case_no = receive(db, who, "2026-02-15 10:00", code)
    complete(db, who, case_no, "accept", ACCEPT, "2026-02-15 10:05")
    assert nth_working_day_after(date(2026, 2, 15), 1) == date(2026, 2, 24)
    assert clock.as_utc(case_row(db, case_no).committed_deadline) == local("2026-02-25 00:00")
    tick(db, local("2026-02-24 12:00"))
    assert warnings_of(db, case_no) == []
    complete(db, who, case_no, "review", REVIEW, "2026-02-24 15:00", actor="reviewer")
    complete(db, who, case_no, "deliver", {"certificate_no": "证-002"}, "2026-02-24 16:00")
    assert case_row(db, case_no).status == "approved" and warnings_of(db, case_no) == []
    assert replay_case(db, case_no).identical
