"""The case clock: working days from acceptance, paused by marked steps, warned before it runs out.

Rules (the analyst marks steps on the diagram, see docs/modeling.md "Time limits"):
- The clock starts when a step marked `clock=start` completes (the acceptance, 受理) — not at
  application. The day of acceptance is not counted: counting starts the next working day.
- A limit of N working days ends at the end (24:00, district time) of the N-th working day after
  acceptance. The committed limit (承诺时限, promised to the applicant) and the statutory limit
  (法定时限) are kept apart; committed ≤ statutory.
- While a step marked `clock=pause` is open (awaiting the applicant's supplement, a hearing, expert
  review, site inspection) the clock stands still; on resuming, every working day after the day the
  pause began, up to and including the day it ended, is added to both deadlines.
- Warnings rise one way: none → yellow (预警, `warning_days` working days or fewer left, default 1)
  → red (超时, the committed deadline passed) → statutory (超过法定时限). An approved extension
  (延期) moves both deadlines and may lower the level again.
- A step marked `stepLimitDays=N` has its own deadline (the end of the N-th working day after it
  became ready); running over it is flagged even when the case as a whole is on time.

Everything here runs inside the case's transaction (`runtime.save_case`); `next_check_at` on the
case row tells the scheduler when the clock next needs a look, so a tick reads only what is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, Row, insert, update

from engine.errors import OnewindowError, PermissionDenied
from engine.runtime import taskdata
from engine.store.tables import case_warnings, clock_pauses
from engine.time.clock import as_utc, end_of_day, iso_utc, local_date, local_text, start_of_day
from engine.time.workdays import WorkCalendar

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

CLOCK_COLUMNS = ("clock_started_at", "clock_stopped_at", "committed_days", "statutory_days", "warning_days",
                 "extension_days", "paused_days", "paused_since", "committed_deadline", "statutory_deadline",
                 "warning_level", "next_check_at")
LEVELS = ("none", "yellow", "red", "statutory")
SUPERVISORS = "role:supervisor"
EXTENSION_ROLES = frozenset({"chief", "admin"})


def clock_values(row: Row) -> dict[str, Any]:
    values = {column: getattr(row, column) for column in CLOCK_COLUMNS}
    for column in ("clock_started_at", "clock_stopped_at", "paused_since", "committed_deadline",
                   "statutory_deadline", "next_check_at"):
        values[column] = as_utc(values[column])
    return values


@dataclass
class ClockChanges:
    """Rows the clock wants written besides the case row, in the case's transaction."""

    pause_started: dict[str, Any] | None = None
    pause_ended: dict[str, Any] | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    dirty: bool = False  # something moved: recompute next_check_at


def _open_tasks(ctx: CaseContext) -> list[Task]:
    return ctx.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)


def advance_clock(ctx: CaseContext) -> None:
    """Bring the clock in line with the workflow as the change left it, at `ctx.now`."""
    clock, marks = ctx.clock, ctx.specs.clock
    if clock["clock_started_at"] is None and marks.start_elements.intersection(ctx.completed_elements):
        _start(ctx)
    running = clock["clock_started_at"] is not None and clock["clock_stopped_at"] is None
    if running and marks.pause_elements:
        pausing = next((t for t in _open_tasks(ctx) if t.task_spec.bpmn_id in marks.pause_elements), None)
        if pausing is not None and clock["paused_since"] is None:
            _pause(ctx, pausing.task_spec.bpmn_id, marks.pause_elements[pausing.task_spec.bpmn_id])
        elif pausing is None and clock["paused_since"] is not None:
            _resume(ctx)
    if running and ctx.workflow.completed:
        if clock["paused_since"] is not None:
            _resume(ctx)
        clock["clock_stopped_at"] = ctx.now
        ctx.clock_changes.dirty = True
    _watch_steps(ctx)
    due = clock["next_check_at"]
    if ctx.clock_changes.dirty or (due is not None and due <= ctx.now):
        _raise_case_warnings(ctx)
        clock["next_check_at"] = _next_check(ctx)


