"""我的待办: a clerk's task list, claiming and releasing, and the task page with its form, its case's
materials, attachments, comments, history and diagram (the operations beside it are in `desk_ops`).

Nothing typed is ever lost: a form that fails its schema comes back with every value and each
field's message beside it; a stale page (the task was finished meanwhile, or a double click) gets a
page that says who finished it and shows what was typed, so it can be copied elsewhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.desk import attachments, casework, comments, inbox, materials, offers, prefill, submission
from engine.errors import (
    ConflictError,
    FormValidationError,
    NotFound,
    OnewindowError,
    PermissionDenied,
    StaleTaskError,
)
from engine.messages import said, speak
from engine.org.assignment import check_may_handle
from engine.reads import queries, story
from engine.time.clock import end_of_day, local_date

from . import deskforms
from .access import roles_required
from .auth import safe_next
from .db import get_db
from .formatting import STATUS_NAMES, WARNING_LEVELS
from .formrender import build_fields, raw_values
from .vendor import bpmn_js_available

bp = Blueprint("desk", __name__, url_prefix="/desk")

HANDLER_ROLES = ("clerk",)
FORM_META_FIELDS = ("csrf_token", "_case", "next")
DONE_EVENTS = frozenset({"task_completed", "step_completed"})
JUST_DONE_KEY = "desk_just_done"


PER_PAGE = 20
VIEWS = {"all": (_l("全部"), None), "mine": (_l("我已签收"), "mine"), "group": (_l("组内待签收"), "unclaimed"),
         "others": (_l("他人已签收"), "others")}
SORT_NAMES = {"newest": _l("最新到达"), "oldest": _l("最早到达"), "deadline": _l("承诺期限（近者在前）"),
              "case": _l("办件编号")}


@bp.route("", methods=["GET"])
@roles_required(*HANDLER_ROLES, "chief")
def tasks():
    """The clerk's task list: filtered, sorted and paginated from the task index alone. A chief who is no clerk
    reads the list of their groups to reach a case (延期, 加签, 终止 are on its page) but handles no task here."""
    db = get_db()
    args = request.args
    view = args.get("view", "all") if args.get("view") in VIEWS else "all"
    sort = args.get("sort") if args.get("sort") in queries.SORTS else "newest"
    due_day = _date_arg(args.get("due_before"))
    filters = queries.TaskFilter(
        item_code=args.get("item") or None, case_status=args.get("status") or None,
        warning_level=args.get("warning") or None, case_no=(args.get("case") or "").strip() or None,
        applicant=(args.get("applicant") or "").strip() or None,
        # due on that day or earlier: a deadline is 24:00 of its day, which is end_of_day(day) itself
        due_before=end_of_day(due_day) + timedelta(seconds=1) if due_day else None,
        claimed=VIEWS[view][1])
    result = queries.task_page(db, current_user.actor, filters, sort, _page_arg(args.get("page")), PER_PAGE,
                               after=args.get("after"), before=args.get("before"))
    me = current_user.actor.username
    rows = [{"task": t, "kind": "mine" if t.assignee == me else "group" if t.assignee is None else "others",
             "remaining": remaining, "deadline_day": t.deadline_day}
            for t, remaining in zip(result.rows, queries.days_left(db, result.rows, local_date()), strict=True)]
    pages = max(1, -(-result.total // PER_PAGE))
    query = {k: v for k, v in args.items() if k not in ("page", "after", "before") and v}
    # Pages continue from the last row shown (keyset); page 1 is the start and needs no key.
    n = result.page
    prev_href = url_for("desk.tasks", page=n - 1, **({"before": result.prev_key} if result.prev_key and n > 2 else {}),
                        **query) if n > 1 else None
    next_href = url_for("desk.tasks", page=n + 1, **({"after": result.next_key} if result.next_key else {}),
                        **query) if n < pages else None
    others = {k: v for k, v in query.items() if k != "view"}
    tabs = [(key, label, url_for("desk.tasks", **others, **({"view": key} if key != "all" else {})))
            for key, (label, _claimed) in VIEWS.items()]
    return render_template(
        "desk/tasks.html", rows=rows, page=result, pages=pages, query=query, prev_href=prev_href,
        next_href=next_href, view=view, views=VIEWS, tabs=tabs,
        sort=sort, sorts=SORT_NAMES, items=queries.list_items(db), statuses=STATUS_NAMES,
        warnings=WARNING_LEVELS, due_before=due_day.isoformat() if due_day else "", more_tabs=_more_tabs(None),
        just_done=_just_done(), may_handle=current_user.has_role(*HANDLER_ROLES))


def _more_tabs(active: str | None) -> list[tuple[str, str, str, int]]:
    """(key, label, href, badge) of the desk's other lists: delegated to me, copies, messages (a chief who is no
    clerk: messages only)."""
    actor = current_user.actor
    counts = inbox.unread_counts(get_db(), actor)
    if not current_user.has_role(*HANDLER_ROLES):
        return [("messages", _("消息"), url_for("desk.messages"), counts["messages"])]
    return [("delegated", _("委派给我的"), url_for("desk.delegated"), len(inbox.delegated_to(get_db(), actor))),
            ("copies", _("抄送我的"), url_for("desk.copies"), counts["copies"]),
            ("messages", _("消息"), url_for("desk.messages"), counts["messages"])]


def _just_done() -> dict[str, Any] | None:
    """The case of the step this clerk completed last, while that step may still be withdrawn (撤回)."""
    case_no = session.get(JUST_DONE_KEY)
    if not case_no:
        return None
    try:
        found = offers.choices(get_db(), case_no, current_user.actor)
    except NotFound:
        found = None
    if found is None or found.withdrawable is None:
        session.pop(JUST_DONE_KEY, None)
        return None
    return {"case_no": case_no, "choices": replace(found, may_urge=False)}


def _date_arg(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page_arg(value: str | None) -> int:
    try:
        return min(max(1, int(value or 1)), 100_000)  # a typed-in huge page must not overflow the LIMIT
    except ValueError:
        return 1


@bp.route("/tasks/<task_id>", methods=["GET"])
@roles_required(*HANDLER_ROLES)
def task(task_id: str):
    try:
        detail = _visible_task(task_id)
    except StaleTaskError as exc:
        return _stale_page(task_id, exc), 409
    return _task_page(detail, values=prefill.initial_values(get_db(), detail))


@bp.route("/tasks/<task_id>", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def complete(task_id: str):
    """Submit the task's form; a delegate's submission goes back to the delegator instead of completing."""
    try:
        done = submission.submit_task(get_db(), task_id, request.form.to_dict(flat=False), current_user.actor)
    except StaleTaskError as exc:
        return _stale_page(task_id, exc), 409
    except PermissionDenied:
        raise  # the 403 page: this clerk may not handle the task at all
    except FormValidationError as exc:
        return _refused(task_id, exc.field_errors, _("表单填写有误，请按各栏红字提示修改后重新提交。"), 422)
    except OnewindowError as exc:  # a conflict, or the diagram refused the data: keep what was typed
        return _refused(task_id, {}, exc.message, exc.status)
    if done.returned_to:
        flash(_("办件 %(case_no)s 的“%(step)s”已交回 %(person)s 确认。", case_no=done.case_no, step=done.step,
                person=done.returned_to), "success")
        return redirect(url_for("desk.delegated"))
    if done.awaiting_reviewer:  # 后加签: kept until the reviewer agrees
        flash(_("办件 %(case_no)s 的“%(step)s”已提交，等待加签人 %(person)s 签署意见。", case_no=done.case_no,
                step=done.step, person=done.awaiting_reviewer), "success")
        return redirect(url_for("desk.task", task_id=task_id))
    flash(_("办件 %(case_no)s 的“%(step)s”已办理完毕。", case_no=done.case_no, step=done.step), "success")
    session[JUST_DONE_KEY] = done.case_no
    return redirect(url_for("desk.tasks"))


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def claim(task_id: str):
    return _assign(task_id, casework.claim_task, _("已签收，其他组员将看到此任务由您办理。"))


@bp.route("/claim", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def claim_many():
    """批量签收 from the list's checkboxes: one engine call per task; the ones refused are named with the reason."""
    back = safe_next(request.form.get("next")) or url_for("desk.tasks")
    try:
        done = casework.claim_tasks(get_db(), request.form.getlist("task"), current_user.actor)
    except OnewindowError as exc:
        flash(exc.message, "error")
        return redirect(back)
    if done.claimed:
        flash(_("已签收 %(n)s 项任务。", n=len(done.claimed)), "success")
    if done.failed:
        flash(_("以下任务未能签收：") + _("；").join(_("%(label)s：%(value)s", label=speak(who), value=speak(why))
                                                     for who, why in done.failed), "error")
    return redirect(back)


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def release(task_id: str):
    return _assign(task_id, casework.release_task, _("已退回组内，组内其他人员可以签收。"))


