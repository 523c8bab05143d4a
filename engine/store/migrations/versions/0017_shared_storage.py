"""Web replicas are stateless (issue 19): file bytes in the database when it is the store
(`stored_files`), the generated reports as rows naming stored files (`report_files`), and the SMS outbox
as a table a gateway adapter drains (`sms_outbox`) instead of a file on one machine.

Files already kept in a folder stay where they are; `onewindow storage migrate --to database` (or
`--to s3`) moves them, resumably. Report files written before this version are not imported: the
scheduler writes the missing ones again (`onewindow report` rewrites any by hand).

Revision ID: 0017
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("stored_at", TZ, nullable=False),
    )
    op.create_table(
        "report_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("suffix", sa.String(8), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("made_at", TZ, nullable=False),
        sa.UniqueConstraint("kind", "name", "suffix", name="uq_report_files_period"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("queued_at", TZ, nullable=False),
        sa.Column("sent_at", TZ, nullable=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("sms_outbox")
    op.drop_table("report_files")
    op.drop_table("stored_files")
