"""The desk's list by key (issue 18, item 3): every page continues from the last row's sort key, so walking the
pages shows each visible task exactly once — also when tasks arrive between two pages — in every order the desk
offers; the count is exact; a part of the applicant's name is found through the name index (FTS5 on SQLite,
pg_trgm and a GIN array on PostgreSQL) and rechecked; a key from a link is never trusted beyond ordering."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA, ALL_GROUPS, deploy, make_actor
from sqlalchemy import event, select, update
from test_web import login, text

from engine.desk.casework import complete_task, start_case
from engine.org import accounts
from engine.reads import tasklist
from engine.reads.tasklist import TaskFilter, key_of, task_page
from engine.runtime.indexes import name_grams
from engine.store.tables import cases, task_index
from engine.time import clock
from webapp import create_app

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NAMES = ["张三丰", "李四", "王小五", "欧阳娜娜", "Ann Lee", "赵_六", "钱100%", '孙"七"', "周八", "吴九"]
SORTS = ("newest", "oldest", "deadline", "case")


@pytest.fixture
def many(snapshot) -> dict[str, str]:
    """30 cases of the joint-review demo (three at each instant: ties), six accepted (three reviews each, opened
    at one instant); a third of the tasks given deadlines, two of them equal. Task id → applicant name. Built
    once per run by the engine, copied into each test's database (tests/db_templates.py)."""
    return snapshot(_many)


@pytest.fixture
def clerk(db, many):
    """The clerk the cases were opened by (conftest's `clerk`, in the copied database)."""
    return accounts.actor_for(db, "clerk")