def _assign(task_id: str, action, done_message: str):
    try:
        action(get_db(), task_id, current_user.actor)
        flash(done_message, "success")
    except ConflictError as exc:  # taken by someone else, or finished meanwhile: say so, don't crash
        flash(exc.message, "error")
    return redirect(safe_next(request.form.get("next")) or url_for("desk.tasks"))


# --- the task page ----------------------------------------------------------------------------------------------

def _visible_task(task_id: str) -> dict[str, Any]:
    """The task's detail, or 403 when the clerk is neither in its group nor its delegate (a claimed task may
    still be read)."""
    detail = queries.task_detail(get_db(), task_id)
    detail["delegation"] = inbox.delegation_row(get_db(), task_id)
    if not _is_delegate(detail):
        check_may_handle(current_user.actor, detail["candidate_group"], None, said("查看"))
    return detail


def _is_delegate(detail: dict[str, Any]) -> bool:
    delegation = detail.get("delegation")
    return bool(delegation and delegation["delegate"] == current_user.actor.username)


def _refused(task_id: str, errors: dict[str, list[str]], message: str, status: int):
    """The form again exactly as the clerk sent it, with what is wrong beside each field."""
    try:
        detail = _visible_task(task_id)
    except StaleTaskError as exc:  # finished by someone else meanwhile
        return _stale_page(task_id, exc), 409
    schema = detail["schema"]
    sent = {**raw_values(schema, request.form), **deskforms.raw_lists(schema, request.form)}
    return _task_page(detail, sent, errors, message), status


