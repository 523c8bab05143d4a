"""Which of the desk's operations a page may offer a person, worked out from one read of the case.

The engine decides again when the operation is asked for; this only keeps the page from offering what
would be refused (a withdrawal of someone else's step, an urge by someone who handled nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.util.task import TaskState

from engine.desk import clockops
from engine.desk.taskops import (
    completions,
    group_members,
    last_withdrawable,
    return_targets,
    step_name,
)
from engine.org.assignment import Actor
from engine.runtime import indexes, taskdata
from engine.runtime.change import CaseContext, load_case_row, load_specs
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import load_state
from engine.store.db import Database
from engine.time import clock


@dataclass
class Choices:
    """The operations a page may offer `actor` on one case (and one of its tasks): only what would succeed."""

    return_targets: list[tuple[str, str]] = field(default_factory=list)  # (task id, step name)
    colleagues: list[str] = field(default_factory=list)  # group members a task may be transferred to
    clerks: list[str] = field(default_factory=list)  # everyone a task may be delegated or a case copied to
    delegation: dict[str, Any] | None = None
    withdrawable: tuple[str, str] | None = None  # (task id, step name) the actor may take back
    may_urge: bool = False
    # the law's time operations (engine/desk/clockops.py): None when this person may not use them now
    extension: dict[str, Any] | None = None  # 延期: the most working days and the rule, the deadline
    special: dict[str, Any] | None = None  # 特别程序: the kinds and the most expected days
    resumable: dict[str, Any] | None = None  # 恢复计时: the open pause's reason


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
        task = ctx.task(task_id) if task_id else None
        if task is not None and task.state == TaskState.READY:
            found.return_targets = [(str(t.id), step_name(t)) for t in return_targets(ctx, task)]
            found.colleagues = group_members(conn, ctx.group_of(task), exclude=actor.username)
            found.delegation = taskdata.delegation(task)
    return found
