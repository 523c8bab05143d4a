"""What a supervisor (电子监察) does about a case: acknowledge a warning, chase (催办), open an exception case.

管办分离 (S-16): supervisors watch every case and handle none of the clerks' tasks (the engine's
`check_may_handle` refuses anyone outside a task's group). Their actions are facts about the case, so
each is written like any other change — through `runtime.change_case`, one audit event in the case's own
hash chain — and touches nothing of the workflow: the change only records (and writes its side rows:
the warning's acknowledgement, the chase's notifications). Each event holds exactly its inputs, so
re-execution (`engine.audit.replay`) feeds it back through the same function (`feed`).

An exception (异常处理) is not handled here: it is a case of its own, of the BPMN item
`SUP-EXCEPTION` (processes/supervision/exception-handling/), started with the original case's number
in its data; the original case's chain records that it was opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from engine.desk import casework
from engine.desk.taskops import after_colon
from engine.errors import ConflictError, NotFound, OnewindowError, PermissionDenied
from engine.messages import said, said_in
from engine.org.assignment import Actor
from engine.org.orgtree import department_unit, unit_names
from engine.runtime import telling
from engine.runtime.casewarnings import set_chase_deadline
from engine.runtime.change import TERMINAL, CaseContext, change_case, change_case_in
from engine.store.db import Database
from engine.store.tables import case_warnings, cases, items, org_units, task_index, users
from engine.time.clock import as_utc, iso_utc
from engine.watch.watchsettings import chase_days

SUPERVISE_ROLES = frozenset({"supervisor", "admin"})
EXCEPTION_ITEM = "SUP-EXCEPTION"
NOTE_MAX = 1000
# The events this module writes; re-execution feeds each back through `feed`.
INPUTS = ("warning_acknowledged", "case_chased", "exception_opened")


class SupervisionRefused(OnewindowError):
    status = 422
    code = "supervision_refused"


def require_supervisor(actor: Actor) -> None:
    if not SUPERVISE_ROLES.intersection(actor.roles):
        raise PermissionDenied(said("只有电子监察人员可以进行监察操作（确认预警、督办、发起异常处理）。"))


def _note(note: str | None, required: bool, what: str) -> str:
    text = (note or "").strip()
    if required and not text:
        raise SupervisionRefused(said("请写明%(what)s的事由。",
                                      what=what), field_errors={"note": [said("请填写%(what)s事由", what=what)]})
    if len(text) > NOTE_MAX:
        raise SupervisionRefused(said("%(what)s事由不能超过 %(note_max)s 字。",
                                      what=what, note_max=NOTE_MAX), field_errors={"note": [said("内容过长")]})
    return text


# --- the warnings list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningFilter:
    level: str | None = None  # yellow | red
    kind: str | None = None  # committed | statutory | step
    state: str = "open"  # open (unacknowledged) | acknowledged | all


def list_warnings(db: Database, filters: WarningFilter = WarningFilter(), limit: int = 500) -> list[dict[str, Any]]:
    """Yellow and red warnings and step overruns, newest first, with the case facts the list shows."""
    query = (select(case_warnings, cases.c.case_no, cases.c.status, cases.c.warning_level.label("case_level"),
                    cases.c.unit_code, items.c.code.label("item_code"), items.c.name.label("item_name"),
                    items.c.department)
             .join(cases, cases.c.id == case_warnings.c.case_id).join(items, items.c.id == cases.c.item_id))
    if filters.level:
        query = query.where(case_warnings.c.level == filters.level)
    if filters.kind:
        query = query.where(case_warnings.c.kind == filters.kind)
    if filters.state == "open":
        query = query.where(case_warnings.c.acknowledged_at.is_(None))
    elif filters.state == "acknowledged":
        query = query.where(case_warnings.c.acknowledged_at.is_not(None))
    query = query.order_by(case_warnings.c.raised_at.desc(), case_warnings.c.id.desc()).limit(limit)
    with db.reading() as conn:
        rows = conn.execute(query).all()
        names = unit_names(conn)
    windows = {r.id: r.unit_code or department_unit(r.department) for r in rows}
    return [{"id": r.id, "case_no": r.case_no, "item_code": r.item_code, "item_name": r.item_name,
             "department": r.department, "window": windows[r.id],
             "window_name": names.get(windows[r.id], windows[r.id]),
             "level": r.level, "kind": r.kind, "element_id": r.element_id, "due_at": as_utc(r.due_at),
             "raised_at": as_utc(r.raised_at), "notified": r.notified, "case_status": r.status,
             "case_level": r.case_level, "case_open": r.status not in TERMINAL,
             "acknowledged_by": r.acknowledged_by, "acknowledged_at": as_utc(r.acknowledged_at)} for r in rows]


# --- acknowledge ----------------------------------------------------------------------------------


def acknowledge_warning(db: Database, warning_id: int, actor: Actor, note: str = "") -> str:
    """确认预警: the supervisor has seen this warning; recorded in the case's chain. Returns the case number."""
    require_supervisor(actor)
    text = _note(note, False, said("确认"))
    with db.reading() as conn:
        case_no = conn.execute(select(cases.c.case_no).join(case_warnings, case_warnings.c.case_id == cases.c.id)
                               .where(case_warnings.c.id == warning_id)).scalar_one_or_none()
    if case_no is None:
        raise NotFound(said("预警 %(warning_id)s 不存在；请刷新预警列表。", warning_id=warning_id))

    def acknowledge(ctx: CaseContext) -> str:
        row = ctx.conn.execute(select(case_warnings).where(case_warnings.c.id == warning_id,
                                                           case_warnings.c.case_id == ctx.case.id)).one()
        if row.acknowledged_at is not None:
            who = ctx.conn.execute(select(users.c.display_name).where(users.c.username == row.acknowledged_by)
                                   ).scalar_one_or_none() or said("其他监察人员")
            raise ConflictError(said("此预警已由%(who)s确认；请刷新预警列表。", who=who))
        ctx.conn.execute(update(case_warnings).where(case_warnings.c.id == warning_id)
                         .values(acknowledged_by=actor.username, acknowledged_at=ctx.now))
        ctx.record("warning_acknowledged", row.element_id, level=row.level, kind=row.kind, note=text)
        return ctx.case.case_no

    return change_case(db, case_no, actor, acknowledge)


