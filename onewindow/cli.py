"""`onewindow`: the operator's command line (init, serve, lint, deploy, casework, tick, bench, users, calendar,
verify, checkpoint).

Every command prints a readable table, or JSON with `--json` (before or after the command name),
so the same command serves a person at a terminal and a script. Exit statuses are a contract for
scripts and `make`:

    0  done
    1  the engine refused (unknown case, lint errors, permission, conflict…) or the database failed
    2  bad input on the command line (unknown option, invalid JSON in --data, bad --now time)
    3  a bug: an unexpected exception (rerun with --debug for the traceback)

Errors are always one line on stderr starting with `error:`, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from engine.errors import OnewindowError
from engine.store.db import Database

from . import __version__, output
from .inputs import day_count, iso_date, iso_time, json_object, positive_float, year, year_month
from .output import print_json, render_pairs, render_table

Handler = Callable[[argparse.Namespace, "Context"], int]


class UsageError(Exception):
    """Bad command-line input: exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2) instead of the usage block and message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@dataclass
class Context:
    """What a command needs: how to print, and the database (opened on first use, closed at the end)."""

    json: bool = False
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database()
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def emit(self, data: Any, text: str | Callable[[], str]) -> None:
        """Print `data` as JSON with --json, else the readable `text` (built only when needed)."""
        if self.json:
            print_json(data)
        else:
            print(text() if callable(text) else text)

    def note(self, message: str) -> None:
        """A remark for the person at the terminal; on stderr, so stdout stays clean for pipes."""
        print(message, file=sys.stderr)


# --- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (the console script passes it to sys.exit)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc), 2, {"error": "usage", "message": str(exc)} if "--json" in argv else None)
    except SystemExit as exc:  # --help and --version end here
        return exc.code if isinstance(exc.code, int) else 0
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return run(args)


def run(args: argparse.Namespace) -> int:
    ctx = Context(json=args.json)
    debug = args.debug or bool(os.environ.get("ONEWINDOW_DEBUG"))
    try:
        return args.handler(args, ctx)
    except UsageError as exc:
        return _fail(str(exc), 2, {"error": "usage", "message": str(exc)} if ctx.json else None)
    except OnewindowError as exc:
        return _fail(exc.message, 1, exc.to_dict() if ctx.json else None)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, None)
    except BrokenPipeError:
        return _stdout_gone()
    except SQLAlchemyError as exc:
        if debug:
            raise
        message = f"database error: {_first_line(exc)} — check DATABASE_URL, and run `onewindow init` if the " \
                  "database is new"
        return _fail(message, 1, {"error": "database", "message": message} if ctx.json else None)
    except Exception as exc:
        if debug:
            raise
        message = f"unexpected {type(exc).__name__}: {_first_line(exc)} (rerun with --debug to see the traceback)"
        return _fail(message, 3, {"error": "internal", "message": message} if ctx.json else None)
    finally:
        ctx.close()


def _stdout_gone() -> int:
    """The reader went away (`onewindow history NO | head`): stop quietly, as a Unix tool does on SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain again
    except (OSError, ValueError, AttributeError):
        pass
    return 141


def _first_line(exc: BaseException) -> str:
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, status: int, payload: dict[str, Any] | None) -> int:
    if payload is not None:
        print_json(payload)
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return status


# --- the parser -----------------------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    """Options every subcommand accepts too; SUPPRESS keeps a global `--json` from being reset."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print JSON instead of a table")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an unexpected error")
    return common


