"""A personal message keeps its template and values (issue 16, item 11): the sentence is written when it is
sent, but read later by someone whose language is known only then, so the inbox says it again from
`said` (engine.messages.kept) in the reader's language. Rows sent before this have none and are shown as
they were written.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("said", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("said")