def _task_page(detail: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]] | None = None,
               message: str | None = None, operation: dict[str, Any] | None = None):
    errors = errors or {}
    actor = current_user.actor
    db = get_db()
    case_no = detail["case_no"]
    checklist = materials.checklist(db, case_no)
    fields = build_fields(detail["schema"], detail["ui_schema"], values, errors)
    deskforms.as_lists(detail["schema"], fields, values, [m["name"] for m in checklist])
    known = {f.name for f in fields}
    form_errors = [m for name, msgs in errors.items() if name not in known for m in msgs]
    me = actor.username
    delegation = detail.get("delegation")
    panels = _case_panels(case_no, checklist)
    panels["step_names"].setdefault(detail["element_id"], detail["name"])
    return render_template(
        "desk/task.html", task=detail, fields=fields, message=message, form_errors=form_errors,
        decision=deskforms.decision(detail["schema"], fields), is_delegate=_is_delegate(detail),
        delegation=delegation, is_delegator=bool(delegation and delegation["delegator"] == me),
        claimed_by_other=detail["assignee"] not in (None, me) and not _is_delegate(detail),
        choices=offers.choices(db, case_no, actor, detail["task_id"]), operation=operation or {},
        **panels)


def step_names(history: list[dict[str, Any]]) -> dict[str, str]:
    """Element id → the step's name as the history recorded it, to name the step a comment was written at."""
    named = {e["element_id"]: e["data"]["name"] for e in history
             if e["element_id"] and isinstance(e.get("data"), dict) and e["data"].get("name")}
    diagram = history[0]["names"].steps if history and "names" in history[0] else {}
    return {**diagram, **named}


def _case_panels(case_no: str, checklist: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the task page shows of its case: materials, attachments, comments, history and the diagram."""
    db = get_db()
    history = story.case_story(db, case_no)
    started = history[0] if history else {"data": {}, "actor": ""}
    case_row = queries.case_detail(db, case_no)
    return {"applicant": (started["data"].get("data") or {}).get("applicant_name") or started.get("who", ""),
            "checklist": checklist if checklist is not None else materials.checklist(db, case_no),
            "files": attachments.list_attachments(db, case_no), "comments": comments.list_comments(db, case_no),
            "step_names": step_names(history),
            "history": history, "case": case_row, "show_diagram": bpmn_js_available(),
            "done_elements": sorted({e["element_id"] for e in history if e["element_id"] and e["type"] in DONE_EVENTS}
                                    - {t["element_id"] for t in case_row["open_tasks"]}),  # open wins over done
            "max_mb": attachments.max_bytes() // (1024 * 1024), "allowed_types": attachments.ALLOWED_TEXT}


def _stale_page(task_id: str, exc: StaleTaskError):
    """Say what happened to the task and show what was typed, instead of a crash or an empty page."""
    case_no = request.form.get("_case", "") or request.args.get("case", "")
    finished = None
    if case_no:
        try:
            history = queries.case_history(get_db(), case_no)
            finished = next((e for e in reversed(history) if e["type"] == "task_completed"
                             and e["data"].get("task_id") == task_id), None)
        except NotFound:
            case_no = ""
    typed = [(k, v) for k, v in request.form.items(multi=True) if k not in FORM_META_FIELDS and v != ""]
    return render_template("desk/stale.html", message=exc.message, case_no=case_no, finished=finished,
                           typed=typed, by_me=bool(finished and finished["actor"] == current_user.actor.username))
