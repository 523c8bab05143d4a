"""The one `MetaData` every table of the platform belongs to (Alembic compares the migrations with it), and what
the database puts in the columns an INSERT leaves out."""

from typing import Any

from sqlalchemy import Column, DefaultClause, MetaData, Table

metadata = MetaData()


def server_defaults(table: Table) -> dict[str, Any]:
    """Each column's value when an INSERT leaves it out: its server default, typed, or None — for code that
    needs a row before writing it (a new case, `engine.desk.casework.new_case_row`). Only plain int and str
    defaults are read; any other kind is refused here, at import, rather than guessed."""
    return {column.name: _server_value(table, column) for column in table.c}


def _server_value(table: Table, column: Column) -> Any:
    default = column.server_default
    if default is None:
        return None
    kind = column.type.python_type
    if not isinstance(default, DefaultClause) or not isinstance(default.arg, str) or kind not in (int, str):
        raise TypeError(f"{table.name}.{column.name}: server_defaults reads plain int and str defaults only")
    return kind(default.arg)
