"""The working-day calendar: which local dates count when a time limit is "N working days".

A **working day** (工作日) is a date on which the district's offices are open and statutory time
limits run. It is decided in two layers, and the upper one wins:

1. **The statutory calendar, from the `holidays` package** (`holidays.country_holidays("CN")`,
   names in zh_CN). Monday to Friday are working days and Saturday and Sunday are not, except that
   public holidays (春节, 国庆节, … and their 补假 days) and the weekdays given off in a 调休 swap
   (休息日) are off, and the weekend days the State Council's yearly notice makes working
   (调休上班, the package's `weekend_workdays`) are working. The package carries each year's
   notice once it is published; for later years it only estimates the holidays themselves, with
   no 调休 swaps, and outside 1950–2100 it knows no holidays at all (weekends only).
2. **The administrator's overrides** (`calendar_overrides`: a day made working or off, with a
   reason, who set it and when), edited with `onewindow calendar set/unset` or on /admin/calendar.
   They correct the package (a notice the installed package does not have yet, a local closure)
   and always win over it.

Dates are the district's local dates (`clock.local_date(moment)`), never UTC dates: a `datetime`
is refused rather than silently compared as a different day.

`WorkCalendar` answers the questions the case clock asks (`is_working_day`, `add_working_days`,
`working_days_between`, `next_working_day`); `load_calendar(conn)` builds one with the overrides
read in one small query. The statutory layer is computed once per process, a whole year at a time,
the first time a date of that year is asked (any year, however far), and kept in a dict, so a
lookup is two dict reads and `add_working_days(d, 60)` takes microseconds.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays
from sqlalchemy import Connection, select

from engine.messages import ENUMERATION_COMMA, listed, said
from engine.store.tables import calendar_overrides
from engine.time.clock import as_utc, deadline_day

ONE_DAY = timedelta(days=1)
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

#: What the statutory layer says a day is (`DayInfo.kind`).
WORKDAY, WEEKEND, HOLIDAY, DAY_OFF, MAKE_UP = "workday", "weekend", "holiday", "day_off", "make_up"
#: `DayInfo.source` when an administrator's override decides the day.
OVERRIDE = "override"

_LANGUAGE = "zh_CN"  # explicit: left unset, the package picks the language from the process locale
_SUBSTITUTED = re.compile(r"由\s*(\d{4}-\d{2}-\d{2})\s*调休")  # "休息日（由 2026-02-14 调休）"
_SUFFIX = re.compile(r"[（(][^）)]*[）)]\s*$")  # "清明节（补假）" → "清明节"
_ALIASES = {"农历除夕": "春节"}  # New Year's Eve is part of the Spring Festival stretch
_STRETCH_REACH = 16  # days to look either way for the holiday a weekend or make-up day belongs to


@dataclass(frozen=True)
class Override:
    """An administrator's decision about one day: working or off, why, who, when."""

    day: date
    working: bool
    reason: str
    set_by: str
    set_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "working": self.working, "reason": self.reason,
                "set_by": self.set_by, "set_at": self.set_at.isoformat()}


@dataclass(frozen=True)
class DayInfo:
    """One day explained, for the month view, `onewindow calendar check` and the admin page.

    `kind` is the statutory layer's answer (workday, weekend, holiday, day_off = a weekday given off
    in a 调休 swap, make_up = a weekend day worked in exchange); `source` is what decided the day:
    that kind, or `override`. `holiday` names the holiday stretch the day belongs to (a weekend
    inside the Spring Festival break, a make-up Saturday, …), `names` the package's own names for
    the day, and `why` says it all in one Chinese phrase.
    """

    day: date
    working: bool
    source: str
    kind: str
    statutory_working: bool
    holiday: str | None
    names: tuple[str, ...]
    override: Override | None
    why: str

    @property
    def weekday(self) -> str:
        return WEEKDAY_NAMES[self.day.weekday()]

    @property
    def label(self) -> str:
        return "工作日" if self.working else "休息日"

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "weekday": self.weekday, "working": self.working,
                "label": self.label, "source": self.source, "kind": self.kind,
                "statutory_working": self.statutory_working, "holiday": self.holiday, "names": list(self.names),
                "override": self.override.to_dict() if self.override else None, "why": self.why}


