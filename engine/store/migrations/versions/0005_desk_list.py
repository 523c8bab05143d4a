"""The desk's task list reads the task index only: each open task carries the case facts the list
filters and sorts by (case number, item, applicant, status, warning level, deadline).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
TASK_COLUMNS = [
    sa.Column("case_no", sa.String(32), nullable=True),
    sa.Column("item_code", sa.String(64), nullable=True),
    sa.Column("item_name", sa.String(256), nullable=True),
    sa.Column("applicant_name", sa.String(128), nullable=True),
    sa.Column("case_status", sa.String(32), nullable=True),
    sa.Column("warning_level", sa.String(16), nullable=True),
    sa.Column("case_deadline", TZ, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("applicant_name", sa.String(128), nullable=True))
    with op.batch_alter_table("task_index") as batch:
        for column in TASK_COLUMNS:
            batch.add_column(column)
        batch.create_index("ix_task_index_group_created", ["candidate_group", "created_at"])
        batch.create_index("ix_task_index_group_deadline", ["candidate_group", "case_deadline"])
        for column in ("warning_level", "case_status", "item_code"):  # the desk's filters, in page order
            batch.create_index(f"ix_task_index_group_{column}", ["candidate_group", column, "created_at"])
        batch.create_index("ix_task_index_case_no", ["case_no"])
    # Rows written before this revision: fill the copies from their cases.
    op.execute("""
        UPDATE task_index SET
          case_no = (SELECT c.case_no FROM cases c WHERE c.id = task_index.case_id),
          case_status = (SELECT c.status FROM cases c WHERE c.id = task_index.case_id),
          warning_level = (SELECT c.warning_level FROM cases c WHERE c.id = task_index.case_id),
          case_deadline = (SELECT c.committed_deadline FROM cases c WHERE c.id = task_index.case_id),
          item_code = (SELECT i.code FROM cases c JOIN items i ON i.id = c.item_id WHERE c.id = task_index.case_id),
          item_name = (SELECT i.name FROM cases c JOIN items i ON i.id = c.item_id WHERE c.id = task_index.case_id)
    """)


def downgrade() -> None:
    with op.batch_alter_table("task_index") as batch:
        for name in ("ix_task_index_group_item_code", "ix_task_index_group_case_status",
                     "ix_task_index_group_warning_level", "ix_task_index_case_no", "ix_task_index_group_deadline",
                     "ix_task_index_group_created"):
            batch.drop_index(name)
        for column in reversed(TASK_COLUMNS):
            batch.drop_column(column.name)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("applicant_name")
