"""The auditor's reads: search cases, export a case's dossier, and the log of auditors' own views.

Everything here reads, except `record_view`, which appends to `audit_views` (append-only by
trigger): auditors read everything and change nothing, and what they looked at is itself recorded
(S-16: supervision independent of handling). No function deserializes a workflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Connection, Select, exists, func, insert, select

from engine.audit import casefiles
from engine.audit.verify import verify_case
from engine.errors import NotFound, OnewindowError
from engine.messages import ENUMERATION_COMMA, listed, said, unkept_or
from engine.reads import queries
from engine.store.db import Database
from engine.store.tables import (
    audit_events,
    audit_views,
    case_warnings,
    cases,
    items,
    notifications,
    process_versions,
)
from engine.time import clock
from engine.time.clock import iso_utc, start_of_day
from engine.watch.stepnames import version_names
from engine.watch.watchlist import display_names

PER_PAGE = 50
EXPORT_CHUNK = 500
WARNING_FILTERS = ("any", "none", "yellow", "red", "statutory")
CLOSED_FILTERS = ("open", "closed")
ATTACHMENTS_NOTE = said("附件存于数据库之外的文件库，按 SHA-256 哈希命名；哈希登记在数据库中。"
                        "每次查阅案卷都重新读取文件、重新计算哈希：完好＝与登记一致，已损坏＝内容已被改动，缺失＝文件库中已找不到。")
_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """The auditor's search: every field optional; dates are the district's (Beijing) dates, inclusive."""

    item: str = ""  # item code
    department: str = ""
    date_from: date | None = None  # created on or after
    date_to: date | None = None  # created on or before
    status: str = ""
    clerk: str = ""  # username of anyone who completed a task of the case
    warning: str = ""  # any, none, yellow, red, statutory (ever raised)
    closed: str = ""  # open, closed

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SearchFilters:
        """From a query string; a bad value is an error that says which field and what to write."""
        values = {key: (args.get(key) or "").strip() for key in ("item", "department", "status", "clerk",
                                                                 "warning", "closed", "date_from", "date_to")}
        if values["warning"] and values["warning"] not in WARNING_FILTERS:
            raise OnewindowError(said("预警条件“%(warning)s”无效；可选：%(WARNING_FILTERS)s",
                                      warning=values['warning'],
                                      WARNING_FILTERS=listed(WARNING_FILTERS, ENUMERATION_COMMA)))
        if values["closed"] and values["closed"] not in CLOSED_FILTERS:
            raise OnewindowError(said("办结条件“%(closed)s”无效；可选：open、closed", closed=values['closed']))
        if values["clerk"] and not _USERNAME.match(values["clerk"]):
            raise OnewindowError(said("经办人“%(clerk)s”不是有效的用户名", clerk=values['clerk']))
        dates = {key: _date(values.pop(key), label)
                 for key, label in (("date_from", "起始日期"), ("date_to", "截止日期"))}
        if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
            raise OnewindowError(said("起始日期晚于截止日期；请调换后重新查询"))
        return cls(**values, **dates)

    def to_args(self) -> dict[str, str]:
        """Back to a query string (empty fields left out): for pagination and the CSV link."""
        out = {key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(self).items()}
        return {key: value for key, value in out.items() if value}

    def describe(self) -> str:
        """One line for the view log, e.g. `item=DEMO-001 date_from=2026-03-01`."""
        return " ".join(f"{key}={value}" for key, value in self.to_args().items()) or "(all cases)"

    @property
    def empty(self) -> bool:
        return not self.to_args()


def _date(text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise OnewindowError(said("%(label)s“%(text)s”无效；请写成 2026-03-01 的形式",
                                  label=label, text=text)) from None


def _search_query(filters: SearchFilters) -> Select:
    query = (select(cases.c.id, cases.c.case_no, cases.c.status, cases.c.created_at, cases.c.closed_at,
                    cases.c.warning_level, items.c.code.label("item_code"), items.c.name.label("item_name"),
                    items.c.department, process_versions.c.number.label("version"))
             .join(items, items.c.id == cases.c.item_id)
             .join(process_versions, process_versions.c.id == cases.c.version_id))
    if filters.item:
        query = query.where(items.c.code == filters.item)
    if filters.department:
        query = query.where(items.c.department == filters.department)
    if filters.date_from:
        query = query.where(cases.c.created_at >= start_of_day(filters.date_from))
    if filters.date_to:
        query = query.where(cases.c.created_at < start_of_day(filters.date_to + timedelta(days=1)))
    if filters.status:
        query = query.where(cases.c.status == filters.status)
    if filters.closed == "open":
        query = query.where(cases.c.closed_at.is_(None))
    elif filters.closed == "closed":
        query = query.where(cases.c.closed_at.is_not(None))
    if filters.clerk:
        query = query.where(exists().where(audit_events.c.case_id == cases.c.id,
                                           audit_events.c.type == "task_completed",
                                           audit_events.c.actor == filters.clerk))
    if filters.warning:
        raised = exists().where(case_warnings.c.case_id == cases.c.id)
        if filters.warning == "none":
            query = query.where(~raised)
        elif filters.warning == "any":
            query = query.where(raised)
        else:  # a level: reminder (not a card), yellow, red, statutory (issue 15, item 10)
            query = query.where(exists().where(case_warnings.c.case_id == cases.c.id,
                                               case_warnings.c.level == filters.warning))
    return query


def _ordered(query: Select) -> Select:
    return query.order_by(cases.c.created_at.desc(), cases.c.id.desc())


def _details(conn: Connection, case_ids: list[int]) -> tuple[dict[int, int], dict[int, list[str]]]:
    """Warnings raised and clerks who completed a task, for a page of cases (two queries, not 2n)."""
    if not case_ids:
        return {}, {}
    counts = dict(conn.execute(select(case_warnings.c.case_id, func.count())
                               .where(case_warnings.c.case_id.in_(case_ids))
                               .group_by(case_warnings.c.case_id)).all())
    clerks: dict[int, list[str]] = {}
    for case_id, actor in conn.execute(
            select(audit_events.c.case_id, audit_events.c.actor).distinct()
            .where(audit_events.c.case_id.in_(case_ids), audit_events.c.type == "task_completed")
            .order_by(audit_events.c.case_id, audit_events.c.actor)):
        clerks.setdefault(case_id, []).append(actor)
    return counts, clerks


def _row(row, counts: dict[int, int], clerks: dict[int, list[str]]) -> dict[str, Any]:
    return {"case_no": row.case_no, "item_code": row.item_code, "item_name": row.item_name,
            "department": row.department, "version": row.version, "status": row.status,
            "created_at": iso_utc(row.created_at), "closed_at": iso_utc(row.closed_at),
            "warning_level": row.warning_level, "warnings": counts.get(row.id, 0),
            "clerks": clerks.get(row.id, [])}


@dataclass(frozen=True)
class SearchPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "total": self.total, "page": self.page, "per_page": self.per_page,
                "pages": self.pages}


def search_cases(db: Database, filters: SearchFilters, page: int = 1, per_page: int = PER_PAGE) -> SearchPage:
    """One page of the cases matching `filters`, newest first, with the total count."""
    page = max(1, page)
    query = _search_query(filters)
    with db.reading() as conn:
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(_ordered(query).limit(per_page).offset((page - 1) * per_page)).all()
        counts, clerks = _details(conn, [r.id for r in rows])
    return SearchPage([_row(r, counts, clerks) for r in rows], total, page, per_page)


def iter_search(db: Database, filters: SearchFilters, chunk: int = EXPORT_CHUNK) -> Iterator[dict[str, Any]]:
    """Every case matching `filters` (for the CSV), streamed a chunk at a time."""
    with db.reading() as conn:
        result = conn.execute(_ordered(_search_query(filters)).execution_options(yield_per=chunk))
        for rows in result.partitions():
            counts, clerks = _details(conn, [r.id for r in rows])
            for row in rows:
                yield _row(row, counts, clerks)


def filter_options(db: Database) -> dict[str, list]:
    """What the search form offers: items, departments, statuses in use, and clerks who completed tasks."""
    with db.reading() as conn:
        item_rows = conn.execute(select(items.c.code, items.c.name).order_by(items.c.code)).all()
        departments = conn.execute(select(items.c.department).distinct().order_by(items.c.department)).scalars().all()
        statuses = conn.execute(select(cases.c.status).distinct().order_by(cases.c.status)).scalars().all()
        clerks = conn.execute(select(audit_events.c.actor).distinct().where(audit_events.c.type == "task_completed")
                              .order_by(audit_events.c.actor)).scalars().all()
    return {"items": [(r.code, r.name) for r in item_rows], "departments": list(departments),
            "statuses": list(statuses), "clerks": list(clerks)}


# --- the dossier (案卷) -----------------------------------------------------------------------------


def dossier(db: Database, case_no: str, requested_by: str | None = None) -> dict[str, Any]:
    """Everything recorded about one case, as one JSON-ready document, with its verification.

    case and version, clock and deadlines, every event with its hashes, the decisions (completed
    tasks and their form data), warnings, notifications, receipts, the attachments re-checked against the
    store and the applicant (numbers masked, `casefiles`), the verdict of `verify_case`, and who has looked.
    """
    detail = queries.case_detail(db, case_no)
    events = queries.case_history(db, case_no)
    viewers = case_views(db, case_no)
    with db.reading() as conn:
        row = conn.execute(
            select(cases.c.id, cases.c.audit_seq, cases.c.audit_head, items.c.department, items.c.handling_mode,
                   process_versions.c.content_hash, process_versions.c.process_id, process_versions.c.deployed_by,
                   process_versions.c.deployed_at, cases.c.applicant_id, cases.c.applicant_name, cases.c.version_id)
            .join(items, items.c.id == cases.c.item_id)
            .join(process_versions, process_versions.c.id == cases.c.version_id)
            .where(cases.c.case_no == case_no)).one_or_none()
        if row is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        sent = conn.execute(select(notifications).where(notifications.c.case_id == row.id)
                            .order_by(notifications.c.created_at, notifications.c.id)).all()
        step_names = version_names(conn, [row.version_id]).get(row.version_id, {})
        people = display_names(conn, {e["actor"] for e in events} | {v["username"] for v in viewers}
                               | {w["acknowledged_by"] for w in detail["clock"]["warnings"]})
        people = {who: casefiles.person_shown(name) for who, name in people.items()}
    started = next((e for e in events if e["type"] == "case_started"), None)
    case = {key: detail[key] for key in ("case_no", "item_code", "item_name", "version", "status", "created_at",
                                         "updated_at", "closed_at", "serializer_version", "lock_version")}
    application = ((started or {}).get("data") or {}).get("data") or {}
    person = casefiles.applicant(db, application if isinstance(application, dict) else {}, row.applicant_id,
                                 row.applicant_name)
    case.update(department=row.department, handling_mode=row.handling_mode, applicant=person["name"],
                started_by=started["actor"] if started else None, audit_seq=row.audit_seq,
                audit_head=row.audit_head)
    return {
        "dossier": 1,
        "generated_at": clock.now().astimezone(UTC).isoformat(),
        "generated_by": requested_by,
        "case": case,
        "version": {"number": detail["version"], "content_hash": row.content_hash, "process_id": row.process_id,
                    "deployed_by": row.deployed_by, "deployed_at": iso_utc(row.deployed_at)},
        "clock": detail["clock"],
        "open_tasks": detail["open_tasks"],
        "timers": detail["timers"],
        "events": events,
        "decisions": [{"seq": e["seq"], "at": e["at"], "actor": e["actor"], "element_id": e["element_id"],
                       "name": (e["data"] or {}).get("name"), "data": (e["data"] or {}).get("data", {})}
                      for e in events if e["type"] == "task_completed"],
        "warnings": detail["clock"]["warnings"],
        "notifications": [{"recipient": n.recipient, "kind": n.kind, "element_id": n.element_id,
                           "message": unkept_or(n.said, n.message),
                           "created_at": iso_utc(n.created_at), "read_at": iso_utc(n.read_at)}
                          for n in sent],
        "receipts": [{"kind": "application", "title": said("申请回执"), "case_no": case_no,
                      "item_name": detail["item_name"],
                      "submitted_at": started["at"], "submitted_by": started["actor"],
                      "event_seq": started["seq"], "event_hash": started["hash"]}] if started else [],
        "applicant": person,
        "attachments": casefiles.checked_attachments(db, case_no),
        "attachments_note": ATTACHMENTS_NOTE,
        "verification": verify_case(db, case_no).to_dict(),
        "views": viewers,
        "names": {"steps": {e: step_names[e] for e in sorted({x["element_id"] for x in events if x["element_id"]}
                                                              | {w["element_id"] for w in detail["clock"]["warnings"]
                                                                 if w["element_id"]}) if e in step_names},
                  "people": people},
    }


# --- who looked at what ---------------------------------------------------------------------------


def record_view(db: Database, username: str, case_no: str | None, what: str) -> None:
    """Append one line to the auditors' view log (its own small transaction)."""
    with db.transaction() as conn:
        conn.execute(insert(audit_views).values(at=clock.now().astimezone(UTC), username=username,
                                                case_no=case_no, what=what[:512]))


def case_views(db: Database, case_no: str) -> list[dict[str, Any]]:
    """Who looked at `case_no`, when and how, oldest first."""
    with db.reading() as conn:
        rows = conn.execute(select(audit_views).where(audit_views.c.case_no == case_no)
                            .order_by(audit_views.c.at, audit_views.c.id)).all()
    return [{"at": iso_utc(r.at), "username": r.username, "what": r.what} for r in rows]


def recent_views(db: Database, limit: int = 200, username: str | None = None) -> list[dict[str, Any]]:
    """The view log, newest first (searches have no case number)."""
    query = select(audit_views).order_by(audit_views.c.id.desc()).limit(limit)
    if username:
        query = query.where(audit_views.c.username == username)
    with db.reading() as conn:
        rows = conn.execute(query).all()
    return [{"at": iso_utc(r.at), "username": r.username, "case_no": r.case_no, "what": r.what} for r in rows]