# --- the statutory layer (the holidays package), once per process ----------------------------------


class _Statutory:
    """The `holidays` package's China calendar, turned into per-day answers a whole year at a time.

    The package object populates years lazily and is not thread-safe, so it is only touched under
    the lock; the answers are plain dicts read without it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: holidays.HolidayBase | None = None
        self._years: set[int] = set()
        self.working: dict[date, bool] = {}
        self.kinds: dict[date, str] = {}
        self.names: dict[date, tuple[str, ...]] = {}
        self.make_up_for: dict[date, date] = {}  # make-up weekend day → the weekday given off for it

    def is_working_day(self, day: date) -> bool:
        answer = self.working.get(day)
        if answer is None:
            self.load_year(day.year)
            answer = self.working[day]
        return answer

    def load_year(self, year: int) -> None:
        if year in self._years:
            return
        with self._lock:
            if year in self._years:
                return
            if self._source is None:
                self._source = holidays.country_holidays("CN", language=_LANGUAGE)
            source = self._source
            day, end = date(year, 1, 1), date(year, 12, 31)
            while True:
                names = tuple(source.get_list(day))
                weekend = day.weekday() >= 5
                if weekend:
                    kind = MAKE_UP if day in source.weekend_workdays else WEEKEND
                elif names:
                    kind = HOLIDAY if any(not _SUBSTITUTED.search(n) for n in names) else DAY_OFF
                else:
                    kind = WORKDAY
                if weekend and names and kind == WEEKEND:
                    kind = HOLIDAY  # a holiday on a weekend: off either way, named by its holiday
                for name in names:
                    if match := _SUBSTITUTED.search(name):
                        self.make_up_for[date.fromisoformat(match.group(1))] = day
                if names:
                    self.names[day] = names
                self.kinds[day] = kind
                self.working[day] = source.is_working_day(day)
                if day == end:
                    break
                day += ONE_DAY
            self._years.add(year)

    def kind(self, day: date) -> str:
        self.load_year(day.year)
        return self.kinds[day]

    def stretch_name(self, day: date) -> str | None:
        """The holiday stretch (放假调休 period) `day` belongs to, e.g. "春节"; None for an ordinary day.

        An off day belongs to the run of consecutive off days around it, named by the holidays in
        that run; a make-up day belongs to the stretch of the weekday it was worked for.
        """
        kind = self.kind(day)
        if kind == MAKE_UP:
            self.load_year(day.year + 1)  # a make-up day late in December can pay for January
            swapped = self.make_up_for.get(day)
            return self.stretch_name(swapped) if swapped else None
        if kind == WORKDAY:
            return None
        run = [day]
        for step in (-ONE_DAY, ONE_DAY):
            other = day
            for _ in range(_STRETCH_REACH):
                other += step
                if self.is_working_day(other):
                    break
                run.append(other)
        found: list[str] = []
        for other in sorted(run):
            for name in self.names.get(other, ()):
                if _SUBSTITUTED.search(name):
                    continue
                base = _SUFFIX.sub("", name).strip()
                base = _ALIASES.get(base, base)
                if base not in found:
                    found.append(base)
        return "、".join(found) or None


_STATUTORY = _Statutory()


def _local_date(day: date) -> date:
    if isinstance(day, datetime):
        raise TypeError("the working-day calendar takes local dates; use clock.local_date(moment) for a datetime")
    if not isinstance(day, date):
        raise TypeError(f"expected a date, got {type(day).__name__}")
    return day


# --- the calendar the engine asks ------------------------------------------------------------------


class WorkCalendar:
    """Working days: the `holidays` package's China calendar, corrected by the overrides (which win).

    `overrides` maps a date to True (working) or False (off); `details` optionally gives the
    `Override` rows behind them, for `describe`. A calendar is cheap to build: the statutory
    answers are shared by every calendar in the process.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None,
                 details: Mapping[date, Override] | None = None) -> None:
        self._overrides: dict[date, bool] = dict(overrides or {})
        self._details: dict[date, Override] = dict(details or {})
        for day, row in self._details.items():
            self._overrides.setdefault(day, row.working)

    @classmethod
    def from_rows(cls, rows: Iterable[Override]) -> WorkCalendar:
        rows = list(rows)
        return cls({r.day: r.working for r in rows}, {r.day: r for r in rows})

    @property
    def overrides(self) -> dict[date, bool]:
        return dict(self._overrides)

    def is_working_day(self, d: date) -> bool:
        """True if `d` is a working day: the override for `d` if there is one, else the package's answer."""
        answer = self._overrides.get(d)
        if answer is not None:
            return answer
        answer = _STATUTORY.working.get(d)
        if answer is None:
            answer = _STATUTORY.is_working_day(_local_date(d))
        return answer

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (`start` itself never counts; n = 0 gives `start`)."""
        day = _local_date(start)
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a whole number of working days, 0 or more (got {n!r})")
        while n:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days d there are with a < d <= b (0 when b <= a)."""
        day, end = _local_date(a), _local_date(b)
        count = 0
        while day < end:
            day += ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def days_left(self, deadline: datetime | None, today: date) -> int | None:
        """Working days from `today` to the deadline's day, negative once it has passed; None without one."""
        last_day = deadline_day(deadline)
        if last_day is None:
            return None
        if last_day >= today:
            return self.working_days_between(today, last_day)
        return -self.working_days_between(last_day, today)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        return self.add_working_days(d, 1)

    def describe(self, d: date) -> DayInfo:
        """`d` explained: working or not, what decided it, the holiday it belongs to, in one phrase."""
        day = _local_date(d)
        kind = _STATUTORY.kind(day)
        statutory = _STATUTORY.is_working_day(day)
        holiday = _STATUTORY.stretch_name(day)
        names = _STATUTORY.names.get(day, ())
        statutory_why = _statutory_why(kind, holiday, names)
        working = self.is_working_day(day)
        if day not in self._overrides:
            return DayInfo(day, working, kind, kind, statutory, holiday, names, None, statutory_why)
        row = self._details.get(day)
        why = said("管理员设为%(label)s%(because)s；法定安排：%(statutory)s",
                   label=said("工作日") if working else said("休息日"),
                   because=said("：%(reason)s（%(who)s）", reason=row.reason, who=row.set_by) if row else "",
                   statutory=statutory_why)
        return DayInfo(day, working, OVERRIDE, kind, statutory, holiday, names, row, why)

    def month(self, year: int, month: int) -> list[DayInfo]:
        """Every day of a month, described."""
        day = date(year, month, 1)
        days = []
        while day.month == month:
            days.append(self.describe(day))
            if day == date.max:
                break
            day += ONE_DAY
        return days


