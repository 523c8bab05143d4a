"""电子监察: the supervisors' pages — the live dashboard, the warnings list with the supervisor's actions
(acknowledge, chase, open an exception case), performance with its charts and exports, and the kept reports.

Supervisors see everything and handle no case (管办分离, S-16): every page is a GET except the three
actions, each a POST form (CSRF) that makes one engine call in `engine.watch.supervision`, which records it in
the case's own audit chain. Pages are server-rendered and complete without JavaScript; the dashboard's
script only polls `dashboard.json` every few seconds and puts the new numbers in place, and the
performance page's script draws the ECharts charts (served from node_modules through /vendor).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.errors import OnewindowError
from engine.messages import speak
from engine.runtime import incidents
from engine.time import clock
from engine.watch import dashboard, performance, ratings, reports, supervision, watchlist, watchsettings
from engine.watch.spreadsheet import safe_row
from engine.watch.supervision import WarningFilter

from . import viewlog
from .access import roles_required
from .db import get_db
from .downloads import csv_download, csv_file
from .formatting import STATUS_NAMES, WARNING_KINDS, WARNING_LEVELS, group_label, warning_kind_name, warning_level_name
from .vendor import echarts_available

bp = Blueprint("watch", __name__, url_prefix="/watch")

WATCH_ROLES = ("supervisor",)  # administrators pass every role check too
POLL_SECONDS = 5
LEVEL_NAMES = {"village": _l("村便民服务室"), "town": _l("镇便民服务中心"), "district": _l("区级窗口")}
LEVEL_CHOICES = [("", _l("全部")),
                 *((level, WARNING_LEVELS[level]) for level in ("reminder", "yellow", "red", "statutory"))]
KIND_CHOICES = [("", _l("全部")), *WARNING_KINDS.items()]
STATE_CHOICES = [("open", _l("未确认")), ("acknowledged", _l("已确认")), ("all", _l("全部"))]
# engine/watch/watchlist.py SCOPE_NAMES as the web shows them (tests/test_translations.py: the same in Chinese)
SCOPE_NAMES = {watchlist.APPLICANTS: _l("群众和企业办件"), watchlist.SUPERVISION: _l("监察办件（异常处理、整改）")}
PERFORMANCE_COLUMNS = [
    ("label", _l("名称")), ("key", _l("代码")), ("handled", _l("办结件数")), ("on_time_rate", _l("按时办结率")),
    ("early_rate", _l("提前办结率")), ("average_working_days", _l("平均办理工作日")), ("steps", _l("办理环节数")),
    ("returns", _l("退回次数")), ("supplements", _l("补正次数")), ("reminders", _l("临期提醒")),
    ("warnings", _l("亮牌次数")), ("yellow_cards", _l("黄牌")), ("red_cards", _l("红牌")),
    ("statutory_cards", _l("超法定时限")), ("rating_count", _l("评价数")), ("rating_average", _l("平均评分")),
    ("score", _l("考核得分")),
]


# --- the dashboard --------------------------------------------------------------------------------


@bp.route("", methods=["GET"])
@roles_required(*WATCH_ROLES)
def index():
    return render_template("watch/dashboard.html", d=dashboard.dashboard(get_db()),
                           poll_seconds=current_app.config.get("WATCH_POLL_SECONDS", POLL_SECONDS),
                           status_names=STATUS_NAMES, level_names=LEVEL_NAMES)


@bp.route("/dashboard.json", methods=["GET"])
@roles_required(*WATCH_ROLES)
def dashboard_json():
    """The same figures for the page's live refresh (short polling works behind any proxy)."""
    response = jsonify(dashboard.dashboard(get_db()).to_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


# --- warnings and the supervisor's actions --------------------------------------------------------


@bp.route("/warnings", methods=["GET"])
@roles_required(*WATCH_ROLES)
def warnings():
    """Warnings one row per case and level, then the stalled cases and incidents — applicants' cases and the
    supervisors' own (SUP-…) in tables of their own."""
    filters = WarningFilter(level=_choice("level", LEVEL_CHOICES), kind=_choice("kind", KIND_CHOICES),
                            state=_choice("state", STATE_CHOICES) or "open")
    return render_template("watch/warnings.html", rows=watchlist.warning_rows(get_db(), filters),
                           stalled=watchlist.stalled_cases(get_db()), scopes=SCOPE_NAMES,
                           values=request.args, level_choices=LEVEL_CHOICES, kind_choices=KIND_CHOICES,
                           state_choices=STATE_CHOICES, state=filters.state)


def _choice(name: str, choices: list[tuple[str, str]]) -> str | None:
    value = request.args.get(name, "")
    return value if value and value in {v for v, _label in choices} else None


@bp.route("/warnings/<int:warning_id>/acknowledge", methods=["POST"])
@roles_required(*WATCH_ROLES)
def acknowledge(warning_id: int):
    return _act(lambda: supervision.acknowledge_warning(get_db(), warning_id, current_user.actor, _note()),
                lambda case: _("已确认办件 %(case_no)s 的预警。", case_no=case))


@bp.route("/warnings/acknowledge", methods=["POST"])
@roles_required(*WATCH_ROLES)
def acknowledge_many():
    """批量确认: the ticked rows (each names its warnings, "12,13"), one engine call per warning."""
    try:
        ids = _warning_ids(request.form.getlist("warnings"))
        result = supervision.acknowledge_many(get_db(), ids, current_user.actor, _note())
    except OnewindowError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
        return redirect(_back())
    if result.acknowledged:
        flash(_("已确认办件 %(cases)s 的预警。", cases="、".join(result.acknowledged)), "success")
    for case_no, why in result.failed:
        flash(_("办件 %(case)s 的预警未能确认：%(why)s", case=speak(case_no), why=speak(why)), "error")
    return redirect(_back())


def _warning_ids(values: list[str]) -> list[int]:
    """The ticked rows' warning numbers; anything but numbers is a tampered form, said plainly."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            if not part.strip().isdigit() or len(part.strip()) > 12:
                raise OnewindowError(_("所选预警无效；请刷新预警列表后重新勾选。"))
            ids.append(int(part))
    return ids


@bp.route("/cases/<case_no>/chase", methods=["POST"])
@roles_required(*WATCH_ROLES)
def chase(case_no: str):
    return _act(lambda: supervision.chase_case(get_db(), case_no, current_user.actor, _note()),
                lambda recipients: _("已督办办件 %(no)s，已通知：%(who)s。", no=case_no, who=_addressees(recipients)))


def _addressees(recipients: list[str]) -> str:
    """Whom a chase reached, as people say it: the groups and people by name, never `group:…`."""
    people = viewlog.names(get_db(), [r.partition(":")[2] for r in recipients if r.startswith("user:")])
    return _("、").join(viewlog.recipient(r, people, group_label) for r in recipients)


@bp.route("/cases/<case_no>/exception", methods=["POST"])
@roles_required(*WATCH_ROLES)
def exception(case_no: str):
    return _act(lambda: supervision.open_exception(get_db(), case_no, current_user.actor, _note()),
                lambda opened: _("已就办件 %(case_no)s 发起异常处理，异常处理办件编号 %(opened)s。", case_no=case_no,
                                 opened=opened))


def _note() -> str:
    return request.form.get("note", "")


def _act(run: Callable[[], Any], done: Callable[[Any], str]):
    """Run one supervisor's action; say what happened (or why not) on the page the form came from."""
    try:
        result = run()
    except OnewindowError as exc:
        if exc.status == 403:
            raise
        flash(exc.message, "error")
    else:
        flash(done(result), "success")
    return redirect(_back())


def _back() -> str:
    """Back to the watch or case page the form was on (only such a path: never an open redirect)."""
    target = request.form.get("back", "")
    return target if target.startswith(("/watch", "/cases/")) and "//" not in target else url_for("watch.warnings")


# --- incidents (异常办件): cases stalled or failing in the scheduler ----------------------------------


@bp.route("/incidents", methods=["GET"])
@roles_required(*WATCH_ROLES)
def incidents_page():
    return render_template("watch/incidents.html", rows=incidents.open_incidents(get_db()),
                           max_attempts=incidents.MAX_ATTEMPTS)


@bp.route("/incidents/<int:incident_id>/retry", methods=["POST"])
@roles_required("admin")
def retry_incident(incident_id: int):
    """Operators (admin) only: a retry re-executes the case, which a supervisor never does (S-16)."""
    return _act(lambda: incidents.retry(get_db(), incident_id, current_user.actor), speak)


@bp.route("/incidents/<int:incident_id>/resolve", methods=["POST"])
@roles_required("admin")
def resolve_incident(incident_id: int):
    return _act(lambda: incidents.resolve(get_db(), incident_id, current_user.actor, _note()), speak)


# --- performance ----------------------------------------------------------------------------------


@bp.route("/performance", methods=["GET"])
@roles_required(*WATCH_ROLES)
def performance_page():
    try:
        date_from, date_to = _period()
        report = performance.evaluate(get_db(), date_from, date_to)
    except OnewindowError as exc:
        flash(exc.message, "error")
        date_from, date_to = performance.month_period(clock.local_date())
        report = performance.evaluate(get_db(), date_from, date_to)
    return render_template("watch/performance.html", report=report, columns=PERFORMANCE_COLUMNS,
                           query={"from": date_from.isoformat(), "to": date_to.isoformat()},
                           chart=_chart_data(report), show_charts=echarts_available())


@bp.route("/performance.csv", methods=["GET"])
@roles_required(*WATCH_ROLES)
def performance_csv():
    report = performance.evaluate(get_db(), *_period())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title, rows in _tables(report):
        writer.writerow([title])
        writer.writerow([str(header) for _key, header in PERFORMANCE_COLUMNS])
        for row in rows:
            writer.writerow(safe_row(_cell(row, key) for key, _header in PERFORMANCE_COLUMNS))
        writer.writerow([])
    return csv_download([buffer.getvalue()], f"{_file_name(report)}.csv")


@bp.route("/performance.xlsx", methods=["GET"])
@roles_required(*WATCH_ROLES)
def performance_xlsx():
    from openpyxl import Workbook

    report = performance.evaluate(get_db(), *_period())
    book = Workbook()
    book.remove(book.active)
    for title, rows in _tables(report):
        sheet = book.create_sheet(title)
        sheet.append([str(header) for _key, header in PERFORMANCE_COLUMNS])
        for row in rows:
            sheet.append(safe_row(_cell(row, key) for key, _header in PERFORMANCE_COLUMNS))
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_file_name(report)}.xlsx"'})


