"""The supervisors' live dashboard (流程监控, S-15): how many cases are where, right now.

A read model only: every number is a plain count over `cases` (joined to `items` for the department),
`case_warnings` or `audit_events` — the same count anyone can make with `SELECT COUNT(*)`, which is
what the tests do. No workflow is deserialized. Level (village / town / district) and town follow from
the code of the window a case came in at (`cases.unit_code`; a case without one came in at its
department's district window), so they are folded in Python from a GROUP BY on that column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from engine.org.orgtree import DISTRICT, department_unit, level_of, town_of
from engine.runtime.change import TERMINAL
from engine.store.db import Database
from engine.store.tables import audit_events, case_warnings, cases, items
from engine.store.tables import incidents as incident_table
from engine.time import clock
from engine.time.clock import end_of_day, start_of_day

REFUSED = ("refused", "not_accepted")
REASON_KEYS = ("reason", "refusal_reason")
SUPPLEMENT_STATUS = "awaiting_supplement"
OPEN_CASE = cases.c.status.not_in(sorted(TERMINAL))
# The supervisors' own processes (异常处理, 整改: items coded SUP-…), counted apart from applicants' cases
# everywhere on the watch; written once, here (performance and the watch list read it from this module).
SUPERVISION_PREFIX = "SUP-"
SUPERVISION_CASE = items.c.code.like(SUPERVISION_PREFIX + "%")


@dataclass
class Dashboard:
    """The numbers on the page (and in its JSON for the live refresh), as of `as_of`."""

    as_of: str
    total: int
    open: int
    by_status: dict[str, int]
    by_item: list[dict[str, Any]]
    by_department: dict[str, int]
    by_level: dict[str, int]
    by_town: dict[str, int]
    due_today: int
    yellow: int
    red: int
    statutory: int
    supplements_pending: int
    refused_without_reason: list[str] = field(default_factory=list)
    unacknowledged_warnings: int = 0
    incidents: int = 0  # open incidents: cases stalled or failing in the scheduler (异常办件)
    reminder: int = 0  # open cases whose last working day has come (临期提醒: not a card, issue 15 item 10)
    # the supervisors' own cases (异常处理, 整改), counted apart from every figure above
    supervision: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_of(unit_code: str | None, department: str) -> str:
    """The window a case came in at: its unit, else its department's district window."""
    return unit_code or department_unit(department)


