"""The functions a diagram's scripts and timers may call, bound to the change being made.

`workdays(n)` needs the working-day calendar, and the calendar is the change's (its holidays and an
administrator's overrides, read once in the case's transaction). The script engine is one object shared
by every case, so the calendar reaches it through a context variable that `calendar_of` sets for the
duration of one change, in this thread only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime

from engine.diagrams.scripting import make_script_engine
from engine.errors import ScriptError
from engine.time import clock
from engine.time.workdays import WorkCalendar

_calendar_of_change: ContextVar[Callable[[], WorkCalendar] | None] = ContextVar("calendar_of_change", default=None)


def workdays(n: int) -> str:
    """`workdays(3)` in a timer: an ISO duration to the same time of day, 3 working days later.

    Working days come from the calendar of the change being made (holidays and overrides included).
    """
    if not isinstance(n, int) or n < 0:
        raise ScriptError("workdays(n) 需要一个非负整数，例如 workdays(3)")
    get_calendar = _calendar_of_change.get()
    if get_calendar is None:
        raise ScriptError("workdays() 只能在办件流转中使用")
    local = clock.now().astimezone(clock.LOCAL_TZ)
    target_day = get_calendar().add_working_days(local.date(), n)
    target = datetime.combine(target_day, local.timetz())
    return f"PT{max(int((target - local).total_seconds()), 0)}S"


@contextlib.contextmanager
def calendar_of(get_calendar: Callable[[], WorkCalendar]) -> Iterator[None]:
    """Scripts run inside this block see this calendar (read lazily: most changes never ask)."""
    token = _calendar_of_change.set(get_calendar)
    try:
        yield
    finally:
        _calendar_of_change.reset(token)


script_engine = make_script_engine({"workdays": workdays})
