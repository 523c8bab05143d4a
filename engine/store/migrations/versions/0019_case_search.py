"""Finding people and cases (issue 16, item 7): the applicant's ID number and phone on `cases`, indexed, filled
for the cases already there from their application (the `case_started` audit event).

Revision ID: 0019
Revises: 0018 (the head when this was written: 0014 → 0017 → 0016 → 0015 → 0018)
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
PHONE = re.compile(r"^[0-9]{5,16}$")


def upgrade() -> None:
    op.add_column("cases", sa.Column("applicant_id_number", sa.String(18), nullable=True))
    op.add_column("cases", sa.Column("applicant_phone", sa.String(16), nullable=True))
    op.create_index("ix_cases_applicant_id_number", "cases", ["applicant_id_number"])
    op.create_index("ix_cases_applicant_phone", "cases", ["applicant_phone"])
    conn = op.get_bind()
    events = sa.table("audit_events", sa.column("case_id", sa.Integer), sa.column("type", sa.String),
                      sa.column("data", sa.JSON))
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("applicant_id_number", sa.String),
                     sa.column("applicant_phone", sa.String))
    for case_id, data in conn.execute(sa.select(events.c.case_id, events.c.data)
                                      .where(events.c.type == "case_started")):
        id_number, phone = _person(data or {})
        if id_number or phone:
            conn.execute(sa.update(cases).where(cases.c.id == case_id)
                         .values(applicant_id_number=id_number, applicant_phone=phone))


def _person(event: dict) -> tuple[str | None, str | None]:
    """The same reading as `casework.applicant_contact`, frozen here as the migration's own copy."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    mandate = event.get("mandate") if isinstance(event.get("mandate"), dict) else {}
    number = str(data.get("id_number") or mandate.get("principal_id_number") or "").strip().upper()
    phone = str(data.get("phone") or "").strip()
    return (number if ID_NUMBER.match(number) else None), (phone if PHONE.match(phone) else None)


def downgrade() -> None:
    op.drop_index("ix_cases_applicant_phone", table_name="cases")
    op.drop_index("ix_cases_applicant_id_number", table_name="cases")
    op.drop_column("cases", "applicant_phone")
    op.drop_column("cases", "applicant_id_number")
