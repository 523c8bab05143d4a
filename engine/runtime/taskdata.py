"""What onewindow keeps on a SpiffWorkflow task, and the one place that touches the task's internals.

A task's `internal_data` is SpiffWorkflow's private dictionary (serialized with the workflow, so it
survives a restart and rides in the same transaction as the case). We keep our per-task facts there —
who holds the task, a delegation in progress, when the step became ready, its own deadline — and
SpiffWorkflow keeps its own (the instances a multi-instance step merged, an instance's key). Only this
module reads or writes that dictionary, so an upgrade of SpiffWorkflow that renames or moves it is a
change here and nowhere else — and that holds for how a task is stored too (`TaskFormat`).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

ASSIGNEE_KEY = "onewindow_assignee"
DELEGATION_KEY = "onewindow_delegation"  # a task delegated (委派) is held by its delegator until confirmed
READY_AT_KEY = "onewindow_ready_at"
STEP_DUE_KEY = "onewindow_step_due"  # a step's own deadline (stepLimitDays); the task index shows it
STEP_FLAGGED_KEY = "onewindow_step_flagged"


def assignee(task: Task) -> str | None:
    return task._get_internal_data(ASSIGNEE_KEY)


def set_assignee(task: Task, username: str) -> None:
    task._set_internal_data(**{ASSIGNEE_KEY: username})


def clear_assignee(task: Task) -> None:
    task.internal_data.pop(ASSIGNEE_KEY, None)


def delegation(task: Task) -> dict[str, Any] | None:
    return task._get_internal_data(DELEGATION_KEY)


def set_delegation(task: Task, value: dict[str, Any]) -> None:
    task._set_internal_data(**{DELEGATION_KEY: value})


def clear_delegation(task: Task) -> None:
    task.internal_data.pop(DELEGATION_KEY, None)


def ready_at(task: Task) -> str | None:
    return task._get_internal_data(READY_AT_KEY)


def set_ready_at(task: Task, moment: datetime) -> None:
    task._set_internal_data(**{READY_AT_KEY: moment.isoformat()})


def step_due(task: Task) -> datetime | None:
    """The step's own deadline, stamped when it became ready (`stepLimitDays`)."""
    value = task._get_internal_data(STEP_DUE_KEY)
    return datetime.fromisoformat(value) if value else None


def set_step_due(task: Task, due: datetime) -> None:
    task._set_internal_data(**{STEP_DUE_KEY: due.isoformat()})


def step_flagged(task: Task) -> bool:
    return bool(task._get_internal_data(STEP_FLAGGED_KEY))


def flag_step(task: Task) -> None:
    task._set_internal_data(**{STEP_FLAGGED_KEY: True})


def instance_of(task: Task) -> int | str | None:
    """Which instance of a multi-instance step a task is (its index or key), None for an ordinary task."""
    return task.internal_data.get("key_or_index")


def merged_instances(task: Task) -> set[str]:
    """The ids of the instances a multi-instance step has already counted (SpiffWorkflow's bookkeeping)."""
    return set(task.internal_data.get("merged", []))


def snapshot(task: Task) -> dict[str, Any]:
    """A copy of everything kept on the task, to compare (replay) or to put back (case migration)."""
    return dict(task.internal_data)


def restore(task: Task, kept: dict[str, Any]) -> None:
    task.internal_data.update(kept)


# 加签: a reviewer added before or after the handler (engine/desk/countersign.py)
COUNTERSIGN_KEY = "onewindow_countersign"


def countersign(task: Task) -> dict[str, Any] | None:
    return task._get_internal_data(COUNTERSIGN_KEY)


def set_countersign(task: Task, value: dict[str, Any]) -> None:
    task._set_internal_data(**{COUNTERSIGN_KEY: value})


def clear_countersign(task: Task) -> None:
    task.internal_data.pop(COUNTERSIGN_KEY, None)


# Facts that are the same for the whole case (where it came in, whether it relays up: `Routing.flags`), kept
# once on the workflow's root task rather than copied into every task's data; the script engine
# (`engine.runtime.scriptenv`) offers them to every gateway and script of the case.
CASE_FACTS_KEY = "onewindow_case_facts"


def case_facts(workflow: Any) -> dict[str, Any] | None:
    """The case's facts (None: a state written before they were kept once, see `engine.runtime.state`)."""
    return workflow.top_workflow.task_tree.internal_data.get(CASE_FACTS_KEY)


def set_case_facts(workflow: Any, facts: dict[str, Any]) -> None:
    workflow.top_workflow.task_tree._set_internal_data(**{CASE_FACTS_KEY: facts})


@functools.lru_cache(maxsize=8192)
def task_uuid(text: str) -> UUID:
    """A task id read back from its text, parsed once: every id is written about four times in a state (its key,
    its own id, its parent's and its children's lists), and `UUID(text)` was a quarter of a load's time
    (bench/engine_step.py). A UUID is immutable, so one object may stand for the id wherever it appears."""
    return UUID(text)


@functools.lru_cache(maxsize=8192)
def task_text(task_id: UUID) -> str:
    """A task id's text, formatted once (written about four times a state, like `task_uuid`)."""
    return str(task_id)


class TaskFormat(TaskConverter):
    """SpiffWorkflow's task format, with each id parsed and formatted once (`task_uuid`, `task_text`): the same
    dictionaries as SpiffWorkflow's own converter, which tests/test_state_format.py holds it to, both ways.

    A child task keeps only what changed from its parent's data (`delta`); the root keeps its data whole.
    """

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            data, delta = {}, {"updates": DeepMerge.get_updated_keys(parent.data, task.data),
                               "deletions": DeepMerge.get_deleted_keys(parent.data, task.data)}
        return {"id": task_text(task.id), "parent": task_text(task._parent) if parent is not None else None,
                "children": [task_text(child) for child in task._children],
                "last_state_change": task.last_state_change, "state": task.state, "task_spec": task.task_spec.name,
                "triggered": task.triggered, "internal_data": self.registry.convert(task.internal_data),
                "data": data, "delta": delta}

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Task:
        spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, spec, state=dct["state"], id=task_uuid(dct["id"]))
        parent_id = dct["parent"]
        task._parent = task_uuid(parent_id) if parent_id is not None else None
        task._children = [task_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        task.data = self._data(task, dct)
        return task

    def _data(self, task: Task, dct: dict[str, Any]) -> dict[str, Any]:
        delta, parent = dct.get("delta"), task.parent
        if not delta or parent is None:
            return self.registry.restore(dct["data"])
        data = DeepMerge.merge({}, parent.data)
        data.update(self.registry.restore(delta.get("updates", {})))
        for key in delta.get("deletions", ()):
            data.pop(key, None)
        return data