def _period() -> tuple[date, date]:
    """`?month=2026-02`, or `?from=…&to=…` (local dates), else the current month."""
    month = request.args.get("month", "")
    try:
        if month:
            return performance.month_period(date.fromisoformat(month + "-01"))
        if request.args.get("from") or request.args.get("to"):
            return date.fromisoformat(request.args.get("from", "")), date.fromisoformat(request.args.get("to", ""))
    except ValueError as exc:
        raise OnewindowError(_("日期格式应为 YYYY-MM-DD（月份为 YYYY-MM）。")) from exc
    return performance.month_period(clock.local_date())


def _tables(report: performance.Performance) -> list[tuple[str, list[performance.Metrics]]]:
    return [(_("窗口"), report.windows), (_("人员"), report.people)]


def _cell(row: performance.Metrics, key: str) -> Any:
    value = getattr(row, key)
    return round(value * 100, 1) if key.endswith("_rate") and value is not None else value


def _file_name(report: performance.Performance) -> str:
    return f"performance-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}"


def _chart_data(report: performance.Performance) -> dict[str, Any]:
    """What the charts draw, handed to the page as JSON in a data attribute (no inline script: CSP)."""
    windows = report.windows[:20]
    return {"labels": [m.label for m in windows],
            "on_time": [_percent(m.on_time_rate) for m in windows],
            "early": [_percent(m.early_rate) for m in windows],
            "score": [m.score for m in windows],
            "handled": [m.handled for m in windows]}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


