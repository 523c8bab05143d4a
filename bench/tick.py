"""The cost of one scheduler tick: it must cost what is due, not what is waiting.

Two databases, measured in one run: one where 10,000 cases wait on a timer and one where 100,000 do;
in each, 1,000 of those timers are due at every measured tick time. A rep calls
`engine.runtime.scheduler.tick(db, now)` on each until a tick fires nothing (the scheduler takes at most its
batch of cases a tick) and times every call, the two databases ticking in turn.

The waiting cases are real: one case of processes/demo-committed (乡村建设规划许可证核发) is run
through the engine to the seven-day publicity timer, then its rows (`cases` and every table with a
`case_id`) are copied in bulk with new ids, case numbers and task ids; each copy's due time is written
into its state (`event_value`) and its `timer_index` row alike. Firing one opens the review task and
its three-day boundary timer, as in production. Nothing has to be reset between reps: rep r ticks at
BASE + r hours, when exactly the next 1,000 timers have come due (the ones fired earlier now wait
three days for their boundary timer, the rest up to 60 days).

Also printed: the query plan of every SELECT a tick runs (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on
PostgreSQL) with the parameters it ran with: the due queries of an idle tick in both databases, and
the per-case statements. A scan of a table that grows with the cases, and any sort, is flagged. The
figures are printed, never asserted: target large/small ≤ 1.2 (see bench/README.md).

Run: `python bench/tick.py [--waiting-small N] [--waiting-large N] [--due N] [--reps N] [--postgres URL]
[--no-sqlite] [--json]`, or `onewindow bench tick`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import platform as host
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import SpiffWorkflow
from benchtools import emit, log
from sqlalchemy import event, func, select, text

from engine import settings
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.org import accounts
from engine.reads import queries
from engine.runtime import scheduler
from engine.store import schema
from engine.store.db import Database
from engine.store.tables import metadata, timer_index
from engine.time import clock

PACKAGE_DIR = settings.PROCESSES_DIR / "demo-committed"
ITEM_CODE = "DEMO-004"
WINDOW_GROUP = "住建局窗口"
ACCEPT = {"applicant_name": "陈国平", "id_number": "420115198203154321", "village": "涂家垴镇新桥村三组",
          "site_area": 120, "floors": 2, "building_height": 7.5, "homestead_approval_no": "江宅批〔2025〕017号",
          "acceptance": "受理"}
TIMER_ELEMENT = "publicity"

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # the template case is accepted then
BASE = T0 + timedelta(days=8)  # rep r ticks at BASE + (r + 1) * STEP; batch r falls due in the hour before
STEP = timedelta(hours=1)
FUTURE_DAYS = 60
COPY_CHUNK = 5000
MAX_TICKS_PER_REP = 200

TARGET_SCALE = 1.2



# --------------------------------------------------------------------------------------------------
# One database: migrated, the demo item deployed, N copies of a case waiting on its publicity timer.


class Store:
    """Raw access for the bulk copy: SQLite through sqlite3, PostgreSQL through psycopg's COPY."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sqlite = db.is_sqlite

    def time_value(self, moment: datetime) -> Any:
        # SQLAlchemy keeps a timezone-aware DateTime on SQLite as this text (in UTC, as the engine writes it).
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment

    @contextlib.contextmanager
    def raw(self) -> Iterator[Any]:
        if self.sqlite:
            conn = sqlite3.connect(self.db.url.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("PRAGMA synchronous=OFF")
            try:
                yield conn
            finally:
                conn.close()
        else:
            proxy = self.db.engine.raw_connection()
            try:
                yield proxy.driver_connection
            finally:
                proxy.close()

    def rows(self, conn: Any, table: str, where: str, value: Any) -> list[dict[str, Any]]:
        mark = "?" if self.sqlite else "%s"
        cursor = conn.execute(f"SELECT * FROM {table} WHERE {where} = {mark}", (value,))
        names = [d[0] for d in cursor.description]
        return [_plain(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def insert(self, conn: Any, table: str, batch: list[dict[str, Any]]) -> None:
        names = list(batch[0])
        if self.sqlite:
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                             [tuple(row[n] for n in names) for row in batch])
            conn.execute("COMMIT")
            return
        with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(tuple(row[n] for n in names))
        conn.commit()

    def finish(self, conn: Any) -> None:
        if self.sqlite:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no ANALYZE: the platform's files have no statistics
        else:
            conn.execute("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))")
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
            conn.autocommit = False


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON columns as text, so their task ids can be renamed like every other string."""
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in row.items()}


_UUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


class Template:
    """The waiting case's rows, each string split around its UUIDs for fast renaming."""

    def __init__(self, case: dict[str, Any], children: dict[str, list[dict[str, Any]]], due_text: str) -> None:
        self.case = case
        self.children = children
        self.due_text = due_text
        state_before, state_after = case["state"].split(due_text)  # exactly once: the timer's event_value
        self.state_parts = (_UUID.split(state_before), _UUID.split(state_after))
        self.child_parts = {table: [{k: _UUID.split(v) for k, v in row.items() if isinstance(v, str)} for row in rows]
                            for table, rows in children.items()}

    def copy(self, new_id: int, due: datetime, store: Store) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
        ids: dict[str, str] = {}
        state = _rename(self.state_parts[0], ids) + due.isoformat() + _rename(self.state_parts[1], ids)
        case_no = f"{self.case['case_no'][:8]}{new_id:06d}"
        case = {**self.case, "id": new_id, "case_no": case_no, "state": state}
        children: dict[str, list[dict[str, Any]]] = {}
        for table, rows in self.children.items():
            copies = []
            for row, parts in zip(rows, self.child_parts[table], strict=True):
                new = {**row, **{k: _rename(p, ids) if len(p) > 1 else row[k] for k, p in parts.items()},
                       "case_id": new_id}
                # numbers made from the case number (a notice's `<case_no>-01`) follow the copy's number
                new = {k: v.replace(self.case["case_no"], case_no) if isinstance(v, str) else v for k, v in new.items()}
                if table == timer_index.name:
                    new["due_at"] = store.time_value(due)
                copies.append(new)
            children[table] = copies
        return case, children


def _rename(parts: list[str], ids: dict[str, str]) -> str:
    renamed = list(parts)
    for i in range(1, len(parts), 2):
        renamed[i] = ids.setdefault(parts[i], str(uuid.uuid4()))
    return "".join(renamed)


def _case_tables() -> list[str]:
    """Every table whose rows belong to one case (a `case_id` column): copied with each case."""
    return [t.name for t in metadata.sorted_tables if "case_id" in t.c]


def _autoincrement_id(table: str) -> bool:
    pk = list(metadata.tables[table].primary_key.columns)
    return len(pk) == 1 and pk[0].name == "id"


class TickDb:
    """One measured database."""

    def __init__(self, label: str, url: str, waiting: int) -> None:
        self.label = label
        self.waiting = waiting
        self.db = Database(url)
        self.store = Store(self.db)
        schema.upgrade(self.db)
        deploy_package(self.db, load_package(PACKAGE_DIR), "bench")
        accounts.create_user(self.db, "window", "pw", "窗口", ["clerk"], [WINDOW_GROUP])
        self.actor = accounts.actor_for(self.db, "window")

    def template(self) -> Template:
        """Run one case through the engine to the publicity timer and take its rows (as stored)."""
        with clock.frozen_at(T0):
            case_no = start_case(self.db, ITEM_CODE, {}, self.actor).case_no
            accept = next(t for t in queries.open_tasks(self.db, case_no=case_no) if t.element_id == "accept")
            complete_task(self.db, accept.task_id, ACCEPT, self.actor)
        timers = queries.case_detail(self.db, case_no)["timers"]
        assert [t["element_id"] for t in timers] == [TIMER_ELEMENT], timers
        due = datetime.fromisoformat(timers[0]["due_at"])
        with self.store.raw() as conn:
            (case,) = self.store.rows(conn, "cases", "case_no", case_no)
            children = {}
            for table in _case_tables():
                rows = self.store.rows(conn, table, "case_id", case["id"])
                if rows and _autoincrement_id(table):
                    rows = [{k: v for k, v in row.items() if k != "id"} for row in rows]
                children[table] = rows
        due_text = due.isoformat()
        assert case["state"].count(due_text) == 1, "the timer's due time must appear once in the state"
        return Template(case, {t: rows for t, rows in children.items() if rows}, due_text)

    def fill(self, template: Template, due_times: list[datetime]) -> dict[str, Any]:
        """Insert one copy per due time (case ids 1..N), in chunks."""
        began = time.perf_counter()
        with self.store.raw() as conn:
            for start in range(0, len(due_times), COPY_CHUNK):
                batch_cases: list[dict[str, Any]] = []
                batch_children: dict[str, list[dict[str, Any]]] = {t: [] for t in template.children}
                for offset, due in enumerate(due_times[start:start + COPY_CHUNK]):
                    case, children = template.copy(start + offset + 1, due, self.store)
                    batch_cases.append(case)
                    for table, rows in children.items():
                        batch_children[table] += rows
                self.store.insert(conn, "cases", batch_cases)
                for table, rows in batch_children.items():
                    self.store.insert(conn, table, rows)
                done = start + len(batch_cases)
                if done % (COPY_CHUNK * 4) == 0 or done == len(due_times):
                    log(f"  {self.label}: {done:,} waiting cases")
            self.store.finish(conn)
        if self.store.sqlite:  # put the bulk writes on disk now, not during the measurement
            path = Path(self.db.url.removeprefix("sqlite:///"))
            for file in path.parent.glob(path.name + "*"):
                with file.open("rb") as handle:
                    os.fsync(handle.fileno())
        return {"seconds": round(time.perf_counter() - began, 1), "cases": len(due_times)}

    def due_count(self, now: datetime) -> int:
        with self.db.reading() as conn:
            return conn.execute(select(func.count()).select_from(timer_index)
                                .where(timer_index.c.due_at < now)).scalar_one()

    def table_sizes(self) -> dict[str, int]:
        with self.db.reading() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in ("cases", *_case_tables())}

    def close(self) -> None:
        self.db.dispose()


def plan_due_times(n: int, due_per_rep: int, reps: int, rng: random.Random) -> tuple[list[datetime], list[datetime]]:
    """Due time per case (index = case id - 1) and the tick time of each rep (rep 0 is the warm-up).

    Batch r (cases picked at random over the whole table) falls due in the hour before BASE + (r+1)·STEP;
    every other case waits up to FUTURE_DAYS beyond the last tick.
    """
    batches = rng.sample(range(n), due_per_rep * reps)
    last_tick = BASE + reps * STEP
    due = [last_tick + timedelta(seconds=rng.uniform(60, FUTURE_DAYS * 86400)) for _ in range(n)]
    for k, index in enumerate(batches):
        r = k // due_per_rep
        due[index] = BASE + r * STEP + timedelta(seconds=rng.uniform(1, STEP.total_seconds() - 60))
    return due, [BASE + (r + 1) * STEP for r in range(reps)]


# --------------------------------------------------------------------------------------------------
# Measurement.


def one_tick(target: TickDb, now: datetime) -> dict[str, Any]:
    began = time.perf_counter()
    report = scheduler.tick(target.db, now)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "fired": len(report.fired), "conflicts": len(report.conflicts),
            "errors": len(report.errors), "last": not report.fired and not report.conflicts}


