"""Models written as other tools write them run unchanged (issue 17, items 1, 3 and 6).

Each folder of tests/data/corpus is one diagram with spiff-arena's conventions and an `expected.json`:
the answers a person gives at each step, the status the case ends in and data it must end with. Each
is linted and deployed as it is (only a guide is added, as an analyst adds one), run to its end on
the test's database (both in CI), re-executed from its audit trail, and — where no clock is involved —
its final data is compared with bare SpiffWorkflow's run of the very same file: onewindow must not
change what a model computes.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import DATA_DIR, item_metadata, make_actor
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.change import load_workflow
from engine.runtime.scheduler import tick
from engine.time import clock

CORPUS = DATA_DIR / "corpus"
MODELS = sorted(p for p in CORPUS.iterdir() if (p / "expected.json").exists())


def _expected(folder: Path) -> dict:
    return json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def as_item(folder: Path, tmp_path: Path, code: str) -> Path:
    """The model's folder with a guide added, nothing else changed."""
    item = tmp_path / code
    shutil.copytree(folder, item, ignore=shutil.ignore_patterns("expected.json"))
    meta = item_metadata(code, name=f"语料 {folder.name}")
    if process_id := _expected(folder).get("process_id"):
        meta["process_id"] = process_id
    (item / "item.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return item


def _bare_run(folder: Path, answers: dict[str, dict]) -> dict:
    """The same file on bare SpiffWorkflow (its own parser and script engine), answering the same steps."""
    parser = SpiffBpmnParser()
    for path in folder.glob("*.bpmn"):
        parser.add_bpmn_file(str(path))
    for path in folder.glob("*.dmn"):
        parser.add_dmn_file(str(path))
    process_id = _expected(folder).get("process_id") or parser.get_process_ids()[0]
    workflow = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    workflow.do_engine_steps()
    for _ in range(50):
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        task = ready[0]
        task.data.update(answers.get(task.task_spec.bpmn_id, {}))
        task.run()
        workflow.do_engine_steps()
    assert workflow.is_completed()
    return workflow.data


@pytest.mark.parametrize("folder", MODELS, ids=lambda p: p.name)
def test_a_model_from_elsewhere_lints_deploys_and_runs_as_bare_spiffworkflow_runs_it(db, tmp_path, folder, cold):
    """Cold: every step parses the version anew, as in a worker that has just started (the `cold` fixture)."""
    expected = _expected(folder)
    code = "CORPUS-" + folder.name.upper()
    package = load_package(as_item(folder, tmp_path, code))
    assert [str(f) for f in lint_package(package).findings if f.severity == "error"] == []
    deploy_package(db, package, "analyst")
    handler = make_actor(db, "handler", [], ["admin"])
    case_no = casework.start_case(db, code, {"applicant_name": "张三"}, handler).case_no
    moment = clock.now()
    for _ in range(50):
        tasks = queries.open_tasks(db, case_no=case_no)
        if tasks:
            task = tasks[0]
            with clock.frozen_at(moment):
                casework.complete_task(db, task.task_id, expected["answers"].get(task.element_id, {}), handler)
            continue
        timers = queries.case_detail(db, case_no)["timers"]
        if not timers:
            break
        moment = max(moment, min(datetime.fromisoformat(t["due_at"]) for t in timers)) + timedelta(minutes=1)
        tick(db, moment)  # as the scheduler would, once the wait is over
    assert queries.case_detail(db, case_no)["status"] == expected["status"]
    data = load_workflow(db, case_no).data
    assert {key: data.get(key) for key in expected["data"]} == expected["data"]
    if expected.get("bare", True):
        bare = _bare_run(folder, expected["answers"])
        assert {key: data.get(key) for key in bare} == bare  # the platform adds facts; it changes none
    assert replay_case(db, case_no).identical
