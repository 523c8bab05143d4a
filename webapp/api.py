"""The JSON API under /api/v1: the desk's and hall's operations for other systems (token auth).

Same rules as the pages: each route parses the request, makes one engine call and returns JSON.
Authentication is `Authorization: Bearer <token>` (tokens come from `onewindow token`), so CSRF
does not apply here and the blueprint is exempted. Every error is JSON `{"error", "message", ...}`
(see webapp.errors) — 401 without a valid token, 403 without the role, 404, 409 for a conflict or
a stale task, 422 with `field_errors` when form data fails its schema.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for

from engine.desk import caseops, casework, submission, taskops
from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said
from engine.org import accounts
from engine.org.assignment import Actor, check_may_handle
from engine.reads import queries
from engine.runtime.caseaccess import STAFF_ROLES
from engine.watch import reports

from .access import ACCESS_ATTR, public, require_case_access, require_role
from .db import get_db
from .extensions import csrf
from .inputs import db_int
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

APPLY_ROLES = ("applicant", "clerk")
HANDLER_ROLES = ("clerk",)


class TokenRequired(OnewindowError):
    """No token, or one that matches no user: 401, so a client knows to (re)authenticate."""

    status = 401
    code = "unauthorized"


def token_required(*roles: str) -> Callable:
    """Authenticate the bearer token into `g.actor`, then require one of `roles` (none: any user)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.actor = _actor_from_header()
            require_role(g.actor, roles)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, ("token", roles))
        return wrapper

    return decorate


def _actor_from_header() -> Actor:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRequired("缺少 API 令牌；请在请求头中加入 Authorization: Bearer <令牌>"
                            "（令牌用 onewindow token 签发）。")
    try:
        return accounts.actor_for_token(get_db(), token.strip())
    except PermissionDenied as exc:
        raise TokenRequired(exc.message) from exc


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise OnewindowError("请求体必须是 JSON 对象，并带上 Content-Type: application/json；"
                             '例如 {"item": "DEMO-001", "data": {}}。')
    return body


