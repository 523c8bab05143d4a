"""Finding people and cases (issue 16, item 7): one engine search (engine/reads/casesearch) behind the desk's
办件查询 and the auditor's search — by name part, ID number, phone, case number, item and date; who sees a case
is caseaccess's rule exactly; hostile input finds nothing and breaks nothing."""

from __future__ import annotations

import pytest
from conftest import deploy, log_in, make_actor

from engine.desk import casework
from engine.org import orgtree
from engine.reads import casesearch, queries
from engine.reads.casesearch import CaseQuery
from engine.time import clock

LI = {"applicant_name": "李梅", "id_number": "42070419800101123x", "phone": "13900001111"}
WANG = {"applicant_name": "王小梅", "id_number": "420704199001011234", "phone": "13900002222"}
HOSTILE = ["' OR 1=1 --", "%", "_", "梅%", "x" * 10_000, "李\x00梅\x1b[31m", "42070419800101123X'; DROP TABLE cases;--",
           "%' UNION SELECT case_no FROM cases --"]


@pytest.fixture
def found(db):
    """Two JG-003 cases by two applicants; a clerk of the window that took them in, one of another unit."""
    orgtree.install(db)
    deploy(db, "catalogue/jinggai/JG-003")
    li = casework.start_case(db, "JG-003", LI, make_actor(db, "limei", [], ["applicant"])).case_no
    wang = casework.start_case(db, "JG-003", WANG, make_actor(db, "wangxm", [], ["applicant"])).case_no
    accept = queries.open_tasks(db, case_no=li)[0]
    casework.complete_task(db, accept.task_id, {"decision": "受理"}, make_actor(db, "window", [accept.candidate_group]))
    make_actor(db, "stranger", ["区中心/区民政局·窗口"])
    make_actor(db, "audit", [], ["auditor"])
    return li, wang


def numbers(page) -> list[str]:
    return [r["case_no"] for r in page.rows]


def test_every_criterion_finds_its_case(db, found):
    li, wang = found
    auditor = make_actor(db, "audit2", [], ["auditor"])
    look = lambda **args: numbers(casesearch.search_cases(db, auditor, CaseQuery.from_args(args)))  # noqa: E731
    assert look(name="梅") == [wang, li]  # a part of the name, newest first
    assert look(name="李") == [li]
    assert look(id_number="42070419800101123X") == [li]  # recorded upper-case, found either way
    assert look(id_number="42070419800101123x ") == [li]
    assert look(phone="139-0000-2222") == [wang]
    assert look(no=li) == [li]
    today = clock.local_date().isoformat()
    assert look(date_from=today, date_to=today) == [wang, li]  # applied today, the district's day
    assert look(item="JG-003") == [wang, li] and look(item="JG-999") == []
    assert look(date_from="2000-01-01", date_to="2000-01-02") == []
    assert look() == []  # nothing asked, nothing listed


def test_the_id_number_is_recorded_on_the_case(db, found):
    li, _wang = found
    from engine.store.tables import cases
    with db.reading() as conn:
        row = conn.execute(cases.select().where(cases.c.case_no == li)).one()
    assert row.applicant_id_number == "42070419800101123X" and row.applicant_phone == "13900001111"


def test_a_clerk_finds_only_the_cases_that_concern_them(db, found):
    li, wang = found
    query = CaseQuery.from_args({"name": "梅"})
    from engine.org import accounts
    window = accounts.actor_for(db, "window")  # its group holds (or held) the acceptance of both
    assert numbers(casesearch.search_cases(db, window, query)) == [wang, li]
    assert numbers(casesearch.search_cases(db, accounts.actor_for(db, "stranger"), query)) == []
    assert numbers(casesearch.search_cases(db, accounts.actor_for(db, "limei"), query)) == [li]  # own only
    assert numbers(casesearch.search_cases(db, accounts.actor_for(db, "audit"), query)) == [wang, li]


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_input_finds_nothing_and_breaks_nothing(db, found, typed):
    from engine.org import accounts
    auditor = accounts.actor_for(db, "audit")
    for field in ("name", "id_number", "phone", "no", "item", "status", "date_from"):
        page = casesearch.search_cases(db, auditor, CaseQuery.from_args({field: typed}))
        assert page.rows == [], (field, typed)
    assert len(CaseQuery.from_args({"name": "x" * 10_000}).name) == casesearch.MAX_NAME
    assert CaseQuery.from_args({"name": "\u202e梅\x00"}).name == "梅"  # format and control characters dropped


def test_the_desk_lookup_searches_and_keeps_the_number_shortcut(client, db, found):
    li, wang = found
    log_in(client, "window")
    page = client.get("/cases?name=梅")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and li in html and wang in html and "李梅" in html
    assert client.get(f"/cases?no={li}").status_code == 302  # a whole number still opens the case
    for typed in HOSTILE:
        hostile = client.get("/cases", query_string={"name": typed, "id_number": typed, "phone": typed})
        assert hostile.status_code in (200, 400) and wang not in hostile.get_data(as_text=True), typed  # NUL: 400
    log_in(client, "stranger")
    assert li not in client.get("/cases?name=梅").get_data(as_text=True)


def test_the_auditor_searches_people_too(client, db, found):
    li, wang = found
    log_in(client, "audit")
    html = client.get("/audit?id_number=42070419800101123X").get_data(as_text=True)
    assert li in html and wang not in html
    html = client.get("/audit?name=王小").get_data(as_text=True)
    assert wang in html and li not in html
    for typed in HOSTILE:
        assert client.get("/audit", query_string={"name": typed, "phone": typed}).status_code in (200, 400)
    log_in(client, "window")
    assert client.get("/audit?name=梅").status_code == 403
