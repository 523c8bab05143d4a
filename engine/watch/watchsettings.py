"""Settings an administrator sets for the supervisors' side (table `watch_settings`): one JSON value per key.

Kept apart from `engine/settings.py` (which reads the environment) because these live in the database,
are changed from a web form, and must be the same for every worker.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

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
