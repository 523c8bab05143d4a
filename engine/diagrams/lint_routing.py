"""Lint rules about who acts and how they answer: lanes resolve to groups, refusals carry a reason.

Kept beside `engine.diagrams.lint` (which calls them) because they read the org tree and the forms' meaning
rather than the diagram's shape: a lane must be a known 【role】 or a group of processes/org.json, and
a form that can refuse (不予受理, 不予批准, 不同意, 退回 …) in any of its fields must make a reason required for
that answer (S-7).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import settings
from engine.messages import ENUMERATION_COMMA, listed, said
from engine.org.orgtree import ROLES, TREE_FILE, all_groups, extra_groups, read_tree, role_of

REFUSAL_WORDS = ("不予", "不同意", "驳回", "拒绝", "退回")
REASON_FIELD = "reason"


@lru_cache(maxsize=4)
def _known_groups(path: Path, mtime: float) -> frozenset[str]:
    return frozenset(all_groups(read_tree(path), extra_groups(path)))


def known_groups() -> frozenset[str] | None:
    """Every group of the org tree (None when there is no org.json: literal lanes are then not checked)."""
    path = settings.PROCESSES_DIR / TREE_FILE
    if not path.is_file():
        return None
    return _known_groups(path, path.stat().st_mtime)


def lane_problem(lane: str) -> tuple[str, str] | None:
    """(problem, fix) when a user task's lane names no role and no group of the org tree."""
    role = role_of(lane)
    if role is not None:
        if role in ROLES:
            return None
        return (said("泳道“%(lane)s”不是已知角色", lane=lane),
                said("改为以下角色之一：%(roles)s", roles=listed((f"【{r}】" for r in ROLES), ENUMERATION_COMMA)))
    groups = known_groups()
    if groups is None or lane in groups:
        return None
    return (said("泳道“%(lane)s”既不是【角色】，也不是组织机构中的岗位组，没有人能办理其中的任务", lane=lane),
            said("用【受理窗口】等角色命名泳道，或写成 processes/org.json 中的组，如“区中心/区民政局·审核”"))


def answers_of(prop: object) -> list[object]:
    """The answers a field offers: its `enum`, or the `const` of each `oneOf`/`anyOf` choice (the titled
    choices a form renders as labelled options)."""
    if not isinstance(prop, dict):
        return []
    if isinstance(prop.get("enum"), list):
        return list(prop["enum"])
    choices = [c for key in ("oneOf", "anyOf") for c in prop.get(key) or [] if isinstance(c, dict)]
    return [c["const"] for c in choices if "const" in c]


def is_refusal(answer: object) -> bool:
    """An answer that says no (不予受理, 不同意, 驳回, 退回重办 …): the applicant or the case is turned away."""
    return isinstance(answer, str) and any(word in answer for word in REFUSAL_WORDS)


def decision_fields(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Every field of the form that can refuse, whatever its name (decision, acceptance, opinion, 审查意见 …),
    with its refusing answers: a field is a decision by what it offers, not by what it is called."""
    fields: dict[str, list[str]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        refusals = [answer for answer in answers_of(prop) if is_refusal(answer)]
        if refusals:
            fields[name] = refusals
    return fields


def refusals_without_reason_by_field(schema: dict[str, Any]) -> dict[str, list[str]]:
    """For each decision field, its refusing answers that can be submitted without a reason (S-6 rule 5, S-7).

    A reason is required for an answer when the form always requires one, or when an `if` on that field
    (at the top or in `allOf`) names the answer and its `then` requires a reason field."""
    fields = decision_fields(schema)
    if not fields or _names_reason(schema.get("required")):
        return {}
    rules = [schema, *(r for r in schema.get("allOf") or [] if isinstance(r, dict))]
    missing: dict[str, list[str]] = {}
    for name, refusals in fields.items():
        required_for = {answer for rule in rules if _names_reason((rule.get("then") or {}).get("required"))
                        for answer in _condition_answers(rule, name)}
        if unreasoned := [answer for answer in refusals if answer not in required_for]:
            missing[name] = unreasoned
    return missing


def refusals_without_reason(schema: dict[str, Any]) -> list[str]:
    """The refusing answers, of any decision field, that can be submitted without a reason."""
    return [answer for answers in refusals_without_reason_by_field(schema).values() for answer in answers]


def _condition_answers(rule: dict[str, Any], field: str) -> list[object]:
    """The answers of `field` an `if` picks out (`const` or `enum`); none when the `if` is about other fields."""
    condition = ((rule.get("if") or {}).get("properties") or {}).get(field) or {}
    return [condition["const"]] if "const" in condition else list(condition.get("enum") or [])


def _names_reason(required: list[str] | None) -> bool:
    """A required field that is a reason: `reason`, or a named one such as `refusal_reason`."""
    return any(name == REASON_FIELD or name.endswith("_" + REASON_FIELD) for name in required or [])
