"""The clerk's operations on one open task beyond claim and complete: transfer, delegate, return, withdraw.

Each is a small function handed to `runtime.change_case` (or `change_case_of_task`), so it runs in the
case's one transaction under the optimistic lock; every check happens inside, before anything is
touched, so a refused operation writes nothing. Each records one audit event whose data are exactly
the operation's inputs (who, to whom, why), which is what `engine.audit.replay` feeds back to re-execute it.

Why approve, refuse and supplement are not here: they are decisions drawn in the diagram (a form's
`decision` field and the gateways after it), made with the ordinary `casework.complete_task`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, delete, insert, select

from engine.diagrams.forms import validate_form
from engine.errors import ConflictError, NotFound, OnewindowError, PermissionDenied, StaleTaskError
from engine.messages import ENUMERATION_COMMA, listed, said, said_in
from engine.org.assignment import Actor, check_may_handle
from engine.runtime import indexes, taskdata, telling
from engine.runtime.change import (
    CaseContext,
    change_case,
    change_case_of_task,
)
from engine.store.db import Database
from engine.store.tables import audit_events, delegations, groups, memberships, users

REASON_MAX = 500


class TaskOperationError(OnewindowError):
    """An operation that does not apply here (no reason given, no earlier step to return to, …)."""

    status = 422
    code = "operation_refused"


# --- people ------------------------------------------------------------------------------------------

def person(conn: Connection, username: str) -> tuple[frozenset[str], frozenset[str]]:
    """A user's roles and group codes, read in the change's own transaction."""
    user = conn.execute(select(users.c.id, users.c.roles).where(users.c.username == username)).one_or_none()
    if user is None:
        raise NotFound(said("用户 %(username)s 不存在；请从名单中选择。", username=username))
    codes = conn.execute(select(groups.c.code).join(memberships, memberships.c.group_id == groups.c.id)
                         .where(memberships.c.user_id == user.id)).scalars().all()
    return frozenset(user.roles), frozenset(codes)


def group_members(conn: Connection, group: str | None, exclude: str = "") -> list[str]:
    """Usernames who may take a task of `group` (clerks of the group; any clerk when it has none)."""
    query = select(users.c.username, users.c.roles).order_by(users.c.username)
    if group is not None:
        query = (query.join(memberships, memberships.c.user_id == users.c.id)
                 .join(groups, groups.c.id == memberships.c.group_id).where(groups.c.code == group))
    return [r.username for r in conn.execute(query) if r.username != exclude and {"clerk", "admin"} & set(r.roles)]


def _require_clerk(conn: Connection, username: str, group: str | None, action: str) -> None:
    roles, codes = person(conn, username)
    if not {"clerk", "admin"} & roles:
        raise TaskOperationError(said("%(username)s 不是窗口人员，不能%(action)s给他。",
                                      username=username, action=action))
    if group is not None and group not in codes:
        raise TaskOperationError(said("%(username)s 不在“%(group)s”组，不能%(action)s给他；"
                                      "只能%(action)s给本组其他人员。", username=username, group=group, action=action))


def reason_text(text: str | None, required: bool, action: str) -> str:
    reason = (text or "").strip()
    if required and not reason:
        raise TaskOperationError(said("%(action)s必须填写理由。",
                                      action=action), field_errors={"reason": [said("必须填写理由")]})
    if len(reason) > REASON_MAX:
        raise TaskOperationError(said("理由不能超过 %(reason_max)s 字。",
                                      reason_max=REASON_MAX), field_errors={"reason": [said("内容过长")]})
    return reason


def tell(ctx: CaseContext, username: str, kind: str, element_id: str | None, message: str) -> None:
    telling.tell(ctx, f"user:{username}", kind, element_id, message)


def display_name(actor: Actor) -> str:
    return actor.display_name or actor.username


def after_colon(text: str) -> str:
    return said("：%(text)s", text=text) if text else ""



def step_name(task: Task) -> str:
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id


def _refuse_if_delegated(task: Task, action: str) -> None:
    delegation = taskdata.delegation(task)
    if delegation:
        raise TaskOperationError(said("此任务已委派给 %(delegate)s，不能%(action)s；请先收回委派。",
                                      delegate=delegation['delegate'], action=action))


# --- 转办 transfer -------------------------------------------------------------------------------------

def transfer_task(db: Database, task_id: str, to: str, actor: Actor, reason: str = "") -> str:
    """转办: the task becomes another member's of its group; the new assignee is told."""

    def transfer(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        group = ctx.group_of(task)
        check_may_handle(actor, group, taskdata.assignee(task), said_in("action", "转办"))
        _refuse_if_delegated(task, said_in("action", "转办"))
        if to == actor.username:
            raise TaskOperationError(said("不能转办给自己；请选择本组其他人员。"))
        _require_clerk(ctx.conn, to, group, said_in("action", "转办"))
        why = reason_text(reason, False, said_in("action", "转办"))
        taskdata.set_assignee(task, to)
        ctx.record("task_transferred", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), to=to,
                   group=group, reason=why)
        tell(ctx, to, "transfer", task.task_spec.bpmn_id,
             said("%(who)s 将“%(step)s”转办给您%(why)s", who=display_name(actor), step=step_name(task),
                  why=after_colon(why)))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, transfer)


