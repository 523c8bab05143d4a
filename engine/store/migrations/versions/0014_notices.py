"""Notices are documents (issue 15, item 8): the `receipts` table holds every notice that reaches the
applicant — not only the acceptance step's three answers — under a stable English kind with its Chinese
title, and the name of the organ it was issued in. Rows written before keep their number and content;
their Chinese kinds become the English keys, and their `unit_code` (the window the case came in at) stays
what it was: it is not rewritten as an organ, since the decision's group was not recorded on them.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_KINDS = {"受理": ("acceptance", "受理通知书"), "补正": ("supplement", "补正材料通知书"),
             "不予受理": ("refusal_of_acceptance", "不予受理通知书")}


def upgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.alter_column("kind", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False)
        batch.add_column(sa.Column("title", sa.String(64), nullable=True))
        batch.add_column(sa.Column("organ_name", sa.String(128), nullable=True))
    receipts = sa.table("receipts", sa.column("kind", sa.String), sa.column("title", sa.String))
    for old, (kind, title) in OLD_KINDS.items():
        op.execute(receipts.update().where(receipts.c.kind == old).values(kind=kind, title=title))


def downgrade() -> None:
    receipts = sa.table("receipts", sa.column("kind", sa.String))
    for old, (kind, _) in OLD_KINDS.items():
        op.execute(receipts.update().where(receipts.c.kind == kind).values(kind=old))
    op.execute(receipts.delete().where(receipts.c.kind.notin_(list(OLD_KINDS))))
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("organ_name")
        batch.drop_column("title")
        batch.alter_column("kind", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False)
