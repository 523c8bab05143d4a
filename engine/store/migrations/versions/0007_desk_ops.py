"""The desk's task operations: attachments (files outside the database, hash here), comments, the
materials checklist per case, and the read model of open delegations (委派).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _case_id() -> sa.Column:
    return sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        _case_id(),
        sa.Column("material", sa.String(256), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", TZ, nullable=False),
    )
    op.create_table(
        "case_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        _case_id(),
        sa.Column("element_id", sa.String(256), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "case_materials",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("material", sa.String(256), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.Column("marked_at", TZ, nullable=False),
    )
    op.create_table(
        "delegations",
        sa.Column("task_id", sa.String(36), primary_key=True),
        _case_id(),
        sa.Column("element_id", sa.String(256), nullable=False),
        sa.Column("delegator", sa.String(64), nullable=False),
        sa.Column("delegate", sa.String(64), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for name in ("delegations", "case_materials", "case_comments", "attachments"):
        op.drop_table(name)
