"""Whole approvals over HTTP, from several clients, against 1, 2 and 4 gunicorn workers (issue 18, item 4).

The real server: `onewindow serve` (gunicorn, gthread workers, the embedded scheduler ticking as in
production) on PostgreSQL, in a schema of this run's own (dropped at the end), listening on loopback
at a free port. The item is bench/data/three-reviews (start + five user tasks), driven through the JSON
API exactly as another system would: POST /cases, then for each user task GET /tasks?case=… (read),
POST …/claim, POST …/complete, and a last GET /cases/<no> (read) that must show the case closed.

Two measurements, each against a baseline taken in the same run:

- **serial, 1 worker**: one client, one request at a time, approval by approval interleaved with the
  same approval in-process (the engine calls the routes make — `start_case`, `open_tasks`, `claim_task`,
  `submit_data`, `require_concerned` + `case_detail` — on the same database, from this process). Over
  HTTP twice: with a new connection per request (as under load), and on one kept-alive connection (as an
  integrating system's HTTP client sends its requests). Per request kind, the median HTTP request against
  the median engine call: the HTTP layer's share (the token's lookup, Flask, gunicorn, the loopback hop,
  and for the first also the connection's setup). Target: a completion over HTTP ≤ 1.3× in-process, printed
  for both. Also the CPU per approval: the worker's over HTTP against this thread's in-process.
- **load**: `--clients` threads run approvals back to back for `--seconds` (or `--approvals` in all)
  against 1, then 2, then 4 workers, after a warm-up that lets every worker parse the diagram once.
  Printed: approvals/s, p50/p95/p99 per request kind, errors (each with its status and body), the CPU
  per approval taken by the workers, their PostgreSQL backends, the clients and everything else, and what
  the workers' PostgreSQL sessions were doing (a serializing lock would show as `Lock` waits). Targets:
  2 workers ≥ 1.6× the approvals/s of 1 worker (printed beside the ceiling this machine allows, from the
  CPU an approval takes); 0 errors. 4 workers against in-process (one thread, serial) is for context.

`--profile` adds an untimed pass on one worker with cProfile around every request (per thread, merged
at the worker's exit; the server is launched through `profiled_serve`, so nothing of this lives in the
product) and prints the top functions. Figures are printed, never asserted; MISSED marks a missed target.

Run: `python bench/http_load.py [--clients N] [--seconds S] [--postgres URL] [--json] [--profile]`,
or `onewindow bench http_load`.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchtools import emit, log
from engine_step import CLERK_GROUPS, ITEM_CODE, PACKAGE_DIR, START_DATA, STEPS
from sqlalchemy.engine import make_url
from verify import postgres_schema

from engine.catalogue.deployment import deploy_package
from engine.desk import casework, submission
from engine.diagrams.package import load_package
from engine.org import accounts
from engine.reads import queries
from engine.runtime.caseaccess import require_concerned
from engine.store import schema
from engine.store.db import Database

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_HTTP_VS_INPROCESS = 1.3
TARGET_TWO_VS_ONE = 1.6
KINDS = ("start", "list", "claim", "complete", "case")
CONSOLE_SCRIPT = Path(sys.executable).parent / "onewindow"
BENCH_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------------------------------
# The client side: one approval through the JSON API, every request timed by kind.


class RequestFailed(Exception):
    """A request answered with an unexpected status, or not at all; ends the approval it belongs to."""


class Tally:
    """What the clients saw: latencies per request kind (seconds), finished approvals and errors.

    (A plain class: `onewindow bench` loads this file without registering it as a module, which a
    dataclass needs.)"""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.approvals = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def merge(self, latencies: dict[str, list[float]], approvals: int, errors: list[str]) -> None:
        with self.lock:
            for kind, values in latencies.items():
                self.latencies[kind].extend(values)
            self.approvals += approvals
            self.errors.extend(errors)


class ApiClient:
    """One clerk's client. Under load, a new loopback connection per request, so gunicorn spreads them over its
    workers (a kept-alive connection would stay with one worker for the whole run); `keep_alive` keeps one
    connection open, as an integrating system's HTTP client does (serial only, where there is one worker)."""

    def __init__(self, port: int, token: str, keep_alive: bool = False) -> None:
        self.port, self.keep_alive = port, keep_alive
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "Connection": "keep-alive" if keep_alive else "close"}
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.conn: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body: dict[str, Any] | None = None,
             expect: int = 200) -> dict[str, Any]:
        began = time.perf_counter()
        reused = self.conn is not None
        conn = self.conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
            response = conn.getresponse()
            payload = response.read()
        except OSError as exc:
            conn.close()
            self.conn = None
            if reused:  # the server had closed the idle kept-alive connection (a request it did take and then
                # dropped would come back as a 409 on the retry, an error the run prints)
                return self.call(kind, method, path, body, expect)
            raise RequestFailed(f"{kind} {method} {path}: {type(exc).__name__}: {exc}") from exc
        if self.keep_alive and not response.will_close:
            self.conn = conn
        else:
            conn.close()
            self.conn = None
        self.latencies[kind].append(time.perf_counter() - began)
        if response.status != expect:
            raise RequestFailed(f"{kind} {method} {path}: {response.status} {payload[:300].decode(errors='replace')}")
        return json.loads(payload)

    def approval(self) -> None:
        """Start a case and take every user task to the end; the case must then read as closed."""
        case_no = self.call("start", "POST", "/api/v1/cases", {"item": ITEM_CODE, "data": dict(START_DATA)},
                            expect=201)["case_no"]
        for element, data, _ in STEPS:
            tasks = self.call("list", "GET", f"/api/v1/tasks?case={case_no}")["tasks"]
            task_id = next((t["task_id"] for t in tasks if t["element_id"] == element), None)
            if task_id is None:
                raise RequestFailed(f"case {case_no}: no open task {element} in {[t['element_id'] for t in tasks]}")
            self.call("claim", "POST", f"/api/v1/tasks/{task_id}/claim", {})
            self.call("complete", "POST", f"/api/v1/tasks/{task_id}/complete", {"data": data})
        case = self.call("case", "GET", f"/api/v1/cases/{case_no}")
        if not case.get("closed_at"):
            raise RequestFailed(f"case {case_no} is not closed after its last task: status {case.get('status')}")