def build_parser() -> Parser:
    parser = Parser(prog="onewindow", description="一窗 onewindow — operator commands. "
                    "DATABASE_URL selects the database (default: instance/onewindow.db, SQLite).",
                    epilog="e.g.  onewindow init --demo && onewindow serve   |   "
                           "onewindow start DEMO-001 --data @apply.json --as applicant")
    parser.add_argument("--json", action="store_true", default=False, help="print JSON instead of a table")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the traceback of an unexpected error")
    parser.add_argument("--version", action="version", version=f"onewindow {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    common = _common()
    for register in (_add_setup_commands, _add_case_commands, _add_people_commands, _add_calendar_commands,
                     _add_audit_commands, _add_run_commands):
        register(commands, common)
    return parser


def _command(commands, common, name: str, handler: Handler, help_text: str) -> Parser:
    sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    return sub


def _add_setup_commands(commands, common) -> None:
    sub = _command(commands, common, "init", cmd_init, "create or upgrade the database schema (safe to rerun)")
    sub.add_argument("--demo", action="store_true", help="also create demo users and deploy every item in processes/")

    sub = _command(commands, common, "lint", cmd_lint, "check item folders or .bpmn files without deploying")
    sub.add_argument("paths", nargs="+", metavar="PATH", help="an item folder or a .bpmn file")

    sub = _command(commands, common, "deploy", cmd_deploy,
                   "lint and deploy an item folder as its next version (identical content: no-op)")
    sub.add_argument("path", nargs="?", metavar="PATH", help="the item folder, e.g. processes/demo-joint-review")
    sub.add_argument("--all", action="store_true", help="deploy every item folder under processes/")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as the deployer (default: cli)")
    sub.add_argument("--approval", metavar="CASE_NO",
                     help="the approved governance case a change of time limits or materials needs (S-9)")

    sub = _command(commands, common, "withdraw", cmd_withdraw,
                   "withdraw an item from the centre on an approved governance case (no new cases; running ones go on)")
    sub.add_argument("code", metavar="CODE", help="the item code, e.g. DEMO-001")
    sub.add_argument("--approval", required=True, metavar="CASE_NO", help="the approved governance case (S-9)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "migrate", cmd_migrate,
                   "move open cases of an item from one version to another where it is safe (one transaction "
                   "each); without --apply only lists which cases can move and why not")
    sub.add_argument("code", metavar="CODE", help="the item code, e.g. DEMO-001")
    sub.add_argument("--from", dest="from_number", type=int, required=True, metavar="N", help="the cases' version")
    sub.add_argument("--to", dest="to_number", type=int, required=True, metavar="M", help="the version to move to")
    sub.add_argument("--case", dest="cases", action="append", default=[], metavar="NO",
                     help="only this case (repeat); default: every case that can move")
    sub.add_argument("--apply", action="store_true", help="move them (default: a dry run)")
    _as_option(sub, required=False)

    _command(commands, common, "items", cmd_items, "list the deployed items and their latest version")


def _add_case_commands(commands, common) -> None:
    sub = _command(commands, common, "start", cmd_start, "apply: start a case of ITEM's latest version")
    sub.add_argument("item", metavar="ITEM", help="the item code, e.g. DEMO-001")
    _data_option(sub)
    sub.add_argument("--unit", metavar="UNIT", help="the window it comes in at, e.g. 梁子镇/子坛村 (default: the "
                     "user's own unit; see `onewindow org show`)")
    sub.add_argument("--mandate", type=json_object, default=None, metavar="JSON",
                     help='full agency (委托): {"principal": …, "principal_id_number": …, "signed_on": "YYYY-MM-DD"}')
    _as_option(sub, required=True)

    sub = _command(commands, common, "tasks", cmd_tasks, "list open tasks (all, or those USER may handle)")
    sub.add_argument("--case", metavar="NO", help="only the tasks of this case")
    _as_option(sub, required=False)

    for name, handler, text in (("claim", cmd_claim, "claim (签收) an open task"),
                                ("release", cmd_release, "give a claimed task back to its group")):
        sub = _command(commands, common, name, handler, text)
        sub.add_argument("task", metavar="TASK", help="the task id (see `onewindow tasks`)")
        _as_option(sub, required=True)

    sub = _command(commands, common, "complete", cmd_complete, "fill a task's form and complete it")
    sub.add_argument("task", metavar="TASK", help="the task id (see `onewindow tasks`)")
    _data_option(sub)
    _as_option(sub, required=True)

    sub = _command(commands, common, "extend", cmd_extend,
                   "延期: extend a case's deadline by N working days (a chief's approval; refused once it passed)")
    sub.add_argument("case_no", metavar="NO", help="the case number")
    sub.add_argument("--days", type=int, required=True, metavar="N", help="working days to add (at least 1)")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded in the case history)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "case", cmd_case,
                   "show a case: status, version, open tasks, timers, time limit")
    sub.add_argument("case_no", metavar="NO", help="the case number")
    sub = _command(commands, common, "history", cmd_history, "show a case's audit trail, oldest first")
    sub.add_argument("case_no", metavar="NO", help="the case number")


def _add_people_commands(commands, common) -> None:
    user = _command(commands, common, "user", cmd_user_help,
                    "manage users: `user add`, `user list`, `user disable`, `user enable`")
    actions = user.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "add", cmd_user_add,
                   "create a user, or update one (options left out keep their current value)")
    sub.add_argument("username", metavar="USERNAME")
    sub.add_argument("--password", help="the password (omit it to be asked in a terminal)")
    sub.add_argument("--name", help="display name, e.g. 王芳 (default: the username)")
    sub.add_argument("--role", action="append", default=[], metavar="ROLE",
                     help="applicant, clerk, supervisor, analyst, auditor or admin; repeat or comma-separate")
    sub.add_argument("--group", action="append", default=[], metavar="GROUP",
                     help="a group, e.g. 区中心/区民政局·窗口 (see `onewindow org show`); repeat or comma-separate")
    sub.add_argument("--unit", metavar="UNIT", help="the org unit the user works at, e.g. 梁子镇/子坛村")
    _command(actions, common, "list", cmd_user_list, "list users with their roles and groups")
    for name, text in (("disable", "stop USERNAME logging in: sessions end, API tokens are revoked"),
                       ("enable", "let a disabled USERNAME log in again (revoked tokens stay revoked)")):
        sub = _command(actions, common, name, cmd_user_disable_or_enable, text)
        sub.add_argument("username", metavar="USERNAME")

    org = _command(commands, common, "org", cmd_org_help, "the org tree: `org show`, `org load`")
    actions = org.add_subparsers(title="actions", dest="action", metavar="ACTION")
    _command(actions, common, "show", cmd_org_show, "list the units and their groups (what lanes resolve to)")
    _command(actions, common, "load", cmd_org_load, "load processes/org.json into the database (after editing it)")

    sub = _command(commands, common, "token", cmd_token, "API tokens: `token USERNAME` issues one (printed once), "
                   "`token list [USERNAME]` shows them, `token revoke ID` revokes one")
    sub.add_argument("words", nargs="+", metavar="USERNAME | list [USERNAME] | revoke ID")
    sub.add_argument("--label", default="api", help="what the token is for (default: api)")
    sub.add_argument("--days", type=int, metavar="N",
                     help="days the token is valid, 1 to 365 (default: ONEWINDOW_TOKEN_DAYS, else 90)")



