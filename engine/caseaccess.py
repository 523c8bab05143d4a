"""Who may see one case's files and talk about it: the people it concerns, not every member of staff.

A case's attachments hold identity papers and the like, so the desk opens them only to those the case
concerns: the applicant who started it; a clerk of a group that has or had a task on it, or who acted
on it, or to whom it was copied or delegated; supervisors, auditors and administrators. The groups a
case passed through are its history's elements resolved through its own version's lanes — the same
resolution (`orgtree.Routing`) that put the tasks there.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, select

from .assignment import Actor
from .db import Database
from .errors import PermissionDenied
from .orgtree import RoutingError
from .runtime import load_case_row, load_specs, routing_of
from .tables import audit_events, notifications, task_index

OVERSEERS = frozenset({"supervisor", "auditor", "admin"})


def case_groups(conn: Connection, case: Row) -> set[str]:
    """Every group that has, or had, a human task on the case."""
    current = set(conn.execute(select(task_index.c.candidate_group).where(task_index.c.case_id == case.id))
                  .scalars())
    elements = set(conn.execute(select(audit_events.c.element_id).where(
        audit_events.c.case_id == case.id, audit_events.c.type.in_(("task_completed", "task_claimed")))).scalars())
    specs = load_specs(conn, case.content_hash, case.version_id)
    routing = routing_of(specs, case.unit_code)
    for spec in [specs.spec, *specs.subprocess_specs.values()]:
        for element in elements & set(spec.task_specs):
            try:
                current.add(routing.group(spec.task_specs[element].lane))
            except RoutingError:
                continue
    return {g for g in current if g}


def concerns(conn: Connection, case: Row, actor: Actor) -> bool:
    """True when `actor` may see this case's attachments and comments (see the module docstring)."""
    if actor.roles & OVERSEERS:
        return True
    actors = set(conn.execute(select(audit_events.c.actor).where(audit_events.c.case_id == case.id)).scalars())
    if actor.username in actors:  # the applicant (case_started) and everyone who acted on the case
        return True
    if actor.username == f"applicant:{case.case_no}":  # the applicant, proven by the follow-up code
        return True
    told = conn.execute(select(notifications.c.id).where(
        notifications.c.case_id == case.id, notifications.c.recipient == f"user:{actor.username}").limit(1)).first()
    if told is not None:  # copied (抄送), delegated (委派) or transferred (转办) to them
        return True
    return "clerk" in actor.roles and bool(actor.groups & case_groups(conn, case))


def require_concerned(db: Database, case_no: str, actor: Actor) -> None:
    """403 unless the case concerns `actor`."""
    with db.reading() as conn:
        if not concerns(conn, load_case_row(conn, case_no), actor):
            raise PermissionDenied("此办件与您无关（您不在办理过它的组内，也未被抄送），不能查看其材料。")