BATCH_MAX = 500  # the longest list the page shows; more in one request is not a person ticking boxes


@dataclass
class BatchResult:
    """What a batch 确认 did: the cases whose warnings were acknowledged, and each refusal by case."""

    acknowledged: list[str]
    failed: list[tuple[str, str]]  # (the case number, or the warning's number when it has none; why)


def acknowledge_many(db: Database, warning_ids: list[int], actor: Actor, note: str = "") -> BatchResult:
    """批量确认: each warning acknowledged on its own (one change of its case, one audit event), so one
    refused warning — already acknowledged, gone — never undoes the others; every refusal is named."""
    require_supervisor(actor)
    wanted = list(dict.fromkeys(warning_ids))
    if not wanted:
        raise SupervisionRefused(said("请先勾选要确认的预警。"))
    if len(wanted) > BATCH_MAX:
        raise SupervisionRefused(said("一次最多确认 %(batch_max)s 条预警；请分批确认。", batch_max=BATCH_MAX))
    with db.reading() as conn:
        case_of = dict(conn.execute(select(case_warnings.c.id, cases.c.case_no)
                                    .join(cases, cases.c.id == case_warnings.c.case_id)
                                    .where(case_warnings.c.id.in_(wanted))).all())
    result = BatchResult([], [])
    for warning_id in wanted:
        try:
            case_no = acknowledge_warning(db, warning_id, actor, note)
        except PermissionDenied:
            raise
        except OnewindowError as exc:
            result.failed.append((case_of.get(warning_id, said("预警 %(id)s", id=warning_id)), exc.said))
        else:
            if case_no not in result.acknowledged:
                result.acknowledged.append(case_no)
    return result


# --- chase (督办催办) -------------------------------------------------------------------------------


def chase_case(db: Database, case_no: str, actor: Actor, note: str = "", days: int | None = None) -> list[str]:
    """催办 by a supervisor: a notification to each group (and holder) of the case's open tasks.

    The open tasks are read from the task index (the read model), never from the workflow, which
    stays exactly as it was. A chase of an overdue case (a yellow card or worse) sets its chase deadline
    (督办限期, `days` working days, default the administrator's `chase_days`): still overdue when it passes,
    the case gets a red card (`caseclock`). The days are recorded, so re-execution uses the same ones
    (`days=0`: a chase recorded before there were chase deadlines). Returns the recipients.
    """
    require_supervisor(actor)
    text = _note(note, False, said_in("action", "催办"))
    if days is None:
        with db.reading() as conn:
            days = chase_days(conn)

    def chase(ctx: CaseContext) -> list[str]:
        if ctx.status in TERMINAL:
            raise SupervisionRefused(said("办件 %(case_no)s 已办结，无需催办。", case_no=ctx.case.case_no))
        open_tasks = ctx.conn.execute(select(task_index.c.element_id, task_index.c.name, task_index.c.candidate_group,
                                             task_index.c.assignee)
                                      .where(task_index.c.case_id == ctx.case.id)
                                      .order_by(task_index.c.element_id)).all()
        if not open_tasks:
            raise SupervisionRefused(said("办件 %(case_no)s 当前没有待办环节，无需催办。", case_no=ctx.case.case_no))
        recipients: list[str] = []
        for task in open_tasks:
            for recipient in (f"group:{task.candidate_group}" if task.candidate_group else "role:clerk",
                              f"user:{task.assignee}" if task.assignee else None):
                if recipient and recipient not in recipients:
                    recipients.append(recipient)
                    telling.tell(ctx, recipient, "supervision", task.element_id,
                                 said("电子监察督办：办件 %(case_no)s“%(step)s”%(text)s", case_no=ctx.case.case_no,
                                      step=task.name, text=after_colon(text)),
                                 about_case=False)
        deadline = set_chase_deadline(ctx, days) if days else None
        ctx.record("case_chased", recipients=recipients, steps=[t.element_id for t in open_tasks], note=text,
                   **({"chase_days": days, "chase_due_at": iso_utc(deadline)} if days else {}))
        return recipients

    return change_case(db, case_no, actor, chase)


