"""The audit trail is append-only in the database, and tampering with it is found (S-14).

Triggers reject UPDATE and DELETE on the audit tables (on SQLite and on PostgreSQL). Each kind of
tampering is then done the way an intruder with database rights would: the triggers dropped, raw
SQL, the triggers put back (in `finally`: on PostgreSQL the schema is shared by the whole run). The
verifier must name the case, the first broken event and what is wrong; a clean database verifies clean.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine.audit.checkpoints import checkpoint_hash, latest_checkpoint, make_checkpoint
from engine.audit.triggers import (
    APPEND_ONLY_TABLES,
    append_only_triggers,
    create_append_only_triggers,
    drop_append_only_triggers,
)
from engine.audit.verify import verify_all, verify_case
from engine.desk.casework import claim_task, complete_task, start_case
from engine.errors import NotFound
from engine.reads import queries
from engine.runtime.chain import GENESIS, event_hash
from engine.store.tables import audit_checkpoint_heads, audit_checkpoints, audit_events, audit_views, cases
from engine.time import clock
from engine.time.clock import as_utc

REVIEW_OK = {"opinion": "同意"}


def _task(db, case_no: str, element_id: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element_id)


def run_case(db, actor, to_the_end: bool = True) -> str:
    """A joint-review case: accept, the three reviews, and (by default) issue — about 20 events."""
    case_no = start_case(db, "DEMO-001", {}, actor).case_no
    claim_task(db, _task(db, case_no, "accept"), actor)
    complete_task(db, _task(db, case_no, "accept"), ACCEPT_DATA, actor)
    for element in ("review_housing", "review_fire", "review_env"):
        complete_task(db, _task(db, case_no, element), REVIEW_OK, actor)
    if to_the_end:
        complete_task(db, _task(db, case_no, "issue"), {"certificate_no": "C-1"}, actor)
    return case_no


@pytest.fixture
def three_cases(db, joint, clerk) -> list[str]:
    return [run_case(db, clerk), run_case(db, clerk, to_the_end=False), run_case(db, clerk)]


@contextlib.contextmanager
def tampering(db):
    """A raw connection with the append-only triggers dropped; they are put back whatever happens."""
    with db.engine.begin() as conn:
        drop_append_only_triggers(conn)
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        with db.engine.begin() as conn:
            create_append_only_triggers(conn)


def case_id(db, case_no: str) -> int:
    with db.reading() as conn:
        return conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()


def broken_cases(report) -> dict[str, dict]:
    return {v.case_no: v.to_dict() for v in report.broken}


def assert_only_broken(db, case_no: str, first_seq: int | None, *phrases: str) -> dict:
    """verify_all finds exactly `case_no` broken, first at event `first_seq`, and says `phrases`;
    verify_case on the same case says the same."""
    report = verify_all(db)
    broken = broken_cases(report)
    assert list(broken) == [case_no], broken
    verdict = broken[case_no]
    assert verdict["first_broken_event"] == first_seq, verdict
    for phrase in phrases:
        assert phrase in verdict["first_problem"], verdict
    alone = verify_case(db, case_no).to_dict()
    assert alone["first_problem"] == verdict["first_problem"]
    assert not alone["ok"]
    return verdict


# --- the triggers ----------------------------------------------------------------------------------


def test_update_and_delete_on_audit_events_are_rejected_by_the_database(db, joint, clerk):
    case_no = run_case(db, clerk)
    cid = case_id(db, case_no)
    for statement in (f"UPDATE audit_events SET actor = 'intruder' WHERE case_id = {cid} AND seq = 2",
                      f"DELETE FROM audit_events WHERE case_id = {cid} AND seq = 2",
                      f"DELETE FROM audit_events WHERE case_id = {cid}"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert verify_case(db, case_no).ok


def test_the_checkpoint_and_view_tables_are_append_only_too(db, joint, clerk):
    run_case(db, clerk)
    make_checkpoint(db)
    with db.transaction() as conn:
        conn.execute(audit_views.insert().values(at=clock.now(), username="auditor", case_no=None, what="test"))
    for statement in ("UPDATE audit_checkpoints SET created_by = 'x'", "DELETE FROM audit_checkpoints",
                      "UPDATE audit_checkpoint_heads SET seq = 1", "DELETE FROM audit_checkpoint_heads",
                      "UPDATE audit_views SET username = 'x'", "DELETE FROM audit_views"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_every_append_only_table_has_its_triggers_and_they_can_be_put_back(db):
    with db.reading() as conn:
        installed = append_only_triggers(conn)
    per_table = 1 if db.engine.dialect.name == "postgresql" else 2
    assert len(installed) == per_table * len(APPEND_ONLY_TABLES)
    assert {name.rsplit("_", 2)[0] for name in installed} >= {"audit_events", "audit_views"}
    with tampering(db):
        pass
    with db.reading() as conn:
        assert append_only_triggers(conn) == installed


# --- a clean database verifies clean --------------------------------------------------------------


def test_a_clean_database_verifies_clean(db, three_cases):
    make_checkpoint(db)
    report = verify_all(db)
    assert report.ok, report.to_dict()
    assert report.cases == 3 and report.events > 30 and report.checkpoints == 1 and report.heads == 3
    assert report.broken == [] and report.checkpoint_problems == []
    for case_no in three_cases:
        verdict = verify_case(db, case_no)
        assert verdict.ok and verdict.checkpoints == 1, verdict.to_dict()


def test_an_empty_database_verifies_clean(db):
    report = verify_all(db)
    assert report.ok and report.cases == 0 and report.events == 0 and report.latest_checkpoint is None


def test_event_times_are_hashed_as_written_on_both_databases(db, joint, clerk):
    """SQLite gives times back naive, PostgreSQL aware in the session's zone: both verify."""
    with clock.frozen_at(datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)):
        case_no = run_case(db, clerk)
    with db.reading() as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.seq == 1)).one()
    assert as_utc(row.at).isoformat() == "2026-03-02T01:02:03.456789+00:00"
    assert event_hash(GENESIS, case_no, 1, as_utc(row.at), row.actor, row.type, row.element_id, row.data) == row.hash
    if db.engine.dialect.name == "postgresql":  # a session in Beijing time reads the same instants
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET TIME ZONE 'Asia/Shanghai'")
            at = conn.execute(select(audit_events.c.at).where(audit_events.c.seq == 1)).scalar_one()
        assert at.utcoffset() == timedelta(hours=8) and as_utc(at) == as_utc(row.at)
    assert verify_all(db).ok


