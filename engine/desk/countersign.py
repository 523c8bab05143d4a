"""加签: the handler of an open task adds one reviewer before or after their own answer.

- **Before (前加签)**: the reviewer answers first (同意/不同意 with a comment); until then the handler cannot
  complete the task; afterwards it is the handler's again, who decides knowing the reviewer's opinion.
- **After (后加签)**: the handler submits the form as usual, but it is kept (checked against the form, like a
  delegate's proposal) instead of completing the task; the case moves on only when the reviewer agrees —
  their agreement completes the task with the handler's answer (an ordinary `task_completed` by the
  handler, marked `countersigned_by`). A reviewer who disagrees sends it back: the kept answer is dropped,
  the handler decides again (and may add a reviewer again).

It is a kept proposal on the task (`taskdata.countersign`), not a new step in the diagram: one reviewer at a
time, on one task; the reviewer's opinion is recorded in the audit trail, not in the task's data; the
diagram's own time limits run on. Each input is one audit event (`countersign_added`, `countersign_submitted`,
`countersign_answered`), re-executed by `engine.audit.replay` through `feed`.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.task import Task

from engine.desk.taskops import TaskOperationError, after_colon, display_name, person, reason_text, step_name, tell
from engine.diagrams.forms import validate_form
from engine.errors import PermissionDenied, StaleTaskError
from engine.messages import said, said_in
from engine.org.assignment import Actor, check_may_handle
from engine.runtime import indexes, taskdata
from engine.runtime.change import OPEN, SUBMITTED, CaseContext, change_case_of_task
from engine.store.db import Database

INPUTS = ("countersign_added", "countersign_submitted", "countersign_answered")
MODES = {"before": said("前加签"), "after": said("后加签")}
AGREE, DISAGREE = "同意", "不同意"
OPINIONS = {AGREE: said("同意"), DISAGREE: said("不同意")}  # the stored values, and how a message says them


def add_reviewer(db: Database, task_id: str, to: str, mode: str, actor: Actor, reason: str = "") -> str:
    """加签: `to` answers before (`before`) or after (`after`) the handler; the reviewer is told."""

    def add(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "加签"))
        if mode not in MODES:
            raise TaskOperationError(said("加签方式只能是前加签（before）或后加签（after）。"))
        if taskdata.delegation(task):
            raise TaskOperationError(said("此任务已委派，不能加签；请先收回委派。"))
        if taskdata.countersign(task):
            raise TaskOperationError(said("此任务已加签给 %(reviewer)s，一次只能加签一人。",
                                          reviewer=taskdata.countersign(task)['reviewer']))
        if not isinstance(to, str) or to == actor.username:
            raise TaskOperationError(said("不能加签给自己；请选择其他工作人员。"))
        roles, _groups = person(ctx.conn, to)
        if not {"clerk", "chief", "admin"} & roles:
            raise TaskOperationError(said("%(to)s 不是窗口人员或负责人，不能加签给他。", to=to))
        why = reason_text(reason, False, said_in("action", "加签"))
        taskdata.set_assignee(task, actor.username)
        taskdata.set_countersign(task, {"handler": actor.username, "reviewer": to, "mode": mode, "reason": why,
                                        "state": "with_reviewer" if mode == "before" else "pending",
                                        "proposed": None, "opinion": None})
        ctx.record("countersign_added", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task), to=to,
                   mode=mode, reason=why)
        when = said("请先签署意见") if mode == "before" else said("经办人提交后请签署意见")
        tell(ctx, to, "countersign", task.task_spec.bpmn_id,
             said("%(who)s 就“%(step)s”%(mode)s给您，%(when)s", who=display_name(actor), step=step_name(task),
                  mode=MODES[mode], when=when))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, add)


def holds(ctx: CaseContext, task: Task, data: dict[str, Any], actor: Actor) -> bool:
    """Inside the handler's completion: True when a 加签 keeps the submission (after), raises while the reviewer
    must answer first (before); False when the task completes as usual."""
    sign = taskdata.countersign(task)
    if not sign:
        return False
    if sign["state"] == "with_reviewer":
        raise TaskOperationError(said("已前加签给 %(reviewer)s，须等其签署意见后再办理。", reviewer=sign['reviewer']))
    if sign["state"] == "awaiting_reviewer":
        raise TaskOperationError(said("已提交，正等待加签人 %(reviewer)s 签署意见。", reviewer=sign['reviewer']))
    if sign["state"] == "answered":  # before: the reviewer has answered; the handler decides
        taskdata.clear_countersign(task)
        return False
    keep(ctx, task, data, actor)
    return True


def keep(ctx: CaseContext, task: Task, data: dict[str, Any], actor: Actor) -> None:
    """后加签: the handler's answer, checked against the form and kept until the reviewer answers."""
    sign = taskdata.countersign(task)
    if not sign or sign["state"] != "pending" or sign["handler"] != actor.username:
        raise StaleTaskError(said("此任务的加签状态已变化；请刷新页面。"))
    form = indexes.task_form(task)
    if form is not None:
        validate_form(ctx.specs.forms[form], data, form)
    taskdata.set_countersign(task, {**sign, "state": "awaiting_reviewer", "proposed": data})
    ctx.record("countersign_submitted", task.task_spec.bpmn_id, task_id=str(task.id), name=step_name(task), data=data)
    tell(ctx, sign["reviewer"], "countersign", task.task_spec.bpmn_id,
         said("%(who)s 已办理“%(step)s”，请签署您的意见（后加签）", who=display_name(actor), step=step_name(task)))


