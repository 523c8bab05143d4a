"""Submitting a task's form: the raw form in, the result or every message out, in one change.

The desk's page sends strings; converting them, checking them against the step's form and either
completing the task or (for a delegate) keeping the proposal for the delegator all happen in the
case's one transaction, so the route makes one trip down and a stale page, a refused value or a
concurrent completion is answered from the same read of the case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.desk import casework, taskops
from engine.diagrams import formdata
from engine.diagrams.branches import chosen_only
from engine.org.assignment import Actor
from engine.runtime import indexes, taskdata
from engine.runtime.change import CaseContext, change_case_of_task
from engine.store.db import Database


@dataclass(frozen=True)
class Submitted:
    """What the page tells the clerk afterwards."""

    case_no: str
    step: str
    returned_to: str | None = None  # the delegator, when a delegate's proposal goes back to be confirmed
    awaiting_reviewer: str | None = None  # 后加签: the answer is kept until this reviewer agrees (countersign.py)


def submit_task(db: Database, task_id: str, submitted: formdata.Submission, actor: Actor) -> Submitted:
    """The desk's form for `task_id` as sent (field → the strings sent under it), typed per the step's form;
    raises `FormValidationError` with every field's message, `StaleTaskError` when the task is done."""

    def submit(ctx: CaseContext) -> Submitted:
        task = ctx.open_task(task_id)
        data = _typed(ctx, task, submitted)
        step = taskops.step_name(task)
        delegation = taskdata.delegation(task)
        if delegation and delegation["delegate"] == actor.username:
            taskops.propose(ctx, task, data, actor)
            return Submitted(ctx.case.case_no, step, delegation["delegator"])
        case_no = casework.complete(ctx, task, data, actor)
        sign = taskdata.countersign(task)
        return Submitted(case_no, step, awaiting_reviewer=sign["reviewer"] if sign else None)

    return change_case_of_task(db, task_id, actor, submit)


def _typed(ctx: CaseContext, task: Any, submitted: formdata.Submission) -> dict[str, Any]:
    form = indexes.task_form(task)
    if form is None:  # a step without a form takes no data
        return {}
    return formdata.typed(ctx.specs.forms[form], submitted, form, lines=True)


def submit_data(db: Database, task_id: str, data: dict[str, Any], actor: Actor) -> str:
    """A task completed with data already typed (the JSON API, the command line): as on the desk, the
    fields of an answer not chosen are not part of the answer. Replay feeds recorded answers to
    `casework.complete_task` directly — they were recorded as kept, and must re-execute as they ran."""

    def submit(ctx: CaseContext) -> str:
        task = ctx.open_task(task_id)
        form = indexes.task_form(task)
        kept = chosen_only(json.loads(ctx.specs.forms[form]), data) if form is not None and isinstance(data, dict) \
            else data
        return casework.complete(ctx, task, kept, actor)

    return change_case_of_task(db, task_id, actor, submit)
