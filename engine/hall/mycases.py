"""我的办件: a registered applicant's own cases — status, where each is, its deadline, the notices it was
given and, once decided, the result with the document's number.

A case is the applicant's when its `applicant_id` is their account (the account that applied in the hall).
Anyone else asking for one — another applicant, a clerk, an administrator — is refused (`PermissionDenied`,
as the case page refuses whom a case does not concern; a number that does not exist is `NotFound`): these
pages are the applicant's own, and staff read cases on their own pages. Everything is read from the read
model (cases, task_index, receipts, audit_events); no workflow is deserialized for a list.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, select

from engine.errors import NotFound, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.caseaccess import user_id
from engine.store.db import Database
from engine.store.tables import audit_events, cases, items, receipts, task_index
from engine.time.clock import iso_utc

#: The notices that say how the case ended, latest wins (a 送达回证 only delivers one of them).
DECISIONS = ("licence_granted", "licence_refused", "refusal_of_acceptance", "withdrawal", "deemed_withdrawn",
             "termination")
#: Where a step records the number of the certificate or approval it issued, with the words for it.
DOCUMENT_FIELDS = {"document_no": "证照或批复文号", "certificate_no": "证照编号"}
NOT_YOURS = said("这不是您本人申请的办件；“我的办件”只列出您用本账号申请的办件。")


def my_cases(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Every case of `actor`'s account, newest first (an empty list for an account that applied for none)."""
    with db.reading() as conn:
        owner = user_id(conn, actor.username)
        if owner is None:
            return []
        rows = conn.execute(_CASES.where(cases.c.applicant_id == owner)
                            .order_by(cases.c.created_at.desc(), cases.c.id.desc())).all()
        return _views(conn, rows)


def my_case(db: Database, case_no: str, actor: Actor) -> dict[str, Any]:
    """One case of `actor`'s own, as on 我的办件; `PermissionDenied` when it is someone else's."""
    with db.reading() as conn:
        owner = user_id(conn, actor.username)
        row = conn.execute(_CASES.where(cases.c.case_no == case_no)).one_or_none()
        if row is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请从“我的办件”中选择。", case_no=case_no[:32]))
        if owner is None or row.applicant_id != owner:
            raise PermissionDenied(NOT_YOURS)
        return _views(conn, [row])[0]


_CASES = (select(cases.c.id, cases.c.case_no, cases.c.status, cases.c.applicant_id, cases.c.created_at,
                 cases.c.closed_at, cases.c.committed_deadline, cases.c.paused_since,
                 items.c.code.label("item_code"), items.c.name.label("item_name"))
          .join(items, items.c.id == cases.c.item_id))


def _views(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    steps, notices, documents = _steps(conn, ids), _notices(conn, ids), _documents(conn, ids)
    return [{"case_no": r.case_no, "item_code": r.item_code, "item_name": r.item_name, "status": r.status,
             "created_at": iso_utc(r.created_at), "closed_at": iso_utc(r.closed_at),
             "deadline": iso_utc(r.committed_deadline), "paused": r.paused_since is not None,
             "steps": steps[r.id], "notices": notices[r.id],
             "result": _result(notices[r.id], documents.get(r.id))} for r in rows]


def _steps(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    """The names of each case's open steps, once each (a joint review's parallel steps share a name)."""
    found: dict[int, list[str]] = defaultdict(list)
    for case_id, name in conn.execute(select(task_index.c.case_id, task_index.c.name)
                                      .where(task_index.c.case_id.in_(ids)).order_by(task_index.c.created_at)):
        if name and name not in found[case_id]:
            found[case_id].append(name)
    return found


def _notices(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(select(receipts.c.case_id, receipts.c.receipt_no, receipts.c.kind, receipts.c.title,
                                 receipts.c.organ_name, receipts.c.issued_at, receipts.c.content)
                          .where(receipts.c.case_id.in_(ids)).order_by(receipts.c.id)):
        found[r.case_id].append({"number": r.receipt_no, "kind": r.kind,
                                 "title": r.title or (r.content or {}).get("title", ""),
                                 "organ": r.organ_name or "", "issued_at": iso_utc(r.issued_at)})
    return found


def _documents(conn: Connection, ids: list[int]) -> dict[int, dict[str, str]]:
    """The last certificate or approval number a step recorded for each case (the 办结出证 step's answer)."""
    found: dict[int, dict[str, str]] = {}
    for case_id, data in conn.execute(select(audit_events.c.case_id, audit_events.c.data)
                                      .where(audit_events.c.case_id.in_(ids),
                                             audit_events.c.type == "task_completed")
                                      .order_by(audit_events.c.seq)):
        answered = (data or {}).get("data") or {}
        for key, label in DOCUMENT_FIELDS.items():
            if str(answered.get(key) or "").strip():
                found[case_id] = {"label": label, "number": str(answered[key]).strip()}
    return found


def _result(notices: list[dict[str, Any]], document: dict[str, str] | None) -> dict[str, Any] | None:
    """How the case ended, by the notice that decided it, with the document number when one was issued."""
    decided = next((n for n in reversed(notices) if n["kind"] in DECISIONS), None)
    if decided is None and document is None:
        return None
    return {"notice": decided, "granted": bool(decided and decided["kind"] == "licence_granted"),
            "document": document}