def submit_kept(db: Database, task_id: str, data: dict[str, Any], actor: Actor) -> str:
    """The handler's submission under 后加签, as its own change (what re-execution feeds back)."""

    def submit(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "办理"))
        keep(ctx, task, data, actor)
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, submit)


def answer(db: Database, task_id: str, opinion: str, comment: str, actor: Actor) -> str:
    """The reviewer's answer: 同意 or 不同意 (with a comment). After: agreement completes the handler's answer."""

    def respond(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        sign = taskdata.countersign(task)
        if not sign:
            raise StaleTaskError(said("此任务没有进行中的加签；请刷新页面。"))
        if sign["reviewer"] != actor.username and not actor.is_admin:
            raise PermissionDenied(said("只有加签人 %(reviewer)s 可以签署此意见。", reviewer=sign['reviewer']))
        if sign["state"] not in ("with_reviewer", "awaiting_reviewer"):
            raise StaleTaskError(said("经办人尚未提交（后加签），或您已签署意见；请刷新页面。"))
        if opinion not in (AGREE, DISAGREE):
            raise TaskOperationError(said("请选择“同意”或“不同意”。"), field_errors={"opinion": [said("请选择意见")]})
        text = reason_text(comment, opinion == DISAGREE, said_in("action", "不同意"))
        ctx.record("countersign_answered", task.task_spec.bpmn_id, task_id=task_id, name=step_name(task),
                   opinion=opinion, comment=text)
        handler = sign["handler"]
        tell(ctx, handler, "countersign", task.task_spec.bpmn_id,
             said("加签人 %(who)s 对“%(step)s”的意见：%(opinion)s%(text)s", who=display_name(actor),
                  step=step_name(task), opinion=OPINIONS[opinion], text=after_colon(text)))
        if sign["mode"] == "before":
            taskdata.set_countersign(task, {**sign, "state": "answered", "opinion": opinion})
        elif opinion == DISAGREE:
            taskdata.clear_countersign(task)
        else:
            taskdata.clear_countersign(task)
            _complete_kept(ctx, task, sign)
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, respond)


def _complete_kept(ctx: CaseContext, task: Task, sign: dict[str, Any]) -> None:
    """The handler's kept answer completes the task: the same steps as `casework.complete`, in their name."""
    data = sign["proposed"] or {}
    task.data.update(data)
    ctx.run(task)
    instance = taskdata.instance_of(task)
    ctx.record("task_completed", task.task_spec.bpmn_id, actor=Actor(sign["handler"]), task_id=str(task.id),
               name=task.task_spec.bpmn_name, data=data, countersigned_by=ctx.actor.username,
               **({} if instance is None else {"instance": instance}))
    ctx.after_completion(task)
    properties = getattr(task.task_spec, "extensions", {}).get("properties", {})
    if ctx.status == SUBMITTED and not properties.get("caseStatus"):
        ctx.set_status(OPEN, task.task_spec.bpmn_id)
    ctx.advance()


def feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor: Actor, task_id: str) -> None:
    """Re-execute one recorded 加签 input on the scratch platform (see engine.audit.replay)."""
    data = event["data"]
    if kind == "countersign_added":
        add_reviewer(scratch, task_id, data["to"], data["mode"], actor, data.get("reason", ""))
    elif kind == "countersign_submitted":
        submit_kept(scratch, task_id, data.get("data") or {}, actor)
    else:
        answer(scratch, task_id, data["opinion"], data.get("comment", ""), actor)