def drain(target: TickDb, now: datetime) -> dict[str, Any]:
    """Tick at `now` until a tick fires nothing; the time of each call."""
    return drain_interleaved([target], now, 0)[0]


def drain_interleaved(targets: list[TickDb], now: datetime, flip: int) -> list[dict[str, Any]]:
    """Tick each target at `now` until a tick fires nothing there, one tick on each in turn, the order
    flipping every round: a burst of load from elsewhere on the machine falls on all of them alike."""
    gc.collect()
    ticks: list[list[dict[str, Any]]] = [[] for _ in targets]
    for round_no in range(MAX_TICKS_PER_REP):
        order = list(range(len(targets)))
        if (round_no + flip) % 2:
            order.reverse()
        for i in order:
            if not ticks[i] or not ticks[i][-1]["last"]:
                ticks[i].append(one_tick(targets[i], now))
        if all(t[-1]["last"] for t in ticks):
            break
    return [_drained(t) for t in ticks]


def _drained(ticks: list[dict[str, Any]]) -> dict[str, Any]:
    busy = [t for t in ticks if t["fired"]]
    return {
        "ticks": ticks,
        "fired": sum(t["fired"] for t in busy),
        "errors": sum(t["errors"] for t in ticks),
        "busy_seconds": sum(t["seconds"] for t in busy),
        "first_tick_seconds": ticks[0]["seconds"],
        "first_tick_fired": ticks[0]["fired"],
        "idle_tick_seconds": ticks[-1]["seconds"] if not ticks[-1]["fired"] else math.nan,
    }


