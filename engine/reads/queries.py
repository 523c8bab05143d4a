"""Read models for screens and the command line: plain queries on tables shaped for them.

Nothing here deserializes a workflow: open tasks come from `task_index`, history from
`audit_events`. A form's schema comes from the version's cached files.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from sqlalchemy import Connection, select

from engine.diagrams.bpmn import element_table
from engine.diagrams.safexml import parse_xml
from engine.diagrams.versiondiff import main_diagram
from engine.errors import NotFound, OnewindowError, StaleTaskError
from engine.messages import said
from engine.org import orgtree
from engine.reads.tasklist import SORTS, TaskFilter, TaskPage, TaskRow, open_tasks, task_page  # the desk's list
from engine.runtime import caseclock
from engine.runtime.change import load_specs
from engine.store.db import Database
from engine.store.tables import (
    audit_events,
    case_warnings,
    cases,
    clock_pauses,
    items,
    process_versions,
    task_index,
    timer_index,
)
from engine.time import clock
from engine.time.clock import iso_utc
from engine.time.workdays import load_calendar

__all__ = ["SORTS", "TaskFilter", "TaskPage", "TaskRow", "open_tasks", "task_page"]  # kept where callers find them


def days_left(db: Database, rows: list[TaskRow], today: date) -> list[int | None]:
    """Working days left before each row's case deadline (negative once passed), on one calendar for the page."""
    with db.reading() as conn:
        calendar = load_calendar(conn)
    return [calendar.days_left(datetime.fromisoformat(r.case_deadline) if r.case_deadline else None, today)
            for r in rows]


def unit_names(db: Database) -> dict[str, str]:
    """Every unit's code → its name, for saying a group as people say it."""
    with db.reading() as conn:
        return orgtree.unit_names(conn)


def list_items(db: Database) -> list[dict[str, Any]]:
    with db.reading() as conn:
        rows = conn.execute(select(items).order_by(items.c.department, items.c.code)).all()
    return [{"code": r.code, "name": r.name, "department": r.department, "handling_mode": r.handling_mode,
             "latest_version": r.latest_version, "guide": r.guide} for r in rows]


def task_detail(db: Database, task_id: str) -> dict[str, Any]:
    """An open task with its form's JSON Schema and UI schema, for rendering."""
    with db.reading() as conn:
        row = conn.execute(
            select(task_index, cases.c.version_id, process_versions.c.content_hash)
            .join(cases, cases.c.id == task_index.c.case_id)
            .join(process_versions, process_versions.c.id == cases.c.version_id)
            .where(task_index.c.task_id == task_id)).one_or_none()
        if row is None:
            raise StaleTaskError(said("任务 %(task_id)s 已办理完毕或不存在；请刷新任务列表。", task_id=task_id))
        specs = load_specs(conn, row.content_hash, row.version_id)
    schema = json.loads(specs.forms[row.form]) if row.form else {"type": "object", "properties": {}}
    task_spec = _task_spec(specs, row.element_id)
    extensions = getattr(task_spec, "extensions", None) or {}
    ui_name = extensions.get("properties", {}).get("formUiSchemaFilename")
    ui = json.loads(specs.forms[ui_name]) if ui_name and ui_name in specs.forms else {}
    return {"task_id": row.task_id, "case_no": row.case_no, "item_name": row.item_name,
            "element_id": row.element_id, "name": row.name, "lane": row.lane,
            "candidate_group": row.candidate_group, "assignee": row.assignee, "form": row.form,
            "schema": schema, "ui_schema": ui,
            # a manual task (BPMN manualTask) is confirmed, not filled in: its instructions say what to confirm
            "manual": isinstance(task_spec, ManualTask),
            "instructions": (extensions.get("instructionsForEndUser") or "").strip()}


def _task_spec(specs, element_id: str):
    for spec in [specs.spec, *specs.subprocess_specs.values()]:
        if (task_spec := spec.task_specs.get(element_id)) is not None:
            return task_spec
    return None


