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
- Art 32 (行政许可法): an application not answered at the acceptance step within 5 working days of its
  receipt counts as accepted on the day of receipt: the clock then runs from the receipt, the case is
  marked (`deemed_accepted_at`, event `deemed_accepted`) and the supervisors warned (`lawlimits`).
- Warnings (`casewarnings`) rise one way: none → reminder (提醒, `warning_days` before the committed
  deadline) → yellow (黄牌, the committed deadline passed) → red (红牌, still overdue after the supervisor's
  chase deadline) → statutory (超过法定时限). An approved extension (延期) moves both deadlines and may
  lower the level again.
- A step marked `stepLimitDays=N` (a delivery step: 10 by default, art 44) has its own deadline (the end
  of the N-th working day after it became ready); running over it is flagged even when the case as a
  whole is on time.

Everything here runs inside the case's transaction (`runtime.save_case`); `next_check_at` on the
case row tells the scheduler when the clock next needs a look, so a tick reads only what is due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, Row, insert, select, update

from engine.errors import OnewindowError
from engine.messages import said, said_in
from engine.org.assignment import SYSTEM
from engine.runtime import casewarnings, lawlimits, telling
from engine.store.tables import case_warnings, clock_pauses
from engine.time.clock import as_utc, end_of_day, iso_utc, local_date, local_text
from engine.time.workdays import WorkCalendar

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

CLOCK_COLUMNS = ("clock_started_at", "clock_stopped_at", "committed_days", "statutory_days", "warning_days",
                 "extension_days", "paused_days", "paused_since", "committed_deadline", "statutory_deadline",
                 "warning_level", "next_check_at", "acceptance_due_at", "deemed_accepted_at", "chase_due_at")
LEVELS = lawlimits.LEVELS
SUPERVISORS = casewarnings.SUPERVISORS


def clock_values(row: Row) -> dict[str, Any]:
    values = {column: getattr(row, column) for column in CLOCK_COLUMNS}
    for column in ("clock_started_at", "clock_stopped_at", "paused_since", "committed_deadline",
                   "statutory_deadline", "next_check_at", "acceptance_due_at", "deemed_accepted_at", "chase_due_at"):
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
    if clock["clock_started_at"] is None:
        _watch_acceptance(ctx)  # art 32: may start the clock at receipt, before any start mark is looked at
    if clock["clock_started_at"] is None and marks.start_elements.intersection(ctx.completed_elements):
        _start(ctx)
    running = clock["clock_started_at"] is not None and clock["clock_stopped_at"] is None
    if running and marks.pause_elements:
        pausing = next((t for t in _open_tasks(ctx) if t.task_spec.bpmn_id in marks.pause_elements), None)
        if pausing is not None and clock["paused_since"] is None:
            _pause(ctx, pausing.task_spec.bpmn_id, marks.pause_elements[pausing.task_spec.bpmn_id])
        elif pausing is None and clock["paused_since"] is not None and not paused_by_hand(ctx):
            _resume(ctx)  # a pause a person opened (特别程序, art 45) waits for its explicit resume
    if running and ctx.workflow.completed:
        if clock["paused_since"] is not None:
            _resume(ctx)
        clock["clock_stopped_at"] = ctx.now
        ctx.clock_changes.dirty = True
    casewarnings.watch_steps(ctx)
    due = clock["next_check_at"]
    if ctx.clock_changes.dirty or (due is not None and due <= ctx.now):
        casewarnings.raise_case_warnings(ctx)
        clock["next_check_at"] = casewarnings.next_check(ctx)


def _start(ctx: CaseContext) -> None:
    limits = ctx.specs.limits
    ctx.clock.update(clock_started_at=ctx.now, committed_days=limits.committed_days,
                     statutory_days=limits.statutory_days, warning_days=limits.warning_days)
    _set_deadlines(ctx)
    ctx.record("clock_started", committed_days=limits.committed_days, statutory_days=limits.statutory_days,
               committed_deadline=iso_utc(ctx.clock["committed_deadline"]),
               statutory_deadline=iso_utc(ctx.clock["statutory_deadline"]))