def _statutory_why(kind: str, holiday: str | None, names: tuple[str, ...]) -> str:
    if kind == WORKDAY:
        return said("工作日")
    if kind == MAKE_UP:
        return said("调休上班（%(holiday)s）", holiday=holiday) if holiday else said("调休上班")
    if kind == DAY_OFF:
        return said("调休休息（%(holiday)s）", holiday=holiday) if holiday else said("调休休息")
    if kind == HOLIDAY:
        return said("法定节假日：%(names)s", names=listed(names, ENUMERATION_COMMA))
    return said("周末（%(holiday)s假期）", holiday=holiday) if holiday else said("周末")


def load_calendar(conn: Connection) -> WorkCalendar:
    """The calendar with the overrides in the database (one small query on `conn`)."""
    return WorkCalendar.from_rows(read_overrides(conn))


def read_overrides(conn: Connection, year: int | None = None) -> list[Override]:
    query = select(calendar_overrides).order_by(calendar_overrides.c.day)
    if year is not None:
        query = query.where(calendar_overrides.c.day >= date(year, 1, 1),
                            calendar_overrides.c.day <= date(year, 12, 31))
    return [override_from_row(r) for r in conn.execute(query)]


def override_from_row(row: Any) -> Override:
    """An `Override` from a `calendar_overrides` row (SQLite hands timestamps back naive; they are UTC)."""
    return Override(row.day, bool(row.working), row.reason, row.set_by, as_utc(row.set_at))
