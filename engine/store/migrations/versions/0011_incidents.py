"""Incidents: a case that cannot move is recorded, shown and retried, and the other cases go on.

`cases.stalled_since` is set by the save of a change that leaves a case unfinished with no open task, no
waiting timer and no pending message (indexed: the scheduler finds such cases without scanning the others);
`cases.held_until` keeps the scheduler off a case whose last attempts failed until its back-off has passed,
or until an operator retries it. Cases left stalled by the versions before this one (the joint review
that never collated after a restart) are marked here, from the read model, so they surface at once.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("stalled_since", TZ, nullable=True))
        batch.add_column(sa.Column("held_until", TZ, nullable=True))
        batch.create_index("ix_cases_stalled_since", ["stalled_since"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("element_id", sa.String(256), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_at", TZ, nullable=False),
        sa.Column("last_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_retry_at", TZ, nullable=True),
        sa.Column("resolved_at", TZ, nullable=True, index=True),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
    )
    op.execute(
        "UPDATE cases SET stalled_since = updated_at WHERE closed_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM task_index WHERE task_index.case_id = cases.id)"
        " AND NOT EXISTS (SELECT 1 FROM timer_index WHERE timer_index.case_id = cases.id)")


def downgrade() -> None:
    op.drop_table("incidents")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_stalled_since")
        batch.drop_column("held_until")
        batch.drop_column("stalled_since")