def _watch_acceptance(ctx: CaseContext) -> None:
    """Art 32: an application not answered (受理, 补正 or 不予受理) within 5 working days of its receipt counts
    as accepted on the day of receipt. The limit is set by the change that starts the case, watched by
    `next_check_at` (so a case nobody touches is caught by the tick) and by any later change, and cleared by
    an answer in time. Cases started before the limit existed (no `acceptance_due_at`) are not judged."""
    clock = ctx.clock
    answers = lawlimits.law_marks(ctx.specs).acceptance
    if not answers:
        return
    if clock["acceptance_due_at"] is None:
        if ctx.case.audit_seq != 0 or clock["deemed_accepted_at"] is not None:
            return
        clock["acceptance_due_at"] = lawlimits.acceptance_due(ctx.calendar, as_utc(ctx.case.created_at))
        ctx.clock_changes.dirty = True
    due = clock["acceptance_due_at"]
    if due <= ctx.now:
        _deem_accepted(ctx, due)
    elif answers.intersection(ctx.completed_elements) or ctx.workflow.completed:
        clock["acceptance_due_at"] = None  # answered in time (or closed unanswered: withdrawn, terminated)
        ctx.clock_changes.dirty = True


def _deem_accepted(ctx: CaseContext, due: datetime) -> None:
    """视为受理: the clock runs from the receipt, the case is marked, the supervisors are warned."""
    received = as_utc(ctx.case.created_at)
    limits = ctx.specs.limits
    ctx.clock.update(acceptance_due_at=None, deemed_accepted_at=ctx.now, clock_started_at=received,
                     committed_days=limits.committed_days, statutory_days=limits.statutory_days,
                     warning_days=limits.warning_days)
    _set_deadlines(ctx)
    ctx.record("deemed_accepted", actor=SYSTEM, received_at=iso_utc(received), acceptance_due_at=iso_utc(due),
               committed_deadline=iso_utc(ctx.clock["committed_deadline"]),
               statutory_deadline=iso_utc(ctx.clock["statutory_deadline"]))
    groups = sorted({ctx.group_of(t) or "role:clerk" for t in ctx.ready})
    casewarnings.warn(ctx, "yellow", "acceptance", due, None, "", [*groups, SUPERVISORS])
    telling.tell(ctx, SUPERVISORS, "warning", None, said(
        "办件 %(case_no)s 自收到申请材料之日起 %(days)s 个工作日内未作出受理、补正或不予受理的答复，"
        "依《行政许可法》第三十二条视为自收到材料之日（%(received)s）起受理。", case_no=ctx.case.case_no,
        days=lawlimits.ACCEPTANCE_DAYS, received=local_text(received, '%Y-%m-%d')), about_case=False)


def _set_deadlines(ctx: CaseContext) -> None:
    clock = ctx.clock
    start = local_date(clock["clock_started_at"])
    moved = clock["extension_days"] + clock["paused_days"]
    for limit, column in (("committed_days", "committed_deadline"), ("statutory_days", "statutory_deadline")):
        days = clock[limit]
        clock[column] = None if days is None else end_of_day(lawlimits.deadline_day(ctx.calendar, start, days + moved))
    ctx.clock_changes.dirty = True


def _pause(ctx: CaseContext, element_id: str | None, reason: str) -> None:
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


def effective_deadline(ctx: CaseContext) -> datetime | None:
    """The committed deadline as it stands now: while the clock is paused, the working days paused so far
    are not the administration's, so a case paused since before its deadline is not yet overdue."""
    clock = ctx.clock
    deadline = clock["committed_deadline"]
    if deadline is None or clock["paused_since"] is None:
        return deadline
    held = ctx.calendar.working_days_between(local_date(clock["paused_since"]), local_date(ctx.now))
    start = local_date(clock["clock_started_at"])
    moved = clock["committed_days"] + clock["extension_days"] + clock["paused_days"] + held
    return end_of_day(ctx.calendar.add_working_days(start, moved))


