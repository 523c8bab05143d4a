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
from collections import Counter
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.audit import auditor, checkpoints
from engine.audit.auditor import SearchFilters
from engine.audit.replay import ReplayReport, Step, replay_case
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
    EVENT_NAMES,
    WARNING_LEVELS,
    event_name,
    event_summary,
    group_label,
    local_time,
    procedure_name,
    status_name,
    warning_kind_name,
    warning_level_name,
)
from .inputs import db_int
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

INPUT_NAMES = {**{kind: EVENT_NAMES[kind] for kind in (
    "case_started", "task_completed", "task_claimed", "task_released", "deadline_extended", "case_migrated",
    "special_procedure_started", "special_procedure_ended")}, "tick": _l("计时器（系统）")}
NONE_SHOWN = _l("（无）")  # a key without a value before or after the change
CHOICE_FIELDS = ("decision", "acceptance", "approval", "opinion", "result")  # the answer a title quotes
_TASK_TAGS = ("task", "userTask", "scriptTask", "serviceTask", "manualTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess")


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
    steps = replay_steps(report, elements, story.story_names(db, case_no, queries.case_history(db, case_no)))
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


def replay_steps(report: ReplayReport, elements: dict[str, dict[str, str]],
                 names: story.StoryNames | None = None) -> list[dict[str, Any]]:
    """Each step of the report for people: its number (1-based), a Chinese title, the events labelled (fields
    by title and people by name, with `names`), the data diff shown, and `done_before` — what earlier steps
    completed that is neither open again nor completed again in this step (the diagram's lighter "done" marker)."""
    elements = _named_from_events(report, elements)
    out: list[dict[str, Any]] = []
    earlier: set[str] = set()
    before: set[str] = set()  # open after the previous step
    for step in report.steps:
        view = step.to_dict()
        active, completed = set(step.active_after), set(step.completed)
        done_before = sorted(earlier - active - completed)
        view.update(number=step.index + 1, title=_step_title(step, elements, before), done_before=done_before,
                    completed=list(dict.fromkeys(step.completed)),
                    events=[_event_view(e, elements, names) for e in step.recorded],
                    produced_events=[_event_view(e, elements, names) for e in step.produced],
                    actor_name=names.person(step.actor) if names and step.actor not in (None, "system") else step.actor,
                    diff=[(key, names.any_title(key) if names else key, _shown(old), _shown(new))
                          for key, (old, new) in sorted(step.changed.items())],
                    names={i: _element_name(i, elements)
                           for i in {*step.active_after, *completed, *done_before, step.element_id} if i})
        earlier |= completed
        before = active
        out.append(view)
    return out


