"""The database connection and the unit of work every change runs in.

SQLite is the embedded default and PostgreSQL the production one; both are driven through the same
SQLAlchemy Core statements. On SQLite a writing unit of work starts with `BEGIN IMMEDIATE`, so two
writers queue for the lock instead of failing half-way with "database is locked" after reading.

On an SQLite file, reads and writes use two pools of connections: a reading connection is made read-only
(`PRAGMA query_only`) once, when it opens, and a writing one never is. Switching one connection between the
two at each transaction cost more than the PRAGMA: SQLite expires every prepared statement of a connection
whose `query_only` changes, so each statement of the next change was compiled again (bench/README.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from sqlalchemy import Connection, Engine, Row, Select, create_engine, event, exc, make_url

from engine import settings


class Database:
    """An SQLAlchemy engine plus the two ways to use it: `transaction()` to write, `reading()` to read."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or settings.database_url()
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine: Engine = _make_engine(self.url)
        # An in-memory database (the replay's scratch) exists once per connection: its reads share the
        # writer's connections, which then switch `query_only` per transaction.
        separate = self.is_sqlite and not _in_memory(self.url)
        self.read_engine: Engine = _make_engine(self.url, reader=True) if separate else self.engine

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine statements go through (for a listener that must see them all: the benches' counts)."""
        return (self.engine,) if self.read_engine is self.engine else (self.engine, self.read_engine)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One unit of work: commits when the block ends normally, rolls back on any exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(onewindow_writer=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def reading(self, snapshot: bool = False) -> Iterator[Connection]:
        """A connection that can only read: the database refuses a write (PostgreSQL's read-only
        transaction, SQLite's `query_only`), and whatever happened is rolled back, never committed —
        so a read that strays into writing fails loudly instead of slipping past the unit of work.

        `snapshot`: every statement sees the same state of the whole database (PostgreSQL's REPEATABLE
        READ; an SQLite read transaction in WAL mode is a snapshot from its first read anyway).
        """
        options: dict[str, object] = {"onewindow_reader": True}
        if not self.is_sqlite:
            options["postgresql_readonly"] = True
            if snapshot:
                options["isolation_level"] = "REPEATABLE READ"
        with self.read_engine.connect() as conn:
            conn = conn.execution_options(**options)
            transaction = conn.begin()
            try:
                yield conn
            finally:
                transaction.rollback()

    def read_row(self, statement: Select, params: dict[str, object]) -> Row | None:
        """The one row (or none) of one SELECT, run on its own, outside any transaction.

        For what every request reads before anything else (the person behind a session or an API token): a
        single statement sees one consistent state by itself, and `reading()`'s transaction around it cost two
        more round trips on PostgreSQL (BEGIN READ ONLY, ROLLBACK), about half the lookup (bench/README.md,
        http_load). Only a `Select` is taken, so nothing can be written here; on SQLite the connection is
        `query_only` as in `reading()`.
        """
        if not isinstance(statement, Select):
            raise TypeError(f"read_row runs one SELECT, not {type(statement).__name__}")
        options: dict[str, object] = {"onewindow_reader": True, "onewindow_single": True}
        if not self.is_sqlite:
            options["isolation_level"] = "AUTOCOMMIT"
        with self.read_engine.connect() as conn:
            return conn.execution_options(**options).execute(statement, params).one_or_none()

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()


# A pooled connection idle for longer than this is pinged before it is used again (see `_ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 5.0


def _in_memory(url: str) -> bool:
    database = make_url(url).database
    return not database or database == ":memory:" or "mode=memory" in url


def _make_engine(url: str, reader: bool = False) -> Engine:
    """`reader`: an SQLite engine whose connections are read-only from the start (`Database.read_engine`)."""
    if not url.startswith("sqlite"):
        engine = create_engine(url)
        _ping_when_idle(engine)
        return engine
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn, record) -> None:
        # Let SQLAlchemy's "begin" event below decide how a transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if reader:
            cursor.execute("PRAGMA query_only=1")
            record.info["query_only"] = True
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        writer, reader = options.get("onewindow_writer", False), options.get("onewindow_reader", False)
        info = conn.connection.info  # per pooled connection: set query_only only when it must change
        if info.get("query_only", False) != reader:
            conn.exec_driver_sql(f"PRAGMA query_only={1 if reader else 0}")
            info["query_only"] = reader
        if not options.get("onewindow_single", False):  # `read_row`: the statement is its own transaction
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before it is used only when it has sat idle in the pool for a while.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: one more round trip per transaction, two or three
    per API request (the token, then the change), which under load costs the worker and PostgreSQL CPU for
    nothing (bench/http_load.py). What the ping guards against — a connection the server dropped (a restart,
    an idle timeout, a firewall) — finds idle connections. A restart under load breaks the connections in
    use whether or not they were pinged; SQLAlchemy then invalidates the whole pool, so the connections
    returned a moment earlier are replaced as well rather than failing one by one.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:  # the pool replaces it (and every older one)
            raise exc.InvalidatePoolError() from error
