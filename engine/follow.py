"""Following a case from outside (S-13): the case number plus its follow-up code (查询码), nothing else.

The code is made when the case starts, shown once on the receipt, and stored only as a hash. A
look-up answers "wrong number or code" the same way whether the case exists or not, so numbers
cannot be probed; and failed look-ups are counted per client and per case number, so codes cannot
be guessed (a few tries, then a pause).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, func, insert, select

from . import clock, queries, receipts
from .db import Database
from .errors import NotFound, OnewindowError, PermissionDenied
from .orgtree import describe_group, level_of, split_group, unit_names
from .runtime import ANSWERED_BY_PROPERTY, load_workflow
from .tables import cases, follow_attempts

CODE_DIGITS = 6
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 10
MAX_FAILURES_PER_CASE = 5
LEVEL_NAMES = {"village": "村便民服务室", "town": "镇便民服务中心", "district": "区行政服务中心"}


class TooManyAttempts(PermissionDenied):
    status = 429
    code = "too_many_requests"


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def code_hash(case_no: str, code: str) -> str:
    """Salted by the case number, so one code's hash says nothing about another case's."""
    return hashlib.sha256(f"{case_no}:{code.strip()}".encode()).hexdigest()


def check(conn: Connection, case_no: str, code: str, client: str) -> bool:
    """Whether the pair is right, the attempt written either way; refuses outright after too many failures."""
    since = clock.now() - WINDOW
    failed = (follow_attempts.c.succeeded.is_(False)) & (follow_attempts.c.at >= since)
    by_client = conn.execute(select(func.count()).where(failed, follow_attempts.c.client == client)).scalar_one()
    by_case = conn.execute(select(func.count()).where(failed, follow_attempts.c.case_no == case_no)).scalar_one()
    if by_client >= MAX_FAILURES_PER_CLIENT or by_case >= MAX_FAILURES_PER_CASE:
        raise TooManyAttempts("查询失败次数过多，请 15 分钟后再试；如忘记查询码，请持身份证到受理窗口查询。")
    stored = conn.execute(select(cases.c.query_code_hash).where(cases.c.case_no == case_no)).scalar_one_or_none()
    ok = stored is not None and hmac.compare_digest(stored, code_hash(case_no, code))
    conn.execute(insert(follow_attempts).values(client=client[:64], case_no=case_no[:32], at=clock.now(),
                                                succeeded=ok))
    return ok


def follow(db: Database, case_no: str, code: str, client: str) -> dict[str, Any]:
    """What an applicant may see of their case: status, where it is, the deadline, any supplement asked."""
    case_no, code = case_no.strip(), code.strip()
    if not case_no or not code:
        raise OnewindowError("请输入办件编号和查询码。")
    with db.transaction() as conn:  # the attempt is kept whether or not it succeeds
        ok = check(conn, case_no, code, client)
    if not ok:  # one message whether the case exists or not: numbers cannot be probed
        raise NotFound("办件编号或查询码不正确；请核对受理回执上的办件编号和查询码。")
    return case_view(db, case_no)


def case_view(db: Database, case_no: str) -> dict[str, Any]:
    """The applicant's view of a case (no department's internal data)."""
    detail = queries.case_detail(db, case_no)
    with db.reading() as conn:
        row = conn.execute(select(cases.c.id, cases.c.unit_code).where(cases.c.case_no == case_no)).one()
        names = unit_names(conn)
        given = receipts.of_case(conn, row.id)
    where = [{"step": t["name"], "window": describe_group(t["candidate_group"], names),
              "level": LEVEL_NAMES.get(_level(t["candidate_group"]), "")} for t in detail["open_tasks"]]
    supplement = next((r["content"] for r in reversed(given) if r["kind"] == "补正"), None) \
        if detail["status"] == "awaiting_supplement" else None
    return {"case_no": case_no, "item_code": detail["item_code"], "item_name": detail["item_name"],
            "status": detail["status"],
            "created_at": detail["created_at"], "closed_at": detail["closed_at"], "where": where,
            "front": names.get(row.unit_code or "", row.unit_code), "clock": detail["clock"],
            "supplement": supplement, "receipts": given}


def _level(group: str | None) -> str | None:
    unit = split_group(group)[0] if group else ""
    return level_of(unit) if unit else None


def applicant_step(db: Database, case_no: str) -> dict[str, Any] | None:
    """The open step the diagram leaves to the applicant (answeredBy=applicant, e.g. 补正), with its form."""
    workflow = load_workflow(db, case_no)
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        properties = getattr(task.task_spec, "extensions", {}).get("properties", {})
        if properties.get(ANSWERED_BY_PROPERTY) == "applicant":
            return queries.task_detail(db, str(task.id))
    return None
