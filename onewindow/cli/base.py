"""What every command shares: the parser, the context (output and database), the options and the acting user."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from engine.store.db import Database
from onewindow.inputs import json_object
from onewindow.output import print_json

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


def _command(commands, common, name: str, handler: Handler, help_text: str) -> Parser:
    sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    return sub


def _data_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--data", type=json_object, default={}, metavar="JSON",
                     help="form data: a JSON object, or @file.json (@- reads stdin)")


def _as_option(sub: argparse.ArgumentParser, required: bool) -> None:
    sub.add_argument("--as", dest="user", required=required, metavar="USER", help="act as this user")


def _actor(ctx: Context, username: str):
    from engine.org import accounts

    return accounts.actor_for(ctx.db, username)


def _setter(ctx: Context, username: str | None) -> str:
    if username:
        _actor(ctx, username)  # an unknown user is refused, not recorded
    return username or "cli"
