"""Audit events: appended in the same transaction as the change they record, chained by hash per case.

Each event's hash covers its own content and the previous event's hash, so editing, deleting or
reordering any event breaks the chain from that point on (S-14). The head of each chain is also
kept on the case row, which the optimistic lock already guards, so appending needs no extra read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from engine.store.tables import audit_events

GENESIS = "0" * 64


@dataclass
class AuditEvent:
    """An event waiting to be appended; `data` must be JSON-serializable."""

    type: str
    actor: str
    element_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def event_hash(prev_hash: str, case_no: str, seq: int, at: datetime, actor: str, type_: str,
               element_id: str | None, data: dict[str, Any]) -> str:
    """The chained hash; the canonical JSON makes it independent of key order and database."""
    body = json.dumps(
        [prev_hash, case_no, seq, at.isoformat(), actor, type_, element_id, data],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def chain_events(case_id: int, case_no: str, last_seq: int, head: str, at: datetime,
                 events: list[AuditEvent]) -> tuple[list[dict[str, Any]], int, str]:
    """Rows for `events` chained after (`last_seq`, `head`), and the new (seq, head) of the case."""
    rows = []
    seq = last_seq
    for event in events:
        seq += 1
        digest = event_hash(head, case_no, seq, at, event.actor, event.type, event.element_id, event.data)
        rows.append({"case_id": case_id, "seq": seq, "at": at, "actor": event.actor, "type": event.type,
                     "element_id": event.element_id, "data": event.data, "prev_hash": head, "hash": digest})
        head = digest
    return rows, seq, head


_INSERT_EVENTS = insert(audit_events)


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_INSERT_EVENTS, rows)
