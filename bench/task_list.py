"""The desk's task list at scale: one page of a clerk's tasks out of 100,000 open ones, from the task index.

A SQLite database is migrated, one item deployed (bench/data/three-reviews, for the cases' foreign
keys), then 100,000 open `task_index` rows are written in bulk (`executemany` in 10,000-row
transactions), each pointing at a minimal `cases` row (about 1.15 tasks per case, as parallel reviews
give). The spread is meant to look like a district: 50 groups of very different sizes (the biggest
holds thousands of tasks, the smallest a few dozen), a few tasks with no group (the window's), ten
items, statuses (submitted cases have no deadline yet), warning levels (mostly none, some yellow and
red, a few past the statutory limit), deadlines spread over two months, about a third of the tasks
claimed, applicant names drawn from common Chinese surnames and given-name characters.

A clerk of the biggest group (plus one small group) then asks for pages the way the desk does, through
`engine.reads.queries.task_page` (the count and the page, both in the measured call), per kind of query:
no filter (newest first), sorted by deadline, a warning filter, an applicant name part, a case number,
and page 50. Each kind runs `--reps` times after one warm-up, the kinds interleaved, so a burst of load
elsewhere on the machine falls on all of them alike. The median and p95 per kind are printed, with the
overall p95 against the target (under 50 ms on SQLite), and the query plan of each statement
(EXPLAIN QUERY PLAN, with the parameters it ran with). As the other benches: figures are printed,
never asserted; a missed target prints MISSED.

Run: `python bench/task_list.py [--tasks N] [--reps N] [--json] [--workdir DIR]`, or
`onewindow bench task_list`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform as host
import random
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

from benchtools import emit, log
from sqlalchemy import event, insert, select
from sqlalchemy import text as sql_text

from engine.catalogue.deployment import deploy_package
from engine.diagrams.package import load_package
from engine.org.assignment import Actor
from engine.reads.tasklist import TaskFilter, task_page
from engine.runtime.indexes import name_grams
from engine.store import schema
from engine.store.db import Database
from engine.store.tables import cases, process_versions, task_index
from engine.time import clock

PACKAGE_DIR = Path(__file__).resolve().parent / "data" / "three-reviews"
TARGET_MS = 20.0
PER_PAGE = 20
CHUNK = 10_000
GROUPS = 50
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅小五国平德福海燕子涵"
ITEMS = [(f"ITEM-{n:03d}", name) for n, name in enumerate(
    ["餐饮服务许可", "建设工程规划许可", "乡村建设规划许可证核发", "户外广告设置审批", "公共场所卫生许可",
     "药品零售许可", "道路挖掘许可", "排水许可", "城市绿地占用审批", "民办学校设立审批"], start=1)]
STATUSES = [("submitted", 15), ("accepted", 10), ("in_progress", 60), ("awaiting_supplement", 15)]
WARNINGS = [("none", 75), ("yellow", 12), ("red", 10), ("statutory", 3)]
STEPS = ["受理", "住建部门审查", "消防部门审查", "环保部门审查", "现场勘验", "集体审议", "办结发证"]



def _ts(moment: datetime | None) -> str | None:
    """How SQLAlchemy keeps a timezone-aware DateTime on SQLite (UTC text), so the bulk rows compare alike."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def group_sizes(total: int) -> list[int]:
    """50 groups, sizes falling off like 1/rank (Zipf): the biggest about 22 % of all, the last under 0.5 %."""
    weights = [1 / rank for rank in range(1, GROUPS + 1)]
    scale = total / sum(weights)
    sizes = [max(20, int(w * scale)) for w in weights]
    sizes[0] += total - sum(sizes)
    return sizes


