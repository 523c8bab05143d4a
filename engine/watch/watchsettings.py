"""Settings an administrator sets for the supervisors' side (table `watch_settings`): one JSON value per key.

Kept apart from `engine/settings.py` (which reads the environment) because these live in the database,
are changed from a web form, and must be the same for every worker.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said
from engine.store.db import Database
from engine.store.tables import watch_settings
from engine.time import clock


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    value = conn.execute(select(watch_settings.c.value).where(watch_settings.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def put_setting(db: Database, key: str, value: Any, username: str) -> None:
    """Replace the value of `key` (delete + insert in one transaction: the same statements on both databases)."""
    with db.transaction() as conn:
        conn.execute(delete(watch_settings).where(watch_settings.c.key == key))
        conn.execute(insert(watch_settings).values(key=key, value=value, updated_by=username, updated_at=clock.now()))


# --- the cards and their points (issue 15, item 10) ------------------------------------------------
# What a warning costs a window (and the person whose step it was) in the monthly score, and what an early
# completion earns. Kept with the other supervisors' settings so the administrator's weights form
# (`performance.set_weights`, key `performance_weights`) and the score read one set of defaults.
CARD_POINTS: dict[str, float] = {
    "reminder": 0,  # 临期提醒: a reminder one working day before the deadline is not a card
    "yellow_card": 5,  # 黄牌: overdue against the committed limit (the case's, a step's, art 32's acceptance limit)
    "red_card": 10,  # 红牌: still overdue when the supervisor's chase deadline (督办限期) passed
    "statutory_card": 10,  # 超过法定时限: the statutory deadline passed (a red card's weight: the law was broken)
    "early_bonus": 2,  # 提前办结加分: per case closed at least one working day before its deadline's day
}
CARD_LABELS = {"reminder": said("每次临期提醒扣分"), "yellow_card": said("每张黄牌扣分"),
               "red_card": said("每张红牌扣分"), "statutory_card": said("每次超过法定时限扣分"),
               "early_bonus": said("每件提前办结加分")}

# 督办限期: a supervisor's chase of an overdue case gives it this many working days before a red card.
CHASE_DAYS_KEY = "chase_days"
DEFAULT_CHASE_DAYS = 3


def chase_days(conn: Connection) -> int:
    """The working days a chase gives an overdue case (1–30; a broken stored value falls back to the default)."""
    value = get_setting(conn, CHASE_DAYS_KEY, DEFAULT_CHASE_DAYS)
    return value if isinstance(value, int) and 1 <= value <= 30 else DEFAULT_CHASE_DAYS


def set_chase_days(db: Database, value: Any, actor: Any) -> int:
    """An administrator's chase deadline (督办限期), 1–30 working days; it applies to chases made from now on."""
    if not actor.is_admin:
        raise PermissionDenied(said("只有系统管理员可以设置督办限期。"))
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= 30:
        raise OnewindowError(said("督办限期应为 1—30 个工作日。"),
                             field_errors={"chase_days": [said("请填写 1—30 的整数")]})
    put_setting(db, CHASE_DAYS_KEY, days, actor.username)
    return days


def chase_days_of(db: Database) -> int:
    with db.reading() as conn:
        return chase_days(conn)
