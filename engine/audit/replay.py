"""Re-execution: rebuild a case from its recorded inputs only and compare with what was recorded.

The audit trail holds every input a case ever received — the application data, each form a clerk
submitted, each claim, each extension, and the moments the scheduler looked at it. Re-execution
feeds exactly those inputs, at their recorded times, through the platform's own code paths
(`casework`, `scheduler.tick`) into a scratch in-memory database holding only the case's pinned
version, and checks, change by change, that the rules produce the same events; at the end the
rebuilt workflow must equal the stored one. An auditor thus proves the recorded outcome is what the
diagram produces (S-14, S-16) — or learns the first place where it is not.

Inputs are grouped by transaction: all events of one change share its moment (`at`), and the first
event of a group says what started it (see `_INPUTS`); a group started by the platform itself is
replayed as a scheduler tick at that moment. (A tick at the very microsecond of a person's change
to the same case would be read as part of that change; real clocks do not produce that.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update

from engine.catalogue import case_migration
from engine.desk import attachments, caseops, casework, clockops, closing, comments, countersign, materials, taskops
from engine.errors import NotFound, OnewindowError
from engine.messages import said
from engine.org import accounts
from engine.reads import queries
from engine.runtime import incidents, taskdata
from engine.runtime.change import load_workflow
from engine.runtime.scheduler import tick
from engine.store.db import Database
from engine.store.tables import calendar_overrides, cases, items, metadata, org_units, process_versions, task_index
from engine.time import clock
from engine.watch.supervision import INPUTS as SUPERVISION_INPUTS
from engine.watch.supervision import feed as feed_supervision

# The first event of a change that came from outside: a person, or the applicant.
_INPUTS = ("case_started", "task_completed", "task_claimed", "task_released", "deadline_extended", "case_migrated",
           "special_procedure_started", "special_procedure_ended",  # 特别程序 (engine/desk/clockops.py)
           # the desk's operations (engine/desk/taskops.py, attachments.py, comments.py, materials.py)
           "task_transferred", "task_delegated", "delegation_submitted", "delegation_returned",
           "delegation_recalled", "task_returned", "task_withdrawn", "case_copied", "case_urged",
           "attachment_added", "comment_added", "materials_checked",
           *SUPERVISION_INPUTS,  # the supervisors' actions (engine/watch/supervision.py)
           *closing.INPUTS, *countersign.INPUTS,  # withdraw/terminate, 加签 (engine/desk/closing.py, countersign.py)
           *incidents.INPUTS)  # an operator's retry or resolution of an incident (engine/runtime/incidents.py)
_CASE_INPUTS = ("task_withdrawn", "case_copied", "case_urged", "attachment_added", "comment_added",
                "materials_checked")
# Event data that differ by nature between the run and its re-execution (random task ids).
_VOLATILE_KEYS = frozenset({"task_id", "target_task_id"})
REPLAY_ROLES = ["admin", "chief", "clerk"]


@dataclass
class Step:
    """One change of the case as re-executed: what started it, and what the rules produced."""

    index: int
    at: str
    actor: str
    input: str  # one of _INPUTS, or "tick"
    element_id: str | None
    recorded: list[dict[str, Any]]
    produced: list[dict[str, Any]]
    active_after: list[str] = field(default_factory=list)  # elements open after this change (tokens)
    completed: list[str] = field(default_factory=list)  # elements completed in this change
    changed: dict[str, list[Any]] = field(default_factory=dict)  # case data this change set: key → [old, new]

    @property
    def identical(self) -> bool:
        return self.recorded == self.produced

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "at": self.at, "actor": self.actor, "input": self.input,
                "element_id": self.element_id, "identical": self.identical, "recorded": self.recorded,
                "produced": self.produced, "active_after": self.active_after, "completed": self.completed,
                "changed": self.changed}


@dataclass
class ReplayReport:
    case_no: str
    identical: bool
    steps: list[Step]
    divergence: str | None = None

    @property
    def summary(self) -> str:
        if self.identical:
            return said("办件 %(case_no)s：重新执行 %(n)s 次变更，结果与记录完全一致", case_no=self.case_no,
                        n=len(self.steps))
        return said("办件 %(case_no)s：重新执行结果与记录不一致 — %(divergence)s", case_no=self.case_no,
                    divergence=self.divergence)

    def to_dict(self) -> dict[str, Any]:
        return {"case_no": self.case_no, "identical": self.identical, "divergence": self.divergence,
                "summary": self.summary, "steps": [s.to_dict() for s in self.steps]}


def replay_case(db: Database, case_no: str) -> ReplayReport:
    """Re-execute `case_no` from its recorded inputs on its pinned version; see the module docstring."""
    history = queries.case_history(db, case_no)
    if not history or history[0]["type"] != "case_started":
        raise NotFound(said("办件 %(case_no)s 没有可重新执行的记录（缺少提交申请事件）。", case_no=case_no))
    scratch = _scratch_database(db, case_no, {e["actor"] for e in history}, _versions_lived_on(history))
    _add_people_named(scratch, history)
    try:
        return _replay(db, scratch, case_no, history)
    finally:
        scratch.dispose()


def _replay(db: Database, scratch: Database, case_no: str, history: list[dict[str, Any]]) -> ReplayReport:
    steps: list[Step] = []
    task_ids: dict[str, str] = {}  # recorded task id → the re-executed task's id
    seen = 0
    done: set = set()  # ids of the scratch tasks already completed before this change
    for index, group in enumerate(_changes(history)):
        first = group[0]
        at = _moment(first["at"])
        kind = first["type"] if first["type"] in _INPUTS else "tick"
        try:
            with clock.frozen_at(at):
                _feed(scratch, kind, first, case_no, task_ids)
        except OnewindowError as exc:
            step = Step(index, first["at"], first["actor"], kind, first["element_id"], _comparable(group),
                        [{"error": exc.message}])
            steps.append(step)
            failure = said("第 %(n)s 次变更（%(at)s）重新执行失败：%(why)s", n=index + 1, at=first["at"], why=exc.said)
            return ReplayReport(case_no, False, steps, failure)
        produced_all = queries.case_history(scratch, case_no)
        produced = produced_all[seen:]
        seen = len(produced_all)
        workflow = load_workflow(scratch, case_no)
        step = Step(index, first["at"], first["actor"], kind, first["element_id"], _comparable(group),
                    _comparable(produced), _active(workflow),
                    [e["element_id"] for e in produced if e["type"] in ("task_completed", "step_completed")],
                    _changed_by(workflow, done))
        steps.append(step)
        if not step.identical:
            return ReplayReport(case_no, False, steps, _first_difference(index, group, step))
    if _shape(load_workflow(db, case_no)) != _shape(load_workflow(scratch, case_no)):
        return ReplayReport(case_no, False, steps, said("所有事件一致，但重新执行得到的流程状态与存储的状态不同"))
    return ReplayReport(case_no, True, steps)


def _changes(history: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The history cut into changes: a new change begins at a new moment or at an outside input."""
    changes: list[list[dict[str, Any]]] = []
    for event in history:
        within = event["type"] == "task_completed" and "countersigned_by" in (event["data"] or {})  # 加签's
        if not changes or event["at"] != changes[-1][0]["at"] or (event["type"] in _INPUTS and not within):
            changes.append([])
        changes[-1].append(event)
    return changes


