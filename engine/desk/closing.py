"""Ending a case before its decision, by a person: the applicant withdraws (撤回申请), a chief terminates (终止).

- **Withdraw online**: the case's registered applicant, or whoever proved the follow-up code
  (`applicant:<case no>`), withdraws from the hall or the follow-up page; a statement is optional.
- **Withdraw at the window**: a clerk the case concerns records it at the applicant's request, with the
  applicant's statement (申请人撤回申请的陈述, required) — the paper the applicant signs stays with the file.
- **Terminate**: a chief (负责人) of the organ handling the case (`clockops.chief_group`, as for 延期) ends
  it, with a reason; the applicant gets a 终止办理告知书.

Each is one change with one audit event holding exactly its inputs (`application_withdrawn`,
`case_terminated`), re-executed by `engine.audit.replay` through `feed`. All are refused once the
application has been decided (`engine.runtime.ending.decided`); open tasks are cancelled and the groups that
held them are told.
"""

from __future__ import annotations

from typing import Any

from engine.desk import clockops
from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said, said_in
from engine.org.assignment import Actor
from engine.runtime import ending, indexes, telling
from engine.runtime.caseaccess import concerns, user_id
from engine.runtime.change import CaseContext, change_case
from engine.store.db import Database

INPUTS = ("application_withdrawn", "case_terminated")
ONLINE, WINDOW = "online", "window"
TEXT_MIN, TEXT_MAX = 4, 500
TERMINATE_ROLES = frozenset({"chief", "admin"})


class ClosingRefused(OnewindowError):
    status = 422
    code = "closing_refused"


def _text(value: str | None, required: bool, what: str) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if required and len(text) < TEXT_MIN:
        raise ClosingRefused(said("请写明%(what)s（至少 %(text_min)s 个字）。",
                                  what=what, text_min=TEXT_MIN), field_errors={"reason": [said("请填写%(what)s",
                                                                                               what=what)]})
    if len(text) > TEXT_MAX:
        raise ClosingRefused(said("%(what)s不能超过 %(text_max)s 字。",
                                  what=what, text_max=TEXT_MAX), field_errors={"reason": [said("内容过长")]})
    return text


def _tell_holders(ctx: CaseContext, what: str) -> None:
    """The groups (and holders) of the open tasks learn that their task went with the case."""
    seen: list[str] = []
    for task in indexes.open_human_tasks(ctx.workflow):
        group = ctx.group_of(task)
        recipient = f"group:{group}" if group else "role:clerk"
        if recipient not in seen:
            seen.append(recipient)
            telling.tell(ctx, recipient, "closed", task.task_spec.bpmn_id,
                         said("%(what)s，“%(step)s”已取消", what=what, step=task.task_spec.bpmn_name))


def is_applicant(ctx: CaseContext, actor: Actor) -> bool:
    if actor.username == f"applicant:{ctx.case.case_no}":
        return True
    return ctx.case.applicant_id is not None and ctx.case.applicant_id == user_id(ctx.conn, actor.username)


def withdraw_application(db: Database, case_no: str, actor: Actor, statement: str = "",
                         channel: str = ONLINE) -> str:
    """撤回申请 before the decision: online by the applicant, or at the window by a clerk with the applicant's
    statement. Returns the number of the 撤回申请确认书."""
    if channel not in (ONLINE, WINDOW):
        raise ClosingRefused(said("撤回方式只能是网上（online）或窗口（window）。"))

    def withdraw(ctx: CaseContext) -> str:
        if channel == ONLINE:
            if not is_applicant(ctx, actor):
                raise PermissionDenied(said("只有本办件的申请人可以在线撤回申请；请使用申请时的账号，"
                                            "或办件编号和查询码。"))
        elif not ({"clerk", "admin"} & actor.roles) or not concerns(ctx.conn, ctx.case, actor):
            raise PermissionDenied(said("只有办理本办件的窗口人员可以登记申请人的撤回申请。"))
        text = _text(statement, channel == WINDOW, said("申请人撤回申请的陈述"))
        ending.refuse_if_decided(ctx, said_in("action", "撤回申请"))
        ctx.record("application_withdrawn", channel=channel, statement=text)
        _tell_holders(ctx, said("申请人已撤回申请"))
        return ending.end_case(ctx, ending.WITHDRAWN, "withdrawal", {"channel": channel, "statement": text})

    return change_case(db, case_no, actor, withdraw)


def check_may_terminate(ctx: CaseContext, actor: Actor) -> None:
    """终止 is the head's: the one chief rule of the desk (`clockops.chief_group`), administrators aside."""
    if not actor.is_admin:
        clockops.chief_group(ctx, actor, said_in("action", "终止办理"), "")


def may_terminate(ctx: CaseContext, actor: Actor) -> bool:
    try:
        check_may_terminate(ctx, actor)
    except PermissionDenied:
        return False
    return True


def terminate_case(db: Database, case_no: str, actor: Actor, reason: str) -> str:
    """终止: a chief of a group that handles the case ends it with a reason; the applicant gets a notice."""
    if not TERMINATE_ROLES & actor.roles:
        raise PermissionDenied(said("只有负责人可以终止办件。"))

    def terminate(ctx: CaseContext) -> str:
        # decided: no step is open, so say that rather than "not the head"
        ending.refuse_if_decided(ctx, said_in("action", "终止"))
        check_may_terminate(ctx, actor)
        text = _text(reason, True, said("终止的理由"))
        ctx.record("case_terminated", reason=text)
        _tell_holders(ctx, said("负责人已终止办理"))
        number = ending.end_case(ctx, ending.TERMINATED, "termination", {"reason": text})
        telling.tell_applicant(ctx, "closed",
                               said("本机关已终止办理您的申请（%(number)s）：%(text)s", number=number, text=text))
        return number

    return change_case(db, case_no, actor, terminate)


def feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor: Actor) -> None:
    """Re-execute a recorded withdrawal or termination on the scratch platform (see engine.audit.replay)."""
    data = event["data"]
    if kind == "application_withdrawn":
        withdraw_application(scratch, case_no, actor, data.get("statement", ""), data.get("channel", ONLINE))
    else:
        terminate_case(scratch, case_no, actor, data["reason"])
