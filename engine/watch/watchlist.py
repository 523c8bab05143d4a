"""The supervisor's watch list: warnings one row per case and level, stalled cases and incidents, each
with its step by name — applicants' cases apart from the supervisors' own.

Why a row per case and level: one overdue case raises a yellow card on its deadline *and* on the step
that overran; listed per warning row the supervisor read the same case twice and acknowledged it twice.
A row here carries every unacknowledged warning of that case at that level, so one 确认 settles it.

Why apart: the supervisors' own processes (异常处理, 整改: items coded `SUP-…`) are cases the supervisors
started about a window, not applications a window handles; counted with them, a rectification's overdue
step looked like one more late application. Every figure and table of the watch keeps them apart.

Stalled (停滞) is what `engine.runtime.incidents` means by it: open, yet no open task, timer or message
will move it (`cases.stalled_since`, set in the case's own transaction) — listed at once, before the
scheduler's pass has turned it into an incident — and every open incident (stalled or failing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, exists, or_, select

from engine.org.orgtree import department_unit, unit_names
from engine.runtime.change import TERMINAL
from engine.runtime.incidents import KIND_NAMES
from engine.store.db import Database
from engine.store.tables import audit_events, cases, incidents, items, task_index, users
from engine.time.clock import as_utc
from engine.watch.dashboard import SUPERVISION_PREFIX
from engine.watch.stepnames import step_name, version_names
from engine.watch.supervision import WarningFilter, list_warnings

APPLICANTS, SUPERVISION = "applicants", "supervision"
SCOPE_NAMES = {APPLICANTS: "群众和企业办件", SUPERVISION: "监察办件（异常处理、整改）"}


def is_supervision(item_code: str | None) -> bool:
    """A case of the supervisors' own processes (异常处理, 整改), not an application."""
    return bool(item_code) and item_code.startswith(SUPERVISION_PREFIX)


def scope_of(item_code: str | None) -> str:
    return SUPERVISION if is_supervision(item_code) else APPLICANTS


# --- warnings, one row per case and level -----------------------------------------------------------


def warning_rows(db: Database, filters: WarningFilter | None = None) -> dict[str, list[dict[str, Any]]]:
    """The warnings `filters` selects, folded to one row per case and level, in two lists by scope.

    Each row: the case facts, the kinds of its warnings by code, `steps` (names: a step's own warning names
    its step, a deadline warning the steps open now), the earliest due and latest raised moment, `open_ids`
    (the unacknowledged warnings a 确认 settles) and who acknowledged the rest, by display name."""
    found = list_warnings(db, filters or WarningFilter())
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for w in found:
        row = rows.setdefault((w["case_no"], w["level"]), {
            **{k: w[k] for k in ("case_no", "item_code", "item_name", "window_name", "level", "case_status",
                                 "case_open")},
            "kinds": [], "element_ids": [], "ids": [], "open_ids": [], "due_at": w["due_at"],
            "raised_at": w["raised_at"], "acknowledged": [], "scope": scope_of(w["item_code"])})
        if w["kind"] not in row["kinds"]:
            row["kinds"].append(w["kind"])
        if w["element_id"] and w["element_id"] not in row["element_ids"]:
            row["element_ids"].append(w["element_id"])
        row["ids"].append(w["id"])
        if w["acknowledged_at"] is None:
            row["open_ids"].append(w["id"])
        else:
            row["acknowledged"].append((w["acknowledged_by"], w["acknowledged_at"]))
        if w["due_at"] and (row["due_at"] is None or w["due_at"] < row["due_at"]):
            row["due_at"] = w["due_at"]
        row["raised_at"] = max(row["raised_at"], w["raised_at"])
    _name_steps_and_people(db, list(rows.values()))
    return _by_scope(rows.values())


def _name_steps_and_people(db: Database, rows: list[dict[str, Any]]) -> None:
    case_nos = sorted({r["case_no"] for r in rows})
    if not case_nos:
        return
    with db.reading() as conn:
        versions = dict(conn.execute(select(cases.c.case_no, cases.c.version_id)
                                     .where(cases.c.case_no.in_(case_nos))).all())
        names = version_names(conn, versions.values())
        open_steps: dict[str, list[str]] = {}
        for case_no, name in conn.execute(select(cases.c.case_no, task_index.c.name)
                                          .join(task_index, task_index.c.case_id == cases.c.id)
                                          .where(cases.c.case_no.in_(case_nos))
                                          .order_by(task_index.c.created_at, task_index.c.name)):
            if name not in open_steps.setdefault(case_no, []):
                open_steps[case_no].append(name)
        people = display_names(conn, {who for r in rows for who, _ in r["acknowledged"]})
    for row in rows:
        table = names.get(versions.get(row["case_no"]), {})
        own = [step_name(table, e) for e in row.pop("element_ids")]
        row["steps"] = list(dict.fromkeys(own + open_steps.get(row["case_no"], [])))
        row["acknowledged"] = [(people.get(who, who), when) for who, when in row["acknowledged"]]