def _feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, task_ids: dict[str, str]) -> None:
    """Give the scratch platform the input that started this change."""
    actor = accounts.actor_for(scratch, event["actor"]) if kind != "tick" else None
    data = event["data"]
    if kind == "case_started":
        started = casework.start_case(scratch, data["item"], data.get("data") or {}, actor, unit=data.get("unit"),
                                      mandate=data.get("mandate"), recorded=True)
        with scratch.transaction() as conn:  # the re-executed case answers to the recorded number
            conn.execute(update(cases).where(cases.c.case_no == started.case_no).values(case_no=case_no))
            # the task index repeats the number for the desk's list (and `_match_task` finds tasks by it)
            conn.execute(update(task_index).where(task_index.c.case_no == started.case_no).values(case_no=case_no))
    elif kind == "tick":
        tick(scratch, clock.now())
    elif kind == "deadline_extended":
        clockops.extend_deadline(scratch, case_no, data["days"], data["reason"], actor)
    elif kind == "special_procedure_started":
        clockops.suspend_clock(scratch, case_no, data["procedure"], data["days"], data["reason"], actor)
    elif kind == "special_procedure_ended":
        clockops.resume_clock(scratch, case_no, actor, data.get("note", ""))
    elif kind == "case_migrated":
        case_migration.migrate_case(scratch, case_no, data["version_to"], actor)
    elif kind in SUPERVISION_INPUTS:
        feed_supervision(scratch, kind, event, case_no, actor)
    elif kind in incidents.INPUTS:
        incidents.feed(scratch, kind, event, case_no, actor)
    elif kind in closing.INPUTS:
        closing.feed(scratch, kind, event, case_no, actor)
    elif kind in countersign.INPUTS:
        countersign.feed(scratch, kind, event, case_no, actor, _match_task(scratch, case_no, event, task_ids))
    elif kind in _CASE_INPUTS:
        _feed_case(scratch, kind, event, case_no, actor, task_ids)
    else:
        _feed_task(scratch, kind, event, case_no, actor, task_ids)


