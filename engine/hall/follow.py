"""Following a case from outside (S-13): the case number plus its follow-up code (查询码), nothing else.

The code is made when the case starts, shown once on the receipt, and stored only as a hash. A
look-up answers "wrong number or code" the same way whether the case exists or not, so numbers
cannot be probed; and failed look-ups are counted (engine/org/ratelimit.py), so codes cannot be guessed
(a few tries, then a pause).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select

from engine.errors import NotFound, OnewindowError
from engine.messages import Said, said, said_in
from engine.org import ratelimit
from engine.org.orgtree import describe_group, level_of, split_group, unit_names
from engine.org.ratelimit import Limit
from engine.reads import queries
from engine.runtime import receipts
from engine.runtime.change import ANSWERED_BY_PROPERTY, load_workflow
from engine.store.db import Database
from engine.store.tables import cases

CODE_DIGITS = 6
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_CASE = 5  # on one case from one client
MAX_FAILURES_PER_CLIENT = 10  # from one client over all cases
MAX_FAILURES_PER_CASE_ALL_CLIENTS = 20
# Where one case is: one room, one centre ("level"), where the watch's scope names them all
LEVEL_NAMES = {"village": said_in("level", "村便民服务室"), "town": said_in("level", "镇便民服务中心"),
               "district": said("区行政服务中心")}



def _paused(**when: object) -> Said:
    return said("查询失败次数过多，本机已暂停在线查询；请在 %(until)s（约 %(minutes)s 分钟）后再试。"
                "如忘记查询码，请持身份证到受理窗口查询。", **when)


def _case_paused(**when: object) -> Said:
    return said("此办件编号近期被多处反复查询，为防止查询码被猜中已暂停在线查询；请在 %(until)s（约 %(minutes)s 分钟）"
                "后再试，或持身份证到受理窗口查询。", **when)


BY_CLIENT = Limit("follow-client", MAX_FAILURES_PER_CLIENT, WINDOW, _paused)
BY_CASE_AND_CLIENT = Limit("follow-case-client", MAX_FAILURES_PER_CASE, WINDOW, _paused)
BY_CASE = Limit("follow-case", MAX_FAILURES_PER_CASE_ALL_CLIENTS, WINDOW, _case_paused)


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def code_hash(case_no: str, code: str) -> str:
    """Salted by the case number, so one code's hash says nothing about another case's."""
    return hashlib.sha256(f"{case_no}:{code.strip()}".encode()).hexdigest()


def check(conn: Connection, case_no: str, code: str, client: str) -> bool:
    """Whether the pair is right; a wrong one is counted before this returns, and a look-up over a limit is
    refused without comparing the code (raising, so the caller's transaction drops its counts).

    Three limits, counted per case number whether or not the case exists (a pause says nothing about
    which numbers are real). Per case *and client*, so one client guessing a case pauses that client
    only: the applicant following their case from elsewhere is not locked out by a stranger. Per client,
    so one client cannot sweep many cases. Per case over all clients, set higher than one client can reach,
    so guesses spread over many addresses stay few (20 a window); only such a spread attack pauses a case
    for its applicant too — until its window ends and the count starts over — and the window staff still
    answer them. A right code gives its attempt back: it is not a failure.
    """
    counted = [(BY_CLIENT, client), (BY_CASE_AND_CLIENT, f"{case_no[:32]}:{client}"), (BY_CASE, case_no[:32])]
    ratelimit.count(conn, counted)
    stored = conn.execute(select(cases.c.query_code_hash).where(cases.c.case_no == case_no)).scalar_one_or_none()
    ok = stored is not None and hmac.compare_digest(stored, code_hash(case_no, code))
    if ok:
        ratelimit.uncount(conn, counted)
    return ok


def follow(db: Database, case_no: str, code: str, client: str) -> dict[str, Any]:
    """What an applicant may see of their case: status, where it is, the deadline, any supplement asked."""
    case_no, code = case_no.strip(), code.strip()
    if not case_no or not code:
        raise OnewindowError(said("请输入办件编号和查询码。"))
    with db.transaction() as conn:  # committed before the answer: a wrong guess is counted first
        ok = check(conn, case_no, code, client)
    if not ok:  # one message whether the case exists or not: numbers cannot be probed
        raise NotFound(said("办件编号或查询码不正确；请核对受理回执上的办件编号和查询码。"))
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
    supplement = next((r["content"] for r in reversed(given) if r["kind"] == "supplement"), None) \
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
