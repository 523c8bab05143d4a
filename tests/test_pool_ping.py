"""A pooled PostgreSQL connection the server dropped while it sat idle is replaced, not handed out (engine/store/db.py).

The pool pings a connection only when it was idle for a while (pinging at every checkout cost a round trip per
transaction over HTTP, bench/http_load.py); these tests drop the backend of an idle pooled connection and check
that the next unit of work still runs — and that without the ping it would have failed.
"""

from __future__ import annotations

import pytest
from conftest import POSTGRES_URL
from sqlalchemy import exc, text

from engine.store import db as store_db
from engine.store.db import Database

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="the pool's ping is for PostgreSQL (DATABASE_URL=…)")


def _drop_pooled_backend(database: Database) -> None:
    """Read once (so the pool keeps one connection), then end that connection's backend from outside."""
    with database.reading() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = Database(POSTGRES_URL)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    finally:
        admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(monkeypatch):
    monkeypatch.setattr(store_db, "PING_AFTER_IDLE_SECONDS", 0.0)
    database = Database(POSTGRES_URL)
    try:
        _drop_pooled_backend(database)
        with database.transaction() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(monkeypatch):
    monkeypatch.setattr(store_db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    database = Database(POSTGRES_URL)
    try:
        _drop_pooled_backend(database)
        with pytest.raises(exc.OperationalError), database.reading() as conn:
            conn.execute(text("SELECT 1"))
        with database.reading() as conn:  # the failure invalidated the pool: the next one is fresh
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()
