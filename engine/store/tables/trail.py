"""The audit trail: events chained by hash per case, and the append-only checkpoint and view tables
(triggers reject every UPDATE and DELETE; migration 0004).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from engine.store.tables.base import metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("type", String(64), nullable=False),
    Column("element_id", String(256), nullable=True),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("case_id", "seq"),
)

# Integrity of the audit trail (engine/audit/, migration 0004). Like `audit_events`, these three
# tables are append-only in the database itself: triggers reject every UPDATE and DELETE.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    # A chained record of the head of every case chain that moved since the previous checkpoint:
    # hash = sha256 over the previous checkpoint's hash, this one's header and its heads (engine/audit/checkpoints.py).
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),  # unique: the chain cannot fork
    Column("hash", String(64), nullable=False, unique=True),
    Column("case_count", Integer, nullable=False),
    Column("created_by", String(64), nullable=False),
)

audit_checkpoint_heads = Table(
    "audit_checkpoint_heads",
    metadata,
    Column("checkpoint_id", Integer, ForeignKey("audit_checkpoints.id"), primary_key=True),
    # No foreign key to `cases`: a checkpoint must outlive the case it vouches for, so that deleting
    # a whole case is detected.
    Column("case_no", String(32), primary_key=True),
    Column("case_id", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("head", String(64), nullable=False),
    Index("ix_audit_checkpoint_heads_case", "case_id", "seq"),
)

audit_views = Table(
    "audit_views",
    metadata,
    # Who looked at what, when: every auditor's view of a case (dossier, verification), and searches.
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),
    Column("case_no", String(32), nullable=True, index=True),
    Column("what", String(512), nullable=False),
)
