"""The desk's task list (desk issue, item 1): filters and sorting over the task index alone, which
carries the case facts (number, item, applicant, status, warning level, deadline) and keeps them
current as the case moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import ACCEPT_DATA, DATA_DIR, make_actor

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.reads.queries import TaskFilter, task_page
from engine.runtime.scheduler import tick
from engine.time import clock

CLOCK_DATA = {"TEST-CLOCK": {"needs_supplement": False}}  # what TEST-CLOCK's application form asks


def test_filters_sorting_and_pages_read_the_case_facts_from_the_index(db, joint, clerk):
    deploy_package(db, load_package(DATA_DIR / "clock-item"), "analyst")
    window = make_actor(db, "window", ["受理窗口", "审查组"])
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    started = []
    for n, (item, name) in enumerate([("DEMO-001", "张三"), ("TEST-CLOCK", "李四"), ("TEST-CLOCK", "王小五")]):
        with clock.frozen_at(t0 + timedelta(hours=n)):
            started.append(start_case(db, item, {"applicant_name": name, **CLOCK_DATA.get(item, {})}, window))
    with clock.frozen_at(t0 + timedelta(hours=5)):  # accepting starts the clock of the TEST-CLOCK case
        accept = next(t for t in queries.open_tasks(db, case_no=started[1].case_no))
        complete_task(db, accept.task_id, ACCEPT_DATA, window)

    everything = task_page(db, window)
    assert everything.total == 3
    assert [r.applicant_name for r in task_page(db, window, TaskFilter(applicant="小五")).rows] == ["王小五"]
    assert {r.item_code for r in task_page(db, window, TaskFilter(item_code="TEST-CLOCK")).rows} == {"TEST-CLOCK"}
    assert [r.case_no for r in task_page(db, window, TaskFilter(case_no=started[0].case_no)).rows] == \
        [started[0].case_no]
    review = task_page(db, window, TaskFilter(case_no=started[1].case_no)).rows[0]
    assert (review.name, review.case_status) == ("审查", "in_progress")
    assert review.case_deadline == datetime(2026, 3, 9, 16, 0, tzinfo=UTC).isoformat()  # 24:00 on 9 March
    by_deadline = task_page(db, window, sort="deadline").rows
    assert by_deadline[0].case_no == started[1].case_no  # the only one with a deadline comes first
    first, second = task_page(db, window, per_page=2, page=1), task_page(db, window, per_page=2, page=2)
    assert (len(first.rows), len(second.rows), first.total) == (2, 1, 3)
    assert {r.task_id for r in first.rows}.isdisjoint({r.task_id for r in second.rows})

    tick(db, datetime(2026, 3, 5, 16, 30, tzinfo=UTC))  # 6 March 00:30, district time: one working day left
    reminded = task_page(db, window, TaskFilter(warning_level="reminder")).rows  # issue 15, item 10: no card yet
    assert [r.case_no for r in reminded] == [started[1].case_no]
    assert task_page(db, window, TaskFilter(warning_level="yellow")).total == 0
    assert task_page(db, window, TaskFilter(due_before=datetime(2026, 3, 11, tzinfo=UTC))).total == 1


def test_a_clerk_sees_only_the_tasks_of_their_groups(db, joint, clerk):
    start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    outsider = make_actor(db, "outsider", ["消防审查"])
    assert task_page(db, outsider).total == 0
    assert task_page(db, clerk).total == 1
