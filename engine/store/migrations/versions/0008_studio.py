"""The studio's drafts: an analyst's working copy of an item (diagram, forms, item.json) before it is deployed.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "studio_drafts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("base_version", sa.Integer, nullable=True),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("item_code", "author", name="uq_studio_drafts_item_author"),
    )


def downgrade() -> None:
    op.drop_table("studio_drafts")
