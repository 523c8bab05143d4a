"""The desk's task list page (desk issue, item 1): GET /desk with filters, sorting, pages and views,
each row's remaining working days in its warning colour — through Flask's test client, CSRF on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA, DATA_DIR, make_actor
from test_web import login, text

from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock
from webapp import create_app

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 2 March, 09:00 district time
ROW_RE = re.compile(r'<tr data-task="[^"]+" class="task-(\w+)">.*?</tr>', re.S)

CLOCK_DATA = {"TEST-CLOCK": {"needs_supplement": False}}  # what TEST-CLOCK's application form asks


@pytest.fixture
def client(db):
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url}, db=db)
    return app.test_client()


@pytest.fixture
def desk(db, joint):
    """Four cases: A (DEMO-001, 张三), B (TEST-CLOCK, 李四, accepted: its review runs on the clock and
    is reminded by 6 March), C (TEST-CLOCK, 王小五), D (DEMO-001, 赵六); a clerk in both of their groups."""
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口", "审查组"])
    cases = {}
    for n, (key, item, name) in enumerate([("A", "DEMO-001", "张三"), ("B", "TEST-CLOCK", "李四"),
                                           ("C", "TEST-CLOCK", "王小五"), ("D", "DEMO-001", "赵六")]):
        with clock.frozen_at(T0 + timedelta(hours=n)):
            cases[key] = start_case(db, item, {"applicant_name": name, **CLOCK_DATA.get(item, {})}, window).case_no
    with clock.frozen_at(T0 + timedelta(hours=5)):  # accepting starts B's clock: deadline 24:00 on 9 March
        accept = queries.open_tasks(db, case_no=cases["B"])[0]
        complete_task(db, accept.task_id, ACCEPT_DATA, window)
    tick(db, datetime(2026, 3, 5, 16, 30, tzinfo=UTC))  # 6 March 00:30: one working day left, a reminder
    return cases


def listing(client, query: str = "") -> str:
    with clock.frozen_at(datetime(2026, 3, 6, 2, 0, tzinfo=UTC)):  # Friday 6 March, 10:00 district time
        response = client.get(f"/desk{query}")
    assert response.status_code == 200
    return text(response)


def case_order(page: str, cases: dict[str, str]) -> list[str]:
    """The cases' keys in the order their rows appear."""
    found = [(page.find(f">{no}</a>"), key) for key, no in cases.items() if f">{no}</a>" in page]
    return [key for _, key in sorted(found)]


def test_filters_narrow_the_rows(client, desk):
    login(client, "window")
    assert case_order(listing(client), desk) == ["B", "D", "C", "A"]  # newest first: B's review came last
    assert case_order(listing(client, "?applicant=小五"), desk) == ["C"]
    assert case_order(listing(client, "?item=TEST-CLOCK"), desk) == ["B", "C"]
    assert case_order(listing(client, "?warning=reminder"), desk) == ["B"]  # issue 15, item 10: not yet a card
    assert case_order(listing(client, "?warning=yellow"), desk) == []
    assert case_order(listing(client, "?status=in_progress"), desk) == ["B"]
    assert case_order(listing(client, f"?case={desk['A']}"), desk) == ["A"]
    assert case_order(listing(client, "?due_before=2026-03-09"), desk) == ["B"]  # due on that day counts
    assert case_order(listing(client, "?due_before=2026-03-08"), desk) == []
    both = listing(client, "?item=DEMO-001&applicant=赵")
    assert case_order(both, desk) == ["D"] and 'value="赵"' in both  # the form keeps what was asked
    assert "没有符合条件的待办任务" in listing(client, "?applicant=不存在")
    assert case_order(listing(client, "?due_before=not-a-date&page=x&sort=nope"), desk) == ["B", "D", "C", "A"]


def test_sort_by_deadline_puts_the_nearest_deadline_first(client, desk):
    login(client, "window")
    assert case_order(listing(client, "?sort=deadline"), desk)[0] == "B"  # the only one with a deadline
    assert case_order(listing(client, "?sort=oldest"), desk) == ["A", "C", "D", "B"]
    assert case_order(listing(client, "?sort=case"), desk) == sorted(desk, key=desk.get)


