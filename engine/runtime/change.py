"""The one rule of the runtime: every change to a case goes through `change_case`.

Inside ONE transaction it locks the case row first, rebuilds the workflow from the stored state and
the version's cached specs, lets the caller's change act on it, lets SpiffWorkflow advance, and then
writes everything the change touched: the serialized state, the case status, the task and timer
indexes, and the audit events, bumping the lock version.

The one write path: the case row is locked before the change reads anything (`SELECT … FOR UPDATE`
on PostgreSQL; on SQLite every writing transaction holds the database's write lock from `BEGIN
IMMEDIATE`). So a change's side-table writes through `ctx.conn` — notifications, receipts, materials,
comments, attachments, supervision rows, delegations — are made while no other change to the same case
can run, and commit or roll back with the case row: a second clerk's change waits, then sees the first
one's result (a finished task is a stale page). The final `UPDATE … WHERE lock_version = ?` stays as
the guard for anything that writes a case without this lock: if it matches nothing, this attempt
raises `ConflictError` and the transaction rolls back, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, Row, bindparam, insert, select, update

from engine.diagrams.specs import ProcessSpecs, spec_cache
from engine.errors import ConflictError, NotFound, OnewindowError, ScriptError, StaleTaskError
from engine.messages import said
from engine.org.assignment import SYSTEM, Actor
from engine.org.orgtree import Routing
from engine.runtime import caseclock, indexes, receipts, telling
from engine.runtime.chain import AuditEvent, chain_events, insert_events
from engine.runtime.scriptenv import calendar_of, script_engine
from engine.runtime.state import SERIALIZER_VERSION, dump_state, load_state
from engine.store.db import Database
from engine.store.tables import cases, items, process_versions, task_index
from engine.time import clock
from engine.time.workdays import WorkCalendar, load_calendar

T = TypeVar("T")

CASE_STATUS_PROPERTY = "caseStatus"
NOTIFY_PROPERTY = "notify"  # who is told when the element completes: chief, group, supervisor, group:<code>
RECEIPT_PROPERTY = "receipt"  # the step's decision is given to the applicant as a dated receipt (受理回执)
HANDOVER_PROPERTY = "handover"  # the step hands the case on to this lane's group (村 → 镇 → 区)
ANSWERED_BY_PROPERTY = "answeredBy"  # "applicant": the applicant may complete this step (e.g. 补正) online
SUBMITTED = "submitted"
OPEN = "in_progress"
COMPLETED = "completed"
TERMINAL = frozenset({"approved", "refused", "not_accepted", "withdrawn", "terminated", COMPLETED})

@dataclass
class CaseContext:
    """What a change sees: the case row, its workflow, the actor, the time, and events to record."""

    conn: Connection
    case: Row
    specs: ProcessSpecs
    workflow: BpmnWorkflow
    actor: Actor
    now: datetime
    status: str
    events: list[AuditEvent] = field(default_factory=list)
    completed_elements: list[str] = field(default_factory=list)
    discarded: bool = False  # set by a change that found nothing to do: nothing is written
    notifications: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    ready: list[Task] = field(default_factory=list)  # open human tasks as the change leaves them (set in save)
    clock_changes: caseclock.ClockChanges = field(default_factory=caseclock.ClockChanges)
    moved_to_version: int | None = None  # set by `move_to_version`: the version id the case is pinned to from now
    opening: bool = False  # the change that opens the case: it has no index rows yet
    _calendar: WorkCalendar | None = None

    def __post_init__(self) -> None:
        self.clock = caseclock.clock_values(self.case)
        self.routing = routing_of(self.specs, self.case.unit_code)

    def move_to_version(self, version_id: int, specs: ProcessSpecs, workflow: BpmnWorkflow) -> None:
        """A migration (`engine.catalogue.case_migration`): the case runs on another version of its item from now on.

        The save then pins the case row to `version_id` in the same guarded UPDATE as the new state, so
        the state and the version it belongs to can never disagree.
        """
        self.moved_to_version, self.specs, self.workflow = version_id, specs, workflow
        self.routing = routing_of(specs, self.case.unit_code)

    def group_of(self, task: Task) -> str | None:
        """The group whose members may handle `task`, its lane resolved against where this case is."""
        return self.routing.group(task.task_spec.lane, task.data)

    @property
    def calendar(self) -> WorkCalendar:
        """The working-day calendar with today's overrides, read at most once per change."""
        if self._calendar is None:
            self._calendar = load_calendar(self.conn)
        return self._calendar

    def record(self, type_: str, element_id: str | None = None, actor: Actor | None = None,
               **data: Any) -> None:
        self.events.append(AuditEvent(type_, (actor or self.actor).username, element_id, data))

    def task(self, task_id: str) -> Task | None:
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (ValueError, KeyError, SpiffWorkflowException):
            return None

    def open_task(self, task_id: str) -> Task:
        """The person's task `task_id` while it is still open; a finished or unknown one is a stale page."""
        task = self.task(task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise StaleTaskError(said("任务 %(task_id)s 已办理完毕或不存在；请刷新任务列表。", task_id=task_id))
        return task

    def run(self, task: Task) -> None:
        """Run a person's task (its pre/post scripts and what it sets off); a diagram's failure names its element."""
        try:
            task.run()
        except SpiffWorkflowException as exc:
            raise _diagram_error(exc) from exc

    def advance(self) -> None:
        """Let SpiffWorkflow run every engine task it can, recording each completed step."""
        try:
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps(did_complete_task=self.completed_by_engine)
        except SpiffWorkflowException as exc:
            raise _diagram_error(exc) from exc

    def fire_due_timers(self) -> list[str]:
        """`advance`, recording each timer it fired: one that stopped waiting, or (a cycle, "R3/PT1H") one
        that now waits for a later time. Returns the fired timers' element ids."""
        before = indexes.waiting_timers(self.workflow)
        self.advance()
        after = indexes.waiting_timers(self.workflow)
        fired = [element for task_id, (element, due) in before.items()
                 if due < self.now and (task_id not in after or after[task_id][1] != due)]
        for element in fired:
            self.record("timer_fired", element)
        return fired

    def completed_by_engine(self, task: Task) -> None:
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) is None:
            return
        self.record("step_completed", spec.bpmn_id, actor=SYSTEM, name=spec.bpmn_name or spec.bpmn_id)
        self.after_completion(task)

    def after_completion(self, task: Task) -> None:
        """What the diagram marks on a completed element: a new case status, people to notify."""
        self.completed_elements.append(task.task_spec.bpmn_id)
        properties = _properties(task)
        if properties.get(CASE_STATUS_PROPERTY):
            self.set_status(properties[CASE_STATUS_PROPERTY], task.task_spec.bpmn_id)
        if properties.get(NOTIFY_PROPERTY):
            self.notify(task, properties[NOTIFY_PROPERTY])
        if properties.get(RECEIPT_PROPERTY):
            receipts.from_step(self, task, properties[RECEIPT_PROPERTY])
        if properties.get(HANDOVER_PROPERTY):
            self.record("handed_over", task.task_spec.bpmn_id, source=self.group_of(task),
                        target=self.routing.group(properties[HANDOVER_PROPERTY], task.data))

    def notify(self, task: Task, who: str) -> None:
        """催办 and the like: a notification per recipient, and one audit event naming them all."""
        group = self.group_of(task) or "clerk"
        named = {"chief": f"chief:{group}", "group": f"group:{group}", "supervisor": "role:supervisor"}
        recipients = [named.get(token.strip(), token.strip()) for token in who.split(",") if token.strip()]
        step = task.task_spec.bpmn_name or task.task_spec.bpmn_id
        for recipient in recipients:
            telling.tell(self, recipient, "chase", task.task_spec.bpmn_id, step)
        self.record("notified", task.task_spec.bpmn_id, actor=SYSTEM, recipients=recipients,
                    message=f"办件 {self.case.case_no}：{step}")

    def set_status(self, new_status: str, element_id: str | None = None) -> None:
        if new_status != self.status:
            self.record("status_changed", element_id, actor=SYSTEM, old=self.status, new=new_status)
            self.status = new_status


