"""Is the audit trail untampered? Checkpoints of every case chain, and the verifier (S-14, S-16).

Three layers, each catching what the one before cannot:

1. **Append-only tables.** Triggers (migration 0004) reject every UPDATE and DELETE on
   `audit_events`, `audit_checkpoints`, `audit_checkpoint_heads` and `audit_views`. That stops
   mistakes and anyone using the application's statements; someone who can drop a trigger can
   still edit rows, which is what the next two layers are for.
2. **The hash chain per case** (engine/runtime/chain.py). Each event's hash covers its content, its seq, its
   case number and the previous event's hash; the case row keeps the head. `verify_case` and
   `verify_all` recompute every hash, so a changed event, a deleted or renumbered one, and a
   deleted tail (the case row's head no longer matches) are found, and said precisely.
3. **Checkpoints.** A chain can be removed whole (events and case row, or the case row's head
   rewound with them) without a dangling link. `make_checkpoint` records, in one transaction, the
   head (seq, hash) of every case whose chain moved since the previous checkpoint, and chains the
   checkpoints themselves: hash = sha256(previous checkpoint's hash, this checkpoint's header, its
   heads in case-number order). The verifier checks that every head a checkpoint ever recorded
   is still there with the same hash, and that the checkpoint chain is intact. The newest
   checkpoint's hash is printed by `onewindow checkpoint`: kept outside the database (a log
   server, a signed mail, paper), it also pins the checkpoints against being removed from the end.

`verify_all` streams: cases, events and checkpoint heads are read by three cursors in case order
(server-side on PostgreSQL), inside one snapshot, and merged one case at a time, so memory stays
bounded by the largest case, not the database.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, text

from engine.errors import NotFound
from engine.runtime.chain import GENESIS, event_hash
from engine.store.db import Database
from engine.store.tables import audit_checkpoint_heads, audit_checkpoints, audit_events, cases
from engine.time import clock
from engine.time.clock import as_utc

SYSTEM_ACTOR = "system"
STREAM_CHUNK = 2000  # rows fetched at a time by each cursor of verify_all
MAX_PROBLEMS_PER_CASE = 20
MAX_BROKEN_REPORTED = 1000
REORDER_SEARCH = 1000  # how far a changed event's hash is tried against other seqs

APPEND_ONLY_TABLES = ("audit_events", "audit_checkpoints", "audit_checkpoint_heads", "audit_views")


# --- the append-only triggers ---------------------------------------------------------------------
# The same statements as migration 0004 (which keeps its own copy, frozen): for tests that tamper on
# purpose, and for benchmarks that build scratch databases by raw SQL.


def _trigger_sql(dialect: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements of the append-only triggers for `dialect`."""
    create: list[str] = []
    drop: list[str] = []
    if dialect == "postgresql":
        create.append(
            "CREATE OR REPLACE FUNCTION onewindow_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            "    RAISE EXCEPTION '% is append-only: % is not allowed (S-14)', TG_TABLE_NAME, TG_OP\n"
            "        USING ERRCODE = 'insufficient_privilege';\n"
            "END\n$$")
        for table in APPEND_ONLY_TABLES:
            create.append(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                          "FOR EACH ROW EXECUTE FUNCTION onewindow_append_only()")
            drop.append(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        return create, drop
    for table in APPEND_ONLY_TABLES:
        for op in ("UPDATE", "DELETE"):
            create.append(f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                          f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} is not allowed (S-14)'); END")
            drop.append(f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()}")
    return create, drop


def drop_append_only_triggers(conn: Connection) -> None:
    """Remove the triggers — for tests that tamper on purpose and scratch databases only."""
    for statement in _trigger_sql(conn.dialect.name)[1]:
        conn.execute(text(statement))


def create_append_only_triggers(conn: Connection) -> None:
    """Put the triggers (back); the inverse of `drop_append_only_triggers`."""
    for statement in _trigger_sql(conn.dialect.name)[0]:
        conn.execute(text(statement))


def append_only_triggers(conn: Connection) -> list[str]:
    """The names of the append-only triggers present in the database (to check an installation)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text("SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                 "WHERE NOT t.tgisinternal AND c.relname = ANY(:tables) "
                                 "AND pg_table_is_visible(c.oid)"), {"tables": list(APPEND_ONLY_TABLES)})
    else:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return sorted(name for (name,) in rows if name.startswith(APPEND_ONLY_TABLES))


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


# --- verdicts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong. `seq` is the event concerned (None: the checkpoint chain itself)."""

    seq: int | None
    kind: str  # changed, out_of_order, missing, prev_mismatch, case_row, checkpoint, case_deleted, duplicate
    what: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseVerdict:
    case_no: str
    events: int = 0
    problems: list[Problem] = field(default_factory=list)
    checkpoint_problems: list[Problem] = field(default_factory=list)  # verify_case: the chain it relies on
    checkpoints: int = 0  # how many checkpoints recorded this case's head
    more_problems: int = 0  # problems found beyond MAX_PROBLEMS_PER_CASE

    @property
    def ok(self) -> bool:
        return not self.problems and not self.checkpoint_problems

    @property
    def first(self) -> Problem | None:
        """The first broken event: the problem with the lowest seq."""
        found = [p for p in self.problems if p.seq is not None]
        return min(found, key=lambda p: p.seq) if found else (self.problems or self.checkpoint_problems or [None])[0]

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_CASE:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def to_dict(self) -> dict[str, Any]:
        first = self.first
        return {"case_no": self.case_no, "ok": self.ok, "events": self.events, "checkpoints": self.checkpoints,
                "first_broken_event": first.seq if first else None, "first_problem": first.what if first else None,
                "problems": [p.to_dict() for p in self.problems],
                "more_problems": self.more_problems,
                "checkpoint_problems": [p.to_dict() for p in self.checkpoint_problems]}


def _problem_order(problem: Problem) -> tuple[int, int]:
    return (0, problem.seq) if problem.seq is not None else (1, 0)


@dataclass
class Report:
    """What `verify_all` found; `broken` lists at most MAX_BROKEN_REPORTED cases (`broken_count` all)."""

    ok: bool = True
    cases: int = 0
    events: int = 0
    checkpoints: int = 0
    heads: int = 0
    seconds: float = 0.0
    broken: list[CaseVerdict] = field(default_factory=list)
    broken_count: int = 0
    checkpoint_problems: list[Problem] = field(default_factory=list)
    latest_checkpoint: dict[str, Any] | None = None

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events, "checkpoints": self.checkpoints,
                "checkpoint_heads": self.heads, "seconds": round(self.seconds, 4),
                "events_per_second": round(self.events_per_second),
                "broken_count": self.broken_count, "broken": [v.to_dict() for v in self.broken],
                "checkpoint_problems": [p.to_dict() for p in self.checkpoint_problems],
                "latest_checkpoint": self.latest_checkpoint}


