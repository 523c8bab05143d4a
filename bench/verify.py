"""How fast the audit trail is verified: events per second for `verify_all`, and the checkpoint cost.

One database (SQLite in a temporary folder; with `--postgres URL` also PostgreSQL, in a schema of its
own) holding `--cases` cases of processes/demo-joint-review. A few are real: run through the engine
to every stage of the diagram. The rest are bulk copies of those, given new ids and case numbers —
and, unlike bench/engine_step.py's copies, **valid hash chains**: every copied event's hash is
recomputed with `engine.audit.event_hash` over the copy's case number (the hash covers it), and the
case row's head is set to the copy's last hash. So the verifier does its full work on every case and
must find nothing wrong (the script checks that it found nothing).

Measured, each `--reps` times (median and best printed):
- `verify_all`: every case's chain, case row, checkpoint heads and the checkpoint chain, after one
  checkpoint covering every case — events per second is the headline figure;
- `make_checkpoint` for all cases (the first one), and an incremental one after 10 cases moved;
- `verify_case` of one case.

Run: `python bench/verify.py [--cases N] [--reps N] [--postgres URL] [--json]`, or `onewindow bench verify`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform as host
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchtools import log
from sqlalchemy import func, insert, select, text

from engine import settings
from engine.audit import checkpoints, verify
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import claim_task, complete_task, start_case
from engine.diagrams.package import load_package
from engine.org import accounts
from engine.reads import queries
from engine.runtime.chain import GENESIS, event_hash
from engine.store import schema
from engine.store.db import Database
from engine.store.tables import audit_events, cases
from engine.time.clock import as_utc

PACKAGE_DIR = settings.PROCESSES_DIR / "demo-joint-review"
ITEM_CODE = "DEMO-001"
GROUPS = ["受理窗口", "住建审查", "消防审查", "环保审查"]
ACCEPT = {"applicant_name": "张三", "id_number": "11010519491231002X", "decision": "受理"}
REVIEW = {"opinion": "同意"}
ISSUE = {"certificate_no": "JY-2024-000123"}
STEPS = [("accept", ACCEPT), ("review_housing", REVIEW), ("review_fire", REVIEW), ("review_env", REVIEW),
         ("issue", ISSUE)]
STAGE_MIX = {1: 10, 2: 5, 4: 15, 5: 70}  # steps done → share of cases (most cases in an audit are closed)
COPY_CHUNK = 2000



class VerifyDb:
    """One measured database: migrated, the demo item deployed, filled with valid chains."""

    def __init__(self, label: str, url: str) -> None:
        self.label = label
        self.db = Database(url)
        schema.upgrade(self.db)
        deploy_package(self.db, load_package(PACKAGE_DIR), "bench")
        accounts.create_user(self.db, "clerk", "pw", "窗口", ["clerk"], GROUPS)
        self.actor = accounts.actor_for(self.db, "clerk")

    def run_case(self, stage: int) -> str:
        """A real case through the engine: claim + complete each of the first `stage` steps."""
        case_no = start_case(self.db, ITEM_CODE, {}, self.actor).case_no
        for element_id, data in STEPS[:stage]:
            task_id = next(t.task_id for t in queries.open_tasks(self.db, case_no=case_no)
                           if t.element_id == element_id)
            claim_task(self.db, task_id, self.actor)
            complete_task(self.db, task_id, data, self.actor)
        return case_no

    def fill(self, target: int) -> dict[str, Any]:
        began = time.perf_counter()
        templates = {stage: self._template(self.run_case(stage)) for stage in STAGE_MIX}
        real = len(templates)
        plan = [stage for stage, share in STAGE_MIX.items() for _ in range(share)]
        with self.db.reading() as conn:
            next_id = conn.execute(select(func.max(cases.c.id))).scalar_one() + 1
        to_copy = max(0, target - real)
        copied = 0
        while copied < to_copy:
            chunk = min(COPY_CHUNK, to_copy - copied)
            case_rows: list[dict[str, Any]] = []
            event_rows: list[dict[str, Any]] = []
            for offset in range(chunk):
                new_id = next_id + copied + offset
                case_row, events = templates[plan[(copied + offset) % len(plan)]]
                case_no = f"{case_row['case_no'][:8]}{new_id:06d}"
                head = GENESIS
                for event in events:
                    digest = event_hash(head, case_no, event["seq"], event["at"], event["actor"], event["type"],
                                        event["element_id"], event["data"])
                    event_rows.append({**event, "case_id": new_id, "prev_hash": head, "hash": digest})
                    head = digest
                case_rows.append({**case_row, "id": new_id, "case_no": case_no, "audit_head": head})
            with self.db.transaction() as conn:
                conn.execute(insert(cases), case_rows)
                conn.execute(insert(audit_events), event_rows)
            copied += chunk
            if copied % (COPY_CHUNK * 5) == 0 or copied == to_copy:
                log(f"  {self.label}: {real + copied:,} cases")
        if self.db.engine.dialect.name == "postgresql":
            with self.db.transaction() as conn:
                conn.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))"))
                conn.execute(text("ANALYZE"))
        return {"real_cases": real, "copied_cases": to_copy, "seconds": round(time.perf_counter() - began, 2)}

    def _template(self, case_no: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with self.db.reading() as conn:
            case_row = dict(conn.execute(select(cases).where(cases.c.case_no == case_no)).one()._mapping)
            events = [{k: v for k, v in row._mapping.items() if k not in ("id", "case_id", "prev_hash", "hash")}
                      for row in conn.execute(select(audit_events).where(audit_events.c.case_id == case_row["id"])
                                              .order_by(audit_events.c.seq))]
        for event in events:
            event["at"] = as_utc(event["at"])  # as the engine hashed it
        return case_row, events

    def counts(self) -> dict[str, int]:
        with self.db.reading() as conn:
            return {"cases": conn.execute(select(func.count()).select_from(cases)).scalar_one(),
                    "events": conn.execute(select(func.count()).select_from(audit_events)).scalar_one()}

    def close(self) -> None:
        self.db.dispose()


def timed(fn) -> tuple[float, Any]:
    began = time.perf_counter()
    value = fn()
    return time.perf_counter() - began, value


def measure(target: VerifyDb, reps: int) -> dict[str, Any]:
    counts = target.counts()
    first_seconds, first = timed(lambda: checkpoints.make_checkpoint(target.db, "bench"))
    log(f"  {target.label}: first checkpoint ({first.case_count:,} cases) in {first_seconds:.2f} s")
    runs = []
    for rep in range(reps):
        report = verify.verify_all(target.db)
        if not report.ok:
            raise SystemExit(f"{target.label}: verify_all found problems in a clean database: "
                             f"{json.dumps(report.to_dict(), ensure_ascii=False)[:2000]}")
        runs.append(report)
        log(f"  {target.label}: verify_all rep {rep + 1}/{reps}: {report.events:,} events in {report.seconds:.2f} s "
            f"({report.events_per_second:,.0f} events/s)")
    moved = [target.run_case(5) for _ in range(10)]
    incremental_seconds, incremental = timed(lambda: checkpoints.make_checkpoint(target.db, "bench"))
    case_seconds = [timed(lambda no=no: verify.verify_case(target.db, no))[0] for no in moved * 2]
    rates = [r.events_per_second for r in runs]
    seconds = [r.seconds for r in runs]
    return {
        "label": target.label, "cases": counts["cases"], "events": counts["events"],
        "events_per_case": round(counts["events"] / max(counts["cases"], 1), 1),
        "verify_all": {"events_per_second_median": statistics.median(rates), "events_per_second_best": max(rates),
                       "seconds_median": statistics.median(seconds), "seconds_best": min(seconds), "reps": reps,
                       "checkpoint_heads": runs[-1].heads},
        "checkpoint_first": {"seconds": first_seconds, "cases": first.case_count},
        "checkpoint_incremental": {"seconds": incremental_seconds, "cases": incremental.case_count},
        "verify_case_ms_median": statistics.median(case_seconds) * 1000,
    }


@contextlib.contextmanager
def postgres_schema(url: str, name: str, keep: bool) -> Iterator[str]:
    admin = Database(url)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {name}"))
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"
    finally:
        if not keep:
            with admin.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        admin.dispose()


def run_backend(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    target = VerifyDb(label, url)
    try:
        log(f"{label}: filling {args.cases:,} cases (real ones through the engine, then valid copies)")
        fill = target.fill(args.cases)
        result = measure(target, args.reps)
        result["fill"] = fill
        return result
    finally:
        target.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    result: dict[str, Any] = {
        "bench": "verify",
        "host": {"python": host.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(),
                 "machine": host.machine()},
        "backends": {},
    }
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="onewindow-bench-verify-") as tmp:
            result["backends"]["sqlite"] = run_backend("SQLite", f"sqlite:///{Path(tmp) / 'verify.db'}", args)
    if args.postgres:
        with postgres_schema(args.postgres, f"ow_bench_verify_{os.getpid()}", args.keep) as url:
            result["backends"]["postgresql"] = run_backend("PostgreSQL", url, args)
    result["seconds"] = round(time.perf_counter() - began, 1)
    return result


def render(result: dict[str, Any]) -> str:
    h = result["host"]
    lines = ["onewindow bench — verify: the audit trail checked end to end (valid chains, nothing may be reported)",
             f"  host: Python {h['python']}, SQLite {h['sqlite']}, {h['cpus']} CPUs"]
    for name, b in result["backends"].items():
        v = b["verify_all"]
        lines += [
            "",
            f"  {name}: {b['cases']:,} cases, {b['events']:,} events ({b['events_per_case']} per case); "
            f"one checkpoint with {v['checkpoint_heads']:,} heads",
            f"    verify_all            {v['events_per_second_median']:>12,.0f} events/s median "
            f"({v['events_per_second_best']:,.0f} best; {v['seconds_median']:.2f} s median over {v['reps']} reps)",
            f"    verify_case           {b['verify_case_ms_median']:>12.1f} ms median",
            f"    first checkpoint      {b['checkpoint_first']['seconds'] * 1000:>12.1f} ms "
            f"({b['checkpoint_first']['cases']:,} cases)",
            f"    next checkpoint       {b['checkpoint_incremental']['seconds'] * 1000:>12.1f} ms "
            f"({b['checkpoint_incremental']['cases']} cases moved)",
            f"    fill                  {b['fill']['seconds']:>12.1f} s "
            f"({b['fill']['real_cases']} real cases, {b['fill']['copied_cases']:,} copies)",
        ]
    lines.append(f"\n  total run time {result['seconds']} s")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="cases in the database (default 1000)")
    parser.add_argument("--reps", type=int, default=3, help="verify_all runs (default 3)")
    parser.add_argument("--postgres", metavar="URL", help="also measure on PostgreSQL, in a schema of this database "
                        "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only (with --postgres)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema after the run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.cases < len(STAGE_MIX) or args.reps < 1:
        parser.error(f"--cases must be at least {len(STAGE_MIX)} and --reps at least 1")
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite needs --postgres URL")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
