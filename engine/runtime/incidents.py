"""Incidents: a case that cannot move is recorded, shown and retried; the other cases go on.

Like a job executor's incidents, two kinds:
- `stalled` (停滞): the save of a change left the case open with no open task, no waiting timer and no
  pending message (`runtime.is_stalled` sets `cases.stalled_since`). Nothing will ever move it; the
  scheduler's pass turns each such case (found through the index on `stalled_since`, never a scan of
  every case) into an incident naming the last step, and closes the incident once the case moves again.
- `error` (出错): the scheduler's work on one case raised — any exception, not only the platform's own.
  That case's transaction is rolled back, the failure is recorded here with the error, the case is held
  (`cases.held_until`, which the scheduler's due queries respect) for a back-off that grows with each
  attempt, and after `MAX_ATTEMPTS` it waits for an operator. The pass goes on with the next case, so
  one bad case never stops or starves the others.

An operator (admin) retries or resolves an incident; each act is a change of the case through
`runtime.change_case`, one audit event in its chain (`incident_retried`, `incident_resolved`), and
re-execution feeds it back through `feed`. A retry also merges multi-instance answers that a state
saved before specs were loaded the way SpiffWorkflow loads them never merged (see `state.merge_finished_instances`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, func, insert, or_, select, update

from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.change import CaseContext, change_case
from engine.runtime.state import merge_finished_instances
from engine.store.db import Database
from engine.store.tables import audit_events, cases, incidents, items
from engine.time import clock

log = logging.getLogger(__name__)

STALLED, ERROR = "stalled", "error"
KIND_NAMES = {STALLED: "停滞", ERROR: "出错"}
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
HELD_FOR_OPERATOR = datetime(9999, 12, 31, tzinfo=UTC)
MESSAGE_MAX = 2000
NOTE_MAX = 1000
OPERATOR_ROLES = frozenset({"admin"})
STALLED_MESSAGE = "办件未办结，却没有待办任务、等待中的定时器或消息：它不会再自行流转。"
# The events this module writes; re-execution feeds each back through `feed`.
INPUTS = ("incident_retried", "incident_resolved")


class IncidentRefused(OnewindowError):
    status = 422
    code = "incident_refused"


def describe(exc: BaseException) -> str:
    """The error as an operator reads it: the platform's own message, else the exception's type and text."""
    text = exc.message if isinstance(exc, OnewindowError) else f"{type(exc).__name__}: {exc}"
    return text[:MESSAGE_MAX]


def backoff_after(attempts: int, now: datetime) -> datetime:
    """When the scheduler may try a case again after `attempts` failures (an operator's turn after the last)."""
    if attempts >= MAX_ATTEMPTS:
        return HELD_FOR_OPERATOR
    return now + BACKOFF[min(attempts, len(BACKOFF)) - 1]


def not_held(now: datetime):
    """The condition the scheduler's due queries add: the case is not held after failed attempts."""
    return or_(cases.c.held_until.is_(None), cases.c.held_until <= now)


# --- what the scheduler records ----------------------------------------------------------------------


def record_failure(db: Database, case_no: str, exc: BaseException, now: datetime) -> dict[str, Any]:
    """After the failed change of `case_no` was rolled back: count the attempt, hold the case, say so."""
    message = describe(exc)
    with db.transaction() as conn:
        case_id = _lock_case(conn, case_no)
        if case_id is None:
            return {"case_no": case_no, "message": message, "attempts": 0}
        current = _open_incident(conn, case_id, ERROR)
        attempts = (current.attempts if current else 0) + 1
        held_until = backoff_after(attempts, now)
        retry_at = None if held_until == HELD_FOR_OPERATOR else held_until
        if current is None:
            conn.execute(insert(incidents).values(case_id=case_id, kind=ERROR, message=message, first_at=now,
                                                  last_at=now, attempts=attempts, next_retry_at=retry_at))
        else:
            conn.execute(update(incidents).where(incidents.c.id == current.id).values(
                message=message, last_at=now, attempts=attempts, next_retry_at=retry_at))
        conn.execute(update(cases).where(cases.c.id == case_id).values(held_until=held_until))
    log.error("case %s failed (attempt %d of %d): %s", case_no, attempts, MAX_ATTEMPTS, message)
    return {"case_no": case_no, "message": message, "attempts": attempts}


def settle(ctx: CaseContext) -> None:
    """A change of a held case went through: its error incident is over and the scheduler may take it again.

    Runs inside that change's transaction, so the case and its incident never disagree."""
    if ctx.case.held_until is None:
        return
    ctx.conn.execute(update(cases).where(cases.c.id == ctx.case.id).values(held_until=None))
    _close(ctx.conn, ctx.case.id, ERROR, ctx.now, ctx.actor.username, "重新执行成功")


def record_stalled(db: Database, now: datetime) -> list[str]:
    """The scheduler's look for stalled cases: an incident for each new one, and closed ones for cases that
    moved again. Returns the numbers of the cases newly found stalled."""
    found = []
    with db.transaction() as conn:
        unrecorded = conn.execute(
            select(cases.c.id, cases.c.case_no, cases.c.stalled_since)
            .where(cases.c.stalled_since.is_not(None),
                   ~exists().where(incidents.c.case_id == cases.c.id, incidents.c.kind == STALLED,
                                   incidents.c.resolved_at.is_(None)))).all()
        for row in unrecorded:
            conn.execute(insert(incidents).values(
                case_id=row.id, kind=STALLED, element_id=_last_step(conn, row.id), message=STALLED_MESSAGE,
                first_at=row.stalled_since, last_at=now, attempts=0, next_retry_at=None))
            found.append(row.case_no)
        moved_on = select(cases.c.id).where(cases.c.stalled_since.is_(None))
        conn.execute(update(incidents).where(incidents.c.kind == STALLED, incidents.c.resolved_at.is_(None),
                                             incidents.c.case_id.in_(moved_on))
                     .values(resolved_at=now, resolved_by="system", resolution="办件已恢复流转"))
    for case_no in found:
        log.error("case %s is stalled: %s", case_no, STALLED_MESSAGE)
    return found


def _last_step(conn: Connection, case_id: int) -> str | None:
    return conn.execute(select(audit_events.c.element_id)
                        .where(audit_events.c.case_id == case_id, audit_events.c.element_id.is_not(None))
                        .order_by(audit_events.c.seq.desc()).limit(1)).scalar_one_or_none()


def _lock_case(conn: Connection, case_no: str) -> int | None:
    """The case's id, its row locked (PostgreSQL; SQLite writers are serialized already), so two
    schedulers recording the same case's incident take turns."""
    return conn.execute(select(cases.c.id).where(cases.c.case_no == case_no).with_for_update()).scalar_one_or_none()


def _open_incident(conn: Connection, case_id: int, kind: str):
    return conn.execute(select(incidents).where(incidents.c.case_id == case_id, incidents.c.kind == kind,
                                                incidents.c.resolved_at.is_(None))).one_or_none()


def _close(conn: Connection, case_id: int, kind: str, now: datetime, who: str, resolution: str) -> None:
    conn.execute(update(incidents).where(incidents.c.case_id == case_id, incidents.c.kind == kind,
                                         incidents.c.resolved_at.is_(None))
                 .values(resolved_at=now, resolved_by=who, resolution=resolution))


# --- what an operator does ---------------------------------------------------------------------------


def retry_change(ctx: CaseContext, kind: str) -> None:
    """The case's pending work done again: answers never merged are merged, then every due timer and engine
    step runs. A failure rolls everything back and is counted as another attempt."""
    ctx.record("incident_retried", kind=kind)
    merge_finished_instances(ctx.workflow)
    ctx.fire_due_timers()
    settle(ctx)


def resolution_change(ctx: CaseContext, kind: str, note: str) -> None:
    """An operator closes the incident by hand (the case was dealt with outside the engine, say): recorded."""
    ctx.record("incident_resolved", kind=kind, note=note)
    ctx.conn.execute(update(cases).where(cases.c.id == ctx.case.id).values(held_until=None))
    _close(ctx.conn, ctx.case.id, kind, ctx.now, ctx.actor.username, note)


def retry(db: Database, incident_id: int, actor: Actor) -> str:
    """Retry the incident's case now; says what came of it."""
    incident = _incident_for_operator(db, incident_id, actor)
    try:
        change_case(db, incident.case_no, actor, lambda ctx: retry_change(ctx, incident.kind))
    except PermissionDenied:
        raise
    except Exception as exc:  # a retry that fails is one more attempt, recorded like the scheduler's
        failed = record_failure(db, incident.case_no, exc, clock.now())
        raise IncidentRefused(said("办件 %(case_no)s 重新执行仍然失败：%(message)s",
                                   case_no=incident.case_no, message=failed['message'])) from exc
    with db.transaction() as conn:
        row = conn.execute(select(cases.c.id, cases.c.stalled_since).where(cases.c.case_no == incident.case_no)).one()
        if row.stalled_since is not None:
            return said("办件 %(case_no)s 已重新执行，但仍然停滞：没有待办任务、定时器或消息。",
                        case_no=incident.case_no)
        _close(conn, row.id, incident.kind, clock.now(), actor.username, "重新执行后恢复流转")
    return said("办件 %(case_no)s 已重新执行并恢复流转。", case_no=incident.case_no)


def resolve(db: Database, incident_id: int, actor: Actor, note: str) -> str:
    incident = _incident_for_operator(db, incident_id, actor)
    text = (note or "").strip()
    if not text or len(text) > NOTE_MAX:
        raise IncidentRefused(said("请写明处理结果（1 至 %(note_max)s 字）。",
                                   note_max=NOTE_MAX), field_errors={"note": [said("请填写处理结果")]})
    change_case(db, incident.case_no, actor, lambda ctx: resolution_change(ctx, incident.kind, text))
    return said("办件 %(case_no)s 的异常已标记为已处理。", case_no=incident.case_no)


def _incident_for_operator(db: Database, incident_id: int, actor: Actor):
    if not OPERATOR_ROLES.intersection(actor.roles):
        raise PermissionDenied(said("只有系统管理员（运维）可以重试或处理异常办件。"))
    with db.reading() as conn:
        row = conn.execute(select(incidents.c.id, incidents.c.kind, cases.c.case_no)
                           .join(cases, cases.c.id == incidents.c.case_id)
                           .where(incidents.c.id == incident_id, incidents.c.resolved_at.is_(None))).one_or_none()
    if row is None:
        raise NotFound(said("异常 %(incident_id)s 不存在或已处理；请刷新异常列表。", incident_id=incident_id))
    return row


def feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor: Actor) -> None:
    """Re-execution: give the scratch case the operator's act recorded in `event`."""
    data = event["data"]
    if kind == "incident_retried":
        change_case(scratch, case_no, actor, lambda ctx: retry_change(ctx, data["kind"]))
    else:
        change_case(scratch, case_no, actor, lambda ctx: resolution_change(ctx, data["kind"], data["note"]))


