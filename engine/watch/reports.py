"""实时报送 (S-15): the daily and monthly reports, kept as files, and the case feed for a higher-level platform.

**Reports.** A daily report covers one district date, a monthly one a calendar month. Both are made from
the tables alone, for any past period (the figures of a day do not change when it is reported later):
cases received, accepted and closed (by outcome), closed on time, warnings raised, and the open cases at
the period's end, per department and in total; the monthly report adds each window's performance
(`engine.watch.performance`). Each report is kept as HTML (to read and print) and CSV (to load elsewhere) in
the installation's file store (engine/store/files.py), recorded in `report_files` as `daily/2026-02-25.*`
and `monthly/2026-02.*` — not on one replica's disk, so every web replica lists and serves the same reports.
`catch_up` (the scheduler's job) makes yesterday's and last month's reports if they are missing.

**Feed.** `feed(db, after)` gives the case records changed after sequence number `after`. The sequence is
`audit_events.id`: every change to a case appends events, so a case whose row changed has a new, higher id.
A consumer keeps `next_after` and asks again; a case changed twice appears again with its latest state
(consumers upsert by `case_no`). Events younger than `FEED_LAG` are left for the next call, so an id
allocated by a transaction that commits a moment later (PostgreSQL) is not skipped.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from engine.errors import NotFound, OnewindowError
from engine.messages import said
from engine.org.orgtree import level_of, town_of
from engine.store import files
from engine.store.db import Database
from engine.store.tables import audit_events, case_warnings, cases, items, report_files
from engine.time import clock
from engine.time.clock import as_utc, end_of_day, local_text, start_of_day
from engine.watch import performance
from engine.watch.dashboard import window_of
from engine.watch.spreadsheet import safe_row

DAILY, MONTHLY = "daily", "monthly"
KINDS = (DAILY, MONTHLY)
FEED_LAG = timedelta(seconds=5)
FEED_MAX = 500
FEED_SCAN = 5000
OUTCOMES = ("approved", "completed", "refused", "not_accepted", "withdrawn")
COLUMNS = [("department", "部门"), ("received", "收件"), ("accepted", "受理"), ("closed", "办结"),
           ("approved", "准予/办结"), ("refused", "不予办理"), ("withdrawn", "撤回"), ("on_time", "按时办结"),
           ("reminders", "临期提醒"), ("yellow", "黄牌（超期）"), ("red", "红牌（督办逾期或超法定时限）"),
           ("open_at_end", "期末在办")]
# issue 15, item 10: a reminder is counted but is no card; past the statutory limit counts as a red card
_LEVEL_COLUMN = {"reminder": "reminders", "yellow": "yellow", "red": "red", "statutory": "red"}
TOTAL = "合计"


@dataclass
class Report:
    kind: str
    name: str  # 2026-02-25 or 2026-02
    date_from: date
    date_to: date
    made_at: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)  # per department, then the total
    windows: list[dict[str, Any]] = field(default_factory=list)  # monthly: performance per window

    @property
    def title(self) -> str:
        return f"{'日报' if self.kind == DAILY else '月报'} {self.name}"


def period_of(kind: str, day: date) -> tuple[str, date, date]:
    if kind == DAILY:
        return day.isoformat(), day, day
    if kind == MONTHLY:
        first, last = performance.month_period(day)
        return f"{first:%Y-%m}", first, last
    raise OnewindowError(said("报表类型应为 %(kinds)s。", kinds=", ".join(KINDS)))


def build(db: Database, kind: str, day: date) -> Report:
    """The report of `kind` for the period containing `day`, from the tables."""
    name, first, last = period_of(kind, day)
    since, until = start_of_day(first), end_of_day(last)
    report = Report(kind, name, first, last, clock.now())
    with db.reading() as conn:
        report.rows = _department_rows(conn, since, until)
    if kind == MONTHLY:
        report.windows = [m.to_dict() for m in performance.evaluate(db, first, last).windows]
    return report


def _department_rows(conn: Connection, since: datetime, until: datetime) -> list[dict[str, Any]]:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    rows = conn.execute(select(cases.c.id, cases.c.status, cases.c.created_at, cases.c.closed_at,
                               cases.c.clock_started_at, cases.c.clock_stopped_at, cases.c.committed_deadline,
                               items.c.department)
                        .join(items, items.c.id == cases.c.item_id).where(cases.c.created_at < until))
    department_of: dict[int, str] = {}
    for r in rows:
        department_of[r.id] = r.department
        counts = tally[r.department]
        created, closed, started = as_utc(r.created_at), as_utc(r.closed_at), as_utc(r.clock_started_at)
        counts["received"] += since <= created < until
        counts["accepted"] += started is not None and since <= started < until
        counts["open_at_end"] += closed is None or closed >= until
        if closed is not None and since <= closed < until:
            counts["closed"] += 1
            counts[_outcome(r.status)] += 1
            deadline, stopped = as_utc(r.committed_deadline), as_utc(r.clock_stopped_at)
            counts["on_time"] += deadline is not None and stopped is not None and stopped <= deadline
    for case_id, level in conn.execute(select(case_warnings.c.case_id, case_warnings.c.level)
                                       .where(case_warnings.c.raised_at >= since, case_warnings.c.raised_at < until)):
        tally[department_of[case_id]][_LEVEL_COLUMN.get(level, "red")] += 1
    out = [{"department": d, **{k: tally[d][k] for k, _ in COLUMNS[1:]}} for d in sorted(tally)]
    out.append({"department": TOTAL, **{k: sum(tally[d][k] for d in tally) for k, _ in COLUMNS[1:]}})
    return out


def _outcome(status: str) -> str:
    if status in ("refused", "not_accepted"):
        return "refused"
    return "withdrawn" if status == "withdrawn" else "approved"


# --- files ----------------------------------------------------------------------------------------


def write(db: Database, report: Report) -> list[str]:
    """Keep the report's HTML and CSV in the file store, each recorded under its period (a report made again
    replaces the record; two workers making the same report are harmless). Returns `kind/name.suffix`s."""
    made = []
    for suffix, text in (("html", to_html(report)), ("csv", to_csv(report))):
        content = text.encode("utf-8")
        sha256 = files.store(db, content)
        with db.transaction() as conn:
            period = (report_files.c.kind == report.kind, report_files.c.name == report.name,
                      report_files.c.suffix == suffix)
            conn.execute(delete(report_files).where(*period))
            conn.execute(insert(report_files).values(kind=report.kind, name=report.name, suffix=suffix,
                                                     sha256=sha256, size=len(content), made_at=report.made_at))
        made.append(f"{report.kind}/{report.name}.{suffix}")
    return made


def make(db: Database, kind: str, day: date) -> list[str]:
    return write(db, build(db, kind, day))


def catch_up(db: Database, now: datetime | None = None) -> list[str]:
    """The scheduler's job: yesterday's daily and last month's monthly report, if not yet made."""
    today = clock.local_date(now or clock.now())
    yesterday = today - timedelta(days=1)
    last_month = today.replace(day=1) - timedelta(days=1)
    made: list[str] = []
    for kind, day in ((DAILY, yesterday), (MONTHLY, last_month)):
        name, _, _ = period_of(kind, day)
        with db.reading() as conn:
            kept = conn.execute(select(report_files.c.id).where(
                report_files.c.kind == kind, report_files.c.name == name, report_files.c.suffix == "html")).first()
        if kept is None:
            made += make(db, kind, day)
    return made


