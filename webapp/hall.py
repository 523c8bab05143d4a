"""办事大厅: the item list and guides (open to all), applying for an item, the receipt, a case's notices,
withdrawing one's own application (撤回申请) before the decision, and 我的办件 — a registered applicant's own
cases, where they answer a 补正 without the follow-up code.

An applicant — or a clerk or village agent applying on someone's behalf — gives a few facts about
the applicant; they become the case's start data, and the accepting clerk finds them pre-filled.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.catalogue import entries as catalogue
from engine.desk import casework, closing
from engine.diagrams import procedure
from engine.diagrams.forms import validate_form
from engine.errors import ConflictError, FormValidationError, NotFound, OnewindowError, PermissionDenied
from engine.hall import follow, mycases, phone
from engine.messages import speak
from engine.org.orgtree import level_of
from engine.reads import queries
from engine.runtime import applications, intake, receipts

from . import answering, notices, uploads
from .access import public, require_case_access, roles_required
from .auth import safe_next
from .db import get_db
from .formrender import build_fields, parse_submission, raw_values

bp = Blueprint("hall", __name__, url_prefix="/hall")

APPLY_ROLES = ("applicant", "clerk")

APPLY_UI: dict[str, Any] = {"application_note": {"ui:widget": "textarea"}}


def _mandate_fields() -> dict[str, Any]:
    """A village room's agent applying for someone (full agency, S-5) records the applicant's 委托 — required.
    Built per request: the titles are in the page's language, and the schema goes through `json.dumps`."""
    return {
        "mandate_principal": {"type": "string", "title": _("委托人姓名"), "minLength": 1, "maxLength": 64},
        "mandate_principal_id_number": {"type": "string", "title": _("委托人身份证号码"),
                                        "pattern": "^[0-9]{17}[0-9Xx]$"},
        "mandate_signed_on": {"type": "string", "title": _("委托书签署日期"), "format": "date"},
    }


