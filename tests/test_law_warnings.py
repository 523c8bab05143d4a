"""Warnings as practice defines them (issue 15 item 10; S-15 自动预警 and 绩效评估, S-11 考核) and the delivery
limit (行政许可法 第四十四条, issue 15 item 5), dated around 春节 and 国庆 2026.

The seed asks for automatic early warning and performance evaluation (S-15, S-11) but does not define the
cards; the levels follow 电子监察 practice: a reminder the working day before the committed deadline (not a
card), a yellow card once it has passed, a red card when the case is still overdue after the supervisor's
chase deadline (督办限期, `chase_days` working days, default 3), and the statutory level past the law's limit.
One `case_warnings` row per case, kind and level, however often the scheduler looks, and after a restart.
"""

from __future__ import annotations

from datetime import date

import pytest
from law_scenarios import (
    ACCEPT,
    DELIVER,
    REVIEW,
    case_row,
    cold_start,
    complete,
    deploy_law_item,
    events,
    nth_working_day_after,
    people,
    receive,
    warnings_of,
)
from watch_scenarios import local

from engine.audit.replay import replay_case
from engine.runtime.scheduler import tick
from engine.time import clock
from engine.watch import performance
from engine.watch.supervision import chase_case


@pytest.fixture
def who(db, tmp_path):
    deploy_law_item(db, tmp_path)
    return people(db)


def test_delivery_overrun_on_the_11th_working_day_is_warned_once(db, who):
    """Art 44: decided Tue 13 Oct 2026, the delivery step has 10 working days (14–16, 19–23, 26, 27 Oct); on
    the 11th (28 Oct) it is a yellow card on the step, once — across ticks and a restart."""
    case_no = receive(db, who, "2026-10-12 09:00")
    complete(db, who, case_no, "accept", ACCEPT, "2026-10-12 09:10")
    complete(db, who, case_no, "review", REVIEW, "2026-10-13 10:00", actor="reviewer")
    assert nth_working_day_after(date(2026, 10, 13), 10) == date(2026, 10, 27)
    tick(db, local("2026-10-27 23:59"))
    assert [w for w in warnings_of(db, case_no) if w[1] == "step"] == []
    tick(db, local("2026-10-28 00:01"))
    tick(db, local("2026-10-28 09:00"))
    cold_start()
    tick(db, local("2026-10-29 09:00"))
    assert [w for w in warnings_of(db, case_no) if w[1] == "step"] == [("yellow", "step", "deliver")]
    steps = [e for e in events(db, case_no, "warning_raised") if e["data"]["kind"] == "step"]
    assert len(steps) == 1 and steps[0]["data"]["due_at"] == local("2026-10-28 00:00").isoformat()
    complete(db, who, case_no, "deliver", DELIVER, "2026-10-29 10:00")
    assert replay_case(db, case_no).identical


def test_reminder_yellow_red_and_statutory_one_row_each_across_ticks_and_a_restart(db, who):
    """Accepted Thu 12 Feb 2026: 5 working days 13, 14 (make-up Sat), 24, 25, 26 Feb. Reminder 00:00 on 25 Feb
    (not a card); yellow 00:00 on 27 Feb; a chase before then sets no chase deadline; the chase on 27 Feb
    gives 3 working days (28 Feb make-up Sat, 2, 3 Mar): red at 00:00 on 4 Mar; statutory (20 working days)
    at 00:00 on 19 Mar. Every tick twice, and once more after a restart."""
    case_no = receive(db, who, "2026-02-12 09:00")
    complete(db, who, case_no, "accept", ACCEPT, "2026-02-12 10:00")
    moments = ["2026-02-25 00:01", "2026-02-27 00:01", "2026-03-04 00:01", "2026-03-19 00:01"]
    expected = [("reminder", "committed"), ("yellow", "committed"), ("red", "chase"), ("statutory", "statutory")]
    with clock.frozen_at(local("2026-02-25 10:00")):
        chase_case(db, case_no, who["watch"], "请抓紧办理")
    assert case_row(db, case_no).chase_due_at is None  # not overdue yet: a chase, not a 督办限期
    for number, moment in enumerate(moments):
        if number == 2:
            with clock.frozen_at(local("2026-02-27 10:00")):
                chase_case(db, case_no, who["watch"], "限期办结")
            assert case_row(db, case_no).chase_due_at == local("2026-03-04 00:00")
        tick(db, local(moment))
        tick(db, local(moment))
        cold_start()
        tick(db, local(moment).replace(minute=30))
        assert [w[:2] for w in warnings_of(db, case_no)] == expected[:number + 1]
        assert case_row(db, case_no).warning_level == expected[number][0]
    chased = events(db, case_no, "case_chased")
    assert [e["data"].get("chase_due_at") for e in chased] == [None, local("2026-03-04 00:00").isoformat()]
    assert [e["data"]["level"] for e in events(db, case_no, "warning_raised")] == [lvl for lvl, _ in expected]
    assert replay_case(db, case_no).identical