def _feed_task(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor,
               task_ids: dict[str, str]) -> None:
    data = event["data"]
    task_id = _match_task(scratch, case_no, event, task_ids)
    if kind == "task_completed":
        casework.complete_task(scratch, task_id, data.get("data") or {}, actor)
    elif kind == "task_transferred":
        taskops.transfer_task(scratch, task_id, data["to"], actor, data.get("reason", ""))
    elif kind == "task_delegated":
        taskops.delegate_task(scratch, task_id, data["to"], actor, data.get("reason", ""))
    elif kind == "delegation_submitted":
        taskops.submit_delegated(scratch, task_id, data.get("data") or {}, actor)
    elif kind == "delegation_returned":
        taskops.send_back_delegated(scratch, task_id, actor, data["reason"])
    elif kind == "delegation_recalled":
        taskops.recall_delegated(scratch, task_id, actor)
    elif kind == "task_returned":
        taskops.return_task(scratch, task_id, task_ids[data["target_task_id"]], data["reason"], actor)
    elif kind == "task_claimed":
        casework.claim_task(scratch, task_id, actor)
    else:
        casework.release_task(scratch, task_id, actor)


def _feed_case(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor,
               task_ids: dict[str, str]) -> None:
    """The desk's inputs addressed to the case rather than to an open task."""
    data = event["data"]
    if kind == "task_withdrawn":
        taskops.withdraw_task(scratch, case_no, task_ids[data["task_id"]], actor, data.get("reason", ""))
    elif kind == "case_copied":
        caseops.copy_case(scratch, case_no, data["recipients"], actor, data.get("note", ""))
    elif kind == "case_urged":
        caseops.urge_case(scratch, case_no, actor, data.get("note", ""))
    elif kind == "attachment_added":  # the file itself stays where it is: only its record is re-made
        attachments.register(scratch, case_no, data, actor)
    elif kind == "comment_added":
        comments.add_comment(scratch, case_no, data["body"], actor, event["element_id"])
    else:
        materials.mark_materials(scratch, case_no, data["marks"], actor)


def _add_people_named(scratch: Database, history: list[dict[str, Any]]) -> None:
    """The people the desk's operations name (a transfer's new holder, a copy's recipients), with the
    group a transfer required them to be in, so the re-executed checks find them as they were."""
    named: dict[str, set[str]] = {}
    for event in history:
        data = event["data"] or {}
        if event["type"] in ("task_transferred", "task_delegated", "countersign_added"):
            named.setdefault(data["to"], set()).update([data["group"]] if data.get("group") else [])
        elif event["type"] == "case_copied":
            for name in data["recipients"]:
                named.setdefault(name, set())
        elif event["type"] == "deadline_extended" and data.get("chief_of"):  # the head of the organ, as recorded
            named.setdefault(event["actor"], set()).add(data["chief_of"])
    for username, codes in sorted(named.items()):
        accounts.create_user(scratch, username, None, username, REPLAY_ROLES, sorted(codes))


def _match_task(scratch: Database, case_no: str, event: dict[str, Any], task_ids: dict[str, str]) -> str:
    """The re-executed task that plays the recorded one: same element, first not yet matched to another."""
    recorded = event["data"].get("task_id")
    if recorded in task_ids:
        return task_ids[recorded]
    taken = set(task_ids.values())
    instance = event["data"].get("instance")  # which instance of a multi-instance step (e.g. which department)
    workflow = load_workflow(scratch, case_no) if instance is not None else None
    for task in queries.open_tasks(scratch, case_no=case_no, limit=10_000):
        if task.element_id != event["element_id"] or task.task_id in taken:
            continue
        if workflow is not None and taskdata.instance_of(workflow.get_task_from_id(UUID(task.task_id))) != instance:
            continue
        task_ids[recorded] = task.task_id
        return task.task_id
    raise OnewindowError(said("重新执行时环节 %(element_id)s 没有待办任务，而记录中此时有人办理了它",
                              element_id=event['element_id']))