def run_clients(port: int, tokens: list[str], seconds: float, limit: int, tally: Tally) -> float:
    """Every client runs approvals back to back until `seconds` have passed or `limit` approvals were begun
    in all; returns the wall time from the start until the last client finished its last approval."""
    budget = threading.Semaphore(limit)
    deadline = time.monotonic() + seconds

    def client(token: str) -> None:
        api, done, errors = ApiClient(port, token), 0, []
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            try:
                api.approval()
                done += 1
            except RequestFailed as exc:
                errors.append(str(exc))
        tally.merge(api.latencies, done, errors)

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(token,), daemon=True) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


# --------------------------------------------------------------------------------------------------
# The server: `onewindow serve` in the background, its output in a file.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`onewindow serve --workers N` on loopback (scheduler on, as in production) until `stop()`.

    With `profile_dir`, the same command runs through `profiled_serve` instead of the console script."""

    def __init__(self, url: str, workers: int, threads: int, log_dir: Path, profile_dir: Path | None = None) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"serve-{workers}w-{self.port}.log"
        serve_args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                      "--threads", str(threads)]
        if profile_dir is None:
            command = [str(CONSOLE_SCRIPT), *serve_args]
        else:
            launcher = f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); import http_load; " \
                       f"sys.exit(http_load.profiled_serve({str(profile_dir)!r}, sys.argv[1:]))"
            command = [sys.executable, "-c", launcher, *serve_args]
        with self.log_path.open("w") as output:
            self.proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                         env={**os.environ, "DATABASE_URL": url})
        self._wait_up()

    def _wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}): {self.tail()}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                try:
                    conn.request("GET", "/api/v1/openapi.json")
                    if conn.getresponse().status == 200:
                        return
                finally:
                    conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within 60 s: {self.tail()}")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def serving(url: str, workers: int, args: argparse.Namespace, log_dir: Path,
            profile_dir: Path | None = None) -> Iterator[Server]:
    log(f"starting `onewindow serve --workers {workers} --threads {args.threads}`")
    server = Server(url, workers, args.threads, log_dir, profile_dir)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------------
# Where the CPU went during a load run: workers, PostgreSQL, the clients (this process), everything else.


APPLICATION_NAME = "ow_bench_http"  # the workers' PostgreSQL sessions carry it, so their backends can be found
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (0 when it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


class CpuMeter:
    """CPU seconds per part between `start()` and `stop()`: this proves (or not) that the machine, not a lock,
    is what bounds the approvals/s — a serializing lock leaves cores idle while requests wait."""

    def __init__(self, db: Database, server_pid: int) -> None:
        self.db, self.server_pid = db, server_pid

    def _backends(self) -> list[int]:
        with self.db.reading() as conn:
            return list(conn.exec_driver_sql("SELECT pid FROM pg_stat_activity WHERE application_name = %(n)s",
                                             {"n": APPLICATION_NAME}).scalars())

    def _sample(self) -> dict[str, Any]:
        server = [self.server_pid, *_children(self.server_pid)]
        return {"server": {p: _cpu_seconds(p) for p in server}, "postgres": {p: _cpu_seconds(p) for p in
                                                                             self._backends()},
                "clients": sum(os.times()[:2]), "machine": _machine_busy(), "wall": time.monotonic()}

    def start(self) -> None:
        self.began = self._sample()

    def stop(self) -> dict[str, float]:
        """CPU seconds used meanwhile by each part, the machine's busy share and its core count."""
        end, began = self._sample(), self.began

        def used(part: str) -> float:
            return sum(value - began[part].get(pid, 0.0) for pid, value in end[part].items())

        busy = end["machine"][0] - began["machine"][0]
        wall = end["wall"] - began["wall"]
        parts = {"workers": used("server"), "postgres": used("postgres"), "clients": end["clients"] - began["clients"]}
        parts["others"] = max(0.0, busy - sum(parts.values()))
        return {**parts, "busy_share": busy / (wall * os.cpu_count()), "wall": wall}