def _properties(task: Task) -> dict[str, str]:
    return getattr(task.task_spec, "extensions", {}).get("properties", {})


def _diagram_error(exc: SpiffWorkflowException) -> OnewindowError:
    """SpiffWorkflow's errors name the task; turn them into a message that names the element.

    SpiffWorkflow raises its own error while handling the script's, and does not keep it: the platform's
    error under it (a script stopped by its bounds, a refused value) gives the message, for it says what to
    fix; any other cause is in SpiffWorkflow's text already.
    """
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None) if task else None
    cause: BaseException | None = exc
    while isinstance(cause, SpiffWorkflowException):
        cause = cause.__cause__ or cause.__context__
    detail = cause.message if isinstance(cause, OnewindowError) else str(exc)
    where = said("元素 %(element)s: ", element=element) if element else ""
    return ScriptError(said("%(where)s%(detail)s — 流程图中的条件或脚本执行失败；请流程管理员修正。",
                            where=where, detail=detail))


def routing_of(specs: ProcessSpecs, front: str | None) -> Routing:
    """How the lanes of a case of this version resolve, given the window it came in at."""
    return Routing(specs.department, specs.level, front, specs.accept_levels)


def load_specs(conn: Connection, content_hash: str, version_id: int) -> ProcessSpecs:
    """The specs of a version, from the in-process cache or, once, from the version's stored files."""

    def load() -> tuple[dict[str, str], str, dict]:
        row = conn.execute(select(process_versions.c.files, process_versions.c.process_id,
                                  process_versions.c.metadata).where(process_versions.c.id == version_id)).one()
        return row.files, row.process_id, row.metadata

    return spec_cache.get(content_hash, load)