def test_no_red_card_without_a_chase_and_none_when_the_case_closes_within_the_chase_deadline(db, who):
    """A red card is for ignoring the supervisor: chased on 27 Feb, closed 2 Mar (within 3 working days) —
    yellow stays, no red."""
    case_no = receive(db, who, "2026-02-12 09:00")
    complete(db, who, case_no, "accept", ACCEPT, "2026-02-12 10:00")
    tick(db, local("2026-02-27 00:01"))
    with clock.frozen_at(local("2026-02-27 10:00")):
        chase_case(db, case_no, who["watch"])
    complete(db, who, case_no, "review", REVIEW, "2026-03-02 09:00", actor="reviewer")
    complete(db, who, case_no, "deliver", DELIVER, "2026-03-02 10:00")
    tick(db, local("2026-03-04 00:01"))
    assert [w[0] for w in warnings_of(db, case_no)] == ["reminder", "yellow"]
    assert replay_case(db, case_no).identical


def _window(report, code):
    return next(m for m in report.windows if m.key == code)


def test_scores_follow_the_administrators_points(db, who):
    """S-11/S-15 绩效评估: defaults reminder 0, yellow −5, red −10, statutory −10, +2 per early case. One case
    closed early (13 Feb), one with a reminder, a yellow and a red card (closed 5 Mar, late)."""
    early = receive(db, who, "2026-02-12 09:00")
    complete(db, who, early, "accept", ACCEPT, "2026-02-12 09:30")
    complete(db, who, early, "review", REVIEW, "2026-02-13 09:00", actor="reviewer")
    complete(db, who, early, "deliver", DELIVER, "2026-02-13 10:00")
    late = receive(db, who, "2026-02-12 09:00")
    complete(db, who, late, "accept", ACCEPT, "2026-02-12 10:00")
    tick(db, local("2026-02-25 00:01"))
    tick(db, local("2026-02-27 00:01"))
    with clock.frozen_at(local("2026-02-27 10:00")):
        chase_case(db, late, who["watch"])
    tick(db, local("2026-03-04 00:01"))
    complete(db, who, late, "review", REVIEW, "2026-03-05 09:00", actor="reviewer")
    complete(db, who, late, "deliver", DELIVER, "2026-03-05 10:00")
    window = case_row(db, late).unit_code or None
    report = performance.evaluate(db, date(2026, 2, 1), date(2026, 3, 31))
    metrics = report.windows[0] if window is None else _window(report, window)
    assert (metrics.handled, metrics.on_time, metrics.early) == (2, 1, 1)
    assert (metrics.reminders, metrics.yellow_cards, metrics.red_cards, metrics.statutory_cards) == (1, 1, 1, 0)
    base = 100 * (50 * 0.5 + 20 * 0.5) / 70  # on time 1/2, early 1/2, no ratings
    assert metrics.score == round(base - 0 - 5 - 10 + 2, 1)
    performance.set_weights(db, {"reminder": 3, "yellow_card": 1, "red_card": 2, "early_bonus": 0}, who["admin"])
    again = performance.evaluate(db, date(2026, 2, 1), date(2026, 3, 31))
    metrics = again.windows[0] if window is None else _window(again, window)
    assert metrics.score == round(base - 3 - 1 - 2, 1)
    for case_no in (early, late):
        assert replay_case(db, case_no).identical
