"""The auditor's replay view (/audit/cases/<no>/replay): a case re-executed step by step on its own
diagram — the timeline in Chinese, each step's tokens, completions, data diff and verdict; `?step=N`
without JavaScript; the JSON; GET only, auditors only, and every view logged (S-14, S-16)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA, DATA_DIR, make_actor
from test_audit_integrity import run_case
from test_audit_web import login, text_of, views_of

from engine.audit.replay import ReplayReport, Step, replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import claim_task, complete_task, release_task, start_case
from engine.desk.clockops import extend_deadline
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock
from engine.time.calendar_admin import set_override
from webapp.replayview import replay_steps

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in the district
REVIEWS = ["review_env", "review_fire", "review_housing"]
TIMERS = ["remind_env", "remind_fire", "remind_housing"]



@pytest.fixture
def auditor(db):
    return make_actor(db, "shenji", [], ["auditor"])


def _task(db, case_no: str, element: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


@pytest.fixture
def running(db, joint, clerk) -> str:
    """A joint-review case still running: claimed, handed back, accepted, one review done, the chase timers
    of the two others fired by the scheduler, the deadline extended by a chief."""
    chief = make_actor(db, "chief", ["受理窗口", "住建审查", "消防审查", "环保审查"], ["chief"])  # as the demo's
    with clock.frozen_at(T0):
        case_no = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
        claim_task(db, _task(db, case_no, "accept"), clerk)
        release_task(db, _task(db, case_no, "accept"), clerk)
        complete_task(db, _task(db, case_no, "accept"), ACCEPT_DATA, clerk)
    with clock.frozen_at(T0 + timedelta(hours=5)):
        complete_task(db, _task(db, case_no, "review_housing"), {"opinion": "同意"}, clerk)
    tick(db, T0 + timedelta(days=3))
    with clock.frozen_at(T0 + timedelta(days=3, hours=1)):
        extend_deadline(db, case_no, 2, "需现场核查", chief)
    return case_no


def selected_step(body: str) -> str:
    """The one step panel that is not hidden (what a browser without JavaScript shows)."""
    panels = re.findall(r'<section class="panel replay-step"(.*?)</section>', body, re.S)
    shown = [p for p in panels if not re.search(r'data-title="[^"]*"\s+hidden>', p)]
    assert len(shown) == 1, [p[:120] for p in shown]
    return shown[0]


def marked(panel: str, css: str) -> list[str]:
    """The element ids a step panel lists under one marker (marks-token, marks-just, marks-done)."""
    found = re.search(rf'<ul class="element-list {css}">(.*?)</ul>', panel, re.S)
    return sorted(re.findall(r'data-element-id="([^"]+)"', found.group(1))) if found else []


def test_auditor_gets_the_replay_page_with_its_timeline_in_chinese(client, db, auditor, running):
    login(client, "shenji")
    response = client.get(f"/audit/cases/{running}/replay")
    body = text_of(response)
    assert response.status_code == 200
    assert "办理过程重放" in body and "重新执行一致" in body and "结果与记录完全一致" in body
    assert "js/replay.js" in body and "css/replay.css" in body and "<script>" not in body  # no inline script
    assert f'data-src="/cases/{running}/diagram.bpmn"' in body
    timeline = body[body.index('id="timeline"'):]
    titles = [re.sub(r"\s+", " ", t) for t in re.findall(r'<span class="tl-title">(.*?)</span>', timeline)]
    assert titles == ["提交申请", "签收「受理」", "退回组内「受理」", "办理「受理」：受理",
                      "办理「住建部门审查」：同意", "计时触发「2个工作日未办结」×2 → 催办消防审查、催办环保审查",
                      "延期 2 个工作日"]
    assert "流程流转「并联审查」" in timeline and "发出通知「催办消防审查」" in timeline  # the recorded events
    assert "开始计时" in timeline and "计时触发「2个工作日未办结」" in timeline
    first = selected_step(body)  # no ?step: the first change
    assert 'data-step="1"' in first and "2026-03-02 09:00:00" in first and "提交申请" in first
    assert marked(first, "marks-token") == ["accept"] and marked(first, "marks-just") == ["start"]
    assert '<span class="replay-check check-ok">一致</span>' in first
    assert re.search(r'<a class="button is-disabled" id="replay-prev"\s+aria-disabled="true">', body), \
        "no previous step before the first"
    assert 'href="?step=2"' in body


def test_step_n_renders_that_step_server_side(client, db, auditor, running):
    login(client, "shenji")
    body = text_of(client.get(f"/audit/cases/{running}/replay?step=4"))
    step = selected_step(body)
    assert "第 4 步 · 办理「受理」：受理" in step
    assert marked(step, "marks-token") == sorted(REVIEWS + TIMERS)  # three reviews and their waiting timers
    assert marked(step, "marks-just") == ["accept", "split"]
    assert marked(step, "marks-done") == ["start"]
    assert '<tr data-key="decision"><td>受理意见</td><td class="old none">（无）</td>' in step  # by its title
    assert "受理</td></tr>" in step and "clerk" in step
    assert 'href="?step=3"' in body and 'href="?step=5"' in body
    assert '<li class="is-current" data-step="4">' in body and 'aria-current="step"' in body

    step = selected_step(text_of(client.get(f"/audit/cases/{running}/replay?step=5")))
    assert marked(step, "marks-token") == ["join", "remind_env", "remind_fire", "review_env", "review_fire"]
    assert marked(step, "marks-just") == ["review_housing"]
    assert marked(step, "marks-done") == ["accept", "split", "start"]

    step = selected_step(text_of(client.get(f"/audit/cases/{running}/replay?step=6")))  # the chase timers
    assert "系统（计时器）" in step and "2026-03-05 09:00:00" in step
    assert marked(step, "marks-token") == ["join", "review_env", "review_fire"]
    assert {"remind_fire", "remind_env", "chase_fire", "chase_env"} <= set(marked(step, "marks-just"))
    assert "review_housing" in marked(step, "marks-done")

    last = text_of(client.get(f"/audit/cases/{running}/replay?step=99"))  # out of range: the last step
    assert "第 7 步 · 延期 2 个工作日" in selected_step(last) and 'href="?step=6"' in last
    assert "需现场核查" in selected_step(last) and "chief" in selected_step(last)
    assert 'data-step="1"' in selected_step(text_of(client.get(f"/audit/cases/{running}/replay?step=x")))


def test_replay_json_has_every_step_with_tokens_and_diff(client, db, auditor, running):
    login(client, "shenji")
    response = client.get(f"/audit/cases/{running}/replay.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    report = json.loads(text_of(response))
    assert report["identical"] is True and report["case_no"] == running and "完全一致" in report["summary"]
    steps = report["steps"]
    assert [s["number"] for s in steps] == list(range(1, 8))
    assert [s["input"] for s in steps] == ["case_started", "task_claimed", "task_released", "task_completed",
                                           "task_completed", "tick", "deadline_extended"]
    accept = steps[3]
    assert set(REVIEWS + TIMERS) == set(accept["active_after"]) and accept["completed"] == ["accept", "split"]
    assert accept["changed"]["decision"] == [None, "受理"] and accept["identical"] is True
    assert accept["title"] == "办理「受理」：受理" and accept["done_before"] == ["start"]
    assert steps[5]["actor"] == "system" and steps[5]["title"].startswith("计时触发")
    assert report["elements"]["review_fire"] == "消防部门审查"
    assert "events" not in accept and "diff" not in accept  # page-only fields stay out of the JSON


def test_a_closed_case_replays_to_its_end(client, db, auditor, joint, clerk):
    case_no = run_case(db, clerk)
    login(client, "shenji")
    report = json.loads(text_of(client.get(f"/audit/cases/{case_no}/replay.json")))
    last = report["steps"][-1]
    assert last["active_after"] == [] and {"issue", "end"} <= set(last["completed"])
    assert {"accept", "review_env", "review_fire", "review_housing", "join"} <= set(last["done_before"])
    body = text_of(client.get(f"/audit/cases/{case_no}/replay?step={last['number']}"))
    step = selected_step(body)
    assert marked(step, "marks-token") == [] and "issue" in marked(step, "marks-just")
    assert "办结" in body and "已办结" in body


def test_clock_events_and_warnings_appear(client, db, auditor):
    """Supplement (the clock paused and resumed), a fired chase, warnings: all on the timeline."""
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口"])
    with clock.frozen_at(T0):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": True}, window).case_no
        complete_task(db, _task(db, case_no, "accept"), ACCEPT_DATA, window)
    with clock.frozen_at(T0 + timedelta(days=3)):
        complete_task(db, _task(db, case_no, "supplement"), {"opinion": "同意"}, window)
    for hours in (30, 200):
        tick(db, T0 + timedelta(days=3, hours=hours))
    login(client, "shenji")
    body = text_of(client.get(f"/audit/cases/{case_no}/replay"))
    timeline = body[body.index('id="timeline"'):]
    assert "暂停计时「等待申请人补正」" in timeline and "恢复计时" in timeline
    assert "计时触发「一个工作日未办」 → 催办" in timeline
    # issue 15, item 10: an overrun step and a passed deadline are yellow cards; the day before is a reminder
    assert "时限预警（黄牌（超期）·环节时限、临期提醒·承诺时限、黄牌（超期）·承诺时限）" in timeline


def test_a_divergence_is_shown_and_the_re_executed_steps_still_step(client, db, auditor):
    """The calendar changed after the case ran: the acceptance now yields another deadline."""
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口"])
    with clock.frozen_at(T0):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, window).case_no
        complete_task(db, _task(db, case_no, "accept"), ACCEPT_DATA, window)
    set_override(db, date(2026, 3, 4), False, "临时停电闭厅", "admin")
    login(client, "shenji")
    body = text_of(client.get(f"/audit/cases/{case_no}/replay"))
    assert "重新执行与记录不一致" in body and "第 2 次变更" in body and "clock_started" in body
    assert "转到不一致的第 2 步" in body and '<li class=" is-diverged" data-step="2">' in body
    step = selected_step(text_of(client.get(f"/audit/cases/{case_no}/replay?step=2")))
    assert '<span class="replay-check check-bad">不一致</span>' in step and "重新执行得到的事件" in step
    assert marked(step, "marks-just") == ["accept", "merge", "need"]  # as re-executed
    assert "流程图标记为重新执行得到的状态" in step
    assert 'data-step="1"' in selected_step(body)  # the first step still shows


def test_clerk_gets_403_and_anonymous_the_login(client, db, running):
    for path in (f"/audit/cases/{running}/replay", f"/audit/cases/{running}/replay.json",
                 f"/audit/cases/{running}/replay?step=2"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    login(client, "clerk")
    for path in (f"/audit/cases/{running}/replay", f"/audit/cases/{running}/replay.json"):
        assert client.get(path).status_code == 403, path
        assert client.post(path).status_code in (403, 405), path
    assert views_of(db) == []


def test_each_view_is_logged_and_the_routes_are_get_only(app, client, db, auditor, running):
    from webapp.access import ACCESS_ATTR

    login(client, "shenji")
    client.get(f"/audit/cases/{running}/replay")
    client.get(f"/audit/cases/{running}/replay?step=3")
    client.get(f"/audit/cases/{running}/replay.json")
    assert views_of(db) == [("shenji", running, "replay"), ("shenji", running, "replay"),
                            ("shenji", running, "replay json")]
    assert client.post(f"/audit/cases/{running}/replay").status_code == 405
    rules = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint in ("audit.replay", "audit.replay_json")}
    assert set(rules) == {"audit.replay", "audit.replay_json"}
    for endpoint, rule in rules.items():
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}
        assert getattr(app.view_functions[endpoint], ACCESS_ATTR) == ("auditor",)
    dossier = text_of(client.get(f"/audit/cases/{running}"))
    assert f'href="/audit/cases/{running}/replay"' in dossier
    assert "查看重放" in dossier[dossier.index('id="views"'):]  # the dossier lists the replay views
    assert f'href="/audit/cases/{running}/replay"' in text_of(client.get("/audit?item=DEMO-001"))


def test_an_unknown_case_is_404(client, db, auditor, joint):
    login(client, "shenji")
    assert client.get("/audit/cases/20000101000099/replay").status_code == 404
    assert client.get("/audit/cases/20000101000099/replay.json").status_code == 404


def test_an_escalation_names_the_task_it_opened_and_called_processes_are_named_from_events():
    """An interrupting timer that takes a review to the chief (督办): the title says where the case went.
    A task inside a called (shared) process is not on the case's diagram; its recorded name is used."""
    elements = {"review": {"name": "规划审查", "kind": "userTask", "attached_to": ""},
                "overdue": {"name": "3个工作日未办结", "kind": "boundaryEvent", "attached_to": "review"},
                "chief": {"name": "分管领导督办审批", "kind": "userTask", "attached_to": ""}}
    at = "2026-03-05T01:00:00+00:00"
    event = {"actor": "system", "at": at}
    steps = [Step(0, at, "clerk", "task_completed", "accept", [], [], ["review", "overdue", "district"], ["accept"]),
             Step(1, at, "system", "tick", "overdue",
                  [{**event, "type": "step_completed", "element_id": "overdue", "data": {"name": "3个工作日未办结"}},
                   {**event, "type": "timer_fired", "element_id": "overdue", "data": {}}], [], ["chief", "district"],
                  ["overdue"]),
             Step(2, at, "clerk", "task_completed", "district",
                  [{**event, "type": "task_completed", "element_id": "district", "data": {"name": "区民政局审批"}}],
                  [], ["chief"], ["district"])]
    views = replay_steps(ReplayReport("20260305000001", True, steps), elements)
    assert views[1]["title"] == "计时触发「3个工作日未办结」 → 进入「分管领导督办审批」"
    assert views[1]["done_before"] == ["accept"] and views[2]["done_before"] == ["accept", "overdue"]
    assert views[0]["names"]["district"] == "区民政局审批" and views[2]["title"] == "办理「区民政局审批」"


def test_the_replay_verdict_reads_in_english_on_an_english_page(client, db, auditor, running):
    """The verdict is the engine's sentence (audit/replay.py, said): English for an auditor who chose it."""
    from markupsafe import escape
    from test_engine_messages import _english_for

    login(client, "shenji")
    client.get("/audit?lang=en")
    body = text_of(client.get(f"/audit/cases/{running}/replay"))
    report = replay_case(db, running)
    verdict = _english_for("办件 %(case_no)s：重新执行 %(n)s 次变更，结果与记录完全一致") % {
        "case_no": running, "n": len(report.steps)}
    assert str(escape(verdict)) in body and "结果与记录完全一致" not in body
    assert report.summary.endswith("结果与记录完全一致")  # the engine itself says it in Chinese
