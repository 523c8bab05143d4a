"""A whole approval through the platform against the same on bare SpiffWorkflow (issue 18, item 2).

One approval = open the case (`start_case`) and complete every user task to the end: on
bench/data/three-reviews that is the start plus five steps (accept, three parallel reviews, issue). The
reference does the same on SpiffWorkflow alone (engine_step.py's `Reference`: one SQLite row per
workflow, the full serializer, WAL). Approvals run in pairs, the order flipping every pair, so whatever
the machine does meanwhile falls on both alike.

Printed: the median whole approval on each and their ratio (target ≤ 1.3), `start_case` against the
median platform step (target: no more than one step), and what one platform approval sends to the
database — statements, row changes (the rows each INSERT, UPDATE and DELETE touched) and commits —
counted with SQLAlchemy's cursor events over whole approvals (the reads the bench makes to find each
task id, which the desk's list already holds, are excluded). Figures are printed, never asserted.

Run: `python bench/whole_approval.py [--approvals N] [--json]`, or `onewindow bench whole_approval`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchtools import emit, log
from engine_step import PACKAGE_DIR, STEPS, Platform, Reference
from sqlalchemy import event

from engine.diagrams.package import load_package

TARGET_VS_REFERENCE = 1.3
TARGET_START_VS_STEP = 1.0
WARMUP = 10


class Counter:
    """Statements, row changes and commits sent through one SQLAlchemy engine while `on`."""

    def __init__(self, engine) -> None:
        self.on = False
        self.statements = self.rows = self.commits = 0
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._committed)

    def _executed(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not self.on:
            return
        self.statements += 1
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and cursor.rowcount and cursor.rowcount > 0:
            self.rows += cursor.rowcount

    def _committed(self, conn) -> None:
        if self.on:
            self.commits += 1


def platform_approval(platform: Platform, counter: Counter, starts: list[float], steps: list[float]) -> float:
    total = 0.0
    counter.on = True
    case_id = platform.start()  # times start_case itself (into platform.start_times) and reads back the case id
    total += platform.start_times[-1]
    starts.append(platform.start_times[-1])
    counter.on = False
    for element, data, _ in STEPS:
        task_id = platform.open_task(case_id, element)  # what the desk's list already holds: not counted
        counter.on = True
        seconds = platform.complete(task_id, data)
        counter.on = False
        steps.append(seconds)
        total += seconds
    return total


def reference_approval(reference: Reference) -> float:
    began = time.perf_counter()
    row_id = reference.start()
    seconds = time.perf_counter() - began
    for element, data, _ in STEPS:
        seconds += reference.step(row_id, element, data)
    return seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    package = load_package(PACKAGE_DIR)
    with tempfile.TemporaryDirectory(prefix="ow-bench-approval-") as tmp:
        folder = Path(tmp)
        reference = Reference(folder / "reference.db", package)
        platform = Platform(folder / "platform.db", package, "platform")
        counter = Counter(platform.db.engine)
        try:
            ref_times: list[float] = []
            plat_times: list[float] = []
            starts: list[float] = []
            steps: list[float] = []
            log(f"{args.approvals} whole approvals on each, after {WARMUP} warm-up pairs …")
            for n in range(WARMUP + args.approvals):
                if n == WARMUP:
                    ref_times.clear(), plat_times.clear(), starts.clear(), steps.clear()
                    counter.statements = counter.rows = counter.commits = 0
                    gc.collect()
                if n % 2 == 0:
                    ref_times.append(reference_approval(reference))
                    plat_times.append(platform_approval(platform, counter, starts, steps))
                else:
                    plat_times.append(platform_approval(platform, counter, starts, steps))
                    ref_times.append(reference_approval(reference))
        finally:
            reference.close()
            platform.db.dispose()
    n = len(plat_times)
    ref_ms, plat_ms = statistics.median(ref_times) * 1000, statistics.median(plat_times) * 1000
    start_ms, step_ms = statistics.median(starts) * 1000, statistics.median(steps) * 1000
    return {
        "approvals": n, "user_tasks": len(STEPS),
        "reference_ms": ref_ms, "platform_ms": plat_ms, "ratio": plat_ms / ref_ms,
        "target_ratio": TARGET_VS_REFERENCE, "met": plat_ms / ref_ms <= TARGET_VS_REFERENCE,
        "start_case_ms": start_ms, "step_ms": step_ms, "start_vs_step": start_ms / step_ms,
        "target_start_vs_step": TARGET_START_VS_STEP, "start_met": start_ms / step_ms <= TARGET_START_VS_STEP,
        "per_approval": {"statements": counter.statements / n, "row_changes": counter.rows / n,
                         "commits": counter.commits / n},
    }


def render(r: dict[str, Any]) -> str:
    per = r["per_approval"]
    return "\n".join([
        "onewindow bench — whole_approval: start + every user task to the end, against bare SpiffWorkflow",
        f"  diagram: bench/data/three-reviews (start + {r['user_tasks']} user tasks); {r['approvals']} approvals "
        "on each, interleaved pair by pair",
        "",
        f"  whole approval, median ms      reference {r['reference_ms']:.2f}   platform {r['platform_ms']:.2f}",
        f"  start_case median {r['start_case_ms']:.2f} ms; platform step median {r['step_ms']:.2f} ms",
        f"  per platform approval: {per['statements']:.1f} statements, {per['row_changes']:.1f} row changes, "
        f"{per['commits']:.1f} commits",
        "",
        "  targets",
        f"  platform / reference (whole approval, median)   {r['ratio']:.2f}  target ≤ {r['target_ratio']}   "
        f"{'met' if r['met'] else 'MISSED'}",
        f"  start_case / platform step (median)             {r['start_vs_step']:.2f}  target ≤ "
        f"{r['target_start_vs_step']}   {'met' if r['start_met'] else 'MISSED'}",
    ])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="whole_approval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=300, help="measured approvals on each (default 300)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emit(run(args), render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