# --- checking one case ----------------------------------------------------------------------------


def _span(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first}–{last}"


def _recompute(case_no: str, seq: int, event) -> str:
    return event_hash(event.prev_hash, case_no, seq, as_utc(event.at), event.actor, event.type,
                      event.element_id, event.data)


def _recorded_as(case_no: str, event, last_seq: int) -> int | None:
    """The seq the event's content was hashed with, if not its own: the trace of a renumbering."""
    for seq in range(1, min(max(last_seq, event.seq) + 2, REORDER_SEARCH)):
        if seq != event.seq and _recompute(case_no, seq, event) == event.hash:
            return seq
    return None


def check_case(case_no: str, case_row, events: list, heads: list) -> CaseVerdict:
    """Check one case: its events (ordered by seq), its case row (None if gone), the heads recorded for it.

    Events need .seq .at .actor .type .element_id .data .prev_hash .hash; the case row .audit_seq and
    .audit_head; heads .checkpoint_id .seq .head.
    """
    verdict = CaseVerdict(case_no, events=len(events))
    by_seq: dict[int, str] = {}
    expected, prev_hash = 1, GENESIS
    last_seq = events[-1].seq if events else 0
    for event in events:
        seq = event.seq
        gap = seq > expected
        if seq in by_seq:
            verdict.add(Problem(seq, "duplicate", f"event {seq} appears more than once"))
        elif gap:
            where = f"the first event is {seq}" if expected == 1 else f"seq jumps {expected - 1}→{seq}"
            verdict.add(Problem(expected, "missing", f"{_span(expected, seq - 1)} missing ({where})"))
        by_seq.setdefault(seq, event.hash)
        if _recompute(case_no, seq, event) != event.hash:
            origin = _recorded_as(case_no, event, last_seq)
            if origin is not None:
                verdict.add(Problem(seq, "out_of_order", f"event {seq}: out of order — its content was recorded "
                                                         f"as event {origin} (seq numbers changed or rows reordered)"))
            else:
                verdict.add(Problem(seq, "changed", f"event {seq}: data changed (hash mismatch)"))
        elif event.prev_hash != prev_hash and not gap:
            what = ("does not start the chain (prev_hash is not GENESIS)" if seq == 1
                    else f"prev_hash does not match event {seq - 1}")
            verdict.add(Problem(seq, "prev_mismatch", f"event {seq}: {what}"))
        expected, prev_hash = max(expected, seq + 1), event.hash
    last_hash = events[-1].hash if events else GENESIS
    if case_row is None:
        if events:
            verdict.add(Problem(None, "case_deleted", f"the case row is gone; {len(events)} event(s) remain"))
    elif case_row.audit_seq > last_seq:
        verdict.add(Problem(last_seq + 1, "missing",
                            f"{_span(last_seq + 1, case_row.audit_seq)} missing (the case row's head is event "
                            f"{case_row.audit_seq}, the last stored event is {last_seq or 'none'})"))
    elif case_row.audit_seq < last_seq:
        verdict.add(Problem(case_row.audit_seq + 1, "case_row",
                            f"the case row's head is event {case_row.audit_seq}, but events up to {last_seq} exist "
                            "(case row altered)"))
    elif case_row.audit_head != last_hash:
        verdict.add(Problem(last_seq or None, "case_row",
                            f"the case row's head does not match event {last_seq} (case row or event altered)"))
    _check_heads(verdict, case_row, heads, by_seq, last_seq)
    verdict.problems.sort(key=_problem_order)
    return verdict