# --- reports (实时报送) ------------------------------------------------------------------------------


@bp.route("/reports", methods=["GET"])
@roles_required(*WATCH_ROLES)
def reports_page():
    """The kept daily and monthly reports (the scheduler writes them; `onewindow report` by hand)."""
    return render_template("watch/reports.html", files=reports.list_files(get_db()))


@bp.route("/reports/<kind>/<filename>", methods=["GET"])
@roles_required(*WATCH_ROLES)
def report_file(kind: str, filename: str):
    content = reports.read_file(get_db(), kind, filename)
    if filename.endswith(".csv"):
        return csv_file(content, filename)
    return send_file(io.BytesIO(content), as_attachment=True, download_name=filename, mimetype="text/html")


# --- the administrator's weights ------------------------------------------------------------------


@bp.route("/weights", methods=["GET", "POST"])
@roles_required("admin")
def weights():
    """考核权重: an administrator sets the monthly score's weights (defaults in engine.watch.performance)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = performance.weights(get_db())
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in performance.DEFAULT_WEIGHTS}
        try:
            performance.set_weights(get_db(), values, current_user.actor)
        except OnewindowError as exc:
            errors = exc.details.get("field_errors", {})
            flash(exc.message, "error")
        else:
            flash(_("考核权重已保存。"), "success")
            return redirect(url_for("watch.weights"))
    return render_template("watch/weights.html", values=values, errors=errors, labels=performance.WEIGHT_LABELS,
                           defaults=performance.DEFAULT_WEIGHTS, rectify_days=ratings.rectify_days(get_db()),
                           default_rectify_days=ratings.DEFAULT_RECTIFY_DAYS,
                           chase_days=watchsettings.chase_days_of(get_db()),
                           default_chase_days=watchsettings.DEFAULT_CHASE_DAYS), (422 if errors else 200)


@bp.route("/chase-days", methods=["POST"])
@roles_required("admin")
def chase_days():
    """督办限期: the working days a chased overdue case has before a red card (engine.watch.watchsettings)."""
    return _set_days(watchsettings.set_chase_days, "chase_days",
                     lambda days: _("督办限期已设为 %(n)s 个工作日（此后的督办适用）。", n=days))


@bp.route("/rectify-days", methods=["POST"])
@roles_required("admin")
def rectify_days():
    """整改期限: the working days a window has to put a bad rating or a complaint right (engine.watch.ratings)."""
    return _set_days(ratings.set_rectify_days, "rectify_days",
                     lambda days: _("整改期限已设为 %(n)s 个工作日（此后发起的整改适用）。", n=days))


def _set_days(setter: Callable[..., int], field: str, done: Callable[[int], str]):
    """One administrator's setting of a number of working days: the engine checks and saves it, the page says."""
    try:
        days = setter(get_db(), request.form.get(field), current_user.actor)
    except OnewindowError as exc:
        flash(exc.message, "error")
    else:
        flash(done(days), "success")
    return redirect(url_for("watch.weights"))


@bp.app_template_filter("percent")
def percent_filter(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@bp.app_template_global("incident_names")
def incident_names(rows: list[incidents.Incident]) -> dict[str, dict[Any, str]]:
    """The incidents table's steps and people by name (the watch's page and the case page share the table)."""
    return watchlist.incident_names(get_db(), rows)


@bp.app_template_filter("warning_label")
def warning_label(row: dict[str, Any]) -> str:
    return f"{warning_level_name(row['level'])}·{warning_kind_name(row['kind'])}"
