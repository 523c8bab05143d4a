"""Printing results: JSON for scripts, aligned tables for people.

Tables are aligned by display columns, not characters: a Chinese character (East Asian width W or
F) takes two columns in a terminal, so padding by `len()` would leave every row with a 受理窗口 in
it ragged. JSON keeps Chinese readable (`ensure_ascii=False`) and writes times as ISO 8601.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

MAX_CELL = 60
EMPTY = "-"
_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def jsonable(value: Any) -> Any:
    """`json.dumps` default: dates as ISO text, dataclasses and `to_dict()` objects as objects."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=jsonable)


def print_json(value: Any, stream: TextIO | None = None) -> None:
    print(dumps(value), file=stream or sys.stdout)


def char_width(char: str) -> int:
    """Terminal columns of one character: 2 for wide/fullwidth, 0 for combining marks, else 1."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """Cut `text` to at most `width` columns, marking the cut with an ellipsis."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table_time(value: datetime | str) -> str:
    """A time for a table: to the second, in this machine's zone with its offset (JSON keeps full ISO)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def cell(value: Any, limit: int = MAX_CELL) -> str:
    """One value as a single-line table cell."""
    if value is None or value == "":
        text = EMPTY
    elif isinstance(value, datetime) or (isinstance(value, str) and _ISO_TIME.match(value)):
        text = table_time(value)
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list | tuple | set | frozenset):
        text = ", ".join(str(v) for v in value) or EMPTY
    elif isinstance(value, Mapping):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=jsonable) if value else EMPTY
    else:
        text = str(value)
    text = " ".join(text.split()) if ("\n" in text or "\t" in text) else text
    return truncate(text, limit)


Column = tuple[str, str]  # (key in each row, header)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], limit: int = MAX_CELL) -> str:
    """Rows of dicts as an aligned table with a header line and a rule under it."""
    headers = [header for _, header in columns]
    body = [[cell(row.get(key), limit) for key, _ in columns] for row in rows]
    widths = [max(display_width(text) for text in [header, *(line[i] for line in body)])
              for i, header in enumerate(headers)]
    lines = [_line(headers, widths), "  ".join("-" * w for w in widths)]
    lines += [_line(line, widths) for line in body]
    return "\n".join(lines)


def _line(cells: Iterable[str], widths: Sequence[int]) -> str:
    return "  ".join(pad(text, width) for text, width in zip(cells, widths, strict=True)).rstrip()


def render_pairs(pairs: Sequence[tuple[str, Any]]) -> str:
    """`label  value` lines with the labels aligned, for one record (a case, a tick)."""
    width = max((display_width(label) for label, _ in pairs), default=0)
    return "\n".join(f"{pad(label, width)}  {cell(value, 200)}" for label, value in pairs)