def check_running(ctx: CaseContext, what: str) -> None:
    """Refuse `what` (延期, 暂停计时) on a case whose clock is not running: not yet accepted, or closed."""
    clock = ctx.clock
    if clock["clock_started_at"] is None or clock["clock_stopped_at"] is not None:
        raise OnewindowError(said("办件尚未受理或已办结，没有正在计算的办理期限，不能%(what)s。", what=what))


def check_extendable(ctx: CaseContext) -> None:
    """An extension is decided while the clock runs and before the committed deadline has passed."""
    check_running(ctx, said_in("action", "延期"))
    due = effective_deadline(ctx)
    if due is not None and ctx.now >= due:
        raise OnewindowError(said("承诺期限已于 %(due)s 届满，不能再延期"
                             "（行政许可法第四十二条：延期须在期限届满前决定）。", due=local_text(due)))


def extend(ctx: CaseContext, days: int, reason: str, **facts: Any) -> None:
    """延期: move both deadlines by `days` working days, refused once the committed deadline has passed.

    Who may extend, how often and how far is the law's business (`engine.desk.clockops`, 行政许可法第四十二条);
    the clock only moves the deadlines and records the input (`facts` are recorded with it, so that
    re-execution meets the same checks) — the `deadline_extended` event is the change's first.
    """
    clock = ctx.clock
    check_extendable(ctx)
    old = clock["committed_deadline"]
    clock["extension_days"] += days
    _set_deadlines(ctx)
    clock["warning_level"] = "none"  # re-derived below from the new deadlines
    ctx.record("deadline_extended", days=days, reason=reason, approved_by=ctx.actor.username,
               old_deadline=iso_utc(old), new_deadline=iso_utc(clock["committed_deadline"]), **facts)


def paused_by_hand(ctx: CaseContext) -> bool:
    """Whether the open pause is one a person opened (a special procedure), not a step the diagram marks.

    A pause by hand has no element (`clock_pauses.element_id` NULL); it is read only while a pause is open.
    """
    if ctx.clock["paused_since"] is None:
        return False
    if ctx.clock_changes.pause_started is not None:  # opened in this very change
        return ctx.clock_changes.pause_started["element_id"] is None
    row = ctx.conn.execute(select(clock_pauses.c.element_id).where(
        clock_pauses.c.case_id == ctx.case.id, clock_pauses.c.ended_at.is_(None))
        .order_by(clock_pauses.c.id.desc()).limit(1)).first()
    return row is not None and row.element_id is None


def open_pause_reason(ctx: CaseContext) -> str | None:
    """The reason of the open pause as its row says it (None when the clock runs)."""
    if ctx.clock["paused_since"] is None:
        return None
    if ctx.clock_changes.pause_started is not None:
        return ctx.clock_changes.pause_started["reason"]
    return ctx.conn.execute(select(clock_pauses.c.reason).where(
        clock_pauses.c.case_id == ctx.case.id, clock_pauses.c.ended_at.is_(None))
        .order_by(clock_pauses.c.id.desc()).limit(1)).scalar_one_or_none()


def pause_by_hand(ctx: CaseContext, reason: str) -> None:
    """Stop the clock ad hoc (行政许可法第四十五条), with the same rows and events as a marked step's pause;
    only one pause at a time. The caller records its input event first."""
    check_running(ctx, said_in("action", "暂停计时"))
    if ctx.clock["paused_since"] is not None:
        raise OnewindowError(said("办件已在暂停计时（%(reason)s），同一时间只能有一个暂停；"
                             "请先恢复计时。", reason=open_pause_reason(ctx) or said("暂停中")))
    _pause(ctx, None, reason)


def resume_by_hand(ctx: CaseContext) -> None:
    """End a pause a person opened: the working days it held move both deadlines, exactly as a marked
    step's pause does when the step closes. A marked step's pause is refused (it ends with its step)."""
    if ctx.clock["paused_since"] is None:
        raise OnewindowError(said("办件当前没有暂停计时，无需恢复。"))
    if not paused_by_hand(ctx):
        raise OnewindowError(said("当前的暂停来自流程环节“%(ctx)s”，该环节办结时自动恢复计时，"
                             "不能手动恢复。", ctx=open_pause_reason(ctx) or ''))
    _resume(ctx)


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
