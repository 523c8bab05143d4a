"""办事大厅: the item list and guides (open to all), applying for an item, and the receipt.

An applicant — or a clerk or village agent applying on someone's behalf — gives a few facts about
the applicant; they become the case's start data, and the accepting clerk finds them pre-filled.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from engine import casework, queries
from engine.errors import FormValidationError, NotFound
from engine.forms import validate_form

from . import get_db
from .access import public, require_case_access, roles_required
from .formrender import build_fields, parse_submission, raw_values

bp = Blueprint("hall", __name__, url_prefix="/hall")

APPLY_ROLES = ("applicant", "clerk")

#: What every application asks for. Items may later bring their own form; this is the common part.
APPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["applicant_name"],
    "properties": {
        "applicant_name": {"type": "string", "title": "申请人姓名", "minLength": 1, "maxLength": 64},
        "phone": {"type": "string", "title": "联系电话", "pattern": "^1[0-9]{10}$",
                  "description": "11 位手机号码，用于接收办理进度通知"},
        "application_note": {"type": "string", "title": "申请说明", "maxLength": 500},
    },
}
APPLY_UI: dict[str, Any] = {"application_note": {"ui:widget": "textarea"}}
_APPLY_SCHEMA_TEXT = json.dumps(APPLY_SCHEMA, ensure_ascii=False)


def _item(code: str) -> dict[str, Any]:
    for item in queries.list_items(get_db()):
        if item["code"] == code:
            return item
    raise NotFound(f"事项 {code} 不存在或尚未部署；请从办事大厅的事项列表中选择。")


@bp.route("", methods=["GET"])
@public
def items():
    return render_template("hall/items.html", items=queries.list_items(get_db()))


@bp.route("/items/<code>", methods=["GET"])
@public
def item(code: str):
    initial = {"applicant_name": current_user.display_name} if current_user.is_authenticated \
        and not current_user.has_role("clerk") else {}
    return render_template("hall/item.html", item=_item(code),
                           fields=build_fields(APPLY_SCHEMA, APPLY_UI, initial))


@bp.route("/items/<code>/apply", methods=["POST"])
@roles_required(*APPLY_ROLES)
def apply(code: str):
    data, problems = parse_submission(APPLY_SCHEMA, request.form)
    try:
        if problems:
            raise FormValidationError("表单填写有误", problems)
        validate_form(_APPLY_SCHEMA_TEXT, data, "申请表")
        started = casework.start_case(get_db(), code, data, current_user.actor)
    except FormValidationError as exc:
        fields = build_fields(APPLY_SCHEMA, APPLY_UI, raw_values(APPLY_SCHEMA, request.form), exc.field_errors)
        return render_template("hall/item.html", item=_item(code), fields=fields, form_error=exc.message), 422
    return redirect(url_for("hall.receipt", case_no=started.case_no))


@bp.route("/receipts/<case_no>", methods=["GET"])
@roles_required()
def receipt(case_no: str):
    history = queries.case_history(get_db(), case_no)
    require_case_access(current_user.actor, history)
    return render_template("hall/receipt.html", case=queries.case_detail(get_db(), case_no))
