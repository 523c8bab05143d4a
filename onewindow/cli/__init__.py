"""`onewindow`: the operator's command line (init, serve, lint, deploy, casework, tick, bench, users, calendar,
verify, checkpoint, storage, sms).

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
import os
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from engine.errors import OnewindowError
from onewindow import __version__
from onewindow.cli import audit, calendar, cases, people, running, setup, storage
from onewindow.cli.base import Context, Parser, UsageError
from onewindow.output import print_json

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
    for group in (setup, cases, people, calendar, audit, running, storage):
        group.register(commands, common)
    return parser
