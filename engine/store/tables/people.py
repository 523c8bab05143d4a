"""People and places: users, the org tree's units, groups and memberships, API tokens, and the
counters and codes that prove a person or throttle a guess.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
)

from engine.store.tables.base import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("unit_code", String(128), nullable=True),  # the org unit the user works in (a window's unit)
    # Sessions (migration 0012, engine/org/accounts.py): a session carries the generation it was opened in, so
    # bumping it (logout, password change, disabling) ends every session of the user at once.
    Column("session_generation", Integer, nullable=False, server_default="0"),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
)

# The org tree (S-1, S-3): district departments' windows, town centres, village rooms. A unit's code
# is its path ("梁子镇/红星村"); its groups are "<code>·<function>" (see engine/org/orgtree.py).
org_units = Table(
    "org_units",
    metadata,
    Column("code", String(128), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent_code", String(128), nullable=True),
    Column("functions", JSON, nullable=False),
    Column("position", Integer, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(128), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(128), nullable=True),  # who revoked it, or why (密码已更改, 用户已停用)
)

# Attempts per key ("follow-client:<address>", "sms-phone:<number>", …) in the key's current window
# (engine/org/ratelimit.py, migration 0013): each attempt is counted by one upsert before it is answered.
attempt_counters = Table(
    "attempt_counters",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("tries", Integer, nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
)

# One-time codes proving an applicant holds a phone number (registration, password reset).
verification_codes = Table(
    "verification_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("phone", String(20), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)
