"""The third layer of the audit trail's integrity: chained checkpoints of every case chain's head (S-14).

See `engine.audit.verify` for the three layers and what each catches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from engine.runtime.chain import GENESIS
from engine.store.db import Database
from engine.store.tables import audit_checkpoint_heads, audit_checkpoints, cases
from engine.time import clock
from engine.time.clock import as_utc

SYSTEM_ACTOR = "system"


# --- hashing --------------------------------------------------------------------------------------



def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class CheckpointHasher:
    """sha256 over the previous checkpoint's hash, this checkpoint's header, then one line per head.

    Lines are canonical JSON: `[prev_hash, at (ISO, UTC), created_by, case_count]`, then
    `[case_no, seq, head]` for each head in case-number order (code-point order, the same in Python,
    SQLite and PostgreSQL's "C" collation). Fed line by line, so a big checkpoint is never held whole.
    """

    def __init__(self, prev_hash: str, at: datetime, created_by: str, case_count: int) -> None:
        self._sha = hashlib.sha256(_canonical([prev_hash, as_utc(at).isoformat(), created_by, case_count]) + b"\n")

    def add(self, case_no: str, seq: int, head: str) -> None:
        self._sha.update(_canonical([case_no, seq, head]) + b"\n")

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def checkpoint_hash(prev_hash: str, at: datetime, created_by: str, heads: Iterable[tuple[str, int, str]]) -> str:
    """The hash of a checkpoint whose heads are `heads` (any order: they are sorted here)."""
    ordered = sorted(heads)
    hasher = CheckpointHasher(prev_hash, at, created_by, len(ordered))
    for case_no, seq, head in ordered:
        hasher.add(case_no, seq, head)
    return hasher.hexdigest()


# --- checkpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointResult:
    created: bool
    id: int | None
    hash: str
    case_count: int
    at: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _latest_recorded_seq():
    """Correlated: the highest seq any checkpoint recorded for the case of the outer query (0 if none)."""
    return (select(func.coalesce(func.max(audit_checkpoint_heads.c.seq), 0))
            .where(audit_checkpoint_heads.c.case_id == cases.c.id,
                   audit_checkpoint_heads.c.case_no == cases.c.case_no)
            .scalar_subquery())


def make_checkpoint(db: Database, actor: str = SYSTEM_ACTOR) -> CheckpointResult:
    """Record the heads of the cases whose chain moved since the last checkpoint, in one transaction.

    Cost: one indexed look-up per case to find the moved ones, then rows only for those. Nothing moved:
    nothing is written. Concurrent calls queue (PostgreSQL: a table lock that readers ignore; SQLite:
    the write lock), and the unique `prev_hash` makes a fork impossible anyway.
    """
    at = as_utc(clock.now())
    with db.transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit_checkpoints IN EXCLUSIVE MODE")
        last = conn.execute(select(audit_checkpoints.c.id, audit_checkpoints.c.hash)
                            .order_by(audit_checkpoints.c.id.desc()).limit(1)).one_or_none()
        moved = conn.execute(
            select(cases.c.id, cases.c.case_no, cases.c.audit_seq, cases.c.audit_head)
            .where(cases.c.audit_seq > _latest_recorded_seq())).all()
        if not moved:
            where = f"checkpoint {last.id}" if last else "the start (no checkpoint yet)"
            return CheckpointResult(False, last.id if last else None, last.hash if last else GENESIS, 0, None,
                                    f"nothing moved since {where}; no checkpoint written")
        prev_hash = last.hash if last else GENESIS
        heads = sorted((r.case_no, r.audit_seq, r.audit_head, r.id) for r in moved)
        digest = checkpoint_hash(prev_hash, at, actor, [h[:3] for h in heads])
        checkpoint_id = conn.execute(insert(audit_checkpoints).values(
            at=at, prev_hash=prev_hash, hash=digest, case_count=len(heads), created_by=actor,
        ).returning(audit_checkpoints.c.id)).scalar_one()
        conn.execute(insert(audit_checkpoint_heads), [
            {"checkpoint_id": checkpoint_id, "case_no": case_no, "case_id": case_id, "seq": seq, "head": head}
            for case_no, seq, head, case_id in heads])
    return CheckpointResult(True, checkpoint_id, digest, len(heads), at.isoformat(),
                            f"checkpoint {checkpoint_id}: {len(heads)} case chain(s) recorded; hash {digest}")


def latest_checkpoint(db: Database) -> dict[str, Any] | None:
    with db.reading() as conn:
        row = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1)).one_or_none()
        pending = conn.execute(select(func.count()).select_from(cases)
                               .where(cases.c.audit_seq > _latest_recorded_seq())).scalar_one()
    base = {"pending_cases": pending}
    if row is None:
        return {**base, "id": None}
    return {**base, "id": row.id, "at": as_utc(row.at).isoformat(), "hash": row.hash, "case_count": row.case_count,
            "created_by": row.created_by}
