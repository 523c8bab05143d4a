"""What reaches a person outside their task list: copies (抄送), transfers, returns, urges, delegations.

Notifications are rows written by the change that caused them (`runtime.save_case`); reading one is
not a change to the case, so a read mark is a plain update and no audit event.

A row is addressed to one person (`user:<name>`) or shared: to a group's members (`group:<code>`), to the
chief (负责人) of a group (`chief:<code>`: people with the chief role in that group), or to everyone holding a
role (`role:<role>`, e.g. the supervisors' warnings). A person reads their own rows plus the shared rows
that reach them (`recipients`). A personal row is read-marked on the row (`read_at`); a shared row is
read-marked per person (`notification_reads`), so one supervisor reading a warning leaves it unread for
the others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, insert, select, update

from engine.errors import NotFound, PermissionDenied
from engine.messages import said, unkept_or
from engine.org.assignment import Actor
from engine.store.db import Database
from engine.store.tables import cases, delegations, notifications, task_index
from engine.store.tables.cases import notification_reads
from engine.time import clock

COPY = "copy"


def recipients(actor: Actor) -> list[str]:
    """Every address that reaches `actor`: their own, their groups', the groups they head, their roles'."""
    groups = sorted(actor.groups)
    return [f"user:{actor.username}", *(f"group:{g}" for g in groups),
            *(f"chief:{g}" for g in groups if "chief" in actor.roles), *(f"role:{r}" for r in sorted(actor.roles))]


def _mine(actor: Actor):
    return notifications.c.recipient.in_(recipients(actor))


def _with_my_reads(query, actor: Actor):
    """`query` joined to the actor's own read marks of shared rows; `read_at` is then theirs either way."""
    return query.outerjoin(notification_reads, and_(notification_reads.c.notification_id == notifications.c.id,
                                                    notification_reads.c.username == actor.username))


def _read_at(actor: Actor):
    personal = notifications.c.recipient == f"user:{actor.username}"
    return case((personal, notifications.c.read_at), else_=notification_reads.c.read_at)


def notices(db: Database, actor: Actor, copies: bool, limit: int = 200) -> list[dict[str, Any]]:
    """The actor's copies (`copies`) or their other messages, newest first, with the case number."""
    kind = notifications.c.kind == COPY if copies else notifications.c.kind != COPY
    query = (_with_my_reads(select(notifications.c.id, notifications.c.kind, notifications.c.element_id,
                                   notifications.c.message, notifications.c.said, notifications.c.created_at,
                                   notifications.c.recipient,
                                   _read_at(actor).label("read_at"), cases.c.case_no)
                            .select_from(notifications).join(cases, cases.c.id == notifications.c.case_id), actor)
             .where(_mine(actor), kind).order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
             .limit(limit))
    with db.reading() as conn:
        rows = conn.execute(query).all()
    return [{"id": r.id, "case_no": r.case_no, "kind": r.kind, "element_id": r.element_id,
             "message": unkept_or(r.said, r.message),
             "created_at": r.created_at, "read_at": r.read_at, "personal": r.recipient.startswith("user:"),
             "to": r.recipient} for r in rows]


def unread_counts(db: Database, actor: Actor) -> dict[str, int]:
    """Unread copies and unread personal messages, for the desk's tabs."""
    is_copy = notifications.c.kind == COPY
    query = (_with_my_reads(select(is_copy.label("copy"), func.count()).select_from(notifications), actor)
             .where(_mine(actor), _read_at(actor).is_(None)).group_by(is_copy))
    with db.reading() as conn:
        counts = {bool(row[0]): row[1] for row in conn.execute(query)}
    return {"copies": counts.get(True, 0), "messages": counts.get(False, 0)}


def message_counts(db: Database, actor: Actor) -> tuple[int, int]:
    """(all, unread) of the actor's messages other than copies — personal, group, chief and role rows alike,
    read-marked as this person sees them — for the navigation's 消息 link."""
    unread = case((_read_at(actor).is_(None), 1))
    query = (_with_my_reads(select(func.count(), func.count(unread)).select_from(notifications), actor)
             .where(_mine(actor), notifications.c.kind != COPY))
    with db.reading() as conn:
        total, unread_count = conn.execute(query).one()
    return total, unread_count


def mark_read(db: Database, notification_id: int, actor: Actor) -> bool:
    """The actor marks a notification that reaches them read — a personal one on its row, a shared one for
    themselves only; False when they had read it already. Someone else's notification is refused."""
    with db.transaction() as conn:
        recipient = conn.execute(select(notifications.c.recipient).where(notifications.c.id == notification_id)
                                 ).scalar_one_or_none()
        if recipient is None:
            raise NotFound(said("这条消息不存在。"))
        if recipient not in recipients(actor):
            raise PermissionDenied(said("这条消息不是发给您的。"))
        if recipient == f"user:{actor.username}":
            result = conn.execute(update(notifications).where(
                notifications.c.id == notification_id, notifications.c.read_at.is_(None)).values(read_at=clock.now()))
            return result.rowcount == 1
        seen = conn.execute(select(notification_reads.c.read_at).where(
            notification_reads.c.notification_id == notification_id,
            notification_reads.c.username == actor.username)).first()
        if seen is not None:
            return False
        conn.execute(insert(notification_reads).values(notification_id=notification_id, username=actor.username,
                                                       read_at=clock.now()))
    return True


def _current(query):
    """Only delegations of open tasks, and not older than the task's index row: a task completed and
    later reopened (returned, withdrawn) starts without a delegation."""
    return (query.join(task_index, task_index.c.task_id == delegations.c.task_id)
            .where(delegations.c.updated_at >= task_index.c.created_at))


def delegated_to(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Open tasks delegated to the actor (委派给我的), from the delegations read model."""
    query = _current(select(delegations, task_index.c.name, task_index.c.case_no, task_index.c.item_name)
                     ).where(delegations.c.delegate == actor.username).order_by(delegations.c.updated_at.desc())
    with db.reading() as conn:
        rows = conn.execute(query).all()
    return [{"task_id": r.task_id, "case_no": r.case_no, "item_name": r.item_name, "name": r.name,
             "delegator": r.delegator, "state": r.state, "reason": r.reason, "updated_at": r.updated_at}
            for r in rows]


def delegation_row(db: Database, task_id: str) -> dict[str, Any] | None:
    """The task's current delegation (delegator, delegate, state, reason), if it has one."""
    with db.reading() as conn:
        row = conn.execute(_current(select(delegations)).where(delegations.c.task_id == task_id)).one_or_none()
    return dict(row._mapping) if row else None
