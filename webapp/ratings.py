"""好差评: the applicant's rating page for one of their cases (/hall/cases/<case_no>/rate).

A plain form (no JavaScript): a score 1–5 with its words, optional sub-ratings and a comment for a visit
or for the completed case, or a complaint about the window. The route parses the form and calls
`engine.watch.ratings.rate`, which checks that the actor is the case's applicant and starts a rectification
for a 1, a 2 or a complaint; the page then says so.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import OnewindowError
from engine.watch import ratings

from .access import roles_required
from .db import get_db

bp = Blueprint("ratings", __name__, url_prefix="/hall/cases")


@bp.route("/<case_no>/rate", methods=["GET"])
@roles_required("applicant")
def rate_page(case_no: str):
    return _page(case_no, {}, {})


@bp.route("/<case_no>/rate", methods=["POST"])
@roles_required("applicant")
def rate(case_no: str):
    kind = request.form.get("kind", ratings.RATING)
    try:
        rated = ratings.rate(get_db(), case_no, current_user.actor, _int(request.form.get("visit")),
                             _int(request.form.get("score")), kind,
                             {aspect: _int(request.form.get(f"sub-{aspect}")) for aspect in ratings.ASPECTS
                              if request.form.get(f"sub-{aspect}")},
                             request.form.get("comment", ""))
    except OnewindowError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
        return _page(case_no, exc.details.get("field_errors", {}), request.form), exc.status
    thanks = _("感谢您的投诉，我们将认真核查。") if kind == ratings.COMPLAINT else _("感谢您的评价。")
    if rated.rectification_case_no:
        thanks += _("已启动整改（整改办件编号 %(no)s），电子监察将回访您。", no=rated.rectification_case_no)
    flash(thanks, "success")
    return redirect(url_for("ratings.rate_page", case_no=case_no))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _page(case_no: str, errors: dict[str, list[str]], typed: Any):
    db = get_db()
    return render_template("ratings/rate.html", case_no=case_no,
                           occasions=ratings.occasions(db, case_no, current_user.actor),
                           given=ratings.of_case(db, case_no), labels=ratings.LABELS, aspects=ratings.ASPECTS,
                           errors=errors, typed=typed)
