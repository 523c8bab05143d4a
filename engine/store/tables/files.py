"""Shared storage (migration 0017): what a web replica must not keep on its own disk.

`stored_files` is the database backend of engine/store/files.py (file bytes by SHA-256); `report_files`
says which generated report is which stored file; `sms_outbox` is the outbox an SMS gateway adapter drains.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from engine.store.tables.base import metadata

stored_files = Table(
    "stored_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
)

report_files = Table(
    "report_files",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # daily | monthly
    Column("name", String(16), nullable=False),  # the period: 2026-02-25 or 2026-02
    Column("suffix", String(8), nullable=False),  # html | csv
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("made_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "name", "suffix", name="uq_report_files_period"),
)

sms_outbox = Table(
    "sms_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("phone", String(20), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True, index=True),  # set by the gateway adapter
)