def fill(db: Database, tasks: int, rng: random.Random) -> dict[str, Any]:
    """Bulk-insert the cases and the open tasks; returns what the measurement needs to know."""
    began = time.perf_counter()
    path = db.url.removeprefix("sqlite:///")
    with db.reading() as conn:
        item_id, version_id = conn.execute(select(process_versions.c.item_id, process_versions.c.id)).one()
    sizes = group_sizes(tasks - tasks // 100)  # 1 % have no group: the window's, seen by every clerk
    groups = [f"审查组{n:02d}" for n in range(1, GROUPS + 1)]
    task_groups: list[str | None] = [g for g, size in zip(groups, sizes, strict=True) for _ in range(size)]
    task_groups += [None] * (tasks - len(task_groups))
    rng.shuffle(task_groups)
    cases_count = int(tasks / 1.15)
    case_rows: list[tuple[Any, ...]] = []
    facts: list[dict[str, Any]] = []
    for case_id in range(1, cases_count + 1):
        created = NOW - timedelta(seconds=rng.uniform(0, 120 * 86400))
        status = _weighted(rng, STATUSES)
        warning = "none" if status == "submitted" else _weighted(rng, WARNINGS)
        deadline = None if status == "submitted" else \
            (created + timedelta(days=rng.randint(7, 60))).replace(hour=16, minute=0, second=0, microsecond=0)
        item_code, item_name = rng.choice(ITEMS)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        case_no = f"{created:%Y%m%d}{case_id:06d}"
        grams = name_grams(name) if not db.is_sqlite else " ".join(name_grams(name))
        case_rows.append((case_id, case_no, item_id, version_id, status, "{}", "bench", 1, 0, "0" * 64,
                          _ts(created), _ts(created), name, _ts(deadline), warning, grams))
        facts.append({"case_no": case_no, "created": created, "status": status, "warning": warning,
                      "deadline": deadline, "item_code": item_code, "item_name": item_name, "name": name})
    task_rows: list[tuple[Any, ...]] = []
    for n, group in enumerate(task_groups):
        case_id = n + 1 if n < cases_count else rng.randint(1, cases_count)  # the rest: parallel steps
        f = facts[case_id - 1]
        arrived = f["created"] + timedelta(seconds=rng.uniform(0, 5 * 86400))
        claimed = rng.random() < 0.33
        mine = group == groups[0] and rng.random() < 0.2  # the measured clerk claims only in their own group
        assignee = ("bench-clerk" if mine else f"clerk{rng.randint(1, 12):02d}") if claimed else None
        step = rng.choice(STEPS)
        task_rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), case_id, f"step_{STEPS.index(step)}",
                          step, group, group, assignee, None, _ts(arrived), _ts(arrived + timedelta(days=3)),
                          f["case_no"], f["item_code"], f["item_name"], f["name"], f["status"], f["warning"],
                          _ts(f["deadline"])))
    if not db.is_sqlite:
        _fill_postgres(db, case_rows, task_rows)
    else:
        _fill_sqlite(path, case_rows, task_rows)
    big = groups[0]
    mine = [r for r in task_rows if r[5] == big]
    probe = rng.choice(mine)
    return {"seconds": round(time.perf_counter() - began, 1), "tasks": len(task_rows), "cases": len(case_rows),
            "group": big, "group_tasks": len(mine), "small_group": groups[-1],
            "small_group_tasks": sizes[-1], "no_group_tasks": task_groups.count(None),
            "probe_case": probe[10], "probe_name": probe[13][1:]}


CASE_COLUMNS = ("id", "case_no", "item_id", "version_id", "status", "state", "serializer_version", "lock_version",
                "audit_seq", "audit_head", "created_at", "updated_at", "applicant_name", "committed_deadline",
                "warning_level", "applicant_grams")
TASK_COLUMNS = ("task_id", "case_id", "element_id", "name", "lane", "candidate_group", "assignee", "form",
                "created_at", "due_at", "case_no", "item_code", "item_name", "applicant_name", "case_status",
                "warning_level", "case_deadline")


