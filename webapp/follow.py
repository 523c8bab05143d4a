"""查询办理进度: an applicant follows a case by its number and follow-up code, without an account (S-13),
and answers a supplement request online when the diagram leaves that step to them.

A successful look-up is remembered in the session for that case only, so the follow-up page and the
supplement form need no code again; a failed one says the same thing whether the case exists or not.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.desk import casework, closing
from engine.errors import ConflictError, FormValidationError, OnewindowError
from engine.hall import follow
from engine.runtime import receipts

from . import answering, notices
from .access import public
from .db import get_db

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
        abort(403, description=_("请先输入办件编号和查询码。"))


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
        abort(404, description=_("文书 %(number)s 不存在；请核对文书编号。", number=number))
    return found


def _page(case_no: str, form_error: str | None = None, status: int = 200, supplement_form=None):
    view = follow.case_view(get_db(), case_no)
    return render_template("follow/case.html", view=view, form_error=form_error,
                           supplement=supplement_form or answering.form_for(view)), status


@bp.route("/<case_no>/answer", methods=["POST"])
@public
def answer(case_no: str):
    """The applicant's own step (补正), answered with the applicant's own form (webapp/answering.py)."""
    _verified(case_no)
    view = follow.case_view(get_db(), case_no)
    try:
        answering.answer(view, casework.applicant_actor(case_no))
    except FormValidationError as exc:
        return _page(case_no, exc.message, 422, answering.refilled(view, exc))
    except OnewindowError as exc:
        if isinstance(exc, ConflictError):  # answered already (another tab, the window): said on the page
            flash(exc.message, "error")
            return redirect(url_for("follow.case", case_no=case_no))
        return _page(case_no, exc.message, exc.status)
    flash(_("补正材料已提交，受理窗口将重新审查。"), "success")
    return redirect(url_for("follow.case", case_no=case_no))


@bp.route("/<case_no>/withdraw", methods=["POST"])
@public
def withdraw(case_no: str):
    """撤回申请 online, by whoever proved the follow-up code (issue 15, item 7): before the decision only."""
    _verified(case_no)
    if request.form.get("confirm") != "yes":  # the page asks to tick 我确认撤回; nothing was sent to the engine
        return _page(case_no, _("请勾选“我确认撤回本申请”后再提交；申请未撤回。"), 422)
    try:
        closing.withdraw_application(get_db(), case_no, casework.applicant_actor(case_no),
                                     request.form.get("statement", ""))
    except OnewindowError as exc:
        return _page(case_no, exc.message, exc.status)
    flash(_("您的申请已撤回，撤回申请确认书见下方文书。"), "success")
    return redirect(url_for("follow.case", case_no=case_no))
