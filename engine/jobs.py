"""The scheduler's jobs: the tick every few seconds, and every hour the audit checkpoint and the reports.

Apart from the tick (`engine.runtime.scheduler`) because these jobs reach the use cases above the runtime —
audit integrity and the supervision reports — while the tick is what those use cases build on. Embedded
mode runs them in a background thread of one web worker; docker runs `onewindow scheduler`, which calls the
same functions in the foreground.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from engine.audit import checkpoints
from engine.errors import OnewindowError
from engine.runtime.scheduler import tick
from engine.store.db import Database
from engine.time import clock
from engine.watch import reports

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = timedelta(hours=1)


def checkpoint(db: Database) -> None:
    """The periodic audit checkpoint (heads of every chain that moved), logged, never raising."""
    try:
        result = checkpoints.make_checkpoint(db, actor="scheduler")
        log.info("audit checkpoint: %s", result.message)
    except (SQLAlchemyError, OnewindowError) as exc:
        log.error("audit checkpoint failed: %s", exc)


def make_reports(db: Database) -> None:
    """实时报送: yesterday's daily and last month's monthly report, if not yet written; logged, never raising."""
    try:
        for name in reports.catch_up(db):
            log.info("report made: %s", name)
    except (SQLAlchemyError, OnewindowError, OSError) as exc:
        log.error("reports failed: %s", exc)


def start_background(db: Database, interval_seconds: float = 10.0):
    """Run `tick` every `interval_seconds`, an audit checkpoint and the reports every hour in a background thread
    (embedded mode; docker runs `onewindow scheduler`, which does the same in the foreground).

    Returns the started APScheduler so the caller can shut it down.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(tick, "interval", seconds=interval_seconds, args=[db], id="onewindow-tick",
                      max_instances=1, coalesce=True)
    scheduler.add_job(checkpoint, "interval", seconds=CHECKPOINT_EVERY.total_seconds(), args=[db],
                      id="onewindow-checkpoint", max_instances=1, coalesce=True)
    scheduler.add_job(make_reports, "interval", seconds=CHECKPOINT_EVERY.total_seconds(), args=[db],
                      id="onewindow-reports", max_instances=1, coalesce=True, next_run_time=clock.now())
    scheduler.start()
    return scheduler