def _check_heads(verdict: CaseVerdict, case_row, heads: list, by_seq: dict[int, str], last_seq: int) -> None:
    verdict.checkpoints = len(heads)
    beyond = [h for h in heads if h.seq > last_seq]
    if beyond:
        head = max(beyond, key=lambda h: h.seq)
        if case_row is None and not by_seq:
            verdict.add(Problem(1, "case_deleted", f"case deleted: checkpoint {head.checkpoint_id} recorded its chain "
                                                   f"up to event {head.seq}; neither the case nor its events exist"))
        else:
            verdict.add(Problem(last_seq + 1, "missing",
                                f"{_span(last_seq + 1, head.seq)} missing (checkpoint {head.checkpoint_id} recorded "
                                f"the chain up to event {head.seq}; the last stored event is {last_seq or 'none'})"))
    for head in heads:
        stored = by_seq.get(head.seq)
        if stored is not None and stored != head.head:
            verdict.add(Problem(head.seq, "checkpoint",
                                f"event {head.seq} differs from checkpoint {head.checkpoint_id} (recorded "
                                f"{head.head[:12]}…, now {stored[:12]}…): the chain was rewritten"))


# --- reading: one snapshot, streamed --------------------------------------------------------------

_EVENT_COLUMNS = (audit_events.c.case_id, audit_events.c.seq, audit_events.c.at, audit_events.c.actor,
                  audit_events.c.type, audit_events.c.element_id, audit_events.c.data,
                  audit_events.c.prev_hash, audit_events.c.hash)
_HEAD_COLUMNS = (audit_checkpoint_heads.c.case_id, audit_checkpoint_heads.c.case_no,
                 audit_checkpoint_heads.c.checkpoint_id, audit_checkpoint_heads.c.seq, audit_checkpoint_heads.c.head)


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of the whole database.

    PostgreSQL: REPEATABLE READ, so a case changed or a checkpoint taken while verifying is not
    half-seen (a case row newer than its events would look tampered). SQLite (WAL): a read
    transaction is a snapshot from its first read.
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield conn


def _stream(conn: Connection, statement):
    return conn.execute(statement.execution_options(yield_per=STREAM_CHUNK))


def _checkpoint_order(conn: Connection):
    case_no = audit_checkpoint_heads.c.case_no
    return case_no.collate("C") if conn.dialect.name == "postgresql" else case_no