def test_cases_changed_at_a_clock_given_in_beijing_time_verify_clean(db, joint, clerk):
    """`onewindow tick --now …+08:00` freezes the clock at an aware non-UTC time."""
    with clock.frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=clock.LOCAL_TZ)):
        case_no = run_case(db, clerk)
    assert verify_case(db, case_no).ok
    assert verify_all(db).ok


# --- tampering, each kind found and named ----------------------------------------------------------


def test_changed_event_data_is_a_hash_mismatch_at_that_event(db, three_cases):
    case_no = three_cases[1]
    cid = case_id(db, case_no)
    with db.reading() as conn:
        seq = conn.execute(select(audit_events.c.seq).where(audit_events.c.case_id == cid,
                                                            audit_events.c.type == "task_completed")
                           .order_by(audit_events.c.seq)).scalars().first()
    with tampering(db) as conn:
        data = conn.execute(select(audit_events.c.data).where(audit_events.c.case_id == cid,
                                                              audit_events.c.seq == seq)).scalar_one()
        data["data"]["decision"] = "不予受理"
        conn.execute(audit_events.update().where(audit_events.c.case_id == cid, audit_events.c.seq == seq)
                     .values(data=data))
    verdict = assert_only_broken(db, case_no, seq, f"event {seq}: data changed (hash mismatch)")
    assert len(verdict["problems"]) == 1  # the next event still links to the stored hash: one problem


