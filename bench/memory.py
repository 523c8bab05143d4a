"""A worker's resident memory after many approvals (issue 18, item 5): does it grow with the work done?

One process runs whole approvals (`start_case` and every user task of bench/data/three-reviews, as
engine_step's `Platform` does, on a temporary SQLite file) and reads its resident set size (Linux:
/proc/self/statm) after a warm-up of 100 approvals, after `--first` (1,000) and after `--approvals`
(10,000), each time after a full garbage collection. The figure is the growth from the first mark to the
last; target ≤ 10 % (a leak would grow with the approvals). Printed, never asserted.

Run: `python bench/memory.py [--first N] [--approvals N] [--json]`, or `onewindow bench memory`.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchtools import emit, log
from engine_step import PACKAGE_DIR, STEPS, Platform

from engine.diagrams.package import load_package

TARGET_GROWTH = 0.10
WARMUP = 100


def rss_mb() -> float:
    """Resident set size of this process, in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def approval(platform: Platform) -> None:
    case_id = platform.start()
    for element, data, _ in STEPS:
        platform.step(case_id, element, data)


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    marks: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="ow-bench-memory-") as tmp:
        platform = Platform(Path(tmp) / "memory.db", load_package(PACKAGE_DIR), "platform")
        try:
            for n in range(1, args.approvals + 1):
                approval(platform)
                platform.start_times.clear()
                if n in (WARMUP, args.first, args.approvals):
                    gc.collect()
                    marks[n] = rss_mb()
                    log(f"{n:,} approvals: {marks[n]:.1f} MB resident")
        finally:
            platform.db.dispose()
    growth = marks[args.approvals] / marks[args.first] - 1
    return {"marks_mb": {str(k): v for k, v in marks.items()}, "first": args.first, "approvals": args.approvals,
            "growth": growth, "target_growth": TARGET_GROWTH, "met": growth <= TARGET_GROWTH,
            "seconds": round(time.perf_counter() - began, 1)}


def render(r: dict[str, Any]) -> str:
    marks = r["marks_mb"]
    lines = ["onewindow bench — memory: a worker's resident memory as approvals accumulate (SQLite, in-process)"]
    lines += [f"  after {int(n):>7,} approvals   {mb:8.1f} MB" for n, mb in marks.items()]
    lines += ["", f"  growth {r['first']:,} → {r['approvals']:,} approvals   {r['growth'] * 100:+.1f} %   "
                  f"target ≤ +{r['target_growth'] * 100:.0f} %   {'met' if r['met'] else 'MISSED'}",
              f"  total run time {r['seconds']:.0f} s"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--first", type=int, default=1000, help="the first mark (default 1000 approvals)")
    parser.add_argument("--approvals", type=int, default=10000, help="the last mark (default 10000 approvals)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not WARMUP < args.first < args.approvals:
        parser.error(f"need {WARMUP} < --first < --approvals")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emit(run(args), render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