def _add_calendar_commands(commands, common) -> None:
    group = _command(commands, common, "calendar", cmd_calendar_help,
                     "the working-day calendar: `calendar show|check|add-days|set|unset|overrides`")
    actions = group.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "show", cmd_calendar_show, "a month day by day: working or off, and why")
    sub.add_argument("month", nargs="?", type=year_month, metavar="YEAR-MONTH",
                     help="e.g. 2026-02 (default: this month)")
    sub = _command(actions, common, "check", cmd_calendar_check, "is DATE a working day, and why")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub = _command(actions, common, "add-days", cmd_calendar_add_days,
                   "the N-th working day after DATE (DATE itself never counts)")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub.add_argument("n", type=day_count, metavar="N", help="working days, 0 or more")
    sub = _command(actions, common, "set", cmd_calendar_set,
                   "override the statutory calendar: make DATE a working day or a day off (replaces an earlier one)")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    choice = sub.add_mutually_exclusive_group(required=True)
    choice.add_argument("--working", dest="working", action="store_const", const=True, help="make DATE a working day")
    choice.add_argument("--off", dest="working", action="store_const", const=False, help="make DATE a day off")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="why (kept with the override), e.g. 国办发明电…")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as who set it (default: cli)")
    sub = _command(actions, common, "unset", cmd_calendar_unset,
                   "remove DATE's override: the statutory calendar decides it again")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub.add_argument("--as", dest="user", metavar="USER", help="who removes it, for the log (default: cli)")
    sub = _command(actions, common, "overrides", cmd_calendar_overrides, "list the administrator's overrides")
    sub.add_argument("--year", type=year, metavar="YEAR", help="only this year")


def _add_audit_commands(commands, common) -> None:
    sub = _command(commands, common, "verify", cmd_verify,
                   "check the audit trail: one case's hash chain and checkpoints, or --all (exit 1 if tampered)")
    sub.add_argument("case_no", nargs="?", metavar="NO", help="the case number")
    sub.add_argument("--all", action="store_true", help="every case, every checkpoint")

    sub = _command(commands, common, "replay", cmd_replay,
                   "re-execute a case from its recorded inputs on its own version; 'identical' or the first "
                   "divergence (exit 1)")
    sub.add_argument("case_no", metavar="NO", help="the case number")

    group = _command(commands, common, "incidents", cmd_incidents,
                     "cases that cannot move: stalled or failing in the scheduler (`incidents`, `incidents retry "
                     "ID`, `incidents resolve ID`); exit 1 while any is open")
    actions = group.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "retry", cmd_incidents_retry, "re-execute the incident's case now (audited)")
    sub.add_argument("incident", type=int, metavar="ID", help="the incident id (see `onewindow incidents`)")
    _as_option(sub, required=True)
    sub = _command(actions, common, "resolve", cmd_incidents_resolve,
                   "close an incident by hand, saying how it was dealt with (audited)")
    sub.add_argument("incident", type=int, metavar="ID", help="the incident id (see `onewindow incidents`)")
    sub.add_argument("--note", required=True, metavar="TEXT", help="how it was dealt with (recorded in the case)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "checkpoint", cmd_checkpoint,
                   "record the head of every case chain that moved since the last checkpoint (run it periodically)")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as who made it (default: cli)")


