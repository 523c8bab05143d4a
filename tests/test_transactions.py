"""The one rule of the runtime, under stress: concurrent writers, crashes mid-step, reloads.

Every change is one transaction with an optimistic lock: two clerks completing the same task at once
get exactly one success; an exception after SpiffWorkflow advanced leaves the database as it was; a
case reloaded from the database after every step behaves exactly like one kept in memory.
"""

from __future__ import annotations

import threading

import pytest
from conftest import ACCEPT_DATA
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update

from engine.desk.casework import complete_task, start_case
from engine.diagrams.scripting import make_script_engine
from engine.diagrams.specs import spec_cache
from engine.errors import ConflictError
from engine.reads import queries
from engine.runtime import change as runtime
from engine.runtime import taskdata
from engine.runtime.change import change_case, load_workflow, routing_of
from engine.store.tables import audit_events, cases, task_index, timer_index


def _accept_task(db, case_no):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")


def _snapshot(db):
    with db.reading() as conn:
        return (
            conn.execute(select(cases).order_by(cases.c.id)).all(),
            conn.execute(select(task_index).order_by(task_index.c.task_id)).all(),
            conn.execute(select(timer_index).order_by(timer_index.c.task_id)).all(),
            conn.execute(select(audit_events).order_by(audit_events.c.id)).all(),
        )


def test_two_clerks_completing_the_same_task_at_once_exactly_one_succeeds(db, joint, clerk):
    for _ in range(3):
        case = start_case(db, "DEMO-001", {}, clerk)
        task = _accept_task(db, case.case_no)
        barrier = threading.Barrier(2)
        outcomes: list[object] = []

        def submit(task_id=task.task_id, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                outcomes.append(complete_task(db, task_id, ACCEPT_DATA, clerk))
            except ConflictError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        successes = [o for o in outcomes if isinstance(o, str)]
        conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(successes) == 1 and len(conflicts) == 1, outcomes
        assert conflicts[0].message  # a clear message, not a traceback
        history = queries.case_history(db, case.case_no)
        assert [e["element_id"] for e in history if e["type"] == "task_completed"] == ["accept"]
        assert len(queries.open_tasks(db, case_no=case.case_no)) == 3


def test_a_writer_that_lost_the_race_fails_cleanly_and_writes_nothing(db, joint, clerk):
    """Force the lost race deterministically: the lock version moves under the change."""
    case = start_case(db, "DEMO-001", {}, clerk)
    before = _snapshot(db)

    def change(ctx):
        ctx.conn.execute(update(cases).where(cases.c.id == ctx.case.id)
                         .values(lock_version=cases.c.lock_version + 1))
        task = next(t for t in ctx.workflow.get_tasks(state=TaskState.READY, manual=True))
        task.data.update(ACCEPT_DATA)
        task.run()
        ctx.advance()

    with pytest.raises(ConflictError, match="刚被他人修改"):
        change_case(db, case.case_no, clerk, change)
    assert _snapshot(db) == before


def test_an_exception_after_the_workflow_advanced_leaves_the_database_as_before(db, joint, clerk, monkeypatch):
    case = start_case(db, "DEMO-001", {}, clerk)
    task = _accept_task(db, case.case_no)
    before = _snapshot(db)

    def crash(conn, rows):
        raise RuntimeError("power cut while writing audit events")

    monkeypatch.setattr(runtime, "insert_events", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        complete_task(db, task.task_id, ACCEPT_DATA, clerk)
    assert _snapshot(db) == before
    monkeypatch.undo()
    complete_task(db, task.task_id, ACCEPT_DATA, clerk)
    assert len(queries.open_tasks(db, case_no=case.case_no)) == 3


def _shape(workflow: BpmnWorkflow):
    """What must agree between two runs: which steps are in which state, and the data."""
    return (
        sorted((t.task_spec.name, t.state) for t in workflow.get_tasks()),
        workflow.last_task.data if workflow.last_task else None,
        workflow.completed,
    )


def test_a_case_reloaded_from_the_database_continues_like_one_kept_in_memory(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    content_hash = joint.content_hash
    specs = spec_cache.get(content_hash, lambda: pytest.fail("specs should be cached"))
    # The demo's chase timers say workdays(2); in memory, outside any change, a plain duration stands in.
    memory = BpmnWorkflow(specs.spec, specs.subprocess_specs,
                          script_engine=make_script_engine({"workdays": lambda n: f"P{n}D"}))
    taskdata.set_case_facts(memory, routing_of(specs, None).flags())  # where the case came in, once per case
    memory.do_engine_steps()
    steps = [("accept", ACCEPT_DATA), ("review_env", {"opinion": "同意"}),
             ("review_fire", {"opinion": "不同意", "reason": "疏散通道不足"}),
             ("review_housing", {"opinion": "同意"}), ("issue", {"certificate_no": "C-9"})]

    for element, data in steps:
        stored = next(t for t in queries.open_tasks(db, case_no=case.case_no) if t.element_id == element)
        complete_task(db, stored.task_id, data, clerk)
        kept = next(t for t in memory.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == element)
        kept.data.update(data)
        kept.run()
        memory.do_engine_steps()
        assert _shape(load_workflow(db, case.case_no)) == _shape(memory)
    assert memory.completed


def test_lock_version_counts_every_change(db, joint, clerk):
    case = start_case(db, "DEMO-001", {}, clerk)
    with db.reading() as conn:
        first = conn.execute(select(cases.c.lock_version).where(cases.c.case_no == case.case_no)).scalar_one()
    complete_task(db, _accept_task(db, case.case_no).task_id, ACCEPT_DATA, clerk)
    with db.reading() as conn:
        second = conn.execute(select(cases.c.lock_version).where(cases.c.case_no == case.case_no)).scalar_one()
        events = conn.execute(select(func.count()).select_from(audit_events)).scalar_one()
    assert second == first + 1
    assert events >= 4
