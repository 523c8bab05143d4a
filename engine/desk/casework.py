"""The clerk's and applicant's use cases: start a case, claim, release and complete a task.

Each one is a small function handed to `runtime.change_case`, so each runs in the one transaction
with the optimistic lock; the checks (membership, form schema, task still open) happen inside it,
so a failed check writes nothing.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, bindparam, func, select

from engine.desk import countersign
from engine.diagrams.forms import validate_form
from engine.errors import ConflictError, NotFound, OnewindowError, PermissionDenied, StaleTaskError
from engine.hall import follow
from engine.messages import said, said_in
from engine.org.assignment import Actor, check_may_handle
from engine.runtime import applications, indexes, intake, taskdata
from engine.runtime.caseaccess import user_id
from engine.runtime.chain import GENESIS
from engine.runtime.change import (
    ANSWERED_BY_PROPERTY,
    CASE_STATUS_PROPERTY,
    OPEN,
    SUBMITTED,
    CaseContext,
    apply_change,
    change_case,
    change_case_of_task,
    load_specs,
    routing_of,
)
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import SERIALIZER_VERSION
from engine.store.db import Database
from engine.store.tables import cases, items, process_versions, server_defaults, task_index, users
from engine.time import clock

ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
PHONE = re.compile(r"^[0-9]{5,16}$")


@dataclass(frozen=True)
class StartedCase:
    case_no: str
    status: str
    version: int
    query_code: str = ""  # the applicant's follow-up code: shown once on the receipt, stored only hashed


def start_case(db: Database, item_code: str, data: dict[str, Any], actor: Actor, unit: str | None = None,
               mandate: dict[str, Any] | None = None, recorded: bool = False) -> StartedCase:
    """Open a case of the item's latest version (the case stays pinned to it) and run to its first wait.

    `data` must fit the item's application form (`engine.runtime.applications`). `unit` is the window the
    application came in at (default: the actor's own unit); a clerk of a village room applying for
    someone must give the applicant's `mandate` (委托, S-5). Where the case came in decides how its
    【relative】 lanes resolve and whether it travels up the levels. `recorded`: re-execution feeding an
    application the platform accepted when it was made (`engine.audit.replay`) — it is not judged again by
    today's form.
    """
    with db.transaction() as conn:
        return start_case_in(conn, item_code, data, actor, unit, mandate, recorded)


def start_case_in(conn: Connection, item_code: str, data: dict[str, Any], actor: Actor, unit: str | None = None,
                  mandate: dict[str, Any] | None = None, recorded: bool = False) -> StartedCase:
    """`start_case` inside an open transaction: a use case that opens a case as part of something larger
    (a rating's rectification, a supervisor's exception) commits both or neither."""
    if not isinstance(data, dict):
        raise OnewindowError(said("申请数据必须是一个对象（JSON object）"))
    now = clock.now()
    version = conn.execute(_LATEST_VERSION, {"b_code": item_code}).one_or_none()
    if version is None:
        raise NotFound(said("事项 %(item_code)s 不存在或尚未部署；请从事项列表中选择。", item_code=item_code))
    intake.ensure_offered(conn, item_code, version.withdrawn)
    specs = load_specs(conn, version.content_hash, version.id)
    if not recorded:
        applications.check(specs, data)
    front = intake.front_unit(conn, specs, unit or actor.unit)
    intake.check_window(actor, front)
    mandate = intake.check_mandate(conn, actor, front, mandate)
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(copy.deepcopy(data))  # the task's own copy: `data` is also what the audit event records
    taskdata.set_case_facts(workflow, routing_of(specs, front).flags())  # once per case, not in every task
    # The number comes from the row's id, and the first audit event's hash covers the number: the id is taken
    # first (with the applicant's user id, none for someone without an account), and the case is written once,
    # with its state, by the save at the end of the first change below (`save_case`, `opening`).
    keys = conn.execute(_NEW_CASE_KEYS[conn.dialect.name], {"b_applicant": actor.username}).one()
    case_no = f"{clock.local_date(now):%Y%m%d}{keys.id:06d}"
    query_code = follow.new_code()
    row = SimpleNamespace(**new_case_row(
        id=keys.id, case_no=case_no, item_id=version.item_id, version_id=version.id, applicant_id=keys.applicant_id,
        status=SUBMITTED, serializer_version=SERIALIZER_VERSION, lock_version=0, audit_seq=0, audit_head=GENESIS,
        created_at=now, updated_at=now, applicant_name=(name := _applicant_name(data, actor)),
        applicant_grams=indexes.grams_value(conn, name), unit_code=front, mandate=mandate,
        query_code_hash=follow.code_hash(case_no, query_code), **applicant_contact(data, mandate),
    ), content_hash=version.content_hash, item_code=item_code, item_name=version.item_name)

    def begin(ctx: CaseContext) -> str:
        ctx.record("case_started", item=item_code, version=version.number, data=data,
                   **({"unit": front} if front else {}), **({"mandate": mandate} if mandate else {}))
        ctx.advance()
        return ctx.status

    status = apply_change(conn, row, actor, begin, now, workflow)
    return StartedCase(case_no, status, version.number, query_code)


_LATEST_VERSION = (select(items.c.id.label("item_id"), items.c.name.label("item_name"), process_versions.c.id,
                          process_versions.c.number, process_versions.c.content_hash,
                          intake.withdrawn(items.c.code).label("withdrawn"))
                   .join(process_versions, (process_versions.c.item_id == items.c.id)
                         & (process_versions.c.number == items.c.latest_version))
                   .where(items.c.code == bindparam("b_code")))
# The next case id as each database gives it (PostgreSQL's sequence; on SQLite the writer holds the database's
# lock from BEGIN IMMEDIATE, so no one else takes the same id), and the applicant's user id.
_APPLICANT_ID = select(users.c.id).where(users.c.username == bindparam("b_applicant")).scalar_subquery()
_NEW_CASE_KEYS = {
    "postgresql": select(func.nextval(func.pg_get_serial_sequence("cases", "id")).label("id"),
                         _APPLICANT_ID.label("applicant_id")),
    "sqlite": select((func.coalesce(func.max(cases.c.id), 0) + 1).label("id"), _APPLICANT_ID.label("applicant_id")),
}


_NEW_CASE_DEFAULTS = server_defaults(cases)


def new_case_row(**values: Any) -> dict[str, Any]:
    """Every column of a case about to be opened, as its one INSERT will write it (`change.save_case`): the change
    that opens it reads its row before the row exists, so the columns it leaves out hold their server defaults."""
    unknown = set(values) - set(_NEW_CASE_DEFAULTS)
    if unknown:
        raise TypeError(f"not columns of cases: {sorted(unknown)}")
    return {**_NEW_CASE_DEFAULTS, **values}


def _applicant_name(data: dict[str, Any], actor: Actor) -> str:
    """Who the case is for: the name given in the application (an agent may apply for someone), else the actor."""
    named = data.get("applicant_name")
    return str(named)[:128] if isinstance(named, str) and named.strip() else (actor.display_name or actor.username)



def applicant_contact(data: dict[str, Any], mandate: dict[str, Any] | None) -> dict[str, str | None]:
    """The application's ID number (the applicant's, else the mandate principal's) and phone, as the case keeps
    them for finding people (`engine.reads.casesearch`); a value that is not one is not kept."""
    number = str(data.get("id_number") or (mandate or {}).get("principal_id_number") or "").strip().upper()
    phone = str(data.get("phone") or "").strip()
    return {"applicant_id_number": number if ID_NUMBER.match(number) else None,
            "applicant_phone": phone if PHONE.match(phone) else None}


def _instance(task) -> dict[str, Any]:
    """The instance key of a multi-instance task, recorded so re-execution answers the same instance."""
    instance = taskdata.instance_of(task)
    return {} if instance is None else {"instance": instance}


def claim_task(db: Database, task_id: str, actor: Actor) -> str:
    """签收: the task becomes the actor's; others in the group see it taken."""

    def claim(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "签收"))
        taskdata.set_assignee(task, actor.username)
        ctx.record("task_claimed", task.task_spec.bpmn_id, task_id=task_id, **_instance(task))
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, claim)