def _verify_checkpoint_chain(conn: Connection, recompute: set[int] | None = None
                             ) -> tuple[list[Problem], int, int, dict[str, Any] | None]:
    """Check the chain of checkpoints: links, and each hash recomputed from its heads.

    `recompute`: only these checkpoints' hashes are recomputed (verify_case); None: all of them.
    Returns (problems, checkpoints, heads read, the latest checkpoint).
    """
    problems: list[Problem] = []
    points = _stream(conn, select(audit_checkpoints).order_by(audit_checkpoints.c.id))
    heads_query = (select(audit_checkpoint_heads.c.checkpoint_id, audit_checkpoint_heads.c.case_no,
                          audit_checkpoint_heads.c.seq, audit_checkpoint_heads.c.head)
                   .order_by(audit_checkpoint_heads.c.checkpoint_id, _checkpoint_order(conn)))
    if recompute is not None:
        heads_query = heads_query.where(audit_checkpoint_heads.c.checkpoint_id.in_(sorted(recompute) or [-1]))
    heads = itertools.groupby(_stream(conn, heads_query), key=lambda row: row.checkpoint_id)
    current = next(heads, None)
    prev: Any = None
    count = head_count = 0
    for point in points:
        count += 1
        while current is not None and current[0] < point.id:
            problems.append(Problem(None, "checkpoint", f"heads of checkpoint {current[0]} remain but the checkpoint "
                                                        "is gone"))
            current = next(heads, None)
        group: Iterable[Any] = ()
        if current is not None and current[0] == point.id:
            group = current[1]  # consumed below, before the next group is asked for
        expected_prev = prev.hash if prev is not None else GENESIS
        if point.prev_hash != expected_prev:
            after = f"checkpoint {prev.id}" if prev is not None else "the start of the chain (GENESIS)"
            problems.append(Problem(None, "checkpoint", f"checkpoint {point.id}: prev_hash does not match {after} "
                                                        "(a checkpoint was removed or altered)"))
        if recompute is None or point.id in recompute:
            hasher = CheckpointHasher(point.prev_hash, point.at, point.created_by, point.case_count)
            n = 0
            for row in group:
                hasher.add(row.case_no, row.seq, row.head)
                n += 1
            head_count += n
            if n != point.case_count:
                problems.append(Problem(None, "checkpoint", f"checkpoint {point.id}: {point.case_count} head(s) "
                                                            f"recorded, {n} found (heads deleted or added)"))
            elif hasher.hexdigest() != point.hash:
                problems.append(Problem(None, "checkpoint", f"checkpoint {point.id}: heads or header changed "
                                                            "(hash mismatch)"))
        if current is not None and current[0] == point.id:
            current = next(heads, None)
        prev = point
    while current is not None:
        problems.append(Problem(None, "checkpoint", f"heads of checkpoint {current[0]} remain but the checkpoint "
                                                    "is gone"))
        current = next(heads, None)
    latest = None if prev is None else {"id": prev.id, "at": as_utc(prev.at).isoformat(), "hash": prev.hash,
                                        "case_count": prev.case_count, "created_by": prev.created_by}
    return problems, count, head_count, latest


def _groups(rows: Iterable[Any]) -> Iterator[tuple[int, list[Any]]]:
    for key, group in itertools.groupby(rows, key=lambda row: row.case_id):
        yield key, list(group)


def _merge(cases_rows: Iterator[Any], events: Iterator[tuple[int, list]], heads: Iterator[tuple[int, list]]
           ) -> Iterator[tuple[Any, list, list]]:
    """(case row or None, its events, its heads) for every case id found in any of the three streams."""
    case_row = next(cases_rows, None)
    event_group = next(events, None)
    head_group = next(heads, None)
    while case_row is not None or event_group is not None or head_group is not None:
        keys = [k for k in (case_row.id if case_row is not None else None,
                            event_group[0] if event_group is not None else None,
                            head_group[0] if head_group is not None else None) if k is not None]
        key = min(keys)
        row = case_row if case_row is not None and case_row.id == key else None
        evs = event_group[1] if event_group is not None and event_group[0] == key else []
        hds = head_group[1] if head_group is not None and head_group[0] == key else []
        if row is not None:
            case_row = next(cases_rows, None)
        if evs:
            event_group = next(events, None)
        if hds:
            head_group = next(heads, None)
        yield row, evs, hds