# --- 委派 delegate -------------------------------------------------------------------------------------

def delegate_task(db: Database, task_id: str, to: str, actor: Actor, reason: str = "") -> str:
    """委派: another clerk prepares the task's form; it comes back to the delegator, who stays its holder."""

    def delegate(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "委派"))
        _refuse_if_delegated(task, said_in("action", "再次委派"))
        if to == actor.username:
            raise TaskOperationError(said("不能委派给自己；请选择其他窗口人员。"))
        _require_clerk(ctx.conn, to, None, said_in("action", "委派"))
        why = reason_text(reason, False, said_in("action", "委派"))
        taskdata.set_assignee(task, actor.username)
        taskdata.set_delegation(task, {"delegator": actor.username, "delegate": to, "reason": why,
                                       "state": "with_delegate", "proposed": None})
        _write_delegation(ctx, task, task_id)
        ctx.record("task_delegated", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), to=to, reason=why)
        tell(ctx, to, "delegate", task.task_spec.bpmn_id,
              said("%(who)s 将“%(step)s”委派给您办理，办理后交回确认", who=display_name(actor), step=step_name(task)))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, delegate)


def submit_delegated(db: Database, task_id: str, data: dict[str, Any], actor: Actor) -> str:
    """The delegate's submission: checked against the form, kept on the task, NOT completing it."""
    return change_case_of_task(db, task_id, actor, lambda ctx: propose(ctx, ctx.open_task(task_id), data, actor))


def propose(ctx: CaseContext, task: Task, data: dict[str, Any], actor: Actor) -> str:
    """Inside a change: the delegate's proposal, checked and kept for the delegator to confirm."""
    task_id = str(task.id)
    delegation = _delegation_for(task, actor, "delegate", "with_delegate")
    form = indexes.task_form(task)
    if form is not None:
        validate_form(ctx.specs.forms[form], data, form)
    taskdata.set_delegation(task, {**delegation, "state": "proposed", "proposed": data})
    _write_delegation(ctx, task, task_id)
    ctx.record("delegation_submitted", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), data=data)
    tell(ctx, delegation["delegator"], "delegate", task.task_spec.bpmn_id,
          said("%(who)s 已办理您委派的“%(step)s”，请确认", who=display_name(actor), step=step_name(task)))
    return ctx.case.case_no


def send_back_delegated(db: Database, task_id: str, actor: Actor, reason: str) -> str:
    """The delegator sends the delegate's proposal back to be redone (a reason is required)."""

    def send_back(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        delegation = _delegation_for(task, actor, "delegator", "proposed")
        why = reason_text(reason, True, said_in("action", "退回委派"))
        taskdata.set_delegation(task, {**delegation, "state": "with_delegate"})
        _write_delegation(ctx, task, task_id)
        ctx.record("delegation_returned", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), reason=why)
        tell(ctx, delegation["delegate"], "delegate", task.task_spec.bpmn_id,
             said("“%(step)s”被退回重办：%(why)s", step=step_name(task), why=why))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, send_back)