def _fill_postgres(db: Database, case_rows: list[tuple[Any, ...]], task_rows: list[tuple[Any, ...]]) -> None:
    """The same rows through SQLAlchemy (times as aware datetimes), then VACUUM ANALYZE as autovacuum would."""
    def moment(value: Any, column: str) -> Any:
        stamped = column in ("created_at", "updated_at", "committed_deadline", "due_at", "case_deadline")
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC) if stamped and value else value

    for table, columns, rows in ((cases, CASE_COLUMNS, case_rows), (task_index, TASK_COLUMNS, task_rows)):
        for start in range(0, len(rows), CHUNK):
            with db.transaction() as conn:
                conn.execute(insert(table), [{c: moment(v, c) for c, v in zip(columns, row, strict=True)}
                                             for row in rows[start:start + CHUNK]])
        log(f"  {len(rows):,} rows in {table.name}")
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def _fill_sqlite(path: str, case_rows: list[tuple[Any, ...]], task_rows: list[tuple[Any, ...]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        for start in range(0, len(case_rows), CHUNK):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO cases (id, case_no, item_id, version_id, status, state, serializer_version, "
                "lock_version, audit_seq, audit_head, created_at, updated_at, applicant_name, "
                "committed_deadline, warning_level, applicant_grams) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # case_names (FTS5) follows by trigger
                case_rows[start:start + CHUNK])
            conn.execute("COMMIT")
        for start in range(0, len(task_rows), CHUNK):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO task_index (task_id, case_id, element_id, name, lane, candidate_group, assignee, "
                "form, created_at, due_at, case_no, item_code, item_name, applicant_name, case_status, "
                "warning_level, case_deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                task_rows[start:start + CHUNK])
            conn.execute("COMMIT")
            if (start + CHUNK) % 50_000 == 0:
                log(f"  {start + CHUNK:,} task rows")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no ANALYZE: the platform's files have no statistics
    finally:
        conn.close()


def kinds(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The measured kinds of request: what the clerk asks, as task_page's arguments."""
    return {
        "no filter, newest first": {"filters": TaskFilter(), "sort": "newest", "page": 1},
        "sorted by deadline": {"filters": TaskFilter(), "sort": "deadline", "page": 1},
        "warning = red": {"filters": TaskFilter(warning_level="red"), "sort": "newest", "page": 1},
        f"applicant contains {facts['probe_name']!r}": {"filters": TaskFilter(applicant=facts["probe_name"]),
                                                        "sort": "newest", "page": 1},
        "case number": {"filters": TaskFilter(case_no=facts["probe_case"]), "sort": "newest", "page": 1},
        "page 50, newest first": {"filters": TaskFilter(), "sort": "newest", "page": 50, "after": None},
    }


def key_to_page(db: Database, actor: Actor, plan: dict[str, dict[str, Any]]) -> None:
    """Walk to page 49 as the clerk would, following each page's next link (not timed): page 50's link key."""
    args = plan["page 50, newest first"]
    after = None
    for page in range(1, args["page"]):
        after = task_page(db, actor, args["filters"], args["sort"], page, PER_PAGE, after=after).next_key
    args["after"] = after


def measure(db: Database, actor: Actor, plan: dict[str, dict[str, Any]], reps: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {k: [] for k in plan}
    results: dict[str, dict[str, int]] = {}
    names = list(plan)
    for k in names:  # warm-up: the page cache and SQLAlchemy's statement cache
        page = task_page(db, actor, per_page=PER_PAGE, **plan[k])
        results[k] = {"total": page.total, "rows": len(page.rows)}
    gc.collect()
    for rep in range(reps):
        for k in names if rep % 2 == 0 else reversed(names):
            began = time.perf_counter()
            task_page(db, actor, per_page=PER_PAGE, **plan[k])
            times[k].append((time.perf_counter() - began) * 1000)
    figures = {k: {"median_ms": statistics.median(v), "p95_ms": _p95(v), "max_ms": max(v), **results[k]}
               for k, v in times.items()}
    everything = [t for v in times.values() for t in v]
    return {"kinds": figures, "overall": {"median_ms": statistics.median(everything), "p95_ms": _p95(everything),
                                          "met": _p95(everything) < TARGET_MS}}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def plans(db: Database, actor: Actor, plan: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """EXPLAIN QUERY PLAN of each statement task_page runs, with the parameters it ran with."""
    captured: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "task_index" in statement:
            captured.append((statement, parameters))

    out: dict[str, list[dict[str, Any]]] = {}
    for k, args in plan.items():
        captured.clear()
        event.listen(db.read_engine, "before_cursor_execute", capture)  # the desk's list is a read
        try:
            task_page(db, actor, per_page=PER_PAGE, **args)
        finally:
            event.remove(db.read_engine, "before_cursor_execute", capture)
        out[k] = []
        explain = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN "
        with db.reading() as conn:
            for statement, parameters in captured:
                rows = conn.exec_driver_sql(explain + statement, parameters).all()
                lines = [str(r[-1]) for r in rows]
                out[k].append({"statement": " ".join(statement.split()), "plan": lines,
                               "sorts": any("TEMP B-TREE" in line or line.strip().startswith("->  Sort")
                                            or line.startswith("Sort") for line in lines),
                               "scans_table": any((line.startswith("SCAN task_index") and "INDEX" not in line)
                                                  or "Seq Scan on task_index" in line for line in lines)})
    return out


def advice(plan_figures: dict[str, list[dict[str, Any]]], figures: dict[str, Any]) -> list[str]:
    """Which index would help a kind that misses the target (report only: migrations are not edited here)."""
    notes = []
    for k, statements in plan_figures.items():
        if figures["kinds"][k]["p95_ms"] < TARGET_MS:
            continue
        sorts = any(s["sorts"] for s in statements)
        scans = any(s["scans_table"] for s in statements)
        if k.startswith("warning"):
            notes.append(f"{k}: an index on task_index (candidate_group, warning_level, created_at)")
        elif "deadline" in k:
            notes.append(f"{k}: the part of each group with no deadline yet is sorted by task id; an index "
                         "(candidate_group, case_deadline, task_id) would give that order too")
        elif k.startswith("applicant"):
            notes.append(f"{k}: LIKE '%…%' reads every row of the group; a trigram index (pg_trgm on PostgreSQL) "
                         "or an FTS5 table on SQLite")
        else:
            notes.append(f"{k}: {'a table scan' if scans else ''}{' and ' if scans and sorts else ''}"
                         f"{'a sort' if sorts else ''} — an index (candidate_group, created_at, task_id)")
    return notes


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[Database]:
    """SQLite in a temporary folder, or (DATABASE_URL names PostgreSQL) a schema of its own, dropped at the end."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        name = f"bench_tasklist_{os.getpid()}"
        admin = Database(url)
        with admin.engine.begin() as conn:
            conn.execute(sql_text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(sql_text(f"CREATE SCHEMA {name}"))
        db = Database(f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}")
        try:
            yield db
        finally:
            db.dispose()
            with admin.engine.begin() as conn:
                conn.execute(sql_text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="ow-bench-tasklist-") as tmp:
        folder = Path(args.workdir) if args.workdir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "task_list.db"
        for old in folder.glob("task_list.db*"):
            old.unlink()
        db = Database(f"sqlite:///{path}")
        try:
            yield db
        finally:
            db.dispose()


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    rng = random.Random(20260601)
    with database(args) as db:
        schema.upgrade(db)
        with clock.frozen_at(NOW - timedelta(days=200)):
            deploy_package(db, load_package(PACKAGE_DIR), "bench")
        log(f"writing {args.tasks:,} open tasks …")
        facts = fill(db, args.tasks, rng)
        actor = Actor("bench-clerk", "基准测试窗口人员", frozenset({"clerk"}),
                      frozenset({facts["group"], facts["small_group"]}))
        plan = kinds(facts)
        key_to_page(db, actor, plan)
        log(f"measuring {len(plan)} kinds × {args.reps} reps …")
        figures = measure(db, actor, plan, args.reps)
        plan_figures = plans(db, actor, plan)
    return {"host": {"python": host.python_version(), "sqlite": sqlite3.sqlite_version, "machine": host.machine(),
                     "database": "PostgreSQL" if not db.is_sqlite else "SQLite"},
            "fill": facts, "reps": args.reps, "per_page": PER_PAGE, "target_ms": TARGET_MS, **figures,
            "plans": plan_figures, "advice": advice(plan_figures, figures),
            "seconds": round(time.perf_counter() - began, 1)}


def render(result: dict[str, Any]) -> str:
    f, h = result["fill"], result["host"]
    lines = [
        "onewindow bench — task_list: one page of the desk out of the task index",
        f"  {f['tasks']:,} open tasks on {f['cases']:,} cases, {GROUPS} groups; the clerk sees "
        f"{f['group']} ({f['group_tasks']:,} tasks) + {f['small_group']} ({f['small_group_tasks']:,}) "
        f"+ {f['no_group_tasks']:,} window tasks with no group",
        f"  {result['reps']} reps per kind after a warm-up, kinds interleaved; {result['per_page']} rows a page; "
        f"each call = count + page",
        f"  host: Python {h['python']}, {h['database']} (SQLite {h['sqlite']}), {h['machine']}; "
        f"bulk write {f['seconds']} s",
        "",
        f"  {'kind':<40}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'total':>9}",
    ]
    for k, v in result["kinds"].items():
        lines.append(f"  {k:<40}{v['median_ms']:>11.2f}{v['p95_ms']:>9.2f}{v['max_ms']:>9.2f}{v['total']:>9,}")
    o = result["overall"]
    lines += ["", f"  overall: median {o['median_ms']:.2f} ms, p95 {o['p95_ms']:.2f} ms   target p95 < "
                  f"{result['target_ms']:.0f} ms   {'met' if o['met'] else 'MISSED'}"]
    for k, statements in result["plans"].items():
        lines += ["", f"  query plan: {k}"]
        for s in statements:
            flag = "  ← sorts" if s["sorts"] else ""
            flag += "  ← scans the table" if s["scans_table"] else ""
            text = s["statement"] if len(s["statement"]) <= 150 else s["statement"][:149] + "…"
            lines.append(f"    {text}{flag}")
            lines += [f"        {line}" for line in s["plan"]]
    if result["advice"]:
        lines += ["", "  missed, and the index that would fix it (not added: migrations are not edited by a bench):"]
        lines += [f"    {note}" for note in result["advice"]]
    lines.append(f"  total run time {result['seconds']:.0f} s")
    return "\n".join(lines)



def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="task_list", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks in the index (default 100000)")
    parser.add_argument("--reps", type=int, default=50, help="measured calls per kind, after a warm-up (default 50)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--workdir", help="keep the SQLite file in this folder (default: a temporary one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    emit(result, render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
