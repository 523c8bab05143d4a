"""Failures are incidents, not outages (issue 12, items 3 and 4; S-15 异常处理).

- Stalled is visible: a case left open with no open task, no waiting timer and no pending message is found
  by the scheduler's pass (through the index on `stalled_since`), recorded once as an incident naming the
  last step, listed on the watch and by `onewindow incidents`, and closed once the case moves again.
- One failing case never stalls the others: whatever it raises, its change is rolled back, the failure is
  recorded on the case with back-off retries (1, 5, 30, 120 minutes), then it waits for an operator; the
  pass goes on, and held cases never fill the due queries ahead of the others.
- An operator retries or resolves an incident; each act is in the case's audit chain and re-executes.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from cli_helpers import run
from conftest import DATA_DIR, make_actor
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams import specs
from engine.diagrams.package import load_package
from engine.diagrams.safexml import parse_xml
from engine.errors import PermissionDenied
from engine.reads import queries
from engine.runtime import incidents, scheduler
from engine.runtime.scheduler import due_cases, tick
from engine.store.tables import cases
from engine.time import clock

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in the district


@pytest.fixture
def admin(db):
    return make_actor(db, "ops", [], ["admin"])


def _straight_from_the_parser(files: dict[str, str], process_id: str, metadata: dict) -> specs.ProcessSpecs:
    """Specs as they were built before they went through SpiffWorkflow's loader: the parser's own objects."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in files.items():
        if name.endswith(".bpmn"):
            parser.add_bpmn_xml(parse_xml(text, name), filename=name)
    return dataclasses.replace(specs.build_specs(files, process_id, metadata), spec=parser.get_spec(process_id),
                               subprocess_specs=parser.get_subprocess_specs(process_id))


def _stalled_joint_case(db, monkeypatch) -> str:
    """A case stalled the way joint review stalled before specs were loaded like SpiffWorkflow loads them:
    each step cold, the merge-back hook of the multi-instance step never wired."""
    deploy_package(db, load_package(DATA_DIR / "cold-constructs"), "analyst")
    clerk = make_actor(db, "clerk", [])
    with monkeypatch.context() as old_wiring:
        old_wiring.setattr(specs.spec_cache, "get", lambda _hash, load: _straight_from_the_parser(*load()))
        with clock.frozen_at(T0):
            case_no = start_case(db, "TEST-CONSTRUCTS", {"reviewers": ["甲", "乙"]}, clerk).case_no
            for task in queries.open_tasks(db, case_no=case_no):
                complete_task(db, task.task_id, {"note": "同意"}, clerk)
    return case_no


def test_a_stalled_case_becomes_one_incident_naming_its_last_step_and_a_retry_moves_it_on(db, cold, monkeypatch,
                                                                                           admin, app, capsys):
    case_no = _stalled_joint_case(db, monkeypatch)
    assert queries.open_tasks(db, case_no=case_no) == [] and queries.case_detail(db, case_no)["closed_at"] is None
    with db.reading() as conn:
        assert conn.execute(select(cases.c.stalled_since).where(cases.c.case_no == case_no)).scalar_one()

    found = tick(db, T0 + timedelta(minutes=1))
    assert found.stalled == [case_no] and tick(db, T0 + timedelta(minutes=2)).stalled == []  # recorded once
    [incident] = incidents.open_incidents(db)
    assert (incident.case_no, incident.kind, incident.element_id) == (case_no, "stalled", "mi_parallel")
    assert incident.first_at == T0

    monkeypatch.setenv("DATABASE_URL", db.url)
    status, out, _ = run(capsys, "--json", "incidents")
    assert status == 1 and [i["case_no"] for i in json.loads(out)] == [case_no]

    with pytest.raises(PermissionDenied):
        incidents.retry(db, incident.id, make_actor(db, "watcher", [], ["supervisor"]))
    with clock.frozen_at(T0 + timedelta(hours=1)):
        message = incidents.retry(db, incident.id, admin)
    assert "恢复流转" in message
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["mi_sequential"]
    assert incidents.open_incidents(db) == []
    [closed] = incidents.of_case(db, case_no)
    assert closed.resolved_by == "ops" and closed.resolved_at == T0 + timedelta(hours=1)
    assert [e["type"] for e in queries.case_history(db, case_no)].count("incident_retried") == 1
    status, _, _ = run(capsys, "incidents")
    assert status == 0


