"""Test databases built once per run and copied into each test's own database.

Migrating from scratch (every Alembic revision) costs about 0.3 s a test, and seeding the demo
(`onewindow init --demo`: every catalogue item linted and deployed) about 10 s; copying what they
produced costs milliseconds. Each state is still built the real way, once per run (per xdist worker).

SQLite: a template file per state (and the files it stored), copied over the test's own. PostgreSQL: a
schema per state; a test's schema is emptied and, for a built state, filled from the state's schema
(INSERT … SELECT, table by table, parents first), its sequences moved past the copied ids.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.store import schema
from engine.store.db import Database
from engine.store.tables import metadata

TABLES = [table.name for table in metadata.sorted_tables]  # parents before children
FILES_ENV = "ONEWINDOW_FILES_DIR"  # where the local file store keeps a test's files (tests/conftest.py)
MIGRATION_LOCK = 1_800_018  # PostgreSQL advisory lock: workers migrate one at a time (CREATE EXTENSION races)


def build_then(url: str, then: Callable[[Database], Any] | None = None) -> Any:
    """Migrate the database at `url` from scratch, run `then` on it, and close it; `then`'s result."""
    database = Database(url)
    try:
        schema.upgrade(database)
        return then(database) if then else None
    finally:
        database.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sqlite_copy(template: Path, target: Path) -> None:
    """`target` becomes a copy of `template` (a WAL file left beside it would be replayed over the copy)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)


def schema_url(base_url: str, name: str) -> str:
    """`base_url` working in schema `name` (through `search_path`): several runs share one database.

    `synchronous_commit=off`: a commit does not wait for its WAL to reach the disk. What a test sees is
    the same (a crash of the server could lose the last commits, which no test does); most of the
    suite's statements are commits of small units of work, and each then waits for no fsync."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{name}%20-csynchronous_commit%3Doff"


def postgres_schema(admin: Database, base_url: str, name: str, then: Callable[[Database], Any] | None = None
                    ) -> tuple[str, Any]:
    """A fresh schema `name`, migrated (and built on by `then`) while holding the migration lock."""
    with admin.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        conn.commit()
        try:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
            conn.commit()
            url = schema_url(base_url, name)
            return url, build_then(url, then)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


def drop_schema(admin: Database, name: str) -> None:
    with admin.engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))


def postgres_fill(db: Database, source: str | None) -> None:
    """Empty every table of `db`'s schema, then copy in `source` schema's rows (None: leave it empty), and
    start each id sequence after the copied ids, as TRUNCATE … RESTART IDENTITY would.

    DELETE, not TRUNCATE: TRUNCATE makes new files for every table and index and syncs them at commit
    (0.3–0.8 s a test), DELETE of a test's few rows takes milliseconds. Replica mode (superuser) switches
    triggers off for this transaction only: the audit tables' append-only triggers refuse a DELETE, and
    the foreign keys need no checking between two states the platform itself wrote. All of it goes to the
    server as one string (one round trip instead of some ninety statements).
    """
    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [f"DELETE FROM {table}" for table in reversed(TABLES)]
    statements += [f"INSERT INTO {table} SELECT * FROM {source}.{table}" for table in TABLES if source]
    statements += [f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, "
                   f"false) FROM {table}" for table, column in _serials(db)]
    with db.transaction() as conn:
        conn.exec_driver_sql(";\n".join(statements))


def _serials(db: Database) -> list[tuple[str, str]]:
    """The (table, column) pairs that draw ids from a sequence in `db`'s schema, read once per schema."""
    if db.url not in _SERIALS_OF:
        with db.reading() as conn:
            _SERIALS_OF[db.url] = [(table, column) for table, column in conn.execute(SERIALS)]
    return _SERIALS_OF[db.url]


_SERIALS_OF: dict[str, list[tuple[str, str]]] = {}

SERIALS = text("SELECT table_name, column_name FROM information_schema.columns "
               "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%' ORDER BY 1, 2")


class Snapshots:
    """States built once per run by a function of a database, copied into a test's database on demand."""

    def __init__(self, root: Path, postgres_url: str | None) -> None:
        self.root, self.postgres_url = root, postgres_url
        self.admin = Database(postgres_url) if postgres_url else None
        self.built: dict[str, tuple[Path | str, Any]] = {}  # build's name → (file or schema, build's result)

    def restore(self, db: Database, build: Callable[[Database], Any]) -> Any:
        """`db` (and the test's file store) as `build` leaves a new database; a copy of what `build` returned."""
        key = f"{build.__module__}.{build.__qualname__}"
        if key not in self.built:
            self.built[key] = self._build(build, f"state{len(self.built)}")
        source, result = self.built[key]
        if isinstance(source, Path):
            db.dispose()  # no pooled connection may outlive the file it was opened on
            sqlite_copy(source / "onewindow.db", Path(db.engine.url.database))
            shutil.copytree(source / "files", os.environ[FILES_ENV], dirs_exist_ok=True)
        else:
            postgres_fill(db, source)
        return copy.deepcopy(result)

    def _build(self, build: Callable[[Database], Any], name: str) -> tuple[Path | str, Any]:
        folder = self.root / name
        (folder / "files").mkdir(parents=True)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(FILES_ENV, str(folder / "files"))
            if self.admin is None:
                return folder, build_then(sqlite_url(folder / "onewindow.db"), build)
            schema_name = f"ow_{name}_{os.getpid()}"
            return schema_name, postgres_schema(self.admin, self.postgres_url, schema_name, build)[1]

    def close(self) -> None:
        if self.admin is None:
            return
        for source, _ in self.built.values():
            drop_schema(self.admin, str(source))
        self.admin.dispose()
