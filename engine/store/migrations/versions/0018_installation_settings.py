"""The installation's own settings (issue 16, item 2): one JSON value per key — `demo` is set by
`onewindow init --demo`, so a demo installation can say where its SMS codes go (the outbox).

Revision ID: 0018
Revises: 0015 (the head when this was written: 0014 → 0017 → 0016 → 0015)
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installation_settings")