def case_detail(db: Database, case_no: str) -> dict[str, Any]:
    with db.reading() as conn:
        row = conn.execute(
            select(cases.c.id, cases.c.case_no, cases.c.status, cases.c.created_at, cases.c.updated_at,
                   cases.c.closed_at, cases.c.serializer_version, cases.c.lock_version,
                   *[cases.c[column] for column in caseclock.CLOCK_COLUMNS],
                   items.c.code.label("item_code"), items.c.name.label("item_name"),
                   process_versions.c.number.label("version"))
            .join(items, items.c.id == cases.c.item_id)
            .join(process_versions, process_versions.c.id == cases.c.version_id)
            .where(cases.c.case_no == case_no)).one_or_none()
        if row is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        timers = conn.execute(select(timer_index.c.element_id, timer_index.c.due_at)
                              .where(timer_index.c.case_id == row.id)).all()
        time_limit = _clock_view(conn, row)
    return {
        "case_no": row.case_no, "item_code": row.item_code, "item_name": row.item_name,
        "version": row.version, "status": row.status, "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at), "closed_at": iso_utc(row.closed_at),
        "serializer_version": row.serializer_version, "lock_version": row.lock_version,
        "open_tasks": [t.to_dict() for t in open_tasks(db, case_no=case_no)],
        "timers": [{"element_id": t.element_id, "due_at": iso_utc(t.due_at)} for t in timers],
        "clock": time_limit,
    }


def _clock_view(conn: Connection, row) -> dict[str, Any]:
    """Deadline, working days used and remaining, paused intervals and warnings, as the case page shows them."""
    values = caseclock.clock_values(row)
    pauses = conn.execute(select(clock_pauses).where(clock_pauses.c.case_id == row.id)
                          .order_by(clock_pauses.c.started_at)).all()
    warnings = conn.execute(select(case_warnings).where(case_warnings.c.case_id == row.id)
                            .order_by(case_warnings.c.raised_at, case_warnings.c.id)).all()
    used = caseclock.working_days_used(load_calendar(conn), values, clock.now())
    limit = None if values["committed_days"] is None else values["committed_days"] + values["extension_days"]
    return {
        "started_at": iso_utc(values["clock_started_at"]), "stopped_at": iso_utc(values["clock_stopped_at"]),
        "committed_days": values["committed_days"], "statutory_days": values["statutory_days"],
        "extension_days": values["extension_days"],
        "committed_deadline": iso_utc(values["committed_deadline"]),
        "statutory_deadline": iso_utc(values["statutory_deadline"]),
        "working_days_used": used,
        "working_days_remaining": None if used is None or limit is None else limit - used,
        "paused": values["paused_since"] is not None, "paused_working_days": values["paused_days"],
        "pauses": [{"element_id": p.element_id, "reason": p.reason, "started_at": iso_utc(p.started_at),
                    "ended_at": iso_utc(p.ended_at), "working_days": p.working_days} for p in pauses],
        "warning_level": values["warning_level"],
        "warnings": [{"level": w.level, "kind": w.kind, "element_id": w.element_id, "task_id": w.task_id or None,
                      "due_at": iso_utc(w.due_at), "raised_at": iso_utc(w.raised_at), "notified": w.notified,
                      "acknowledged_by": w.acknowledged_by} for w in warnings],
    }


def case_history(db: Database, case_no: str) -> list[dict[str, Any]]:
    with db.reading() as conn:
        case_id = _case_id(conn, case_no)
        rows = conn.execute(select(audit_events).where(audit_events.c.case_id == case_id)
                            .order_by(audit_events.c.seq)).all()
    return [{"seq": r.seq, "at": iso_utc(r.at), "actor": r.actor, "type": r.type, "element_id": r.element_id,
             "data": r.data, "hash": r.hash, "prev_hash": r.prev_hash} for r in rows]


def _case_id(conn: Connection, case_no: str) -> int:
    case_id = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one_or_none()
    if case_id is None:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
    return case_id


def case_diagram(db: Database, case_no: str) -> str:
    """The BPMN XML of the version a case is pinned to (its main diagram, not the shared ones), for a viewer."""
    with db.reading() as conn:
        row = conn.execute(select(process_versions.c.files, process_versions.c.process_id)
                           .join(cases, cases.c.version_id == process_versions.c.id)
                           .where(cases.c.case_no == case_no)).one_or_none()
    if row is None:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
    text = main_diagram(row.files, row.process_id)
    if text is None:
        raise NotFound(said("办件 %(case_no)s 的流程版本没有流程图文件。", case_no=case_no))
    return text


def case_elements(db: Database, case_no: str) -> dict[str, dict[str, str]]:
    """The elements of the case's diagram by id (name, kind, attached to); none when it cannot be read."""
    try:
        return element_table(parse_xml(case_diagram(db, case_no), "diagram"))
    except OnewindowError:
        return {}
