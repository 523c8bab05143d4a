"""The law's limits around the case clock (issue 15, items 1, 5, 6, 10): art 32's acceptance limit and the
deemed acceptance on the case row, the supervisor's chase deadline (督办限期), and the warning levels as
practice names them — reminder (提醒, not a card), yellow (黄牌: overdue), red (红牌: overdue after the chase
deadline), statutory.

Rows written before keep their meaning under the new names: the old `yellow` (a warning before the deadline)
is a `reminder`; the old `red` of a committed or step limit (the deadline passed) is a `yellow` card; the
old `red` of the statutory limit is `statutory`. No old row was a red card in the new sense: there was no
chase deadline. Cases opened before have no acceptance limit (it is set when a case starts).

Revision ID: 0015
Revises: 0016 (the head when this was written: 0014 → 0017 → 0016 → 0015)
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ("acceptance_due_at", "deemed_accepted_at", "chase_due_at")


def _renames(upgrade: bool) -> list[tuple[str, str, str | None]]:
    """(table level from, to, only for this kind) in the order that never merges two meanings."""
    forward = [("yellow", "reminder", None), ("red", "yellow", "committed"), ("red", "yellow", "step"),
               ("red", "statutory", "statutory")]
    if upgrade:
        return forward
    return [(new, old, kind) for old, new, kind in reversed(forward)]


def _relevel(upgrade: bool) -> None:
    warnings = sa.table("case_warnings", sa.column("level", sa.String), sa.column("kind", sa.String))
    for old, new, kind in _renames(upgrade):
        query = warnings.update().where(warnings.c.level == old)
        op.execute((query.where(warnings.c.kind == kind) if kind else query).values(level=new))
    cases = sa.table("cases", sa.column("warning_level", sa.String))
    order = [("yellow", "reminder"), ("red", "yellow")] if upgrade else [("yellow", "red"), ("reminder", "yellow")]
    for old, new in order:
        op.execute(cases.update().where(cases.c.warning_level == old).values(warning_level=new))


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    _relevel(True)


def downgrade() -> None:
    _relevel(False)
    with op.batch_alter_table("cases") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
