"""The auditor's side: `onewindow verify` / `checkpoint`, and the /audit pages (S-14, S-16).

Auditors read everything and change nothing: every /audit route is a GET and role-checked, and
their views of cases are themselves logged. The search filters, the CSV and the dossier are checked
against cases made through the engine (the demo joint-review item).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
from cli_helpers import run
from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import select, text
from test_audit_integrity import case_id, run_case, tampering

from engine.audit.auditor import SearchFilters, search_cases
from engine.audit.checkpoints import make_checkpoint
from engine.desk.casework import complete_task, start_case
from engine.reads import queries
from engine.store.tables import audit_views, case_warnings
from engine.time import clock

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DAY1 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on 2 March in the district
DAY2 = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # 01:00 on 6 March in the district


# --- the command line ------------------------------------------------------------------------------


def test_cli_checkpoint_then_verify_a_clean_database(env_db, joint, clerk, capsys):
    case_no = run_case(env_db, clerk)
    status, out, _ = run(capsys, "checkpoint", "--as", "clerk")
    assert status == 0 and "checkpoint 1: 1 case chain(s) recorded; hash " in out
    status, out, _ = run(capsys, "checkpoint")
    assert status == 0 and "nothing moved since checkpoint 1" in out
    status, out, _ = run(capsys, "verify", case_no)
    assert status == 0 and f"case {case_no}: intact" in out and "1 checkpoint head(s) match" in out
    status, out, _ = run(capsys, "verify", "--all")
    assert status == 0
    assert re.search(r"verified 1 case\(s\), \d+ event\(s\), 1 checkpoint\(s\) in [\d.]+ s \([\d,]+ events/s\): "
                     r"all intact", out), out
    assert "latest checkpoint: 1 at " in out


def test_cli_verify_reports_the_broken_case_and_exits_1(env_db, joint, clerk, capsys):
    good, bad = run_case(env_db, clerk), run_case(env_db, clerk)
    with tampering(env_db) as conn:
        conn.execute(text(f"UPDATE audit_events SET data = '{{}}' WHERE case_id = {case_id(env_db, bad)} AND seq = 2"))
    status, out, _ = run(capsys, "verify", "--all")
    assert status == 1
    assert f"case {bad}: BROKEN from event 2 — event 2: data changed (hash mismatch)" in out
    assert good not in out and "1 broken case(s)" in out
    status, out, _ = run(capsys, "--json", "verify", "--all")
    report = json.loads(out)
    assert status == 1 and report["ok"] is False and report["broken_count"] == 1
    assert report["broken"][0]["case_no"] == bad and report["broken"][0]["first_broken_event"] == 2
    assert report["events"] > 20 and report["events_per_second"] > 0
    status, out, _ = run(capsys, "verify", bad, "--json")
    assert status == 1 and json.loads(out)["first_problem"] == "event 2: data changed (hash mismatch)"
    assert run(capsys, "verify", good)[0] == 0


def test_cli_verify_needs_one_case_or_all(env_db, capsys):
    status, _, err = run(capsys, "verify")
    assert status == 2 and "give one case number, or --all" in err
    status, _, err = run(capsys, "verify", "20260101000001")
    assert status == 1 and err.startswith("error: ") and "不存在" in err


# --- the web pages --------------------------------------------------------------------------------



def login(client, username: str, password: str = "secret-pw"):
    page = client.get("/login")
    token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def auditor(db):
    return make_actor(db, "shenji", [], ["auditor"])


@pytest.fixture
def cases_made(db, joint, clerk):
    """Three cases: one closed on day 1 by `clerk`, one left at `accept` on day 1 with a red warning, and
    one accepted on day 2 (Beijing date) by `other`, a second clerk."""
    other = make_actor(db, "other", ["受理窗口", "住建审查", "消防审查", "环保审查"])
    with clock.frozen_at(DAY1):
        closed = run_case(db, clerk)
        warned = start_case(db, "DEMO-001", {}, clerk).case_no
    with clock.frozen_at(DAY2):
        later = start_case(db, "DEMO-001", {}, other).case_no
        task = next(t.task_id for t in queries.open_tasks(db, case_no=later) if t.element_id == "accept")
        complete_task(db, task, ACCEPT_DATA, other)
    with db.transaction() as conn:
        conn.execute(case_warnings.insert().values(case_id=case_id(db, warned), level="red", kind="committed",
                                                   raised_at=DAY1, notified=[]))
    return {"closed": closed, "warned": warned, "later": later}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def result_case_nos(response) -> list[str]:
    return re.findall(r'href="/audit/cases/(\d+)"', text_of(response))


def views_of(db) -> list[tuple]:
    with db.reading() as conn:
        return [tuple(r) for r in conn.execute(select(audit_views.c.username, audit_views.c.case_no,
                                                      audit_views.c.what).order_by(audit_views.c.id))]


def test_audit_blueprint_has_only_get_routes_and_every_one_is_role_checked(app):
    from webapp.access import ACCESS_ATTR

    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert len(rules) >= 6
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, (rule.rule, rule.methods)
        assert getattr(app.view_functions[rule.endpoint], ACCESS_ATTR) == ("auditor",), rule.rule


def test_clerk_gets_403_on_every_audit_page(client, db, cases_made):
    login(client, "clerk")
    no = cases_made["closed"]
    for path in ("/audit", "/audit/export.csv", "/audit/verify", f"/audit/verify?case={no}",
                 f"/audit/cases/{no}", f"/audit/cases/{no}.json", "/audit/views"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/audit/cases/{no}").status_code in (403, 405)
    assert views_of(db) == []
    assert "/audit" not in text_of(client.get("/cases"))  # no nav link for clerks


def test_anonymous_is_sent_to_login(client, cases_made):
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_auditor_searches_by_every_filter(client, db, auditor, cases_made):
    login(client, "shenji")
    page = client.get("/audit")
    assert page.status_code == 200 and "审计查询" in text_of(page) and 'href="/audit"' in text_of(page)
    assert sorted(result_case_nos(client.get("/audit?item=DEMO-001"))) == sorted(cases_made.values())
    assert result_case_nos(client.get("/audit?item=NOPE")) == []
    assert len(result_case_nos(client.get("/audit?department=区行政服务中心"))) == 3
    assert result_case_nos(client.get("/audit?date_from=2026-03-06")) == [cases_made["later"]]
    assert sorted(result_case_nos(client.get("/audit?date_to=2026-03-05"))) == sorted(
        [cases_made["closed"], cases_made["warned"]])
    assert result_case_nos(client.get("/audit?date_from=2026-03-02&date_to=2026-03-02&closed=closed")) == [
        cases_made["closed"]]
    assert result_case_nos(client.get("/audit?status=completed")) == [cases_made["closed"]]
    assert result_case_nos(client.get("/audit?clerk=other")) == [cases_made["later"]]
    assert sorted(result_case_nos(client.get("/audit?clerk=clerk"))) == [cases_made["closed"]]
    assert result_case_nos(client.get("/audit?warning=red")) == [cases_made["warned"]]
    assert result_case_nos(client.get("/audit?warning=any")) == [cases_made["warned"]]
    assert sorted(result_case_nos(client.get("/audit?warning=none"))) == sorted(
        [cases_made["closed"], cases_made["later"]])
    assert result_case_nos(client.get("/audit?warning=yellow")) == []
    bad = client.get("/audit?date_from=2026-13-01")
    assert bad.status_code == 400 and "起始日期" in text_of(bad)
    logged = views_of(db)
    assert ("shenji", None, "search: item=DEMO-001") in logged
    assert all(username == "shenji" and case_no is None for username, case_no, _ in logged)


def test_search_results_are_paginated(client, db, auditor, joint, clerk, monkeypatch):
    made = [start_case(db, "DEMO-001", {}, clerk).case_no for _ in range(3)]
    first = search_cases(db, SearchFilters(), page=1, per_page=2)
    second = search_cases(db, SearchFilters(), page=2, per_page=2)
    assert first.total == 3 and first.pages == 2 and len(first.rows) == 2 and len(second.rows) == 1
    assert sorted(r["case_no"] for r in first.rows + second.rows) == sorted(made)
    assert first.rows[0]["case_no"] == made[-1]  # newest first
    monkeypatch.setattr("engine.audit.auditor.PER_PAGE", 2)
    login(client, "shenji")
    page_two = client.get("/audit?item=DEMO-001&page=2")
    assert result_case_nos(page_two) == [made[0]] and "第 2 / 2 页" in text_of(page_two)
    assert 'href="/audit?page=1&amp;item=DEMO-001"' in text_of(page_two)


def test_csv_of_a_search_result(client, db, auditor, cases_made):
    login(client, "shenji")
    response = client.get("/audit/export.csv?clerk=clerk")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = text_of(response)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:3] == ["办件编号", "事项编码", "事项名称"]
    assert [r[0] for r in rows[1:]] == [cases_made["closed"]]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["状态代码"] == "completed" and record["状态"] == "已办结" and record["经办人"] == "clerk"
    assert record["申请时间（北京时间）"] == "2026-03-02 10:00:00"
    everything = list(csv.reader(io.StringIO(text_of(client.get("/audit/export.csv")).lstrip("\ufeff"))))
    assert len(everything) == 4
    assert ("shenji", None, "export csv: clerk=clerk") in views_of(db)


def test_dossier_json_has_everything_and_the_view_is_logged(client, db, auditor, cases_made):
    no = cases_made["closed"]
    make_checkpoint(db)
    login(client, "shenji")
    response = client.get(f"/audit/cases/{no}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    d = json.loads(text_of(response))
    assert d["case"]["case_no"] == no and d["case"]["item_code"] == "DEMO-001"
    assert d["case"]["department"] == "区行政服务中心" and d["case"]["status"] == "completed"
    assert d["version"]["number"] == 1 and len(d["version"]["content_hash"]) == 64
    history = queries.case_history(db, no)
    assert [e["hash"] for e in d["events"]] == [e["hash"] for e in history]
    assert d["events"][0]["prev_hash"] == "0" * 64
    assert [x["element_id"] for x in d["decisions"]] == ["accept", "review_housing", "review_fire", "review_env",
                                                         "issue"]
    assert d["decisions"][0]["data"] == ACCEPT_DATA and d["decisions"][0]["actor"] == "clerk"
    assert d["clock"]["committed_deadline"] is not None
    assert d["receipts"][0]["kind"] == "application" and d["receipts"][0]["event_seq"] == 1
    assert d["attachments"] == [] and "SHA-256" in d["attachments_note"]
    assert d["verification"]["ok"] is True and d["verification"]["checkpoints"] == 1
    assert d["generated_by"] == "shenji"
    assert [(v["username"], v["what"]) for v in d["views"]] == [("shenji", "dossier json")]
    assert views_of(db) == [("shenji", no, "dossier json")]


def test_dossier_page_is_printable_and_shows_who_looked(client, db, auditor, cases_made):
    no = cases_made["warned"]
    login(client, "shenji")
    client.get(f"/audit/verify?case={no}")
    page = client.get(f"/audit/cases/{no}")
    body = text_of(page)
    assert page.status_code == 200
    assert "审计案卷" in body and "校验通过" in body and "css/audit.css" in body and "data-print" in body
    assert "红牌" in body  # the warning
    assert "查阅记录" in body
    looked = body[body.index('id="views"'):]
    assert looked.count("shenji") == 2 and "校验办件记录" in looked and "查阅案卷" in looked
    assert ">verify<" not in looked and ">dossier<" not in looked  # the view log in Chinese (issue 16, item 10)
    css = client.get("/static/css/audit.css")
    assert "@media print" in text_of(css)
    css.close()


def test_dossier_masks_the_phone_and_id_numbers_the_clerk_recorded(client, db, auditor, joint, clerk):
    """The dossier reads every event's data, with a phone number as a receipt prints it (138****5678) and an ID
    number to its last four: the exact values are the JSON download's (S-14 openly recorded, S-16 the
    auditor's independent view — not a copy of people's numbers)."""
    with clock.frozen_at(DAY1):
        case_no = start_case(db, "DEMO-001", {}, clerk).case_no
        task = next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")
        complete_task(db, task, {**ACCEPT_DATA, "phone": "13812345678"}, clerk)
    login(client, "shenji")
    body = text_of(client.get(f"/audit/cases/{case_no}"))
    assert "138****5678" in body and "13812345678" not in body
    assert ACCEPT_DATA["id_number"] not in body and ACCEPT_DATA["id_number"][-4:] in body
    exact = json.loads(text_of(client.get(f"/audit/cases/{case_no}.json")))
    assert "13812345678" in json.dumps(exact)


def test_dossier_shows_tampering(client, db, auditor, cases_made):
    no = cases_made["closed"]
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {case_id(db, no)} AND seq = 3"))
    login(client, "shenji")
    body = text_of(client.get(f"/audit/cases/{no}"))
    assert "发现篡改" in body and "event 3 missing (seq jumps 2→4)" in body
    verify_page = text_of(client.get("/audit/verify?all=1"))
    assert "发现 1 个办件的记录被篡改" in verify_page and no in verify_page
    assert ("shenji", None, "verify all") in views_of(db)


def test_verify_page_for_one_case_and_all(client, db, auditor, cases_made):
    login(client, "shenji")
    assert "尚无校验点" in text_of(client.get("/audit/verify"))
    make_checkpoint(db)
    page = text_of(client.get(f"/audit/verify?case={cases_made['later']}"))
    assert "校验通过" in page and "最近校验点 #1" in page
    page = text_of(client.get("/audit/verify?all=1"))
    assert "全部校验通过" in page and "共校验 3 个办件" in page
    assert client.get("/audit/verify?case=20000101000099").status_code == 404
    assert ("shenji", cases_made["later"], "verify") in views_of(db)


def test_auditor_reads_the_case_page_and_that_view_is_logged_too(client, db, auditor, cases_made):
    login(client, "shenji")
    no = cases_made["closed"]
    assert client.get(f"/cases/{no}").status_code == 200
    assert views_of(db) == [("shenji", no, "case page")]
    log = text_of(client.get("/audit/views"))
    assert no in log and "case page" in log


def test_admin_may_audit(client, db, cases_made):
    make_actor(db, "boss", [], ["admin"])
    login(client, "boss")
    assert client.get("/audit").status_code == 200
    assert client.get(f"/audit/cases/{cases_made['closed']}.json").status_code == 200