def time_due_query(target: TickDb, now: datetime, repeat: int = 15) -> float:
    """Median seconds of `scheduler.due_cases` alone, with the rep's timers due (nothing changes)."""
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        scheduler.due_cases(target.db, now)
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


class StatementLog:
    """The distinct SELECTs a tick sends to the database, with the parameters of their first execution."""

    def __init__(self, target: TickDb) -> None:
        self.engines = target.db.engines
        self.seen: dict[str, Any] = {}

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement not in self.seen:
            self.seen[statement] = parameters

    def __enter__(self) -> StatementLog:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)


# SQLite: "SCAN t" reads the whole table, "SCAN t USING INDEX i" the whole index; PostgreSQL: a Seq Scan
# reads the whole table. On a table that grows with the cases, each costs what is waiting. A sort (SQLite's
# temp B-tree, PostgreSQL's Sort) costs what matched: flagged too, as it is worth a look.
_BIG_TABLES = ("cases", "timer_index", "task_index", "audit_events")
_SCAN = re.compile(r"^\s*(?:->\s*)?(?:SCAN|Seq Scan on|Parallel Seq Scan on)\s+(\w+)", re.IGNORECASE)
_SORT = re.compile(r"TEMP B-TREE|^\s*(?:->\s*)?Sort\b")