def _verdicts_of(row, events: list, heads: list) -> list[CaseVerdict]:
    """The case of `row` (its number), plus any other case that a checkpoint recorded under the same id."""
    by_no: dict[str, list] = {}
    for head in heads:
        by_no.setdefault(head.case_no, []).append(head)
    if row is not None:
        verdicts = [check_case(row.case_no, row, events, by_no.pop(row.case_no, []))]
        for case_no, recorded in by_no.items():  # the id now belongs to another case: this one was deleted
            verdicts.append(check_case(case_no, None, [], recorded))
        return verdicts
    if not by_no:
        case_id = events[0].case_id
        verdict = CaseVerdict(f"(case id {case_id})", events=len(events))
        verdict.add(Problem(None, "case_deleted", f"{len(events)} event(s) of case id {case_id} remain, but the case "
                                                  "row is gone and no checkpoint names it"))
        return [verdict]
    verdicts = []
    for i, (case_no, recorded) in enumerate(by_no.items()):
        verdicts.append(check_case(case_no, None, events if i == 0 else [], recorded))
    return verdicts


def verify_all(db: Database, max_reported: int = MAX_BROKEN_REPORTED) -> Report:
    """Check every case chain, every case row's head, every checkpoint head and the checkpoint chain."""
    began = time.perf_counter()
    report = Report()
    with snapshot(db) as conn:
        problems, report.checkpoints, report.heads, report.latest_checkpoint = _verify_checkpoint_chain(conn)
        report.checkpoint_problems = problems
        case_rows = iter(_stream(conn, select(cases.c.id, cases.c.case_no, cases.c.audit_seq, cases.c.audit_head)
                                 .order_by(cases.c.id)))
        events = _groups(_stream(conn, select(*_EVENT_COLUMNS).order_by(audit_events.c.case_id, audit_events.c.seq)))
        heads = _groups(_stream(conn, select(*_HEAD_COLUMNS).order_by(audit_checkpoint_heads.c.case_id,
                                                                      audit_checkpoint_heads.c.seq)))
        for row, case_events, case_heads in _merge(case_rows, events, heads):
            report.events += len(case_events)
            for verdict in _verdicts_of(row, case_events, case_heads):
                report.cases += 1
                if not verdict.ok:
                    report.broken_count += 1
                    if len(report.broken) < max_reported:
                        report.broken.append(verdict)
    report.ok = not report.broken_count and not report.checkpoint_problems
    report.seconds = time.perf_counter() - began
    return report


def verify_case(db: Database, case_no: str) -> CaseVerdict:
    """Check one case: its chain, its case row's head, every head checkpoints recorded for it, and the
    checkpoint chain those heads rely on (all links; the hashes of the checkpoints that name the case).

    A case that is gone but named by a checkpoint gets a verdict saying so; a case never seen: NotFound.
    """
    with snapshot(db) as conn:
        row = conn.execute(select(cases.c.id, cases.c.case_no, cases.c.audit_seq, cases.c.audit_head)
                           .where(cases.c.case_no == case_no)).one_or_none()
        head_filter = audit_checkpoint_heads.c.case_no == case_no
        if row is not None:
            head_filter = and_(head_filter, audit_checkpoint_heads.c.case_id == row.id)
        heads = conn.execute(select(*_HEAD_COLUMNS).where(head_filter)
                             .order_by(audit_checkpoint_heads.c.seq)).all()
        if row is None and not heads:
            raise NotFound(f"办件 {case_no} 不存在，也没有任何校验点记录过它；请核对办件编号。")
        case_id = row.id if row is not None else heads[0].case_id
        events = conn.execute(select(*_EVENT_COLUMNS).where(audit_events.c.case_id == case_id)
                              .order_by(audit_events.c.seq)).all()
        if row is None:  # the id may have been reused by a newer case: these events are not ours
            owner = conn.execute(select(cases.c.case_no).where(cases.c.id == case_id)).scalar_one_or_none()
            events = events if owner is None else []
        verdict = check_case(case_no, row, events, heads)
        problems, _, _, _ = _verify_checkpoint_chain(conn, recompute={h.checkpoint_id for h in heads})
        verdict.checkpoint_problems = problems
    return verdict


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


__all__ = ["CaseVerdict", "CheckpointResult", "Problem", "Report", "append_only_triggers", "as_utc",
           "check_case", "checkpoint_hash", "create_append_only_triggers", "drop_append_only_triggers",
           "latest_checkpoint", "make_checkpoint", "snapshot", "verify_all", "verify_case"]