def test_a_changed_actor_is_found_too(db, three_cases):
    cid = case_id(db, three_cases[0])
    with tampering(db) as conn:
        conn.execute(text(f"UPDATE audit_events SET actor = 'someone_else' WHERE case_id = {cid} AND seq = 3"))
    assert_only_broken(db, three_cases[0], 3, "event 3: data changed (hash mismatch)")


def test_a_deleted_middle_event_is_a_seq_gap(db, three_cases):
    cid = case_id(db, three_cases[2])
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {cid} AND seq = 4"))
    assert_only_broken(db, three_cases[2], 4, "event 4 missing (seq jumps 3→5)")


def test_a_deleted_first_event_is_found(db, three_cases):
    cid = case_id(db, three_cases[0])
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {cid} AND seq = 1"))
    assert_only_broken(db, three_cases[0], 1, "event 1 missing (the first event is 2)")


def test_an_edited_event_with_its_hash_recomputed_breaks_the_next_link(db, three_cases):
    """The intruder recomputes the edited event's hash: the event itself checks out, the next one's
    prev_hash no longer matches."""
    case_no = three_cases[0]
    cid = case_id(db, case_no)
    with tampering(db) as conn:
        row = conn.execute(select(audit_events).where(audit_events.c.case_id == cid, audit_events.c.seq == 5)).one()
        forged = event_hash(row.prev_hash, case_no, 5, as_utc(row.at), "intruder", row.type, row.element_id, row.data)
        conn.execute(audit_events.update().where(audit_events.c.id == row.id).values(actor="intruder", hash=forged))
    assert_only_broken(db, case_no, 6, "event 6: prev_hash does not match event 5")


def test_swapped_seq_numbers_are_found_at_the_first_of_them(db, three_cases):
    case_no = three_cases[2]
    cid = case_id(db, case_no)
    with tampering(db) as conn:  # through a free number: (case_id, seq) is unique
        conn.execute(text(f"UPDATE audit_events SET seq = -1 WHERE case_id = {cid} AND seq = 3"))
        conn.execute(text(f"UPDATE audit_events SET seq = 3 WHERE case_id = {cid} AND seq = 6"))
        conn.execute(text(f"UPDATE audit_events SET seq = 6 WHERE case_id = {cid} AND seq = -1"))
    verdict = assert_only_broken(db, case_no, 3, "event 3: out of order", "recorded as event 6")
    assert [p["seq"] for p in verdict["problems"]][:2] == [3, 4]  # event 4 no longer links to event 3
    assert any("event 6: out of order" in p["what"] and "event 3" in p["what"] for p in verdict["problems"])


def test_a_deleted_tail_is_a_case_row_head_mismatch(db, three_cases):
    case_no = three_cases[0]
    cid = case_id(db, case_no)
    with db.reading() as conn:
        last = conn.execute(select(cases.c.audit_seq).where(cases.c.id == cid)).scalar_one()
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {cid} AND seq >= {last - 1}"))
    assert_only_broken(db, case_no, last - 1, f"events {last - 1}–{last} missing", "case row's head is event")


def test_a_deleted_tail_with_the_case_row_rewound_is_found_by_the_checkpoint(db, three_cases):
    case_no = three_cases[0]
    cid = case_id(db, case_no)
    make_checkpoint(db)
    with db.reading() as conn:
        last = conn.execute(select(cases.c.audit_seq).where(cases.c.id == cid)).scalar_one()
        keep = conn.execute(select(audit_events.c.hash).where(audit_events.c.case_id == cid,
                                                              audit_events.c.seq == last - 2)).scalar_one()
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {cid} AND seq > {last - 2}"))
        conn.execute(cases.update().where(cases.c.id == cid).values(audit_seq=last - 2, audit_head=keep))
    assert_only_broken(db, case_no, last - 1, f"events {last - 1}–{last} missing", "checkpoint 1 recorded")


