"""Guessing limits that hold under concurrency (issue 13, item 4).

`attempt_counters` holds one row per limited key (a client, a case and client, a phone number…) with the
attempts counted in its current window; engine/org/ratelimit.py moves it by one upsert per attempt.
`follow_attempts` logged every look-up and was counted by a read before the write, which parallel guesses
all passed; its rows are only a rate-limit log, so it goes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attempt_counters",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("window_start", TZ, nullable=False),
    )
    op.drop_table("follow_attempts")


def downgrade() -> None:
    op.create_table(
        "follow_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("case_no", sa.String(32), nullable=False, index=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.drop_table("attempt_counters")
