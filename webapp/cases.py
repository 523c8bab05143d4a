"""办件详情: a case's status, open tasks, timers and audit history; and a look-up by case number.

Who sees a case is the engine's one rule (`engine.runtime.caseaccess`): staff it concerns see it with the data
of each step; its applicant sees the steps but not the departments' internal data.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.audit import auditor
from engine.reads import casesearch, queries, story
from engine.runtime import incidents, intake
from engine.runtime.caseaccess import STAFF_ROLES

from .access import require_case_access, roles_required
from .db import get_db
from .formatting import STATUS_NAMES
from .vendor import bpmn_js_available

bp = Blueprint("cases", __name__, url_prefix="/cases")

DONE_EVENTS = frozenset({"task_completed", "step_completed"})
CASE_NO_DIGITS = 14  # a whole case number (受理回执上的 14 位数字): opened at once, not searched
PER_PAGE = 20


@bp.route("", methods=["GET"])
@roles_required()
def lookup():
    """办件查询: a whole case number opens the case; anything else searches (engine/reads/casesearch), showing
    only the cases that concern this person."""
    query = casesearch.CaseQuery.from_args(request.args)
    only_number = query.case_no and query == casesearch.CaseQuery(case_no=query.case_no)
    if only_number and len(query.case_no) >= CASE_NO_DIGITS:
        return redirect(url_for("cases.case", case_no=query.case_no))
    if "no" in request.args and query.empty:
        flash(_("请输入办件编号，或申请人姓名、身份证号码、联系电话等查询条件。"), "error")
    page = casesearch.search_cases(get_db(), current_user.actor, query, _page_arg(), PER_PAGE)
    return render_template("cases/lookup.html", query=query, args=query.to_args(), found=page,
                           searched=not query.empty, items=queries.list_items(get_db()), statuses=STATUS_NAMES)


def _page_arg() -> int:
    try:
        return min(max(1, int(request.args.get("page") or 1)), 10_000)
    except ValueError:
        return 1


@bp.route("/<case_no>", methods=["GET"])
@roles_required()
def case(case_no: str):
    db = get_db()
    actor = current_user.actor
    require_case_access(actor, case_no)
    history = story.case_story(db, case_no)
    if "auditor" in actor.roles:  # auditors' views of cases are themselves logged (S-16)
        auditor.record_view(db, actor.username, case_no, "case page")
    detail = queries.case_detail(db, case_no)
    open_now = {t["element_id"] for t in detail["open_tasks"]}  # a step done once and open again is current
    done = sorted({e["element_id"] for e in history if e["element_id"] and e["type"] in DONE_EVENTS} - open_now)
    show_data = actor.is_admin or bool(actor.roles & STAFF_ROLES)
    return render_template("cases/case.html", case=detail, history=history, names=history[0]["names"] if history
                           else story.StoryNames(),
                           intake=intake.case_intake(db, case_no, history), show_data=show_data,
                           show_diagram=bpmn_js_available(), done_elements=done,
                           incidents=incidents.of_case(db, case_no) if show_data else [])


@bp.route("/<case_no>/diagram.bpmn", methods=["GET"])
@roles_required()
def diagram(case_no: str):
    """The diagram of the version this case is pinned to, for the bpmn-js viewer on the case page."""
    require_case_access(current_user.actor, case_no)
    return Response(queries.case_diagram(get_db(), case_no), mimetype="application/xml")