def _many(db) -> dict[str, str]:
    deploy(db, "demo-joint-review")
    clerk = make_actor(db, "clerk", ALL_GROUPS)
    started = []
    for n in range(30):
        with clock.frozen_at(T0 + timedelta(minutes=n // 3)):
            started.append(start_case(db, "DEMO-001", {"applicant_name": NAMES[n % len(NAMES)]}, clerk).case_no)
    for n, case_no in enumerate(started[:6]):
        with clock.frozen_at(T0 + timedelta(hours=1, minutes=n)):
            accept = task_page(db, clerk, TaskFilter(case_no=case_no)).rows[0]
            complete_task(db, accept.task_id, ACCEPT_DATA, clerk)
    with db.transaction() as conn:
        rows = conn.execute(select(task_index.c.task_id, task_index.c.applicant_name)
                            .order_by(task_index.c.task_id)).all()
        for n, row in enumerate(rows[::3]):
            conn.execute(update(task_index).where(task_index.c.task_id == row.task_id)
                         .values(case_deadline=T0 + timedelta(days=10 + n % 5)))
    return {r.task_id: r.applicant_name for r in rows}


def _walk(db, actor, sort: str, filters: TaskFilter | None = None, per_page: int = 7, between=None) -> list[str]:
    """Every page, following the next links; `between(page_number)` runs after each page (a task arriving)."""
    filters = filters or TaskFilter()
    seen, after, number = [], None, 1
    while True:
        page = task_page(db, actor, filters, sort, number, per_page, after=after)
        seen += [r.task_id for r in page.rows]
        if between:
            between(number)
        if page.next_key is None:
            return seen
        after, number = page.next_key, number + 1
        assert number < 100


@pytest.mark.parametrize("sort", SORTS)
def test_walking_the_pages_shows_every_task_once_in_order(db, many, clerk, sort):
    everything = task_page(db, clerk, TaskFilter(), sort, 1, 1000)
    assert everything.total == len(many) == 42 and everything.next_key is None
    assert _walk(db, clerk, sort) == [r.task_id for r in everything.rows]
    by_offset = [r.task_id for n in range(1, 8) for r in task_page(db, clerk, TaskFilter(), sort, n, 7).rows]
    assert by_offset == [r.task_id for r in everything.rows]  # a page number without a key: the same rows


@pytest.mark.parametrize("sort", SORTS)
def test_going_back_gives_the_same_pages(db, many, clerk, sort):
    pages, after = [], None
    for number in range(1, 5):
        page = task_page(db, clerk, TaskFilter(), sort, number, 7, after=after)
        pages.append(page)
        after = page.next_key
    for number in (4, 3, 2):
        back = task_page(db, clerk, TaskFilter(), sort, number - 1, 7, before=pages[number - 1].prev_key)
        assert [r.task_id for r in back.rows] == [r.task_id for r in pages[number - 2].rows]
        assert back.next_key is not None
    assert pages[0].prev_key is None


def test_a_task_arriving_between_pages_neither_repeats_nor_hides_a_row(db, many, clerk):
    before = set(many)

    def arrive(number: int) -> None:
        with clock.frozen_at(T0 + timedelta(minutes=5, seconds=number)):  # among the rows already shown
            start_case(db, "DEMO-001", {"applicant_name": "新来的"}, clerk)

    for sort in ("newest", "oldest"):
        seen = _walk(db, clerk, sort, between=arrive)
        assert len(seen) == len(set(seen)), f"{sort}: a row shown twice"
        assert before <= set(seen), f"{sort}: a row present all along was skipped"


def test_the_count_is_exact_for_each_filter_and_view(db, many, clerk):
    with db.reading() as conn:
        rows = conn.execute(select(task_index)).all()
    assert task_page(db, clerk, TaskFilter(claimed="unclaimed")).total == sum(r.assignee is None for r in rows)
    assert task_page(db, clerk, TaskFilter(claimed="mine")).total == 0
    assert task_page(db, clerk, TaskFilter(due_before=T0 + timedelta(days=12))).total == \
        sum(r.case_deadline is not None and clock.as_utc(r.case_deadline) < T0 + timedelta(days=12) for r in rows)
    reviewer = make_actor(db, "reviewer", ["消防审查"])
    assert task_page(db, reviewer, TaskFilter()).total == 6  # one review of each accepted case, nothing else


@pytest.mark.parametrize("part", ["张", "三丰", "张三丰", "娜娜", "ann", "Lee", "n L", "_", "%", '"七"', "100%"])
def test_a_name_part_is_found_through_the_name_index(db, many, clerk, part):
    expected = {t for t, name in many.items() if part.lower() in name.lower()}
    assert expected or part in ("_",), part
    found = task_page(db, clerk, TaskFilter(applicant=part), "newest", 1, 1000)
    assert {r.task_id for r in found.rows} == expected and found.total == len(expected)
    keyed = _walk(db, clerk, "case", TaskFilter(applicant=part), per_page=2)
    assert sorted(keyed) == sorted(expected)


def test_the_name_index_is_what_narrows(db, many, clerk):
    statements: list[str] = []
    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", lambda c, cur, s, p, ctx, em: statements.append(s))
    task_page(db, clerk, TaskFilter(applicant="三丰"))
    with db.reading() as conn:
        names = conn.execute(select(cases.c.applicant_name, cases.c.applicant_grams)).all()
    if db.is_sqlite:
        assert any("case_names MATCH" in s for s in statements)
        with db.reading() as conn:
            indexed = conn.exec_driver_sql("SELECT count(*) FROM case_names WHERE case_names MATCH ?",
                                           ('"三丰"',)).scalar_one()
        assert indexed == sum("三丰" in n for n, _ in names) > 0
        assert all(g == " ".join(name_grams(n)) for n, g in names)
    else:
        assert any("applicant_grams @>" in s for s in statements)
        assert all(sorted(g) == name_grams(n) for n, g in names)


@pytest.mark.parametrize("hostile", ['" OR 1=1', "NEAR(张 三)", "*", "AND", "'); DROP TABLE task_index;--", "\x00",
                                     "张" * 200, " ", "^张"])
def test_hostile_name_parts_find_only_what_they_spell(db, many, clerk, hostile):
    found = task_page(db, clerk, TaskFilter(applicant=hostile))
    assert {r.task_id for r in found.rows} == {t for t, n in many.items() if hostile.lower() in n.lower()}
    assert task_page(db, clerk).total == 42  # nothing was dropped


@pytest.mark.parametrize("key", ["", "garbage", "!!!", "bnVsbA", "W251bGwsbnVsbF0", "x" * 5000,
                                 "WyIyMDI2LTAzLTAyVDAxOjAwOjAwKzAwOjAwIiwgMV0"])
def test_a_forged_key_falls_back_to_the_page_number(db, many, clerk, key):
    first = task_page(db, clerk, TaskFilter(), "newest", 1, 7)
    assert [r.task_id for r in task_page(db, clerk, TaskFilter(), "newest", 1, 7, after=key).rows] == \
        [r.task_id for r in first.rows]
    task_page(db, clerk, TaskFilter(), "deadline", 1, 7, before=key)  # no error in any order


def test_a_key_shows_nothing_beyond_what_the_clerk_may_see(db, many, clerk):
    outsider = make_actor(db, "outsider", ["环保审查"])  # sees the six environment reviews only
    everything = task_page(db, clerk, TaskFilter(), "newest", 1, 1000).rows
    mine = {r.task_id for r in task_page(db, outsider, TaskFilter(), "newest", 1, 1000).rows}
    for row in everything[:10]:
        page = task_page(db, outsider, TaskFilter(), "newest", 2, 20, after=key_of(row, "newest"))
        assert {r.task_id for r in page.rows} <= mine


def test_statements_are_built_once_per_shape(db, many, clerk):
    tasklist._statements.cache_clear()
    for n in range(5):
        task_page(db, clerk, TaskFilter(warning_level="red"), "deadline", 1 + n, 7)
    assert tasklist._statements.cache_info().misses == 1


ROW_TASK = re.compile(r'<tr data-task="([^"]+)"')


def test_the_desk_pages_follow_their_links_by_key(db, many, clerk):
    client = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url}, db=db).test_client()
    login(client, "clerk")
    seen, href = [], "/desk?sort=deadline"
    while href:
        page = text(client.get(html.unescape(href)))
        seen += ROW_TASK.findall(page)
        found = re.search(r'rel="next" href="([^"]+)"', page)
        href = found.group(1) if found else None
        if href:
            assert "after=" in href and "sort=deadline" in href
        assert len(seen) <= 42
    assert seen == [r.task_id for r in task_page(db, clerk, TaskFilter(), "deadline", 1, 1000).rows]
    back = re.search(r'rel="prev" href="([^"]+)"', page).group(1)
    assert "before=" in back
    assert client.get("/desk?page=2&after=garbage&before=!!").status_code == 200  # a forged key: page 2 by number
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    login(client, applicant.username)
    assert client.get(f"/desk?after={key_of(task_page(db, clerk).rows[0], 'newest')}").status_code == 403
