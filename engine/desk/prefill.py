"""What a step's form starts with when a clerk opens it, from the case's own history.

A proposal waiting to be confirmed, else what this task was last submitted with (it was returned or
withdrawn), else what the applicant gave when applying — facts only, never a choice the clerk makes
(a decision, an answer from a list, a yes/no): a pre-ticked 受理 would be a decision nobody took. A
supplement list starts from the materials the checklist marks missing, so the one complete 补正 list
is the checklist's, not the clerk's memory. After a joint review in which a department said no, the refusal's
reason and legal basis start from the departments' own (`opinions.refusal_draft`), each under its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.desk import materials, opinions
from engine.diagrams.formdata import list_fields
from engine.reads import queries
from engine.store.db import Database

_CHOICE_KEYWORDS = frozenset({"enum", "oneOf", "anyOf", "const"})


def initial_values(db: Database, task: Mapping[str, Any]) -> dict[str, Any]:
    """The values an open task's form (`queries.task_detail`) opens with — only fields the form has."""
    case_no, task_id, schema = task["case_no"], task["task_id"], task["schema"]
    history = queries.case_history(db, case_no)
    names = schema.get("properties", {})
    started = next((e for e in history if e["type"] == "case_started"), None)
    values = {key: value for key, value in ((started or {}).get("data", {}).get("data") or {}).items()
              if _a_fact(names.get(key) or {})}
    earlier = [e for e in history if e["type"] in ("task_completed", "delegation_submitted")
               and e["data"].get("task_id") == task_id]
    if earlier:
        values.update(earlier[-1]["data"].get("data") or {})
    missing = materials.missing(materials.checklist(db, case_no))
    for name in list_fields(schema):
        values.setdefault(name, missing)
    for name, text in _joint_refusal(db, task, history).items():
        values.setdefault(name, text)
    return {k: v for k, v in values.items() if k in names}


def _joint_refusal(db: Database, task: Mapping[str, Any], history: list[dict[str, Any]]) -> dict[str, str]:
    """The refusal drafted from the joint review's refusing departments, for a step after the review (never for
    a department's own review: one department's form does not start from another's no)."""
    wanted = {"reason", "legal_basis"} & set(task["schema"].get("properties", {}))
    if not wanted or not opinions.has_joint_answers(history):
        return {}
    found = opinions.of_case(db, task["case_no"], history)
    if any(o.element == task["element_id"] for o in found):
        return {}
    return {k: v for k, v in opinions.refusal_draft(found).items() if k in wanted}


def _a_fact(field: Mapping[str, Any]) -> bool:
    """A field an application may fill in for the clerk: free text or a number, not a choice."""
    return not (_CHOICE_KEYWORDS & set(field)) and field.get("type") != "boolean"