def test_all_events_of_a_case_deleted_after_a_checkpoint_are_found(db, three_cases):
    case_no = three_cases[1]
    cid = case_id(db, case_no)
    make_checkpoint(db)
    with tampering(db) as conn:
        conn.execute(text(f"DELETE FROM audit_events WHERE case_id = {cid}"))
        conn.execute(cases.update().where(cases.c.id == cid).values(audit_seq=0, audit_head=GENESIS))
    assert_only_broken(db, case_no, 1, "missing", "checkpoint 1 recorded the chain up to event")


def test_a_case_deleted_entirely_after_a_checkpoint_is_found(db, three_cases):
    case_no = three_cases[2]
    cid = case_id(db, case_no)
    make_checkpoint(db)
    with tampering(db) as conn:
        for table in ("audit_events", "task_index", "timer_index", "clock_pauses", "case_warnings", "notifications"):
            conn.execute(text(f"DELETE FROM {table} WHERE case_id = {cid}"))
        conn.execute(text(f"DELETE FROM cases WHERE id = {cid}"))
    report = verify_all(db)
    broken = broken_cases(report)
    assert list(broken) == [case_no] and report.cases == 3
    assert "case deleted" in broken[case_no]["first_problem"] and broken[case_no]["first_broken_event"] == 1
    verdict = verify_case(db, case_no)
    assert not verdict.ok and "case deleted" in verdict.first.what
    with pytest.raises(NotFound):
        verify_case(db, "20000101999999")


def test_a_whole_chain_rewritten_consistently_is_caught_by_the_checkpoint(db, three_cases):
    """The intruder rewrites an event and re-chains everything after it, case row included: the chain
    alone verifies, the head the checkpoint recorded does not."""
    case_no = three_cases[0]
    cid = case_id(db, case_no)
    make_checkpoint(db)
    with tampering(db) as conn:
        rows = conn.execute(select(audit_events).where(audit_events.c.case_id == cid)
                            .order_by(audit_events.c.seq)).all()
        head = GENESIS
        for row in rows:
            actor = "intruder" if row.seq == 4 else row.actor
            digest = event_hash(head, case_no, row.seq, as_utc(row.at), actor, row.type, row.element_id, row.data)
            conn.execute(audit_events.update().where(audit_events.c.id == row.id)
                         .values(actor=actor, prev_hash=head, hash=digest))
            head = digest
        conn.execute(cases.update().where(cases.c.id == cid).values(audit_head=head))
    verdict = assert_only_broken(db, case_no, rows[-1].seq, f"event {rows[-1].seq} differs from checkpoint 1")
    assert "rewritten" in verdict["first_problem"]


# --- checkpoints -----------------------------------------------------------------------------------


def test_checkpoints_are_incremental_and_chained(db, joint, clerk):
    first_case = run_case(db, clerk)
    first = make_checkpoint(db, actor="cli")
    assert first.created and first.case_count == 1 and first.id is not None
    again = make_checkpoint(db)
    assert not again.created and again.id == first.id and "nothing moved" in again.message
    second_case = run_case(db, clerk, to_the_end=False)
    second = make_checkpoint(db)
    assert second.case_count == 1  # only the new case moved
    complete_task(db, _task(db, second_case, "issue"), {"certificate_no": "C-2"}, clerk)
    third = make_checkpoint(db)
    assert third.case_count == 1
    with db.reading() as conn:
        points = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id)).all()
        heads = conn.execute(select(audit_checkpoint_heads).order_by(audit_checkpoint_heads.c.checkpoint_id)).all()
    assert [p.prev_hash for p in points] == [GENESIS, points[0].hash, points[1].hash]
    assert [(h.checkpoint_id, h.case_no) for h in heads] == [(points[0].id, first_case), (points[1].id, second_case),
                                                             (points[2].id, second_case)]
    for point in points:
        mine = [(h.case_no, h.seq, h.head) for h in heads if h.checkpoint_id == point.id]
        assert checkpoint_hash(point.prev_hash, point.at, point.created_by, mine) == point.hash
    info = latest_checkpoint(db)
    assert info["id"] == points[2].id and info["hash"] == third.hash and info["pending_cases"] == 0
    report = verify_all(db)
    assert report.ok and report.checkpoints == 3 and report.heads == 3
    assert report.latest_checkpoint["hash"] == third.hash


