"""Cells bound for a spreadsheet (CSV or XLSX exports): text must stay text.

A spreadsheet program runs a cell starting with = + - @ (or a tab, CR or NUL, per OWASP and ASVS) as a
formula, and openpyxl stores such a string as one; so a department, a person's or an applicant's name
could become `=HYPERLINK(...)` on a supervisor's machine. Text gets a leading apostrophe, which the
spreadsheet reads as "this is text". Numbers, dates and empty cells pass unchanged: a negative count
is a number to sum, not a formula.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from numbers import Number
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value: Any) -> Any:
    """`value` as a cell no spreadsheet runs: text starting like a formula gets a leading apostrophe."""
    if value is None or isinstance(value, Number | date):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A whole row through `safe_cell`, for `csv.writer.writerow` and openpyxl's `append` alike."""
    return [safe_cell(value) for value in values]