# --- exception (异常处理) ---------------------------------------------------------------------------


def open_exception(db: Database, case_no: str, actor: Actor, problem: str) -> str:
    """异常处理: start a case of `SUP-EXCEPTION` about `case_no` at the window it came in at.

    Its first step goes to that window (lane 【收件窗口】), which explains and puts it right; the
    supervisors then review. The original case's chain records the exception's number — in the same
    transaction, so there is never an exception case its original does not know of.
    """
    require_supervisor(actor)
    text = _note(problem, True, said("异常"))
    with db.transaction() as conn:
        row = conn.execute(select(cases.c.case_no, cases.c.unit_code, items.c.code, items.c.name, items.c.department)
                           .join(items, items.c.id == cases.c.item_id).where(cases.c.case_no == case_no)).one_or_none()
        if row is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        window = _window_in_tree(conn, row.unit_code, row.department)
        data = {"original_case_no": row.case_no, "original_item": f"{row.code} {row.name}", "window": window,
                "problem": text, "opened_by": actor.username}
        started = casework.start_case_in(conn, EXCEPTION_ITEM, data, actor, unit=window)
        change_case_in(conn, case_no, actor, _exception_note(started.case_no, text))
    return started.case_no


def _window_in_tree(conn: Connection, unit_code: str | None, department: str) -> str:
    window = unit_code or department_unit(department)
    if conn.execute(select(org_units.c.code).where(org_units.c.code == window)).scalar_one_or_none() is None:
        raise SupervisionRefused(said("办件的收件窗口“%(window)s”不在组织机构中，无法确定责任窗口；"
                                 "请先在 processes/org.json 中登记该窗口。", window=window))
    return window


def record_exception(db: Database, case_no: str, actor: Actor, exception_case_no: str, problem: str) -> None:
    """The original case's chain names the exception case opened about it."""
    require_supervisor(actor)
    change_case(db, case_no, actor, _exception_note(exception_case_no, problem))


def _exception_note(exception_case_no: str, problem: str) -> Callable[[CaseContext], None]:
    def note(ctx: CaseContext) -> None:
        ctx.record("exception_opened", exception_case_no=exception_case_no, problem=problem)

    return note


# --- re-execution ---------------------------------------------------------------------------------


def feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor: Actor) -> None:
    """Re-execute one recorded supervisor's input on the scratch platform (see engine.audit.replay)."""
    data = event["data"]
    if kind == "warning_acknowledged":
        acknowledge_warning(scratch, _same_warning(scratch, case_no, event), actor, data.get("note", ""))
    elif kind == "case_chased":
        chase_case(scratch, case_no, actor, data.get("note", ""), data.get("chase_days", 0))
    else:  # the exception case itself is another case, re-executed on its own
        record_exception(scratch, case_no, actor, data["exception_case_no"], data["problem"])


def _same_warning(scratch: Database, case_no: str, event: dict[str, Any]) -> int:
    data = event["data"]
    with scratch.reading() as conn:
        found = conn.execute(select(case_warnings.c.id).join(cases, cases.c.id == case_warnings.c.case_id)
                             .where(cases.c.case_no == case_no, case_warnings.c.level == data["level"],
                                    case_warnings.c.kind == data["kind"], case_warnings.c.acknowledged_at.is_(None),
                                    case_warnings.c.element_id.is_(None) if event["element_id"] is None
                                    else case_warnings.c.element_id == event["element_id"])
                             .order_by(case_warnings.c.id)).scalars().first()
    if found is None:
        raise OnewindowError(said("重新执行时没有与记录相符的预警（%(level)s/%(kind)s）可确认",
                                  level=data['level'], kind=data['kind']))
    return found

