"""The supervisors' dashboard (S-15 流程监控): every figure equals a plain COUNT over the tables.

Cases are made through the engine (accepted at a town, at a district window, without a unit, refused
with a reason, completed), the clock is moved with the scheduler tick, and each figure is compared with
a query a person could type — and with the number the scenario says it must be.
"""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import PROCESSES, make_actor
from sqlalchemy import func, select, text, update
from watch_scenarios import accept, apply, finish, local, setup

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.org import orgtree
from engine.runtime.change import TERMINAL
from engine.runtime.scheduler import tick
from engine.store.tables import case_warnings, cases, items
from engine.time import clock
from engine.watch.dashboard import dashboard

REFUSE_HOUSE = {"applicant_name": "陈国平", "id_number": "420115198203154321", "village": "涂家垴镇新桥村三组",
                "site_area": 120, "floors": 2, "homestead_approval_no": "江宅批〔2026〕003号",
                "acceptance": "不予受理", "refusal_reason": "宅基地批准文件与申请人不符"}


@pytest.fixture
def scenario(db):
    people = setup(db)
    deploy_package(db, load_package(PROCESSES / "demo-committed"), "analyst")
    zj = make_actor(db, "zj", ["住建局窗口"])
    made = {
        "town": accept(db, people, "2026-02-12 10:00", unit="梁子镇"),  # yellow on 25 Feb, due 26 Feb
        "district": apply(db, people, "2026-02-12 11:00", unit="区中心/区民政局"),  # submitted, never accepted
        "no_unit": accept(db, people, "2026-02-24 09:00"),  # its department's window; due 2 March
        "done": accept(db, people, "2026-02-12 10:30", unit="梁子镇/子坛村"),
    }
    finish(db, people, made["done"], "2026-02-13 15:00")
    with clock.frozen_at(local("2026-02-13 09:00")):
        refused = start_case(db, "DEMO-004", {}, zj).case_no
        complete_task(db, _task(db, refused, "accept"), REFUSE_HOUSE, zj)
    made["refused"] = refused
    tick(db, local("2026-02-25 00:01"))
    return made


def _task(db, case_no, element):
    from engine.reads import queries

    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def _count(db, *where) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(cases).where(*where)).scalar_one()


def test_status_item_department_figures_are_the_counts_of_the_cases_table(db, scenario):
    figures = dashboard(db, local("2026-02-25 09:00"))
    with db.reading() as conn:
        by_status = dict(conn.execute(text("SELECT status, COUNT(*) FROM cases GROUP BY status")).all())
        by_department = dict(conn.execute(text(
            "SELECT i.department, COUNT(*) FROM cases c JOIN items i ON i.id = c.item_id GROUP BY i.department")).all())
    assert figures.by_status == by_status
    assert by_status == {"in_progress": 2, "submitted": 1, "approved": 1, "refused": 1}
    assert figures.by_department == by_department == {"测试部门": 4, "区住房和城乡建设局": 1}
    assert {r["code"]: r["count"] for r in figures.by_item} == {"TEST-CLOCK": 4, "DEMO-004": 1}
    assert figures.total == 5
    assert figures.open == _count(db, cases.c.status.not_in(sorted(TERMINAL))) == 3


def test_level_and_town_follow_from_the_window_each_case_came_in_at(db, scenario):
    figures = dashboard(db, local("2026-02-25 09:00"))
    with db.reading() as conn:
        rows = conn.execute(select(cases.c.unit_code, items.c.department)
                            .join(items, items.c.id == cases.c.item_id)).all()
    windows = [unit or orgtree.department_unit(department) for unit, department in rows]
    assert figures.by_level == dict(Counter(orgtree.level_of(w) for w in windows))
    assert figures.by_level == {"town": 1, "village": 1, "district": 3}
    assert figures.by_town == {"梁子镇": 2, "区中心": 3}


def test_reminder_yellow_and_due_today_move_with_the_clock(db, scenario):
    """Issue 15, item 10: the last working day is a reminder (was "yellow"); the passed deadline is the
    yellow card (was "red"); a red card needs a supervisor's chase deadline, which this scenario has not."""
    open_case = cases.c.status.not_in(sorted(TERMINAL))
    figures = dashboard(db, local("2026-02-25 09:00"))
    assert figures.reminder == _count(db, open_case, cases.c.warning_level == "reminder") == 1
    assert figures.yellow == 0 and figures.red == 0 and figures.due_today == 0
    assert dashboard(db, local("2026-02-26 09:00")).due_today == 1  # the town case's last working day

    tick(db, local("2026-02-27 00:01"))
    figures = dashboard(db, local("2026-02-27 09:00"))
    # two yellow cards: the town case, and the district case nobody answered — 行政许可法 art 32 deems it accepted
    # on its receipt day (12 Feb) once 5 working days passed (13, 14, 24, 25, 26 Feb), so its deadline has passed
    assert figures.yellow == _count(db, open_case, cases.c.warning_level == "yellow") == 2
    assert figures.reminder == 0 and figures.red == 0
    with db.reading() as conn:
        unacknowledged = conn.execute(select(func.count()).select_from(case_warnings)
                                      .where(case_warnings.c.acknowledged_at.is_(None))).scalar_one()
    assert figures.unacknowledged_warnings == unacknowledged >= 2  # reminder and yellow of the town case at least


def test_supplements_pending_is_the_count_of_cases_awaiting_the_applicant(db, scenario):
    assert dashboard(db).supplements_pending == 0
    with db.transaction() as conn:
        conn.execute(update(cases).where(cases.c.case_no == scenario["no_unit"]).values(status="awaiting_supplement"))
    assert dashboard(db).supplements_pending == _count(db, cases.c.status == "awaiting_supplement") == 1


def test_a_refusal_without_a_reason_is_flagged_and_one_with_a_reason_is_not(db, scenario):
    assert dashboard(db).refused_without_reason == []  # the not-accepted case gave its reason
    # A case refused behind the forms' back (raw SQL): no decision with a reason made it refused.
    with db.transaction() as conn:
        conn.execute(update(cases).where(cases.c.case_no == scenario["district"]).values(status="refused"))
    assert dashboard(db).refused_without_reason == [scenario["district"]]


def test_an_empty_platform_shows_zeros(db):
    figures = dashboard(db)
    assert (figures.total, figures.open, figures.yellow, figures.red, figures.due_today) == (0, 0, 0, 0, 0)
    assert figures.by_status == {} and figures.refused_without_reason == []
