"""The stored state is SpiffWorkflow's own format, though the platform writes and reads its tasks itself.

`engine.runtime.taskdata.TaskFormat` parses and formats each task id once instead of about four times a state
(issue 18, item 1: a quarter of a load's time went into `UUID(text)`). A case's state must stay what
SpiffWorkflow 3.2.0 writes and reads (tests/test_state_compat.py keeps a state written by an earlier
release), so every state the four demo items (a timer wait, a direct item, a joint review with parallel
instances, a call activity) save on their way to the end is checked both ways against SpiffWorkflow's
`TaskConverter`: the same dictionaries written, and the same workflow read back, task by task.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from catalogue_walk import Path, walk
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task

from engine.catalogue import demo
from engine.org import accounts
from engine.runtime import change, intake, state
from engine.runtime.scriptenv import script_engine

DEMO_ITEMS = ("DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004")


def _spiffs_own() -> BpmnWorkflowSerializer:
    """The platform's serializer with SpiffWorkflow's task converter put back."""
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = state.SpeclessWorkflowConverter
    config[Task] = TaskConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SPIFF = _spiffs_own()


def _spiff_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    SPIFF.registry._encoder_mode = True
    try:
        return json.loads(json.dumps(SPIFF.to_dict(workflow), cls=SPIFF._encoder_cls))
    finally:
        SPIFF.registry._encoder_mode = False


def _spiff_load(text: str, specs) -> BpmnWorkflow:
    dct = json.loads(text)
    dct.pop(state._VERSION_KEY)
    dct["_specs"] = specs
    return SPIFF.from_dict(dct)


def _tasks(workflow: BpmnWorkflow) -> dict[str, tuple]:
    """Every task of the workflow and its subprocesses, as plain values."""
    everywhere = [*workflow.tasks.values(), *(t for sub in workflow.subprocesses.values() for t in sub.tasks.values())]
    return {str(t.id): (str(t._parent), [str(c) for c in t._children], t.state, t.task_spec.name, t.triggered,
                        t.last_state_change, t.internal_data, t.data) for t in everywhere}


def _same_both_ways(saved: list[tuple[str, Any]]):
    """A `dump_state` that checks each state against SpiffWorkflow's converter before it is stored."""
    original = state.dump_state

    def checked(workflow: BpmnWorkflow) -> str:
        text = original(workflow)
        ours = json.loads(text)
        ours.pop(state._VERSION_KEY)
        assert ours == _spiff_dict(workflow)  # written as SpiffWorkflow writes it
        specs = SPECS_BY_SPEC[id(workflow.spec)]
        theirs, mine = _spiff_load(text, specs), state.load_state(text, specs, script_engine)
        assert _tasks(mine) == _tasks(theirs)  # read back as SpiffWorkflow reads it
        assert set(mine.event_manager.tasks) == set(theirs.event_manager.tasks)
        assert getattr(mine.last_task, "id", None) == getattr(theirs.last_task, "id", None)
        saved.append((text, specs))
        return text

    return checked


SPECS_BY_SPEC: dict[int, Any] = {}  # a workflow's spec → the version's specs it was built from


def _walk_checked(db, monkeypatch, code: str) -> tuple[Any, list[tuple[str, Any]]]:
    """A case of `code` walked to its end by the administrator, every state it saves checked on the way; the
    walk and the (state, specs) it saved."""
    saved: list[tuple[str, Any]] = []
    original_load_specs = change.load_specs
    monkeypatch.setattr(change, "load_specs", lambda conn, h, v: _remember(original_load_specs(conn, h, v)))
    monkeypatch.setattr(change, "dump_state", _same_both_ways(saved))
    admin = accounts.authenticate(db, "admin", demo.DEMO_PASSWORD)
    front = next(unit for unit, _ in intake.places(db, code))
    return walk(db, code, admin, Path("全部通过", front)), saved


@pytest.mark.parametrize("code", DEMO_ITEMS)
def test_every_state_a_demo_item_saves_is_spiffworkflows_format_both_ways(db, demo_installation, monkeypatch, code):
    done, saved = _walk_checked(db, monkeypatch, code)
    assert done.steps and len(saved) > len(done.steps)  # the start and every step were checked


def test_typed_values_flags_and_deletions_round_trip_as_spiffworkflow_does(db, demo_installation, monkeypatch):
    """What the demo walks do not happen to hold: a triggered task, values SpiffWorkflow stores typed
    (time, duration, id) in data and internal data, nested data, and a key a child task deleted."""
    _, saved = _walk_checked(db, monkeypatch, "DEMO-001")
    text, specs = saved[len(saved) // 2]
    workflow = state.load_state(text, specs, script_engine)
    root, *rest = list(workflow.tasks.values())
    root.data["kept"] = {"nested": [1, 2.5, "三"], "when": datetime(2026, 12, 4, 9, 30, tzinfo=UTC)}
    for task in rest:
        task.triggered = True
        task.internal_data["typed"] = [timedelta(days=3, seconds=7), UUID(int=7)]
        task.data = {**root.data, "kept": {"nested": [1]}, "id": UUID(int=9)}
    rest[-1].data.pop("kept")
    checked = _same_both_ways([])
    again = state.load_state(checked(workflow), specs, script_engine)
    assert all(task.triggered for task in list(again.tasks.values())[1:])
    assert list(again.tasks.values())[-1].internal_data["typed"] == [timedelta(days=3, seconds=7), UUID(int=7)]
    assert "kept" not in list(again.tasks.values())[-1].data


def _remember(specs):
    SPECS_BY_SPEC[id(specs.spec)] = specs
    return specs