def display_names(conn: Connection, usernames: Iterable[str | None]) -> dict[str, str]:
    """Username → display name, for the people named on a page (the system as 系统)."""
    wanted = sorted({u for u in usernames if u})
    found = dict(conn.execute(select(users.c.username, users.c.display_name)
                              .where(users.c.username.in_(wanted))).all()) if wanted else {}
    return {**found, **({"system": "系统"} if "system" in wanted else {})}


def _by_scope(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {APPLICANTS: [], SUPERVISION: []}
    for row in rows:
        out[row["scope"]].append(row)
    return out


# --- stalled cases and incidents ----------------------------------------------------------------------


def stalled_cases(db: Database, limit: int = 500) -> dict[str, list[dict[str, Any]]]:
    """Cases that cannot move: stalled now (open, nothing to wait for) or with an open incident — one row
    per case, oldest first, in two lists by scope, each with its last step by name and since when."""
    open_incident = exists().where(incidents.c.case_id == cases.c.id, incidents.c.resolved_at.is_(None))
    stalled_now = cases.c.stalled_since.is_not(None) & cases.c.status.not_in(sorted(TERMINAL))
    with db.reading() as conn:
        found = conn.execute(
            select(cases.c.id, cases.c.case_no, cases.c.status, cases.c.stalled_since, cases.c.unit_code,
                   cases.c.version_id, items.c.code.label("item_code"), items.c.name.label("item_name"),
                   items.c.department)
            .join(items, items.c.id == cases.c.item_id).where(or_(open_incident, stalled_now))
            .order_by(cases.c.id).limit(limit)).all()
        ids = [r.id for r in found]
        open_rows = conn.execute(select(incidents).where(incidents.c.case_id.in_(ids),
                                                         incidents.c.resolved_at.is_(None))
                                 .order_by(incidents.c.first_at, incidents.c.id)).all() if ids else []
        last_steps = _last_steps(conn, ids)
        names = version_names(conn, {r.version_id for r in found})
        windows = unit_names(conn)
    per_case: dict[int, list[Any]] = {}
    for incident in open_rows:
        per_case.setdefault(incident.case_id, []).append(incident)
    rows = []
    for r in found:
        own = per_case.get(r.id, [])
        moments = [as_utc(m) for m in [r.stalled_since, *(i.first_at for i in own)] if m is not None]
        kinds = list(dict.fromkeys([i.kind for i in own] or ["stalled"]))
        element = next((i.element_id for i in own if i.element_id), None) or last_steps.get(r.id)
        window = r.unit_code or department_unit(r.department)
        rows.append({"case_no": r.case_no, "item_code": r.item_code, "item_name": r.item_name,
                     "window_name": windows.get(window, window), "case_status": r.status,
                     "since": min(moments) if moments else None, "kinds": kinds,
                     "kind_names": [KIND_NAMES.get(k, k) for k in kinds],
                     "step": step_name(names.get(r.version_id, {}), element),
                     "message": next((i.message for i in own), ""),
                     "attempts": max((i.attempts for i in own), default=0),
                     "incident_ids": [i.id for i in own], "scope": scope_of(r.item_code)})
    rows.sort(key=lambda row: (row["since"] is None, row["since"] or 0, row["case_no"]))
    return _by_scope(rows)


def _last_steps(conn: Connection, case_ids: list[int]) -> dict[int, str]:
    """Each case's last step taken (the newest audit event naming an element): where it stopped."""
    if not case_ids:
        return {}
    last: dict[int, str] = {}
    for case_id, element_id in conn.execute(
            select(audit_events.c.case_id, audit_events.c.element_id)
            .where(audit_events.c.case_id.in_(case_ids), audit_events.c.element_id.is_not(None))
            .order_by(audit_events.c.case_id, audit_events.c.seq)):
        last[case_id] = element_id
    return last


def incident_names(db: Database, found: Iterable[Any]) -> dict[str, dict[Any, str]]:
    """For incidents as `runtime.incidents` lists them: `steps` (incident id → its step by name) and
    `people` (who resolved them → display name)."""
    found = list(found)
    named = [i for i in found if i.element_id]
    with db.reading() as conn:
        versions = dict(conn.execute(select(cases.c.case_no, cases.c.version_id)
                                     .where(cases.c.case_no.in_({i.case_no for i in named})))
                        .all()) if named else {}
        names = version_names(conn, versions.values())
        people = display_names(conn, {i.resolved_by for i in found})
    return {"steps": {i.id: step_name(names.get(versions.get(i.case_no), {}), i.element_id) for i in named},
            "people": people}
