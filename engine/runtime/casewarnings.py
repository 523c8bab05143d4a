"""Warnings of the case clock: the levels a case reaches, a step over its own limit, the supervisor's chase deadline.

Split from `engine.runtime.caseclock` (which keeps the counting: start, pauses, deadlines, extension) along
the seam between *measuring* time and *judging* it. The levels (docs/operators.md "预警与黄牌、红牌"):

- reminder (提醒, not a card): `warning_days` working days before the committed deadline;
- yellow (黄牌): overdue against the committed limit — the case's, or a step's own (`stepLimitDays`, art 44's
  delivery limit), or the acceptance limit of art 32 (kind `acceptance`, raised by the clock's start);
- red (红牌): still overdue when the supervisor's chase deadline (督办限期) passed;
- statutory (超过法定时限): the statutory deadline passed.

Each is one `case_warnings` row per case, kind and level (and step) — `caseclock.write` keeps it one row
when a level is reached again after an extension — and one `warning_raised` audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from engine.runtime import lawlimits, taskdata
from engine.time.clock import end_of_day, iso_utc, local_date, start_of_day

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

SUPERVISORS = "role:supervisor"


def watch_steps(ctx: CaseContext) -> None:
    """Stamp when each human task became ready, give it its own deadline (the diagram's `stepLimitDays`, or
    art 44's 10 working days on a delivery step), flag it once when overrun: a yellow card on the step."""
    limits = lawlimits.law_marks(ctx.specs).step_limits
    for task in ctx.ready:
        if taskdata.ready_at(task) is None:
            taskdata.set_ready_at(task, ctx.now)
            element = task.task_spec.bpmn_id
            if element in limits:
                due = end_of_day(ctx.calendar.add_working_days(local_date(ctx.now), limits[element]))
                taskdata.set_step_due(task, due)
                ctx.clock_changes.dirty = True
        due = taskdata.step_due(task)
        if due is not None and due <= ctx.now and not taskdata.step_flagged(task):
            taskdata.flag_step(task)
            warn(ctx, "yellow", "step", due, task.task_spec.bpmn_id, str(task.id),
                 [ctx.group_of(task) or "role:clerk", SUPERVISORS])
            ctx.clock_changes.dirty = True


def _level_due(ctx: CaseContext) -> tuple[str, datetime] | None:
    """The next level the case reaches and when, or None when nothing more can happen.

    reminder (提醒): `warning_days` working days before the committed deadline, never at acceptance itself
    (a direct item, a 1-day limit: nothing to remind of); yellow (黄牌): the committed deadline passed; red
    (红牌): still overdue when a supervisor's chase deadline passed; statutory: the statutory deadline
    passed. Levels only rise: a case past its statutory deadline before the chase deadline gets no red
    on top (the statutory card is the graver one)."""
    clock = ctx.clock
    if clock["clock_started_at"] is None or clock["clock_stopped_at"] is not None:
        return None
    if clock["paused_since"] is not None or clock["committed_deadline"] is None:
        return None
    committed = clock["committed_deadline"]
    start = local_date(clock["clock_started_at"])
    warning_days = clock["warning_days"] if clock["warning_days"] is not None else 1
    days_before = clock["committed_days"] + clock["extension_days"] + clock["paused_days"] - warning_days
    due: list[tuple[str, datetime]] = [("yellow", committed)]
    if days_before >= 1:
        due.append(("reminder", start_of_day(ctx.calendar.add_working_days(start, days_before))))
    if clock["chase_due_at"] is not None:
        due.append(("red", max(clock["chase_due_at"], committed)))
    if clock["statutory_deadline"] is not None:
        due.append(("statutory", clock["statutory_deadline"]))
    rank = lawlimits.RANK[clock["warning_level"]]
    later = [(level, moment) for level, moment in due if lawlimits.RANK[level] > rank]
    return min(later, key=lambda entry: (entry[1], lawlimits.RANK[entry[0]])) if later else None


LEVEL_KINDS = {"reminder": "committed", "yellow": "committed", "red": "chase", "statutory": "statutory"}


def raise_case_warnings(ctx: CaseContext) -> None:
    """Each level reached is one row of `case_warnings` (per case, kind and level) and one audit event."""
    while (due := _level_due(ctx)) is not None and due[1] <= ctx.now:
        level = due[0]
        ctx.clock["warning_level"] = level
        kind = LEVEL_KINDS[level]
        deadline = ctx.clock["chase_due_at"] if kind == "chase" else _deadline_of(ctx, kind)
        groups = sorted({ctx.group_of(t) or "role:clerk" for t in ctx.ready})
        warn(ctx, level, kind, deadline, None, "", [*groups, SUPERVISORS])


def set_chase_deadline(ctx: CaseContext, days: int) -> datetime | None:
    """督办限期: a supervisor's chase of an overdue case (a yellow card or worse) gives it `days` working days;
    still open and overdue at the end of the last one, it gets a red card. The first chase of an overdue case
    sets the deadline; a later chase does not move it. Returns the chase deadline (None: nothing set)."""
    clock = ctx.clock
    running = clock["clock_started_at"] is not None and clock["clock_stopped_at"] is None
    if not running or lawlimits.RANK[clock["warning_level"]] < lawlimits.RANK["yellow"] or days < 1:
        return None
    if clock["chase_due_at"] is None:
        clock["chase_due_at"] = end_of_day(ctx.calendar.add_working_days(local_date(ctx.now), days))
        ctx.clock_changes.dirty = True
    return clock["chase_due_at"]


def _deadline_of(ctx: CaseContext, kind: str) -> datetime | None:
    return ctx.clock["statutory_deadline" if kind == "statutory" else "committed_deadline"]


def warn(ctx: CaseContext, level: str, kind: str, due: datetime | None, element_id: str | None,
         task_id: str, notified: list[str]) -> None:
    """One warning: its row (written by `caseclock.write`) and its audit event, in the case's transaction."""
    ctx.clock_changes.warnings.append({"level": level, "kind": kind, "element_id": element_id, "task_id": task_id,
                                       "due_at": due, "raised_at": ctx.now, "notified": notified})
    ctx.record("warning_raised", element_id, level=level, kind=kind, due_at=iso_utc(due), notified=notified)


def next_check(ctx: CaseContext) -> datetime | None:
    """When the clock next needs a look: the acceptance limit (art 32), the next level, a step's own deadline."""
    moments = [] if ctx.clock["acceptance_due_at"] is None else [ctx.clock["acceptance_due_at"]]
    level = _level_due(ctx)
    if level is not None:
        moments.append(level[1])
    for task in ctx.ready:
        due = taskdata.step_due(task)
        if due is not None and not taskdata.step_flagged(task):
            moments.append(due)
    return min(moments) if moments else None
