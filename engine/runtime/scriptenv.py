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
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.task import Task

from engine.diagrams.scripting import RestrictedEnvironment
from engine.errors import ScriptError
from engine.messages import said
from engine.runtime import taskdata
from engine.time import clock
from engine.time.workdays import WorkCalendar

_calendar_of_change: ContextVar[Callable[[], WorkCalendar] | None] = ContextVar("calendar_of_change", default=None)


def workdays(n: int) -> str:
    """`workdays(3)` in a timer: an ISO duration to the same time of day, 3 working days later.

    Working days come from the calendar of the change being made (holidays and overrides included).
    """
    if not isinstance(n, int) or n < 0:
        raise ScriptError(said("workdays(n) 需要一个非负整数，例如 workdays(3)"))
    get_calendar = _calendar_of_change.get()
    if get_calendar is None:
        raise ScriptError(said("workdays() 只能在办件流转中使用"))
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


class CaseScriptEngine(PythonScriptEngine):
    """The restricted engine, with the case's facts (`taskdata.case_facts`: where the case came in, whether
    it relays up) offered to every expression and script as read-only names.

    They are kept once per case instead of in every task's data; a task's own data still wins (a state
    written before, whose tasks carry them, reads the same values), and a script's assignment to one of
    these names is not stored (they are the case's, not the step's).
    """

    def evaluate(self, task: Task, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        return super().evaluate(task, expression, _with_case_facts(task, external_context))

    def execute(self, task: Task, script: str, external_context: dict[str, Any] | None = None) -> bool:
        return super().execute(task, script, _with_case_facts(task, external_context))


def _with_case_facts(task: Task, external: dict[str, Any] | None) -> dict[str, Any] | None:
    facts = taskdata.case_facts(task.workflow)
    if not facts:
        return external
    return {**facts, **external} if external else facts


script_engine = CaseScriptEngine(environment=RestrictedEnvironment({"workdays": workdays}))
