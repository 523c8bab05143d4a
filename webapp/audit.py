"""审计: the auditor's pages — search, CSV export, verification, a case's printable dossier, and the
replay of a case (its re-execution, step by step, on its own diagram).

Auditors (and administrators) read everything and change nothing: every route here is a GET (a
test walks the URL map to hold that), and none calls an engine function that changes a case (the
replay re-executes in a scratch in-memory database, see `engine.audit.replay`). What they look at is
itself recorded: each view of a case (dossier page or JSON, verification, replay), each search and
export appends a line to `audit_views`, and the dossier shows who looked at the case, when (S-16:
supervision independent of handling).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.audit import auditor, checkpoints
from engine.audit.auditor import SearchFilters
from engine.audit.replay import replay_case
from engine.audit.verify import verify_all, verify_case
from engine.errors import OnewindowError
from engine.reads import casesearch, queries, story
from engine.time import clock
from engine.watch.spreadsheet import safe_row

from . import viewlog
from .access import roles_required
from .db import get_db
from .downloads import csv_download
from .formatting import (
    WARNING_LEVELS,
    group_label,
    local_time,
    status_name,
    warning_level_name,
)
from .inputs import db_int
from .replayview import INPUT_NAMES, NONE_SHOWN, replay_steps
from .vendor import bpmn_js_available

bp = Blueprint("audit", __name__, url_prefix="/audit")

AUDIT_ROLES = ("auditor",)  # administrators pass every role check too

CSV_COLUMNS = [("case_no", _l("办件编号")), ("item_code", _l("事项编码")), ("item_name", _l("事项名称")),
               ("department", _l("部门")), ("version", _l("流程版本")), ("status_name", _l("状态")),
               ("status", _l("状态代码")), ("created_at", _l("申请时间（北京时间）")),
               ("closed_at", _l("办结时间（北京时间）")), ("warning_level", _l("预警级别")),
               ("warnings", _l("预警次数")), ("clerks", _l("经办人"))]
WARNING_CHOICES = [("", _l("全部")), ("any", _l("有预警")), ("none", _l("无预警")),
                   *((level, WARNING_LEVELS[level]) for level in ("reminder", "yellow", "red", "statutory"))]
CLOSED_CHOICES = [("", _l("全部")), ("open", _l("办理中")), ("closed", _l("已办结"))]


def _username() -> str:
    return current_user.actor.username


@bp.app_template_filter("filesize")
def filesize(size: int | None) -> str:
    """Bytes as people read a file's size: 812 字节, 45.3 KB, 2.1 MB."""
    if size is None:
        return "—"
    if size < 1024:
        return _("%(n)s 字节", n=size)
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


@bp.app_template_filter("masked")
def masked_filter(value: Any, key: str = "") -> Any:
    return viewlog.masked(value, key)


# --- search and export ----------------------------------------------------------------------------


@bp.route("", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def search():
    """The auditor's search: by item, department, date, status, clerk and warning; or, when a person or a case
    number is asked for (name, ID number, phone, case number), by the desk's one search (engine/reads/casesearch),
    with item, status and dates alike. Every search is logged."""
    db = get_db()
    person = casesearch.CaseQuery.from_args(request.args)
    if any((person.case_no, person.name, person.id_number, person.phone)):
        found = casesearch.search_cases(db, current_user.actor, person, _page_number(), auditor.PER_PAGE)
        auditor.record_view(db, _username(), None, "search: " + " ".join(
            f"{key}={value}" for key, value in person.to_args().items()))
        return _search_page(SearchFilters(), None, None, found=found, person=person)
    try:
        filters = SearchFilters.from_args(request.args)
    except OnewindowError as exc:
        return _search_page(SearchFilters(), None, exc.message), 400
    page = auditor.search_cases(db, filters, _page_number(), auditor.PER_PAGE)
    if not filters.empty:
        auditor.record_view(db, _username(), None, f"search: {filters.describe()}")
    return _search_page(filters, page, None)


def _search_page(filters: SearchFilters, page, form_error: str | None, found=None, person=None):
    return render_template("audit/search.html", filters=filters, values=request.args, page=page,
                           options=auditor.filter_options(get_db()), query=filters.to_args(),
                           warning_choices=WARNING_CHOICES, closed_choices=CLOSED_CHOICES, form_error=form_error,
                           found=found, person_args=person.to_args() if person else {})


def _page_number() -> int:
    try:
        return max(1, db_int(int(request.args.get("page", "1")), _("页码")))
    except ValueError:
        return 1


@bp.route("/export.csv", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def export_csv():
    """The search result as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese), streamed."""
    db = get_db()
    filters = SearchFilters.from_args(request.args)
    auditor.record_view(db, _username(), None, f"export csv: {filters.describe()}")
    stamp = clock.local_text(clock.now(), "%Y%m%d-%H%M")
    return csv_download(_csv_lines(auditor.iter_search(db, filters)), f"onewindow-cases-{stamp}.csv", stream=True)


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(header) for _key, header in CSV_COLUMNS])
    yield _drain(buffer)
    for row in rows:
        cells = {**row, "status_name": status_name(row["status"]),
                 "created_at": local_time(row["created_at"], "%Y-%m-%d %H:%M:%S"),
                 "closed_at": local_time(row["closed_at"], "%Y-%m-%d %H:%M:%S"),
                 "warning_level": warning_level_name(row["warning_level"]), "clerks": _("、").join(row["clerks"])}
        writer.writerow(safe_row(cells[key] for key, _header in CSV_COLUMNS))
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


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
        verdict = verify_case(db, case_no)
    elif request.args.get("all"):
        auditor.record_view(db, _username(), None, "verify all")
        report = verify_all(db)
    return render_template("audit/verify.html", case_no=case_no, verdict=verdict, report=report,
                           latest=checkpoints.latest_checkpoint(db))


