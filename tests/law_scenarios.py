"""Shared steps for the law's time-limit tests (issue 15, items 1, 5, 6, 10): tests/data/law-item (TEST-LAW).

TEST-LAW: 受理 at 受理窗口 (`receipt=acceptance`, `clock=start`; answers 受理/补正/不予受理), a 补正 answer
waits for the applicant (`clock=pause`), 审查决定 at 审查组, 送达 at 受理窗口 (`receipt=delivery`, no
`stepLimitDays`: art 44's 10 working days). Committed 5, statutory 20 working days, reminder 1 day before.
Working days are checked against the independent calendar in tests/data/cn-calendar-2025-2026.csv.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import select
from watch_scenarios import local

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.diagrams.specs import spec_cache
from engine.reads import queries
from engine.runtime import lawlimits
from engine.store.tables import case_warnings, cases, notifications
from engine.time import clock

DATA = Path(__file__).resolve().parent / "data"
LAW_ITEM = DATA / "law-item"
APPLICATION = {"applicant_name": "张三", "id_number": "11010119900101123X"}
ACCEPT = {"decision": "受理"}
SUPPLEMENT = {"decision": "补正", "missing_materials": ["申请书原件"]}
REVIEW = {"opinion": "同意"}
DELIVER = {"certificate_no": "证-001"}

with (DATA / "cn-calendar-2025-2026.csv").open(encoding="utf-8") as handle:
    WORKING = {date.fromisoformat(r[0]): r[2] == "workday" for r in csv.reader(handle) if r and r[0][:2] == "20"}


def nth_working_day_after(day: date, n: int) -> date:
    """The independent calendar's n-th working day after `day` (`day` itself not counted)."""
    while n:
        day += timedelta(days=1)
        n -= WORKING[day]
    return day


def deploy_law_item(db, tmp_path: Path, direct: bool = False) -> str:
    """Deploy TEST-LAW, or its 即办 twin TEST-LAW-DIRECT (handling_mode direct, 0 working days)."""
    if not direct:
        deploy_package(db, load_package(LAW_ITEM), "analyst")
        return "TEST-LAW"
    folder = tmp_path / "law-direct"
    shutil.copytree(LAW_ITEM, folder)
    meta = json.loads((folder / "item.json").read_text(encoding="utf-8"))
    meta.update(code="TEST-LAW-DIRECT", name="即办测试事项", handling_mode="direct")
    meta["guide"].update(committed_limit_days=0, statutory_limit_days=0)
    (folder / "item.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    deploy_package(db, load_package(folder), "analyst")
    return "TEST-LAW-DIRECT"


def people(db) -> dict:
    return {"window": make_actor(db, "window", ["受理窗口"]), "reviewer": make_actor(db, "reviewer", ["审查组"]),
            "watch": make_actor(db, "watch", [], ["supervisor"]), "admin": make_actor(db, "boss", [], ["admin"])}


def receive(db, who, at: str, item: str = "TEST-LAW") -> str:
    """The application is received (the case starts) at district time `at`."""
    with clock.frozen_at(local(at)):
        return start_case(db, item, dict(APPLICATION), who["window"]).case_no


def complete(db, who, case_no: str, element: str, data: dict, at: str, actor: str = "window") -> None:
    with clock.frozen_at(local(at)):
        task = next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)
        complete_task(db, task.task_id, dict(data), who[actor])


def case_row(db, case_no: str) -> SimpleNamespace:
    """The case row, its times in UTC on both databases (SQLite keeps them without an offset)."""
    with db.reading() as conn:
        row = conn.execute(select(cases).where(cases.c.case_no == case_no)).one()
    return SimpleNamespace(**{k: clock.as_utc(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()})


def warnings_of(db, case_no: str) -> list[tuple[str, str, str | None]]:
    """(level, kind, element) of every case_warnings row of the case, in the order raised."""
    with db.reading() as conn:
        rows = conn.execute(select(case_warnings.c.level, case_warnings.c.kind, case_warnings.c.element_id)
                            .join(cases, cases.c.id == case_warnings.c.case_id).where(cases.c.case_no == case_no)
                            .order_by(case_warnings.c.raised_at, case_warnings.c.id)).all()
    return [tuple(r) for r in rows]


def notified(db, recipient: str) -> list[str]:
    with db.reading() as conn:
        return list(conn.execute(select(notifications.c.message).where(notifications.c.recipient == recipient)
                                 .order_by(notifications.c.id)).scalars())


def events(db, case_no: str, kind: str) -> list[dict]:
    return [e for e in queries.case_history(db, case_no) if e["type"] == kind]


def cold_start() -> None:
    """What a restarted process has: no parsed specs, no law marks read off them."""
    with spec_cache._lock:
        spec_cache._entries.clear()
        spec_cache._wired.clear()
    lawlimits._cache.clear()


CLOCK_ITEM = Path(__file__).resolve().parent / "data" / "clock-item"


def clock_case_at_review(db) -> str:
    """A TEST-CLOCK case accepted on 28 September 2026 at 受理窗口 (user window), waiting at 审查 (group 审查组:
    users reviewer, and chief, the head of the group, no clerk): where a handler suspends the clock and a chief
    extends the deadline."""
    deploy_package(db, load_package(CLOCK_ITEM), "analyst")
    window = make_actor(db, "window", ["受理窗口"])
    make_actor(db, "reviewer", ["审查组"])
    make_actor(db, "chief", ["审查组"], ["chief"])
    with clock.frozen_at(local("2026-09-28 09:00")):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, window).case_no
        accept = next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")
        complete_task(db, accept.task_id, ACCEPT_DATA, window)
    return case_no
