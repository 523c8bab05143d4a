"""Reading what an operator types: `--data` JSON (inline or `@file.json`), `--now` times, dates.

These are argparse `type=` functions, so bad input becomes a one-line usage error with exit
status 2 that says how to write it correctly, before any database is touched.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine.time.clock import as_utc

DATA_EXAMPLE = """'{"applicant_name": "张三"}' or @data.json"""


def json_object(text: str) -> dict[str, Any]:
    """`--data`: a JSON object given inline, or `@path` to a file holding one (`@-` reads stdin)."""
    source = "the text"
    if text.startswith("@"):
        source, text = text[1:], _read_data_file(text[1:])
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"{source} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            f"give a JSON object such as {DATA_EXAMPLE}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f"{source} must be a JSON object ({{...}}), not {type(value).__name__}; e.g. {DATA_EXAMPLE}")
    return value


def _read_data_file(name: str) -> str:
    if name == "-":
        import sys

        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise argparse.ArgumentTypeError(f"no such file {name}; write --data @path/to/data.json") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {name} as UTF-8 text: {exc}") from exc


def iso_time(text: str) -> datetime:
    """`--now`: an ISO 8601 date or time; without an offset it is taken as UTC (the engine's clock)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an ISO 8601 time; write e.g. 2025-03-01T09:00:00+08:00 "
            "(no offset means UTC)") from exc
    return as_utc(moment)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds between 0 and 86400")
    return value


def iso_date(text: str) -> date:
    """A calendar date, `YYYY-MM-DD` (a local date: working days are counted on the district's dates)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write YYYY-MM-DD, e.g. 2026-02-14") from exc


def year_month(text: str) -> tuple[int, int]:
    """A month, `YYYY-MM` (e.g. 2026-02)."""
    try:
        first = date.fromisoformat(f"{text.strip()}-01")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month; write YYYY-MM, e.g. 2026-02") from exc
    return first.year, first.month


def year(text: str) -> int:
    if not (text.strip().isdigit() and 1 <= int(text) <= 9998):
        raise argparse.ArgumentTypeError(f"'{text}' is not a year; write e.g. 2026")
    return int(text)


def day_count(text: str) -> int:
    """A number of working days: a whole number, 0 or more."""
    if not text.strip().isdigit() or int(text) > 100_000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of days; write a whole number from 0, e.g. 20")
    return int(text)