def _comparable(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": e["type"], "element_id": e["element_id"], "actor": e["actor"], "at": e["at"],
             "data": _stable(e["data"])} for e in events]


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _first_difference(index: int, group: list[dict[str, Any]], step: Step) -> str:
    for position, (recorded, produced) in enumerate(zip(step.recorded, step.produced, strict=False)):
        if recorded != produced:
            seq = group[position]["seq"] if position < len(group) else "?"
            return said("第 %(n)s 次变更（%(at)s），事件 %(seq)s：记录为 %(recorded)s，重新执行得到 %(produced)s",
                        n=index + 1, at=step.at, seq=seq, recorded=_brief(recorded), produced=_brief(produced))
    longer, label = (step.recorded, said("记录中多出")) if len(step.recorded) > len(step.produced) else \
        (step.produced, said("重新执行多出"))
    extra = longer[min(len(step.recorded), len(step.produced))]
    return said("第 %(n)s 次变更（%(at)s）：%(label)s %(extra)s", n=index + 1, at=step.at, label=label,
                extra=_brief(extra))


def _brief(event: dict[str, Any]) -> str:
    return json.dumps({k: event[k] for k in ("type", "element_id", "data")}, ensure_ascii=False)


def _changed_by(workflow: BpmnWorkflow, done: set) -> dict[str, list[Any]]:
    """The data the tasks completed since the last look set, each against what it received: key → [old, new].

    Data in SpiffWorkflow travels with each branch, so "the case's data" is not one dict; what a
    change did is what its completed steps added or altered.
    """
    changed: dict[str, list[Any]] = {}
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if task.id in done:
            continue
        done.add(task.id)
        before = task.parent.data if task.parent is not None else {}
        for key, value in task.data.items():
            if before.get(key) != value:
                changed[key] = [before.get(key), value]
    return dict(sorted(changed.items()))


def _active(workflow: BpmnWorkflow) -> list[str]:
    """Where the tokens are: open tasks, waiting events, and a call activity whose process is running
    (so the main diagram shows where a case is while it is inside a shared process)."""
    states = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    return sorted({t.task_spec.bpmn_id for t in workflow.get_tasks(state=states)
                   if getattr(t.task_spec, "bpmn_id", None)})


def _shape(workflow: BpmnWorkflow) -> list[tuple[str, int, str, str]]:
    """Everything but the random task ids (also inside internal data, e.g. the instances a multi-instance
    step merged): which step is in which state, with which data."""
    return sorted((t.task_spec.name, t.state, json.dumps(t.data, sort_keys=True, default=str),
                   _TASK_ID.sub("<id>", json.dumps(taskdata.snapshot(t), sort_keys=True, default=str)))
                  for t in workflow.get_tasks())


_TASK_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _moment(text: str) -> datetime:
    return clock.as_utc(datetime.fromisoformat(text))


def _versions_lived_on(history: list[dict[str, Any]]) -> list[int]:
    """The version numbers a case ran on: the one it started on first, then each it was migrated to."""
    numbers = [history[0]["data"]["version"]]
    numbers += [e["data"]["version_to"] for e in history if e["type"] == "case_migrated"]
    return list(dict.fromkeys(numbers))


def _scratch_database(db: Database, case_no: str, actors: set[str], numbers: list[int]) -> Database:
    """An in-memory platform holding the versions the case lived on (`numbers`, the first one the item's
    latest, so the re-executed case starts on it), today's calendar overrides and one replay user per
    recorded actor (admin, so group checks, already passed once, do not block)."""
    scratch = Database("sqlite://")
    metadata.create_all(scratch.engine)
    with db.reading() as source, scratch.transaction() as target:
        item = source.execute(
            select(items).join(cases, cases.c.item_id == items.c.id).where(cases.c.case_no == case_no)).one_or_none()
        if item is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        item_id = target.execute(insert(items).values(
            code=item.code, name=item.name, department=item.department, handling_mode=item.handling_mode,
            latest_version=numbers[0], guide=item.guide).returning(items.c.id)).scalar_one()
        versions = source.execute(select(process_versions).where(process_versions.c.item_id == item.id,
                                                                 process_versions.c.number.in_(numbers))).all()
        target.execute(insert(process_versions), [{
            "item_id": item_id, "number": v.number, "content_hash": v.content_hash, "process_id": v.process_id,
            "files": v.files, "metadata": v.metadata, "lint_report": v.lint_report, "deployed_by": v.deployed_by,
            "deployed_at": v.deployed_at} for v in versions])
        for table in (calendar_overrides, org_units):  # the rules the case ran under, as they stand
            rows = [dict(r._mapping) for r in source.execute(select(table))]
            if rows:
                target.execute(insert(table), rows)
    for username in sorted(actors - {"system"}):
        accounts.create_user(scratch, username, None, username, REPLAY_ROLES, [])
    return scratch