@dataclass(frozen=True)
class ReportFile:
    kind: str
    name: str
    suffix: str
    size: int
    modified: datetime


def list_files(db: Database) -> list[ReportFile]:
    """The kept report files, newest period first."""
    with db.reading() as conn:
        rows = conn.execute(select(report_files).order_by(report_files.c.kind, report_files.c.name.desc(),
                                                          report_files.c.suffix.desc())).all()
    return [ReportFile(r.kind, r.name, r.suffix, r.size, as_utc(r.made_at).astimezone(clock.LOCAL_TZ)) for r in rows]


def read_file(db: Database, kind: str, filename: str) -> bytes:
    """A kept report file's bytes (hash re-checked), refusing anything but `<period>.html|csv` of a known kind."""
    stem, _, suffix = filename.rpartition(".")
    if kind not in KINDS or suffix not in ("html", "csv") or not stem or not all(c.isdigit() or c == "-" for c in stem):
        raise NotFound(said("没有这个报表文件。"))
    with db.reading() as conn:
        sha256 = conn.execute(select(report_files.c.sha256).where(
            report_files.c.kind == kind, report_files.c.name == stem, report_files.c.suffix == suffix)).scalar()
    if sha256 is None:
        raise NotFound(said("没有这个报表文件。"))
    return files.fetch(db, sha256)


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([report.title, f"{report.date_from}—{report.date_to}", f"生成于 {local_text(report.made_at)}"])
    writer.writerow([label for _, label in COLUMNS])
    for row in report.rows:
        writer.writerow(safe_row(row[key] for key, _ in COLUMNS))
    if report.windows:
        writer.writerow([])
        writer.writerow(WINDOW_HEADERS)
        writer.writerows(safe_row(_window_cells(w)) for w in report.windows)
    return "\ufeff" + buffer.getvalue()