def recall_delegated(db: Database, task_id: str, actor: Actor) -> str:
    """The delegator takes a delegated task back (the delegate is away, or it is urgent)."""

    def recall(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        delegation = _delegation_for(task, actor, "delegator", None)
        taskdata.clear_delegation(task)
        ctx.conn.execute(delete(delegations).where(delegations.c.task_id == task_id))
        ctx.record("delegation_recalled", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task))
        tell(ctx, delegation["delegate"], "delegate", task.task_spec.bpmn_id,
             said("“%(step)s”的委派已收回", step=step_name(task)))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, recall)


def _delegation_for(task: Task, actor: Actor, role: str, state: str | None) -> dict[str, Any]:
    delegation = taskdata.delegation(task)
    if not delegation:
        raise StaleTaskError(said("此任务没有进行中的委派；请刷新页面。"))
    if delegation[role] != actor.username and not actor.is_admin:
        name = delegation[role]
        raise PermissionDenied(said("只有被委派人 %(name)s 可以进行此操作。", name=name) if role == "delegate"
                               else said("只有委派人 %(name)s 可以进行此操作。", name=name))
    if state is not None and delegation["state"] != state:
        raise StaleTaskError(said("委派状态已变化（对方刚刚办理或已退回）；请刷新页面。"))
    return delegation


def _write_delegation(ctx: CaseContext, task: Task, task_id: str) -> None:
    """Keep the delegations read model in step with the task's internal data, in the same transaction."""
    delegation = taskdata.delegation(task)
    ctx.conn.execute(delete(delegations).where(delegations.c.task_id == task_id))
    ctx.conn.execute(insert(delegations).values(
        task_id=task_id, case_id=ctx.case.id, element_id=task.task_spec.bpmn_id, delegator=delegation["delegator"],
        delegate=delegation["delegate"], state=delegation["state"], reason=delegation["reason"], updated_at=ctx.now))


# --- 退回 return to an earlier step ----------------------------------------------------------------------

def _parent_of(ctx: CaseContext, task: Task) -> Task | None:
    """The task's parent, stepping out of a called process into the call activity that runs it."""
    if task.parent is not None:
        return task.parent
    parent_id = task.workflow.parent_task_id
    return ctx.workflow.get_task_from_id(parent_id) if parent_id is not None else None


def _ancestors(ctx: CaseContext, task: Task) -> Iterator[Task]:
    current = _parent_of(ctx, task)
    while current is not None:
        yield current
        current = _parent_of(ctx, current)


def return_targets(ctx: CaseContext, task: Task) -> list[Task]:
    """Earlier completed human steps on the path that led to `task`, nearest first, one per element.

    Only steps on that path can be returned to: a step in a parallel branch, or inside a called
    process that has already finished, is not an ancestor of this task, and resetting to it would
    not bring the case back here.
    """
    seen: set[str] = set()
    targets = []
    for ancestor in _ancestors(ctx, task):
        spec = ancestor.task_spec
        if spec.manual and ancestor.state == TaskState.COMPLETED and spec.bpmn_id not in seen:
            seen.add(spec.bpmn_id)
            targets.append(ancestor)
    return targets


def return_task(db: Database, task_id: str, target_task_id: str, reason: str, actor: Actor) -> str:
    """退回: rewind the case to an earlier step on this task's path; it goes back to whoever did it."""

    def send_back(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "退回"))
        _refuse_if_delegated(task, said_in("action", "退回"))
        why = reason_text(reason, True, said_in("action", "退回"))
        target = ctx.task(target_task_id)
        if target is None or target.id not in {t.id for t in return_targets(ctx, task)}:
            names = listed(map(step_name, return_targets(ctx, task)), ENUMERATION_COMMA) or said("无")
            raise TaskOperationError(said("不能退回到该环节：只能退回到本环节之前、同一路径上已办理的环节"
                                     "（可退回：%(names)s）。", names=names))
        handler = _completed_by(ctx, target_task_id)
        _reset_to(ctx, target, handler)
        ctx.record("task_returned", task.task_spec.bpmn_id, task_id=task_id, target_task_id=target_task_id,
                   to_element=target.task_spec.bpmn_id, name=step_name(task), to_name=step_name(target), reason=why)
        if handler:
            tell(ctx, handler, "return", target.task_spec.bpmn_id,
                 said("“%(step)s”退回至“%(target)s”：%(why)s", step=step_name(task), target=step_name(target), why=why))
        ctx.advance()
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, send_back)


