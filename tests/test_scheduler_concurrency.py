"""The scheduler under concurrency and after downtime: every due timer fires exactly once.

Serves the issue's point 5: a tick claims due timers from the timer index with row locks
(PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time), advances each case through the
one transaction and records what fired; timers due while the platform was down fire when it comes
back, once; several schedulers side by side never fire a timer twice.

The diagram is mostly tests/data/engine-paths: started with a=1, b=2 a case waits on the intermediate
timer `wait` ("PT1H"); when it fires the case goes on to the user task `finish`. tests/data/cycle-timer
(a reminder "R3/PT1H") and tests/data/clock-item (the case clock's warnings) serve one test each.

The PostgreSQL tests start real `onewindow tick` processes; CI runs this file on SQLite and on
PostgreSQL (DATABASE_URL=postgresql+psycopg://…), where it takes about 30 s.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ACCEPT_DATA, POSTGRES_URL
from sqlalchemy import func, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.runtime import scheduler
from engine.runtime.scheduler import tick
from engine.store.db import Database
from engine.store.tables import audit_events, case_warnings, cases, task_index, timer_index
from engine.time import clock

DATA = Path(__file__).resolve().parent / "data"
WAITING = {"a": 1, "b": 2}  # a + b ≤ 10: the small route, through the one-hour timer `wait`
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=1)

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (DATABASE_URL=postgresql+psycopg://…)")
sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's one-writer path; PostgreSQL has its own test")


@pytest.fixture
def paths(db):
    deploy_package(db, load_package(DATA / "engine-paths"), "analyst")


def _start_waiting(db: Database, actor, count: int, at: datetime = T0) -> list[str]:
    """`count` cases started at `at`, each waiting on the timer `wait` (due at `at` + 1 h)."""
    with clock.frozen_at(at):
        return [start_case(db, "TEST-PATHS", dict(WAITING), actor).case_no for _ in range(count)]


def _due_count(db: Database, now: datetime) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(timer_index)
                            .where(timer_index.c.due_at <= now)).scalar_one()


def _checks_due(db: Database, now: datetime) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(cases).where(cases.c.next_check_at <= now)).scalar_one()


def _case_rows(db: Database) -> dict[str, tuple[int, int]]:
    """case_no → (lock_version, audit_seq)."""
    with db.reading() as conn:
        return {r.case_no: (r.lock_version, r.audit_seq)
                for r in conn.execute(select(cases.c.case_no, cases.c.lock_version, cases.c.audit_seq))}


def _history_types(db: Database) -> dict[str, list[tuple[str, str | None]]]:
    """case_no → its audit events as (type, element), in order."""
    with db.reading() as conn:
        rows = conn.execute(select(cases.c.case_no, audit_events.c.type, audit_events.c.element_id)
                            .join(cases, cases.c.id == audit_events.c.case_id)
                            .order_by(audit_events.c.case_id, audit_events.c.seq)).all()
    history: dict[str, list[tuple[str, str | None]]] = collections.defaultdict(list)
    for row in rows:
        history[row.case_no].append((row.type, row.element_id))
    return history


def assert_fired_exactly_once(db: Database, case_nos: list[str]) -> None:
    """Every case fired `wait` once: one timer_fired event each, no timer left, `finish` open once."""
    with db.reading() as conn:
        fired = conn.execute(select(cases.c.case_no, func.count()).join(cases, cases.c.id == audit_events.c.case_id)
                             .where(audit_events.c.type == "timer_fired").group_by(cases.c.case_no)).all()
        timers_left = conn.execute(select(func.count()).select_from(timer_index)).scalar_one()
        open_tasks = conn.execute(select(cases.c.case_no, task_index.c.element_id)
                                  .join(cases, cases.c.id == task_index.c.case_id)).all()
    counts = dict(fired)
    assert sorted(counts) == sorted(case_nos), "a case without timer_fired, or an unexpected one"
    twice = {no: n for no, n in counts.items() if n != 1}
    assert not twice, f"timer fired more than once: {dict(list(twice.items())[:10])}"
    assert timers_left == 0
    assert sorted(no for no, _ in open_tasks) == sorted(case_nos), "each case must have exactly one open task"
    assert {element for _, element in open_tasks} == {"finish"}


def assert_no_empty_changes(db: Database, case_nos: list[str]) -> None:
    """Each case was written exactly twice (start, fire): a worker that comes to a case another one
    already advanced must leave it alone, not save it again (a needless write that bumps the lock
    version, so a clerk's concurrent submit on it would fail with a conflict)."""
    rows = _case_rows(db)
    histories = _history_types(db)
    expected = histories[case_nos[0]]
    assert ("timer_fired", "wait") in expected
    odd_history = [no for no in case_nos if histories[no] != expected]
    assert not odd_history, f"cases whose history differs from {expected}: {odd_history[:10]}"
    rewritten = {no: rows[no] for no in case_nos if rows[no][0] != 2}
    assert not rewritten, (f"{len(rewritten)} case(s) saved again after their timer had fired "
                           f"(lock_version, audit_seq): {dict(list(rewritten.items())[:5])}")


# ---------------------------------------------------------------------------------------------------
# Downtime: timers that fell due while nothing was ticking fire at the first tick, once.


def test_timers_due_while_the_platform_was_down_fire_once_when_it_comes_back(db, paths, clerk):
    back_up = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
    started = {ago: _start_waiting(db, clerk, 3, back_up - ago)
               for ago in (timedelta(days=10), timedelta(days=3), timedelta(days=1), timedelta(hours=2))}
    not_yet = _start_waiting(db, clerk, 2, back_up - timedelta(minutes=30))  # due in 30 minutes
    overdue = [no for nos in started.values() for no in nos]

    with clock.frozen_at(back_up):  # the platform comes back: its first tick at the engine clock's now
        first = tick(db)
    assert first.errors == [] and first.conflicts == []
    assert sorted(f["case_no"] for f in first.fired) == sorted(overdue)
    assert {f["element_id"] for f in first.fired} == {"wait"}
    assert tick(db, back_up + timedelta(seconds=10)).fired == []
    assert tick(db, back_up + timedelta(minutes=29)).fired == []

    history = _history_types(db)
    assert all(history[no].count(("timer_fired", "wait")) == 1 for no in overdue)
    assert all(("timer_fired", "wait") not in history[no] for no in not_yet)
    with db.reading() as conn:
        fired_at = conn.execute(select(audit_events.c.at).where(audit_events.c.type == "timer_fired")).scalars().all()
        waiting = conn.execute(select(cases.c.case_no).join(timer_index, timer_index.c.case_id == cases.c.id)).scalars()
        assert sorted(waiting) == sorted(not_yet)
    # recorded when it really fired (the tick's time), not when it was due
    assert {(a if a.tzinfo else a.replace(tzinfo=UTC)) for a in fired_at} == {back_up}

    assert sorted(f["case_no"] for f in tick(db, back_up + timedelta(minutes=31)).fired) == sorted(not_yet)
    assert tick(db, back_up + timedelta(days=30)).fired == []
    assert_fired_exactly_once(db, overdue + not_yet)


def test_a_worker_that_comes_to_a_case_another_one_already_fired_writes_nothing(db, paths, clerk, monkeypatch):
    """The race of two schedulers, made deterministic: worker B read the due list before worker A fired
    those cases; when B then comes to them, they have no due timer any more."""
    case_nos = _start_waiting(db, clerk, 3)
    now = DUE + timedelta(minutes=1)
    stale = scheduler.due_cases(db, now)  # what B read
    assert sorted(stale) == sorted(case_nos)
    assert len(tick(db, now).fired) == 3  # A fires them
    before, history_before = _case_rows(db), _history_types(db)

    monkeypatch.setattr(scheduler, "due_cases", lambda *args, **kwargs: list(stale))
    late = tick(db, now)  # B goes on with its stale list
    assert late.fired == [] and late.errors == []
    assert _history_types(db) == history_before, "no event may be recorded for a timer that is not due"
    assert _case_rows(db) == before, "a case whose timer another worker fired must not be saved again"


def test_a_tick_at_exactly_the_due_time_fires_or_leaves_the_case_alone(db, paths, clerk):
    (case_no,) = _start_waiting(db, clerk, 1)
    before = _case_rows(db)
    at_due = tick(db, DUE)
    if at_due.fired:  # the index and SpiffWorkflow agree that the time has come
        assert_fired_exactly_once(db, [case_no])
    else:  # they agree that it has not: then the case is not touched
        assert _case_rows(db) == before and _due_count(db, DUE + timedelta(seconds=1)) == 1
        assert [f["case_no"] for f in tick(db, DUE + timedelta(seconds=1)).fired] == [case_no]
    assert_no_empty_changes(db, [case_no])


def test_a_tick_time_given_with_an_offset_means_that_instant(db, paths, clerk):
    """`onewindow tick --now 2026-03-02T18:00:00+08:00` is 10:00 UTC: the due times (stored in UTC) must
    be compared with that instant, not with the wall time 18:00 (SQLite keeps times as text)."""
    case_nos = _start_waiting(db, clerk, 2)  # due 10:00 UTC = 18:00 in the district
    before = _case_rows(db)
    early = tick(db, datetime(2026, 3, 2, 17, 30, tzinfo=clock.LOCAL_TZ))  # 09:30 UTC
    assert early.fired == [] and early.errors == []
    assert _case_rows(db) == before, "cases whose timer is not due must not be touched"
    late = tick(db, datetime(2026, 3, 2, 18, 0, 1, tzinfo=clock.LOCAL_TZ))
    assert sorted(f["case_no"] for f in late.fired) == sorted(case_nos)
    with db.reading() as conn:
        fired_at = conn.execute(select(audit_events.c.at).where(audit_events.c.type == "timer_fired")).scalars().all()
    assert {(a if a.tzinfo else a.replace(tzinfo=UTC)) for a in fired_at} == {DUE + timedelta(seconds=1)}
    assert_no_empty_changes(db, case_nos)


def test_a_cycle_timer_is_recorded_each_time_it_fires(db, clerk):
    """modeling.md §9: `"R3/PT1H"` reminds every hour, three times. Each reminder is a timer that fired:
    it is in the tick's report and in the audit trail, though the timer itself goes on waiting."""
    deploy_package(db, load_package(DATA / "cycle-timer"), "analyst")
    with clock.frozen_at(T0):
        case_no = start_case(db, "TEST-CYCLE", {}, clerk).case_no
    fired = []
    for minutes in (30, 61, 90, 121, 181, 241, 300):
        report = tick(db, T0 + timedelta(minutes=minutes))
        assert report.errors == []
        fired += [(minutes, f["element_id"]) for f in report.fired]
    assert fired == [(61, "remind"), (121, "remind"), (181, "remind")]
    history = _history_types(db)[case_no]
    assert history.count(("timer_fired", "remind")) == 3
    assert history.count(("step_completed", "reminded")) == 3


# ---------------------------------------------------------------------------------------------------
# SQLite: two schedulers in one process (threads); BEGIN IMMEDIATE makes them take turns.


@sqlite_only
def test_two_threads_ticking_at_once_on_sqlite_fire_every_timer_once(db, paths, clerk):
    case_nos = _start_waiting(db, clerk, 100)
    now = DUE + timedelta(minutes=5)
    barrier = threading.Barrier(2)
    reports: dict[int, list] = {0: [], 1: []}
    failures: list[BaseException] = []

    def worker(k: int) -> None:
        own = Database(db.url)  # a worker of its own, as a second scheduler would be
        try:
            barrier.wait(timeout=30)
            for _ in range(10):
                reports[k].append(tick(own, now))
                if _due_count(own, now) == 0:
                    break
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=worker, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert all(not t.is_alive() for t in threads)
    fired = [f["case_no"] for k in reports for r in reports[k] for f in r.fired]
    assert [e for k in reports for r in reports[k] for e in r.errors] == []
    assert sorted(fired) == sorted(case_nos), "each due timer is reported fired by exactly one worker"
    assert_fired_exactly_once(db, case_nos)
    spread = {k: sum(len(r.fired) for r in reports[k]) for k in reports}
    print(f"\nSQLite, 2 threads over {len(case_nos)} due timers: fired per thread {spread}")
    assert_no_empty_changes(db, case_nos)


def test_a_tick_in_one_thread_does_not_freeze_the_clock_of_another():
    """The embedded scheduler ticks in a thread of the web process: a tick's `frozen_at(now)` must not
    change what `clock.now()` says in the request threads, nor stay behind when two ticks overlap."""
    tick_time = datetime(2020, 1, 1, tzinfo=UTC)
    inside, release = threading.Event(), threading.Event()

    def ticking() -> None:
        with clock.frozen_at(tick_time):
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=ticking)
    thread.start()
    try:
        assert inside.wait(10)
        seen_elsewhere = clock.now()
    finally:
        release.set()
        thread.join(10)
    assert seen_elsewhere != tick_time, "another thread's tick froze this thread's clock"
    assert clock.now() != tick_time


