"""The cost of one task completion through the platform, against bare SpiffWorkflow, and at scale.

One run, one diagram (bench/data/three-reviews: accept → three parallel reviews → join → issue — a
frozen copy of the first demo item, so the figures stay comparable while the demos evolve),
three configurations measured step by step in rotation, so that whatever the machine does meanwhile
falls on all of them alike:

- reference: SpiffWorkflow alone — read the case's row from a one-table SQLite file,
  `deserialize_json` (the full spec is inside, as SpiffWorkflow writes it), complete the READY manual
  task, `do_engine_steps`, `serialize_json`, UPDATE the row, COMMIT;
- platform @ small: `engine.desk.casework.complete_task` — what a clerk's submit does, HTTP excluded:
  find the case from the task index, lock, load, deserialize, check the actor and the form, advance,
  serialize, rewrite the task/timer indexes, append the audit events, commit — on a database that
  already holds `--cases-small` cases;
- platform @ large: the same on a database holding `--cases-large` cases.

The prefilled cases are real: a few are run through the engine to every stage of the diagram, then
their rows (cases, task_index, audit_events) are copied with new ids, case numbers and task ids in bulk
SQL, in a realistic mix of stages. The figures are printed, never asserted: targets are
platform/reference ≤ 1.2 and large/small ≤ 1.2 (see bench/README.md).

Run: `python bench/engine_step.py [--steps N] [--cases-small N] [--cases-large N] [--json]`,
or `onewindow bench` / `make bench`.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import math
import os
import platform as host
import pstats
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import SpiffWorkflow
from benchtools import emit, log
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.lint import main_process_id
from engine.diagrams.package import ProcessPackage, load_package
from engine.org import accounts
from engine.store import schema
from engine.store.db import Database
from engine.store.tables import cases, task_index

PACKAGE_DIR = Path(__file__).resolve().parent / "data" / "three-reviews"
ITEM_CODE = "DEMO-001"
CLERK_GROUPS = ["受理窗口", "住建审查", "消防审查", "环保审查"]

START_DATA: dict[str, Any] = {"applicant_name": "张三", "phone": "13800000000"}
ACCEPT = {"applicant_name": "张三", "id_number": "11010519491231002X", "decision": "受理"}
REVIEW = {"opinion": "同意"}
ISSUE = {"certificate_no": "JY-2024-000123"}

# The five user tasks of one case, in the order a case goes through them: (element id, form data, label).
STEPS: list[tuple[str, dict[str, Any], str]] = [
    ("accept", ACCEPT, "accept (→ split, 3 reviews open)"),
    ("review_housing", REVIEW, "review 1 of 3"),
    ("review_fire", REVIEW, "review 2 of 3"),
    ("review_env", REVIEW, "review 3 of 3 (→ join → issue)"),
    ("issue", ISSUE, "issue (→ end, case closed)"),
]

# Stage of a prefilled case = how many of STEPS it has been through; weights of the mix (sum 100).
STAGE_MIX = {0: 10, 1: 10, 2: 5, 3: 5, 4: 10, 5: 60}
STAGE_NAMES = {0: "accept open", 1: "3 reviews open", 2: "2 reviews open", 3: "1 review open",
               4: "issue open", 5: "completed"}
TEMPLATES_PER_STAGE = 3
OLD_CASE_STEPS = 100
COPY_CHUNK = 5000

TARGET_VS_REFERENCE = 1.2  # issue 18, item 1 (was 1.5)
TARGET_SCALE = 1.2



# --------------------------------------------------------------------------------------------------
# The bare reference: SpiffWorkflow alone, whole JSON (spec included) in one SQLite row.


class Reference:
    """SpiffWorkflow with nothing around it: one table (id, state), full serializer, one commit a step."""

    label = "reference (bare SpiffWorkflow)"

    def __init__(self, path: Path, package: ProcessPackage, sqlite_defaults: bool = False) -> None:
        process_id = main_process_id(package)
        parser = SpiffBpmnParser()
        for name, text in package.bpmn_files().items():
            parser.add_bpmn_str(text.encode("utf-8"), filename=name)
        self.spec = parser.get_spec(process_id)
        self.subprocess_specs = parser.get_subprocess_specs(process_id)
        self.serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        # By default the same journal settings as the platform's SQLite engine (engine/store/db.py), so the
        # comparison measures the platform's work, not a different fsync policy.
        if sqlite_defaults:
            self.label = "reference (sqlite3 default journal)"
        else:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE workflows (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")

    def start(self) -> int:
        workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(START_DATA)
        workflow.do_engine_steps()
        cursor = self.conn.execute("INSERT INTO workflows (state) VALUES (?)",
                                   (self.serializer.serialize_json(workflow),))
        return cursor.lastrowid

    def step(self, row_id: int, element_id: str, data: dict[str, Any]) -> float:
        conn, serializer = self.conn, self.serializer
        began = time.perf_counter()
        conn.execute("BEGIN")
        (state,) = conn.execute("SELECT state FROM workflows WHERE id = ?", (row_id,)).fetchone()
        workflow = serializer.deserialize_json(state)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.bpmn_id == element_id)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()
        conn.execute("UPDATE workflows SET state = ? WHERE id = ?", (serializer.serialize_json(workflow), row_id))
        conn.execute("COMMIT")
        return time.perf_counter() - began

    def state_bytes(self) -> float:
        (size,) = self.conn.execute("SELECT avg(length(state)) FROM workflows").fetchone()
        return size or 0.0

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------------------------------
# The platform: engine.desk.casework on a migrated database with the demo item deployed.


class Platform:
    """One platform database; `step` times `complete_task` exactly as the desk calls it."""

    def __init__(self, path: Path, package: ProcessPackage, label: str) -> None:
        self.path = path
        self.label = label
        self.db = Database(f"sqlite:///{path}")
        schema.upgrade(self.db)
        deploy_package(self.db, package, "bench")
        accounts.create_user(self.db, "clerk", "pw", "窗口", ["clerk"], CLERK_GROUPS)
        self.actor = accounts.actor_for(self.db, "clerk")
        self.start_times: list[float] = []
        self.profile: cProfile.Profile | None = None

    def start(self) -> int:
        began = time.perf_counter()
        started = start_case(self.db, ITEM_CODE, dict(START_DATA), self.actor)
        self.start_times.append(time.perf_counter() - began)
        with self.db.reading() as conn:
            return conn.execute(select(cases.c.id).where(cases.c.case_no == started.case_no)).scalar_one()

    def open_task(self, case_id: int, element_id: str) -> str:
        with self.db.reading() as conn:
            return conn.execute(select(task_index.c.task_id).where(
                task_index.c.case_id == case_id, task_index.c.element_id == element_id)).scalar_one()

    def step(self, case_id: int, element_id: str, data: dict[str, Any]) -> float:
        task_id = self.open_task(case_id, element_id)  # what the desk's task list already holds
        return self.complete(task_id, data)

    def complete(self, task_id: str, data: dict[str, Any]) -> float:
        profile = self.profile
        if profile is not None:
            profile.enable()
        began = time.perf_counter()
        complete_task(self.db, task_id, data, self.actor)
        seconds = time.perf_counter() - began
        if profile is not None:
            profile.disable()
        return seconds

    def case_count(self) -> int:
        with self.db.reading() as conn:
            return conn.execute(select(func.count()).select_from(cases)).scalar_one()

    def state_bytes(self) -> float:
        with self.db.reading() as conn:
            return float(conn.execute(select(func.avg(func.length(cases.c.state)))).scalar_one() or 0.0)

    def table_sizes(self) -> dict[str, int]:
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("cases", "task_index", "timer_index", "audit_events")}
        counts["file_mb"] = round(_file_size(self.path) / 1e6, 1)
        return counts

    def run_case_to(self, stage: int) -> int:
        case_id = self.start()
        for element_id, data, _ in STEPS[:stage]:
            complete_task(self.db, self.open_task(case_id, element_id), data, self.actor)
        return case_id

    def close(self) -> None:
        self.db.dispose()


def _file_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


# --------------------------------------------------------------------------------------------------
# Prefill: real cases at every stage, copied in bulk to the wanted number.


def prefill(platform: Platform, target: int, seed: int) -> dict[str, Any]:
    """Bring `platform` to `target` cases: run templates through the engine, then copy their rows in bulk."""
    began = time.perf_counter()
    templates = {stage: [platform.run_case_to(stage) for _ in range(TEMPLATES_PER_STAGE)] for stage in STAGE_MIX}
    real_seconds = time.perf_counter() - began
    conn = sqlite3.connect(platform.path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    try:
        rows = _template_rows(conn, [c for ids in templates.values() for c in ids])
        (existing,) = conn.execute("SELECT count(*) FROM cases").fetchone()
        (next_id,) = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases").fetchone()
        rng = random.Random(seed)
        stages, weights = list(STAGE_MIX), list(STAGE_MIX.values())
        to_copy = max(0, target - existing)
        copied = 0
        while copied < to_copy:
            chunk = min(COPY_CHUNK, to_copy - copied)
            picks = [rng.choice(templates[s]) for s in rng.choices(stages, weights, k=chunk)]
            _copy_chunk(conn, rows, picks, next_id)
            next_id += chunk
            copied += chunk
            if copied % (COPY_CHUNK * 4) == 0 or copied == to_copy:
                log(f"  {platform.label}: {existing + copied:,} cases")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    # Put the bulk writes on disk now, so the kernel's writeback of them does not land in the measurement.
    for path in platform.path.parent.glob(platform.path.name + "*"):
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    return {"real_cases": sum(len(v) for v in templates.values()), "real_seconds": round(real_seconds, 2),
            "copied_cases": to_copy, "seconds": round(time.perf_counter() - began, 2)}


_UUID = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


class _Template:
    """A real case's rows as stored (raw SQLite values), split around every UUID for fast renaming."""

    def __init__(self, case: dict[str, Any], tasks: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
        self.case, self.tasks, self.events = case, tasks, events
        self.state_parts = _UUID.split(case["state"])
        self.event_parts = [_UUID.split(event["data"]) for event in events]

    def copy(self, new_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        """The rows of a new case `new_id`: every task id (past, open and future) replaced consistently."""
        ids: dict[str, str] = {}
        case = {**self.case, "id": new_id, "case_no": f"{self.case['case_no'][:8]}{new_id:06d}",
                "state": _rename(self.state_parts, ids)}
        tasks = [{**task, "task_id": ids[task["task_id"]], "case_id": new_id} for task in self.tasks]
        events = [{**event, "case_id": new_id, "data": _rename(parts, ids) if len(parts) > 1 else event["data"]}
                  for event, parts in zip(self.events, self.event_parts, strict=True)]
        return case, tasks, events


def _rename(parts: list[str], ids: dict[str, str]) -> str:
    renamed = list(parts)
    for i in range(1, len(parts), 2):
        old = parts[i]
        if old not in ids:
            ids[old] = str(uuid.uuid4())
        renamed[i] = ids[old]
    return "".join(renamed)


def _template_rows(conn: sqlite3.Connection, case_ids: list[int]) -> dict[int, _Template]:
    conn.row_factory = sqlite3.Row
    try:
        found: dict[int, _Template] = {}
        for case_id in case_ids:
            case = dict(conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone())
            tasks = [dict(r) for r in conn.execute("SELECT * FROM task_index WHERE case_id = ?", (case_id,))]
            events = [dict(r) for r in conn.execute("SELECT * FROM audit_events WHERE case_id = ? ORDER BY seq",
                                                    (case_id,))]
            for event in events:
                del event["id"]
            found[case_id] = _Template(case, tasks, events)
        return found
    finally:
        conn.row_factory = None


def _copy_chunk(conn: sqlite3.Connection, templates: dict[int, _Template], picks: list[int], first_id: int) -> None:
    case_rows, task_rows, event_rows = [], [], []
    for offset, template_id in enumerate(picks):
        case, tasks, events = templates[template_id].copy(first_id + offset)
        case_rows.append(case)
        task_rows += tasks
        event_rows += events
    conn.execute("BEGIN")
    for table, batch in (("cases", case_rows), ("task_index", task_rows), ("audit_events", event_rows)):
        if batch:
            names = list(batch[0])
            conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                             f"({', '.join(':' + n for n in names)})", batch)
    conn.execute("COMMIT")


# --------------------------------------------------------------------------------------------------
# Measurement.


class Timings:
    """Seconds per step for one configuration, overall and by step."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.by_step: dict[str, list[float]] = {element: [] for element, _, _ in STEPS}

    def add(self, element_id: str, seconds: float) -> None:
        self.all.append(seconds)
        self.by_step[element_id].append(seconds)


def summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return {"n": 0, "median": math.nan, "p95": math.nan, "mean": math.nan, "min": math.nan}
    p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
    return {"n": len(ms), "median": statistics.median(ms), "p95": p95, "mean": statistics.fmean(ms), "min": ms[0]}


def measure(configs: list[Any], n_cases: int, warmup_cases: int) -> list[Timings]:
    """Run `warmup_cases + n_cases` cases through every config, rotating the order at every step."""
    timings = [Timings() for _ in configs]
    total = warmup_cases + n_cases
    for number in range(total):
        handles = [config.start() for config in configs]
        for step_no, (element_id, data, _) in enumerate(STEPS):
            rotation = (number * len(STEPS) + step_no) % len(configs)
            for k in range(len(configs)):
                index = (k + rotation) % len(configs)
                seconds = configs[index].step(handles[index], element_id, data)
                if number >= warmup_cases:
                    timings[index].add(element_id, seconds)
        if number + 1 == warmup_cases:
            log(f"  warm-up done ({warmup_cases} cases each)")
        elif (number + 1) % max(1, total // 5) == 0:
            log(f"  {number + 1 - warmup_cases}/{n_cases} cases measured")
    return timings


def prefilled_open_accepts(platform: Platform, limit: int, seed: int) -> list[str]:
    """Task ids of `accept` tasks open on prefilled copies, picked at random across the whole table."""
    with contextlib.closing(sqlite3.connect(platform.path)) as conn:
        query = "SELECT task_id FROM task_index WHERE element_id = 'accept' ORDER BY case_id"
        ids = [row[0] for row in conn.execute(query)]
    return random.Random(seed).sample(ids, min(limit, len(ids)))


def measure_old_cases(platforms: list[Platform], limit: int) -> list[list[float]]:
    """Complete `accept` on prefilled cases spread over each table (not the recent rows), interleaved."""
    picks = [prefilled_open_accepts(p, limit, seed=3) for p in platforms]
    n = min(len(ids) for ids in picks)
    seconds: list[list[float]] = [[] for _ in platforms]
    for i in range(n):
        for k in range(len(platforms)):
            index = (k + i) % len(platforms)
            seconds[index].append(platforms[index].complete(picks[index][i], ACCEPT))
    return seconds


@contextlib.contextmanager
def workdir(path: str | None) -> Iterator[Path]:
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
    else:
        with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
            yield Path(tmp)


def run(args: argparse.Namespace) -> dict[str, Any]:
    package = load_package(PACKAGE_DIR)
    n_cases = max(1, math.ceil(args.steps / len(STEPS)))
    warmup_cases = max(2, n_cases // 20)
    began = time.perf_counter()
    with workdir(args.workdir) as folder:
        log(f"work files in {folder}")
        reference = Reference(folder / "reference.db", package, args.reference_sqlite_defaults)
        small = Platform(folder / "platform-small.db", package, f"platform @ {args.cases_small:,} cases")
        large = Platform(folder / "platform-large.db", package, f"platform @ {args.cases_large:,} cases")
        try:
            log(f"prefilling {small.label}")
            fill_small = prefill(small, args.cases_small, seed=1)
            log(f"prefilling {large.label} (bulk copies of real cases)")
            fill_large = prefill(large, args.cases_large, seed=2)
            counts_before = {"small": small.case_count(), "large": large.case_count()}
            log(f"measuring: {n_cases} cases × {len(STEPS)} steps per configuration, "
                f"+{warmup_cases} warm-up cases, interleaved")
            configs = [reference, small, large]
            for platform in (small, large):
                platform.start_times.clear()
            gc.collect()
            timings = measure(configs, n_cases, warmup_cases)
            log("measuring accept on prefilled cases spread over each table")
            old_cases = measure_old_cases([small, large], OLD_CASE_STEPS)
            profiler = cProfile.Profile()
            if args.profile:  # a separate pass: the profiler's overhead must not touch the figures
                log("profiling the platform's steps (small db), not timed")
                small.profile = profiler
                measure([small], max(20, n_cases // 2), 0)
                small.profile = None
            result = {
                "bench": "engine_step",
                "diagram": "bench/data/three-reviews (accept → 3 parallel reviews → join → issue)",
                "host": {"python": host.python_version(), "spiffworkflow": getattr(SpiffWorkflow, "__version__", "?"),
                         "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(), "machine": host.machine()},
                "steps_per_config": n_cases * len(STEPS),
                "warmup_steps_per_config": warmup_cases * len(STEPS),
                "configs": {},
                "prefill": {"small": fill_small, "large": fill_large},
            }
            keys = ("reference", "platform_small", "platform_large")
            for key, config, timing in zip(keys, configs, timings, strict=True):
                entry = {"label": config.label, "per_step_ms": summary(timing.all),
                         "by_step_ms": {e: summary(v) for e, v in timing.by_step.items()},
                         "state_bytes": round(config.state_bytes())}
                if isinstance(config, Platform):
                    entry["cases_at_start"] = counts_before["small" if config is small else "large"]
                    entry["tables_at_end"] = config.table_sizes()
                    entry["start_case_ms"] = summary(config.start_times[warmup_cases:warmup_cases + n_cases])
                result["configs"][key] = entry
            result["old_cases"] = {
                "what": "complete `accept` on prefilled cases picked at random over the whole table",
                "platform_small_ms": summary(old_cases[0]), "platform_large_ms": summary(old_cases[1])}
            result["ratios"] = ratios(result["configs"], result["old_cases"])
            result["seconds"] = round(time.perf_counter() - began, 1)
            if args.profile:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
                result["profile"] = text.getvalue()
            return result
        finally:
            for config in (reference, small, large):
                config.close()


def ratios(configs: dict[str, Any], old_cases: dict[str, Any]) -> dict[str, Any]:
    ref = configs["reference"]["per_step_ms"]
    small = configs["platform_small"]["per_step_ms"]
    large = configs["platform_large"]["per_step_ms"]
    vs_ref = small["median"] / ref["median"]
    scale = large["median"] / small["median"]
    return {
        "platform_vs_reference": {"value": vs_ref, "target": TARGET_VS_REFERENCE, "met": vs_ref <= TARGET_VS_REFERENCE,
                                  "what": "median platform step @ small / median reference step"},
        "large_vs_small": {"value": scale, "target": TARGET_SCALE, "met": scale <= TARGET_SCALE,
                           "what": "median platform step @ large / median platform step @ small"},
        "platform_large_vs_reference": large["median"] / ref["median"],
        "p95_platform_vs_reference": small["p95"] / ref["p95"],
        "p95_large_vs_small": large["p95"] / small["p95"],
        "mean_platform_vs_reference": small["mean"] / ref["mean"],
        "mean_large_vs_small": large["mean"] / small["mean"],
        "old_cases_large_vs_small": old_cases["platform_large_ms"]["median"] / old_cases["platform_small_ms"]["median"],
    }


# --------------------------------------------------------------------------------------------------
# Output.


def render(result: dict[str, Any]) -> str:
    configs, r = result["configs"], result["ratios"]
    keys = ("reference", "platform_small", "platform_large")
    lines = [
        "onewindow bench — engine_step: one task completion (HTTP excluded), one diagram, SQLite",
        f"  diagram: {result['diagram']}",
        f"  {result['steps_per_config']} measured steps per configuration (after "
        f"{result['warmup_steps_per_config']} warm-up), the three configurations interleaved step by step",
        f"  host: Python {result['host']['python']}, SpiffWorkflow {result['host']['spiffworkflow']}, "
        f"SQLite {result['host']['sqlite']}, {result['host']['cpus']} CPUs",
        "",
        f"  {'ms per step':<38}{'median':>8}{'p95':>8}{'mean':>8}{'min':>8}",
    ]
    for key in keys:
        s = configs[key]["per_step_ms"]
        lines.append(f"  {configs[key]['label']:<38}{s['median']:>8.2f}{s['p95']:>8.2f}{s['mean']:>8.2f}"
                     f"{s['min']:>8.2f}")
    lines += ["", f"  {'median ms by step':<38}{'ref':>8}{'small':>8}{'large':>8}{'small/ref':>11}"]
    for element_id, _, label in STEPS:
        values = [configs[k]["by_step_ms"][element_id]["median"] for k in keys]
        lines.append(f"  {label:<38}{values[0]:>8.2f}{values[1]:>8.2f}{values[2]:>8.2f}{values[1] / values[0]:>11.2f}")
    old = result["old_cases"]
    o_small, o_large = old["platform_small_ms"], old["platform_large_ms"]
    lines += [
        "",
        f"  accept on {o_small['n']} prefilled cases picked at random over the whole table (not just-started ones):",
        f"    small db median {o_small['median']:.2f} ms (p95 {o_small['p95']:.2f}), large db median "
        f"{o_large['median']:.2f} ms (p95 {o_large['p95']:.2f}): large/small {r['old_cases_large_vs_small']:.2f}",
    ]
    small = configs["platform_small"]
    lines += [
        "",
        f"  stored state per case: reference {configs['reference']['state_bytes']:,} bytes (spec inside), "
        f"platform {small['state_bytes']:,} bytes (spec cached per version)",
    ]
    for key in ("platform_small", "platform_large"):
        t = configs[key]["tables_at_end"]
        lines.append(f"  {configs[key]['label']}: {configs[key]['cases_at_start']:,} cases before measuring; at end "
                     f"{t['cases']:,} cases, {t['task_index']:,} task rows, {t['audit_events']:,} audit events, "
                     f"{t['file_mb']} MB")
    start = small["start_case_ms"]["median"]
    fill = result["prefill"]["large"]
    lines += [
        f"  start_case: median {start:.2f} ms (100,000 cases through it: ~{start * 100_000 / 60_000:.0f} min); "
        f"the large prefill took {fill['seconds']:.0f} s ({fill['real_cases']} real cases, "
        f"{fill['copied_cases']:,} bulk copies)",
        "",
        "  targets",
    ]
    for key, name in (("platform_vs_reference", "platform / reference (median, small db)"),
                      ("large_vs_small", "platform large db / small db (median)")):
        entry = r[key]
        verdict = "met" if entry["met"] else "MISSED"
        lines.append(f"  {name:<46}{entry['value']:>6.2f}  target ≤ {entry['target']:<4}  {verdict}")
    lines += [
        f"  (also: large/reference {r['platform_large_vs_reference']:.2f}; p95 platform/reference "
        f"{r['p95_platform_vs_reference']:.2f}; p95 large/small {r['p95_large_vs_small']:.2f}; "
        f"mean platform/reference {r['mean_platform_vs_reference']:.2f}; "
        f"mean large/small {r['mean_large_vs_small']:.2f})",
        f"  total run time {result['seconds']:.0f} s",
    ]
    if "profile" in result:
        lines += ["", "  cProfile of complete_task on the small db (a separate, untimed pass), by cumulative time:",
                  result["profile"]]
    return "\n".join(lines)



def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="engine_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="measured steps per configuration (default 1000)")
    parser.add_argument("--cases-small", type=int, default=1000, help="cases in the small database (default 1000)")
    parser.add_argument("--cases-large", type=int, default=100_000,
                        help="cases in the large database (default 100000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--profile", action="store_true", help="also cProfile the platform's steps (small db)")
    parser.add_argument("--reference-sqlite-defaults", action="store_true",
                        help="run the reference with sqlite3's default journal (DELETE, synchronous=FULL) "
                             "instead of the platform's WAL + synchronous=NORMAL")
    parser.add_argument("--workdir", help="keep the databases in this folder (default: a temporary one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    emit(result, render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