# The statements of the hot path are built once, with bind parameters: SQLAlchemy then finds their
# compiled form at once instead of deriving a cache key from a new statement tree on every call
# (measured by bench/engine_step.py: about 0.07 ms a statement).
_CASE_ROW = (select(cases, process_versions.c.content_hash, items.c.code.label("item_code"),
                   items.c.name.label("item_name"))
             .join(process_versions, process_versions.c.id == cases.c.version_id)
             .join(items, items.c.id == cases.c.item_id))
_CASE_BY_NO = _CASE_ROW.where(cases.c.case_no == bindparam("b_case_no"))
_CASE_BY_NO_LOCKED = _CASE_BY_NO.with_for_update(of=cases)
_CASE_BY_NO_SKIP_LOCKED = _CASE_BY_NO.with_for_update(skip_locked=True, of=cases)
_CASE_BY_TASK_LOCKED = _CASE_ROW.join(task_index, task_index.c.case_id == cases.c.id).where(
    task_index.c.task_id == bindparam("b_task_id")).with_for_update(of=cases)
_SAVE_CASE = update(cases).where(cases.c.id == bindparam("b_id"), cases.c.lock_version == bindparam("b_lock_version"))
_OPEN_CASE = insert(cases)
_CASE_COLUMNS = tuple(cases.c.keys())


def load_case_row(conn: Connection, case_no: str) -> Row:
    """The case row, to read (no lock)."""
    row = conn.execute(_CASE_BY_NO, {"b_case_no": case_no}).one_or_none()
    if row is None:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
    return row


def lock_case_row(conn: Connection, case_no: str, skip_locked: bool = False) -> Row:
    """The case row, locked for this transaction before the change reads anything else (see the module
    docstring); with `skip_locked`, a `ConflictError` instead of a wait when another worker holds it."""
    if skip_locked and conn.dialect.name == "postgresql":
        row = conn.execute(_CASE_BY_NO_SKIP_LOCKED, {"b_case_no": case_no}).one_or_none()
        if row is None:
            raise ConflictError(said("办件 %(case_no)s 正由另一进程处理，本次跳过。", case_no=case_no))
        return row
    row = conn.execute(_CASE_BY_NO_LOCKED, {"b_case_no": case_no}).one_or_none()
    if row is None:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
    return row