def to_html(report: Report) -> str:
    """A standalone page (inline styles only, no script), to open from the folder or print."""
    e = html.escape
    head = "".join(f"<th>{e(label)}</th>" for _, label in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{e(str(row[key]))}</td>" for key, _ in COLUMNS) + "</tr>"
                   for row in report.rows)
    windows = ""
    if report.windows:
        lines = "".join("<tr>" + "".join(f"<td>{e(str(cell))}</td>" for cell in _window_cells(w)) + "</tr>"
                        for w in report.windows)
        windows = ("<h2>窗口绩效</h2><table><tr>" + "".join(f"<th>{h}</th>" for h in WINDOW_HEADERS) + "</tr>"
                   f"{lines}</table>")
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{e(report.title)}</title><style>body{{font-family:sans-serif;margin:24px}}"
            "table{border-collapse:collapse;margin-bottom:18px}td,th{border:1px solid #ccc;padding:4px 8px;"
            "text-align:right}td:first-child,th:first-child{text-align:left}tr:last-child td{font-weight:bold}"
            "</style></head><body>"
            f"<h1>区政务服务中心 电子监察{e(report.title)}</h1>"
            f"<p>统计期间：{report.date_from} 至 {report.date_to}（北京时间）；"
            f"生成于 {local_text(report.made_at)}。</p>"
            f"<h2>按部门</h2><table><tr>{head}</tr>{body}</table>{windows}</body></html>")


WINDOW_HEADERS = ["窗口", "办结", "按时办结率", "提前办结率", "平均办理工作日", "黄牌", "红牌", "平均评分", "考核得分"]


def _window_cells(w: dict[str, Any]) -> list[Any]:
    return [w["label"], w["handled"], _rate(w["on_time_rate"]), _rate(w["early_rate"]),
            _blank(w["average_working_days"]), w["yellow_cards"], w["red_cards"], _blank(w["rating_average"]),
            _blank(w["score"])]


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _blank(value: Any) -> Any:
    """An empty cell for a missing figure; a figure stays a number (a negative score is no formula)."""
    return "" if value is None else value


# --- the feed -------------------------------------------------------------------------------------

FEED_FIELDS: dict[str, str] = {
    "seq": "序号：本记录反映的最后一个审计事件编号；下次以 next_after 续取",
    "case_no": "办件编号", "item_code": "事项编码", "item_name": "事项名称", "department": "实施部门",
    "status": "办件状态（submitted, accepted, in_progress, awaiting_supplement, approved, refused, not_accepted, "
              "withdrawn, completed）",
    "window": "收件窗口（组织机构单位代码；未记录时为部门区级窗口）", "level": "收件层级：village / town / district",
    "town": "所属镇（区级窗口为 null）", "applicant_name": "申请人姓名",
    "created_at": "申请时间（UTC，ISO 8601）", "accepted_at": "受理时间（开始计时）", "closed_at": "办结时间",
    "committed_days": "承诺时限（工作日）", "statutory_days": "法定时限（工作日）",
    "committed_deadline": "承诺期限（该日 24:00，UTC）", "statutory_deadline": "法定期限（UTC）",
    "warning_level": "预警级别：none / reminder / yellow / red / statutory", "updated_at": "最后变更时间",
}


def feed(db: Database, after: int = 0, limit: int = 100, now: datetime | None = None) -> dict[str, Any]:
    """Case records changed after event `after`, oldest change first; see the module docstring."""
    if after < 0 or not 1 <= limit <= FEED_MAX:
        raise OnewindowError(said("after 须为非负整数，limit 须在 1—%(feed_max)s 之间。", feed_max=FEED_MAX))
    settled = (now or clock.now()) - FEED_LAG
    with db.reading() as conn:
        events = conn.execute(select(audit_events.c.id, audit_events.c.case_id)
                              .where(audit_events.c.id > after, audit_events.c.at <= settled)
                              .order_by(audit_events.c.id).limit(FEED_SCAN)).all()
        latest: dict[int, int] = {}
        next_after = after
        for event_id, case_id in events:
            if case_id not in latest and len(latest) == limit:
                break
            latest[case_id] = event_id
            next_after = event_id
        rows = conn.execute(select(cases, items.c.code.label("item_code"), items.c.name.label("item_name"),
                                   items.c.department).join(items, items.c.id == cases.c.item_id)
                            .where(cases.c.id.in_(list(latest)))).all() if latest else []
        newest = conn.execute(select(func.max(audit_events.c.id))).scalar_one() or 0
    records = sorted((_record(r, latest[r.id]) for r in rows), key=lambda record: record["seq"])
    return {"records": records, "next_after": next_after, "more": next_after < newest}


def _record(row: Any, seq: int) -> dict[str, Any]:
    window = window_of(row.unit_code, row.department)
    iso = lambda moment: None if moment is None else as_utc(moment).isoformat()  # noqa: E731
    return {"seq": seq, "case_no": row.case_no, "item_code": row.item_code, "item_name": row.item_name,
            "department": row.department, "status": row.status, "window": window, "level": level_of(window),
            "town": town_of(window), "applicant_name": row.applicant_name, "created_at": iso(row.created_at),
            "accepted_at": iso(row.clock_started_at), "closed_at": iso(row.closed_at),
            "committed_days": row.committed_days, "statutory_days": row.statutory_days,
            "committed_deadline": iso(row.committed_deadline), "statutory_deadline": iso(row.statutory_deadline),
            "warning_level": row.warning_level, "updated_at": iso(row.updated_at)}
