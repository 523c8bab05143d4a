"""Warnings reach people, and a supplement's wait ends (issue 15, items 2 and 9).

`notification_reads`: per-person read marks of a notification addressed to a group, a chief or a role
(engine/desk/inbox.py). `supplement_waits`: the wait for a 补正, with the moments the scheduler reminds the
applicant and treats the application as withdrawn (engine/runtime/supplement.py).

Revision ID: 0016
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_reads",
        sa.Column("notification_id", sa.Integer, sa.ForeignKey("notifications.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("read_at", TZ, nullable=False),
    )
    op.create_table(
        "supplement_waits",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("notice_no", sa.String(40), nullable=False),
        sa.Column("asked_at", TZ, nullable=False),
        sa.Column("remind_at", TZ, nullable=False, index=True),
        sa.Column("lapse_at", TZ, nullable=False, index=True),
        sa.Column("reminded_at", TZ, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("supplement_waits")
    op.drop_table("notification_reads")
