"""Nothing waits for ever: the wait for a supplement ends by the scheduler's tick alone.

`visit(db, now, report)` is called by every tick (`engine.runtime.scheduler`). It reads `supplement_waits`
for waits whose reminder or lapse is due, and for each case runs one change (`change_case`, skip-locked
like the tick's other work): while the case still waits for the applicant, the first visit after
`remind_at` issues a 补正催告通知书 (and tells a registered applicant), pushing the lapse to at least the
grace period after that reminder; a visit after `lapse_at` treats the application as withdrawn (视为撤回):
every open task is cancelled, the case ends `withdrawn`, and a 视为撤回申请告知书 is issued
(`engine.runtime.ending`). A wait whose case no longer waits (the applicant supplemented, the case ended)
is dropped without an event.

Re-execution replays these changes as ticks at their recorded moments (`engine.audit.replay`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from engine.errors import ConflictError
from engine.messages import said
from engine.org.assignment import SYSTEM
from engine.runtime import ending, incidents, indexes, receipts, supplement, telling
from engine.runtime.change import ANSWERED_BY_PROPERTY, TERMINAL, CaseContext, change_case
from engine.store.db import Database
from engine.store.tables import cases
from engine.store.tables import receipts as receipts_table
from engine.store.tables.cases import supplement_waits
from engine.time import clock
from engine.time.clock import as_utc

AWAITING = "awaiting_supplement"


def due(db: Database, now: datetime, limit: int = 500) -> list[str]:
    """Cases whose supplement reminder or lapse is due (those held after failed attempts wait)."""
    query = (select(cases.c.case_no).join(supplement_waits, supplement_waits.c.case_id == cases.c.id)
             .where(or_(supplement_waits.c.lapse_at <= now,
                        (supplement_waits.c.remind_at <= now) & supplement_waits.c.reminded_at.is_(None)),
                    incidents.not_held(now))
             .order_by(supplement_waits.c.remind_at).limit(limit))
    with db.reading() as conn:
        return list(conn.execute(query).scalars())


def visit(db: Database, now: datetime, report: Any) -> None:
    """The tick's look at due waits; conflicts and failures go into the tick's report like its own."""
    for case_no in due(db, now):
        try:
            change_case(db, case_no, SYSTEM, _end_of_wait, skip_locked=True)
        except ConflictError:
            report.conflicts.append(case_no)
        except Exception as exc:  # one case's failure is that case's incident
            report.errors.append(incidents.record_failure(db, case_no, exc, now))


def still_waiting(ctx: CaseContext) -> bool:
    """The case waits for the applicant: it is open and awaits a supplement, or has a step left to the applicant."""
    if ctx.status in TERMINAL or ctx.workflow.completed:
        return False
    if ctx.status == AWAITING:
        return True
    return any(getattr(t.task_spec, "extensions", {}).get("properties", {}).get(ANSWERED_BY_PROPERTY) == "applicant"
               for t in indexes.open_human_tasks(ctx.workflow))


def _end_of_wait(ctx: CaseContext) -> None:
    wait = ctx.conn.execute(select(supplement_waits).where(supplement_waits.c.case_id == ctx.case.id)).one_or_none()
    if wait is None or not still_waiting(ctx):
        ctx.conn.execute(delete(supplement_waits).where(supplement_waits.c.case_id == ctx.case.id))
        ctx.discarded = True
        return
    asked = _notice(ctx, wait.notice_no)
    facts = {"supplement_notice": wait.notice_no, "asked_on": _day(wait.asked_at),
             "missing_materials": (asked or {}).get("list") or (asked or {}).get("missing_materials") or []}
    if wait.reminded_at is None:
        _, grace = supplement.periods(ctx)
        lapse_at = max(as_utc(wait.lapse_at), ctx.now + timedelta(days=grace))
        number = receipts.issue_notice(ctx, "supplement_reminder", None, {**facts, "lapse_on": _day(lapse_at),
                                       "note": _NOTE})
        ctx.conn.execute(update(supplement_waits).where(supplement_waits.c.case_id == ctx.case.id)
                         .values(reminded_at=ctx.now, lapse_at=lapse_at))
        ctx.record("supplement_reminded", actor=SYSTEM, notice_no=number, lapse_at=lapse_at.isoformat())
        telling.tell_applicant(ctx, "supplement", said(
            "补正期限已届满，请于%(day)s前补正，逾期视为撤回申请（%(number)s）",
            day=clock.local_date(lapse_at).isoformat(), number=number))
        return
    if as_utc(wait.lapse_at) > ctx.now:  # reminded, and the grace period runs
        ctx.discarded = True
        return
    ctx.record("supplement_lapsed", actor=SYSTEM, supplement_notice=wait.notice_no)
    number = ending.end_case(ctx, ending.WITHDRAWN, "deemed_withdrawn",
                             {**facts, "reminded_on": _day(wait.reminded_at), "note": _NOTE})
    telling.tell_applicant(ctx, "supplement", said("逾期未补正，申请视为撤回（%(number)s）", number=number))


_NOTE = ("行政许可法第三十二条只规定补正须一次性告知，未规定补正期限和逾期后果；本通知书的期限（自然日）"
         "和视为撤回的后果依本事项办事指南。")


def _notice(ctx: CaseContext, number: str) -> dict[str, Any] | None:
    return ctx.conn.execute(select(receipts_table.c.content).where(receipts_table.c.receipt_no == number)
                            ).scalar_one_or_none()


def _day(moment: datetime | None) -> str:
    day = clock.local_date(as_utc(moment)) if moment else clock.local_date()
    return f"{day.year}年{day.month}月{day.day}日"
