"""The read model: task and timer indexes, rewritten from the workflow in the case's transaction.

The desk lists tasks and the scheduler finds due timers from these tables alone. Each rewrite is a
diff against the rows already there (only rows that appeared, changed or went are written), so a
step that touches one task costs a few small statements however large the database is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, delete, insert, select, update

from .assignment import candidate_group
from .bpmn import FORM_SCHEMA_PROPERTY
from .tables import task_index, timer_index

ASSIGNEE_KEY = "onewindow_assignee"


def open_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def task_form(task: Task) -> str | None:
    return task.task_spec.extensions.get("properties", {}).get(FORM_SCHEMA_PROPERTY)


def assignee_of(task: Task) -> str | None:
    return task._get_internal_data(ASSIGNEE_KEY)


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, tuple[str, datetime]]:
    """task id → (element id, due time) for each timer the workflow waits on."""
    timers: dict[str, tuple[str, datetime]] = {}
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = definition.details(task).value
        if isinstance(due, str):
            timers[str(task.id)] = (task.task_spec.bpmn_id, _as_utc(TimerEventDefinition.get_datetime(due)))
    return timers


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def rewrite(conn: Connection, case_id: int, workflow: BpmnWorkflow, now: datetime) -> None:
    _rewrite_tasks(conn, case_id, workflow, now)
    _rewrite_timers(conn, case_id, workflow)


def _rewrite_tasks(conn: Connection, case_id: int, workflow: BpmnWorkflow, now: datetime) -> None:
    existing = {r.task_id: r.assignee for r in conn.execute(
        select(task_index.c.task_id, task_index.c.assignee).where(task_index.c.case_id == case_id))}
    wanted: dict[str, dict[str, Any]] = {}
    for task in open_human_tasks(workflow):
        spec = task.task_spec
        wanted[str(task.id)] = {
            "task_id": str(task.id), "case_id": case_id, "element_id": spec.bpmn_id,
            "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane, "candidate_group": candidate_group(spec.lane),
            "assignee": assignee_of(task), "form": task_form(task), "created_at": now,
        }
    gone = [task_id for task_id in existing if task_id not in wanted]
    if gone:
        conn.execute(delete(task_index).where(task_index.c.task_id.in_(gone)))
    new_rows = [row for task_id, row in wanted.items() if task_id not in existing]
    if new_rows:
        conn.execute(insert(task_index), new_rows)
    for task_id, row in wanted.items():
        if task_id in existing and existing[task_id] != row["assignee"]:
            conn.execute(update(task_index).where(task_index.c.task_id == task_id)
                         .values(assignee=row["assignee"]))


def _rewrite_timers(conn: Connection, case_id: int, workflow: BpmnWorkflow) -> None:
    existing = {r.task_id: _as_utc(r.due_at) for r in conn.execute(
        select(timer_index.c.task_id, timer_index.c.due_at).where(timer_index.c.case_id == case_id))}
    wanted = waiting_timers(workflow)
    stale = [t for t in existing if t not in wanted or existing[t] != wanted[t][1]]
    if stale:
        conn.execute(delete(timer_index).where(timer_index.c.task_id.in_(stale)))
    rows = [{"task_id": t, "case_id": case_id, "element_id": element, "due_at": due}
            for t, (element, due) in wanted.items() if t not in existing or t in stale]
    if rows:
        conn.execute(insert(timer_index), rows)