def cmd_incidents(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    rows = [i.to_dict() for i in incidents.open_incidents(ctx.db)]
    ctx.emit(rows, lambda: render_table(rows, [("id", "id"), ("case_no", "case"), ("kind_name", "kind"),
                                               ("since", "since"), ("element_id", "last step"),
                                               ("attempts", "attempts"), ("next_retry_at", "next retry"),
                                               ("message", "message")]) if rows else "no open incidents")
    return 1 if rows else 0


def cmd_incidents_retry(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    message = incidents.retry(ctx.db, args.incident, _actor(ctx, args.user))
    ctx.emit({"incident": args.incident, "message": message}, message)
    return 0


def cmd_incidents_resolve(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    message = incidents.resolve(ctx.db, args.incident, _actor(ctx, args.user), args.note)
    ctx.emit({"incident": args.incident, "message": message}, message)
    return 0


def _add_run_commands(commands, common) -> None:
    sub = _command(commands, common, "tick", cmd_tick, "run one scheduler pass: fire the timers due at --now")
    sub.add_argument("--now", type=iso_time, metavar="ISO-TIME",
                     help="the time to tick at, ISO 8601 (no offset = UTC; default: now)")

    sub = _command(commands, common, "report", cmd_report,
                   "write the daily or monthly supervision report (HTML + CSV) under instance/reports")
    sub.add_argument("kind", choices=("daily", "monthly"), help="daily: one date; monthly: its calendar month")
    sub.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD",
                     help="a date in the period (default: yesterday for daily, last month for monthly)")
    sub.add_argument("--dir", type=Path, metavar="DIR", help="where to write (default: $ONEWINDOW_REPORTS_DIR or "
                                                            "instance/reports)")

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


def _data_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--data", type=json_object, default={}, metavar="JSON",
                     help="form data: a JSON object, or @file.json (@- reads stdin)")


def _as_option(sub: argparse.ArgumentParser, required: bool) -> None:
    sub.add_argument("--as", dest="user", required=required, metavar="USER", help="act as this user")


# --- setup commands -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Migrate, then optionally seed the demo; rerunning is harmless (demo users are updated, items no-op)."""
    from engine.catalogue import demo
    from engine.org import orgtree
    from engine.store import schema

    from .serving import masked

    schema.upgrade(ctx.db)
    units = orgtree.install(ctx.db)
    result: dict[str, Any] = {"database": masked(ctx.db.url), "schema": "head", "org_units": len(units)}
    lines = [f"database ready: {result['database']} (schema at head, org tree of {len(units)} units)"]
    status = 0
    if args.demo:
        seeded = demo.seed(ctx.db)
        result["demo"] = {"password": demo.DEMO_PASSWORD, "users": [u.to_dict() for u in seeded.users],
                          "deployed": [_deploy_dict(r) for r in seeded.deployed], "failed": seeded.failed}
        lines += [r.message for r in seeded.deployed]
        for failure in seeded.failed:
            ctx.note(f"error: {failure['path']}: {failure['message']}")
            status = 1
        fixed = [u.to_dict() for u in seeded.users if not u.unit]
        lines += ["", f"demo logins (password {demo.DEMO_PASSWORD} for everyone):", render_table(fixed, LOGIN_COLUMNS),
                  "", "window staff of the org tree (one login per unit and post; `onewindow user list` shows all):",
                  *_logins_by_unit([u for u in seeded.users if u.unit])]
    ctx.emit(result, "\n".join(lines))
    return status


def _logins_by_unit(users) -> list[str]:
    """'区中心/区民政局: mz-window mz-handle mz-review mz-approve' — one line per unit instead of 70 rows."""
    by_unit: dict[str, list[str]] = {}
    for user in users:
        by_unit.setdefault(user.unit, []).append(user.username)
    return [f"  {unit}: {' '.join(names)}" for unit, names in by_unit.items()]


LOGIN_COLUMNS = [("username", "username"), ("password", "password"), ("display_name", "name"),
                 ("roles", "roles"), ("groups", "groups")]


def _deploy_dict(result) -> dict[str, Any]:
    return {"item_code": result.item_code, "version": result.version, "created": result.created,
            "content_hash": result.content_hash, "message": result.message,
            "warnings": [f for f in result.report.to_list() if f["severity"] != "error"]}


def cmd_lint(args: argparse.Namespace, ctx: Context) -> int:
    """Lint each path; every finding names its file and element and says how to fix it."""
    results = [_lint_one(Path(p)) for p in args.paths]
    errors = sum(1 for r in results for f in r["findings"] if f["severity"] == "error")
    ctx.emit(results, lambda: _lint_text(results, errors))
    return 1 if errors else 0


def _lint_one(path: Path) -> dict[str, Any]:
    from engine.diagrams.lint import lint_package
    from engine.diagrams.package import load_package

    try:
        package = load_package(path)
        findings = lint_package(package).to_list()
    except OnewindowError as exc:  # unreadable, unsafe or malformed: one finding, as lint would put it
        finding = {"severity": "error", "message": exc.message, "fix": "修正文件后重新检查",
                   "element_id": None, "file": path.name if path.is_file() else None}
        return {"path": str(path), "item_code": None, "ok": False, "findings": [finding]}
    folder = path if path.is_dir() else path.parent
    if not (folder / "item.json").exists():
        findings = _diagrams_only(findings, path)
    ok = not any(f["severity"] == "error" for f in findings)
    return {"path": str(path), "item_code": package.code or None, "ok": ok, "findings": findings}


def _diagrams_only(findings: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """Without item.json there is no item to check (a shared call activity, a sketch): lint the diagrams.

    For a folder this is said as a warning, because deploying it would still need item.json.
    """
    kept = [f for f in findings if f["file"] != "item.json"]
    if path.is_dir():
        kept.insert(0, {"severity": "warning", "message": "没有 item.json，只检查了流程图",
                        "fix": "作为事项部署前，添加 item.json（code、name、department、handling_mode）",
                        "element_id": None, "file": "item.json"})
    return kept


def _lint_text(results: list[dict[str, Any]], errors: int) -> str:
    lines = []
    for result in results:
        lines.append(f"{result['path']}: {'ok' if result['ok'] else 'FAILED'}")
        lines += [f"  {_finding_line(f)}" for f in result["findings"]]
    warnings = sum(1 for r in results for f in r["findings"] if f["severity"] != "error")
    lines.append(f"{errors} error(s), {warnings} warning(s) in {len(results)} path(s)")
    return "\n".join(lines)


def _finding_line(finding: dict[str, Any]) -> str:
    """`severity: file:element: message — fix`, without repeating a file name the message starts with."""
    where = ":".join(p for p in (finding["file"], finding["element_id"]) if p)
    message = finding["message"]
    if finding["file"] and message.startswith(f"{finding['file']}: "):
        message = message[len(finding["file"]) + 2:]
    return f"{finding['severity']}: {where + ': ' if where else ''}{message} — {finding['fix']}"


def cmd_deploy(args: argparse.Namespace, ctx: Context) -> int:
    from engine.catalogue import demo
    from engine.catalogue.deployment import deploy_package
    from engine.diagrams.package import load_package
    from engine.org import accounts

    if bool(args.path) == bool(args.all):
        raise UsageError("give one item folder to deploy, or --all (see `onewindow deploy --help`)")
    deployer = args.user or "cli"
    if args.user:
        accounts.actor_for(ctx.db, args.user)  # an unknown deployer is refused, not recorded
    if args.approval and not args.path:
        raise UsageError("--approval names the approval of one item's change: give its folder, not --all")
    if args.path:
        result = deploy_package(ctx.db, load_package(args.path), deployer, approval=args.approval)
        ctx.emit(_deploy_dict(result), result.message)
        return 0
    seeded = demo.deploy_all(ctx.db, deployer)
    payload = {"deployed": [_deploy_dict(r) for r in seeded.deployed], "failed": seeded.failed}
    for failure in seeded.failed:
        ctx.note(f"error: {failure['path']}: {failure['message']}")
    ctx.emit(payload, "\n".join([r.message for r in seeded.deployed] or ["no item folder under processes/"]))
    return 1 if seeded.failed else 0


def cmd_withdraw(args: argparse.Namespace, ctx: Context) -> int:
    from engine.catalogue import governance

    governance.withdraw_item(ctx.db, args.code, _actor(ctx, args.user), args.approval)
    ctx.emit({"item_code": args.code, "withdrawn": True, "approval": args.approval},
             f"{args.code} withdrawn from the centre (approval {args.approval}); running cases continue")
    return 0


def cmd_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Dry run: the verdict per open case. --apply: move the chosen (or every movable) case; exit 1 if any refused."""
    from engine.catalogue import case_migration

    verdicts = case_migration.assess_version(ctx.db, args.code, args.from_number, args.to_number)
    if not args.apply:
        rows = [{**v.to_dict(), "can": "yes" if v.can else "no", "reasons": "；".join(v.reasons)} for v in verdicts]
        ctx.emit([v.to_dict() for v in verdicts], lambda: render_table(rows, [
            ("case_no", "case"), ("status", "status"), ("can", "can move"), ("reasons", "why not")])
            if rows else f"no open case on version {args.from_number}")
        return 0
    if not args.user:
        raise UsageError("--apply needs --as USER (an analyst): the migration is recorded in each case's history")
    chosen = args.cases or [v.case_no for v in verdicts if v.can]
    result = case_migration.migrate_cases(ctx.db, chosen, args.to_number, _actor(ctx, args.user))
    ctx.emit(result.to_dict(), lambda: "\n".join(
        [f"migrated {no} to version {args.to_number}" for no in result.migrated]
        + [f"refused {no}: {'；'.join(reasons)}" for no, reasons in result.refused.items()]
        or ["nothing to migrate"]))
    return 1 if result.refused else 0


def cmd_items(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    rows = queries.list_items(ctx.db)
    ctx.emit(rows, lambda: render_table(rows, [("code", "code"), ("name", "name"), ("department", "department"),
                                               ("handling_mode", "mode"), ("latest_version", "version")])
             if rows else "no item deployed yet (onewindow deploy PATH)")
    return 0


# --- casework -------------------------------------------------------------------------------------

TASK_COLUMNS = [("task_id", "task"), ("case_no", "case"), ("item_code", "item"), ("name", "step"),
                ("candidate_group", "group"), ("assignee", "claimed by"), ("created_at", "created")]


def _tasks_text(rows: list[dict[str, Any]], empty: str = "no open tasks") -> str:
    return render_table(rows, TASK_COLUMNS) if rows else empty


def _actor(ctx: Context, username: str):
    from engine.org import accounts

    return accounts.actor_for(ctx.db, username)


def cmd_start(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework
    from engine.reads import queries

    started = casework.start_case(ctx.db, args.item, args.data, _actor(ctx, args.user), unit=args.unit,
                                  mandate=args.mandate)
    tasks = [t.to_dict() for t in queries.open_tasks(ctx.db, case_no=started.case_no)]
    payload = {"case_no": started.case_no, "item_code": args.item, "status": started.status,
               "version": started.version, "open_tasks": tasks}
    ctx.emit(payload, lambda: f"started case {started.case_no} ({args.item} version {started.version}), "
                              f"status {started.status}\n" + _tasks_text(tasks, "no open tasks"))
    return 0


def cmd_tasks(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    actor = _actor(ctx, args.user) if args.user else None
    rows = [t.to_dict() for t in queries.open_tasks(ctx.db, actor=actor, case_no=args.case)]
    ctx.emit(rows, lambda: _tasks_text(rows))
    return 0


def cmd_claim(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework

    case_no = casework.claim_task(ctx.db, args.task, _actor(ctx, args.user))
    ctx.emit({"task_id": args.task, "case_no": case_no, "assignee": args.user},
             f"task {args.task} of case {case_no} claimed by {args.user}")
    return 0


def cmd_release(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework

    case_no = casework.release_task(ctx.db, args.task, _actor(ctx, args.user))
    ctx.emit({"task_id": args.task, "case_no": case_no, "assignee": None},
             f"task {args.task} of case {case_no} released to its group")
    return 0


def cmd_complete(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework
    from engine.reads import queries

    case_no = casework.complete_task(ctx.db, args.task, args.data, _actor(ctx, args.user))
    detail = queries.case_detail(ctx.db, case_no)
    payload = {"task_id": args.task, "case_no": case_no, "status": detail["status"],
               "closed_at": detail["closed_at"], "open_tasks": detail["open_tasks"]}
    ctx.emit(payload, lambda: f"completed task {args.task}; case {case_no} is now {detail['status']}\n"
                              + _tasks_text(detail["open_tasks"], "no open tasks left"))
    return 0


def cmd_extend(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework
    from engine.reads import queries

    casework.extend_deadline(ctx.db, args.case_no, args.days, args.reason, _actor(ctx, args.user))
    clock_view = queries.case_detail(ctx.db, args.case_no)["clock"]
    ctx.emit(clock_view, f"case {args.case_no}: deadline extended by {args.days} working day(s) to "
                         f"{clock_view['committed_deadline']} (statutory {clock_view['statutory_deadline']})")
    return 0


def cmd_case(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    detail = queries.case_detail(ctx.db, args.case_no)
    ctx.emit(detail, lambda: _case_text(detail))
    return 0


def _case_text(detail: dict[str, Any]) -> str:
    keys = ["case_no", "item_code", "item_name", "version", "status", "created_at", "updated_at", "closed_at",
            "lock_version", "serializer_version"]
    parts = [render_pairs([(k, detail.get(k)) for k in keys]), "", "open tasks:",
             _tasks_text(detail["open_tasks"], "  none")]
    if detail["timers"]:
        parts += ["", "timers:", render_table(detail["timers"], [("element_id", "element"), ("due_at", "due")])]
    clock_view = detail.get("clock") or {}
    if clock_view.get("started_at"):
        parts += ["", "time limit:", render_pairs([(k, clock_view.get(k)) for k in (
            "started_at", "committed_deadline", "statutory_deadline", "working_days_used", "working_days_remaining",
            "paused", "paused_working_days", "extension_days", "warning_level", "stopped_at")])]
    return "\n".join(parts)


HISTORY_COLUMNS = [("seq", "#"), ("at", "at"), ("actor", "actor"), ("type", "event"), ("element_id", "element"),
                   ("data", "data")]


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    events = queries.case_history(ctx.db, args.case_no)
    ctx.emit(events, lambda: render_table(events, HISTORY_COLUMNS) if events else "no events")
    return 0


# --- people ---------------------------------------------------------------------------------------


def cmd_user_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("say what to do: `onewindow user add USERNAME …`, `user list`, `user disable USERNAME` or "
                     "`user enable USERNAME`")


def _split(values: list[str]) -> list[str]:
    """`--role a --role b,c` → [a, b, c]: both spellings are natural at a shell."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _ask_password(username: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("give --password (or run in a terminal to be asked for it)")
    first = getpass.getpass(f"password for {username}: ")
    if not first or first != getpass.getpass("again: "):
        raise UsageError("the two passwords are empty or differ; nothing changed")
    return first


def cmd_user_add(args: argparse.Namespace, ctx: Context) -> int:
    """Create a user, or update one: options left out keep the existing name, roles and groups."""
    from engine.errors import NotFound
    from engine.org import accounts, password_policy

    try:
        existing = accounts.actor_for(ctx.db, args.username)
    except NotFound:
        existing = None
    roles = _split(args.role) or (sorted(existing.roles) if existing else [])
    group_codes = _split(args.group) or (sorted(existing.groups) if existing else [])
    name = args.name or (existing.display_name if existing else args.username)
    if not roles:
        raise UsageError(f"give at least one --role ({', '.join(accounts.ROLES)})")
    password = args.password or _ask_password(args.username)
    password_policy.check(password, args.username)
    unit = args.unit or (existing.unit if existing else None)
    accounts.create_user(ctx.db, args.username, password, name, roles, group_codes, unit)
    payload = {"username": args.username, "display_name": name, "roles": roles, "groups": group_codes,
               "created": existing is None}
    ctx.emit(payload, f"user {args.username} {'updated' if existing else 'created'}: roles {', '.join(roles)}"
                      + (f"; groups {', '.join(group_codes)}" if group_codes else ""))
    return 0


def cmd_org_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("give an action: org show | org load")


def cmd_org_load(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import orgtree

    units = orgtree.install(ctx.db)
    ctx.emit({"units": len(units)}, f"org tree loaded: {len(units)} units")
    return 0


def cmd_org_show(args: argparse.Namespace, ctx: Context) -> int:
    from sqlalchemy import select

    from engine.org.orgtree import group_code
    from engine.store.tables import org_units

    with ctx.db.reading() as conn:
        rows = [{"code": r.code, "name": r.name, "kind": r.kind, "groups": [group_code(r.code, f) for f in r.functions]}
                for r in conn.execute(select(org_units).order_by(org_units.c.position))]
    ctx.emit(rows, lambda: render_table(rows, [("code", "unit"), ("name", "name"), ("kind", "kind"),
                                               ("groups", "groups")]) if rows else "no org tree: run onewindow init")
    return 0


def cmd_user_disable_or_enable(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import accounts

    disabled = args.action == "disable"
    accounts.set_disabled(ctx.db, args.username, disabled)
    ctx.emit({"username": args.username, "disabled": disabled},
             f"user {args.username} disabled: logins refused, sessions ended, API tokens revoked" if disabled else
             f"user {args.username} enabled; revoked API tokens stay revoked (`onewindow token {args.username}`)")
    return 0


def cmd_user_list(args: argparse.Namespace, ctx: Context) -> int:
    rows = list_users(ctx.db)
    ctx.emit(rows, lambda: render_table(rows, [("username", "username"), ("display_name", "name"),
                                               ("roles", "roles"), ("groups", "groups"), ("disabled", "disabled")])
             if rows else "no users")
    return 0


def list_users(db: Database) -> list[dict[str, Any]]:
    """Users with roles and group codes, by username (a read of the accounts tables, nothing else)."""
    from sqlalchemy import select

    from engine.store.tables import groups, memberships, users

    with db.reading() as conn:
        people = conn.execute(select(users.c.id, users.c.username, users.c.display_name, users.c.roles,
                                     users.c.disabled_at).order_by(users.c.username)).all()
        pairs = conn.execute(select(memberships.c.user_id, groups.c.code)
                             .join(groups, groups.c.id == memberships.c.group_id).order_by(groups.c.code)).all()
    by_user: dict[int, list[str]] = {}
    for user_id, code in pairs:
        by_user.setdefault(user_id, []).append(code)
    return [{"username": p.username, "display_name": p.display_name, "roles": list(p.roles),
             "groups": by_user.get(p.id, []), "disabled": p.disabled_at is not None} for p in people]


TOKEN_USAGE = "give `onewindow token USERNAME [--days N]`, `token list [USERNAME]` or `token revoke ID`"
TOKEN_COLUMNS = [("id", "id"), ("username", "user"), ("label", "label"), ("created_at", "created"),
                 ("expires_at", "expires"), ("state", "state"), ("revoked_reason", "revoked")]


def cmd_token(args: argparse.Namespace, ctx: Context) -> int:
    """One command for a token's life; a user named `list` or `revoke` cannot be given a token from here."""
    from engine.org import accounts

    first, *rest = args.words
    if first == "list" and len(rest) <= 1:
        rows = [t.to_dict() for t in accounts.list_tokens(ctx.db, *rest)]
        ctx.emit(rows, lambda: render_table(rows, TOKEN_COLUMNS) if rows else "no API tokens")
    elif first == "revoke" and len(rest) == 1 and rest[0].isdigit():
        revoked = accounts.revoke_token(ctx.db, int(rest[0]), "命令行吊销")
        ctx.emit(revoked.to_dict(), f"token {revoked.id} of {revoked.username} ({revoked.label}) revoked")
    elif first in ("list", "revoke") or rest:
        raise UsageError(TOKEN_USAGE)
    else:
        days = accounts.token_days(args.days)
        token = accounts.issue_token(ctx.db, first, args.label, days)
        if not ctx.json:
            ctx.note(f"API token for {first} ({args.label}), valid for {days} days; it is shown only this once — "
                     "store it now. Send it as the header `Authorization: Bearer <token>`.")
        ctx.emit({"username": first, "label": args.label, "days": days, "token": token}, token)
    return 0


# --- calendar -------------------------------------------------------------------------------------

DAY_COLUMNS = [("day", "date"), ("weekday", "day"), ("label", "status"), ("why", "why")]
OVERRIDE_COLUMNS = [("day", "date"), ("weekday", "day"), ("label", "set to"), ("reason", "reason"),
                    ("set_by", "set by"), ("set_at", "set at")]


def cmd_calendar_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("say what to do: `onewindow calendar show|check|add-days|set|unset|overrides …`")


def _override_row(override) -> dict[str, Any]:
    from engine.time.workdays import WEEKDAY_NAMES

    return {**override.to_dict(), "weekday": WEEKDAY_NAMES[override.day.weekday()],
            "label": "工作日" if override.working else "休息日"}


def _setter(ctx: Context, username: str | None) -> str:
    if username:
        _actor(ctx, username)  # an unknown user is refused, not recorded
    return username or "cli"


def cmd_calendar_show(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin, clock

    year_, month = args.month or (clock.local_date().year, clock.local_date().month)
    days = calendar_admin.month_view(ctx.db, year_, month)
    rows = [d.to_dict() for d in days]
    working = sum(1 for d in days if d.working)
    payload = {"month": f"{year_:04d}-{month:02d}", "working_days": working, "days_off": len(days) - working,
               "days": rows}
    ctx.emit(payload, lambda: f"{payload['month']}: {working} working day(s), {len(days) - working} day(s) off\n"
                              + render_table(rows, DAY_COLUMNS, limit=100))
    return 0


def cmd_calendar_check(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    info = calendar_admin.day_view(ctx.db, args.day)
    pairs = [("date", info.day.isoformat()), ("weekday", info.weekday), ("working day", info.working),
             ("why", info.why), ("holiday", info.holiday),
             ("statutory", "工作日" if info.statutory_working else "休息日")]
    if info.override:
        pairs += [("override by", info.override.set_by), ("override at", info.override.set_at)]
    ctx.emit(info.to_dict(), lambda: render_pairs(pairs))
    return 0


def cmd_calendar_add_days(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin
    from engine.time.workdays import WEEKDAY_NAMES

    result = calendar_admin.calendar(ctx.db).add_working_days(args.day, args.n)
    payload = {"start": args.day.isoformat(), "n": args.n, "result": result.isoformat(),
               "weekday": WEEKDAY_NAMES[result.weekday()]}
    ctx.emit(payload, f"{payload['result']} ({payload['weekday']}): working day {args.n} after {payload['start']}")
    return 0


def cmd_calendar_set(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    override = calendar_admin.set_override(ctx.db, args.day, args.working, args.reason, _setter(ctx, args.user))
    row = _override_row(override)
    ctx.emit(row, f"{row['day']} ({row['weekday']}) is now a {'working day' if override.working else 'day off'} "
                  f"(override by {override.set_by}: {override.reason})")
    return 0


def cmd_calendar_unset(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    removed = calendar_admin.remove_override(ctx.db, args.day, _setter(ctx, args.user))
    info = calendar_admin.day_view(ctx.db, args.day)
    payload = {"removed": _override_row(removed), "now": info.to_dict()}
    ctx.emit(payload, f"override of {removed.day.isoformat()} removed (it made the day "
                      f"{'working' if removed.working else 'off'}: {removed.reason}); now {info.label}: {info.why}")
    return 0


def cmd_calendar_overrides(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    rows = [_override_row(o) for o in calendar_admin.list_overrides(ctx.db, args.year)]
    ctx.emit(rows, lambda: render_table(rows, OVERRIDE_COLUMNS) if rows
             else "no overrides: the statutory calendar (holidays package) decides every day")
    return 0


# --- audit integrity ------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0: intact; 1: something is broken (each broken case printed with its first broken event)."""
    import time

    from engine.audit import integrity

    if bool(args.case_no) == bool(args.all):
        raise UsageError("give one case number, or --all (see `onewindow verify --help`)")
    if args.case_no:
        began = time.perf_counter()
        verdict = integrity.verify_case(ctx.db, args.case_no)
        payload = {**verdict.to_dict(), "seconds": round(time.perf_counter() - began, 4)}
        ctx.emit(payload, lambda: _verdict_text(payload))
        return 0 if verdict.ok else 1
    report = integrity.verify_all(ctx.db)
    ctx.emit(report.to_dict(), lambda: _report_text(report.to_dict()))
    return 0 if report.ok else 1


def _verdict_text(verdict: dict[str, Any], indent: str = "") -> str:
    if verdict["ok"]:
        return (f"{indent}case {verdict['case_no']}: intact — {verdict['events']} event(s), "
                f"{verdict['checkpoints']} checkpoint head(s) match")
    first = verdict["first_broken_event"]
    lines = [f"{indent}case {verdict['case_no']}: BROKEN"
             + (f" from event {first}" if first is not None else "") + f" — {verdict['first_problem']}"]
    rest = [p["what"] for p in verdict["problems"] + verdict["checkpoint_problems"]
            if p["what"] != verdict["first_problem"]]
    lines += [f"{indent}    {what}" for what in rest]
    if verdict["more_problems"]:
        lines.append(f"{indent}    … and {verdict['more_problems']} more problem(s)")
    return "\n".join(lines)


def _report_text(report: dict[str, Any]) -> str:
    lines = [_verdict_text(v) for v in report["broken"]]
    if report["broken_count"] > len(report["broken"]):
        lines.append(f"… and {report['broken_count'] - len(report['broken'])} more broken case(s)")
    lines += [f"checkpoints: {p['what']}" for p in report["checkpoint_problems"]]
    verdict = "all intact" if report["ok"] else (
        f"{report['broken_count']} broken case(s)"
        + (f", {len(report['checkpoint_problems'])} checkpoint problem(s)" if report["checkpoint_problems"] else ""))
    lines.append(f"verified {report['cases']:,} case(s), {report['events']:,} event(s), {report['checkpoints']:,} "
                 f"checkpoint(s) in {report['seconds']:.2f} s ({report['events_per_second']:,} events/s): {verdict}")
    latest = report["latest_checkpoint"]
    lines.append(f"latest checkpoint: {latest['id']} at {latest['at']}, hash {latest['hash']}" if latest
                 else "no checkpoint yet (onewindow checkpoint)")
    return "\n".join(lines)


def cmd_replay(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0: the recorded outcome is what the rules produce; 1: the first divergence is printed."""
    from engine.audit import replay

    report = replay.replay_case(ctx.db, args.case_no)
    ctx.emit(report.to_dict(), lambda: _replay_text(report))
    return 0 if report.identical else 1


def _replay_text(report) -> str:
    lines = [f"{s.index + 1:>3}  {s.at}  {s.actor:<12} {s.input:<16} {s.element_id or '':<20} "
             f"{'identical' if s.identical else 'DIFFERS'}" for s in report.steps]
    return "\n".join([*lines, report.summary])


def cmd_checkpoint(args: argparse.Namespace, ctx: Context) -> int:
    from engine.audit import integrity

    result = integrity.make_checkpoint(ctx.db, _setter(ctx, args.user))
    ctx.emit(result.to_dict(), result.message)
    return 0


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
    paths = reports.make(ctx.db, args.kind, day, args.dir)
    ctx.emit({"kind": args.kind, "files": [str(p) for p in paths]}, lambda: "\n".join(f"wrote {p}" for p in paths))
    return 0


def cmd_scheduler(args: argparse.Namespace, ctx: Context) -> int:
    """Foreground ticking for its own container; JSON mode prints one JSON line per busy tick."""
    import json

    from .serving import masked, run_scheduler

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
    from .serving import ServeOptions, preflight, print_banner, serve

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
    from . import benchmarks

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
