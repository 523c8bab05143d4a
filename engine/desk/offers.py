"""Which of the desk's operations a page may offer a person, worked out from one read of the case.

The engine decides again when the operation is asked for; this only keeps the page from offering what
would be refused (a withdrawal of someone else's step, an urge by someone who handled nothing, a 终止 by a
chief of another department, a 加签 on a task that has one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select

from engine.desk import clockops, closing, countersign
from engine.desk.taskops import (
    completions,
    group_members,
    last_withdrawable,
    return_targets,
    step_name,
)
from engine.errors import PermissionDenied
from engine.messages import said_in
from engine.org.assignment import Actor, check_may_handle
from engine.runtime import ending, indexes, taskdata
from engine.runtime.caseaccess import concerns
from engine.runtime.change import CaseContext, load_case_row, load_specs
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import load_state
from engine.store.db import Database
from engine.store.tables import users
from engine.time import clock


@dataclass
class Choices:
    """The operations a page may offer `actor` on one case (and one of its tasks): only what would succeed."""

    return_targets: list[tuple[str, str]] = field(default_factory=list)  # (task id, step name)
    colleagues: list[str] = field(default_factory=list)  # group members a task may be transferred to
    clerks: list[str] = field(default_factory=list)  # everyone a task may be delegated or a case copied to
    names: dict[str, str] = field(default_factory=dict)  # username → the name a page shows for the above
    delegation: dict[str, Any] | None = None
    withdrawable: tuple[str, str] | None = None  # (task id, step name) the actor may take back
    may_urge: bool = False
    # the law's time operations (engine/desk/clockops.py): None when this person may not use them now
    extension: dict[str, Any] | None = None  # 延期: the most working days and the rule, the deadline
    special: dict[str, Any] | None = None  # 特别程序: the kinds and the most expected days
    resumable: dict[str, Any] | None = None  # 恢复计时: the open pause's reason
    # ending the case before its decision (engine/desk/closing.py)
    may_withdraw_application: bool = False  # 撤回申请 recorded at the window, with the applicant's statement
    may_terminate: bool = False  # 终止 by a chief of a group handling the case
    # 加签 (engine/desk/countersign.py): on the task, and on the case for its reviewer
    countersign: dict[str, Any] | None = None  # the task's 加签 as it stands (reviewer, mode, state…)
    reviewers: list[tuple[str, str]] = field(default_factory=list)  # (username, name) the handler may add
    reviewing: list[dict[str, Any]] = field(default_factory=list)  # the case's tasks awaiting this person's 意见


def choices(db: Database, case_no: str, actor: Actor, task_id: str | None = None) -> Choices:
    """Read the case once (nothing is written) and work out which operations to offer."""
    with db.reading() as conn:
        row = load_case_row(conn, case_no)
        specs = load_specs(conn, row.content_hash, row.version_id)
        ctx = CaseContext(conn, row, specs, load_state(row.state, specs, script_engine), actor, clock.now(), row.status)
        found = Choices()
        done = completions(ctx)
        found.may_urge = any(who == actor.username for _tid, who in done) and bool(
            indexes.open_human_tasks(ctx.workflow))
        last = last_withdrawable(ctx, actor)
        found.withdrawable = (str(last.id), step_name(last)) if last is not None else None
        found.clerks = group_members(conn, None, exclude=actor.username)
        time_ops = clockops.offers(ctx, actor)
        found.extension, found.special, found.resumable = (time_ops[k] for k in ("extension", "special", "resumable"))
        open_to_end = ending.decided(ctx) is None  # what closing.py checks, in its order of rules
        found.may_withdraw_application = (open_to_end and bool({"clerk", "admin"} & actor.roles)
                                          and concerns(conn, row, actor))
        found.may_terminate = (open_to_end and bool(closing.TERMINATE_ROLES & actor.roles)
                               and closing.may_terminate(ctx, actor))
        found.reviewing = [_sign_view(ctx, t) for t in indexes.open_human_tasks(ctx.workflow)
                           if _awaits(t, actor)]
        task = ctx.task(task_id) if task_id else None
        if task is not None and task.state == TaskState.READY:
            found.return_targets = [(str(t.id), step_name(t)) for t in return_targets(ctx, task)]
            found.colleagues = group_members(conn, ctx.group_of(task), exclude=actor.username)
            found.delegation = taskdata.delegation(task)
            found.countersign = _sign_view(ctx, task) if taskdata.countersign(task) else None
            if found.countersign:  # while a reviewer is named the task stays with its handler
                found.return_targets, found.colleagues = [], []
            if not found.countersign and not found.delegation and _may_handle(ctx, task, actor):
                found.reviewers = _reviewers(conn, actor.username, set(found.colleagues))
        offered = set(found.clerks) | set(found.colleagues)
        found.names = {r.username: r.display_name or r.username for r in conn.execute(
            select(users.c.username, users.c.display_name).where(users.c.username.in_(offered)))} if offered else {}
    return found


def _awaits(task: Task, actor: Actor) -> bool:
    sign = taskdata.countersign(task)
    return bool(sign) and sign["reviewer"] == actor.username and sign["state"] in ("with_reviewer",
                                                                                   "awaiting_reviewer")


def _may_handle(ctx: CaseContext, task: Task, actor: Actor) -> bool:
    try:
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "加签"))
    except PermissionDenied:
        return False
    return True


def _sign_view(ctx: CaseContext, task: Task) -> dict[str, Any]:
    """A task's 加签 as a page shows it: who, before or after, its state, and the handler's kept answer with the
    form's own field titles (what the reviewer agrees or disagrees with)."""
    sign = taskdata.countersign(task) or {}
    form = indexes.task_form(task)
    titles: dict[str, str] = {}
    if form is not None and form in ctx.specs.forms:
        titles = {k: (v or {}).get("title") or k
                  for k, v in (json.loads(ctx.specs.forms[form]).get("properties") or {}).items()}
    proposed = [(titles.get(k, k), "、".join(map(str, v)) if isinstance(v, list) else str(v))
                for k, v in (sign.get("proposed") or {}).items() if v not in (None, "", [])]
    return {"task_id": str(task.id), "step": step_name(task), "handler": sign.get("handler"),
            "reviewer": sign.get("reviewer"), "mode": sign.get("mode"),
            "mode_name": countersign.MODES.get(sign.get("mode", ""), ""), "state": sign.get("state"),
            "reason": sign.get("reason") or "", "opinion": sign.get("opinion"), "proposed": proposed}


def _reviewers(conn: Connection, me: str, colleagues: set[str]) -> list[tuple[str, str]]:
    """Whom 加签 accepts (countersign.add_reviewer: a clerk, chief or administrator, never oneself), the task's
    own group first; disabled accounts are not offered."""
    rows = conn.execute(select(users.c.username, users.c.display_name, users.c.roles)
                        .where(users.c.disabled_at.is_(None)))
    found = [(r.username, r.display_name or r.username) for r in rows
             if r.username != me and {"clerk", "chief", "admin"} & set(r.roles or ())]
    return sorted(found, key=lambda who: (who[0] not in colleagues, who[0]))
