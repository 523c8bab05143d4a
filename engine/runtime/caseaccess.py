"""Who may see a case — its page, data, files and comments — and so who may act on it: the people it
concerns, never every member of staff (S-16 keeps the supervisors' view apart; case numbers are sequential,
so the check, not the number, is what protects a case).

A case concerns:
- supervisors, auditors and administrators: every case (auditors' reads are logged where they read);
- its applicant: the account that applied (or the follow-up code's `applicant:<case_no>`);
- a clerk of a group that has or had a task on it — the case's history resolved through its own
  version's lanes, the same resolution (`orgtree.Routing`) that put the tasks there;
- a clerk of the unit it came in at, or of a unit above it: a town's clerks see the cases its village
  rooms relay up (S-5), a department window sees the cases accepted there;
- anyone who acted on it (they could act only while it concerned them), and colleagues it was copied,
  delegated or transferred to by someone it concerned (`taskops` checks the sender, and copies go to
  staff only).
Nothing else widens it: copying a case to oneself, or marking its materials, first needs the case to
concern the actor.
"""

from __future__ import annotations

from sqlalchemy import Connection, Row, bindparam, select

from engine.errors import PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.org.orgtree import RoutingError
from engine.runtime.change import load_case_row, load_specs, routing_of
from engine.store.db import Database
from engine.store.tables import audit_events, notifications, task_index, users

OVERSEERS = frozenset({"supervisor", "auditor", "admin"})
STAFF_ROLES = frozenset({"clerk", *OVERSEERS})  # members of staff: a case may be copied to them
HANDLING_ROLES = frozenset({"clerk", "chief"})  # members of the groups that handle cases


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
    """True when `actor` may see this case (see the module docstring)."""
    if actor.roles & OVERSEERS:
        return True
    if actor.username == f"applicant:{case.case_no}":  # the applicant, proven by the follow-up code
        return True
    if case.applicant_id is not None and case.applicant_id == user_id(conn, actor.username):
        return True
    actors = set(conn.execute(select(audit_events.c.actor).where(audit_events.c.case_id == case.id)).scalars())
    if actor.username in actors:  # the applicant (case_started) and everyone who acted on the case
        return True
    if not actor.roles & HANDLING_ROLES:  # a chief heads the groups he belongs to (延期, 行政许可法第四十二条)
        return False
    if actor.unit and case.unit_code and within(case.unit_code, actor.unit):
        return True
    told = conn.execute(select(notifications.c.id).where(
        notifications.c.case_id == case.id, notifications.c.recipient == f"user:{actor.username}").limit(1)).first()
    if told is not None:  # copied (抄送), delegated (委派) or transferred (转办) to them
        return True
    return bool(actor.groups & case_groups(conn, case))


def within(unit: str, ancestor: str) -> bool:
    """`unit` is `ancestor` or lies under it in the org tree (codes are paths: 梁子镇/子坛村 under 梁子镇)."""
    return unit == ancestor or unit.startswith(ancestor + "/")


_USER_ID = select(users.c.id).where(users.c.username == bindparam("b_username"))


def user_id(conn: Connection, username: str) -> int | None:
    return conn.execute(_USER_ID, {"b_username": username}).scalar_one_or_none()


def require_concerned(db: Database, case_no: str, actor: Actor) -> None:
    """403 unless the case concerns `actor` (404 when there is no such case: the number says nothing more)."""
    with db.reading() as conn:
        if not concerns(conn, load_case_row(conn, case_no), actor):
            raise PermissionDenied(said("此办件与您无关：您只能查看自己申请的办件，或您所在的组、单位办理过、"
                                   "抄送给您的办件；如需查阅，请联系办理窗口或电子监察。"))
