"""Cases for the supervisors' tests, driven through the engine at chosen district times.

The item is tests/data/clock-item (TEST-CLOCK: accept at 受理窗口 starts the clock, review at 审查组 with
its own 2-working-day limit, issue; committed 5 working days, yellow from 1 day left). Dates sit around
the 2026 Spring Festival (15–23 February off, make-up working Saturdays 14 and 28 February): a case
accepted Thursday 12 February is due at 24:00 on 26 February, turns yellow at 00:00 on 25 February and
red at 00:00 on 27 February.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from conftest import ACCEPT_DATA, make_actor

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.org import orgtree
from engine.org.assignment import Actor
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.db import Database
from engine.time import clock

CLOCK_ITEM = Path(__file__).resolve().parent / "data" / "clock-item"
REVIEW = {"opinion": "同意"}
ISSUE = {"certificate_no": "证-001"}


def local(text: str) -> datetime:
    """A district-time moment ("2026-02-12 10:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@dataclass
class People:
    window: Actor
    reviewer: Actor
    supervisor: Actor
    admin: Actor


def setup(db: Database) -> People:
    """The org tree, the clock item, a window clerk, a reviewer, a supervisor (centre-watch) and an admin."""
    orgtree.install(db)
    deploy_package(db, load_package(CLOCK_ITEM), "analyst")
    return People(make_actor(db, "window", ["受理窗口"]), make_actor(db, "reviewer", ["审查组"]),
                  make_actor(db, "centre-watch", ["区中心·电子监察"], ["supervisor"]),
                  make_actor(db, "admin", [], ["admin"]))


def task_of(db: Database, case_no: str, element: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


MANDATE = {"principal": "张三", "principal_id_number": "11010119900101123X", "signed_on": "2026-02-01"}


def apply(db: Database, people: People, at: str, unit: str | None = None) -> str:
    """Apply at `unit` (a village room applies with the applicant's mandate, S-5)."""
    mandate = MANDATE if unit is not None and orgtree.level_of(unit) == "village" else None
    with clock.frozen_at(local(at)):
        return start_case(db, "TEST-CLOCK", {"needs_supplement": False}, people.window, unit=unit,
                          mandate=mandate).case_no


def accept(db: Database, people: People, at: str, unit: str | None = None) -> str:
    case_no = apply(db, people, at, unit)
    with clock.frozen_at(local(at)):
        complete_task(db, task_of(db, case_no, "accept"), ACCEPT_DATA, people.window)
    return case_no


def review(db: Database, people: People, case_no: str, at: str) -> None:
    with clock.frozen_at(local(at)):
        complete_task(db, task_of(db, case_no, "review"), REVIEW, people.reviewer)


def finish(db: Database, people: People, case_no: str, at: str) -> None:
    """Review (if still open) and issue at `at`: the case closes then."""
    with clock.frozen_at(local(at)):
        if any(t.element_id == "review" for t in queries.open_tasks(db, case_no=case_no)):
            complete_task(db, task_of(db, case_no, "review"), REVIEW, people.reviewer)
        complete_task(db, task_of(db, case_no, "issue"), ISSUE, people.window)


def one_late_one_early(db: Database) -> dict:
    """Two cases accepted at 梁子镇 on 2026-02-12, one finished the next day, the other left to turn red
    (the scheduler looked on 02-25): the world the watch's pages and reports are checked against."""
    people = setup(db)
    early = accept(db, people, "2026-02-12 10:00", unit="梁子镇")
    late = accept(db, people, "2026-02-12 10:05", unit="梁子镇")
    finish(db, people, early, "2026-02-13 15:00")
    tick(db, local("2026-02-25 00:01"))
    return {"people": people, "early": early, "late": late}