def _grows(line: str) -> bool:
    scan = _SCAN.search(line)
    return bool(scan and scan.group(1) in _BIG_TABLES) or bool(_SORT.search(line))


def explain(target: TickDb, statements: dict[str, Any]) -> list[dict[str, Any]]:
    plans = []
    with target.db.engine.connect() as conn:
        for statement, parameters in statements.items():
            prefix = "EXPLAIN QUERY PLAN " if target.store.sqlite else "EXPLAIN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            lines = [row[-1] for row in rows] if target.store.sqlite else [row[0] for row in rows]
            grows = [line for line in lines if _grows(line)]
            plans.append({"statement": " ".join(statement.split()), "plan": lines, "grows_with_table": grows})
    return plans


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values if not math.isnan(v))
    if not ms:
        return {"n": 0, "median": math.nan, "min": math.nan, "max": math.nan, "mean": math.nan}
    return {"n": len(ms), "median": statistics.median(ms), "min": ms[0], "max": ms[-1], "mean": statistics.fmean(ms)}


def _check(target: TickDb, r: int, result: dict[str, Any], due_per_rep: int) -> None:
    if result["fired"] != due_per_rep or result["errors"]:
        raise RuntimeError(f"{target.label}: rep {r} fired {result['fired']} of {due_per_rep}, "
                           f"{result['errors']} errors")


