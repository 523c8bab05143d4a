"""Sessions, logins and tokens (issue 13, items 7–9).

`users.session_generation` ends every session of a user when bumped (logout, password change, disabling);
`users.disabled_at` marks a user who may no longer log in. API tokens get an expiry and can be revoked.
Tokens issued before this revision had none: they are given 90 days from the upgrade, so integrations
keep working while operators re-issue them.

Revision ID: 0012
Revises: 0011
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
EXISTING_TOKENS_VALID_FOR = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("disabled_at", TZ, nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", TZ, nullable=True))
        batch.add_column(sa.Column("revoked_at", TZ, nullable=True))
        batch.add_column(sa.Column("revoked_reason", sa.String(128), nullable=True))
    tokens = sa.table("api_tokens", sa.column("expires_at", TZ))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + EXISTING_TOKENS_VALID_FOR))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("expires_at", existing_type=TZ, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_reason")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("session_generation")
