"""我的待办: a clerk's task list, claiming and releasing, and the task page with its form.

Nothing typed is ever lost: a form that fails its schema comes back with every value and each
field's message beside it; a stale page (the task was finished meanwhile, or a double click) gets a
page that says who finished it and shows what was typed, so it can be copied elsewhere.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from engine import casework, queries
from engine.assignment import check_may_handle
from engine.errors import (
    ConflictError,
    FormValidationError,
    NotFound,
    OnewindowError,
    PermissionDenied,
    StaleTaskError,
)
from engine.forms import validate_form

from . import get_db
from .access import roles_required
from .auth import safe_next
from .formrender import build_fields, parse_submission, raw_values

bp = Blueprint("desk", __name__, url_prefix="/desk")

HANDLER_ROLES = ("clerk",)
FORM_META_FIELDS = ("csrf_token", "_case")


@bp.route("", methods=["GET"])
@roles_required(*HANDLER_ROLES)
def tasks():
    me = current_user.actor.username
    rows = queries.open_tasks(get_db(), current_user.actor)
    return render_template(
        "desk/tasks.html",
        mine=[t for t in rows if t.assignee == me],
        group=[t for t in rows if t.assignee is None],
        others=[t for t in rows if t.assignee not in (None, me)],
    )


@bp.route("/tasks/<task_id>", methods=["GET"])
@roles_required(*HANDLER_ROLES)
def task(task_id: str):
    try:
        detail = _visible_task(task_id)
    except StaleTaskError as exc:
        return _stale_page(task_id, exc), 409
    return _task_page(detail, values=_initial_values(detail))


@bp.route("/tasks/<task_id>", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def complete(task_id: str):
    detail: dict[str, Any] | None = None
    try:
        detail = _visible_task(task_id)
        data, problems = parse_submission(detail["schema"], request.form)
        _refuse_unconvertible(detail, data, problems)
        case_no = casework.complete_task(get_db(), task_id, data, current_user.actor)
    except StaleTaskError as exc:
        return _stale_page(task_id, exc), 409
    except FormValidationError as exc:
        return _task_page(detail, raw_values(detail["schema"], request.form), exc.field_errors,
                          "表单填写有误，请按各栏红字提示修改后重新提交。"), 422
    except PermissionDenied:
        raise  # the 403 page: this clerk may not handle the task at all
    except OnewindowError as exc:  # a conflict, or the diagram refused the data: keep what was typed
        if detail is None:
            raise
        return _task_page(detail, raw_values(detail["schema"], request.form), {}, exc.message), exc.status
    flash(f"办件 {case_no} 的“{detail['name']}”已办理完毕。", "success")
    return redirect(url_for("desk.tasks"))


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def claim(task_id: str):
    return _assign(task_id, casework.claim_task, "已签收，其他组员将看到此任务由您办理。")


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@roles_required(*HANDLER_ROLES)
def release(task_id: str):
    return _assign(task_id, casework.release_task, "已退回组内，组内其他人员可以签收。")


def _assign(task_id: str, action, done_message: str):
    try:
        action(get_db(), task_id, current_user.actor)
        flash(done_message, "success")
    except ConflictError as exc:  # taken by someone else, or finished meanwhile: say so, don't crash
        flash(exc.message, "error")
    return redirect(safe_next(request.form.get("next")) or url_for("desk.tasks"))


def _visible_task(task_id: str) -> dict[str, Any]:
    """The task's detail, or 403 when the clerk is not in its group (a claimed task may still be read)."""
    detail = queries.task_detail(get_db(), task_id)
    check_may_handle(current_user.actor, detail["candidate_group"], None, "查看")
    return detail


def _initial_values(detail: dict[str, Any]) -> dict[str, Any]:
    """Pre-fill the form with what the applicant already gave when applying (start data)."""
    history = queries.case_history(get_db(), detail["case_no"])
    started = next((e for e in history if e["type"] == "case_started"), None)
    start_data = (started or {}).get("data", {}).get("data") or {}
    return {k: v for k, v in start_data.items() if k in detail["schema"].get("properties", {})}


def _refuse_unconvertible(detail: dict[str, Any], data: dict[str, Any], problems: dict[str, list[str]]) -> None:
    """Values that are not even the right type (letters in a number) never reach the engine.

    The rest of the form is checked too, so the clerk sees every message at once, not one per try.
    """
    if not problems:
        return
    errors = dict(problems)
    try:
        validate_form(json.dumps(detail["schema"], ensure_ascii=False), data, detail["form"] or "表单")
    except FormValidationError as exc:
        for name, messages in exc.field_errors.items():
            errors.setdefault(name, messages)
    raise FormValidationError("表单填写有误", errors)


def _task_page(detail: dict[str, Any], values: dict[str, Any], errors: dict[str, list[str]] | None = None,
               message: str | None = None):
    errors = errors or {}
    fields = build_fields(detail["schema"], detail["ui_schema"], values, errors)
    known = {f.name for f in fields}
    form_errors = [m for name, msgs in errors.items() if name not in known for m in msgs]
    me = current_user.actor.username
    return render_template("desk/task.html", task=detail, fields=fields, message=message,
                           form_errors=form_errors, claimed_by_other=detail["assignee"] not in (None, me))


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
