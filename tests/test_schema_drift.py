"""The tables the code declares (engine/store/tables) are the tables the migrations make.

The application's database is made by Alembic (`onewindow init`), the replay's scratch database by
`metadata.create_all`: a column added to one and not the other (a new table column with no migration,
as `notifications.said` could have been) works in one and fails in the other. Alembic compares them.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table

from engine.store.tables import metadata

# Made by migration 0020 and declared nowhere, on purpose: SQLite's full-text index of applicant names is a virtual
# table (FTS5) with its shadow tables, which SQLAlchemy cannot declare.
UNDECLARED = ("case_names",)


def _differences(db, declared: MetaData) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        return [d for d in compare_metadata(context, declared)
                if not (isinstance(d, tuple) and d[0] == "remove_table"
                        and (d[1].name == "alembic_version" or d[1].name.startswith(UNDECLARED)))]


def test_the_migrated_database_has_every_declared_table_and_column(db):
    differences = _differences(db, metadata)
    added = [d for d in differences if isinstance(d, tuple) and d[0] in ("add_table", "add_column", "remove_column",
                                                                          "remove_table")]
    assert added == [], "write an Alembic migration for: " + repr(added)


def test_the_comparison_sees_a_column_without_a_migration(db):
    declared = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(declared)
    Table("notifications", declared, Column("unmigrated", Integer), extend_existing=True)
    differences = _differences(db, declared)
    assert any(isinstance(d, tuple) and d[0] == "add_column" and d[3].name == "unmigrated" for d in differences)