class WaitSampler:
    """What the workers' PostgreSQL sessions are doing, sampled from pg_stat_activity every 0.1 s in a thread:
    a lock that serialized the workers would show as sessions waiting on `Lock` (row or table locks) or `LWLock`."""

    QUERY = ("SELECT state, coalesce(wait_event_type, '') FROM pg_stat_activity "
             "WHERE application_name = %(n)s AND pid <> pg_backend_pid()")

    def __init__(self, db: Database) -> None:
        self.db, self.samples = db, defaultdict(int)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.1):
            with self.db.reading() as conn:
                for state, waiting in conn.exec_driver_sql(self.QUERY, {"n": APPLICATION_NAME}):
                    self.samples[(waiting or "running") if state == "active" else state] += 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()

    def shares(self) -> dict[str, float]:
        """Share of the sampled sessions in each state: idle, idle in transaction (waiting for the worker), running,
        or active but waiting (Lock, LWLock, IO, …)."""
        total = sum(self.samples.values()) or 1
        return {state: count / total for state, count in sorted(self.samples.items(), key=lambda kv: -kv[1])}


# --------------------------------------------------------------------------------------------------
# The database: a fresh schema, the item deployed, one clerk (and token) per client.


def check_test_database(url: str) -> None:
    """Refuse a database whose name does not say it is for tests: the bench creates and drops a schema in it."""
    name = make_url(url).database or ""
    if not url.startswith("postgresql") or not any(word in name for word in ("test", "bench")):
        raise SystemExit(f"http_load: --postgres must name a PostgreSQL test database (its name containing "
                         f"'test' or 'bench'), not {name or url!r}")


def prepare(url: str, clients: int) -> tuple[Database, list[str]]:
    db = Database(url)
    schema.upgrade(db)
    deploy_package(db, load_package(PACKAGE_DIR), "bench")
    tokens = []
    for n in range(clients + 1):  # clerk0 is the serial client and the in-process actor
        accounts.create_user(db, f"clerk{n}", "bench-pw", f"窗口{n}", ["clerk"], CLERK_GROUPS)
        tokens.append(accounts.issue_token(db, f"clerk{n}", "bench"))
    return db, tokens


# --------------------------------------------------------------------------------------------------
# Serial: one client over HTTP against the same approval in-process, interleaved.