def test_a_changed_checkpoint_head_breaks_the_checkpoint_chain(db, three_cases):
    make_checkpoint(db)
    run_case(db, _clerk(db))
    make_checkpoint(db)
    with tampering(db) as conn:
        conn.execute(text("UPDATE audit_checkpoint_heads SET seq = seq + 1 WHERE checkpoint_id = 1 "
                          f"AND case_no = '{three_cases[0]}'"))
    report = verify_all(db)
    assert not report.ok
    assert [p.what for p in report.checkpoint_problems] == ["checkpoint 1: heads or header changed (hash mismatch)"]
    # …and the case whose head was moved says the checkpoint no longer matches its chain
    assert "checkpoint 1 recorded" in broken_cases(report)[three_cases[0]]["first_problem"]
    assert not verify_case(db, three_cases[0]).ok


def test_a_removed_checkpoint_breaks_the_link_of_the_next(db, three_cases):
    make_checkpoint(db)
    run_case(db, _clerk(db))
    make_checkpoint(db)
    run_case(db, _clerk(db))
    make_checkpoint(db)
    with tampering(db) as conn:
        conn.execute(text("DELETE FROM audit_checkpoint_heads WHERE checkpoint_id = 2"))
        conn.execute(text("DELETE FROM audit_checkpoints WHERE id = 2"))
    report = verify_all(db)
    assert [p.what for p in report.checkpoint_problems] == [
        "checkpoint 3: prev_hash does not match checkpoint 1 (a checkpoint was removed or altered)"]
    assert report.broken == []


def test_verify_reads_in_bounded_chunks(db, three_cases, monkeypatch):
    """verify_all streams (yield_per) rather than fetching every event in one list."""
    from engine.audit import verify

    monkeypatch.setattr(verify, "STREAM_CHUNK", 3)
    make_checkpoint(db)
    report = verify_all(db)
    assert report.ok and report.events > 30
    with db.reading() as conn:
        assert report.events == conn.execute(select(func.count()).select_from(audit_events)).scalar_one()


def _clerk(db):
    from engine.org import accounts

    return accounts.actor_for(db, "clerk")


def test_concurrent_checkpoints_queue_and_never_fork(db, three_cases):
    import threading

    barrier = threading.Barrier(3)
    results, errors = [], []

    def take() -> None:
        barrier.wait()
        try:
            results.append(make_checkpoint(db))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.case_count for r in results) == [0, 0, 3] and sum(r.created for r in results) == 1
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(audit_checkpoints)).scalar_one() == 1
    assert verify_all(db).ok


def test_the_verify_benchmark_runs_and_finds_its_copies_valid():
    """bench/verify.py builds valid chains by copying (hashes recomputed): the verifier must agree.

    Run the way `onewindow bench` runs it (bench/ on the path for its shared helpers)."""
    import json
    from pathlib import Path

    from onewindow import benchmarks

    path = Path(__file__).resolve().parent.parent / "bench" / "verify.py"
    outcome = benchmarks.run("verify", path, ["--cases", "12", "--reps", "1", "--json"], capture=True)
    assert outcome.status == 0
    result = json.loads(outcome.output)
    figures = result["backends"]["sqlite"]
    assert figures["cases"] == 12 and figures["verify_all"]["events_per_second_median"] > 0