def _start(ctx: CaseContext) -> None:
    limits = ctx.specs.limits
    ctx.clock.update(clock_started_at=ctx.now, committed_days=limits.committed_days,
                     statutory_days=limits.statutory_days, warning_days=limits.warning_days)
    _set_deadlines(ctx)
    ctx.record("clock_started", committed_days=limits.committed_days, statutory_days=limits.statutory_days,
               committed_deadline=iso_utc(ctx.clock["committed_deadline"]),
               statutory_deadline=iso_utc(ctx.clock["statutory_deadline"]))


def _set_deadlines(ctx: CaseContext) -> None:
    clock = ctx.clock
    start = local_date(clock["clock_started_at"])
    moved = clock["extension_days"] + clock["paused_days"]
    for limit, column in (("committed_days", "committed_deadline"), ("statutory_days", "statutory_deadline")):
        days = clock[limit]
        clock[column] = None if days is None else end_of_day(ctx.calendar.add_working_days(start, days + moved))
    ctx.clock_changes.dirty = True


def _pause(ctx: CaseContext, element_id: str, reason: str) -> None:
    ctx.clock["paused_since"] = ctx.now
    ctx.clock_changes.pause_started = {"element_id": element_id, "reason": reason, "started_at": ctx.now}
    ctx.clock_changes.dirty = True
    ctx.record("clock_paused", element_id, reason=reason)


def _resume(ctx: CaseContext) -> None:
    clock = ctx.clock
    days = ctx.calendar.working_days_between(local_date(clock["paused_since"]), local_date(ctx.now))
    clock["paused_days"] += days
    clock["paused_since"] = None
    ctx.clock_changes.pause_ended = {"ended_at": ctx.now, "working_days": days}
    _set_deadlines(ctx)
    ctx.record("clock_resumed", paused_working_days=days, committed_deadline=iso_utc(clock["committed_deadline"]))


def _watch_steps(ctx: CaseContext) -> None:
    """Stamp when each human task became ready, give it its own deadline, flag it once when overrun."""
    limits = ctx.specs.clock.step_limits
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
            _warn(ctx, "red", "step", due, task.task_spec.bpmn_id, str(task.id),
                  [ctx.group_of(task) or "role:clerk", SUPERVISORS])
            ctx.clock_changes.dirty = True


def _level_due(ctx: CaseContext) -> tuple[str, datetime] | None:
    """The next level the case reaches and when, or None when nothing more can happen."""
    clock = ctx.clock
    level = clock["warning_level"]
    if clock["clock_started_at"] is None or clock["clock_stopped_at"] is not None:
        return None
    if clock["paused_since"] is not None or clock["committed_deadline"] is None:
        return None
    if level == "none":
        start = local_date(clock["clock_started_at"])
        warning_days = clock["warning_days"] if clock["warning_days"] is not None else 1
        days_before = clock["committed_days"] + clock["extension_days"] + clock["paused_days"] - warning_days
        return "yellow", start_of_day(ctx.calendar.add_working_days(start, max(days_before, 0)))
    if level == "yellow":
        return "red", clock["committed_deadline"]
    if level == "red" and clock["statutory_deadline"] is not None:
        return "statutory", clock["statutory_deadline"]
    return None


def _raise_case_warnings(ctx: CaseContext) -> None:
    while (due := _level_due(ctx)) is not None and due[1] <= ctx.now:
        level = due[0]
        ctx.clock["warning_level"] = level
        kind = "statutory" if level == "statutory" else "committed"
        groups = sorted({ctx.group_of(t) or "role:clerk"
                         for t in ctx.ready})
        _warn(ctx, "red" if level != "yellow" else "yellow", kind, _deadline_of(ctx, kind), None, "",
              [*groups, SUPERVISORS])