def _data_field(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data", {})
    if not isinstance(data, dict):
        raise OnewindowError('"data" 必须是 JSON 对象（表单字段名 → 值），例如 {"data": {"opinion": "同意"}}。')
    return data


@bp.route("/openapi.json", methods=["GET"])
@public
def openapi():
    return jsonify(openapi_document())


@bp.route("/items", methods=["GET"])
@token_required()
def items():
    return jsonify({"items": queries.list_items(get_db())})


@bp.route("/cases", methods=["POST"])
@token_required(*APPLY_ROLES)
def start_case():
    body = _json_body()
    item = body.get("item")
    if not isinstance(item, str) or not item:
        raise OnewindowError('缺少 "item"：请给出事项编码（见 GET /api/v1/items），例如 {"item": "DEMO-001"}。')
    started = casework.start_case(get_db(), item, _data_field(body), g.actor)
    url = url_for("api.case", case_no=started.case_no)
    response = jsonify({"case_no": started.case_no, "status": started.status, "version": started.version,
                        "url": url})
    return response, 201, {"Location": url}


@bp.route("/tasks", methods=["GET"])
@token_required(*HANDLER_ROLES)
def tasks():
    rows = queries.open_tasks(get_db(), g.actor, case_no=request.args.get("case") or None)
    return jsonify({"tasks": [t.to_dict() for t in rows]})


@bp.route("/tasks/<task_id>", methods=["GET"])
@token_required(*HANDLER_ROLES)
def task(task_id: str):
    detail = queries.task_detail(get_db(), task_id)
    check_may_handle(g.actor, detail["candidate_group"], None, said("查看"))
    return jsonify(detail)


@bp.route("/tasks/<task_id>/claim", methods=["POST"])
@token_required(*HANDLER_ROLES)
def claim(task_id: str):
    case_no = casework.claim_task(get_db(), task_id, g.actor)
    return jsonify({"task_id": task_id, "case_no": case_no, "assignee": g.actor.username})


@bp.route("/tasks/<task_id>/release", methods=["POST"])
@token_required(*HANDLER_ROLES)
def release(task_id: str):
    case_no = casework.release_task(get_db(), task_id, g.actor)
    return jsonify({"task_id": task_id, "case_no": case_no, "assignee": None})


@bp.route("/tasks/<task_id>/complete", methods=["POST"])
@token_required(*HANDLER_ROLES)
def complete(task_id: str):
    case_no = submission.submit_data(get_db(), task_id, _data_field(_json_body()), g.actor)
    return jsonify({"task_id": task_id, "case_no": case_no, "case_url": url_for("api.case", case_no=case_no)})


@bp.route("/cases/<case_no>", methods=["GET"])
@token_required()
def case(case_no: str):
    require_case_access(g.actor, case_no)
    return jsonify(queries.case_detail(get_db(), case_no))


@bp.route("/cases/<case_no>/history", methods=["GET"])
@token_required()
def history(case_no: str):
    require_case_access(g.actor, case_no)
    events = queries.case_history(get_db(), case_no)
    if not (g.actor.is_admin or g.actor.roles & STAFF_ROLES):  # applicants: the steps, not internal data
        events = [{k: v for k, v in e.items() if k != "data"} for e in events]
    return jsonify({"case_no": case_no, "events": events})


# --- the desk's task operations (engine/desk/taskops.py): same checks and audit events as the pages ---------------

def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise OnewindowError(f'"{key}" 必须是字符串。')
    return value


def _done(case_no: str, **extra: Any):
    return jsonify({"case_no": case_no, "case_url": url_for("api.case", case_no=case_no), **extra})


@bp.route("/tasks/<task_id>/transfer", methods=["POST"])
@token_required(*HANDLER_ROLES)
def transfer(task_id: str):
    body = _json_body()
    return _done(taskops.transfer_task(get_db(), task_id, _text(body, "to"), g.actor, _text(body, "reason")))


@bp.route("/tasks/<task_id>/delegate", methods=["POST"])
@token_required(*HANDLER_ROLES)
def delegate(task_id: str):
    body = _json_body()
    return _done(taskops.delegate_task(get_db(), task_id, _text(body, "to"), g.actor, _text(body, "reason")))


@bp.route("/tasks/<task_id>/return", methods=["POST"])
@token_required(*HANDLER_ROLES)
def return_task(task_id: str):
    body = _json_body()
    return _done(taskops.return_task(get_db(), task_id, _text(body, "target_task_id"), _text(body, "reason"),
                                     g.actor))


@bp.route("/cases/<case_no>/withdraw", methods=["POST"])
@token_required(*HANDLER_ROLES)
def withdraw(case_no: str):
    body = _json_body()
    return _done(taskops.withdraw_task(get_db(), case_no, _text(body, "task_id"), g.actor, _text(body, "reason")))


@bp.route("/cases/<case_no>/copy", methods=["POST"])
@token_required(*HANDLER_ROLES)
def copy(case_no: str):
    body = _json_body()
    recipients = body.get("to")
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise OnewindowError('"to" 必须是用户名列表，例如 {"to": ["zhao"]}。')
    return _done(caseops.copy_case(get_db(), case_no, recipients, g.actor, _text(body, "note")))


@bp.route("/cases/<case_no>/urge", methods=["POST"])
@token_required(*HANDLER_ROLES)
def urge(case_no: str):
    return _done(caseops.urge_case(get_db(), case_no, g.actor, _text(_json_body(), "note")))


# --- 实时报送: the case feed for a higher-level platform (engine/watch/reports.py) ------------------------------

FEED_ROLES = ("supervisor", "auditor")


@bp.route("/feed/cases", methods=["GET"])
@token_required(*FEED_ROLES)
def feed_cases():
    """Case records changed after `after` (a sequence number), oldest change first; continue with `next_after`."""
    try:
        after, limit = int(request.args.get("after", "0")), int(request.args.get("limit", "100"))
    except ValueError as exc:
        raise OnewindowError("after 和 limit 须为整数，例如 ?after=0&limit=100。") from exc
    return jsonify(reports.feed(get_db(), db_int(after, "after"), db_int(limit, "limit")))
