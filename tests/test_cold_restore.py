"""A case behaves the same when every step starts cold: in a fresh worker, after a restart, from the CLI.

Joint review stalled after any restart (issue 12): SpiffWorkflow wires a multi-instance task's merge-back
hook onto its spec only when a process creates an instance or restores a serialized spec, and the
platform parsed its specs from BPMN and kept them per process. The step that created the department
reviews wired the spec it ran on; a later step in another process never merged the last opinion, and
the case sat `accepted` with no open task. Every spec a case runs on now comes from SpiffWorkflow's own
loader (`engine.diagrams.specs.as_loaded`), restored from the version's parsed form.

These tests hold every construct SpiffWorkflow persists that way — parallel and sequential
multi-instance, an embedded subprocess with a boundary timer and a multi-instance task inside, a call
activity with a multi-instance task and an interrupting boundary timer, a timer-started event
subprocess — to the same story cold (`cold` fixture: each change builds fresh specs) as warm, and
drive one joint-review catalogue item with each step in its own OS process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from catalogue_walk import sample
from conftest import DATA_DIR, PROCESSES, deploy, make_actor
from sqlalchemy import select

from engine.audit.replay import replay_case
from engine.audit.verify import verify_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams import specs as specs_module
from engine.diagrams.lint import main_process_id
from engine.diagrams.package import load_package
from engine.diagrams.specs import spec_cache
from engine.org import orgtree
from engine.reads import queries
from engine.runtime.change import load_workflow
from engine.runtime.scheduler import tick
from engine.store.tables import process_versions
from engine.time import clock

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in the district
REVIEWERS = ["甲", "乙", "丙"]


def _answer(db, actor, case_no: str, element: str, note: str, at: datetime) -> None:
    """Complete the oldest open task of `element` at `at`."""
    tasks = [t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element]
    assert tasks, f"{element} is not open: {[t.element_id for t in queries.open_tasks(db, case_no=case_no)]}"
    with clock.frozen_at(at):
        complete_task(db, tasks[-1].task_id, {"note": note}, actor)


def _open(db, case_no: str) -> list[str]:
    return sorted(t.element_id for t in queries.open_tasks(db, case_no=case_no))


def _drive_constructs(db, actor) -> str:
    """The whole story of a TEST-CONSTRUCTS case, asserting what is open after each step."""
    with clock.frozen_at(T0):
        case_no = start_case(db, "TEST-CONSTRUCTS", {"applicant_name": "张三", "reviewers": REVIEWERS},
                             actor).case_no
    assert _open(db, case_no) == ["mi_parallel"] * 3
    for _ in REVIEWERS:
        _answer(db, actor, case_no, "mi_parallel", "同意", T0)
    assert _open(db, case_no) == ["mi_sequential"]  # the parallel instances merged: the next step is open
    _answer(db, actor, case_no, "mi_sequential", "科长同意", T0)
    assert _open(db, case_no) == ["mi_sequential"]
    _answer(db, actor, case_no, "mi_sequential", "局长同意", T0)
    assert _open(db, case_no) == ["embedded_task"]

    chase = tick(db, T0 + timedelta(minutes=61))  # the non-interrupting timer inside the embedded subprocess
    assert [f["element_id"] for f in chase.fired] == ["embedded_chase"]
    assert _open(db, case_no) == ["embedded_task"]
    _answer(db, actor, case_no, "embedded_task", "初审通过", T0 + timedelta(minutes=62))
    assert _open(db, case_no) == ["embedded_mi"] * 3
    for _ in REVIEWERS:
        _answer(db, actor, case_no, "embedded_mi", "会签", T0 + timedelta(minutes=62))
    assert _open(db, case_no) == ["called_task"] * 3  # merged inside the subprocess, then out into the call

    _answer(db, actor, case_no, "called_task", "甲审", T0 + timedelta(minutes=63))
    watch = tick(db, T0 + timedelta(hours=3, minutes=1))  # the event subprocess started by its timer
    assert [f["element_id"] for f in watch.fired] == ["watch_start"]
    assert _open(db, case_no) == ["called_task", "called_task", "watch_task"]
    overdue = tick(db, T0 + timedelta(hours=3, minutes=3))  # the interrupting boundary timer of the call
    assert [f["element_id"] for f in overdue.fired] == ["called_overdue"]
    assert _open(db, case_no) == ["called_takeover", "watch_task"]
    _answer(db, actor, case_no, "watch_task", "已督办", T0 + timedelta(hours=3, minutes=4))
    _answer(db, actor, case_no, "called_takeover", "负责人审结", T0 + timedelta(hours=3, minutes=5))
    assert _open(db, case_no) == ["finish"]
    _answer(db, actor, case_no, "finish", "办结", T0 + timedelta(hours=3, minutes=6))
    return case_no


@pytest.mark.parametrize("mode", ["warm", "cold"])
def test_every_persisted_construct_tells_the_same_story_warm_and_cold(db, mode, request):
    if mode == "cold":
        request.getfixturevalue("cold")
    deploy_package(db, load_package(DATA_DIR / "cold-constructs"), "analyst")
    actor = make_actor(db, "clerk", [])
    case_no = _drive_constructs(db, actor)

    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "approved" and detail["closed_at"] and detail["open_tasks"] == []
    data = load_workflow(db, case_no).last_task.data
    assert sorted(data["opinions"]) == sorted(f"{r}：同意" for r in REVIEWERS)  # one per instance
    assert data["levels"] == ["科长同意", "局长同意"]
    assert sorted(data["signatures"]) == sorted(REVIEWERS) and data["chased"] == "子流程初审"  # in order of completion
    assert replay_case(db, case_no).identical
    assert verify_case(db, case_no).ok


def test_cold_gives_every_change_spec_objects_no_earlier_change_touched(db, cold):
    """The `cold` fixture is what makes the tests above and the catalogue walk cold: prove it keeps no spec
    object between changes (each is restored afresh, down to the task specs a workflow could wire), while
    the files are parsed once."""
    result = deploy(db, "demo-joint-review")
    loads = []
    first, second = (spec_cache.get(result.content_hash, lambda: loads.append(1) or _files_of(db)) for _ in range(2))
    assert first.spec is not second.spec
    assert not set(map(id, first.spec.task_specs.values())) & set(map(id, second.spec.task_specs.values()))
    assert first.subprocess_specs.keys() == second.subprocess_specs.keys()
    assert all(first.subprocess_specs[k] is not second.subprocess_specs[k] for k in first.subprocess_specs)
    assert len(loads) <= 1  # parsed at most once (not at all if an earlier test of this process parsed it)


PLAIN = (dict, list, str, int, float, bool, type(None))


def _kinds(value, seen: set) -> set:
    seen.add(type(value))
    for part in (value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()):
        _kinds(part, seen)
    return seen


@pytest.mark.parametrize("folder", [DATA_DIR / "cold-constructs", PROCESSES / "demo-report-up",
                                    PROCESSES / "catalogue/jinggai/JG-002"], ids=["constructs", "report-up", "JG-002"])
def test_the_parsed_form_is_plain_data_and_a_restore_leaves_it_as_it_was(folder):
    """`as_loaded` copies the parsed form with a pickle round trip before SpiffWorkflow restores from it: exact only
    for plain data, and needed because the restore must not share or change what is restored again later."""
    package = load_package(folder)
    wired = specs_module.wire(package.files, main_process_id(package), package.metadata)
    forms = [wired.spec, *wired.subprocess_specs.values()]
    assert set().union(*(_kinds(form, set()) for form in forms)) <= set(PLAIN)
    before = json.dumps(forms, sort_keys=True)
    first, second = specs_module.restore(wired), specs_module.restore(wired)
    assert json.dumps(forms, sort_keys=True) == before
    assert first.spec is not second.spec and set(first.spec.task_specs) == set(second.spec.task_specs)


def test_warm_keeps_one_set_of_spec_objects(db):
    result = deploy(db, "demo-joint-review")
    assert spec_cache.get(result.content_hash, lambda: _files_of(db)) is spec_cache.get(
        result.content_hash, lambda: _files_of(db))


def _files_of(db):
    with db.reading() as conn:
        row = conn.execute(select(process_versions.c.files, process_versions.c.process_id,
                                  process_versions.c.metadata)).one()
    return row.files, row.process_id, row.metadata


# --- one joint case, each step its own OS process ------------------------------------------------

CONSOLE_SCRIPT = Path(sys.executable).parent / "onewindow"
JOINT_ITEM = "catalogue/jinggai/JG-002"


def _cli(db_url: str, *argv: str) -> dict:
    proc = subprocess.run([str(CONSOLE_SCRIPT), "--json", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": db_url})
    assert proc.returncode == 0, f"{argv}: {proc.stderr}"
    return json.loads(proc.stdout)


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")
def test_a_joint_case_with_every_step_in_its_own_process_reaches_the_collation_and_ends_approved(db):
    """JG-002 (S-6 rule 3, joint handling) as separate web workers or restarts make it: start, each department's
    opinion and every later step is a new `onewindow` process; this process only reads."""
    assert (PROCESSES / JOINT_ITEM / "item.json").is_file()
    orgtree.install(db)
    make_actor(db, "walker", [], ["admin"])
    _cli(db.url, "deploy", str(PROCESSES / JOINT_ITEM))
    started = _cli(db.url, "start", "JG-002", "--data", json.dumps({"applicant_name": "李四"}), "--as", "walker",
                   "--unit", orgtree.department_unit("区经济改革局"))
    case_no, tasks = started["case_no"], started["open_tasks"]
    elements = []
    for _ in range(20):  # each step's process answers with the tasks it left open: this process reads no case
        if not tasks:
            break
        task = tasks[-1]
        detail = queries.task_detail(db, task["task_id"])
        schema = detail["schema"] if isinstance(detail["schema"], dict) else json.loads(detail["schema"])
        offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
        done = _cli(db.url, "complete", task["task_id"], "--as", "walker",
                    "--data", json.dumps(sample(schema, offered[0] if offered else None), ensure_ascii=False))
        elements.append(task["element_id"])
        assert done["open_tasks"] or done["closed_at"], f"stalled after {elements}: open, with no open task"
        tasks = done["open_tasks"]
    assert elements.count("joint_opinion") >= 2 and "collate" in elements, elements
    assert _cli(db.url, "case", case_no)["status"] == "approved"
    assert _cli(db.url, "replay", case_no)["identical"]
    assert _cli(db.url, "verify", case_no)["ok"]