def _reset_to(ctx: CaseContext, target: Task, holder: str | None) -> None:
    """Rewind the workflow to `target` (SpiffWorkflow drops every later task, subprocesses included).

    SpiffWorkflow 3.2.0 leaves the dropped waiting events (a boundary timer of a dropped task) in its
    event manager, whose next timer refresh then fails on a task without a parent: we take them out.
    """
    dropped = ctx.workflow.reset_from_task_id(target.id)
    for task in dropped:
        ctx.workflow.event_manager.remove_task(task)
    stale = [str(t.id) for t in dropped] + [str(target.id)]
    ctx.conn.execute(delete(delegations).where(delegations.c.task_id.in_(stale)))
    if holder:
        taskdata.set_assignee(target, holder)


def completions(ctx: CaseContext) -> list[tuple[str, str]]:
    """(task id, actor) of every completed task of the case, oldest first, from its audit trail."""
    rows = ctx.conn.execute(select(audit_events.c.actor, audit_events.c.data)
                            .where(audit_events.c.case_id == ctx.case.id, audit_events.c.type == "task_completed")
                            .order_by(audit_events.c.seq)).all()
    return [(r.data.get("task_id"), r.actor) for r in rows]


def _completed_by(ctx: CaseContext, task_id: str) -> str | None:
    return next((who for tid, who in reversed(completions(ctx)) if tid == task_id), None)


# --- 撤回 withdraw a step just completed -------------------------------------------------------------------

def _descendants(ctx: CaseContext, task: Task) -> Iterator[Task]:
    """Every task `task` led to, including those inside the processes it called."""
    for child in task:
        if child is task:
            continue
        yield child
        sub = ctx.workflow.subprocesses.get(child.id)
        if sub is not None:
            for root_child in sub.task_tree.children:
                yield root_child
                yield from _descendants(ctx, root_child)


def withdrawable(ctx: CaseContext, task: Task, actor: Actor) -> str | None:
    """Why `actor` may not withdraw completed `task`, or None when they may."""
    if task.state != TaskState.COMPLETED or not task.task_spec.manual:
        return said("该环节尚未办理完毕，无需撤回。")
    if _completed_by(ctx, str(task.id)) != actor.username:
        return said("只能撤回自己办理的环节。")
    later = list(_descendants(ctx, task))
    if any(t.task_spec.manual and t.state == TaskState.COMPLETED for t in later):
        return said("后续环节已有人办理，不能撤回；请联系后续办理人退回。")
    produced = [t for t in later if t.task_spec.manual and t.state == TaskState.READY]
    if not produced:
        return said("办件已办结或已离开该路径，不能撤回。")
    taken = [taskdata.assignee(t) or taskdata.delegation(t)["delegate"] for t in produced
             if taskdata.assignee(t) or taskdata.delegation(t)]
    if taken:
        return said("后续环节已由 %(who)s 签收，不能撤回；请联系其退回。", who=taken[0])
    return None


def withdraw_task(db: Database, case_no: str, task_id: str, actor: Actor, reason: str = "") -> str:
    """撤回: undo a step the actor completed while nothing it produced has been claimed or done."""

    def withdraw(ctx: CaseContext) -> str:
        if _completed_by(ctx, task_id) != actor.username:  # who may, before what: no oracle for others' tasks
            raise PermissionDenied(said("只能撤回自己办理的环节。"))
        task = ctx.task(task_id)
        if task is None:
            raise NotFound(said("办件 %(case_no)s 中没有任务 %(task_id)s。", case_no=case_no, task_id=task_id))
        refusal = withdrawable(ctx, task, actor)
        if refusal:
            raise ConflictError(said("不能撤回“%(task)s”：%(refusal)s", task=step_name(task), refusal=refusal))
        why = reason_text(reason, False, said("撤回"))
        _reset_to(ctx, task, actor.username)
        ctx.record("task_withdrawn", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), reason=why)
        ctx.advance()
        return ctx.case.case_no

    return change_case(db, case_no, actor, withdraw)


def last_withdrawable(ctx: CaseContext, actor: Actor) -> Task | None:
    """The step the actor completed last in this case, if it may still be withdrawn (for the pages)."""
    mine = [tid for tid, who in completions(ctx) if who == actor.username]
    task = ctx.task(mine[-1]) if mine else None
    return task if task is not None and withdrawable(ctx, task, actor) is None else None