# ---------------------------------------------------------------------------------------------------
# PostgreSQL: four scheduler processes (`onewindow tick`, the real entry point) ticking at once.

WORKERS = 4
CASES = 1000


def _onewindow() -> list[str]:
    script = Path(sys.executable).parent / "onewindow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "onewindow"]


def _tick_in_processes(db: Database, now: datetime, still_due) -> dict[str, Any]:
    """WORKERS lanes, started together; each runs `onewindow tick --now … --json` as its own OS process,
    again and again until `still_due()` says nothing is left. Returns each lane's tick reports."""
    command = [*_onewindow(), "tick", "--now", now.isoformat(), "--json"]
    env = {**os.environ, "DATABASE_URL": db.url}  # the per-run schema travels in the URL's search_path
    barrier = threading.Barrier(WORKERS)
    runs: dict[int, list[dict]] = {k: [] for k in range(WORKERS)}
    failures: list[str] = []

    def lane(k: int) -> None:
        try:
            barrier.wait(timeout=60)
            for _ in range(12):
                started = time.monotonic()
                proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
                if proc.returncode != 0:
                    failures.append(f"worker {k}: exit {proc.returncode}: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
                    return
                report = json.loads(proc.stdout)
                report["span"] = (started, time.monotonic())
                runs[k].append(report)
                if not still_due():
                    return
            failures.append(f"worker {k}: still due after 12 ticks")
        except Exception as exc:
            failures.append(f"worker {k}: {exc!r}")

    threads = [threading.Thread(target=lane, args=(k,)) for k in range(WORKERS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    reports = [r for k in runs for r in runs[k]]
    assert [e for r in reports for e in r["errors"]] == []
    # Did the workers really run side by side? Count the pairs of ticks that overlapped in time.
    spans = [r["span"] for r in reports]
    overlapping = sum(1 for i, (a0, a1) in enumerate(spans) for (b0, b1) in spans[i + 1:] if a0 < b1 and b0 < a1)
    return {"runs": runs, "reports": reports, "overlapping": overlapping, "seconds": time.perf_counter() - began,
            "fired_per_worker": {k: sum(len(r["fired"]) for r in runs[k]) for k in runs},
            "skipped_busy_per_worker": {k: sum(len(r["conflicts"]) for r in runs[k]) for k in runs},
            "ticks_per_worker": {k: len(runs[k]) for k in runs}}


@postgres_only
def test_four_processes_ticking_at_once_fire_each_of_1000_timers_exactly_once(db, paths, clerk, record_property):
    began = time.perf_counter()
    case_nos = _start_waiting(db, clerk, CASES)
    setup_seconds = time.perf_counter() - began
    now = DUE + timedelta(minutes=1)
    assert _due_count(db, now) == CASES

    result = _tick_in_processes(db, now, lambda: _due_count(db, now) > 0)

    fired = [f["case_no"] for r in result["reports"] for f in r["fired"]]
    duplicates = [no for no, n in collections.Counter(fired).items() if n > 1]
    assert not duplicates, f"reported fired by more than one tick: {duplicates[:10]}"
    assert sorted(fired) == sorted(case_nos)
    assert_fired_exactly_once(db, case_nos)
    spread = result["fired_per_worker"]
    summary = {key: result[key] for key in ("fired_per_worker", "skipped_busy_per_worker", "ticks_per_worker",
                                            "overlapping")}
    summary |= {"setup_seconds": round(setup_seconds, 1), "tick_seconds": round(result["seconds"], 1)}
    record_property("scheduler_spread", json.dumps(summary))
    print(f"\nPostgreSQL, {WORKERS} `onewindow tick` processes over {CASES} due timers: {summary}")
    assert sum(1 for n in spread.values() if n > 0) >= 2, f"the work was not shared: {spread}"
    assert result["overlapping"] > 0
    assert_no_empty_changes(db, case_nos)


CLOCK_CASES = 200


@postgres_only
def test_four_processes_ticking_at_once_raise_each_warning_exactly_once(db, clerk, record_property):
    """The warning checks (`cases.next_check_at`) are claimed like timers: with four schedulers at
    once, each case's warnings (the reminder, the yellow card of the passed deadline, the review step's
    own limit — issue 15, item 10's levels) are raised once, and its reminder timer fires once."""
    deploy_package(db, load_package(DATA / "clock-item"), "analyst")
    accepted = datetime(2026, 2, 12, 2, 0, tzinfo=UTC)  # 10:00 in the district; committed limit 5 working days
    with clock.frozen_at(accepted):
        case_nos = [start_case(db, "TEST-CLOCK", {"needs_supplement": False}, clerk).case_no
                    for _ in range(CLOCK_CASES)]
        with db.reading() as conn:
            accepts = conn.execute(select(task_index.c.task_id).where(task_index.c.element_id == "accept")).scalars()
            accepts = list(accepts)
        for task_id in accepts:
            complete_task(db, task_id, ACCEPT_DATA, clerk)
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # past the committed deadline (24:00 on 26 Feb), not the statutory
    assert _checks_due(db, now) == CLOCK_CASES
    before = {no: lock for no, (lock, _) in _case_rows(db).items()}

    result = _tick_in_processes(db, now, lambda: _checks_due(db, now) > 0 or _due_count(db, now) > 0)

    with db.reading() as conn:
        warnings = conn.execute(select(cases.c.case_no, case_warnings.c.level, case_warnings.c.kind)
                                .join(cases, cases.c.id == case_warnings.c.case_id)).all()
    per_case = collections.defaultdict(list)
    for row in warnings:
        per_case[row.case_no].append((row.level, row.kind))
    assert sorted(per_case) == sorted(case_nos)
    expected = sorted(per_case[case_nos[0]])
    assert {("reminder", "committed"), ("yellow", "committed"), ("yellow", "step")} <= set(expected)
    assert len(set(expected)) == len(expected), f"a warning raised twice: {expected}"
    odd = {no: sorted(w) for no, w in per_case.items() if sorted(w) != expected}
    assert not odd, f"every case warns the same, each warning once: {dict(list(odd.items())[:5])}"
    histories = _history_types(db)
    assert all(histories[no].count(("timer_fired", "remind")) == 1 for no in case_nos)
    assert all(histories[no] == histories[case_nos[0]] for no in case_nos), "every case went the same way, once"
    after = _case_rows(db)
    assert {after[no][0] - before[no] for no in case_nos} == {1}, "one write per case: no empty or repeated change"
    summary = {key: result[key] for key in ("fired_per_worker", "skipped_busy_per_worker", "overlapping")}
    record_property("scheduler_spread_warnings", json.dumps(summary))
    print(f"\nPostgreSQL, {WORKERS} `onewindow tick` processes over {CLOCK_CASES} due warning checks: {summary}")
