"""审计: the auditor's pages — search, CSV export, verification, and a case's printable dossier.

Auditors (and administrators) read everything and change nothing: every route here is a GET (a
test walks the URL map to hold that), and none calls an engine function that changes a case. What
they look at is itself recorded: each view of a case (dossier page or JSON, verification), each
search and export appends a line to `audit_views`, and the dossier shows who looked at the case,
when (S-16: supervision independent of handling).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from engine import auditor, clock, integrity
from engine.auditor import SearchFilters
from engine.errors import OnewindowError

from . import get_db
from .access import roles_required
from .formatting import local_time, status_name, warning_level_name

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ROLES = ("auditor",)  # administrators pass every role check too

CSV_COLUMNS = [("case_no", "办件编号"), ("item_code", "事项编码"), ("item_name", "事项名称"), ("department", "部门"),
               ("version", "流程版本"), ("status_name", "状态"), ("status", "状态代码"),
               ("created_at", "申请时间（北京时间）"), ("closed_at", "办结时间（北京时间）"),
               ("warning_level", "预警级别"), ("warnings", "预警次数"), ("clerks", "经办人")]
WARNING_CHOICES = [("", "全部"), ("any", "有预警"), ("none", "无预警"), ("yellow", "黄牌预警"), ("red", "红牌超时"),
                   ("statutory", "超过法定时限")]
CLOSED_CHOICES = [("", "全部"), ("open", "办理中"), ("closed", "已办结")]


def _username() -> str:
    return current_user.actor.username


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any) -> str:
    """Event data for people: indented, keys sorted, Chinese as it is (the page escapes it)."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


# --- search and export ----------------------------------------------------------------------------


@bp.route("", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def search():
    db = get_db()
    try:
        filters = SearchFilters.from_args(request.args)
    except OnewindowError as exc:
        return _search_page(SearchFilters(), None, exc.message), 400
    page = auditor.search_cases(db, filters, _page_number(), auditor.PER_PAGE)
    if not filters.empty:
        auditor.record_view(db, _username(), None, f"search: {filters.describe()}")
    return _search_page(filters, page, None)


def _search_page(filters: SearchFilters, page, form_error: str | None):
    return render_template("audit/search.html", filters=filters, values=request.args, page=page,
                           options=auditor.filter_options(get_db()), query=filters.to_args(),
                           warning_choices=WARNING_CHOICES, closed_choices=CLOSED_CHOICES, form_error=form_error)


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.route("/export.csv", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def export_csv():
    """The search result as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese), streamed."""
    db = get_db()
    filters = SearchFilters.from_args(request.args)
    auditor.record_view(db, _username(), None, f"export csv: {filters.describe()}")
    stamp = clock.now().astimezone(clock.LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(_csv_lines(auditor.iter_search(db, filters))),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="onewindow-cases-{stamp}.csv"'})


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _, header in CSV_COLUMNS])
    yield "\ufeff" + _drain(buffer)
    for row in rows:
        cells = {**row, "status_name": status_name(row["status"]),
                 "created_at": local_time(row["created_at"], "%Y-%m-%d %H:%M:%S"),
                 "closed_at": local_time(row["closed_at"], "%Y-%m-%d %H:%M:%S"),
                 "warning_level": warning_level_name(row["warning_level"]), "clerks": "、".join(row["clerks"])}
        writer.writerow([csv_cell(cells[key]) for key, _ in CSV_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_cell(value: Any) -> str:
    """A cell that a spreadsheet shows as text: one starting with = + - @ would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- verification ---------------------------------------------------------------------------------


@bp.route("/verify", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def verify():
    """`?case=NO` checks one case, `?all=1` the whole database; without either, the form."""
    db = get_db()
    case_no = request.args.get("case", "").strip()
    verdict = report = None
    if case_no:
        auditor.record_view(db, _username(), case_no, "verify")
        verdict = integrity.verify_case(db, case_no)
    elif request.args.get("all"):
        auditor.record_view(db, _username(), None, "verify all")
        report = integrity.verify_all(db)
    return render_template("audit/verify.html", case_no=case_no, verdict=verdict, report=report,
                           latest=integrity.latest_checkpoint(db))


# --- the dossier ----------------------------------------------------------------------------------


@bp.route("/cases/<case_no>", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def case(case_no: str):
    """The printable dossier (案卷): everything recorded about the case, its verification, who looked."""
    db = get_db()
    auditor.record_view(db, _username(), case_no, "dossier")
    return render_template("audit/dossier.html", d=auditor.dossier(db, case_no, _username()))


@bp.route("/cases/<case_no>.json", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def case_json(case_no: str):
    db = get_db()
    auditor.record_view(db, _username(), case_no, "dossier json")
    body = json.dumps(auditor.dossier(db, case_no, _username()), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="dossier-{case_no}.json"'})


@bp.route("/views", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def views():
    """The auditors' view log, newest first (optionally one user's)."""
    username = request.args.get("user", "").strip() or None
    return render_template("audit/views.html", views=auditor.recent_views(get_db(), username=username),
                           username=username)
