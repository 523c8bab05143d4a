"""The read model: task and timer indexes, rewritten from the workflow in the case's transaction.

The desk lists tasks and the scheduler finds due timers from these tables alone. Each rewrite is a
diff against the rows already there (only rows that appeared, changed or went are written), so a
step that touches one task costs a few small statements however large the database is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from engine.diagrams.bpmn import FORM_SCHEMA_PROPERTY
from engine.runtime import taskdata
from engine.store.tables import task_index, timer_index
from engine.time.clock import as_utc


def open_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def task_form(task: Task) -> str | None:
    return task.task_spec.extensions.get("properties", {}).get(FORM_SCHEMA_PROPERTY)


def name_grams(name: str | None) -> list[str]:
    """A name's single characters and character pairs, lower-cased (王小明 → 小, 小明, 明, 王, 王小): what the
    desk's name-part search looks up (`engine.reads.queries`), since a two-character part has no trigram."""
    text = (name or "").lower()
    return sorted(set(text) | {text[i:i + 2] for i in range(len(text) - 1)})


def grams_value(conn: Connection, name: str | None) -> list[str] | str:
    """`cases.applicant_grams` as each database keeps it: an array (PostgreSQL, GIN-indexed) or
    space-separated text (SQLite, indexed by the FTS5 table `task_index_names`)."""
    found = name_grams(name)
    return found if conn.dialect.name == "postgresql" else " ".join(found)


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, tuple[str, datetime]]:
    """task id → (element id, due time) for each timer the workflow waits on."""
    timers: dict[str, tuple[str, datetime]] = {}
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = definition.details(task).value
        if isinstance(due, str):
            timers[str(task.id)] = (task.task_spec.bpmn_id, as_utc(TimerEventDefinition.get_datetime(due)))
    return timers


# Built once with bind parameters (see engine/runtime/change.py): a step runs several of these.
_OPEN_ROWS = select(task_index.c.task_id, task_index.c.assignee).where(task_index.c.case_id == bindparam("b_case_id"))
_DELETE_TASK = delete(task_index).where(task_index.c.task_id == bindparam("b_task_id"))
_INSERT_TASKS = insert(task_index)
_SET_ASSIGNEE = update(task_index).where(task_index.c.task_id == bindparam("b_task_id"))
_SET_FACTS = update(task_index).where(task_index.c.case_id == bindparam("b_case_id"))
_TIMER_ROWS = select(timer_index.c.task_id, timer_index.c.due_at).where(timer_index.c.case_id == bindparam("b_case_id"))
_DELETE_TIMER = delete(timer_index).where(timer_index.c.task_id == bindparam("b_task_id"))
_INSERT_TIMERS = insert(timer_index)


def rewrite(conn: Connection, case_id: int, workflow: BpmnWorkflow, now: datetime,
            group_of: Callable[[Task], str | None], timers: bool = True,
            ready: list[Task] | None = None, case_facts: dict[str, Any] | None = None,
            facts_changed: bool = True, fresh: bool = False) -> None:
    """Bring the case's index rows in line with `workflow`; `timers=False` (a version without timer
    events, whose cases never have timer rows) skips the timer index. `case_facts` (case number,
    item, applicant, status, warning level, deadline) are repeated on every task row for the desk;
    rows that stay are rewritten only when `facts_changed`. `fresh`: a case just opened, which has no rows yet
    (nothing to read and compare)."""
    facts = case_facts or {}
    _rewrite_tasks(conn, case_id, open_human_tasks(workflow) if ready is None else ready, now, facts, group_of, fresh)
    if facts and facts_changed and not fresh:
        conn.execute(_SET_FACTS, {"b_case_id": case_id, **facts})
    if timers:
        _rewrite_timers(conn, case_id, workflow, fresh)


def _rewrite_tasks(conn: Connection, case_id: int, ready: list[Task], now: datetime,
                   facts: dict[str, Any], group_of: Callable[[Task], str | None], fresh: bool = False) -> None:
    existing = {} if fresh else {r.task_id: r.assignee for r in conn.execute(_OPEN_ROWS, {"b_case_id": case_id})}
    wanted: dict[str, dict[str, Any]] = {}
    for task in ready:
        spec = task.task_spec
        wanted[str(task.id)] = {
            "task_id": str(task.id), "case_id": case_id, "element_id": spec.bpmn_id,
            "name": spec.bpmn_name or spec.bpmn_id, "lane": spec.lane, "candidate_group": group_of(task),
            "assignee": taskdata.assignee(task), "form": task_form(task), "created_at": now,
            "due_at": taskdata.step_due(task),
            **facts,
        }
    gone = [{"b_task_id": task_id} for task_id in existing if task_id not in wanted]
    if gone:
        conn.execute(_DELETE_TASK, gone)
    new_rows = [row for task_id, row in wanted.items() if task_id not in existing]
    if new_rows:
        conn.execute(_INSERT_TASKS, new_rows)
    changed = [{"b_task_id": task_id, "assignee": row["assignee"]} for task_id, row in wanted.items()
               if task_id in existing and existing[task_id] != row["assignee"]]
    if changed:
        conn.execute(_SET_ASSIGNEE, changed)


def _rewrite_timers(conn: Connection, case_id: int, workflow: BpmnWorkflow, fresh: bool = False) -> None:
    existing = {} if fresh else {r.task_id: as_utc(r.due_at) for r in conn.execute(_TIMER_ROWS, {"b_case_id": case_id})}
    wanted = waiting_timers(workflow)
    stale = [t for t in existing if t not in wanted or existing[t] != wanted[t][1]]
    if stale:
        conn.execute(_DELETE_TIMER, [{"b_task_id": t} for t in stale])
    rows = [{"task_id": t, "case_id": case_id, "element_id": element, "due_at": due}
            for t, (element, due) in wanted.items() if t not in existing or t in stale]
    if rows:
        conn.execute(_INSERT_TIMERS, rows)