BATCH_MAX = 50  # tasks claimed at once from the desk's list (a page is 20)


@dataclass(frozen=True)
class Claimed:
    """What a batch 签收 did: the cases claimed, and each task refused with the reason (named by case and step)."""

    claimed: list[str]
    failed: list[tuple[str, str]]


def claim_tasks(db: Database, task_ids: list[str], actor: Actor) -> Claimed:
    """批量签收: each task claimed by its own change (`claim_task`), so one refusal stops none of the others."""
    wanted = list(dict.fromkeys(t for t in task_ids if isinstance(t, str) and 0 < len(t) <= 64))
    if not wanted:
        raise OnewindowError(said("请先勾选要签收的任务。"))
    if len(wanted) > BATCH_MAX:
        raise OnewindowError(said("一次最多签收 %(batch_max)s 项任务；请分批签收。", batch_max=BATCH_MAX))
    with db.reading() as conn:
        named = {r.task_id: said("办件 %(case_no)s“%(step)s”", case_no=r.case_no, step=r.name) for r in conn.execute(
            select(task_index.c.task_id, task_index.c.case_no, task_index.c.name)
            .where(task_index.c.task_id.in_(wanted)))}
    result = Claimed([], [])
    for task_id in wanted:
        try:
            result.claimed.append(claim_task(db, task_id, actor))
        except OnewindowError as exc:  # refused (not in the group), taken or finished meanwhile
            result.failed.append((named.get(task_id, said("一项已办结或不存在的任务")), exc.said))
    return result


