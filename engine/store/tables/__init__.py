"""The tables, as SQLAlchemy Core objects, one module per concern (the Alembic migrations in
`engine/store/migrations/` create them); everything is importable from here.

Two kinds live here. The write model: `cases.state` holds the serialized workflow, guarded by the
`cases.lock_version` counter. The read model: `task_index` and `timer_index`, rewritten in the same
transaction as the state, so the desk and the scheduler never deserialize a workflow to answer a query.
`audit_events` is append-only, chained by hash per case.
"""

from engine.store.tables.base import metadata, server_defaults
from engine.store.tables.cases import (
    calendar_overrides,
    case_warnings,
    cases,
    clock_pauses,
    incidents,
    items,
    latest_versions,
    notifications,
    process_versions,
    receipts,
    task_index,
    timer_index,
)
from engine.store.tables.catalogue import (
    catalogue_changes,
    installation_settings,
    ratings,
    studio_drafts,
    watch_settings,
)
from engine.store.tables.desk import attachments, case_comments, case_materials, delegations
from engine.store.tables.files import report_files, sms_outbox, stored_files
from engine.store.tables.people import (
    api_tokens,
    attempt_counters,
    groups,
    memberships,
    org_units,
    users,
    verification_codes,
)
from engine.store.tables.trail import audit_checkpoint_heads, audit_checkpoints, audit_events, audit_views

__all__ = [
    "api_tokens", "attachments", "attempt_counters", "audit_checkpoint_heads", "audit_checkpoints", "audit_events",
    "audit_views", "calendar_overrides", "case_comments", "case_materials", "case_warnings", "cases",
    "catalogue_changes", "clock_pauses", "delegations", "groups", "incidents", "installation_settings", "items",
    "latest_versions",
    "memberships", "metadata", "notifications", "org_units", "process_versions", "ratings", "receipts",
    "report_files", "server_defaults", "sms_outbox", "stored_files", "studio_drafts", "task_index", "timer_index",
    "users", "verification_codes", "watch_settings",
]
