"""The first layer of the audit trail's integrity: append-only tables (S-14).

Triggers (migration 0004) reject every UPDATE and DELETE on the audit tables; these functions name them,
and take them away and put them back for the tests that prove the verifier finds what they would stop.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_checkpoint_heads", "audit_views")


# --- the append-only triggers ---------------------------------------------------------------------
# The same statements as migration 0004 (which keeps its own copy, frozen): for tests that tamper on
# purpose, and for benchmarks that build scratch databases by raw SQL.


def _trigger_sql(dialect: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements of the append-only triggers for `dialect`."""
    create: list[str] = []
    drop: list[str] = []
    if dialect == "postgresql":
        create.append(
            "CREATE OR REPLACE FUNCTION onewindow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "    RAISE EXCEPTION '% is append-only: % is not allowed (S-14)', TG_TABLE_NAME, TG_OP\n"
            "        USING ERRCODE = 'insufficient_privilege';\n"
            "END\n$$")
        for table in APPEND_ONLY_TABLES:
            create.append(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                          "FOR EACH ROW EXECUTE FUNCTION onewindow_append_only()")
            drop.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        return create, drop
    for table in APPEND_ONLY_TABLES:
        for op in ("UPDATE", "DELETE"):
            create.append(f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                          f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} is not allowed (S-14)'); END")
            drop.append(f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}")
    return create, drop


def drop_append_only_triggers(conn: Connection) -> None:
    """Remove the triggers — for tests that tamper on purpose and scratch databases only."""
    for statement in _trigger_sql(conn.dialect.name)[1]:
        conn.execute(text(statement))


def create_append_only_triggers(conn: Connection) -> None:
    """Put the triggers (back); the inverse of `drop_append_only_triggers`."""
    for statement in _trigger_sql(conn.dialect.name)[0]:
        conn.execute(text(statement))


def append_only_triggers(conn: Connection) -> list[str]:
    """The names of the append-only triggers present in the database (to check an installation)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                 "WHERE NOT t.tgisinternal AND c.relname = ANY(:tables) "
                                 "AND pg_table_is_visible(c.oid)"), {"tables": list(APPEND_ONLY_TABLES)})
    else:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return sorted(name for (name,) in rows if name.startswith(APPEND_ONLY_TABLES))