def test_the_watch_lists_stalled_cases_with_since_and_last_step_and_only_operators_act(db, cold, monkeypatch, admin,
                                                                                        app):
    from test_web import login, post_form

    case_no = _stalled_joint_case(db, monkeypatch)
    tick(db, T0 + timedelta(minutes=1))
    make_actor(db, "watcher", [], ["supervisor"])
    supervisor = app.test_client()
    login(supervisor, "watcher")
    page = supervisor.get("/watch/incidents").get_data(as_text=True)
    assert case_no in page and "停滞" in page and "并联审查" in page and "2026-03-02 09:00" in page
    assert "mi_parallel" not in page  # the step by name, never its id (issue 16, item 10)
    assert "重新执行" not in page  # supervisors watch; operators act (S-16)
    dashboard = supervisor.get("/watch/dashboard.json").get_json()
    assert dashboard["incidents"] == 1
    [incident] = incidents.open_incidents(db)
    assert post_form(supervisor, f"/watch/incidents/{incident.id}/retry", {}, "/watch/incidents").status_code == 403
    clerk = app.test_client()
    login(clerk, "clerk")
    assert clerk.get("/watch/incidents").status_code == 403
    operator = app.test_client()
    login(operator, "ops")
    case_page = operator.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'id="stalled"' in case_page and 'id="case-incidents"' in case_page and "重新执行" in case_page
    done = post_form(operator, f"/watch/incidents/{incident.id}/resolve",
                     {"note": "已人工办结", "back": f"/cases/{case_no}"}, f"/cases/{case_no}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_no}")
    assert incidents.of_case(db, case_no)[0].resolution == "已人工办结"


def test_one_failing_case_is_held_with_back_off_and_never_stops_or_starves_the_others(db, monkeypatch, admin):
    deploy_package(db, load_package(DATA_DIR / "engine-paths"), "analyst")
    clerk = make_actor(db, "clerk", [])
    with clock.frozen_at(T0):
        bad = [start_case(db, "TEST-PATHS", {"a": 1, "b": 2}, clerk).case_no for _ in range(3)]
        good = start_case(db, "TEST-PATHS", {"a": 1, "b": 2}, clerk).case_no
    real = scheduler._fire_timers
    failures = iter([RuntimeError("磁盘坏了"), KeyError("onewindow_step_due"), ValueError("坏值")] * 10)

    def sometimes_broken(ctx):
        if ctx.case.case_no in bad:
            raise next(failures)
        return real(ctx)

    monkeypatch.setattr(scheduler, "_fire_timers", sometimes_broken)
    due = T0 + timedelta(hours=1, seconds=1)
    first = tick(db, due)
    assert [f["case_no"] for f in first.fired] == [good]  # the pass went on past three failing cases
    assert sorted(e["case_no"] for e in first.errors) == sorted(bad)
    assert {e["message"].split(":")[0] for e in first.errors} == {"RuntimeError", "KeyError", "ValueError"}
    assert due_cases(db, due + timedelta(seconds=10)) == []  # held: the back-off has not passed

    moment = due
    for attempt, wait in zip(range(2, incidents.MAX_ATTEMPTS + 1), incidents.BACKOFF, strict=True):
        moment += wait + timedelta(seconds=1)
        again = tick(db, moment)
        assert sorted(e["case_no"] for e in again.errors) == sorted(bad)
        assert {e["attempts"] for e in again.errors} == {attempt}
    waiting = incidents.open_incidents(db)
    assert len(waiting) == 3 and all(i.waits_for_operator and i.attempts == incidents.MAX_ATTEMPTS for i in waiting)

    with clock.frozen_at(moment):  # a new case due behind the held ones is not starved, even one at a time
        late = start_case(db, "TEST-PATHS", {"a": 1, "b": 2}, clerk).case_no
    later = moment + timedelta(days=30)
    assert due_cases(db, later, limit=1) == [late]
    assert tick(db, later).errors == []

    monkeypatch.setattr(scheduler, "_fire_timers", real)  # the cause is mended
    by_case = {i.case_no: i for i in waiting}
    with clock.frozen_at(later):
        assert "恢复流转" in incidents.retry(db, by_case[bad[0]].id, admin)
        assert "已处理" in incidents.resolve(db, by_case[bad[1]].id, admin, "已修复存储，交由定时处理")
    assert [t.element_id for t in queries.open_tasks(db, case_no=bad[0])] == ["finish"]
    assert [f["case_no"] for f in tick(db, later + timedelta(minutes=1)).fired] == [bad[1]]  # no longer held
    assert [i.case_no for i in incidents.open_incidents(db)] == [bad[2]]
    for case_no in (*bad[:2], good, late):
        assert replay_case(db, case_no).identical


def test_a_held_case_that_goes_through_after_its_back_off_closes_its_incident(db, monkeypatch):
    deploy_package(db, load_package(DATA_DIR / "engine-paths"), "analyst")
    with clock.frozen_at(T0):
        case_no = start_case(db, "TEST-PATHS", {"a": 1, "b": 2}, make_actor(db, "clerk", [])).case_no
    real = scheduler._fire_timers
    monkeypatch.setattr(scheduler, "_fire_timers", lambda ctx: (_ for _ in ()).throw(RuntimeError("一时故障")))
    assert len(tick(db, T0 + timedelta(hours=2)).errors) == 1
    monkeypatch.setattr(scheduler, "_fire_timers", real)
    assert tick(db, T0 + timedelta(hours=2, minutes=2)).fired == [{"case_no": case_no, "element_id": "wait"}]
    [incident] = incidents.of_case(db, case_no)
    assert incident.resolved_at is not None and incident.resolved_by == "system"
    with db.reading() as conn:
        assert conn.execute(select(cases.c.held_until).where(cases.c.case_no == case_no)).scalar_one() is None
