"""办事大厅: the item list and guides (open to all), applying for an item, the receipt, a case's notices, and
withdrawing one's own application (撤回申请) before the decision.

An applicant — or a clerk or village agent applying on someone's behalf — gives a few facts about
the applicant; they become the case's start data, and the accepting clerk finds them pre-filled.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from engine.catalogue import entries as catalogue
from engine.desk import casework, closing
from engine.diagrams import procedure
from engine.diagrams.forms import validate_form
from engine.errors import FormValidationError, NotFound, OnewindowError, PermissionDenied
from engine.reads import queries
from engine.runtime import applications, intake, receipts

from . import notices
from .access import public, require_case_access, roles_required
from .db import get_db
from .formrender import build_fields, parse_submission, raw_values
from .uploads import attach, chosen_files

bp = Blueprint("hall", __name__, url_prefix="/hall")

APPLY_ROLES = ("applicant", "clerk")

APPLY_UI: dict[str, Any] = {"application_note": {"ui:widget": "textarea"}}
#: A clerk applying for someone (full agency, S-5) records the applicant's mandate (委托).
MANDATE_FIELDS: dict[str, Any] = {
    "mandate_principal": {"type": "string", "title": "委托人姓名（代办时填写）", "maxLength": 64},
    "mandate_principal_id_number": {"type": "string", "title": "委托人身份证号码", "pattern": "^[0-9]{17}[0-9Xx]$"},
    "mandate_signed_on": {"type": "string", "title": "委托书签署日期", "format": "date"},
}


def _apply_form(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The application form of an item: the common part, where it comes in, and for clerks the mandate."""
    places = intake.places(get_db(), code)
    own = catalogue.application_form(get_db(), code)
    schema = applications.schema_with(own[0] if own else {})  # what the engine accepts, nothing else
    schema["required"] = ["applicant_name", *schema["required"]]  # the hall asks whom the case is for
    schema["properties"]["unit"] = {"type": "string", "title": "办理地点", "enum": [c for c, _ in places]}
    ui = {**APPLY_UI, **(own[1] if own else {}), "unit": {"ui:enumNames": [label for _, label in places],
                               "ui:help": "不选即到本事项所属部门的窗口办理；村便民服务室代办的，"
                                          "由代办员逐级报送，结果送回该服务室"}}
    if current_user.is_authenticated and current_user.has_role("clerk"):
        schema["properties"].update(MANDATE_FIELDS)
    return schema, ui


def _split_application(data: dict[str, Any]) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
    """(case data, unit, mandate): the place and the mandate are facts of the case, not application data."""
    unit = data.pop("unit", None)
    mandate = {key.removeprefix("mandate_"): data.pop(key) for key in list(data) if key.startswith("mandate_")}
    return data, unit, (mandate if any(mandate.values()) else None)


def _item(code: str) -> dict[str, Any]:
    entry = catalogue.entry(get_db(), code)
    if entry is None:
        raise NotFound(f"事项 {code} 不存在或尚未部署；请从办事大厅的事项列表中选择。")
    return {**entry.to_dict(), "steps": procedure.item_steps(get_db(), code)}


@bp.route("", methods=["GET"])
@public
def items():
    """The catalogue by department, level and life event, with a search box (S-10)."""
    chosen = {key: request.args.get(key, "").strip() for key in ("department", "level", "life_event", "q")}
    found, facets = catalogue.browse(get_db(), **chosen)
    return render_template("hall/items.html", items=found, facets=facets, chosen=chosen,
                           level_names=catalogue.LEVEL_NAMES)


@bp.route("/items/<code>/print", methods=["GET"])
@public
def print_guide(code: str):
    """The guide on one printable page (便民服务手册, S-10)."""
    return render_template("hall/print.html", item=_item(code), level_names=catalogue.LEVEL_NAMES)


@bp.route("/items/<code>", methods=["GET"])
@public
def item(code: str):
    initial = {"applicant_name": current_user.display_name} if current_user.is_authenticated \
        and not current_user.has_role("clerk") else {}
    if current_user.is_authenticated and current_user.actor.unit:
        initial["unit"] = current_user.actor.unit
    schema, ui = _apply_form(code)
    return render_template("hall/item.html", item=_item(code), fields=build_fields(schema, ui, initial),
                           level_names=catalogue.LEVEL_NAMES)


@bp.route("/items/<code>/apply", methods=["POST"])
@roles_required(*APPLY_ROLES)
def apply(code: str):
    schema, ui = _apply_form(code)
    data, problems = parse_submission(schema, request.form)
    try:
        if problems:
            raise FormValidationError("表单填写有误", problems)
        validate_form(json.dumps(schema, ensure_ascii=False), data, "申请表")
        data, unit, mandate = _split_application(data)
        files = chosen_files("material", catalogue.guide_materials(get_db(), code))  # before the case exists
        started = casework.start_case(get_db(), code, data, current_user.actor, unit=unit, mandate=mandate)
        attach(started.case_no, files, current_user.actor)
    except (FormValidationError, OnewindowError) as exc:
        errors = exc.field_errors if isinstance(exc, FormValidationError) else {}
        fields = build_fields(schema, ui, raw_values(schema, request.form), errors)
        return render_template("hall/item.html", item=_item(code), fields=fields, form_error=exc.message,
                               level_names=catalogue.LEVEL_NAMES), 422
    session[_CODE_KEY + started.case_no] = started.query_code  # shown once, on the receipt
    return redirect(url_for("hall.receipt", case_no=started.case_no))


@bp.route("/receipts/<case_no>", methods=["GET"])
@roles_required()
def receipt(case_no: str):
    require_case_access(current_user.actor, case_no)
    return render_template("hall/receipt.html", case=queries.case_detail(get_db(), case_no),
                           query_code=session.pop(_CODE_KEY + case_no, None))


_CODE_KEY = "query_code:"


@bp.route("/notices/<number>", methods=["GET"])
@roles_required()
def notice(number: str):
    """A notice (文书) as a printable A4 page, for the people the case concerns (its applicant, its staff)."""
    found = _notice(number)
    return notices.page(found, url_for("hall.notice_pdf", number=number),
                        url_for("cases.case", case_no=found["case_no"]))


@bp.route("/notices/<number>/pdf", methods=["GET"])
@roles_required()
def notice_pdf(number: str):
    return notices.pdf(_notice(number))


def _notice(number: str) -> dict[str, Any]:
    found = receipts.one(get_db(), number)
    require_case_access(current_user.actor, found["case_no"])
    return found


@bp.route("/cases/<case_no>/withdraw", methods=["POST"])
@roles_required("applicant")
def withdraw(case_no: str):
    """撤回申请 online by the registered applicant, from their case page (issue 15, item 7). Whether this
    person may, and whether the case is still undecided, is the engine's to say (`closing.withdraw_application`)."""
    back = url_for("cases.case", case_no=case_no)
    if request.form.get("confirm") != "yes":  # the page asks to tick 我确认撤回; nothing was sent to the engine
        flash("请勾选“我确认撤回本申请”后再提交；申请未撤回。", "error")
        return redirect(back)
    try:
        number = closing.withdraw_application(get_db(), case_no, current_user.actor,
                                              request.form.get("statement", ""), closing.ONLINE)
    except (PermissionDenied, NotFound):
        raise
    except OnewindowError as exc:  # decided, closed, a statement too long: said on the case page
        flash(exc.message, "error")
        return redirect(back)
    flash(f"您的申请已撤回，撤回申请确认书 {number} 见本页“文书”。", "success")
    return redirect(back)
