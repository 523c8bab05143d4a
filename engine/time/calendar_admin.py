"""Administering the working-day calendar: the overrides an administrator sets, and the month view.

An override makes one day working or off whatever the `holidays` package says (engine/time/workdays.py
explains the two layers). Setting one is an administrative act: a reason is required, and the row
keeps who set it and when (`set_by`, `set_at`); setting the same day again replaces the row. The
web page (/admin/calendar, administrators only) and `onewindow calendar …` both call these.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from engine.errors import NotFound, OnewindowError
from engine.messages import said
from engine.store.db import Database
from engine.store.tables import calendar_overrides
from engine.time import clock
from engine.time.workdays import DayInfo, Override, WorkCalendar, load_calendar, override_from_row, read_overrides

log = logging.getLogger(__name__)

#: Overrides outside these years are refused as typos (2206 for 2026); the package covers 1950–2100.
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_REASON = 500


def set_override(db: Database, day: date, working: bool, reason: str, actor_username: str) -> Override:
    """Make `day` a working day (`working=True`) or a day off, for `reason`; replaces an earlier override."""
    day = _check_day(day)
    if not isinstance(working, bool):
        raise OnewindowError(said("请选择设为工作日还是休息日"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise OnewindowError(said("请填写调整原因（例如：依据国务院办公厅通知调休上班），原因会记录在案"))
    if len(reason) > MAX_REASON:
        raise OnewindowError(said("调整原因过长（%(reason)s 字），请控制在 %(MAX_REASON)s 字以内",
                                  reason=len(reason), MAX_REASON=MAX_REASON))
    if not actor_username or len(actor_username) > 64:
        raise OnewindowError(said("调整日历须记录操作人（用户名，不超过 64 个字符）"))
    row = Override(day, working, reason, actor_username, clock.now())
    values = {"day": row.day, "working": row.working, "reason": row.reason, "set_by": row.set_by,
              "set_at": row.set_at}
    with db.transaction() as conn:
        conn.execute(_upsert(conn, values))
    log.info("calendar override %s set to %s by %s: %s", day, "working" if working else "off", actor_username,
             reason)
    return row


def _upsert(conn: Connection, values: dict):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(calendar_overrides).values(**values)
    changes = {k: statement.excluded[k] for k in ("working", "reason", "set_by", "set_at")}
    return statement.on_conflict_do_update(index_elements=[calendar_overrides.c.day], set_=changes)


def remove_override(db: Database, day: date, actor_username: str) -> Override:
    """Remove the override of `day` (the package decides it again); returns the row removed."""
    day = _check_day(day, typo_guard=False)
    with db.transaction() as conn:
        removed = conn.execute(delete(calendar_overrides).where(calendar_overrides.c.day == day)
                               .returning(*calendar_overrides.c)).one_or_none()
    if removed is None:
        raise NotFound(said("%(day)s 没有管理员调整，无需取消；它按法定安排计算", day=day.isoformat()))
    log.info("calendar override %s removed by %s (was %s: %s, set by %s)", day, actor_username,
             "working" if removed.working else "off", removed.reason, removed.set_by)
    return override_from_row(removed)


def list_overrides(db: Database, year: int | None = None) -> list[Override]:
    """Every override (of `year`, if given), by date."""
    if year is not None:
        _check_year(year)
    with db.reading() as conn:
        return read_overrides(conn, year)


def calendar(db: Database) -> WorkCalendar:
    """The working-day calendar with the database's overrides."""
    with db.reading() as conn:
        return load_calendar(conn)


def month_view(db: Database, year: int, month: int) -> list[DayInfo]:
    """Every day of a month: working or off, and why (holiday, 调休, weekend, or the override and its reason)."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise OnewindowError(said("月份应为 1–12，而不是 %(month)s", month=month))
    return calendar(db).month(year, month)


def day_view(db: Database, day: date) -> DayInfo:
    """One day explained."""
    return calendar(db).describe(_check_day(day, typo_guard=False))


def _check_day(day: date, typo_guard: bool = True) -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise OnewindowError(said("需要一个日期（如 2026-02-14），而不是 %(day)r", day=day))
    if typo_guard and not MIN_YEAR <= day.year <= MAX_YEAR:
        raise OnewindowError(said("%(day)s 超出可调整的范围（%(MIN_YEAR)s–%(MAX_YEAR)s 年），请检查年份",
                                  day=day.isoformat(), MIN_YEAR=MIN_YEAR, MAX_YEAR=MAX_YEAR))
    return day


def _check_year(year: int) -> None:
    if not 1 <= year <= 9998:
        raise OnewindowError(said("年份 %(year)s 无效", year=year))
