"""The case's routing facts are kept once per case, not in every task's data (issue 18, item 1).

Where a case came in and whether it relays up (`Routing.flags`: front_unit, front_level, handling_level,
route_agency, route_report_up) used to be copied into the start task's data, and from there into every
later task's. They now sit once on the workflow (`engine.runtime.taskdata.case_facts`) and the script
engine offers them to every gateway. A state written the old way still loads, runs and re-executes.
"""

from __future__ import annotations

import json

import pytest
from catalogue_walk import application, sample
from conftest import deploy, make_actor
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine.audit.replay import replay_case
from engine.desk import casework
from engine.org import orgtree
from engine.reads import queries
from engine.runtime import state as runtime_state
from engine.runtime import taskdata
from engine.runtime.change import load_workflow
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import CASE_FACT_NAMES
from engine.store.tables import cases

ITEM = "WS-004"  # a district item: a village room takes it in as an agent (route_agency), its gateways read it
MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}


@pytest.fixture
def village(db) -> str:
    units = orgtree.install(db)
    deploy(db, "catalogue/weisheng/WS-004")
    return next(u.code for u in units if u.kind == "village")


@pytest.fixture
def admin(db, village):
    return make_actor(db, "walker", [], ["admin"])


def _step(db, case_no: str, actor) -> str | None:
    """Complete the case's oldest open task with its form's first answer; its element id (None: nothing open)."""
    tasks = queries.open_tasks(db, case_no=case_no, limit=50)
    if not tasks:
        return None
    task = tasks[-1]
    schema = queries.task_detail(db, task.task_id)["schema"]
    schema = json.loads(schema) if isinstance(schema, str) else schema
    offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
    casework.complete_task(db, task.task_id, sample(schema, offered[0] if offered else None), actor)
    return task.element_id


def _to_the_end(db, case_no: str, actor) -> list[str]:
    done = []
    while (element := _step(db, case_no, actor)) is not None:
        done.append(element)
        assert len(done) < 40, done
    return done


def _stored_state(db, case_no: str) -> dict:
    with db.reading() as conn:
        return json.loads(conn.execute(select(cases.c.state).where(cases.c.case_no == case_no)).scalar_one())


def test_a_new_case_keeps_its_facts_once_and_its_gateways_read_them(db, village, admin):
    started = casework.start_case(db, ITEM, application(db, ITEM), admin, unit=village, mandate=MANDATE)
    workflow = load_workflow(db, started.case_no)
    facts = taskdata.case_facts(workflow)
    assert facts == {"front_unit": village, "front_level": "village", "handling_level": "district",
                     "route_agency": True, "route_report_up": False}
    done = _to_the_end(db, started.case_no, admin)
    assert "village_forward" in done, done  # inside the shared relay process: `front_level == "village"`
    assert done[-1] == "deliver"  # `route_agency or route_report_up`: the result goes back to the village room
    stored = _stored_state(db, started.case_no)
    carried = {name for task in stored["tasks"].values() for name in CASE_FACT_NAMES if name in task["data"]}
    for sub in stored.get("subprocesses", {}).values():
        carried |= {name for task in sub["tasks"].values() for name in CASE_FACT_NAMES if name in task["data"]}
    assert carried == set(), "a routing fact was copied into a task's data"
    assert queries.case_detail(db, started.case_no)["status"] == "approved"
    report = replay_case(db, started.case_no)
    assert report.identical, report.divergence


def test_the_district_window_takes_the_short_path(db, village, admin):
    """The same gateways with the facts of a case that came in at the district: no agency, no delivery step."""
    district = orgtree.department_unit("区卫生局")
    started = casework.start_case(db, ITEM, application(db, ITEM), admin, unit=district)
    assert taskdata.case_facts(load_workflow(db, started.case_no))["route_agency"] is False
    done = _to_the_end(db, started.case_no, admin)
    assert "deliver" not in done and "agency_relay" not in done, done


def test_a_script_sees_the_facts_but_a_task_s_own_value_wins(db, village, admin):
    started = casework.start_case(db, ITEM, application(db, ITEM), admin, unit=village, mandate=MANDATE)
    workflow = load_workflow(db, started.case_no)
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    assert script_engine.evaluate(task, "route_agency and front_level == 'village'") is True
    task.data["front_level"] = "town"  # a state written before: the task's own copy is what it had
    assert script_engine.evaluate(task, "front_level") == "town"


def _the_old_way(monkeypatch) -> None:
    """The code path before the facts were kept once: the start copies them into the READY tasks' data, and a
    state is loaded as it was written."""
    def copy_into_tasks(workflow, facts):
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(facts)

    monkeypatch.setattr(casework.taskdata, "set_case_facts", copy_into_tasks)
    monkeypatch.setattr(runtime_state, "lift_case_facts", lambda workflow: None)


def test_a_case_recorded_the_old_way_loads_runs_on_and_replays(db, village, admin, monkeypatch):
    with monkeypatch.context() as old:
        _the_old_way(old)
        started = casework.start_case(db, ITEM, application(db, ITEM), admin, unit=village, mandate=MANDATE)
        first = _step(db, started.case_no, admin)
        assert first is not None
        old_state = _stored_state(db, started.case_no)
    carried = [t for t in old_state["tasks"].values() if "route_agency" in t["data"]]
    assert carried and all(t["data"]["route_agency"] is True for t in carried)  # the old shape, really
    assert taskdata.CASE_FACTS_KEY not in json.dumps(old_state)
    workflow = load_workflow(db, started.case_no)  # today's load lifts them out of the tasks, once
    assert taskdata.case_facts(workflow)["route_agency"] is True
    assert all(name not in t.data for t in workflow.get_tasks() for name in CASE_FACT_NAMES)
    report = replay_case(db, started.case_no)
    assert report.identical, report.divergence
    done = _to_the_end(db, started.case_no, admin)
    assert done[-1] == "deliver", done  # the gateways after the change still read route_agency
    assert queries.case_detail(db, started.case_no)["status"] == "approved"
    report = replay_case(db, started.case_no)
    assert report.identical, report.divergence


def test_a_state_without_any_facts_gets_an_empty_set_and_nothing_else_is_touched(db, village, admin):
    started = casework.start_case(db, ITEM, application(db, ITEM), admin, unit=village, mandate=MANDATE)
    stored = _stored_state(db, started.case_no)
    for task in stored["tasks"].values():
        task["internal_data"].pop(taskdata.CASE_FACTS_KEY, None)
        task["data"]["front_level"] = "mine"  # a diagram's own variable of that name, not the case's fact
    with db.transaction() as conn:
        conn.execute(update(cases).where(cases.c.case_no == started.case_no).values(state=json.dumps(stored)))
    workflow = load_workflow(db, started.case_no)
    assert taskdata.case_facts(workflow) == {}
    assert {t.data.get("front_level") for t in workflow.tasks.values() if t.data} == {"mine"}
