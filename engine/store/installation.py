"""The installation's own settings, kept in the database so every web replica and the command line agree:
`demo` — set by `onewindow init --demo` — says this is a demonstration, whose SMS codes stay in the outbox
(`onewindow sms`) instead of reaching a phone, so the registration page can say where to read them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from engine.store.db import Database
from engine.store.tables import installation_settings

DEMO = "demo"


def get(db: Database, key: str, default: Any = None) -> Any:
    with db.reading() as conn:
        value = conn.execute(select(installation_settings.c.value)
                             .where(installation_settings.c.key == key)).scalar_one_or_none()
    return default if value is None else value


def put(db: Database, key: str, value: Any) -> None:
    with db.transaction() as conn:
        conn.execute(delete(installation_settings).where(installation_settings.c.key == key))
        conn.execute(insert(installation_settings).values(key=key, value=value))


def is_demo(db: Database) -> bool:
    """Whether `onewindow init --demo` made this installation (or an operator marked it so)."""
    return get(db, DEMO, False) is True