def measure_pair(small: TickDb, large: TickDb, tick_times: list[datetime], due_per_rep: int) -> dict[str, Any]:
    """Rep 0 warms up (and records the statements of a tick); reps 1.. are measured, the two databases
    ticking in turn (`drain_interleaved`)."""
    runs: dict[str, list[dict[str, Any]]] = {"small": [], "large": []}
    due_query: dict[str, list[float]] = {"small": [], "large": []}
    busy_statements: dict[str, dict[str, Any]] = {}
    scan_statements: dict[str, dict[str, Any]] = {}
    for r, now in enumerate(tick_times):
        pair = [("small", small), ("large", large)]
        if r % 2:
            pair.reverse()
        for _, target in pair:
            due_now = target.due_count(now)
            if due_now != due_per_rep:
                raise RuntimeError(f"{target.label}: {due_now} timers due at rep {r}, expected {due_per_rep}")
        if r == 0:  # warm-up: record what a busy tick and an idle tick send to the database
            for key, target in pair:
                with StatementLog(target) as busy:
                    _check(target, r, drain(target, now), due_per_rep)
                with StatementLog(target) as idle:  # nothing due any more: only the tick's own queries run
                    scheduler.tick(target.db, now)
                busy_statements[key], scan_statements[key] = busy.seen, idle.seen
            log("  rep 0 (warm-up) done")
            continue
        for key, target in pair:
            due_query[key].append(time_due_query(target, now))
        results = drain_interleaved([target for _, target in pair], now, r)
        for (key, target), result in zip(pair, results, strict=True):
            _check(target, r, result, due_per_rep)
            runs[key].append(result)
        log(f"  rep {r}: " + ", ".join(f"{k} {runs[k][-1]['busy_seconds'] * 1000:.0f} ms" for k in ("small", "large")))
    figures: dict[str, Any] = {}
    for key, target in (("small", small), ("large", large)):
        reps = runs[key]
        figures[key] = {
            "label": target.label, "waiting": target.waiting,
            "fire_all_due_ms": summary([r["busy_seconds"] for r in reps]),
            "ms_per_fired_timer": summary([r["busy_seconds"] / r["fired"] for r in reps]),
            "first_tick_ms": summary([r["first_tick_seconds"] for r in reps]),
            "first_tick_fired": reps[0]["first_tick_fired"],
            "busy_ticks_per_rep": sum(1 for t in reps[0]["ticks"] if t["fired"]),
            "idle_tick_ms": summary([r["idle_tick_seconds"] for r in reps]),
            "due_query_ms": summary(due_query[key]),
            "tables_at_end": target.table_sizes(),
        }
    per_case = {k: v for k, v in busy_statements["large"].items() if k not in scan_statements["large"]}
    figures["plans"] = {"scan_small": explain(small, scan_statements["small"]),
                        "scan_large": explain(large, scan_statements["large"]),
                        "per_case_large": explain(large, per_case)}
    figures["ratios"] = ratios(figures["small"], figures["large"])
    return figures


