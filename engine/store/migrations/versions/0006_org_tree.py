"""The org tree and where a case was accepted: units (district departments, towns, villages), the
accepting unit and agency mandate on each case, and the dated receipts of acceptance decisions; the
applicant's side of the hall: each case's follow-up code (stored hashed), the look-ups tried with it
(rate limiting), and the one-time codes that prove an applicant's phone number.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "org_units",
        sa.Column("code", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_code", sa.String(128), nullable=True),
        sa.Column("functions", sa.JSON, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(128), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("unit_code", sa.String(128), nullable=True))
        batch.add_column(sa.Column("mandate", sa.JSON, nullable=True))
        batch.add_column(sa.Column("query_code_hash", sa.String(64), nullable=True))
        batch.create_index("ix_cases_unit_code", ["unit_code"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("receipt_no", sa.String(40), nullable=False, unique=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("element_id", sa.String(128), nullable=True),
        sa.Column("unit_code", sa.String(128), nullable=True),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
    )
    op.create_table(
        "follow_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("case_no", sa.String(32), nullable=False, index=True),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("verification_codes")
    op.drop_table("follow_attempts")
    op.drop_table("receipts")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_unit_code")
        batch.drop_column("query_code_hash")
        batch.drop_column("mandate")
        batch.drop_column("unit_code")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit_code")
    op.drop_table("org_units")
