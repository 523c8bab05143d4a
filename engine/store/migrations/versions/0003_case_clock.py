"""The working-day case clock, warnings, step deadlines and notifications (催办).

Clock columns live on the case row (already loaded and written by every change, so keeping the
clock costs no extra statement); paused intervals and warnings are rows of their own; the task
index gets each step's own deadline.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)

CASE_COLUMNS = [
    sa.Column("clock_started_at", TZ, nullable=True),
    sa.Column("clock_stopped_at", TZ, nullable=True),
    sa.Column("committed_days", sa.Integer, nullable=True),
    sa.Column("statutory_days", sa.Integer, nullable=True),
    sa.Column("warning_days", sa.Integer, nullable=True),
    sa.Column("extension_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("paused_since", TZ, nullable=True),
    sa.Column("committed_deadline", TZ, nullable=True),
    sa.Column("statutory_deadline", TZ, nullable=True),
    sa.Column("warning_level", sa.String(16), nullable=False, server_default="none"),
    sa.Column("next_check_at", TZ, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for column in CASE_COLUMNS:
            batch.add_column(column)
        batch.create_index("ix_cases_next_check_at", ["next_check_at"])
    with op.batch_alter_table("task_index") as batch:
        batch.add_column(sa.Column("due_at", TZ, nullable=True))
        batch.create_index("ix_task_index_due_at", ["due_at"])
    op.create_table(
        "clock_pauses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("element_id", sa.String(256), nullable=True),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("working_days", sa.Integer, nullable=True),
    )
    op.create_table(
        "case_warnings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("element_id", sa.String(256), nullable=True),
        sa.Column("task_id", sa.String(36), nullable=False, server_default=""),
        sa.Column("due_at", TZ, nullable=True),
        sa.Column("raised_at", TZ, nullable=False, index=True),
        sa.Column("notified", sa.JSON, nullable=False),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.UniqueConstraint("case_id", "kind", "level", "task_id"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("recipient", sa.String(160), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("element_id", sa.String(256), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("read_at", TZ, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("case_warnings")
    op.drop_table("clock_pauses")
    with op.batch_alter_table("task_index") as batch:
        batch.drop_index("ix_task_index_due_at")
        batch.drop_column("due_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_next_check_at")
        for column in reversed(CASE_COLUMNS):
            batch.drop_column(column.name)
