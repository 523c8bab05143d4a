"""The scheduler tick: fire due timers, each case through the one transaction.

A tick reads the timer index for cases with a timer due at `now` (and the case index for clocks
that need a look, `next_check_at`: art 32's acceptance limit of a case nobody has answered, the next
warning level, a step deadline), then advances each case with
`runtime.change_case(skip_locked=True)`: on PostgreSQL the case row is taken `FOR UPDATE SKIP
LOCKED` in the same transaction that fires its timers, so several schedulers never fire one timer
twice (a case another worker holds is skipped); on SQLite writers are serialized by the database.
A case changed by someone else meanwhile raises a conflict and is picked up by the next tick.

A case whose change raises anything else is that case's incident, never the pass's (`engine.runtime.incidents`):
its transaction is rolled back, the failure recorded, the case held for a back-off, and the pass goes on
with the next case. Each pass also records the cases found stalled since the last one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.errors import ConflictError
from engine.org.assignment import SYSTEM
from engine.runtime import incidents, lapse
from engine.runtime.change import CaseContext, change_case
from engine.store.db import Database
from engine.store.tables import cases, timer_index
from engine.time import clock

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    now: str
    fired: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)  # cases found stalled in this pass


def due_cases(db: Database, now: datetime, limit: int = 500) -> list[str]:
    """Cases with a diagram timer due, or whose clock needs a look (a warning or a step deadline), except
    those held after failed attempts (their back-off has not passed, or they wait for an operator)."""
    timers = (select(cases.c.case_no).join(timer_index, timer_index.c.case_id == cases.c.id)
              .where(timer_index.c.due_at <= now, incidents.not_held(now)).order_by(timer_index.c.due_at)
              .limit(limit))
    checks = (select(cases.c.case_no).where(cases.c.next_check_at <= now, incidents.not_held(now))
              .order_by(cases.c.next_check_at).limit(limit))
    with db.reading() as conn:
        return list(dict.fromkeys([*conn.execute(timers).scalars(), *conn.execute(checks).scalars()]))


def tick(db: Database, now: datetime | None = None) -> TickReport:
    """One scheduler pass at `now` (default: the engine clock)."""
    # In UTC: SQLite keeps times as text without an offset, so the due queries compare right only
    # with a UTC `now` (`onewindow tick --now 2026-03-02T18:00:00+08:00` is 10:00 UTC).
    moment = clock.as_utc(now or clock.now())
    report = TickReport(now=moment.isoformat())
    with clock.frozen_at(moment):
        report.stalled = incidents.record_stalled(db, moment)
        for case_no in due_cases(db, moment):
            try:
                fired = change_case(db, case_no, SYSTEM, _fire_timers, skip_locked=True)
                report.fired += [{"case_no": case_no, "element_id": e} for e in fired]
            except ConflictError:
                report.conflicts.append(case_no)
            except Exception as exc:  # one case's failure, whatever raised it, is that case's incident
                report.errors.append(incidents.record_failure(db, case_no, exc, moment))
        lapse.visit(db, moment, report)  # the wait for a supplement: reminded, then 视为撤回 (issue 15, item 2)
    return report


def _fire_timers(ctx: CaseContext) -> list[str]:
    fired = ctx.fire_due_timers()
    check = ctx.clock["next_check_at"]
    if not fired and (check is None or check > ctx.now):
        ctx.discarded = True  # another worker got here first: the case stays exactly as it is
    incidents.settle(ctx)
    return fired
