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

import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, and_, select

from engine.audit.checkpoints import CheckpointHasher
from engine.audit.verdicts import CaseVerdict, Problem, Report, problem_order
from engine.errors import NotFound
from engine.messages import said
from engine.runtime.chain import GENESIS, event_hash
from engine.store.db import Database
from engine.store.tables import audit_checkpoint_heads, audit_checkpoints, audit_events, cases
from engine.time.clock import as_utc

SYSTEM_ACTOR = "system"
STREAM_CHUNK = 2000  # rows fetched at a time by each cursor of verify_all
MAX_BROKEN_REPORTED = 1000
REORDER_SEARCH = 1000  # how far a changed event's hash is tried against other seqs


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
    verdict.problems.sort(key=problem_order)
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
    # One consistent state: a case changed or a checkpoint taken while verifying must not be half-seen
    # (a case row newer than its events would look tampered).
    with db.reading(snapshot=True) as conn:
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
    with db.reading(snapshot=True) as conn:  # one consistent state, as above
        row = conn.execute(select(cases.c.id, cases.c.case_no, cases.c.audit_seq, cases.c.audit_head)
                           .where(cases.c.case_no == case_no)).one_or_none()
        head_filter = audit_checkpoint_heads.c.case_no == case_no
        if row is not None:
            head_filter = and_(head_filter, audit_checkpoint_heads.c.case_id == row.id)
        heads = conn.execute(select(*_HEAD_COLUMNS).where(head_filter)
                             .order_by(audit_checkpoint_heads.c.seq)).all()
        if row is None and not heads:
            raise NotFound(said("办件 %(case_no)s 不存在，也没有任何校验点记录过它；请核对办件编号。", case_no=case_no))
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