# --- what people read --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incident:
    id: int
    case_no: str
    item_name: str
    kind: str
    element_id: str | None
    message: str
    first_at: datetime
    last_at: datetime
    attempts: int
    next_retry_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None

    @property
    def kind_name(self) -> str:
        return KIND_NAMES.get(self.kind, self.kind)

    @property
    def waits_for_operator(self) -> bool:
        return self.resolved_at is None and self.next_retry_at is None

    def to_dict(self) -> dict[str, Any]:
        iso = clock.iso_utc
        return {"id": self.id, "case_no": self.case_no, "item_name": self.item_name, "kind": self.kind,
                "kind_name": self.kind_name, "element_id": self.element_id, "message": self.message,
                "since": iso(self.first_at), "last_at": iso(self.last_at), "attempts": self.attempts,
                "next_retry_at": iso(self.next_retry_at), "resolved_at": iso(self.resolved_at),
                "resolved_by": self.resolved_by, "resolution": self.resolution}


_LIST = (select(incidents, cases.c.case_no, items.c.name.label("item_name"))
         .join(cases, cases.c.id == incidents.c.case_id).join(items, items.c.id == cases.c.item_id))


def open_incidents(db: Database, limit: int = 500) -> list[Incident]:
    """Open incidents, the oldest first (the watch's 异常办件 and `onewindow incidents`)."""
    with db.reading() as conn:
        rows = conn.execute(_LIST.where(incidents.c.resolved_at.is_(None))
                            .order_by(incidents.c.first_at, incidents.c.id).limit(limit)).all()
    return [_incident(r) for r in rows]


def of_case(db: Database, case_no: str) -> list[Incident]:
    """Every incident of one case, open and closed (the case page)."""
    with db.reading() as conn:
        rows = conn.execute(_LIST.where(cases.c.case_no == case_no).order_by(incidents.c.id)).all()
    return [_incident(r) for r in rows]


def count_open(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(incidents).where(incidents.c.resolved_at.is_(None))
                        ).scalar_one()


def _incident(row) -> Incident:
    return Incident(row.id, row.case_no, row.item_name, row.kind, row.element_id, row.message,
                    clock.as_utc(row.first_at), clock.as_utc(row.last_at), row.attempts,
                    clock.as_utc(row.next_retry_at), clock.as_utc(row.resolved_at), row.resolved_by, row.resolution)

