"""Governed catalogue changes (S-9): deploys that change time limits or materials, and withdrawals,
each with the approved governance case that allowed it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_code", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("approval_case_no", sa.String(32), nullable=False, unique=True),
        sa.Column("version_number", sa.Integer, nullable=True),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("acted_by", sa.String(64), nullable=False),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalogue_changes")
