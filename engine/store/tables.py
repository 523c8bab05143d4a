"""The tables, as SQLAlchemy Core objects (the Alembic migrations in `migrations/` create them).

Two kinds live here. The write model: `cases.state` holds the serialized workflow, guarded by the
`cases.lock_version` counter. The read model: `task_index` and `timer_index`, rewritten in the same
transaction as the state, so the desk and the scheduler never deserialize a workflow to answer a query.
`audit_events` is append-only, chained by hash per case.
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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

metadata = MetaData()

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
    # The working-day clock (engine/time/caseclock.py): started at acceptance, paused by marked steps.
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
    Column("candidate_group", String(128), nullable=True, index=True),
    Column("assignee", String(64), nullable=True, index=True),
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
    Index("ix_task_index_group_created", "candidate_group", "created_at"),
    Index("ix_task_index_group_deadline", "candidate_group", "case_deadline"),
    Index("ix_task_index_group_warning_level", "candidate_group", "warning_level", "created_at"),
    Index("ix_task_index_group_case_status", "candidate_group", "case_status", "created_at"),
    Index("ix_task_index_group_item_code", "candidate_group", "item_code", "created_at"),
)

timer_index = Table(
    "timer_index",
    metadata,
    Column("task_id", String(36), primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("element_id", String(256), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
)

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
    Column("level", String(16), nullable=False),  # yellow (预警) or red (超时)
    Column("kind", String(16), nullable=False),  # committed, statutory, or step
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
    Column("message", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=True),
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

# 受理回执: the dated record of each acceptance decision (受理 / 不予受理 / 补正), one per decision.
receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("receipt_no", String(40), nullable=False, unique=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("element_id", String(128), nullable=True),
    Column("unit_code", String(128), nullable=True),
    Column("issued_by", String(64), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("content", JSON, nullable=False),
)

# The studio's drafts (engine/catalogue/drafts.py, migration 0008): one working copy per item and analyst, made from
# a deployed version; `files` holds item.json, the diagrams and the forms as text. Deploying one makes a
# new immutable version (process_versions) and ends the draft.
studio_drafts = Table(
    "studio_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_code", String(64), nullable=False),
    Column("base_version", Integer, nullable=True),
    Column("files", JSON, nullable=False),
    Column("author", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("item_code", "author", name="uq_studio_drafts_item_author"),
)

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

# 事项目录变更 (S-9, engine/catalogue/governance.py, migration 0009): every governed change of the catalogue — a
# deploy that changes an item's time limits or materials, an item withdrawn from the centre — with the
# approved governance case that allowed it. An approval is used once (unique).
catalogue_changes = Table(
    "catalogue_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_code", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # deploy | withdraw
    Column("approval_case_no", String(32), nullable=False, unique=True),
    Column("version_number", Integer, nullable=True),  # the version a deploy made
    Column("changes", JSON, nullable=False),  # the governed changes: [{field, label, old, new}]
    Column("acted_by", String(64), nullable=False),
    Column("acted_at", DateTime(timezone=True), nullable=False),
)

# 电子监察 (S-15, migration 0010): what an administrator sets for the supervisors' side — the weights of the
# monthly performance score, the rectification limit — one JSON value per key (engine/watch/performance.py).
watch_settings = Table(
    "watch_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# 好差评 (S-12, engine/watch/ratings.py): the applicant's own rating of a visit or of a completed case, or a
# complaint about a window (kind). Never written automatically; at most one per case, visit and kind.
ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("visit", Integer, nullable=False),
    Column("score", Integer, nullable=False),  # 1 非常不满意 … 5 非常满意 (a complaint: 1)
    Column("sub_ratings", JSON, nullable=False),  # {"服务态度": 4, …}
    Column("comment", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # rating | complaint
    Column("unit_code", String(128), nullable=True, index=True),  # the window rated (the case's unit)
    Column("rated_by", String(64), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False, index=True),
    Column("rectification_case_no", String(32), nullable=True),  # the 整改 case a bad rating started
    UniqueConstraint("case_id", "visit", "kind", name="uq_ratings_case_visit_kind"),
)