def ratios(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    scale = large["fire_all_due_ms"]["median"] / small["fire_all_due_ms"]["median"]
    return {
        "large_vs_small": {"value": scale, "target": TARGET_SCALE, "met": scale <= TARGET_SCALE,
                           "what": "median time to fire the due timers, large / small"},
        "best_large_vs_small": large["fire_all_due_ms"]["min"] / small["fire_all_due_ms"]["min"],
        "first_tick_large_vs_small": large["first_tick_ms"]["median"] / small["first_tick_ms"]["median"],
        "idle_tick_large_vs_small": large["idle_tick_ms"]["median"] / small["idle_tick_ms"]["median"],
        "due_query_large_vs_small": large["due_query_ms"]["median"] / small["due_query_ms"]["median"],
    }


@contextlib.contextmanager
def workdir(path: str | None) -> Iterator[Path]:
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
    else:
        with tempfile.TemporaryDirectory(prefix="onewindow-bench-tick-") as tmp:
            yield Path(tmp)


@contextlib.contextmanager
def postgres_schemas(url: str, names: list[str], keep: bool) -> Iterator[list[str]]:
    """A fresh schema per database in `url`'s database (through `search_path`), dropped at the end."""
    admin = Database(url)
    try:
        with admin.engine.begin() as conn:
            for name in names:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {name}"))
        separator = "&" if "?" in url else "?"
        yield [f"{url}{separator}options=-csearch_path%3D{name}" for name in names]
    finally:
        if not keep:
            with admin.engine.begin() as conn:
                for name in names:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


def run_backend(backend: str, urls: tuple[str, str, str], args: argparse.Namespace) -> dict[str, Any]:
    reps = args.reps + 1
    log(f"{backend}: building the databases")
    # The template case lives in a database of its own (audit rows are never deleted, so it is not
    # removed from a measured one); the three are set up alike: equal item, version and user ids.
    scratch = TickDb(f"{backend} template", urls[2], 1)
    try:
        template = scratch.template()
    finally:
        scratch.close()
    small = TickDb(f"{backend} @ {args.waiting_small:,} waiting", urls[0], args.waiting_small)
    large = TickDb(f"{backend} @ {args.waiting_large:,} waiting", urls[1], args.waiting_large)
    try:
        fills, tick_times = {}, []
        for key, target, seed in (("small", small, 1), ("large", large, 2)):
            due_times, tick_times = plan_due_times(target.waiting, args.due, reps, random.Random(seed))
            log(f"{backend}: copying {target.waiting:,} waiting cases into {key}")
            fills[key] = target.fill(template, due_times)
        log(f"{backend}: measuring {args.reps} reps (+1 warm-up) × {args.due} due timers, interleaved")
        result = measure_pair(small, large, tick_times, args.due)
        result["fill"] = fills
        return result
    finally:
        small.close()
        large.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    if args.waiting_small < args.due * (args.reps + 1):
        raise SystemExit(f"--waiting-small must be at least --due × (--reps + 1) = {args.due * (args.reps + 1)}")
    result: dict[str, Any] = {
        "bench": "tick",
        "diagram": "processes/demo-committed: cases waiting on the publicity timer; firing opens review + P3D boundary",
        "host": {"python": host.python_version(), "spiffworkflow": getattr(SpiffWorkflow, "__version__", "?"),
                 "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(), "machine": host.machine()},
        "due_per_tick_time": args.due, "reps": args.reps, "backends": {},
    }
    if not args.no_sqlite:
        with workdir(args.workdir) as folder:
            log(f"work files in {folder}")
            urls = tuple(f"sqlite:///{folder / name}" for name in ("tick-small.db", "tick-large.db", "template.db"))
            result["backends"]["sqlite"] = run_backend("SQLite", urls, args)
    if args.postgres:
        names = ["ow_bench_tick_small", "ow_bench_tick_large", "ow_bench_tick_template"]
        with postgres_schemas(args.postgres, names, args.keep) as pg_urls:
            result["backends"]["postgresql"] = run_backend("PostgreSQL", (pg_urls[0], pg_urls[1], pg_urls[2]), args)
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


# --------------------------------------------------------------------------------------------------
# Output.


def render(result: dict[str, Any]) -> str:
    h = result["host"]
    lines = [
        "onewindow bench — tick: one scheduler pass costs what is due, not what is waiting",
        f"  {result['diagram']}",
        f"  {result['due_per_tick_time']:,} timers due at each tick time; {result['reps']} measured reps after a "
        f"warm-up, the two databases ticking in turn",
        f"  host: Python {h['python']}, SpiffWorkflow {h['spiffworkflow']}, SQLite {h['sqlite']}, {h['cpus']} CPUs",
    ]
    for backend, figures in result["backends"].items():
        s, g, r = figures["small"], figures["large"], figures["ratios"]
        lines += [
            "",
            f"  {backend}{'':<36}{'small':>12}{'large':>12}{'large/small':>13}",
            f"  {'waiting cases':<44}{s['waiting']:>12,}{g['waiting']:>12,}",
            f"  {'fire all due (ms, median)':<44}{s['fire_all_due_ms']['median']:>12.1f}"
            f"{g['fire_all_due_ms']['median']:>12.1f}{r['large_vs_small']['value']:>13.2f}",
            f"  {'  ms per fired timer':<44}{s['ms_per_fired_timer']['median']:>12.2f}"
            f"{g['ms_per_fired_timer']['median']:>12.2f}",
            f"  {'  ticks that fired, per rep':<44}{s['busy_ticks_per_rep']:>12}{g['busy_ticks_per_rep']:>12}",
            f"  {'first tick (ms, median; fires ' + str(s['first_tick_fired']) + ')':<44}"
            f"{s['first_tick_ms']['median']:>12.1f}{g['first_tick_ms']['median']:>12.1f}"
            f"{r['first_tick_large_vs_small']:>13.2f}",
            f"  {'idle tick, nothing due (ms, median)':<44}{s['idle_tick_ms']['median']:>12.2f}"
            f"{g['idle_tick_ms']['median']:>12.2f}{r['idle_tick_large_vs_small']:>13.2f}",
            f"  {'due query alone (ms, median)':<44}{s['due_query_ms']['median']:>12.2f}"
            f"{g['due_query_ms']['median']:>12.2f}{r['due_query_large_vs_small']:>13.2f}",
            f"  {'fire all due (ms, min–max)':<44}{_span(s['fire_all_due_ms']):>12}{_span(g['fire_all_due_ms']):>12}",
            "  tables at end (large): " + ", ".join(f"{k} {v:,}" for k, v in g["tables_at_end"].items()),
            f"  bulk copy: small {figures['fill']['small']['seconds']} s, "
            f"large {figures['fill']['large']['seconds']} s",
        ]
        for key, title in (("scan_small", "the queries every tick runs to find what is due — small database"),
                           ("scan_large", "the same — large database"),
                           ("per_case_large", "the SELECTs run for each due case — large database")):
            lines += ["", f"  {backend} query plans: {title}"]
            for plan in figures["plans"][key]:
                flag = "  ← SCANS OR SORTS (cost grows with the rows read)" if plan["grows_with_table"] else ""
                lines.append(f"    {_short(plan['statement'])}{flag}")
                lines += [f"        {line}" for line in plan["plan"]]
        verdict = "met" if r["large_vs_small"]["met"] else "MISSED"
        lines += ["", f"  {backend}: large / small (median time to fire the due timers)"
                      f"{r['large_vs_small']['value']:>8.2f}  target ≤ {TARGET_SCALE}  {verdict}",
                  f"  (also: best rep large / best rep small {r['best_large_vs_small']:.2f}; the reps of one "
                  f"database spread {_spread(s['fire_all_due_ms'])} and {_spread(g['fire_all_due_ms'])})"]
    lines.append(f"  total run time {result['seconds']:.0f} s")
    return "\n".join(lines)


def _spread(s: dict[str, float]) -> str:
    return f"±{(s['max'] - s['min']) / 2 / s['median'] * 100:.0f} %"


def _span(s: dict[str, float]) -> str:
    return f"{s['min']:.0f}–{s['max']:.0f}"


def _short(statement: str, width: int = 150) -> str:
    return statement if len(statement) <= width else statement[:width - 1] + "…"



def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tick", description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiting-small", type=int, default=10_000,
                        help="cases waiting on a timer in the small database (default 10000)")
    parser.add_argument("--waiting-large", type=int, default=100_000,
                        help="cases waiting on a timer in the large database (default 100000)")
    parser.add_argument("--due", type=int, default=1000, help="timers due at each tick time (default 1000)")
    parser.add_argument("--reps", type=int, default=8, help="measured reps per database, after a warm-up (default 8)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure on PostgreSQL, in two schemas of this database "
                             "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schemas after the run")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only (with --postgres)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--workdir", help="keep the SQLite files in this folder (default: a temporary one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    emit(result, render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
