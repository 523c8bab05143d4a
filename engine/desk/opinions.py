"""The departments' opinions of a joint review (并联审查), as the collating clerk and the case page read them.

A joint review is a multi-instance user task: one instance per department (the instance's input item,
`department` by the convention of processes/shared/joint-review.bpmn), each answering the review form.
The answers live in two places, and neither alone tells the whole story: the workflow keeps each instance
with its department and the full form (the output collection, `joint_opinions`, keeps only what the
diagram's postScript copies — no reason, no legal basis), and the audit trail says who answered and when
(`task_completed`, by task id). This module joins them. The department is named by its unit's display name
from the org tree, the person by their display name: nothing internal reaches the page.

Reading the workflow costs a deserialization, so it happens only for a case whose trail has an answer of a
multi-instance step; every other case answers from the trail it was given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select

from engine.diagrams.branches import requirements
from engine.diagrams.guide import REFUSING
from engine.org.orgtree import Routing, RoutingError, split_group, unit_names
from engine.reads import queries
from engine.runtime import indexes, taskdata
from engine.runtime.change import load_case_row, load_specs, routing_of
from engine.runtime.scriptenv import script_engine
from engine.runtime.state import load_state
from engine.store.db import Database
from engine.store.tables import users

ANSWER_FIELDS = ("decision", "opinion")  # the review forms' answer, when the form's rules name none
SEPARATOR = "；"


@dataclass(frozen=True)
class Opinion:
    """One department's answer in a joint review."""

    element: str  # the review step's element id (to tell the review's own tasks from those after it)
    step: str  # the review step's name (部门并联审查)
    department: str  # the department's display name (区财政局), never a group code
    answer: str  # 同意 / 不同意
    comment: str = ""
    reason: str = ""
    legal_basis: str = ""
    by: str = ""  # the display name of who answered
    at: str | None = None  # when (ISO, UTC), from the audit trail

    @property
    def refused(self) -> bool:
        return any(word in self.answer for word in REFUSING)


def has_joint_answers(history: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the trail holds an answer of a multi-instance step (recorded with its instance)."""
    return any(e["type"] == "task_completed" and "instance" in (e.get("data") or {}) for e in history)


def of_case(db: Database, case_no: str, history: list[dict[str, Any]] | None = None) -> list[Opinion]:
    """Every department's latest answer in the case's joint reviews, in the order they answered."""
    history = queries.case_history(db, case_no) if history is None else history
    if not has_joint_answers(history):
        return []
    answered = {str((e["data"] or {}).get("task_id")): e for e in history if e["type"] == "task_completed"}
    with db.reading() as conn:
        row = load_case_row(conn, case_no)
        specs = load_specs(conn, row.content_hash, row.version_id)
        workflow = load_state(row.state, specs, script_engine)
        routing = routing_of(specs, row.unit_code)
        units = unit_names(conn)
        found = []
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            event = answered.get(str(task.id))
            if event is None or taskdata.instance_of(task) is None or not isinstance(task.parent.task_spec, LoopTask):
                continue
            form = indexes.task_form(task)
            schema = json.loads(specs.forms[form]) if form and form in specs.forms else {}
            found.append((event, _opinion(task, schema, event, routing, units)))
        people = _display_names(conn, {o.by for _, o in found})
    latest: dict[tuple[str, str], Opinion] = {}
    for _, opinion in sorted(found, key=lambda pair: pair[0]["seq"]):
        key = (opinion.step, opinion.department)
        latest.pop(key, None)  # a later round's answer replaces the earlier one
        latest[key] = replace(opinion, by=people.get(opinion.by, opinion.by))
    return list(latest.values())


def _opinion(task: Any, schema: Mapping[str, Any], event: Mapping[str, Any], routing: Routing,
             units: Mapping[str, str]) -> Opinion:
    data = task.data
    loop = task.parent.task_spec
    item = loop.input_item.bpmn_id if loop.input_item is not None else None
    named = data.get(item) if item else None
    return Opinion(
        element=str(task.task_spec.bpmn_id),
        step=str(task.task_spec.bpmn_name or ""),
        department=_department(task, routing, units, named),
        answer=_text(data.get(_answer_field(schema, data))),
        comment=_text(data.get("comment")),
        reason=_text(data.get("reason") or next((v for k, v in data.items() if k.endswith("_reason")), "")),
        legal_basis=_text(data.get("legal_basis")),
        by=str(event.get("actor") or ""),
        at=event.get("at"),
    )


def _department(task: Any, routing: Routing, units: Mapping[str, str], named: Any) -> str:
    """The unit the instance was routed to, by its display name; else the department as the diagram named it."""
    try:
        group = routing.group(task.task_spec.lane, task.data)
    except RoutingError:  # a lane that no longer resolves: the department's own name still says who
        group = None
    unit, _ = split_group(group) if group else ("", "")
    if unit:
        return units.get(unit) or unit.rsplit("/", 1)[-1]
    return _text(named) or "（未注明部门）"


def _answer_field(schema: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    controllers = [c for c in requirements(schema) if c in data]
    return next(iter(controllers), next((f for f in ANSWER_FIELDS if f in data), ANSWER_FIELDS[0]))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _display_names(conn: Connection, usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    rows = conn.execute(select(users.c.username, users.c.display_name).where(users.c.username.in_(usernames)))
    return {r.username: r.display_name for r in rows}


def refusal_draft(opinions: Iterable[Opinion]) -> dict[str, str]:
    """The joint refusal's reason and legal basis, drafted from the departments that said no: each part
    prefixed with the department's name, so the decision says who refused and on what ground."""
    refusing = [o for o in opinions if o.refused]
    draft: dict[str, str] = {}
    reasons = [f"{o.department}：{o.reason or o.comment}" for o in refusing if o.reason or o.comment]
    bases = [f"{o.department}：{o.legal_basis}" for o in refusing if o.legal_basis]
    if reasons:
        draft["reason"] = SEPARATOR.join(reasons)
    if bases:
        draft["legal_basis"] = SEPARATOR.join(bases)
    return draft
