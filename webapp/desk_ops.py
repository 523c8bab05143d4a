"""The desk's operations beside completing a task: transfer, delegate, return, withdraw, 加签, copy, urge; 延期,
特别程序, 撤回申请 at the window and 终止; the materials checklist, attachments and comments of a case; and the
lists that reach a clerk beside the task list (delegated to me, copies, messages).

Every route is a plain POST form (no JavaScript needed) that makes one engine call; a refusal shows the
task page again with the operation's form as it was typed, or a message on the page the form came from.
Routes live on the `desk` blueprint (the app factory imports this module to register them).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from engine.desk import (
    attachments,
    caseops,
    clockops,
    closing,
    comments,
    countersign,
    inbox,
    materials,
    offers,
    prefill,
    taskops,
)
from engine.errors import OnewindowError, PermissionDenied, StaleTaskError
from engine.reads import queries, story
from engine.runtime.caseaccess import STAFF_ROLES, require_concerned

from .access import login_required, roles_required
from .auth import safe_next
from .db import get_db
from .desk import HANDLER_ROLES, _more_tabs, _stale_page, _task_page, _visible_task, bp, step_names
from .deskforms import SUPPLEMENT_FIELD
from .formatting import EVENT_NAMES, VALUE_NAMES, deadline

# --- task operations: each a plain POST form on the task page ------------------------------------------------

def _task_operation(task_id: str, op: str, run, done: Callable[[str, str], str], back_to_list: bool = False):
    """Run one operation on a task; on refusal show the task page again with the op's form as typed. `done(case_no,
    step name)` says what happened, in the page's language."""
    detail: dict[str, Any] | None = None
    try:
        detail = _visible_task(task_id)
        case_no = run(detail)
    except StaleTaskError as exc:
        return _stale_page(task_id, exc), 409
    except PermissionDenied:
        raise
    except OnewindowError as exc:
        if detail is None:
            raise
        operation = {"name": op, "message": exc.message, "typed": request.form}
        return _task_page(detail, prefill.initial_values(get_db(), detail), operation=operation), exc.status
    flash(done(case_no, detail["name"]), "success")
    if back_to_list:
        return redirect(url_for("desk.tasks"))
    return redirect(url_for("desk.task", task_id=task_id))


def _field(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.route("/tasks/<task_id>/transfer", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def transfer(task_id: str):
    return _task_operation(task_id, "transfer", lambda d: taskops.transfer_task(
        get_db(), task_id, _field("to"), current_user.actor, _field("reason")),
        lambda case_no, name: _("办件 %(case_no)s 的“%(name)s”已转办给 %(to)s。", case_no=case_no, name=name,
                                to=_field("to")), back_to_list=True)


@bp.route("/tasks/<task_id>/delegate", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def delegate(task_id: str):
    return _task_operation(task_id, "delegate", lambda d: taskops.delegate_task(
        get_db(), task_id, _field("to"), current_user.actor, _field("reason")),
        lambda _case, name: _("“%(name)s”已委派给 %(to)s，对方办理后将交回您确认。", name=name, to=_field("to")))


@bp.route("/tasks/<task_id>/send-back", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def send_back(task_id: str):
    return _task_operation(task_id, "send_back", lambda d: taskops.send_back_delegated(
        get_db(), task_id, current_user.actor, _field("reason")),
        lambda _case, name: _("“%(name)s”已退回被委派人重办。", name=name))


@bp.route("/tasks/<task_id>/recall", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def recall(task_id: str):
    return _task_operation(task_id, "recall", lambda d: taskops.recall_delegated(
        get_db(), task_id, current_user.actor),
        lambda _case, name: _("“%(name)s”的委派已收回，由您继续办理。", name=name))


@bp.route("/tasks/<task_id>/return", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def send_to_earlier(task_id: str):
    return _task_operation(task_id, "return", lambda d: taskops.return_task(
        get_db(), task_id, _field("target"), _field("reason"), current_user.actor),
        lambda case_no, name: _("办件 %(case_no)s 已从“%(name)s”退回。", case_no=case_no, name=name), back_to_list=True)


# --- case operations: from the task page or the case page -----------------------------------------------------

def _case_operation(case_no: str, run, done: str):
    """Run one operation on a case, then go back where the form came from, saying what happened."""
    try:
        run()
        flash(done, "success")
    except PermissionDenied:
        raise
    except OnewindowError as exc:
        flash(exc.message, "error")
    return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_no=case_no))


@bp.route("/cases/<case_no>/withdraw", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def withdraw(case_no: str):
    return _case_operation(case_no, lambda: taskops.withdraw_task(
        get_db(), case_no, _field("task_id"), current_user.actor, _field("reason")),
        _("已撤回，该环节回到您的待办中。"))


@bp.route("/cases/<case_no>/urge", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def urge(case_no: str):
    return _case_operation(case_no, lambda: caseops.urge_case(get_db(), case_no, current_user.actor, _field("note")),
                           _("已催办，当前办理人已收到提醒。"))


@bp.route("/cases/<case_no>/copy", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def copy(case_no: str):
    names = [n for value in request.form.getlist("to") for n in value.replace("，", ",").split(",")]
    return _case_operation(case_no, lambda: caseops.copy_case(get_db(), case_no, names, current_user.actor,
                                                              _field("note")), _("已抄送。"))


# --- the time limit: 延期 by a chief (行政许可法第四十二条), 特别程序 by a handler (第四十五条) ---------------------

def _clock_operation(case_no: str, run) -> Any:
    """Like `_case_operation`, but the engine's answer makes the message (the new deadline, the notice)."""
    try:
        flash(run(), "success")
    except PermissionDenied:
        raise
    except OnewindowError as exc:
        flash(exc.message, "error")
    return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_no=case_no))


@bp.route("/cases/<case_no>/extend", methods=["POST"])
@roles_required("chief")
def extend(case_no: str):
    def run() -> str:
        done = clockops.extend_deadline(get_db(), case_no, _field("days"), request.form.get("reason", ""),
                                        current_user.actor)
        return _("已延期 %(days)s 个工作日，承诺期限至 %(deadline)s；延期告知书 %(notice)s 已出具。", days=done.days,
                 deadline=deadline(done.committed_deadline), notice=done.notice_no)

    return _clock_operation(case_no, run)


@bp.route("/cases/<case_no>/suspend", methods=["POST"])
@roles_required(*HANDLER_ROLES, "chief")  # a chief in the open step's group handles it
def suspend(case_no: str):
    def run() -> str:
        number = clockops.suspend_clock(get_db(), case_no, _field("procedure"), _field("days"),
                                        request.form.get("reason", ""), current_user.actor)
        return _("已启动特别程序并暂停计时；特别程序告知书 %(notice)s 已出具。", notice=number)

    return _clock_operation(case_no, run)


@bp.route("/cases/<case_no>/resume", methods=["POST"])
@roles_required(*HANDLER_ROLES, "chief")  # a chief in the open step's group handles it
def resume(case_no: str):
    def run() -> str:
        held = clockops.resume_clock(get_db(), case_no, current_user.actor, request.form.get("note", ""))
        return _("特别程序结束，已恢复计时；暂停的 %(days)s 个工作日不计入办理期限。", days=held)

    return _clock_operation(case_no, run)


@bp.route("/cases/<case_no>/comments", methods=["POST"])
@roles_required("clerk", "supervisor")
def comment(case_no: str):
    return _case_operation(case_no, lambda: comments.add_comment(
        get_db(), case_no, request.form.get("body", ""), current_user.actor, _field("element_id") or None),
        _("意见已发表。"))


@bp.route("/cases/<case_no>/materials", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def check_materials(case_no: str):
    marks = {key[len("m:"):]: value for key, value in request.form.items() if key.startswith("m:") and value}
    return _case_operation(case_no, lambda: materials.mark_materials(get_db(), case_no, marks, current_user.actor),
                           _("材料清单已更新。"))


@bp.route("/cases/<case_no>/attachments", methods=["POST"])
@roles_required("clerk", "applicant")
def upload(case_no: str):
    """上传附件; the request may be larger than the app's default cap, up to the attachment limit."""
    request.max_content_length = attachments.max_bytes() + 64 * 1024  # the form's other fields beside the file
    file = request.files.get("file")
    content = file.read(attachments.max_bytes() + 1) if file else b""
    name = file.filename if file else ""
    return _case_operation(case_no, lambda: attachments.add_attachment(
        get_db(), case_no, name or "", content, current_user.actor, _field("material") or None),
        _("附件“%(file)s”已上传。", file=attachments.clean_filename(name or "")))


@bp.route("/cases/<case_no>/attachments/<int:attachment_id>", methods=["GET"])
@login_required
def download(case_no: str, attachment_id: int):
    row, content = attachments.open_attachment(get_db(), case_no, attachment_id, current_user.actor)
    response = send_file(io.BytesIO(content), mimetype=row["content_type"], as_attachment=True,
                         download_name=row["filename"], etag=row["sha256"], max_age=0)  # RFC 6266 names, UTF-8
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- what reaches a clerk beside the task list ----------------------------------------------------------------

@bp.route("/delegated", methods=["GET"])
@roles_required(*HANDLER_ROLES)
def delegated():
    return render_template("desk/delegated.html", rows=inbox.delegated_to(get_db(), current_user.actor),
                           more_tabs=_more_tabs("delegated"), active="delegated")


@bp.route("/copies", methods=["GET"])
@roles_required(*HANDLER_ROLES)
def copies():
    return render_template("desk/notices.html", rows=inbox.notices(get_db(), current_user.actor, copies=True),
                           more_tabs=_more_tabs("copies"), active="copies", title=_("抄送我的"))


@bp.route("/messages", methods=["GET"])
@login_required  # what reaches each person (own, group, chief and role rows): supervisors and chiefs too
def messages():
    tabs = _more_tabs("messages") if current_user.has_role(*HANDLER_ROLES, "chief") else []
    return render_template("desk/notices.html", rows=inbox.notices(get_db(), current_user.actor, copies=False),
                           more_tabs=tabs, active="messages", title=_("消息"))


@bp.app_context_processor
def _messages_link() -> dict[str, Any]:
    """`nav_messages()`: (all, unread) of the person's messages, for the navigation's 消息 link on every page
    (an error page about the database itself still renders: no link then)."""

    def nav_messages() -> tuple[int, int]:
        try:
            return inbox.message_counts(get_db(), current_user.actor)
        except SQLAlchemyError:
            return 0, 0

    return {"nav_messages": nav_messages}


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
@login_required  # the engine refuses a notification that does not reach this person
def mark_read(notice_id: int):
    inbox.mark_read(get_db(), notice_id, current_user.actor)
    return redirect(safe_next(request.form.get("next")) or url_for("desk.copies"))


@bp.app_context_processor
def _case_page_helpers() -> dict[str, Any]:
    """`desk_case_extras(case_no)` for the case page: its materials, files, comments and the operations
    (withdraw, urge, copy) this person may use there."""

    def desk_case_extras(case_no: str, paused: bool = False) -> dict[str, Any]:
        db = get_db()
        actor = current_user.actor
        clerk = actor.is_admin or "clerk" in actor.roles
        chief = "chief" in actor.roles  # a chief who is no clerk still extends from the case page
        return {"supplement": _supplement_list(case_no) if paused else [],
                "checklist": materials.checklist(db, case_no), "files": attachments.list_attachments(db, case_no),
                "comments": comments.list_comments(db, case_no), "clerk": clerk,
                "step_names": step_names(story.case_story(db, case_no)),
                "may_comment": comments.may_comment(actor), "staff": bool(actor.roles & STAFF_ROLES),
                "choices": offers.choices(db, case_no, actor) if clerk or chief else None,
                "max_mb": attachments.max_bytes() // (1024 * 1024), "allowed_types": attachments.ALLOWED_TEXT}

    return {"desk_case_extras": desk_case_extras}


def _supplement_list(case_no: str) -> list[str]:
    """The one complete list of missing materials (补正) of the latest decision that asked for one, so the
    applicant reads it on the case page while the case waits for them (the modeling convention's field)."""
    for event in reversed(queries.case_history(get_db(), case_no)):
        listed = (event["data"].get("data") or {}).get(SUPPLEMENT_FIELD) if event["type"] == "task_completed" else None
        if isinstance(listed, list):
            return [str(item) for item in listed]
    return []


# --- 撤回申请 at the window, 终止 by a chief (issue 15, item 7; engine/desk/closing.py) ------------------------------

def _closing_operation(case_no: str, offer: str, run) -> Any:
    """A ticked confirmation first — asked of those the engine would allow (the offer); anyone else goes
    straight to the engine, which refuses them with its own answer (403, or its message)."""
    if request.form.get("confirm") != "yes" and getattr(offers.choices(get_db(), case_no, current_user.actor), offer):
        flash(_("请勾选确认后再提交；办件未作任何变动。"), "error")
        return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_no=case_no))
    return _clock_operation(case_no, run)


@bp.route("/cases/<case_no>/withdraw-application", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def withdraw_application(case_no: str):
    def run() -> str:
        number = closing.withdraw_application(get_db(), case_no, current_user.actor, request.form.get("statement", ""),
                                              channel=closing.WINDOW)
        return _("已登记申请人撤回申请，办件终止办理；撤回申请确认书 %(notice)s 已出具。", notice=number)

    return _closing_operation(case_no, "may_withdraw_application", run)


@bp.route("/cases/<case_no>/terminate", methods=["POST"])
@roles_required("chief")
def terminate(case_no: str):
    def run() -> str:
        number = closing.terminate_case(get_db(), case_no, current_user.actor, request.form.get("reason", ""))
        return _("办件已终止办理；终止办理告知书 %(notice)s 已出具。", notice=number)

    return _closing_operation(case_no, "may_terminate", run)


# --- 加签 (issue 15, item 11; engine/desk/countersign.py) ---------------------------------------------------------

@bp.route("/tasks/<task_id>/countersign", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def add_countersign(task_id: str):
    """The handler adds a reviewer before (前加签) or after (后加签) their own answer."""
    mode = _field("mode")
    return _task_operation(task_id, "countersign", lambda d: countersign.add_reviewer(
        get_db(), task_id, _field("to"), mode, current_user.actor, request.form.get("reason", "")),
        lambda _case, name: _("“%(name)s”已%(mode)s给 %(to)s，对方已收到通知。", name=name, to=_field("to"),
                              mode=VALUE_NAMES["mode"].get(mode, EVENT_NAMES["countersign_added"])))


@bp.route("/tasks/<task_id>/countersign/answer", methods=["POST"])
@roles_required(*HANDLER_ROLES, "chief")  # the reviewer may be a chief of another group
def answer_countersign(task_id: str):
    """The reviewer answers 同意 or 不同意 (with a reason), from the task page or the case page."""
    db = get_db()
    try:
        case_no = queries.task_detail(db, task_id)["case_no"]
    except StaleTaskError as exc:
        flash(exc.message, "error")
        return redirect(safe_next(request.form.get("next")) or url_for("desk.messages"))
    require_concerned(db, case_no, current_user.actor)  # an outsider learns nothing of the task's 加签
    opinion = _field("opinion")
    try:
        countersign.answer(db, task_id, opinion, request.form.get("reason", ""), current_user.actor)
    except PermissionDenied:
        raise
    except OnewindowError as exc:  # answered already, nothing to answer, 不同意 without a reason
        flash(exc.message, "error")
        return redirect(safe_next(request.form.get("next")) or url_for("cases.case", case_no=case_no))
    flash(_("您已签署加签意见：%(opinion)s。", opinion=opinion), "success")
    return redirect(url_for("cases.case", case_no=case_no))