def _apply_form(code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The application form of an item: the common part, where it comes in, and for clerks the mandate."""
    places = intake.places(get_db(), code)
    own = catalogue.application_form(get_db(), code)
    # What the engine accepts, nothing else; its common questions in the page's language (the item's own as written).
    schema = speak(applications.schema_with(own[0] if own else {}))
    schema["required"] = ["applicant_name", *schema["required"]]  # the hall asks whom the case is for
    schema["properties"]["unit"] = {"type": "string", "title": _("办理地点"), "enum": [c for c, _label in places]}
    ui = {**APPLY_UI, **(own[1] if own else {}), "unit": {"ui:enumNames": [speak(label) for _c, label in places],
                               "ui:help": _("不选即到本事项所属部门的窗口办理；村便民服务室代办的，"
                                            "由代办员逐级报送，结果送回该服务室")}}
    if _agent():
        mandate = _mandate_fields()
        schema["properties"].update(mandate)
        schema["required"] = [*schema["required"], *mandate]
        ui["mandate_principal"] = {"ui:help": _("代为申请须登记申请人的委托：委托人姓名、身份证号码和委托书签署日期")}
    return schema, ui


def _agent() -> bool:
    """A village room's clerk applies for others by 委托 only (`intake.check_mandate` refuses it without)."""
    actor = current_user.actor if current_user.is_authenticated else None
    return bool(actor and "clerk" in actor.roles and not actor.is_admin and actor.unit
                and level_of(actor.unit) == "village")


def _split_application(data: dict[str, Any]) -> tuple[dict[str, Any], str | None, dict[str, Any] | None]:
    """(case data, unit, mandate): the place and the mandate are facts of the case, not application data."""
    unit = data.pop("unit", None)
    mandate = {key.removeprefix("mandate_"): data.pop(key) for key in list(data) if key.startswith("mandate_")}
    return data, unit, (mandate if any(mandate.values()) else None)


def _item(code: str) -> dict[str, Any]:
    entry = catalogue.entry(get_db(), code)
    if entry is None:
        raise NotFound(_("事项 %(code)s 不存在或尚未部署；请从办事大厅的事项列表中选择。", code=code))
    return {**entry.to_dict(), "steps": procedure.item_steps(get_db(), code)}


@bp.route("", methods=["GET"])
@public
def items():
    """The catalogue by department, level and life event, with a search box (S-10)."""
    chosen = {key: request.args.get(key, "").strip()[:100] for key in ("department", "level", "life_event", "q")}
    page = request.args.get("page", "1")
    listing = catalogue.browse(get_db(), **chosen, page=int(page) if page.isdigit() and len(page) < 6 else 1)
    return render_template("hall/items.html", listing=listing, facets=listing.facets, chosen=chosen,
)


@bp.route("/items/<code>/print", methods=["GET"])
@public
def print_guide(code: str):
    """The guide on one printable page (便民服务手册, S-10)."""
    return render_template("hall/print.html", item=_item(code))


@bp.route("/items/<code>", methods=["GET"])
@public
def item(code: str):
    initial: dict[str, Any] = {}
    if current_user.is_authenticated and not current_user.has_role("clerk"):  # a clerk applies for someone else
        initial["applicant_name"] = current_user.display_name
        if number := phone.number_of(current_user.actor.username):  # the registered phone
            initial["phone"] = number
    if current_user.is_authenticated and current_user.actor.unit:
        initial["unit"] = current_user.actor.unit
    schema, ui = _apply_form(code)
    return _item_page(code, build_fields(schema, ui, initial))


def _item_page(code: str, fields: list[Any], form_error: str | None = None, status: int = 200,
               file_errors: dict[int, str] | None = None):
    """The guide and the application form; after a mistake, with the files already attached (kept)."""
    return render_template("hall/item.html", item=_item(code), fields=fields, form_error=form_error,
                           kept=uploads.describe(uploads.kept_files(_KEPT + code)) if form_error else {},
                           file_errors=file_errors or {}), status


_KEPT = "apply:"  # the session's kept files of an application form, per item


@bp.route("/items/<code>/apply", methods=["POST"])
@roles_required(*APPLY_ROLES)
def apply(code: str):
    """Apply: the form checked, the files checked, the case started, the files attached. After a mistake the
    checked files are kept (webapp/uploads.py) and the form comes back with what was typed."""
    schema, ui = _apply_form(code)
    data, problems = parse_submission(schema, request.form)
    key = _KEPT + code
    chosen, file_problems = uploads.collect("material", catalogue.guide_materials(get_db(), code),
                                            uploads.kept_files(key))
    try:
        if problems or file_problems:
            raise FormValidationError(_("表单填写有误") if problems else _("有文件未通过检查，请重新选择"), problems)
        validate_form(json.dumps(schema, ensure_ascii=False), data, _("申请表"))
        data, unit, mandate = _split_application(data)
        started = casework.start_case(get_db(), code, data, current_user.actor, unit=unit, mandate=mandate)
    except (FormValidationError, OnewindowError) as exc:
        uploads.keep(key, chosen)
        errors = exc.field_errors if isinstance(exc, FormValidationError) else {}
        return _item_page(code, build_fields(schema, ui, raw_values(schema, request.form), errors), exc.message,
                          422, file_problems)
    uploads.attach(started.case_no, [chosen[index] for index in sorted(chosen)], current_user.actor)
    uploads.forget(key)
    session[_CODE_KEY + started.case_no] = started.query_code  # shown once, on the receipt
    return redirect(url_for("hall.receipt", case_no=started.case_no))


@bp.route("/receipts/<case_no>", methods=["GET"])
@roles_required()
def receipt(case_no: str):
    require_case_access(current_user.actor, case_no)
    return render_template("hall/receipt.html", case=queries.case_detail(get_db(), case_no),
                           query_code=session.pop(_CODE_KEY + case_no, None), mine=_applicant_only())


_CODE_KEY = "query_code:"


@bp.route("/notices/<number>", methods=["GET"])
@roles_required()
def notice(number: str):
    """A notice (文书) as a printable A4 page, for the people the case concerns (its applicant, its staff)."""
    found = _notice(number)
    back = "hall.my_case" if _applicant_only() else "cases.case"  # the applicant came from 我的办件
    return notices.page(found, url_for("hall.notice_pdf", number=number), url_for(back, case_no=found["case_no"]))


def _applicant_only() -> bool:
    return current_user.has_role("applicant") and not current_user.actor.is_admin \
        and not current_user.has_role("clerk", "supervisor", "auditor")


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
    back = safe_next(request.values.get("back")) or url_for("cases.case", case_no=case_no)  # 我的办件 sends its own
    if request.form.get("confirm") != "yes":  # the page asks to tick 我确认撤回; nothing was sent to the engine
        flash(_("请勾选“我确认撤回本申请”后再提交；申请未撤回。"), "error")
        return redirect(back)
    try:
        number = closing.withdraw_application(get_db(), case_no, current_user.actor,
                                              request.form.get("statement", ""), closing.ONLINE)
    except (PermissionDenied, NotFound):
        raise
    except OnewindowError as exc:  # decided, closed, a statement too long: said on the case page
        flash(exc.message, "error")
        return redirect(back)
    flash(_("您的申请已撤回，撤回申请确认书 %(number)s 见本页“文书”。", number=number), "success")
    return redirect(back)


@bp.route("/mine", methods=["GET"])
@roles_required("applicant")
def mine():
    """我的办件: every case of the logged-in applicant, with status, step, deadline, notices and result."""
    return render_template("hall/mine.html", cases=mycases.my_cases(get_db(), current_user.actor))


@bp.route("/mine/<case_no>", methods=["GET"])
@roles_required("applicant")
def my_case(case_no: str):
    """One of the applicant's own cases; anyone else's is a 404, as a number that does not exist."""
    return _my_case_page(case_no)


def _my_case_page(case_no: str, form_error: str | None = None, status: int = 200, supplement=None):
    own = mycases.my_case(get_db(), case_no, current_user.actor)  # NotFound unless it is theirs
    view = follow.case_view(get_db(), case_no)
    return render_template("hall/my_case.html", case=own, view=view, form_error=form_error,
                           supplement=supplement or answering.form_for(view)), status


@bp.route("/mine/<case_no>/supplement", methods=["POST"])
@roles_required("applicant")
def answer_supplement(case_no: str):
    """补正 online from 我的办件, with the applicant's own form; the engine checks again that it is their case."""
    mycases.my_case(get_db(), case_no, current_user.actor)
    view = follow.case_view(get_db(), case_no)
    try:
        answering.answer(view, current_user.actor)
    except FormValidationError as exc:
        return _my_case_page(case_no, exc.message, 422, answering.refilled(view, exc))
    except ConflictError as exc:  # answered already (another tab, the window): said on the page
        flash(exc.message, "error")
        return redirect(url_for("hall.my_case", case_no=case_no))
    except OnewindowError as exc:
        return _my_case_page(case_no, exc.message, exc.status)
    flash(_("补正材料已提交，受理窗口将重新审查；审查结果会在本页和“我的办件”中显示。"), "success")
    return redirect(url_for("hall.my_case", case_no=case_no))
