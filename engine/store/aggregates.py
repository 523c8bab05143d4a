"""Aggregates SQLAlchemy does not name portably: a list of values gathered into one column as a JSON array.

A person's groups come with the person in one statement (`engine.org.accounts`: every request rebuilds its
actor, and a second statement was a round trip of its own on PostgreSQL). Joining the codes with a separator
would break on a code that holds it; a JSON array holds any text. PostgreSQL says `json_agg`, SQLite
`json_group_array`; both give NULL or [] for no rows, which `json_list` callers read as empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class json_list(FunctionElement):  # named like the SQL functions it stands for
    """`json_list(column)`: the column's values over the group's rows, as one JSON array."""

    type = JSON()
    inherit_cache = True


@compiles(json_list, "postgresql")
def _postgresql(element: json_list, compiler: Any, **kw: Any) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


@compiles(json_list, "sqlite")
def _sqlite(element: json_list, compiler: Any, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"
