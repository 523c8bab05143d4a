"""Serialized workflow state without its spec.

SpiffWorkflow's serializer writes the whole spec into every state. A case is pinned to an immutable
version whose specs we already hold (`engine.diagrams.specs`), so the stored state keeps only the instance
(tasks, data, subprocesses, events) plus the serializer version, and the specs are put back on load.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.diagrams.specs import ProcessSpecs
from engine.org.orgtree import Routing
from engine.runtime import taskdata
from engine.runtime.taskdata import TaskFormat, task_uuid

_VERSION_KEY = BpmnWorkflowSerializer.VERSION_KEY


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a top-level workflow without `spec`/`subprocess_specs`; reads it back given the specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        specs: ProcessSpecs = dct.pop("_specs")
        workflow = self.target_class(specs.spec, specs.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], task_uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(task_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    config[Task] = TaskFormat
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_serializer = _make_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    """The instance part of `workflow` as JSON, stamped with the serializer version."""
    registry = _serializer.registry
    registry._encoder_mode = True
    try:
        dct = _serializer.to_dict(workflow)
        dct[_VERSION_KEY] = SERIALIZER_VERSION
        return json.dumps(dct, cls=_serializer._encoder_cls, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(state: str, specs: ProcessSpecs, script_engine) -> BpmnWorkflow:
    """Rebuild a workflow from `dump_state` output and its version's specs."""
    dct = json.loads(state)
    version = dct.pop(_VERSION_KEY)
    if version in MIGRATIONS:
        MIGRATIONS[version](dct)
    dct["_specs"] = specs
    workflow = _serializer.from_dict(dct)
    workflow.script_engine = script_engine
    if taskdata.case_facts(workflow) is None:
        lift_case_facts(workflow)
    return workflow


CASE_FACT_NAMES = tuple(Routing().flags())  # the names the start used to copy into every task's data


def lift_case_facts(workflow: BpmnWorkflow) -> None:
    """A state written before the case's facts were kept once: take them from the first task that carries
    them all (the start's data, inherited by every later task), keep them on the case, and drop them from
    each task whose copy still holds the same value. Gateways read the same names with the same values
    (`engine.runtime.scriptenv`), and a re-execution of the case, which keeps them once from the start,
    finds the same task data. A state that never had them gets an empty set, so this runs once per state.
    """
    facts = next(({name: t.data[name] for name in CASE_FACT_NAMES} for t in workflow.get_tasks()
                  if all(name in t.data for name in CASE_FACT_NAMES)), {})
    everywhere = [*workflow.tasks.values(), *(t for sub in workflow.subprocesses.values() for t in sub.tasks.values())]
    for task in everywhere if facts else ():
        for name, value in facts.items():
            if name in task.data and task.data[name] == value:
                del task.data[name]
    taskdata.set_case_facts(workflow, facts)


def merge_finished_instances(workflow: BpmnWorkflow) -> int:
    """Merge every finished instance of a running multi-instance step that its step never merged.

    A state saved while specs came straight from the parser (before `specs.as_loaded`) holds joint
    reviews whose last answers completed in a process where the merge-back hook was not wired: the
    answers are there, the step never counted them, and the case stalled. Merging them in the order
    they completed is what SpiffWorkflow would have done then. Returns how many were merged.
    """
    merged = 0
    for task in workflow.get_tasks(state=TaskState.STARTED):
        spec = task.task_spec
        if not isinstance(spec, LoopTask):
            continue
        done = taskdata.merged_instances(task)
        finished = sorted((c for c in task.children if c.state == TaskState.COMPLETED and str(c.id) not in done),
                          key=lambda c: c.last_state_change)
        for child in finished:
            if task.state != TaskState.STARTED:  # the step completed (a completion condition held)
                break
            spec.merge_child(workflow, child)
            merged += 1
    return merged
