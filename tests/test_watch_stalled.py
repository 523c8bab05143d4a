"""The supervisor's watch list (issue 16, item 8): warnings one row per case and level with the step by name,
batch 确认 (each warning one engine call, refusals named), stalled cases and incidents listed, the
supervisors' own cases (SUP-…) apart from applicants' in every figure and table, and no applicant among
the staff of the performance tables.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from conftest import PROCESSES, make_actor
from sqlalchemy import update
from test_incidents import T0, _stalled_joint_case
from test_web import csrf_token, login, post_form, text
from watch_scenarios import accept, local, setup

from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.errors import PermissionDenied
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import users
from engine.watch import performance, watchlist
from engine.watch.dashboard import dashboard
from engine.watch.supervision import WarningFilter, acknowledge_many, open_exception


@pytest.fixture
def overdue(db):
    """Two cases at 梁子镇, both overdue on 27 February: each a yellow card on its deadline and on its review
    step (one row), and an earlier reminder (a row of its own)."""
    people = setup(db)
    first = accept(db, people, "2026-02-12 10:00", unit="梁子镇")
    second = accept(db, people, "2026-02-12 10:05", unit="梁子镇")
    tick(db, local("2026-02-25 00:01"))
    tick(db, local("2026-02-27 00:01"))
    return people, first, second


def test_one_row_per_case_and_level_with_the_steps_by_name(db, overdue):
    _, first, second = overdue
    rows = watchlist.warning_rows(db, WarningFilter(state="all"))
    assert rows["supervision"] == []
    keys = [(r["case_no"], r["level"]) for r in rows["applicants"]]
    assert sorted(keys) == sorted({(no, level) for no in (first, second) for level in ("yellow", "reminder")})
    yellow = next(r for r in rows["applicants"] if (r["case_no"], r["level"]) == (first, "yellow"))
    assert sorted(yellow["kinds"]) == ["committed", "step"] and len(yellow["open_ids"]) == 2
    assert yellow["steps"] == ["审查"]  # the step's name, never `review`


def test_the_page_shows_one_row_per_case_and_level_and_the_step_name(client, db, overdue):
    _, first, _ = overdue
    login(client, "centre-watch")
    page = text(client.get("/watch/warnings?state=all"))
    assert page.count(f'data-case="{first}" data-level="yellow"') == 1
    assert page.count(f'data-case="{first}" data-level="reminder"') == 1
    assert "黄牌（超期）·承诺时限、环节时限" in page or "黄牌（超期）·环节时限、承诺时限" in page
    assert "<td class=\"steps\">审查</td>" in page and ">review<" not in page


def test_batch_acknowledge_settles_every_ticked_row_each_in_its_own_case_chain(client, db, overdue):
    _, first, second = overdue
    rows = watchlist.warning_rows(db)["applicants"]
    ticked = [",".join(map(str, r["open_ids"])) for r in rows if r["level"] == "yellow"]
    login(client, "centre-watch")
    done = client.post("/watch/warnings/acknowledge", data={
        "warnings": ticked, "csrf_token": csrf_token(client, "/watch/warnings"), "back": "/watch/warnings"},
        follow_redirects=True)
    assert done.status_code == 200
    assert f"已确认办件 {first}、{second} 的预警" in text(done) or f"已确认办件 {second}、{first} 的预警" in text(done)
    for case_no in (first, second):
        warnings = queries.case_detail(db, case_no)["clock"]["warnings"]
        assert {w["level"] for w in warnings if w["acknowledged_by"]} == {"yellow"}
        assert "reminder" in {w["level"] for w in warnings if not w["acknowledged_by"]}
        events = [e for e in queries.case_history(db, case_no) if e["type"] == "warning_acknowledged"]
        assert len(events) == 2 and {e["actor"] for e in events} == {"centre-watch"}  # one event per warning


def test_a_refused_warning_is_named_and_the_others_still_go_through(db, overdue):
    people, first, second = overdue
    rows = watchlist.warning_rows(db)["applicants"]
    one = next(r for r in rows if (r["case_no"], r["level"]) == (first, "reminder"))["open_ids"]
    other = next(r for r in rows if (r["case_no"], r["level"]) == (second, "reminder"))["open_ids"]
    with db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "centre-watch").values(display_name="周监察"))
    acknowledge_many(db, one, people.supervisor)
    result = acknowledge_many(db, [*one, *other, 987654], people.supervisor)
    assert result.acknowledged == [second]
    named = dict(result.failed)
    assert "已由周监察确认" in named[first] and "centre-watch" not in named[first]  # who, by name: the display name
    assert "预警 987654" in named and "不存在" in named["预警 987654"]


def test_batch_acknowledge_refuses_strangers_empty_and_tampered_forms(client, db, overdue):
    people, first, _ = overdue
    ids = watchlist.warning_rows(db)["applicants"][0]["open_ids"]
    with pytest.raises(PermissionDenied):
        acknowledge_many(db, ids, people.window)
    assert client.post("/watch/warnings/acknowledge", data={"warnings": "1"}).status_code in (302, 400)
    make_actor(db, "clerk1", ["受理窗口"])
    login(client, "clerk1")
    assert post_form(client, "/watch/warnings/acknowledge", {"warnings": str(ids[0])}, "/desk").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/desk")})
    login(client, "centre-watch")
    for hostile in ("abc", "1;DROP TABLE cases", "-1", "9" * 40, ""):
        answer = client.post("/watch/warnings/acknowledge", data={
            "warnings": hostile, "csrf_token": csrf_token(client, "/watch/warnings"),
            "back": "https://evil.example/"}, follow_redirects=False)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/watch/warnings"), hostile
    page = text(client.get("/watch/warnings"))
    assert "所选预警无效" in page or "请先勾选" in page
    assert all(not w["acknowledged_by"] for w in queries.case_detail(db, first)["clock"]["warnings"])


def test_stalled_cases_are_listed_before_and_after_the_scheduler_records_them(client, db, cold, monkeypatch):
    case_no = _stalled_joint_case(db, monkeypatch)
    make_actor(db, "watcher", [], ["supervisor"])
    login(client, "watcher")
    before = watchlist.stalled_cases(db)["applicants"]
    assert [(r["case_no"], r["kinds"], r["step"]) for r in before] == [(case_no, ["stalled"], "并联审查")]
    tick(db, T0 + timedelta(minutes=1))
    [after] = watchlist.stalled_cases(db)["applicants"]
    assert after["incident_ids"] and after["kind_names"] == ["停滞"]
    page = text(client.get("/watch/warnings"))
    assert 'id="stalled"' in page and case_no in page and "并联审查" in page and "mi_parallel" not in page
    assert "2026-03-02 09:00" in page


def test_supervision_cases_are_counted_apart_in_every_figure(client, db, overdue):
    people, first, _ = overdue
    deploy_package(db, load_package(PROCESSES / "supervision" / "exception-handling"), "analyst")
    before = dashboard(db)
    exception = open_exception(db, first, people.supervisor, "审查超期，申请人投诉")
    after = dashboard(db)
    assert (after.total, after.open, after.by_status, after.by_item) == \
        (before.total, before.open, before.by_status, before.by_item)
    assert after.supervision["total"] == after.supervision["open"] == 1
    assert all(item["code"] != "SUP-EXCEPTION" for item in after.by_item)
    login(client, "centre-watch")
    figures = client.get("/watch/dashboard.json").get_json()
    assert figures["supervision"]["open"] == 1 and figures["total"] == before.total
    assert 'data-figure="supervision-open">1<' in text(client.get("/watch"))
    assert exception not in text(client.get("/watch/warnings?state=all"))  # no warning of it yet: no row


def test_applicants_never_appear_among_staff_in_performance(db):
    """A 补正 answered online — by a registered applicant, or with the follow-up code (`applicant:<no>`) —
    is a completed step; neither is a member of staff, so neither is a row of the people's table."""
    from conftest import deploy

    from engine.org import orgtree
    from engine.time import clock

    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    applicant = make_actor(db, "wangwu", [], ["applicant"])
    answered = []
    for who in ("registered", "follow-up"):
        with clock.frozen_at(local("2026-12-01 10:00")):
            case_no = casework.start_case(db, "AJ-003", {"applicant_name": "王五"}, applicant).case_no
            review = next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept_review")
            casework.complete_task(db, review.task_id, {"decision": "补正",
                                                        "missing_materials": ["应急预案文本（盖章）"]}, window)
        actor = applicant if who == "registered" else casework.applicant_actor(case_no)
        with clock.frozen_at(local("2026-12-03 10:00")):
            casework.answer_as_applicant(db, case_no, {"supplement_received": "应急预案文本（已盖章）",
                                                       "supplement_received_on": "2026-12-03"}, actor)
        answered.append(actor.username)
    report = performance.evaluate(db, date(2026, 12, 1), date(2026, 12, 31))
    people = {m.key for m in report.people}
    assert "aj" in people
    assert not people & set(answered) and not any(key.startswith("applicant") for key in people)