def _named_from_events(report: ReplayReport, elements: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Elements of called processes (shared diagrams) are not on the case's diagram: their names come
    from the recorded events that carry one (a completed task or step records its element's name)."""
    named = dict(elements)
    for step in report.steps:
        for event in step.recorded:
            name = (event.get("data") or {}).get("name") if isinstance(event.get("data"), dict) else None
            element_id = event.get("element_id")
            if element_id and isinstance(name, str) and name and not named.get(element_id, {}).get("name"):
                named[element_id] = {"name": name, "kind": "", "attached_to": ""}
    return named


def _element_name(element_id: str | None, elements: dict[str, dict[str, str]], event: dict | None = None) -> str:
    if not element_id:
        return ""
    name = elements.get(element_id, {}).get("name") or ((event or {}).get("data") or {}).get("name") or ""
    return name if name and name != element_id else element_id


def _event_view(event: dict[str, Any], elements: dict[str, dict[str, str]],
                names: story.StoryNames | None = None) -> dict[str, Any]:
    if "error" in event:  # re-execution failed at this step
        return {"label": _("重新执行失败"), "type": "error", "element": "", "actor": "",
                "pairs": [(_("原因"), event["error"])]}
    pairs = [(key, value) for key, value in event_summary(event, names) if value != ""]
    actor = event.get("actor")
    return {"label": event_name(event["type"]), "type": event["type"],
            "element": _element_name(event.get("element_id"), elements, event),
            "actor": names.person(actor) if names and actor and actor != "system" else actor,
            "pairs": pairs}


def _shown(value: Any) -> str:
    if value is None:
        return str(NONE_SHOWN)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _step_title(step: Step, elements: dict[str, dict[str, str]], before: set[str]) -> str:
    """What happened, in Chinese: 提交申请, 办理「受理」：受理, 签收「受理」, 延期 2 个工作日,
    计时触发「…」 → 催办…、进入「…」 (what a timer set off: scripts run, tasks opened — an escalation)."""
    first = step.recorded[0] if step.recorded else {}
    name = _element_name(step.element_id, elements, first)
    data = first.get("data") or {}
    if step.input == "case_started":
        return str(EVENT_NAMES["case_started"])
    if step.input == "task_completed":
        form = data.get("data") or {}
        choice = next((form[k] for k in CHOICE_FIELDS if isinstance(form.get(k), str) and form[k]), None)
        if choice:
            return _("办理「%(step)s」：%(choice)s", step=name, choice=choice)
        return _("办理「%(step)s」", step=name)
    if step.input == "task_claimed":
        return _("签收「%(step)s」", step=name)
    if step.input == "task_released":
        return _("退回组内「%(step)s」", step=name)
    if step.input == "deadline_extended":
        return _("延期 %(n)s 个工作日", n=data.get("days", "?"))
    if step.input == "special_procedure_started":
        return _("特别程序「%(procedure)s」，暂停计时（预计 %(n)s 个工作日）",
                 procedure=procedure_name(data.get("procedure", "?")), n=data.get("days", "?"))
    if step.input == "special_procedure_ended":
        return _("特别程序结束，恢复计时")
    opened = [_element_name(i, elements) for i in step.active_after
              if i not in before and elements.get(i, {}).get("kind") in _TASK_TAGS]
    return _tick_title(step.recorded, elements, opened)


def _tick_title(events: list[dict[str, Any]], elements: dict[str, dict[str, str]], opened: list[str]) -> str:
    """A change the platform made by itself: timers fired (and what they set off), warnings, the clock."""
    parts: list[str] = []
    timers = Counter(_element_name(e["element_id"], elements, e) for e in events if e["type"] == "timer_fired")
    if timers:
        fired = _("计时触发") + "".join(_("「%(name)s」", name=n) + (f"×{c}" if c > 1 else "")
                                        for n, c in timers.items())
        followed = list(dict.fromkeys(_element_name(e["element_id"], elements, e) for e in events
                                      if e["type"] == "step_completed"
                                      and elements.get(e["element_id"] or "", {}).get("kind") in _TASK_TAGS))
        followed += [_("进入「%(step)s」", step=name) for name in opened]
        parts.append(fired + (" → " + _("、").join(followed) if followed else ""))
    warnings = [e["data"] or {} for e in events if e["type"] == "warning_raised"]
    if warnings:
        parts.append(_("时限预警（%(warnings)s）", warnings=_("、").join(
            f"{warning_level_name(w.get('level'))}·{warning_kind_name(w.get('kind'))}" for w in warnings)))
    for kind in ("clock_paused", "clock_resumed", "case_closed"):
        if any(e["type"] == kind for e in events):
            parts.append(event_name(kind))
    for e in events:
        if e["type"] == "status_changed":
            parts.append(_("状态变更：%(old)s → %(new)s", old=status_name((e["data"] or {}).get("old")),
                           new=status_name((e["data"] or {}).get("new"))))
    if not parts:
        kinds = dict.fromkeys(event_name(e["type"]) for e in events)
        parts.append(_("系统处理：%(events)s", events=_("、").join(kinds)))
    return _("；").join(parts)