def release_task(db: Database, task_id: str, actor: Actor) -> str:
    """Give a claimed task back to its group."""

    def release(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "退回组内"))
        delegation = taskdata.delegation(task)
        if delegation:  # the delegator holds a delegated task until it is confirmed or recalled
            raise ConflictError(said("此任务已委派给 %(delegate)s，请先收回委派再退回组内。",
                                     delegate=delegation['delegate']))
        taskdata.clear_assignee(task)
        ctx.record("task_released", task.task_spec.bpmn_id, task_id=task_id)
        return ctx.case.case_no

    return change_case_of_task(db, task_id, actor, release)


def complete_task(db: Database, task_id: str, data: dict[str, Any], actor: Actor) -> str:
    """Validate `data` against the task's form, run the task, advance; returns the case number."""
    return change_case_of_task(db, task_id, actor, lambda ctx: complete(ctx, ctx.open_task(task_id), data, actor))


def complete(ctx: CaseContext, task: Task, data: dict[str, Any], actor: Actor) -> str:
    """Inside a change: the handler's submission of an open task."""
    check_may_handle(actor, ctx.group_of(task), taskdata.assignee(task), said_in("action", "办理"))
    if countersign.holds(ctx, task, data, actor):  # 加签 after: kept until the reviewer answers (issue 15, item 11)
        return ctx.case.case_no
    return _run_task(ctx, task, data)


def _run_task(ctx: CaseContext, task, data: dict[str, Any]) -> str:
    form = indexes.task_form(task)
    if form is not None:
        validate_form(ctx.specs.forms[form], data, form)
    task.data.update(data)
    ctx.run(task)
    ctx.record("task_completed", task.task_spec.bpmn_id, task_id=str(task.id),
               name=task.task_spec.bpmn_name, data=data, **_instance(task))
    ctx.after_completion(task)
    if ctx.status == SUBMITTED and not _properties(task).get(CASE_STATUS_PROPERTY):  # a step's own status stands
        ctx.set_status(OPEN, task.task_spec.bpmn_id)
    ctx.advance()
    return ctx.case.case_no


def applicant_actor(case_no: str) -> Actor:
    """Who answers online after proving the case's follow-up code (no account needed)."""
    return Actor(f"applicant:{case_no}", "申请人", frozenset({"applicant"}))


def answer_as_applicant(db: Database, case_no: str, data: dict[str, Any], actor: Actor) -> str:
    """The applicant completes the step the diagram leaves to them (answeredBy=applicant), e.g. submits the
    supplement asked for. `actor` is the case's own applicant user, or `applicant_actor(case_no)` after a
    check of the follow-up code."""

    def answer(ctx: CaseContext) -> str:
        if actor.username != applicant_actor(case_no).username and not actor.is_admin \
                and ctx.case.applicant_id != user_id(ctx.conn, actor.username):
            raise PermissionDenied(said("只有本办件的申请人可以在线补正；请使用申请时的账号，或办件编号和查询码。"))
        task = next((t for t in indexes.open_human_tasks(ctx.workflow)
                     if _properties(t).get(ANSWERED_BY_PROPERTY) == "applicant"), None)
        if task is None:
            raise StaleTaskError(said("此办件当前没有需要申请人在线办理的事项（可能已补正或已由窗口办理）。"))
        return _run_task(ctx, task, data)

    return change_case(db, case_no, actor, answer)


def _properties(task) -> dict[str, str]:
    return task.task_spec.extensions.get("properties", {}) if hasattr(task.task_spec, "extensions") else {}

