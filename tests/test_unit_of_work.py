"""One unit of work, one write path (issue 14, item 4): a read cannot write, and a use case that touches two
cases — a bad rating and its rectification case (S-12), an exception case and its original — commits both or
neither, however the race falls."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import PROCESSES, make_actor
from psycopg.pq import TransactionStatus
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import DBAPIError
from test_ratings import _closed_case, world  # noqa: F401  (world is a fixture)
from watch_scenarios import accept, local, setup

from engine.catalogue.deployment import deploy_package
from engine.diagrams.package import load_package
from engine.errors import ConflictError
from engine.org import accounts
from engine.store.db import Database
from engine.store.tables import audit_events, cases, items, metadata, watch_settings
from engine.time import clock
from engine.watch import ratings, supervision


def _setting(key: str):
    """A write any unit of work may make: one watch setting."""
    return insert(watch_settings).values(key=key, value={"v": 1}, updated_by="admin", updated_at=clock.now())


def _count(db, table, *where) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_read_cannot_write_and_never_commits(db):
    """Both databases refuse the statement itself (SQLite's query_only, PostgreSQL's read-only transaction)."""
    with pytest.raises(DBAPIError, match=r"(?i)read.?only|readonly|query_only|attempt to write"), \
            db.reading() as conn:
        conn.execute(_setting("stray"))
    assert _count(db, watch_settings, watch_settings.c.key == "stray") == 0
    with db.transaction() as conn:  # the pooled connection writes again in a unit of work
        conn.execute(_setting("kept"))
    assert _count(db, watch_settings, watch_settings.c.key == "kept") == 1


def test_on_an_sqlite_file_reads_and_writes_never_switch_a_connection(db):
    """SQLite expires every prepared statement of a connection whose `query_only` changes, so a change that
    followed a read on the same connection compiled each of its statements again (issue 18, item 1: about a
    sixth of a task completion). Reads have connections of their own, read-only from the start; alternating
    reads and writes sends no PRAGMA, and a read still cannot write."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL marks each read transaction READ ONLY; nothing is switched per connection")
    statements: list[str] = []
    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    for n in range(3):
        with db.transaction() as conn:
            conn.execute(_setting(f"k{n}"))
        assert _count(db, watch_settings) == n + 1
        assert db.read_row(select(func.count()).select_from(watch_settings), {})[0] == n + 1
    assert not [s for s in statements if "PRAGMA" in s.upper()], statements
    assert len(db.engines) == 2
    with pytest.raises(DBAPIError, match=r"(?i)readonly|attempt to write"), db.reading() as conn:
        conn.execute(_setting("stray"))


def test_an_in_memory_database_reads_on_its_one_connection_and_still_cannot_write():
    """The replay's scratch database lives in its connection: reads share it, switching `query_only` per
    transaction, and are refused a write all the same."""
    scratch = Database("sqlite://")
    metadata.create_all(scratch.engine)
    with scratch.transaction() as conn:
        conn.execute(_setting("kept"))
    assert scratch.engines == (scratch.engine,) and _count(scratch, watch_settings) == 1
    with pytest.raises(DBAPIError, match=r"(?i)readonly|attempt to write"), scratch.reading() as conn:
        conn.execute(_setting("stray"))
    with scratch.transaction() as conn:
        conn.execute(_setting("after"))
    assert _count(scratch, watch_settings) == 2
    scratch.dispose()


def test_the_person_behind_a_request_is_read_by_one_statement_outside_any_transaction(db, clerk):
    """What every request reads first (a session's or an API token's person, issue 18 item 4) is one SELECT
    on its own, not a read transaction around it (two more round trips on PostgreSQL); the connection then
    serves a unit of work and a read as before."""
    token = accounts.issue_token(db, clerk.username)
    seen: list[bool] = []

    def in_transaction(conn, *_args) -> None:
        raw = conn.connection.dbapi_connection
        seen.append(raw.in_transaction if db.is_sqlite else raw.info.transaction_status != TransactionStatus.IDLE)

    for engine in db.engines:
        event.listen(engine, "after_cursor_execute", in_transaction)
    try:
        assert accounts.actor_for_token(db, token).username == clerk.username
        assert accounts.session_actor(db, clerk.username, 0).username == clerk.username
        with db.reading() as conn:
            conn.execute(select(func.count()).select_from(cases)).scalar_one()
    finally:
        for engine in db.engines:
            event.remove(engine, "after_cursor_execute", in_transaction)
    assert seen[:2] == [False, False] and seen[-1] is True  # the read transaction's statement is inside one
    with pytest.raises(TypeError, match="one SELECT"):
        db.read_row(insert(watch_settings).values(key="stray"), {})
    with db.transaction() as conn:
        conn.execute(_setting("after"))
    assert _count(db, watch_settings, watch_settings.c.key == "after") == 1


def test_a_double_submitted_bad_rating_leaves_one_rectification_case(db, world, monkeypatch):  # noqa: F811
    """The second submission passed the "already rated?" check before the first committed (forced here by
    showing it the occasion as unrated): its rectification case must go with its refused rating."""
    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    with clock.frozen_at(local("2026-03-03 09:00")):
        first = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 1, comment="态度差")
    assert first.rectification_case_no is not None
    seen = ratings._occasions
    monkeypatch.setattr(ratings, "_occasions", lambda conn, case: [replace(o, rated=False) for o in seen(conn, case)])
    with clock.frozen_at(local("2026-03-03 09:00")), pytest.raises(ConflictError, match="不能重复提交"):
        ratings.rate(db, case_no, applicant, ratings.COMPLETION, 1, comment="态度差")
    rectify = select(items.c.id).where(items.c.code == ratings.RECTIFY_ITEM).scalar_subquery()
    assert _count(db, cases, cases.c.item_id == rectify) == 1


def test_an_exception_case_exists_only_with_its_record_on_the_original(db, monkeypatch):
    people = setup(db)
    deploy_package(db, load_package(PROCESSES / "supervision" / "exception-handling"), "analyst")
    original = accept(db, people, "2026-02-12 10:00", unit="区中心/区民政局")
    make_actor(db, "mz-window", ["区中心/区民政局·窗口"])
    before = _count(db, cases)

    def broken(exception_case_no, problem):
        def note(ctx):
            raise RuntimeError("断电")
        return note

    monkeypatch.setattr(supervision, "_exception_note", broken)
    with pytest.raises(RuntimeError):
        supervision.open_exception(db, original, people.supervisor, "审查环节超期未办")
    assert _count(db, cases) == before  # no exception case without the original knowing of it
    assert _count(db, audit_events, audit_events.c.type == "exception_opened") == 0