def dashboard(db: Database, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, read in one snapshot: the applicants' cases, and apart from them the
    supervisors' own (异常处理, 整改 — `SUP-…` items), which are no window's applications."""
    now = now or clock.now()
    today = clock.local_date(now)
    applicants = ~SUPERVISION_CASE
    with db.reading() as conn:
        by_status = _counted(conn, cases.c.status, applicants)
        by_item = [{"code": r.code, "name": r.name, "count": r.count} for r in conn.execute(
            select(items.c.code, items.c.name, func.count().label("count"))
            .join(cases, cases.c.item_id == items.c.id).where(applicants)
            .group_by(items.c.code, items.c.name).order_by(items.c.code))]
        by_department = _counted(conn, items.c.department, applicants)
        by_level, by_town = _by_level_and_town(conn)
        levels = _counted(conn, cases.c.warning_level, applicants, OPEN_CASE)
        figures = Dashboard(
            as_of=now.isoformat(), total=sum(by_status.values()),
            open=sum(n for status, n in by_status.items() if status not in TERMINAL),
            by_status=by_status, by_item=by_item, by_department=by_department, by_level=by_level, by_town=by_town,
            due_today=_due_on(conn, today), yellow=levels.get("yellow", 0), red=levels.get("red", 0),
            statutory=levels.get("statutory", 0), supplements_pending=by_status.get(SUPPLEMENT_STATUS, 0),
            refused_without_reason=refused_without_reason(conn),
            unacknowledged_warnings=_unacknowledged(conn, applicants),
            incidents=_incidents(conn, applicants), reminder=levels.get("reminder", 0),
            supervision=_supervision_figures(conn))
    return figures


def _counted(conn: Connection, column: Any, *where: Any) -> dict[str, int]:
    """Cases (with their item) counted by `column`, where `where` holds."""
    return dict(conn.execute(select(column, func.count()).select_from(cases.join(items, items.c.id == cases.c.item_id))
                             .where(*where).group_by(column).order_by(column)).all())


def _unacknowledged(conn: Connection, scope: Any) -> int:
    return conn.execute(select(func.count()).select_from(
        case_warnings.join(cases, cases.c.id == case_warnings.c.case_id).join(items, items.c.id == cases.c.item_id))
        .where(case_warnings.c.acknowledged_at.is_(None), scope)).scalar_one()


def _incidents(conn: Connection, scope: Any) -> int:
    """Open incidents of the scope's cases (异常办件: stalled or failing in the scheduler)."""
    return conn.execute(select(func.count()).select_from(
        incident_table.join(cases, cases.c.id == incident_table.c.case_id).join(items, items.c.id == cases.c.item_id))
        .where(incident_table.c.resolved_at.is_(None), scope)).scalar_one()


def _supervision_figures(conn: Connection) -> dict[str, int]:
    """The supervisors' own cases, counted apart: how many, how many open, their warnings and incidents."""
    by_status = _counted(conn, cases.c.status, SUPERVISION_CASE)
    levels = _counted(conn, cases.c.warning_level, SUPERVISION_CASE, OPEN_CASE)
    return {"total": sum(by_status.values()), "open": sum(n for s, n in by_status.items() if s not in TERMINAL),
            "overdue": sum(n for level, n in levels.items() if level in ("yellow", "red", "statutory")),
            "unacknowledged_warnings": _unacknowledged(conn, SUPERVISION_CASE),
            "incidents": _incidents(conn, SUPERVISION_CASE)}


def _by_level_and_town(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    per_window: Counter[str] = Counter()
    for unit_code, department, count in conn.execute(
            select(cases.c.unit_code, items.c.department, func.count()).join(items, items.c.id == cases.c.item_id)
            .where(~SUPERVISION_CASE).group_by(cases.c.unit_code, items.c.department)):
        per_window[window_of(unit_code, department)] += count
    by_level: Counter[str] = Counter()
    by_town: Counter[str] = Counter()
    for window, count in per_window.items():
        by_level[level_of(window)] += count
        by_town[town_of(window) or DISTRICT] += count
    return dict(sorted(by_level.items())), dict(sorted(by_town.items()))


def _due_on(conn: Connection, day: date) -> int:
    """Open cases whose committed deadline ends on `day` (a deadline is 24:00 of its last working day)."""
    return conn.execute(select(func.count()).select_from(cases.join(items, items.c.id == cases.c.item_id)).where(
        OPEN_CASE, ~SUPERVISION_CASE, cases.c.clock_stopped_at.is_(None),
        and_(cases.c.committed_deadline > start_of_day(day), cases.c.committed_deadline <= end_of_day(day)))
    ).scalar_one()


def refused_without_reason(conn: Connection) -> list[str]:
    """Case numbers refused (不予受理 / 不予许可) whose refusing decision carries no reason (S-7: must be none).

    The refusing decision is the last `task_completed` before the `status_changed` event that made the
    case refused; its form data must hold a non-empty `reason` or `refusal_reason`. A refusal made with
    no person's decision at all (no task before it) has no reason either.
    """
    refused = dict(conn.execute(select(cases.c.id, cases.c.case_no).join(items, items.c.id == cases.c.item_id)
                                .where(cases.c.status.in_(REFUSED), ~SUPERVISION_CASE)).all())
    if not refused:
        return []
    events = conn.execute(select(audit_events.c.case_id, audit_events.c.type, audit_events.c.data)
                          .where(audit_events.c.case_id.in_(list(refused)),
                                 audit_events.c.type.in_(("task_completed", "status_changed")))
                          .order_by(audit_events.c.case_id, audit_events.c.seq))
    last_decision: dict[int, dict[str, Any]] = {}
    reasoned: dict[int, bool] = {}
    for case_id, kind, data in events:
        data = data or {}
        if kind == "task_completed":
            last_decision[case_id] = data.get("data") or {}
        elif data.get("new") in REFUSED:
            form = last_decision.get(case_id, {})
            reasoned[case_id] = any(isinstance(form.get(k), str) and form[k].strip() for k in REASON_KEYS)
    return sorted(no for case_id, no in refused.items() if not reasoned.get(case_id, False))