class InProcess:
    """The engine calls the API's routes make (the case's access check included), timed by the same request
    kinds, on the server's database; only the token's lookup is left out, since that is the HTTP layer's."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.actor = accounts.actor_for(db, "clerk0")
        self.latencies: dict[str, list[float]] = defaultdict(list)

    def _timed(self, kind: str, call: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = call()
        self.latencies[kind].append(time.perf_counter() - began)
        return result

    def approval(self) -> None:
        db, actor = self.db, self.actor
        case_no = self._timed("start", lambda: casework.start_case(db, ITEM_CODE, dict(START_DATA), actor)).case_no
        for element, data, _ in STEPS:
            tasks = self._timed("list", lambda: [t.to_dict() for t in queries.open_tasks(db, actor, case_no=case_no)])
            task_id = next(t["task_id"] for t in tasks if t["element_id"] == element)
            self._timed("claim", lambda task_id=task_id: casework.claim_task(db, task_id, actor))
            self._timed("complete", lambda task_id=task_id, data=data: submission.submit_data(db, task_id, data,
                                                                                              actor))
        if not self._timed("case", lambda: (require_concerned(db, case_no, actor),
                                            queries.case_detail(db, case_no))[1])["closed_at"]:
            raise RuntimeError(f"in-process case {case_no} is not closed after its last task")


def serial(db: Database, server: Server, token: str, pairs: int) -> dict[str, Any]:
    """`pairs` approvals each way — over HTTP on a new connection per request, over HTTP on one kept-alive
    connection, and in-process — the order rotating every round; medians per kind and per whole approval, and
    the CPU they took: the server's processes' for those over HTTP, this thread's for those in-process (CPU
    hardly depends on what else the machine runs, which the wall times do)."""
    clients = {"http": ApiClient(server.port, token), "kept": ApiClient(server.port, token, keep_alive=True)}
    local = InProcess(db)
    pids = [server.proc.pid, *_children(server.proc.pid)]
    whole: dict[str, list[float]] = {"http": [], "kept": [], "in_process": []}
    cpu = dict.fromkeys(whole, 0.0)
    errors: list[str] = []

    def over_http(way: str) -> Callable[[], None]:
        def run() -> None:
            began, cpu_began = time.perf_counter(), sum(map(_cpu_seconds, pids))
            try:
                clients[way].approval()
            except RequestFailed as exc:
                errors.append(str(exc))
                return
            whole[way].append(time.perf_counter() - began)
            cpu[way] += sum(map(_cpu_seconds, pids)) - cpu_began
        return run

    def in_process() -> None:
        began, cpu_began = time.perf_counter(), time.thread_time()
        local.approval()
        whole["in_process"].append(time.perf_counter() - began)
        cpu["in_process"] += time.thread_time() - cpu_began

    runs = [over_http("http"), over_http("kept"), in_process]
    for run in runs * 3:  # warm-up: the worker and this process each parse the diagram once
        run()
    for source in (clients["http"].latencies, clients["kept"].latencies, local.latencies, *whole.values()):
        source.clear()
    cpu.update(dict.fromkeys(cpu, 0.0))
    for n in range(pairs):
        for run in runs[n % 3:] + runs[:n % 3]:
            run()
    kinds = {}
    for kind in KINDS:
        local_ms = statistics.median(local.latencies[kind]) * 1000
        figures = {f"{way}_ms": statistics.median(client.latencies[kind]) * 1000 for way, client in clients.items()}
        kinds[kind] = {**figures, "in_process_ms": local_ms, "ratio": figures["http_ms"] / local_ms,
                       "kept_ratio": figures["kept_ms"] / local_ms}
    ms = {way: statistics.median(times) * 1000 for way, times in whole.items()}
    return {"pairs": pairs, "kinds": kinds, "errors": errors, "approval_http_ms": ms["http"],
            "approval_kept_ms": ms["kept"], "approval_in_process_ms": ms["in_process"],
            "in_process_approvals_per_s": 1000 / ms["in_process"],
            "cpu_ms_per_approval": {"worker_http": cpu["http"] * 1000 / max(1, len(whole["http"])),
                                    "worker_kept": cpu["kept"] * 1000 / max(1, len(whole["kept"])),
                                    "in_process": cpu["in_process"] * 1000 / len(whole["in_process"])}}


# --------------------------------------------------------------------------------------------------
# Load: N clients against W workers.


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def load(server: Server, db: Database, tokens: list[str], workers: int, args: argparse.Namespace) -> dict[str, Any]:
    port = server.port
    # Warm-up (not counted): enough approvals that every worker has parsed the diagram and filled its pool.
    warm = Tally()
    run_clients(port, tokens, args.seconds, len(tokens) * 2, warm)
    tally = Tally()
    log(f"  {workers} worker(s): {len(tokens)} clients for {args.seconds:g} s (at most {args.approvals} approvals)")
    meter = CpuMeter(db, server.proc.pid)
    meter.start()
    with WaitSampler(db) as waits:
        seconds = run_clients(port, tokens, args.seconds, args.approvals, tally)
    cpu = meter.stop()
    kinds = {kind: {"count": len(v), "p50_ms": percentile(v, 0.50) * 1000, "p95_ms": percentile(v, 0.95) * 1000,
                    "p99_ms": percentile(v, 0.99) * 1000} for kind, v in tally.latencies.items() if v}
    return {"workers": workers, "clients": len(tokens), "seconds": seconds, "approvals": tally.approvals,
            "approvals_per_s": tally.approvals / seconds, "requests_per_s": sum(len(v) for v in
                                                                             tally.latencies.values()) / seconds,
            "kinds": kinds, "errors": warm.errors + tally.errors,
            "cpu_ms_per_approval": {part: cpu[part] * 1000 / max(1, tally.approvals)
                                    for part in ("workers", "postgres", "clients", "others")},
            "machine_busy": cpu["busy_share"], "postgres_sessions": waits.shares()}


# --------------------------------------------------------------------------------------------------
# Profiling a worker (bench only): cProfile per request thread, dumped when the worker exits.


def profiled_serve(profile_dir: str, argv: list[str]) -> int:
    """`onewindow serve …` with every request profiled; each worker writes worker-<pid>.prof on exit.

    What is profiled is gunicorn's `ThreadWorker.handle`, one connection in a request thread: reading and
    parsing the request, the app, writing the response and the access log line. The profiles count each
    thread's CPU time (`time.thread_time`), not wall time: under load a thread's wall time is mostly waiting
    for the GIL or the database, which would bury what the worker spends CPU on."""
    from gunicorn.workers import gthread

    from onewindow import serving
    from onewindow.cli import main as cli_main

    plain_handle, plain_settings = gthread.ThreadWorker.handle, serving.gunicorn_settings
    profiles: dict[int, cProfile.Profile] = {}

    def handle(worker: Any, conn: Any) -> Any:
        profile = profiles.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))
        profile.enable()
        try:
            return plain_handle(worker, conn)
        finally:
            profile.disable()

    def settings(options: Any) -> dict[str, Any]:
        config = plain_settings(options)
        then = config.get("worker_exit")

        def worker_exit(server: Any, worker: Any) -> None:
            if profiles:
                stats = pstats.Stats(*profiles.values())
                stats.dump_stats(str(Path(profile_dir) / f"worker-{os.getpid()}.prof"))
            if then is not None:
                then(server, worker)
        config["worker_exit"] = worker_exit
        return config

    gthread.ThreadWorker.handle, serving.gunicorn_settings = handle, settings
    return cli_main(argv)


def profile_pass(url: str, tokens: list[str], args: argparse.Namespace, log_dir: Path) -> str:
    profile_dir = log_dir / "profiles"
    profile_dir.mkdir()
    with serving(url, 1, args, log_dir, profile_dir) as server:
        log(f"profiling one worker: {len(tokens)} clients for {args.seconds:g} s (untimed)")
        run_clients(server.port, tokens, args.seconds, args.approvals, Tally())
    dumps = sorted(profile_dir.glob("*.prof"))
    if not dumps:
        return f"no profile was written (see {server.log_path})"
    out = io.StringIO()
    stats = pstats.Stats(*map(str, dumps), stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    check_test_database(args.postgres)
    result: dict[str, Any] = {"clients": args.clients, "threads": args.threads, "seconds": args.seconds}
    with tempfile.TemporaryDirectory(prefix="ow-bench-http-") as tmp, \
            postgres_schema(args.postgres, f"ow_bench_http_{os.getpid()}", keep=False) as url:
        log_dir, served = Path(tmp), f"{url}&application_name={APPLICATION_NAME}"
        db, tokens = prepare(url, args.clients)
        try:
            loads = []
            for workers in args.workers:
                with serving(served, workers, args, log_dir) as server:
                    if workers == 1:
                        log(f"serial: {args.pairs} approvals each over HTTP, kept-alive HTTP and in-process")
                        result["serial"] = serial(db, server, tokens[0], args.pairs)
                    loads.append(load(server, db, tokens[1:], workers, args))
            result["load"] = loads
            if args.profile:
                result["profile"] = profile_pass(served, tokens[1:], args, log_dir)
        finally:
            db.dispose()
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's ratios, each beside its target (None when this run did not measure both sides)."""
    per_s = {entry["workers"]: entry["approvals_per_s"] for entry in result["load"]}
    serial_figures = result.get("serial")
    complete = serial_figures["kinds"]["complete"]["ratio"] if serial_figures else None
    kept = serial_figures["kinds"]["complete"]["kept_ratio"] if serial_figures else None
    two_vs_one = per_s[2] / per_s[1] if 1 in per_s and 2 in per_s else None
    four_vs_local = per_s[4] / serial_figures["in_process_approvals_per_s"] if 4 in per_s and serial_figures else None
    errors = sum(len(entry["errors"]) for entry in result["load"]) + len(serial_figures["errors"] if serial_figures
                                                                        else [])
    one = next((entry["cpu_ms_per_approval"] for entry in result["load"] if entry["workers"] == 1), None)
    return {
        "http_complete_vs_in_process": {"value": complete, "target": TARGET_HTTP_VS_INPROCESS, "at_most": True},
        "kept_complete_vs_in_process": {"value": kept, "target": TARGET_HTTP_VS_INPROCESS, "at_most": True},
        "two_workers_vs_one": {"value": two_vs_one, "target": TARGET_TWO_VS_ONE, "at_most": False},
        "two_vs_one_ceiling": {"value": two_vs_one_ceiling(one) if one else None, "target": None},
        "four_workers_vs_in_process": {"value": four_vs_local, "target": None},
        "errors": {"value": errors, "target": 0, "at_most": True},
    }


