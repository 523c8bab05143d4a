"""Audit integrity: append-only triggers, chained checkpoints of case heads, auditors' view log.

- `audit_events` becomes append-only in the database itself: a trigger rejects every UPDATE and
  DELETE (SQLite: `RAISE(ABORT, …)`; PostgreSQL: a plpgsql function raising an exception). Row
  triggers do not fire on TRUNCATE (the test suite empties its tables that way between tests).
- `audit_checkpoints` + `audit_checkpoint_heads`: a chain of checkpoints, each recording the head
  (seq, hash) of every case chain that moved since the previous one (engine/audit/checkpoints.py).
- `audit_views`: who looked at what, when (the auditor's pages log every view of a case).
All four tables get the same triggers.

The trigger SQL is written out here, not imported, so that this migration stays what it was when
it ran; `engine.audit.triggers` holds the same statements for tests and scratch databases.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
APPEND_ONLY = ("audit_events", "audit_checkpoints", "audit_checkpoint_heads", "audit_views")
PG_FUNCTION = "onewindow_append_only"


def _sqlite_triggers(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_} is not allowed (S-14)'); END"
            for op_ in ("UPDATE", "DELETE")]


PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed (S-14)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _pg_trigger(table: str) -> str:
    return (f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()")


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("case_count", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_checkpoint_heads",
        sa.Column("checkpoint_id", sa.Integer, sa.ForeignKey("audit_checkpoints.id"), primary_key=True),
        sa.Column("case_no", sa.String(32), primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_checkpoint_heads_case", "audit_checkpoint_heads", ["case_id", "seq"])
    op.create_table(
        "audit_views",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("case_no", sa.String(32), nullable=True),
        sa.Column("what", sa.String(512), nullable=False),
    )
    op.create_index("ix_audit_views_case_no", "audit_views", ["case_no"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_SQL)
        for table in APPEND_ONLY:
            op.execute(_pg_trigger(table))
    else:
        for table in APPEND_ONLY:
            for statement in _sqlite_triggers(table):
                op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
    op.drop_table("audit_views")
    op.drop_table("audit_checkpoint_heads")
    op.drop_table("audit_checkpoints")
