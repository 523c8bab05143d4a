"""Long-running commands: `onewindow serve` (gunicorn + the embedded scheduler) and `onewindow scheduler`.

Serving uses gunicorn programmatically rather than Flask's development server, so `make run` and the
docker web workers run the same server. The app is loaded in each worker after the fork (never in
the master), so no database connection is shared across processes.

The embedded scheduler runs inside a worker, not the master: threads do not survive a fork, and
the master should only supervise. With several workers, the first one to take a per-database lock
file runs it and the others do not; if that worker dies, its replacement takes the lock over. Two
schedulers would still be safe (the tick claims due timers with row locks), only wasteful.
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from engine import jobs
from engine.errors import OnewindowError
from engine.runtime import scheduler
from engine.store.db import Database

DEFAULT_TICK_SECONDS = 10.0


def masked(url: str) -> str:
    """A database URL safe to print: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL fails later with its own message; never print it raw
        return "<unparsable DATABASE_URL>"


# --- the scheduler on its own -------------------------------------------------------------------


@dataclass
class SchedulerTotals:
    ticks: int = 0
    fired: int = 0
    failed_ticks: int = 0


def run_scheduler(db: Database, interval: float, count: int,
                  on_tick: Callable[[scheduler.TickReport], None],
                  on_failure: Callable[[str], None]) -> SchedulerTotals:
    """Tick every `interval` seconds (and make an audit checkpoint every hour, the first at start) in
    the foreground until SIGTERM/SIGINT (or `count` ticks, if > 0).

    A failed tick (database unreachable, say) is reported and retried at the next interval instead
    of ending the process: a scheduler container should ride out a database restart.
    """
    stop = threading.Event()
    totals = SchedulerTotals()
    next_checkpoint = time.monotonic()
    with _stop_on_signals(stop):
        while not stop.is_set():
            if time.monotonic() >= next_checkpoint:
                jobs.checkpoint(db)
                jobs.make_reports(db)  # 实时报送: yesterday's and last month's reports, if missing
                next_checkpoint = time.monotonic() + jobs.CHECKPOINT_EVERY.total_seconds()
            try:
                report = scheduler.tick(db)
            except (SQLAlchemyError, OnewindowError) as exc:
                totals.failed_ticks += 1
                on_failure(_one_line(exc))
            else:
                totals.fired += len(report.fired)
                on_tick(report)
            totals.ticks += 1
            if count and totals.ticks >= count:
                break
            stop.wait(interval)
    return totals


def _one_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(getattr(exc, "orig", None) or exc)
    return " ".join(text.split())[:300]


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGTERM (docker stop) and SIGINT (Ctrl-C) end the loop after the current tick."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- serving --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    threads: int
    scheduler: bool
    tick_seconds: float
    database_url: str

    @property
    def bind(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.bind}/"


def check_port_free(host: str, port: int) -> None:
    """Fail with one line before gunicorn starts, rather than after its five noisy bind retries."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise OnewindowError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                             "stop what uses it or choose another --port / --host") from exc


def make_app_factory(database_url: str) -> Callable[[], Any]:
    """The Flask app for one worker; the scheduler is started by our hooks, never by the app."""

    def factory():
        from webapp import create_app

        return create_app({"DATABASE_URL": database_url, "SCHEDULER_ENABLED": False})

    return factory


def preflight(options: ServeOptions) -> None:
    """Build the app once in the master and throw it away, so a broken app is one clear error, not a
    worker boot loop; and check the port."""
    app = make_app_factory(options.database_url)()
    from webapp.db import EXTENSION_KEY

    db = app.extensions.get(EXTENSION_KEY)
    if db is not None:
        db.dispose()
    check_port_free(options.host, options.port)


def serve(options: ServeOptions) -> int:
    """Run gunicorn in the foreground until it is stopped; returns its exit status."""
    from gunicorn.app.base import BaseApplication

    class OnewindowServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_settings(options).items():
                if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                    self.cfg.set(key, value)

        def load(self):
            return make_app_factory(options.database_url)()

    try:
        OnewindowServer(prog="onewindow serve").run()
    except SystemExit as exc:  # gunicorn's arbiter leaves through sys.exit, also on a clean stop
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def gunicorn_settings(options: ServeOptions) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bind": [options.bind],
        "workers": options.workers,
        "threads": options.threads,
        "worker_class": "gthread",
        "accesslog": "-",
        # gunicorn's default line plus the worker's pid: which worker served a request (and died, say)
        "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" pid=%(p)s',
        "errorlog": "-",
        "proc_name": "onewindow",
        "timeout": 60,
        "graceful_timeout": 20,
        # gunicorn >= 25 opens a control socket in $HOME by default; two `serve`s would fight over it,
        # and a container's home may be read-only.
        "control_socket_disable": True,
    }
    if options.scheduler:
        config["post_worker_init"] = _scheduler_hook(options)
        config["worker_exit"] = _stop_embedded_scheduler
    return config


_embedded: dict[str, Any] = {}


def scheduler_lock_path(database_url: str) -> Path:
    """One lock per database per machine, in the temp folder (always writable, even in a container)."""
    digest = hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"onewindow-scheduler-{digest}.lock"


def _scheduler_hook(options: ServeOptions) -> Callable[[Any], None]:
    def post_worker_init(worker) -> None:
        taken, lock = _try_lock(scheduler_lock_path(options.database_url))
        if not taken:
            return
        db = Database(options.database_url)
        _embedded.update(lock=lock, db=db, scheduler=jobs.start_background(db, options.tick_seconds))
        worker.log.info("embedded scheduler: ticking every %ss in worker %s", options.tick_seconds, worker.pid)

    return post_worker_init


def _stop_embedded_scheduler(_server, _worker) -> None:
    running = _embedded.pop("scheduler", None)
    if running is not None:
        running.shutdown(wait=False)
    db = _embedded.pop("db", None)
    if db is not None:
        db.dispose()
    lock = _embedded.pop("lock", None)
    if lock is not None:
        lock.close()


def _try_lock(path: Path) -> tuple[bool, IO[str] | None]:
    """Take an exclusive lock on `path`, held while the returned file stays open.

    (False, None): another worker holds it. (True, None): the lock file cannot be opened at all —
    better a second scheduler (harmless: timers are claimed with row locks) than none.
    """
    import fcntl

    try:
        handle = open(path, "a+")  # noqa: SIM115 - kept open on purpose: closing it releases the lock
    except OSError:
        return True, None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False, None
    return True, handle


def print_banner(options: ServeOptions, stream=None) -> None:
    stream = stream or sys.stdout
    if options.scheduler:
        note = f"embedded, ticking every {options.tick_seconds:g}s"
    else:
        note = "off — run `onewindow scheduler` beside the web workers so timers fire"
    print(f"onewindow serving on {options.url}  (database {masked(options.database_url)}; "
          f"{options.workers} worker(s) × {options.threads} threads; scheduler {note}); Ctrl-C stops",
          file=stream, flush=True)
