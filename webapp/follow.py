"""查询办理进度: an applicant follows a case by its number and follow-up code, without an account (S-13),
and answers a supplement request online when the diagram leaves that step to them.

A successful look-up is remembered in the session for that case only, so the follow-up page and the
supplement form need no code again; a failed one says the same thing whether the case exists or not.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from engine.catalogue import entries as catalogue
from engine.desk import casework, closing
from engine.diagrams.forms import validate_form
from engine.errors import FormValidationError, OnewindowError
from engine.hall import follow
from engine.runtime import receipts

from . import notices
from .access import public
from .db import get_db
from .formrender import build_fields, parse_submission, raw_values
from .uploads import Chosen, attach, chosen_files

bp = Blueprint("follow", __name__, url_prefix="/hall/follow")

_FOLLOWED = "followed_cases"


@bp.route("", methods=["GET", "POST"])
@public
def lookup():
    if request.method == "GET":
        return render_template("follow/lookup.html", case_no="")
    case_no = request.form.get("case_no", "").strip()
    try:
        follow.follow(get_db(), case_no, request.form.get("code", ""), request.remote_addr or "unknown")
    except OnewindowError as exc:
        flash(exc.message, "error")
        return render_template("follow/lookup.html", case_no=case_no), exc.status
    session[_FOLLOWED] = [*[c for c in session.get(_FOLLOWED, []) if c != case_no], case_no][-5:]
    return redirect(url_for("follow.case", case_no=case_no))


def _verified(case_no: str) -> None:
    if case_no not in session.get(_FOLLOWED, []):
        abort(403, description="请先输入办件编号和查询码。")


@bp.route("/<case_no>", methods=["GET"])
@public
def case(case_no: str):
    _verified(case_no)
    return _page(case_no)


@bp.route("/<case_no>/notices/<number>", methods=["GET"])
@public
def notice(case_no: str, number: str):
    """A notice of the followed case (受理通知书, 决定书 …) as a printable page; the code was proven first."""
    found = _notice(case_no, number)
    return notices.page(found, url_for("follow.notice_pdf", case_no=case_no, number=number),
                        url_for("follow.case", case_no=case_no))


@bp.route("/<case_no>/notices/<number>/pdf", methods=["GET"])
@public
def notice_pdf(case_no: str, number: str):
    return notices.pdf(_notice(case_no, number))


def _notice(case_no: str, number: str) -> dict:
    _verified(case_no)
    found = receipts.one(get_db(), number)
    if found["case_no"] != case_no:  # another case's notice: the same answer as a missing one
        abort(404, description=f"文书 {number} 不存在；请核对文书编号。")
    return found


def _page(case_no: str, fields=None, form_error: str | None = None, status: int = 200):
    step = follow.applicant_step(get_db(), case_no)
    if step is not None and fields is None:
        fields = build_fields(step["schema"], step["ui_schema"], {})
    return render_template("follow/case.html", view=follow.case_view(get_db(), case_no), step=step,
                           fields=fields, form_error=form_error), status


def _supplement_files(case_no: str) -> list[Chosen]:
    """The files sent for the materials asked for; one the guide names is recorded as that material (the
    window's checklist then sees it), any other as a plain attachment."""
    view = follow.case_view(get_db(), case_no)
    asked = (view["supplement"] or {}).get("missing_materials", [])
    known = set(catalogue.guide_materials(get_db(), view["item_code"]))
    return chosen_files("supplement", [material if material in known else None for material in asked])


@bp.route("/<case_no>/answer", methods=["POST"])
@public
def answer(case_no: str):
    """The applicant's own step (补正): validated like any form, completed as the applicant."""
    _verified(case_no)
    step = follow.applicant_step(get_db(), case_no)
    if step is None:
        flash("此办件当前不需要您在线办理（可能已补正或已由窗口办理）。", "error")
        return redirect(url_for("follow.case", case_no=case_no))
    data, problems = parse_submission(step["schema"], request.form)
    try:
        if problems:
            raise FormValidationError("表单填写有误", problems)
        validate_form(json.dumps(step["schema"], ensure_ascii=False), data, step["form"])
        files = _supplement_files(case_no)  # checked before anything is written
        applicant = casework.applicant_actor(case_no)
        attach(case_no, files, applicant)
        casework.answer_as_applicant(get_db(), case_no, data, applicant)
    except FormValidationError as exc:
        fields = build_fields(step["schema"], step["ui_schema"], raw_values(step["schema"], request.form),
                              exc.field_errors)
        return _page(case_no, fields, exc.message, 422)
    except OnewindowError as exc:
        return _page(case_no, None, exc.message, exc.status)
    flash("补正材料已提交，受理窗口将重新审查。", "success")
    return redirect(url_for("follow.case", case_no=case_no))


@bp.route("/<case_no>/withdraw", methods=["POST"])
@public
def withdraw(case_no: str):
    """撤回申请 online, by whoever proved the follow-up code (issue 15, item 7): before the decision only."""
    _verified(case_no)
    if request.form.get("confirm") != "yes":  # the page asks to tick 我确认撤回; nothing was sent to the engine
        return _page(case_no, None, "请勾选“我确认撤回本申请”后再提交；申请未撤回。", 422)
    try:
        closing.withdraw_application(get_db(), case_no, casework.applicant_actor(case_no),
                                     request.form.get("statement", ""))
    except OnewindowError as exc:
        return _page(case_no, None, exc.message, exc.status)
    flash("您的申请已撤回，撤回申请确认书见下方文书。", "success")
    return redirect(url_for("follow.case", case_no=case_no))
