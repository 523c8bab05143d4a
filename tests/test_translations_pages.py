"""The English UI page by page (issue 16, item 11): an item's guide, the supervisor's warnings, the auditor's
search, a case page and the 403/404 pages hold no Chinese in English but the district's own data.

What counts as data, and so may stay Chinese in any UI (docs/architecture.md §11a), is exactly:
- what the item's own package says (`_package_words`): every string of its item.json (name, department,
  life events, the guide: conditions, materials and their forms, fees, place, hours, legal basis), the name
  of every element of its diagrams (steps, timers, gateways, lanes) and every string of its forms (field
  titles, choices) — written by the district, for its item;
- the org tree's unit names, a department's window by its unit code where the org tree has no such unit
  (`区中心/区行政服务中心`, as the engine names it), and the groups of the people in the test (`受理窗口` …);
- what people typed or the record says: the applicant's name and answers, reasons, the engine's recorded
  notification texts (`办件 …：催办…`) and the case's notices, which are Chinese legal documents and keep
  their Chinese titles (`受理通知书`, `延期告知书`);
- the brand mark 一窗 and the language switch's 中文 (taken out by `_chinese_left`).
Nothing else: a label, a status, an event, a role, a warning level, a button, a flash or an error message
in Chinese fails the test, with its context.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA, ALL_GROUPS, PROCESSES, deploy, make_actor
from lxml import etree
from test_translations import _chinese_left, _data_words, log_in_english

from engine.desk.casework import claim_task, complete_task, start_case
from engine.desk.clockops import extend_deadline
from engine.diagrams.package import load_package
from engine.diagrams.procedure import item_steps as procedure_steps
from engine.org import orgtree
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in the district
NOTICE_TITLES = {"受理通知书", "延期告知书"}  # the case's notices: Chinese legal documents in every UI
RECORDED = {"张三", "11010119900101123X", "受理", "同意", "需现场核查"}  # what was typed in this test's case


def _package_words(folder: str) -> set[str]:
    """Every string the item's package (item.json, diagrams, forms) says: the district's words for its item."""
    package = load_package(PROCESSES / folder)
    words: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            words.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(package.metadata)
    for name, text in package.files.items():
        if name.endswith(".json"):
            walk(json.loads(text))
        elif name.endswith((".bpmn", ".dmn")):
            for element in etree.fromstring(text.encode()).iter():
                words.update(v for v in element.attrib.values())
                words.update(t.strip() for t in (element.text,) if t and t.strip())
    return {w for w in words if w}


@pytest.fixture
def case_no(db, joint) -> str:
    """A joint-review case accepted, one review done, the others' chase timers fired, the deadline extended,
    then left until it is overdue (yellow cards on /watch/warnings)."""
    orgtree.install(db)
    clerk = make_actor(db, "clerk", ALL_GROUPS)
    chief = make_actor(db, "chief", ALL_GROUPS, ["chief"])
    with clock.frozen_at(T0):
        number = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
        accept = next(t.task_id for t in queries.open_tasks(db, case_no=number) if t.element_id == "accept")
        claim_task(db, accept, clerk)
        complete_task(db, accept, ACCEPT_DATA, clerk)
    with clock.frozen_at(T0 + timedelta(hours=5)):
        review = next(t.task_id for t in queries.open_tasks(db, case_no=number) if t.element_id == "review_housing")
        complete_task(db, review, {"opinion": "同意"}, clerk)
    tick(db, T0 + timedelta(days=3))
    with clock.frozen_at(T0 + timedelta(days=3, hours=1)):
        extend_deadline(db, number, 2, "需现场核查", chief)
    tick(db, T0 + timedelta(days=30))
    return number


def _allowed(db, folder: str = "demo-joint-review", case_no: str | None = None) -> set[str]:
    notified = {str((e["data"] or {}).get("message")) for e in (queries.case_history(db, case_no) if case_no else [])
                if e["type"] == "notified"}  # the texts the engine recorded (`办件 …：催办…`): what was said
    # a department's window by its unit code when the org tree has no such unit (the engine shows the code as is)
    windows = {orgtree.department_unit(item["department"]) for item in queries.list_items(db)}
    return {*_package_words(folder), *_data_words(db), *ALL_GROUPS, *NOTICE_TITLES, *RECORDED, *notified, *windows}


def _english_page(client, path: str) -> str:
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page, (path, response.status_code)
    return page


def test_an_items_guide_is_english_but_for_what_the_item_says(client, db):
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-001")
    client.get("/hall?lang=en")
    page = _english_page(client, "/hall/items/MZ-001")
    assert "Service guide" in page and "District level (can also be accepted at" in page and "Log in to apply" in page
    procedure = {text for step in procedure_steps(db, "MZ-001") for text in (step.name, step.who)}  # its lanes
    assert _chinese_left(page, _allowed(db, "catalogue/minzheng/MZ-001") | procedure) == []


def test_the_supervisors_warnings_are_english_but_for_cases_and_groups(client, db, case_no):
    make_actor(db, "jiancha", [], ["supervisor"])
    log_in_english(client, "jiancha")
    page = _english_page(client, "/watch/warnings")
    assert case_no in page and "Yellow card (overdue)" in page and "Committed time limit" in page
    assert _chinese_left(page, _allowed(db)) == []


def test_the_auditors_search_is_english_but_for_cases(client, db, case_no):
    make_actor(db, "shenji", [], ["auditor"])
    log_in_english(client, "shenji")
    page = _english_page(client, "/audit?applicant=%E5%BC%A0%E4%B8%89")
    assert case_no in page and "In progress" in page
    assert _chinese_left(page, _allowed(db)) == []


def test_a_case_page_is_english_but_for_the_case_and_its_item(client, db, case_no):
    log_in_english(client, "clerk")
    page = _english_page(client, f"/cases/{case_no}")
    assert "Extension" in page and "Previous committed deadline" in page and ">Hearing</option>" in page
    assert _chinese_left(page, _allowed(db, case_no=case_no)) == []


def test_the_403_and_404_pages_are_english_even_when_the_engine_refused(client, db, case_no):
    """403 from a role check (the web's own words) and 404 for a page and for a case number that does not exist
    (the engine's Chinese refusal, replaced by the status's English message)."""
    log_in_english(client, "clerk")
    forbidden = client.get("/watch")
    assert forbidden.status_code == 403
    page = forbidden.get_data(as_text=True)
    assert "This page is for Supervision only; if you need it for your work, ask your administrator" in page
    assert _chinese_left(page, _allowed(db)) == []
    for path in ("/no/such/page", "/cases/99999999999999", "/hall/items/NO-SUCH"):
        missing = client.get(path)
        page = missing.get_data(as_text=True)
        assert missing.status_code == 404 and '<html lang="en">' in page and "Not found" in page, path
        assert _chinese_left(page, _allowed(db)) == [], path


def test_the_same_refusals_stay_chinese_for_chinese_users_and_in_the_api(client, db, case_no):
    """The hostile side: the English fallback is for pages in English only — a Chinese page still names the
    missing case, and the JSON API answers in Chinese whatever language the session chose."""
    log_in_english(client, "clerk")
    client.get("/desk?lang=zh")
    assert "办件 99999999999999 不存在；请核对办件编号。" in client.get("/cases/99999999999999").get_data(as_text=True)
    client.get("/desk?lang=en")
    answer = client.get("/api/v1/no-such-thing")
    assert answer.status_code in (401, 404) and answer.is_json
    assert "\u4e00" <= answer.get_json()["message"][0] <= "\u9fff"  # Chinese, not the session's English


def test_the_webs_tables_of_engine_words_say_in_chinese_what_the_engine_says(app):
    """The engine's Chinese words the web translates at its edge (special procedures, the watch's scopes) are
    re-keyed in lazy tables; each must stay the engine's own in Chinese, and an unknown value shows as it is."""
    from engine.desk.clockops import SPECIAL_PROCEDURES
    from engine.watch import watchlist
    from webapp import formatting, watch

    with app.test_request_context("/"):
        assert {k: str(v) for k, v in formatting.PROCEDURE_NAMES.items()} == {p: p for p in SPECIAL_PROCEDURES}
        assert {k: str(v) for k, v in watch.SCOPE_NAMES.items()} == watchlist.SCOPE_NAMES
        assert formatting.procedure_name("<script>") == "<script>" and formatting.procedure_name(None) == ""
