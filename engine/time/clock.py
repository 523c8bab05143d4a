"""The one clock of the engine.

Nothing in the engine reads the wall clock directly: deadlines, timers and audit times all come
from `now()`, so tests (and `onewindow tick --now`) can travel in time. SpiffWorkflow's timer code
calls `datetime.now(timezone.utc)` itself; `install()` points that module at this clock too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, timezone

# Per thread (and per asyncio task): a scheduler tick running at a chosen time in one thread of
# the web process must not move the clock of the requests served by the others.
_frozen: ContextVar[datetime | None] = ContextVar("onewindow_frozen_clock", default=None)

# The district keeps China Standard Time (no daylight saving): dates people read — case numbers,
# working days — are local dates, never the UTC date.
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """Current time, timezone-aware UTC; the frozen time while `frozen_at` is active."""
    frozen = _frozen.get()
    return frozen if frozen is not None else datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """`moment` as aware UTC (None stays None). The engine writes UTC; SQLite gives it back without an
    offset, PostgreSQL in the session's zone — both come back to the same aware-UTC value, which is also
    what the audit chain hashed (`ctx.now`, whose `isoformat()` ends in +00:00)."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, as the API, the audit trail and the read models carry a time (None stays None)."""
    return None if moment is None else as_utc(moment).isoformat()


def local_text(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people in the district read it: China Standard Time, no daylight saving."""
    return as_utc(moment).astimezone(LOCAL_TZ).strftime(fmt)


def local_date(moment: datetime | None = None) -> date:
    """The district's calendar date at `moment` (default: now)."""
    return (moment or now()).astimezone(LOCAL_TZ).date()


def start_of_day(day: date) -> datetime:
    """00:00 district time on `day`, as UTC."""
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """24:00 district time on `day` (the first instant after it), as UTC: a limit of N days ends here."""
    return datetime.combine(date.fromordinal(day.toordinal() + 1), time(0), LOCAL_TZ).astimezone(UTC)


def deadline_day(deadline: datetime | None) -> date | None:
    """The district day a deadline closes: 24:00 on 9 March (stored as 10 March 00:00) is 9 March, so the
    instant just before the deadline names the day."""
    return None if deadline is None else local_date(as_utc(deadline) - timedelta(microseconds=1))


def deadline_text(deadline: datetime | None) -> str:
    """A deadline as every page and message says it: "2026-09-30 24:00" — the end of the deadline's own day,
    never the next day's 00:00 (which may be a holiday the limit never reached). A moment that is not the end
    of a day (a step's own due time) is said as it is."""
    if deadline is None:
        return ""
    local = as_utc(deadline).astimezone(LOCAL_TZ)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{deadline_day(deadline):%Y-%m-%d} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Run a block as if the time were `moment` (naive times are taken as UTC), in this thread only.

    An aware `moment` in another zone (`tick --now …+08:00`) is converted to UTC: `now()` is always
    UTC, so times stored without an offset (SQLite) and audit hashes (which cover `at.isoformat()`)
    are the same whatever zone the caller spoke in.
    """
    token = _frozen.set(moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _frozen.reset(token)


class _EngineDatetime(datetime):
    """`datetime` whose `now()` asks the engine clock; swapped into SpiffWorkflow's timer module."""

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        current = now()
        return current.astimezone(tz) if tz is not None else current.replace(tzinfo=None)


def install() -> None:
    """Make SpiffWorkflow's timer events use the engine clock (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _EngineDatetime


install()
