"""抄送 copy and 催办 urge: operations on a case as a whole rather than on one of its tasks.

Each is one change through `change_case`, one audit event, replayable; both reach people by notifications
(the desk's messages). Apart from `engine.desk.taskops` (which works on one open task) only by their seam.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.desk.taskops import (
    TaskOperationError,
    after_colon,
    completions,
    display_name,
    person,
    reason_text,
    step_name,
    tell,
)
from engine.errors import ConflictError, PermissionDenied
from engine.messages import said, said_in
from engine.org.assignment import Actor
from engine.runtime import indexes, taskdata, telling
from engine.runtime.caseaccess import STAFF_ROLES, concerns
from engine.runtime.change import CaseContext, change_case
from engine.store.db import Database
from engine.store.tables import audit_events
from engine.time import clock

URGE_INTERVAL = timedelta(hours=1)  # one chase per task per hour: the handler is reminded, not flooded
COPY_MAX_RECIPIENTS = 20


def copy_case(db: Database, case_no: str, recipients: list[str], actor: Actor, note: str = "") -> str:
    """抄送: let colleagues know about a case, for information; each gets a notification to read."""

    def copy(ctx: CaseContext) -> str:
        if not concerns(ctx.conn, ctx.case, actor):  # a copy shares what the sender may see, never more
            raise PermissionDenied(said("只有办理过、正在办理本办件或被抄送本办件的人员可以抄送它。"))
        names = sorted({r.strip() for r in recipients if r and r.strip()} - {actor.username})
        if not names:
            raise TaskOperationError(said("请选择至少一名抄送对象（不能只抄送给自己）。"),
                                     field_errors={"recipients": [said("请选择抄送对象")]})
        if len(names) > COPY_MAX_RECIPIENTS:
            raise TaskOperationError(said("一次最多抄送 %(COPY_MAX_RECIPIENTS)s 人。",
                                          COPY_MAX_RECIPIENTS=COPY_MAX_RECIPIENTS))
        for name in names:
            roles, _ = person(ctx.conn, name)  # NotFound names the unknown user
            if not roles & STAFF_ROLES:
                raise TaskOperationError(said("%(name)s 不是工作人员；办件只能抄送给工作人员（申请人凭查询码查看办件）"
                                              "。", name=name),
                                         field_errors={"recipients": [said("只能抄送给工作人员")]})
        why = reason_text(note, False, said_in("action", "抄送"))
        ctx.record("case_copied", recipients=names, note=why)
        for name in names:
            tell(ctx, name, "copy", None,
                 said("%(who)s 抄送给您%(why)s", who=display_name(actor), why=after_colon(why)))
        return ctx.case.case_no

    return change_case(db, case_no, actor, copy)


def urge_case(db: Database, case_no: str, actor: Actor, note: str = "") -> str:
    """催办: a clerk who handled a step of the case chases whoever holds it now (once an hour per task)."""

    def urge(ctx: CaseContext) -> str:
        if not any(who == actor.username for _tid, who in completions(ctx)):
            raise PermissionDenied(said("只有办理过本办件某一环节的人员（如受理人）可以催办。"))
        open_tasks = indexes.open_human_tasks(ctx.workflow)
        if not open_tasks:
            raise TaskOperationError(said("办件当前没有待办环节，无需催办。"))
        recent = _recently_urged(ctx)
        due = [t for t in open_tasks if str(t.id) not in recent]
        if not due:
            hours = int(URGE_INTERVAL.total_seconds() // 3600)
            raise ConflictError(said("当前环节已于 %(recent)s 催办过，%(hours)s 小时内不能重复催办；请稍后再试。",
                                     recent=min(recent.values()), hours=hours))
        why = reason_text(note, False, said_in("action", "催办"))
        chased = []
        for task in due:
            holder = taskdata.assignee(task)
            recipient = f"user:{holder}" if holder else f"group:{ctx.group_of(task) or 'clerk'}"
            chased.append({"task_id": str(task.id), "element_id": task.task_spec.bpmn_id, "recipient": recipient})
            telling.tell(ctx, recipient, "urge", task.task_spec.bpmn_id,
                         said("“%(step)s”被催办%(why)s", step=step_name(task), why=after_colon(why)))
        ctx.record("case_urged", tasks=chased, note=why)
        return ctx.case.case_no

    return change_case(db, case_no, actor, urge)


def _recently_urged(ctx: CaseContext) -> dict[str, str]:
    """Task id → when it was last urged, for urges within the interval."""
    since = ctx.now - URGE_INTERVAL
    rows = ctx.conn.execute(select(audit_events.c.at, audit_events.c.data)
                            .where(audit_events.c.case_id == ctx.case.id, audit_events.c.type == "case_urged",
                                   audit_events.c.at > since)).all()
    return {t["task_id"]: clock.local_text(r.at, "%H:%M") for r in rows for t in r.data.get("tasks", [])}