# --- the dossier ----------------------------------------------------------------------------------


@bp.route("/cases/<case_no>", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def case(case_no: str):
    """The printable dossier (案卷): everything recorded about the case, its verification, who looked."""
    db = get_db()
    auditor.record_view(db, _username(), case_no, "dossier")
    d = auditor.dossier(db, case_no, _username())
    people = {**d["names"]["people"], **viewlog.names(
        db, [d["version"].get("deployed_by"), d.get("generated_by"), *(v["username"] for v in d["views"])])}
    # The page reads like the case page (fields by title, the engine's data by label, numbers masked); the
    # exact recorded data, keys and all, is the JSON download's.
    shown = [{**e, "data": viewlog.masked(e["data"])} for e in d["events"]]
    return render_template("audit/dossier.html", d=d, describe_view=viewlog.describe,
                           shown_events=shown, story_names=story.story_names(db, case_no, d["events"]),
                           people=people,
                           recipient=lambda value: viewlog.recipient(value, people, group_label),
                           notification_kinds=viewlog.NOTIFICATION_KINDS)


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
    found = auditor.recent_views(get_db(), username=username)
    return render_template("audit/views.html", views=[{**v, "what": viewlog.describe(v["what"])} for v in found],
                           names=viewlog.names(get_db(), [username, *(v["username"] for v in found)]),
                           username=username)


# --- the replay (重放): the case re-executed step by step on its own diagram ----------------------

@bp.route("/cases/<case_no>/replay", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def replay(case_no: str):
    """The replay page: the case's diagram, the timeline of its changes, one step selected (`?step=N`,
    1-based; the first without it). Without JavaScript everything but the diagram works: the
    selected step's highlighted elements are listed as text, previous/next are links."""
    db = get_db()
    auditor.record_view(db, _username(), case_no, "replay")
    report = replay_case(db, case_no)
    elements = queries.case_elements(db, case_no)
    recorded = [event for step in report.steps for event in step.recorded]  # the history the replay read
    steps = replay_steps(report, elements, story.story_names(db, case_no, recorded))
    current = _step_number(len(steps))
    diverged_at = steps[-1]["number"] if steps and not steps[-1]["identical"] else None
    return render_template("audit/replay.html", report=report, steps=steps, current=current,
                           case=queries.case_detail(db, case_no), diverged_at=diverged_at,
                           input_names=INPUT_NAMES, none_shown=NONE_SHOWN, show_diagram=bpmn_js_available())


@bp.route("/cases/<case_no>/replay.json", methods=["GET"])
@roles_required(*AUDIT_ROLES)
def replay_json(case_no: str):
    """The same replay as JSON: the report, each step with its title, tokens, completions, data diff."""
    db = get_db()
    auditor.record_view(db, _username(), case_no, "replay json")
    report = replay_case(db, case_no)
    elements = queries.case_elements(db, case_no)
    body = {**report.to_dict(), "elements": {key: value["name"] for key, value in elements.items() if value["name"]},
            "steps": [{key: value for key, value in step.items() if key not in _VIEW_ONLY}
                      for step in replay_steps(report, elements)]}
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json")


_VIEW_ONLY = ("events", "produced_events", "diff", "names", "actor_name")


def _step_number(count: int) -> int:
    try:
        wanted = int(request.args.get("step", "1"))
    except ValueError:
        wanted = 1
    return min(max(wanted, 1), max(count, 1))