def change_case(db: Database, case_no: str, actor: Actor, change: Callable[[CaseContext], T],
                skip_locked: bool = False) -> T:
    """Apply `change` to case `case_no` in one transaction; see the module docstring.

    `skip_locked` (the scheduler's way) takes the case row with `FOR UPDATE SKIP LOCKED` on
    PostgreSQL and gives up with a `ConflictError` if another worker holds it.
    """
    with db.transaction() as conn:
        return change_case_in(conn, case_no, actor, change, skip_locked)


def change_case_in(conn: Connection, case_no: str, actor: Actor, change: Callable[[CaseContext], T],
                   skip_locked: bool = False) -> T:
    """`change_case` inside an open transaction, for a use case that touches two cases as one unit."""
    now = clock.now()
    return apply_change(conn, lock_case_row(conn, case_no, skip_locked), actor, change, now)


def change_case_of_task(db: Database, task_id: str, actor: Actor, change: Callable[[CaseContext], T]) -> T:
    """`change_case` for the case an open task belongs to, found in the task index inside the same transaction."""
    now = clock.now()
    with db.transaction() as conn:
        row = conn.execute(_CASE_BY_TASK_LOCKED, {"b_task_id": task_id}).one_or_none()
        if row is None:
            raise StaleTaskError(said("任务 %(task_id)s 已办理完毕或不存在；请刷新任务列表。", task_id=task_id))
        return apply_change(conn, row, actor, change, now)


def apply_change(conn: Connection, row: Row, actor: Actor, change: Callable[[CaseContext], T], now: datetime,
                 workflow: BpmnWorkflow | None = None) -> T:
    """Inside an open transaction: rebuild the case of `row`, apply `change`, save everything.

    `workflow`: a case being opened (`casework.start_case`), whose row (`casework.new_case_row`) the save will INSERT:
    its workflow as built, instead of one rebuilt from the row's state, and no index rows yet to compare with."""
    specs = load_specs(conn, row.content_hash, row.version_id)
    opening = workflow is not None
    if workflow is None:
        workflow = load_state(row.state, specs, script_engine)
    ctx = CaseContext(conn, row, specs, workflow, actor, now, row.status, opening=opening)
    # A change happens at one instant: SpiffWorkflow's timers, `workdays()` and the clock all
    # see `now`, so re-executing the change at its recorded moment gives the same state.
    with calendar_of(lambda: ctx.calendar), clock.frozen_at(now):
        result = change(ctx)
        if not ctx.discarded:
            save_case(ctx)
    return result


def load_workflow(db: Database, case_no: str) -> BpmnWorkflow:
    """The case's workflow as stored, for reading only (nothing is written back)."""
    with db.reading() as conn:
        row = load_case_row(conn, case_no)
        return load_state(row.state, load_specs(conn, row.content_hash, row.version_id), script_engine)


def rebuild_indexes(db: Database, case_no: str) -> None:
    """Rewrite a case's task and timer index rows from its stored state (the read model is derived)."""
    with db.transaction() as conn:
        row = load_case_row(conn, case_no)
        specs = load_specs(conn, row.content_hash, row.version_id)
        workflow, routing = load_state(row.state, specs, script_engine), routing_of(specs, row.unit_code)
        values = caseclock.clock_values(row)
        indexes.rewrite(conn, row.id, workflow, clock.now(), lambda task: routing.group(task.task_spec.lane, task.data),
                        case_facts=_case_facts(row, row.status, values))


