"""What the desk keeps beside the workflow: attachments (files by SHA-256 outside the database),
comments, the materials checklist, and open delegations.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from engine.store.tables.base import metadata

# The desk's operations (migration 0007). Files of attachments live outside the database, named by
# their SHA-256 (engine/desk/attachments.py); these rows say whose they are. Each row is written in the
# same transaction as the audit event that records it.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("material", String(256), nullable=True),  # the guide's material this file answers, if any
    Column("filename", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

case_comments = Table(
    "case_comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("element_id", String(256), nullable=True),  # the step the comment was written at, if any
    Column("author", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# 材料清单: per material of the item's guide, received or missing, as the clerk last marked it.
case_materials = Table(
    "case_materials",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("material", String(256), primary_key=True),
    Column("status", String(16), nullable=False),  # received | missing
    Column("marked_by", String(64), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)

# 委派: the read model of open delegations, so a delegate's desk lists them without reading workflows.
# The truth is the task's internal data (engine/desk/taskops.py); this row follows it in the same transaction.
delegations = Table(
    "delegations",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("element_id", String(256), nullable=False),
    Column("delegator", String(64), nullable=False),
    Column("delegate", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # with_delegate | proposed
    Column("reason", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