def two_vs_one_ceiling(cpu: dict[str, float], cores: int | None = None) -> float:
    """The most 2 workers could give over 1 on this machine with nothing else running, from the CPU one approval
    takes: a worker is one Python process (one core at most), and the workers, PostgreSQL and the clients
    share the cores. Below the target, the machine — not a lock — is what bounds the ratio."""
    cores = cores or os.cpu_count() or 1
    whole = cpu["workers"] + cpu["postgres"] + cpu["clients"]
    one, two = (min(n * 1000 / cpu["workers"], cores * 1000 / whole) for n in (1, 2))
    return two / one


def verdict(figure: dict[str, Any]) -> str:
    value, target = figure["value"], figure.get("target")
    if value is None or target is None:
        return ""
    met = value <= target if figure["at_most"] else value >= target
    return f"target {'≤' if figure['at_most'] else '≥'} {target}   {'met' if met else 'MISSED'}"


def render(r: dict[str, Any]) -> str:
    lines = ["onewindow bench — http_load: whole approvals through the JSON API, gunicorn on PostgreSQL",
             f"  bench/data/three-reviews: start, then list + claim + complete for each of 5 user tasks, then "
             f"read the case; {r['clients']} clients, {r['threads']} threads per worker, scheduler on", ""]
    if serial_figures := r.get("serial"):
        lines += [f"  serial, 1 worker, 1 client: {serial_figures['pairs']} approvals each over HTTP (a new connection "
                  "per request; one kept-alive connection) interleaved with as many in-process (medians, ms)",
                  f"  {'kind':<10}{'HTTP':>9}{'kept-alive':>12}{'in-process':>12}{'ratio':>8}{'kept':>8}"]
        for kind, f in serial_figures["kinds"].items():
            lines.append(f"  {kind:<10}{f['http_ms']:>9.2f}{f['kept_ms']:>12.2f}{f['in_process_ms']:>12.2f}"
                         f"{f['ratio']:>8.2f}{f['kept_ratio']:>8.2f}")
        http_ms, kept_ms = serial_figures["approval_http_ms"], serial_figures["approval_kept_ms"]
        local_ms = serial_figures["approval_in_process_ms"]
        lines += [f"  {'approval':<10}{http_ms:>9.1f}{kept_ms:>12.1f}{local_ms:>12.1f}{http_ms / local_ms:>8.2f}"
                  f"{kept_ms / local_ms:>8.2f}"]
        cpu = serial_figures["cpu_ms_per_approval"]
        lines += [f"  CPU ms per approval (means): the worker over HTTP {cpu['worker_http']:.1f}, kept-alive "
                  f"{cpu['worker_kept']:.1f}, in-process {cpu['in_process']:.1f} (ratios "
                  f"{cpu['worker_http'] / cpu['in_process']:.2f}, {cpu['worker_kept'] / cpu['in_process']:.2f})", ""]
    for entry in r["load"]:
        lines.append(f"  load, {entry['workers']} worker(s): {entry['approvals']} approvals in {entry['seconds']:.1f} s"
                     f" = {entry['approvals_per_s']:.2f} approvals/s ({entry['requests_per_s']:.0f} requests/s), "
                     f"{len(entry['errors'])} errors")
        for kind, f in entry["kinds"].items():
            lines.append(f"    {kind:<10} n={f['count']:<6} p50 {f['p50_ms']:7.1f}  p95 {f['p95_ms']:7.1f}  "
                         f"p99 {f['p99_ms']:7.1f} ms")
        cpu = entry["cpu_ms_per_approval"]
        lines.append(f"    CPU ms per approval: workers {cpu['workers']:.1f}, PostgreSQL {cpu['postgres']:.1f}, "
                     f"clients {cpu['clients']:.1f}, other processes {cpu['others']:.1f}; machine "
                     f"{entry['machine_busy']:.0%} busy")
        lines.append("    workers' PostgreSQL sessions (sampled): " + ", ".join(
            f"{state} {share:.0%}" for state, share in entry["postgres_sessions"].items()))
        lines += [f"    error: {error}" for error in entry["errors"][:20]]
    lines += [f"  serial error: {error}" for error in (serial_figures or {}).get("errors", [])[:20]]
    t = r["targets"]

    def line(label: str, key: str) -> str:
        value = t[key]["value"]
        shown = "n/a" if value is None else (f"{value}" if isinstance(value, int) else f"{value:.2f}")
        return f"  {label:<52}{shown:>6}  {verdict(t[key])}"

    lines += ["", "  targets",
              line("HTTP complete / in-process complete (1 worker)", "http_complete_vs_in_process"),
              line("  the same on a kept-alive connection", "kept_complete_vs_in_process"),
              line("approvals/s, 2 workers / 1 worker", "two_workers_vs_one"),
              line("  its ceiling here, from 1 worker's CPU per approval", "two_vs_one_ceiling"),
              line("approvals/s, 4 workers / in-process (serial)", "four_workers_vs_in_process"),
              line("errors", "errors")]
    if "profile" in r:
        lines += ["", "  one worker under load, profiled (untimed pass):", r["profile"]]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="http_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES,
                        help=f"a PostgreSQL test database (a schema of the run's own); default {DEFAULT_POSTGRES}")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads) under load (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load run (default 20)")
    parser.add_argument("--approvals", type=int, default=2000, help="approvals at most per load run (default 2000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4], help="worker counts (default 1 2 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, as `onewindow serve` (default 4)")
    parser.add_argument("--pairs", type=int, default=40,
                        help="serial approvals each way (HTTP, kept-alive HTTP, in-process), 1 worker (default 40)")
    parser.add_argument("--profile", action="store_true", help="add an untimed load pass on one profiled worker")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.approvals < 1 or args.pairs < 1 or args.threads < 1 \
            or min(args.workers) < 1:
        parser.error("--clients, --seconds, --approvals, --pairs, --threads and --workers must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emit(run(args), render, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
