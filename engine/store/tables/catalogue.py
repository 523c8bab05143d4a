"""The studio's drafts, the governed changes of the catalogue (S-9), and the supervisors' side:
settings and the applicants' ratings (S-12, S-15); and the installation's own settings.
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
    Text,
    UniqueConstraint,
)

from engine.store.tables.base import metadata

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

# Facts of the installation itself, one JSON value per key (engine/store/installation.py, migration 0018): whether
# `onewindow init --demo` made it a demo (the registration page then names the SMS outbox).
installation_settings = Table(
    "installation_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
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