def _case_facts(row: Row, status: str, clock_now: dict[str, Any]) -> dict[str, Any]:
    """What each of the case's task-index rows repeats for the desk's list."""
    return {"case_no": row.case_no, "item_code": row.item_code, "item_name": row.item_name,
            "applicant_name": row.applicant_name, "case_status": status,
            "warning_level": clock_now["warning_level"], "case_deadline": clock_now["committed_deadline"]}


def _facts_changed(ctx: CaseContext) -> bool:
    row = ctx.case
    return (ctx.status != row.status or ctx.clock["warning_level"] != row.warning_level
            or ctx.clock["committed_deadline"] != clock.as_utc(row.committed_deadline))


def is_stalled(ctx: CaseContext) -> bool:
    """Open, yet nothing can move it on: no open task, and no waiting timer or message that leads anywhere
    (an incident, `engine.runtime.incidents`).

    A non-interrupting boundary event (a chase, 催办) and an event subprocess's start only add a side path:
    the activity they watch, or the main path, stays where it is. A case waiting on nothing else is stuck,
    however many chases it still has to send.
    """
    workflow = ctx.workflow
    if workflow.completed or ctx.ready:
        return False
    return not any(_moves_on(task) for task in workflow.event_manager.tasks.values())


def _moves_on(task: Task) -> bool:
    spec = task.task_spec
    if isinstance(spec, BoundaryEvent):
        return bool(spec.cancel_activity)
    return not isinstance(spec, StartEvent)


def save_case(ctx: CaseContext) -> None:
    """Write state, clock, status, indexes and audit events of `ctx`, guarded by the lock version."""
    row, conn = ctx.case, ctx.conn
    ctx.ready = indexes.open_human_tasks(ctx.workflow)  # walked once, shared by the clock and the index
    caseclock.advance_clock(ctx)
    closing = ctx.workflow.completed and row.closed_at is None
    if closing:
        if ctx.status not in TERMINAL:
            ctx.status = COMPLETED
        ctx.record("case_closed", actor=SYSTEM, status=ctx.status)
    rows, seq, head = chain_events(row.id, row.case_no, row.audit_seq, row.audit_head, ctx.now, ctx.events)
    try:
        state = dump_state(ctx.workflow)
    except (TypeError, ValueError) as exc:  # a value no script check caught (see scripting.storable)
        raise ScriptError(said("流程数据中有无法保存的值：%(exc)s — 请流程管理员修正产生它的脚本；本次操作未保存。",
                               exc=exc)) from exc
    values = {
        "state": state, "serializer_version": SERIALIZER_VERSION, "status": ctx.status,
        "stalled_since": (row.stalled_since or ctx.now) if is_stalled(ctx) else None,
        "lock_version": row.lock_version + 1, "audit_seq": seq, "audit_head": head, "updated_at": ctx.now,
        "closed_at": ctx.now if closing else row.closed_at, **ctx.clock,
        **({"version_id": ctx.moved_to_version} if ctx.moved_to_version is not None else {}),
    }
    if ctx.opening:  # the case's one INSERT, with the state its first change left
        conn.execute(_OPEN_CASE, {**{name: getattr(row, name) for name in _CASE_COLUMNS}, **values})
    elif conn.execute(_SAVE_CASE, {"b_id": row.id, "b_lock_version": row.lock_version, **values}).rowcount != 1:
        raise ConflictError(said("办件 %(case_no)s 刚被他人修改，本次操作未保存；请刷新后重试。", case_no=row.case_no))
    indexes.rewrite(conn, row.id, ctx.workflow, ctx.now, ctx.group_of, timers=ctx.specs.has_timers, ready=ctx.ready,
                    case_facts=_case_facts(row, ctx.status, ctx.clock),
                    facts_changed=_facts_changed(ctx) and not ctx.opening, fresh=ctx.opening)
    caseclock.write(conn, row.id, ctx.clock_changes)
    telling.write(conn, row.id, ctx.notifications)
    if ctx.receipts:
        receipts.write(conn, row.id, ctx.receipts)
    insert_events(conn, rows)

