"""The working-day calendar against an independent ground truth, day by day.

tests/data/cn-calendar-2025-2026.csv lists every day of 2025 and 2026 as `workday` or `off` (with
the holiday it belongs to, and `make-up` for a weekend day worked in a 调休 swap). It was made from
the `chinesecalendar` package, which follows the State Council's notices: it is what the calendar
must agree with, never what the calendar reads. The Spring Festival and National Day stretches of
2026 are also spelled out below as literal dates, so a wrong CSV could not pass unnoticed either.
"""

from __future__ import annotations

import csv
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from engine.errors import NotFound, OnewindowError
from engine.time import calendar_admin
from engine.time.workdays import DAY_OFF, HOLIDAY, MAKE_UP, OVERRIDE, WEEKEND, WORKDAY, WorkCalendar, load_calendar

GROUND_TRUTH = Path(__file__).resolve().parent / "data" / "cn-calendar-2025-2026.csv"
#: The CSV's English holiday names for the package's Chinese ones (only used to compare the two).
ENGLISH = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Tomb-sweeping Day", "劳动节": "Labour Day",
           "端午节": "Dragon Boat Festival", "中秋节": "Mid-autumn Festival", "国庆节": "National Day"}


def _read_truth() -> dict[date, dict[str, str]]:
    with GROUND_TRUTH.open(encoding="utf-8") as handle:
        return {date.fromisoformat(row["date"]): row for row in csv.DictReader(handle)}


TRUTH = _read_truth()
CAL = WorkCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def truth_working(day: date) -> bool:
    return TRUTH[day]["kind"] == "workday"


def test_ground_truth_covers_2025_and_2026_completely():
    assert len(TRUTH) == 365 + 365
    assert min(TRUTH) == d("2025-01-01") and max(TRUTH) == d("2026-12-31")
    assert {row["kind"] for row in TRUTH.values()} == {"workday", "off"}
    for day, row in TRUTH.items():
        assert row["weekday"] == day.strftime("%a"), day


# --- every day of 2025 and 2026 -------------------------------------------------------------------

MONTHS = [(year, month) for year in (2025, 2026) for month in range(1, 13)]


@pytest.mark.parametrize(("year", "month"), MONTHS, ids=[f"{y}-{m:02d}" for y, m in MONTHS])
def test_every_day_agrees_with_the_ground_truth(year, month):
    wrong = []
    for day, row in TRUTH.items():
        if (day.year, day.month) != (year, month):
            continue
        info = CAL.describe(day)
        make_up = row["note"] == "make-up"
        names = {ENGLISH.get(n, n) for n in (info.holiday or "").split("、") if n}
        if (CAL.is_working_day(day) != truth_working(day) or info.working != truth_working(day)
                or (info.kind == MAKE_UP) != make_up or (row["holiday"] and row["holiday"] not in names)
                or (not row["holiday"] and names)):
            wrong.append(f"{day} {row['weekday']}: expected {row['kind']} {row['holiday']} {row['note']}, "
                         f"got {info.label} {info.kind} {info.holiday} ({info.why})")
    assert not wrong, f"{len(wrong)} day(s) of {year}-{month:02d} disagree, first: " + "; ".join(wrong[:5])


def test_every_make_up_day_is_a_weekend_day_worked():
    make_ups = sorted(day for day, row in TRUTH.items() if row["note"] == "make-up")
    assert len(make_ups) >= 10  # 2025 and 2026 each have several
    for day in make_ups:
        info = CAL.describe(day)
        assert day.weekday() >= 5, day
        assert info.working and info.kind == MAKE_UP and info.why.startswith("调休上班"), (day, info)
    # …and no other weekend day is worked.
    worked_weekends = sorted(day for day in TRUTH if day.weekday() >= 5 and CAL.is_working_day(day))
    assert worked_weekends == make_ups


def test_known_make_up_days_by_literal_date():
    """Taken from the CSV (and the State Council's notices): Saturdays and Sundays that are working days."""
    for text, holiday in (("2025-01-26", "春节"), ("2025-02-08", "春节"), ("2025-04-27", "劳动节"),
                          ("2025-09-28", "国庆节"), ("2025-10-11", "国庆节"),
                          ("2026-01-04", "元旦"), ("2026-02-14", "春节"), ("2026-02-28", "春节"),
                          ("2026-05-09", "劳动节"), ("2026-09-20", "国庆节"), ("2026-10-10", "国庆节")):
        day = d(text)
        assert TRUTH[day]["note"] == "make-up" and TRUTH[day]["kind"] == "workday", text
        info = CAL.describe(day)
        assert CAL.is_working_day(day) and info.kind == MAKE_UP, text
        assert holiday in (info.holiday or ""), (text, info.holiday)


