"""Running: tick, report, scheduler, serve, bench."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import OnewindowError
from engine.store.db import Database
from onewindow import output
from onewindow.cli.base import Context, UsageError, _command
from onewindow.inputs import iso_date, iso_time, positive_float
from onewindow.output import print_json, render_table


def register(commands, common) -> None:
    sub = _command(commands, common, "tick", cmd_tick, "run one scheduler pass: fire the timers due at --now")
    sub.add_argument("--now", type=iso_time, metavar="ISO-TIME",
                     help="the time to tick at, ISO 8601 (no offset = UTC; default: now)")

    sub = _command(commands, common, "report", cmd_report,
                   "make the daily or monthly supervision report (HTML + CSV), kept in the file store")
    sub.add_argument("kind", choices=("daily", "monthly"), help="daily: one date; monthly: its calendar month")
    sub.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD",
                     help="a date in the period (default: yesterday for daily, last month for monthly)")
    sub.add_argument("--dir", type=Path, metavar="DIR", help="also write a copy of both files under DIR/<kind>/")

    sub = _command(commands, common, "scheduler", cmd_scheduler,
                   "run the scheduler alone in the foreground (docker); SIGTERM or Ctrl-C stops it")
    sub.add_argument("--interval", type=positive_float, default=10.0, metavar="SECONDS",
                     help="seconds between ticks (default: 10)")
    sub.add_argument("--count", type=int, default=0, metavar="N",
                     help="stop after N ticks (default: run until stopped)")

    sub = _command(commands, common, "serve", cmd_serve, "serve the web app with gunicorn")
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    sub.add_argument("--port", type=int, default=5000, help="port (default: 5000)")
    sub.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    sub.add_argument("--threads", type=int, default=4, help="threads per worker (default: 4)")
    sub.add_argument("--no-scheduler", dest="scheduler", action="store_false",
                     help="do not tick timers in the web process (run `onewindow scheduler` instead)")
    sub.add_argument("--tick-seconds", type=positive_float, default=10.0, metavar="SECONDS",
                     help="embedded scheduler interval (default: 10)")

    sub = _command(commands, common, "bench", cmd_bench, "run the benchmark scripts in bench/")
    sub.add_argument("--list", action="store_true", help="list the benchmarks instead of running them")
    sub.add_argument("name", nargs="?", metavar="NAME", help="one benchmark, e.g. engine_step (default: all)")
    sub.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS", help="passed to the benchmark's main()")


# --- running --------------------------------------------------------------------------------------


def cmd_tick(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import scheduler

    report = scheduler.tick(ctx.db, args.now)
    ctx.emit(report, lambda: _tick_text(report))
    for error in report.errors:
        ctx.note(f"error: case {error['case_no']} (attempt {error['attempts']}): {error['message']}")
    for case_no in report.stalled:
        ctx.note(f"stalled: case {case_no} is open with nothing to wait for (see `onewindow incidents`)")
    return 1 if report.errors else 0


def _tick_text(report) -> str:
    lines = [f"tick at {report.now}: {len(report.fired)} timer(s) fired"]
    if report.fired:
        lines.append(render_table(report.fired, [("case_no", "case"), ("element_id", "timer")]))
    if report.conflicts:
        lines.append(f"skipped (busy, next tick retries): {', '.join(report.conflicts)}")
    return "\n".join(lines)


def cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    """实时报送 by hand: the same files the scheduler's job writes (an existing report is rewritten)."""
    from datetime import timedelta

    from engine.time import clock
    from engine.watch import reports

    today = clock.local_date()
    day = args.date or (today - timedelta(days=1) if args.kind == "daily" else today.replace(day=1) - timedelta(days=1))
    made = reports.make(ctx.db, args.kind, day)
    written = []
    if args.dir:  # a copy for whoever asked, besides the kept one every replica serves
        for name in made:
            kind, filename = name.split("/")
            path = args.dir / kind / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reports.read_file(ctx.db, kind, filename))
            written.append(str(path))
    ctx.emit({"kind": args.kind, "files": made, "written": written},
             lambda: "\n".join([f"made {name}" for name in made] + [f"wrote {path}" for path in written]))
    return 0


def cmd_scheduler(args: argparse.Namespace, ctx: Context) -> int:
    """Foreground ticking for its own container; JSON mode prints one JSON line per busy tick."""
    import json

    from onewindow.serving import masked, run_scheduler

    _require_schema(ctx.db)

    def on_tick(report) -> None:
        if not (report.fired or report.conflicts or report.errors):
            return
        if ctx.json:
            print(json.dumps(output.jsonable(report), ensure_ascii=False), flush=True)
        else:
            print(_tick_text(report), flush=True)
        for error in report.errors:
            print(f"error: case {error['case_no']}: {error['message']}", file=sys.stderr, flush=True)

    def on_failure(message: str) -> None:
        print(f"error: tick failed: {message} (retrying in {args.interval:g}s)", file=sys.stderr, flush=True)

    if not ctx.json:
        print(f"scheduler: ticking every {args.interval:g}s on {masked(ctx.db.url)}; SIGTERM or Ctrl-C stops it",
              flush=True)
    totals = run_scheduler(ctx.db, args.interval, args.count, on_tick, on_failure)
    summary = {"stopped": True, "ticks": totals.ticks, "fired": totals.fired, "failed_ticks": totals.failed_ticks}
    if ctx.json:
        print(json.dumps(summary), flush=True)
    else:
        print(f"scheduler stopped after {totals.ticks} tick(s); {totals.fired} timer(s) fired", flush=True)
    return 0


def _require_schema(db: Database) -> None:
    """Long-running commands check up front, so a new database fails in one line, not on every tick."""
    from sqlalchemy import inspect

    if not inspect(db.engine).has_table("cases"):
        raise OnewindowError("the database has no onewindow tables yet; run `onewindow init` first")


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    from onewindow.serving import ServeOptions, preflight, print_banner, serve

    if args.workers < 1 or args.threads < 1 or not 0 < args.port < 65536:
        raise UsageError("--workers and --threads must be at least 1, and --port between 1 and 65535")
    options = ServeOptions(args.host, args.port, args.workers, args.threads, args.scheduler, args.tick_seconds,
                           ctx.db.url)
    _require_schema(ctx.db)
    ctx.close()  # the master holds no connection: workers open their own after the fork
    preflight(options)
    if ctx.json:
        print_json({"url": options.url, "workers": options.workers, "threads": options.threads,
                    "scheduler": options.scheduler})
    else:
        print_banner(options)
    return serve(options)


def cmd_bench(args: argparse.Namespace, ctx: Context) -> int:
    from onewindow import benchmarks

    if args.list:
        found = benchmarks.discover()
        rows = [{"name": name, "path": str(path)} for name, path in found.items()]
        ctx.emit(rows, lambda: render_table(rows, [("name", "name"), ("path", "path")]) if rows
                 else f"no benchmark in {benchmarks.bench_dir()}")
        return 0
    results = []
    for name, path in benchmarks.select(args.name).items():
        if not ctx.json:
            print(f"== bench {name}", flush=True)
        results.append(benchmarks.run(name, path, args.args, capture=ctx.json))
    if ctx.json:
        print_json(results)
    else:
        print(render_table([vars(r) for r in results], [("name", "bench"), ("status", "exit"), ("seconds", "s")]))
    failed = [r.name for r in results if r.status != 0]
    if failed:
        ctx.note(f"error: benchmark(s) failed: {', '.join(failed)}")
    return 1 if failed else 0
