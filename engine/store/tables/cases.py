"""Items, their immutable versions and cases: the write model (`cases.state`, guarded by
`cases.lock_version`) and the read model rewritten in the same transaction (task and timer indexes),
the case clock's rows, incidents, notifications and notices (table `receipts`).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.dialects import postgresql

from engine.store.tables.base import metadata

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("department", String(128), nullable=False),
    Column("handling_mode", String(32), nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("guide", JSON, nullable=False),
)

process_versions = Table(
    "process_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("process_id", String(256), nullable=False),
    Column("files", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("lint_report", JSON, nullable=False),
    Column("deployed_by", String(64), nullable=False),
    Column("deployed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_id", "number"),
    UniqueConstraint("item_id", "content_hash"),
)

def latest_versions(*columns):
    """SELECT `columns` FROM items joined to each item's latest version: what the hall, intake, the
    procedure view and governance read of an item as it runs now."""
    return select(*columns).select_from(items).join(
        process_versions, (process_versions.c.item_id == items.c.id)
        & (process_versions.c.number == items.c.latest_version))

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_no", String(32), nullable=False, unique=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("version_id", Integer, ForeignKey("process_versions.id"), nullable=False),
    Column("applicant_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("status", String(32), nullable=False, index=True),
    Column("state", Text, nullable=False),
    Column("serializer_version", String(16), nullable=False),
    Column("lock_version", Integer, nullable=False),
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("applicant_name", String(128), nullable=True),
    # The applicant's name as single characters and pairs, for finding a part of it (`indexes.name_grams`; on
    # PostgreSQL an array, GIN-indexed; on SQLite space-separated text, indexed by the FTS5 table `case_names`).
    Column("applicant_grams", Text().with_variant(postgresql.ARRAY(String(8)), "postgresql"), nullable=True),
    # Who the case is for, as the application recorded it, for finding people (engine/reads/casesearch.py):
    # the ID number (the applicant's, or the mandate principal's) and the phone.
    Column("applicant_id_number", String(18), nullable=True, index=True),
    Column("applicant_phone", String(16), nullable=True, index=True),
    # The working-day clock (engine/runtime/caseclock.py): started at acceptance, paused by marked steps.
    Column("clock_started_at", DateTime(timezone=True), nullable=True),
    Column("clock_stopped_at", DateTime(timezone=True), nullable=True),
    Column("committed_days", Integer, nullable=True),
    Column("statutory_days", Integer, nullable=True),
    Column("warning_days", Integer, nullable=True),
    Column("extension_days", Integer, nullable=False, server_default="0"),
    Column("paused_days", Integer, nullable=False, server_default="0"),
    Column("paused_since", DateTime(timezone=True), nullable=True),
    Column("committed_deadline", DateTime(timezone=True), nullable=True),
    Column("statutory_deadline", DateTime(timezone=True), nullable=True),
    Column("warning_level", String(16), nullable=False, server_default="none"),
    Column("next_check_at", DateTime(timezone=True), nullable=True, index=True),
    # The law's limits around the clock (engine/runtime/lawlimits.py): art 32's acceptance limit while it is
    # watched, the moment the case was deemed accepted, and the supervisor's chase deadline (督办限期).
    Column("acceptance_due_at", DateTime(timezone=True), nullable=True),
    Column("deemed_accepted_at", DateTime(timezone=True), nullable=True),
    Column("chase_due_at", DateTime(timezone=True), nullable=True),
    # Where the case was accepted (an org unit code) and, for full agency, the applicant's mandate.
    Column("unit_code", String(128), nullable=True, index=True),
    Column("mandate", JSON, nullable=True),
    Column("query_code_hash", String(64), nullable=True),  # the applicant's follow-up code (查询码), hashed
    # Incidents (engine/runtime/incidents.py): since when the case is open with nothing to wait for, and until when
    # the scheduler leaves it alone after failed attempts.
    Column("stalled_since", DateTime(timezone=True), nullable=True, index=True),
    Column("held_until", DateTime(timezone=True), nullable=True),
)

task_index = Table(
    "task_index",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("element_id", String(256), nullable=False),
    Column("name", String(256), nullable=False),
    Column("lane", String(128), nullable=True),
    Column("candidate_group", String(128), nullable=True),  # indexed first in the list's indexes below
    Column("assignee", String(64), nullable=True),
    Column("form", String(256), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True, index=True),
    # Copies of the case facts the desk filters and sorts by, so its list reads this table alone.
    Column("case_no", String(32), nullable=True, index=True),
    Column("item_code", String(64), nullable=True),
    Column("item_name", String(256), nullable=True),
    Column("applicant_name", String(128), nullable=True),
    Column("case_status", String(32), nullable=True),
    Column("warning_level", String(16), nullable=True),
    Column("case_deadline", DateTime(timezone=True), nullable=True),
    # Every order of the desk's list, each ending in the task id, so a page and the keyset pages after it are
    # read from an index without sorting.
    Index("ix_task_index_group_created", "candidate_group", "created_at", "task_id"),
    Index("ix_task_index_group_deadline", "candidate_group", "case_deadline", "task_id"),
    Index("ix_task_index_group_warning_level", "candidate_group", "warning_level", "created_at", "task_id"),
    Index("ix_task_index_group_case_status", "candidate_group", "case_status", "created_at", "task_id"),
    Index("ix_task_index_group_item_code", "candidate_group", "item_code", "created_at", "task_id"),
    Index("ix_task_index_created", "created_at", "task_id"),
    Index("ix_task_index_assignee_created", "assignee", "created_at", "task_id"),
)

timer_index = Table(
    "timer_index",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("element_id", String(256), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
)

clock_pauses = Table(
    "clock_pauses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("element_id", String(256), nullable=True),
    Column("reason", String(256), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("working_days", Integer, nullable=True),
)

case_warnings = Table(
    "case_warnings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("level", String(16), nullable=False),  # reminder (提醒), yellow (黄牌), red (红牌), statutory
    Column("kind", String(16), nullable=False),  # committed, chase, statutory, step, or acceptance (art 32)
    Column("element_id", String(256), nullable=True),
    Column("task_id", String(36), nullable=False, server_default=""),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("raised_at", DateTime(timezone=True), nullable=False, index=True),
    Column("notified", JSON, nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("case_id", "kind", "level", "task_id"),
)

calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    # An administrator's correction of the statutory calendar (engine/time/workdays.py): this day is
    # working (True) or off (False) whatever the `holidays` package says.
    Column("day", Date, primary_key=True),
    Column("working", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # stalled (停滞) or error (出错)
    Column("element_id", String(256), nullable=True),  # the last step the case took, or where it failed
    Column("message", Text, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_retry_at", DateTime(timezone=True), nullable=True),  # None: waits for an operator
    Column("resolved_at", DateTime(timezone=True), nullable=True, index=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolution", Text, nullable=True),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("recipient", String(160), nullable=False, index=True),  # "group:<code>", "chief:<code>", "role:<role>"
    Column("kind", String(32), nullable=False),  # chase (催办), warning, …
    Column("element_id", String(256), nullable=True),
    Column("message", Text, nullable=False),  # the sentence in Chinese, as the audit dossier keeps it
    Column("said", JSON, nullable=True),  # its template and values (engine.messages.kept), for the reader's language
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
)

# Notices (文书, engine/runtime/receipts.py): every decision that reaches the applicant — 受理通知书, 补正材料通知书,
# 不予受理决定书, 延期告知书, 特别程序告知书, 准予/不予行政许可决定书, 送达回证 — numbered per case, dated, and
# issued in the name of an organ (`unit_code`: the org unit whose group decided; `organ_name`: its name then).
receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("receipt_no", String(40), nullable=False, unique=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # a key of engine.runtime.notice_texts.KINDS
    Column("title", String(64), nullable=True),
    Column("element_id", String(128), nullable=True),
    Column("unit_code", String(128), nullable=True),
    Column("organ_name", String(128), nullable=True),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("content", JSON, nullable=False),
)

# Per-person read marks of shared notifications (`group:`, `chief:`, `role:` rows, engine/desk/inbox.py): a row
# addressed to many people is read by each on their own; a personal (`user:`) row keeps `read_at` above.
notification_reads = Table(
    "notification_reads",
    metadata,
    Column("notification_id", Integer, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
)

# The wait for a supplement (补正, engine/runtime/supplement.py): one row per case, from the latest 补正材料通知书;
# the scheduler reminds the applicant at `remind_at` and treats the application as withdrawn at `lapse_at`.
supplement_waits = Table(
    "supplement_waits",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("notice_no", String(40), nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Column("remind_at", DateTime(timezone=True), nullable=False, index=True),
    Column("lapse_at", DateTime(timezone=True), nullable=False, index=True),
    Column("reminded_at", DateTime(timezone=True), nullable=True),
)