# --- the 2026 Spring Festival and National Day, day by day ----------------------------------------

W, X = True, False  # working, off
SPRING_FESTIVAL_2026 = [  # 2026-02-15 (Sun) to 02-23 (Mon) off; Sat 02-14 and Sat 02-28 worked
    ("2026-02-12", "Thu", W), ("2026-02-13", "Fri", W), ("2026-02-14", "Sat", W),
    ("2026-02-15", "Sun", X), ("2026-02-16", "Mon", X), ("2026-02-17", "Tue", X), ("2026-02-18", "Wed", X),
    ("2026-02-19", "Thu", X), ("2026-02-20", "Fri", X), ("2026-02-21", "Sat", X), ("2026-02-22", "Sun", X),
    ("2026-02-23", "Mon", X),
    ("2026-02-24", "Tue", W), ("2026-02-25", "Wed", W), ("2026-02-26", "Thu", W), ("2026-02-27", "Fri", W),
    ("2026-02-28", "Sat", W), ("2026-03-01", "Sun", X), ("2026-03-02", "Mon", W),
]
NATIONAL_DAY_2026 = [  # Sun 09-20 worked; Mid-Autumn 09-25..27; 10-01 (Thu) to 10-07 (Wed) off; Sat 10-10 worked
    ("2026-09-19", "Sat", X), ("2026-09-20", "Sun", W), ("2026-09-21", "Mon", W),
    ("2026-09-24", "Thu", W), ("2026-09-25", "Fri", X), ("2026-09-26", "Sat", X), ("2026-09-27", "Sun", X),
    ("2026-09-28", "Mon", W), ("2026-09-29", "Tue", W), ("2026-09-30", "Wed", W),
    ("2026-10-01", "Thu", X), ("2026-10-02", "Fri", X), ("2026-10-03", "Sat", X), ("2026-10-04", "Sun", X),
    ("2026-10-05", "Mon", X), ("2026-10-06", "Tue", X), ("2026-10-07", "Wed", X),
    ("2026-10-08", "Thu", W), ("2026-10-09", "Fri", W), ("2026-10-10", "Sat", W), ("2026-10-11", "Sun", X),
    ("2026-10-12", "Mon", W),
]


@pytest.mark.parametrize("stretch", [SPRING_FESTIVAL_2026, NATIONAL_DAY_2026], ids=["spring-festival", "national-day"])
def test_2026_stretch_day_by_day(stretch):
    for text, weekday, working in stretch:
        day = d(text)
        assert day.strftime("%a") == weekday, text
        assert truth_working(day) is working, f"{text}: the literal list disagrees with the CSV"
        assert CAL.is_working_day(day) is working, f"{text} ({weekday}) should be {'working' if working else 'off'}"


@pytest.mark.parametrize(("name", "english"), [("春节", "Spring Festival"), ("国庆节", "National Day")])
def test_2026_stretch_matches_every_csv_day_of_that_holiday(name, english):
    days = sorted(day for day, row in TRUTH.items() if day.year == 2026 and row["holiday"] == english)
    assert days, english
    for day in days:
        info = CAL.describe(day)
        assert info.working == truth_working(day), day
        assert (info.kind == MAKE_UP) == (TRUTH[day]["note"] == "make-up"), day
        assert name in (info.holiday or ""), (day, info.holiday)


def test_spring_festival_2026_explained():
    kinds = {text: CAL.describe(d(text)).kind for text, _, _ in SPRING_FESTIVAL_2026}
    assert kinds["2026-02-14"] == MAKE_UP and kinds["2026-02-28"] == MAKE_UP
    assert kinds["2026-02-17"] == HOLIDAY and kinds["2026-02-16"] == HOLIDAY  # 除夕 is a holiday since 2025
    assert kinds["2026-02-20"] == DAY_OFF and kinds["2026-02-23"] == DAY_OFF  # weekdays given for the Saturdays
    assert kinds["2026-02-21"] == WEEKEND and kinds["2026-02-13"] == WORKDAY
    assert CAL.describe(d("2026-02-21")).why == "周末（春节假期）"
    assert CAL.describe(d("2026-02-14")).why == "调休上班（春节）"
    assert CAL.describe(d("2026-02-17")).names == ("春节",)  # Chinese names whatever the process locale
    assert CAL.describe(d("2026-03-02")).holiday is None


