"""Moving open cases of one version of an item to another version (迁移), when it is safe.

A case is pinned to the version it started on (S-13); an analyst who fixed a diagram may still want
the cases already running to follow the fix. That is safe only when the new version can take the
case exactly where it stands:

- every step the case is at (open, waiting or running: READY, WAITING, STARTED) exists in the new
  version — in the item's diagram, or in the called process it is running in;
- the data the case collected fits the new version's forms: each completed step's data satisfies
  that step's form in the new version (a field the new form requires was never asked for is a
  gateway condition waiting to fail), and what an open step's form will show fits its new schema;
- a called process the case is inside is unchanged in the new version (SpiffWorkflow can re-point a
  running subprocess, but a changed one would put the case somewhere its history never led);
- and the moved workflow survives the round trip through our serialized state.

`assess_case` answers that for one case without changing anything (the studio lists every open case
with can / cannot and why); `migrate_case` does it through the runtime's one rule: one transaction
per case, the same checks again inside it, SpiffWorkflow's own `migrate_workflow` to re-point the
tasks, the case row pinned to the new version in the guarded UPDATE, the indexes rewritten and a
`case_migrated` event in the case's audit chain. A refused case raises and its transaction rolls
back: it is untouched, and the other cases of a batch go on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, bindparam, select, update

from engine.diagrams.bpmn import FORM_SCHEMA_PROPERTY
from engine.diagrams.forms import validate_form
from engine.diagrams.specs import ProcessSpecs
from engine.errors import ConflictError, FormValidationError, NotFound, OnewindowError, PermissionDenied
from engine.messages import listed, said
from engine.org.assignment import SYSTEM, Actor
from engine.runtime import taskdata
from engine.runtime.change import CaseContext, apply_change, change_case, load_case_row, load_specs
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import dump_state, load_state
from engine.store.db import Database
from engine.store.tables import cases, items, process_versions, task_index
from engine.time import clock

MIGRATION_ROLES = frozenset({"analyst", "admin"})
OPEN_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED
MAX_LISTED = 500  # the studio's list of one version's open cases
_EVENT_KEYS = ("event_value", "event_fired")  # a timer's due time, kept unless its expression changed

# SpiffWorkflow compares task specs through their serialized form; the spiff registry knows ours.
_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


class MigrationRefused(OnewindowError):
    """A case cannot move to the other version; `reasons` says why, in words the analyst acts on."""

    status = 409
    code = "migration_refused"

    def __init__(self, case_no: str, reasons: list[str]) -> None:
        super().__init__(said("办件 %(case_no)s 不能迁移：%(reasons)s", case_no=case_no,
                              reasons=listed(reasons)), reasons=reasons)
        self.reasons = reasons


@dataclass(frozen=True)
class Verdict:
    """Whether one open case can move, and if not, every reason."""

    case_no: str
    applicant_name: str | None
    status: str
    open_elements: tuple[str, ...]
    reasons: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # where the case is, in the diagram's words: the names of its open steps

    @property
    def can(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        return {"case_no": self.case_no, "applicant_name": self.applicant_name, "status": self.status,
                "open_elements": list(self.open_elements), "places": list(self.places), "can": self.can,
                "reasons": list(self.reasons)}


@dataclass
class MigrationResult:
    """What a batch did: the cases moved, and each refused one with its reasons."""

    migrated: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"migrated": self.migrated, "refused": self.refused}


@dataclass(frozen=True)
class Target:
    """The version a case is to move to."""

    version_id: int
    number: int
    content_hash: str
    specs: ProcessSpecs


# --- the checks -----------------------------------------------------------------------------------


def _element(task: Task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _label(task: Task) -> str:
    name = getattr(task.task_spec, "bpmn_name", None)
    element = _element(task)
    return f"「{name}」（{element}）" if name and name != element else f"「{element}」"


def open_elements(workflow: BpmnWorkflow) -> list[str]:
    """The BPMN ids where the case is: open human tasks, waiting events, running call activities."""
    return sorted({_element(t) for t in workflow.get_tasks(state=OPEN_STATES) if getattr(t.task_spec, "bpmn_id", None)})


def _new_spec_for(task: Task, workflow: BpmnWorkflow, new: ProcessSpecs) -> BpmnProcessSpec | None:
    """The new version's spec of the process `task` runs in (the item's own, or a called one)."""
    process = task.workflow.spec.name
    return new.spec if task.workflow is workflow else new.subprocess_specs.get(process)


def assess(workflow: BpmnWorkflow, new: ProcessSpecs, number: int) -> list[str]:
    """Why `workflow` cannot move to the version whose specs are `new` (numbered `number`); empty: it can."""
    reasons: list[str] = []
    for task in workflow.get_tasks(state=OPEN_STATES):
        if getattr(task.task_spec, "bpmn_id", None) is None:
            continue  # SpiffWorkflow's own bookkeeping tasks (Start, End of a process)
        spec = _new_spec_for(task, workflow, new)
        if spec is None:
            reasons.append(said("办件正在调用流程 %(name)s 中，第 %(number)s 版不再调用它",
                                name=task.workflow.spec.name, number=number))
        elif task.task_spec.name not in spec.task_specs:
            reasons.append(said("办件停在环节%(task)s，第 %(number)s 版中没有这个环节",
                                task=_label(task), number=number))
    reasons += _running_subprocess_reasons(workflow, new, number)
    reasons += _data_reasons(workflow, new, number)
    return list(dict.fromkeys(reasons))


def _running_subprocess_reasons(workflow: BpmnWorkflow, new: ProcessSpecs, number: int) -> list[str]:
    reasons = []
    for subprocess in workflow.subprocesses.values():
        if subprocess.completed:
            continue
        spec = new.subprocess_specs.get(subprocess.spec.name)
        if spec is None:
            reasons.append(said("办件正在调用流程 %(name)s 中，第 %(number)s 版不再包含它",
                                name=subprocess.spec.name, number=number))
        elif _spec_changed(subprocess.spec, spec):
            reasons.append(said("办件正在调用流程 %(name)s 中，而第 %(number)s 版修改了该流程；"
                           "请待其返回主流程后再迁移", name=subprocess.spec.name, number=number))
    return reasons


@functools.lru_cache(maxsize=64)
def spec_diff(old: BpmnProcessSpec, new: BpmnProcessSpec) -> SpecDiff:
    """SpiffWorkflow's comparison of two process specs, made once per pair: specs of a deployed version are
    immutable and shared by all its cases (the spec cache), and a batch compares the same pair every time."""
    return SpecDiff(_REGISTRY, old, new)


def _spec_changed(old: BpmnProcessSpec, new: BpmnProcessSpec) -> bool:
    """Any task spec added, removed or altered."""
    diff = spec_diff(old, new)
    return bool(diff.changed or diff.added or diff.removed)


def _data_reasons(workflow: BpmnWorkflow, new: ProcessSpecs, number: int) -> list[str]:
    """Completed steps' data against their new forms (required fields included); open steps' data
    against theirs without `required` (the clerk has yet to fill them)."""
    reasons = []
    for task in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY):
        if not task.task_spec.manual:
            continue
        spec = _new_spec_for(task, workflow, new)
        new_task_spec = spec.task_specs.get(task.task_spec.name) if spec is not None else None
        form = _form_of(new_task_spec)
        if form is None:
            continue
        if form not in new.forms:
            reasons.append(said("环节%(task)s在第 %(number)s 版使用的表单 %(form)s 不在该版本中",
                                task=_label(task), number=number, form=form))
            continue
        problem = _form_problem(new.forms[form], task.data, form, task.state == TaskState.COMPLETED)
        if problem:
            done = said("已填写的数据") if task.state == TaskState.COMPLETED else said("待办数据")
            reasons.append(said("环节%(task)s%(done)s不符合第 %(number)s 版的表单 %(form)s：%(problem)s",
                                task=_label(task), done=done, number=number, form=form, problem=problem))
    return reasons


def _form_of(spec: Any) -> str | None:
    return (getattr(spec, "extensions", None) or {}).get("properties", {}).get(FORM_SCHEMA_PROPERTY)


def _form_problem(schema_text: str, data: dict[str, Any], form: str, completed: bool) -> str | None:
    """The new form's fields taken from the task's data, validated; None when they fit."""
    schema = json.loads(schema_text)
    fields = schema.get("properties") or {}
    subset = {key: value for key, value in data.items() if key in fields}
    if not completed:  # only what is already there must fit: no required fields, no conditional rules
        schema = {key: value for key, value in schema.items() if key in ("$schema", "$defs", "type", "properties")}
    try:
        validate_form(json.dumps(schema, ensure_ascii=False, sort_keys=True), subset, form)
    except FormValidationError as exc:
        return exc.message.removeprefix("表单填写有误 — ")
    return None


# --- moving ---------------------------------------------------------------------------------------


def _timer_expression(spec: Any) -> str | None:
    return getattr(getattr(spec, "event_definition", None), "expression", None)


def move_workflow(workflow: BpmnWorkflow, new: ProcessSpecs) -> BpmnWorkflow:
    """Re-point `workflow` (already assessed) at the new specs with SpiffWorkflow's `migrate_workflow`.

    SpiffWorkflow resets and re-predicts every READY and WAITING task, which would also drop what we
    keep in a task's internal data (the clerk's claim, the step's own deadline, a timer's due time).
    A task that is still there afterwards gets it back — a timer's due time only if its expression is
    unchanged (a changed timer starts again at the migration, as a new version of it would).
    """
    kept = {task.id: (task.task_spec, taskdata.snapshot(task), task.data)
            for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)}
    top = WorkflowDiff(workflow, spec_diff(workflow.spec, new.spec))
    migrate_workflow(top, workflow, new.spec)
    for subprocess in workflow.subprocesses.values():
        spec = new.subprocess_specs.get(subprocess.spec.name)
        if spec is not None:
            migrate_workflow(WorkflowDiff(subprocess, spec_diff(subprocess.spec, spec)), subprocess, spec)
    workflow.subprocess_specs = new.subprocess_specs
    for task_id, (old_spec, internal, data) in kept.items():
        task = workflow.tasks.get(task_id)
        if task is None or task.task_spec.name != old_spec.name:
            continue
        if _timer_expression(old_spec) != _timer_expression(task.task_spec):
            internal = {k: v for k, v in internal.items() if k not in _EVENT_KEYS}
        taskdata.restore(task, internal)
        task.data = data
    return workflow


def _round_trip(workflow: BpmnWorkflow, new: ProcessSpecs) -> BpmnWorkflow:
    """The moved workflow as it will be loaded from now on: saved and read back on the new specs."""
    return load_state(dump_state(workflow), new, script_engine)


def trial(workflow: BpmnWorkflow, target: Target) -> tuple[list[str], BpmnWorkflow | None]:
    """Assess, then move (the workflow object is changed): (reasons, moved workflow or None)."""
    reasons = assess(workflow, target.specs, target.number)
    if reasons:
        return reasons, None
    try:
        return [], _round_trip(move_workflow(workflow, target.specs), target.specs)
    except Exception as exc:
        return [f"迁移后的流程状态无法在第 {target.number} 版上还原（{type(exc).__name__}: {exc}）"], None


# --- versions and cases ---------------------------------------------------------------------------


def target_version(conn: Connection, item_id: int, number: int) -> Target:
    row = conn.execute(select(process_versions.c.id, process_versions.c.number, process_versions.c.content_hash)
                       .where(process_versions.c.item_id == item_id, process_versions.c.number == number)
                       ).one_or_none()
    if row is None:
        raise NotFound(said("目标版本第 %(number)s 版不存在；请从版本列表中选择。", number=number))
    return Target(row.id, row.number, row.content_hash, load_specs(conn, row.content_hash, row.id))


def _item_id(conn: Connection, item_code: str) -> int:
    item_id = conn.execute(select(items.c.id).where(items.c.code == item_code)).scalar_one_or_none()
    if item_id is None:
        raise NotFound(said("事项 %(item_code)s 不存在；请从事项列表中选择。", item_code=item_code))
    return item_id


def assess_version(db: Database, item_code: str, from_number: int, to_number: int) -> list[Verdict]:
    """Every open case of version `from_number` (at most MAX_LISTED, oldest first): can it move to `to_number`?

    Each case is tried exactly as `migrate_case` would move it — inside the runtime's change, so timer
    expressions see the change's clock and calendar — and the change is discarded: nothing is written.
    """
    now = clock.now()
    with db.reading() as conn:
        item_id = _item_id(conn, item_code)
        source = target_version(conn, item_id, from_number)
        target = target_version(conn, item_id, to_number)
        case_nos = conn.execute(select(cases.c.case_no).where(cases.c.version_id == source.version_id,
                                                              cases.c.closed_at.is_(None))
                                .order_by(cases.c.id).limit(MAX_LISTED)).scalars().all()

        def dry_run(ctx: CaseContext) -> Verdict:
            ctx.discarded = True
            where = tuple(open_elements(ctx.workflow))  # read before the trial moves the workflow
            places = tuple(dict.fromkeys(t.task_spec.bpmn_name or _element(t) for t in ctx.workflow.get_tasks(
                state=TaskState.READY | TaskState.STARTED) if getattr(t.task_spec, "bpmn_id", None)))
            reasons = ["目标版本就是办件当前的版本"] if from_number == to_number else trial(ctx.workflow, target)[0]
            return Verdict(ctx.case.case_no, ctx.case.applicant_name, ctx.case.status, where, tuple(reasons), places)

        return [apply_change(conn, load_case_row(conn, case_no), SYSTEM, dry_run, now) for case_no in case_nos]


def _check_actor(actor: Actor) -> None:
    if not (actor.is_admin or actor.roles & MIGRATION_ROLES):
        raise PermissionDenied(said("只有流程管理员可以迁移办件。"))


def migrate_case(db: Database, case_no: str, to_number: int, actor: Actor) -> int:
    """Move one open case to version `to_number` of its item, in one transaction; returns the old number.

    Raises `MigrationRefused` (nothing written) when it is not safe; see the module docstring.
    """
    _check_actor(actor)

    def migrate(ctx: CaseContext) -> int:
        conn = ctx.conn
        current = conn.execute(select(process_versions.c.number)
                               .where(process_versions.c.id == ctx.case.version_id)).scalar_one()
        if ctx.case.closed_at is not None:
            raise MigrationRefused(case_no, [said("办件已办结，无需迁移")])
        if current == to_number:
            raise MigrationRefused(case_no, [said("办件已在第 %(to_number)s 版上", to_number=to_number)])
        target = target_version(conn, ctx.case.item_id, to_number)
        reasons, moved = trial(ctx.workflow, target)
        if moved is None:
            raise MigrationRefused(case_no, reasons)
        ctx.move_to_version(target.version_id, target.specs, moved)
        _refresh_task_rows(ctx)
        ctx.record("case_migrated", version_from=current, version_to=to_number,
                   hash_from=ctx.case.content_hash, hash_to=target.content_hash,
                   open_elements=open_elements(moved))
        ctx.advance()
        return current

    return change_case(db, case_no, actor, migrate)


def _refresh_task_rows(ctx: CaseContext) -> None:
    """Open tasks keep their index rows (and their created time) across a migration, but their name,
    lane, group and form are now the new version's. The index rewrite of the save only updates a kept
    row's assignee, so the migration brings the rest up to date itself — after taking the case row's
    lock, so that this early write keeps the runtime's lock order (case row first, then its index rows)."""
    locked = ctx.conn.execute(select(cases.c.id).where(cases.c.id == ctx.case.id,
                                                       cases.c.lock_version == ctx.case.lock_version)
                              .with_for_update()).scalar_one_or_none()
    if locked is None:
        raise ConflictError(said("办件 %(case_no)s 刚被他人修改，未迁移；请刷新后重试。", case_no=ctx.case.case_no))
    rows = [{"b_task_id": str(task.id), "element_id": task.task_spec.bpmn_id,
             "name": task.task_spec.bpmn_name or task.task_spec.bpmn_id, "lane": task.task_spec.lane,
             "candidate_group": ctx.group_of(task), "form": _form_of(task.task_spec)}
            for task in ctx.workflow.get_tasks(state=TaskState.READY, manual=True)]
    if rows:
        ctx.conn.execute(_TASK_ROW, rows)


_TASK_ROW = update(task_index).where(task_index.c.task_id == bindparam("b_task_id"))


def migrate_cases(db: Database, case_nos: Iterable[str], to_number: int, actor: Actor) -> MigrationResult:
    """Move each case in its own transaction; a refused or conflicting case is reported, the rest go on."""
    _check_actor(actor)
    result = MigrationResult()
    for case_no in case_nos:
        try:
            migrate_case(db, case_no, to_number, actor)
        except MigrationRefused as exc:
            result.refused[case_no] = exc.reasons
        except (ConflictError, NotFound) as exc:
            result.refused[case_no] = [exc.message]
        else:
            result.migrated.append(case_no)
    return result