def test_remaining_working_days_carry_the_warning_colour(client, desk):
    login(client, "window")
    page = listing(client)
    row_b = re.search(rf'<tr data-task="[^"]+" class="task-\w+">(?:(?!</tr>).)*?{desk["B"]}.*?</tr>', page, re.S)
    assert row_b and re.search(r'class="remaining level-reminder"[^>]*><span class="days">1</span>', row_b.group(0))
    assert "2026-03-09" in row_b.group(0)  # 承诺期限, district time
    row_a = re.search(rf'<tr data-task="[^"]+" class="task-\w+">(?:(?!</tr>).)*?{desk["A"]}.*?</tr>', page, re.S)
    assert row_a and 'class="remaining level-unstarted"' in row_a.group(0) and "—" in row_a.group(0)
    for header in ("办件编号", "事项", "申请人", "环节", "状态", "剩余工作日", "承诺期限", "签收人"):
        assert f"<th>{header}</th>" in page


def test_pages_show_the_right_rows(client, db, joint, clerk):
    numbers = []
    for n in range(23):
        with clock.frozen_at(T0 + timedelta(minutes=n)):
            numbers.append(casework.start_case(db, "DEMO-001", {"applicant_name": f"申请人{n}"}, clerk).case_no)
    login(client, "clerk")
    first, second = listing(client), listing(client, "?page=2")
    newest_first = list(reversed(numbers))
    assert len(ROW_RE.findall(first)) == 20 and len(ROW_RE.findall(second)) == 3
    assert all(no in first for no in newest_first[:20]) and not any(no in first for no in newest_first[20:])
    assert all(no in second for no in newest_first[20:]) and not any(no in second for no in newest_first[:20])
    assert "第 1 页 / 共 2 页 · 共 23 条" in first and "第 2 页 / 共 2 页 · 共 23 条" in second
    # the next link carries the last row's sort key (keyset pages, issue 18); page 1 is the start, without one
    assert 'rel="next" href="/desk?page=2&amp;after=' in first and 'rel="prev" href="/desk?page=1"' in second
    filtered = listing(client, "?applicant=申请人&sort=oldest")
    next_link = re.search(r'rel="next" href="([^"]+)"', filtered).group(1)  # the filters ride along
    assert {p for p in next_link.split("?")[1].split("&amp;") if not p.startswith("after=")} == {
        "page=2", "applicant=%E7%94%B3%E8%AF%B7%E4%BA%BA", "sort=oldest"}
    assert "共 0 条" in listing(client, "?page=9&applicant=无此人")
    assert "共 23 条" in listing(client, "?page=99999")  # past the last page: an empty page, not an error
    with clock.frozen_at(datetime(2026, 3, 6, 2, 0, tzinfo=UTC)):  # beyond any integer: refused, saying why
        absurd = client.get("/desk?page=99999999999999999999999")
    assert absurd.status_code == 400 and "page" in absurd.get_data(as_text=True)


def test_views_keep_mine_group_and_others_apart(client, db, joint, clerk):
    colleague = make_actor(db, "window2", ["受理窗口"])
    nos = [casework.start_case(db, "DEMO-001", {"applicant_name": n}, clerk).case_no for n in ("甲", "乙", "丙")]
    casework.claim_task(db, queries.open_tasks(db, case_no=nos[0])[0].task_id, clerk)
    casework.claim_task(db, queries.open_tasks(db, case_no=nos[1])[0].task_id, colleague)
    login(client, "clerk")
    every = listing(client)
    assert sorted(ROW_RE.findall(every)) == ["group", "mine", "others"]
    assert "我已签收" in every and "已由 window2 签收" in every
    mine, group, others = (listing(client, f"?view={v}") for v in ("mine", "group", "others"))
    assert nos[0] in mine and nos[1] not in mine and nos[2] not in mine
    assert nos[2] in group and nos[0] not in group and nos[1] not in group
    assert nos[1] in others and nos[0] not in others and nos[2] not in others
    assert 'aria-current="page">我已签收</a>' in mine


def test_a_clerk_never_sees_another_groups_tasks(client, db, desk):
    make_actor(db, "fire", ["消防审查"])
    login(client, "fire")
    page = listing(client)
    assert ROW_RE.findall(page) == [] and not any(no in page for no in desk.values())
    assert "共 0 条" in page
    for query in ("?view=others", f"?case={desk['A']}", "?warning=reminder", "?page=2"):
        assert case_order(listing(client, query), desk) == []  # (the case filter's own value is echoed)
    make_actor(db, "reviewer", ["审查组"])  # B's review only: the window's acceptances are not theirs
    other = client.application.test_client()
    login(other, "reviewer")
    assert case_order(listing(other), desk) == ["B"]
