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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update

from . import accounts, casework, clock, queries
from .db import Database
from .errors import NotFound, OnewindowError
from .runtime import load_workflow
from .scheduler import tick
from .tables import calendar_overrides, cases, items, metadata, process_versions

# The first event of a change that came from outside: a person, or the applicant.
_INPUTS = ("case_started", "task_completed", "task_claimed", "task_released", "deadline_extended")
# Event data that differ by nature between the run and its re-execution (random task ids).
_VOLATILE_KEYS = frozenset({"task_id"})
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
            return f"办件 {self.case_no}：重新执行 {len(self.steps)} 次变更，结果与记录完全一致（identical）"
        return f"办件 {self.case_no}：重新执行结果与记录不一致 — {self.divergence}"

    def to_dict(self) -> dict[str, Any]:
        return {"case_no": self.case_no, "identical": self.identical, "divergence": self.divergence,
                "summary": self.summary, "steps": [s.to_dict() for s in self.steps]}


def replay_case(db: Database, case_no: str) -> ReplayReport:
    """Re-execute `case_no` from its recorded inputs on its pinned version; see the module docstring."""
    history = queries.case_history(db, case_no)
    if not history or history[0]["type"] != "case_started":
        raise NotFound(f"办件 {case_no} 没有可重新执行的记录（缺少提交申请事件）。")
    scratch = _scratch_database(db, case_no, {e["actor"] for e in history})
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
            failure = f"第 {index + 1} 次变更（{first['at']}）重新执行失败：{exc.message}"
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
        return ReplayReport(case_no, False, steps, "所有事件一致，但重新执行得到的流程状态与存储的状态不同")
    return ReplayReport(case_no, True, steps)


def _changes(history: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The history cut into changes: a new change begins at a new moment or at an outside input."""
    changes: list[list[dict[str, Any]]] = []
    for event in history:
        if not changes or event["at"] != changes[-1][0]["at"] or event["type"] in _INPUTS:
            changes.append([])
        changes[-1].append(event)
    return changes


def _feed(scratch: Database, kind: str, event: dict[str, Any], case_no: str, task_ids: dict[str, str]) -> None:
    """Give the scratch platform the input that started this change."""
    actor = accounts.actor_for(scratch, event["actor"]) if kind != "tick" else None
    data = event["data"]
    if kind == "case_started":
        started = casework.start_case(scratch, data["item"], data.get("data") or {}, actor)
        with scratch.transaction() as conn:  # the re-executed case answers to the recorded number
            conn.execute(update(cases).where(cases.c.case_no == started.case_no).values(case_no=case_no))
    elif kind == "tick":
        tick(scratch, clock.now())
    elif kind == "deadline_extended":
        casework.extend_deadline(scratch, case_no, data["days"], data["reason"], actor)
    else:
        _feed_task(scratch, kind, event, case_no, actor, task_ids)


def _feed_task(scratch: Database, kind: str, event: dict[str, Any], case_no: str, actor,
               task_ids: dict[str, str]) -> None:
    data = event["data"]
    task_id = _match_task(scratch, case_no, event, task_ids)
    if kind == "task_completed":
        casework.complete_task(scratch, task_id, data.get("data") or {}, actor)
    elif kind == "task_claimed":
        casework.claim_task(scratch, task_id, actor)
    else:
        casework.release_task(scratch, task_id, actor)


def _match_task(scratch: Database, case_no: str, event: dict[str, Any], task_ids: dict[str, str]) -> str:
    """The re-executed task that plays the recorded one: same element, first not yet matched to another."""
    recorded = event["data"].get("task_id")
    if recorded in task_ids:
        return task_ids[recorded]
    taken = set(task_ids.values())
    for task in queries.open_tasks(scratch, case_no=case_no, limit=10_000):
        if task.element_id == event["element_id"] and task.task_id not in taken:
            task_ids[recorded] = task.task_id
            return task.task_id
    raise OnewindowError(f"重新执行时环节 {event['element_id']} 没有待办任务，而记录中此时有人办理了它")


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
            return (f"第 {index + 1} 次变更（{step.at}），事件 {seq}：记录为 {_brief(recorded)}，"
                    f"重新执行得到 {_brief(produced)}")
    longer, label = (step.recorded, "记录中多出") if len(step.recorded) > len(step.produced) else \
        (step.produced, "重新执行多出")
    extra = longer[min(len(step.recorded), len(step.produced))]
    return f"第 {index + 1} 次变更（{step.at}）：{label} {_brief(extra)}"


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
    """Everything but the random task ids: which step is in which state, with which data."""
    return sorted((t.task_spec.name, t.state, json.dumps(t.data, sort_keys=True, default=str),
                   json.dumps(t.internal_data, sort_keys=True, default=str)) for t in workflow.get_tasks())


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _scratch_database(db: Database, case_no: str, actors: set[str]) -> Database:
    """An in-memory platform holding only the case's pinned version, today's calendar overrides and
    one replay user per recorded actor (admin, so group checks, already passed once, do not block)."""
    scratch = Database("sqlite://")
    metadata.create_all(scratch.engine)
    with db.reading() as source, scratch.transaction() as target:
        version = source.execute(
            select(process_versions, items.c.code, items.c.name.label("item_name"), items.c.department,
                   items.c.handling_mode, items.c.guide)
            .join(cases, cases.c.version_id == process_versions.c.id).join(items, items.c.id == cases.c.item_id)
            .where(cases.c.case_no == case_no)).one_or_none()
        if version is None:
            raise NotFound(f"办件 {case_no} 不存在；请核对办件编号。")
        item_id = target.execute(insert(items).values(
            code=version.code, name=version.item_name, department=version.department,
            handling_mode=version.handling_mode, latest_version=version.number, guide=version.guide,
        ).returning(items.c.id)).scalar_one()
        target.execute(insert(process_versions).values(
            item_id=item_id, number=version.number, content_hash=version.content_hash,
            process_id=version.process_id, files=version.files, metadata=version.metadata,
            lint_report=version.lint_report, deployed_by=version.deployed_by, deployed_at=version.deployed_at))
        overrides = [dict(r._mapping) for r in source.execute(select(calendar_overrides))]
        if overrides:
            target.execute(insert(calendar_overrides), overrides)
    for username in sorted(actors - {"system"}):
        accounts.create_user(scratch, username, "replay", username, REPLAY_ROLES, [])
    return scratch