def _deadline_of(ctx: CaseContext, kind: str) -> datetime | None:
    return ctx.clock["statutory_deadline" if kind == "statutory" else "committed_deadline"]


def _warn(ctx: CaseContext, level: str, kind: str, due: datetime | None, element_id: str | None,
          task_id: str, notified: list[str]) -> None:
    ctx.clock_changes.warnings.append({"level": level, "kind": kind, "element_id": element_id, "task_id": task_id,
                                       "due_at": due, "raised_at": ctx.now, "notified": notified})
    ctx.record("warning_raised", element_id, level=level, kind=kind, due_at=iso_utc(due), notified=notified)


def _next_check(ctx: CaseContext) -> datetime | None:
    moments = []
    level = _level_due(ctx)
    if level is not None:
        moments.append(level[1])
    for task in ctx.ready:
        due = taskdata.step_due(task)
        if due is not None and not taskdata.step_flagged(task):
            moments.append(due)
    return min(moments) if moments else None


def extend(ctx: CaseContext, days: int, reason: str) -> None:
    """延期: an approved extension by a chief (负责人); refused once the deadline has passed."""
    clock = ctx.clock
    if not EXTENSION_ROLES.intersection(ctx.actor.roles):
        raise PermissionDenied("延期须经负责人（chief）批准；请由负责人办理。")
    if not isinstance(days, int) or days < 1 or not reason.strip():
        raise OnewindowError("延期须写明延长的工作日数（至少 1 日）和理由。")
    if clock["clock_started_at"] is None or clock["clock_stopped_at"] is not None:
        raise OnewindowError("办件尚未受理或已办结，没有可延期的时限。")
    if clock["committed_deadline"] is not None and ctx.now >= clock["committed_deadline"]:
        raise OnewindowError(f"承诺期限已于 {local_text(clock['committed_deadline'])} 届满，不能再延期。")
    old = clock["committed_deadline"]
    clock["extension_days"] += days
    _set_deadlines(ctx)
    clock["warning_level"] = "none"  # re-derived below from the new deadlines
    ctx.record("deadline_extended", days=days, reason=reason.strip(), approved_by=ctx.actor.username,
               old_deadline=iso_utc(old), new_deadline=iso_utc(clock["committed_deadline"]))


def write(conn: Connection, case_id: int, changes: ClockChanges) -> None:
    """The clock's own rows: a pause opened or closed, warnings raised."""
    if changes.pause_ended is not None:
        conn.execute(update(clock_pauses).where(clock_pauses.c.case_id == case_id, clock_pauses.c.ended_at.is_(None))
                     .values(**changes.pause_ended))
    if changes.pause_started is not None:
        conn.execute(insert(clock_pauses).values(case_id=case_id, **changes.pause_started))
    for warning in changes.warnings:
        # One row per case, kind, level (and step): a level reached again after an extension (yellow →
        # 延期 → yellow) is raised anew on that row — new due time, unacknowledged — and recorded again in
        # the audit trail; a second row broke the unique key and jammed every later tick of the case.
        key = (case_warnings.c.case_id == case_id, case_warnings.c.kind == warning["kind"],
               case_warnings.c.level == warning["level"], case_warnings.c.task_id == warning["task_id"])
        raised_again = conn.execute(update(case_warnings).where(*key).values(
            **warning, acknowledged_by=None, acknowledged_at=None))
        if raised_again.rowcount == 0:
            conn.execute(insert(case_warnings).values(case_id=case_id, **warning))


def working_days_used(calendar: WorkCalendar, values: dict[str, Any], now: datetime) -> int | None:
    """Working days counted so far (pauses excluded); None before acceptance."""
    if values["clock_started_at"] is None:
        return None
    end = values["clock_stopped_at"] or now
    used = calendar.working_days_between(local_date(values["clock_started_at"]), local_date(end))
    used -= values["paused_days"]
    if values["paused_since"] is not None:
        used -= calendar.working_days_between(local_date(values["paused_since"]), local_date(end))
    return used