# --- arithmetic -----------------------------------------------------------------------------------


def test_add_working_days_across_the_spring_festival():
    start = d("2026-02-13")  # Friday before the break
    assert CAL.add_working_days(start, 0) == start
    assert CAL.add_working_days(start, 1) == d("2026-02-14")  # the make-up Saturday
    assert CAL.add_working_days(start, 2) == d("2026-02-24")  # nine days off skipped
    assert CAL.add_working_days(start, 5) == d("2026-02-27")
    assert CAL.add_working_days(start, 6) == d("2026-02-28")  # the second make-up Saturday
    assert CAL.add_working_days(start, 7) == d("2026-03-02")
    assert CAL.add_working_days(d("2026-02-17"), 1) == d("2026-02-24")  # from inside the break
    assert CAL.add_working_days(d("2026-02-17"), 0) == d("2026-02-17")  # n = 0: the start, even off


def _truth_add(start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        n -= truth_working(day)
    return day


def test_add_working_days_agrees_with_counting_the_csv():
    starts = [d("2025-01-01") + timedelta(days=i) for i in range(0, 640, 7)] + [
        d("2026-02-13"), d("2026-02-14"), d("2026-09-30"), d("2026-10-07"), d("2025-09-30")]
    for start in starts:
        for n in (0, 1, 2, 3, 5, 10, 15, 20, 30, 60):
            expected = _truth_add(start, n)
            if expected.year > 2026:
                continue
            assert CAL.add_working_days(start, n) == expected, (start, n)


def test_working_days_between():
    assert CAL.working_days_between(d("2026-02-13"), d("2026-02-28")) == 6  # 14, 24, 25, 26, 27, 28
    assert CAL.working_days_between(d("2026-02-14"), d("2026-02-23")) == 0  # the whole break
    assert CAL.working_days_between(d("2026-09-30"), d("2026-10-08")) == 1
    assert CAL.working_days_between(d("2026-02-13"), d("2026-02-13")) == 0
    assert CAL.working_days_between(d("2026-03-01"), d("2026-02-01")) == 0  # b before a
    year_2026 = sum(truth_working(day) for day in TRUTH if day.year == 2026)
    assert CAL.working_days_between(d("2025-12-31"), d("2026-12-31")) == year_2026
    for start in (d("2026-02-10"), d("2026-09-18"), d("2025-01-20")):
        for n in range(0, 40):
            assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


def test_next_working_day():
    assert CAL.next_working_day(d("2026-02-13")) == d("2026-02-14")
    assert CAL.next_working_day(d("2026-02-14")) == d("2026-02-24")
    assert CAL.next_working_day(d("2026-09-30")) == d("2026-10-08")
    assert CAL.next_working_day(d("2026-03-02")) == d("2026-03-03")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_days(d("2026-02-13"), -1)
    with pytest.raises(TypeError):  # a datetime would be compared as another day: refuse it
        CAL.add_working_days(datetime(2026, 2, 17, tzinfo=UTC), 1)
    with pytest.raises(TypeError):
        CAL.working_days_between(datetime(2026, 2, 1), d("2026-03-01"))


def test_years_far_from_now_work_too():
    # Beyond the published notices the package still knows the holidays (estimated, no 调休)…
    assert not CAL.is_working_day(d("2027-10-01")) and CAL.is_working_day(d("2027-10-08"))
    assert CAL.add_working_days(d("2030-06-28"), 1) == d("2030-07-01")
    assert not CAL.is_working_day(d("2100-01-01"))
    # …and outside 1950–2100 it knows none: Monday to Friday are working days.
    assert CAL.is_working_day(d("2200-01-01")) and CAL.is_working_day(d("1900-01-01"))
    weekdays = sum((d("2200-01-01") + timedelta(days=i)).weekday() < 5 for i in range(31))
    assert CAL.working_days_between(d("2199-12-31"), d("2200-01-31")) == weekdays == 23
    assert CAL.add_working_days(d("2050-01-01"), 250).year == 2051


def test_sixty_working_days_take_microseconds():
    CAL.add_working_days(d("2026-01-05"), 60)  # the years are loaded once per process
    started = time.perf_counter()
    for _ in range(1000):
        CAL.add_working_days(d("2026-01-05"), 60)
    per_call = (time.perf_counter() - started) / 1000
    assert per_call < 0.0005, f"add_working_days(…, 60) took {per_call * 1e6:.0f} µs"


# --- overrides ------------------------------------------------------------------------------------


def test_overrides_win_in_memory():
    calendar = WorkCalendar({d("2026-02-17"): True, d("2026-02-24"): False})
    assert calendar.is_working_day(d("2026-02-17")) and not CAL.is_working_day(d("2026-02-17"))
    assert not calendar.is_working_day(d("2026-02-24")) and CAL.is_working_day(d("2026-02-24"))
    assert calendar.add_working_days(d("2026-02-13"), 2) == d("2026-02-17")
    assert calendar.add_working_days(d("2026-02-13"), 3) == d("2026-02-25")
    info = calendar.describe(d("2026-02-17"))
    assert info.working and info.source == OVERRIDE and info.kind == HOLIDAY and not info.statutory_working


def test_overrides_round_trip_through_the_database(db):
    calendar_admin.set_override(db, d("2026-02-17"), True, "应急值守，全员上班", "admin")
    calendar_admin.set_override(db, d("2026-02-24"), False, "大厅停电检修", "admin")
    with db.reading() as conn:
        calendar = load_calendar(conn)
    assert calendar.is_working_day(d("2026-02-17")) and not calendar.is_working_day(d("2026-02-24"))
    assert calendar.add_working_days(d("2026-02-13"), 3) == d("2026-02-25")
    assert calendar.working_days_between(d("2026-02-13"), d("2026-02-28")) == 6  # one gained, one lost

    info = calendar.describe(d("2026-02-24"))
    assert info.source == OVERRIDE and not info.working and info.statutory_working
    assert info.override.reason == "大厅停电检修" and info.override.set_by == "admin"
    assert info.override.set_at.tzinfo is not None
    assert "大厅停电检修" in info.why and "管理员设为休息日" in info.why

    rows = calendar_admin.list_overrides(db)
    assert [(o.day, o.working) for o in rows] == [(d("2026-02-17"), True), (d("2026-02-24"), False)]
    assert calendar_admin.list_overrides(db, 2025) == []

    # Setting a day again replaces its override (upsert), with the new reason and setter.
    calendar_admin.set_override(db, d("2026-02-24"), True, "检修改期", "admin2")
    (row,) = [o for o in calendar_admin.list_overrides(db, 2026) if o.day == d("2026-02-24")]
    assert row.working and row.reason == "检修改期" and row.set_by == "admin2"

    removed = calendar_admin.remove_override(db, d("2026-02-17"), "admin")
    assert removed.day == d("2026-02-17") and removed.working
    with db.reading() as conn:
        assert not load_calendar(conn).is_working_day(d("2026-02-17"))  # the package decides again
    with pytest.raises(NotFound):
        calendar_admin.remove_override(db, d("2026-02-17"), "admin")


def test_month_view_marks_overrides_and_statutory_days(db):
    calendar_admin.set_override(db, d("2026-10-08"), False, "区政务大厅搬迁", "admin")
    days = calendar_admin.month_view(db, 2026, 10)
    assert [x.day.day for x in days] == list(range(1, 32))
    by_day = {x.day: x for x in days}
    assert by_day[d("2026-10-08")].source == OVERRIDE and not by_day[d("2026-10-08")].working
    assert by_day[d("2026-10-10")].source == MAKE_UP and by_day[d("2026-10-10")].working
    assert by_day[d("2026-10-04")].source == WEEKEND and by_day[d("2026-10-04")].holiday == "国庆节"
    assert by_day[d("2026-10-01")].source == HOLIDAY
    assert sum(x.working for x in days) == sum(truth_working(day) for day in TRUTH
                                               if (day.year, day.month) == (2026, 10)) - 1
    with pytest.raises(OnewindowError):
        calendar_admin.month_view(db, 2026, 13)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_needs_a_reason(db, reason):
    with pytest.raises(OnewindowError, match="原因"):
        calendar_admin.set_override(db, d("2026-02-24"), False, reason, "admin")
    assert calendar_admin.list_overrides(db) == []


def test_override_refuses_typo_years_and_missing_setter(db):
    with pytest.raises(OnewindowError, match="范围"):
        calendar_admin.set_override(db, d("2206-02-24"), False, "年份写错", "admin")
    with pytest.raises(OnewindowError, match="操作人"):
        calendar_admin.set_override(db, d("2026-02-24"), False, "无操作人", "")
    with pytest.raises(OnewindowError, match="原因过长"):
        calendar_admin.set_override(db, d("2026-02-24"), False, "长" * 501, "admin")
    assert calendar_admin.list_overrides(db) == []
