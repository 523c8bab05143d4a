"""Which fields of a form belong to one answer: read off the form's JSON Schema `if`/`then`/`else` rules.

The analysts' convention (docs/modeling.md), as react-jsonschema-form and so spiff-arena read it: a decision
field (an enum) and rules `allOf: [{if: {properties: {decision: {const: X}}}, then: {...}}]` (or one rule at
the top). A field the `then` of an answer requires or declares belongs to that answer; a field of `else`
belongs to every other answer. A field the form requires whatever the answer, or that no rule names, belongs
to every answer. The page hides what the chosen answer does not own, and the engine keeps a submission to
the chosen answer's fields (`chosen_only`), so a record of 受理 never carries a missing-materials list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Rules = dict[str, dict[str, list[str]]]  # controlling field → answer (as text) → fields


def _rules(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [rule for rule in [schema, *(schema.get("allOf") or [])] if isinstance(rule, Mapping)
            and isinstance(rule.get("if"), Mapping) and isinstance(rule.get("then") or rule.get("else"), Mapping)]


def _answers(schema: Mapping[str, Any], name: str, condition: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """The answers a condition on `name` holds for, and (for `else`) those it does not hold for."""
    chosen = [condition["const"]] if "const" in condition else list(condition.get("enum") or [])
    offered = list(((schema.get("properties") or {}).get(name) or {}).get("enum") or [])
    return chosen, [a for a in offered if a not in chosen]


def _fields(part: Any, required_only: bool) -> list[str]:
    if not isinstance(part, Mapping):
        return []
    names = list(part.get("required") or [])
    if not required_only:
        names += [n for n in (part.get("properties") or {}) if n not in names]
    return names


def _collect(schema: Mapping[str, Any], required_only: bool) -> Rules:
    found: Rules = {}
    for rule in _rules(schema):
        for name, condition in (rule["if"].get("properties") or {}).items():
            if not isinstance(condition, Mapping):
                continue
            chosen, others = _answers(schema, name, condition)
            for answers, part in ((chosen, rule.get("then")), (others, rule.get("else"))):
                names = [n for n in _fields(part, required_only) if n != name]
                for answer in answers:
                    bucket = found.setdefault(name, {}).setdefault(str(answer), [])
                    bucket += [n for n in names if n not in bucket]
    return found


def requirements(schema: Mapping[str, Any]) -> Rules:
    """controlling field → its answer → the fields that answer makes required."""
    return _collect(schema, required_only=True)


def owners(schema: Mapping[str, Any]) -> dict[str, dict[str, set[str]]]:
    """field → controlling field → the answers the field belongs to; only fields that belong to some answers
    (one the form requires at the top belongs to all, and is not listed)."""
    always = set(schema.get("required") or [])
    found: dict[str, dict[str, set[str]]] = {}
    for controller, by_answer in _collect(schema, required_only=False).items():
        for answer, names in by_answer.items():
            for name in names:
                if name not in always:
                    found.setdefault(name, {}).setdefault(controller, set()).add(answer)
    return found


def _text(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def belongs(schema: Mapping[str, Any], name: str, data: Mapping[str, Any]) -> bool:
    """Whether field `name` belongs to the answers given in `data` (a field no rule names always does)."""
    return _held(owners(schema).get(name), data)


def _held(claims: Mapping[str, set[str]] | None, data: Mapping[str, Any]) -> bool:
    if not claims:
        return True
    return any(controller in data and _text(data[controller]) in answers for controller, answers in claims.items())


def chosen_only(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` without the fields of answers not chosen.

    Dropped, not refused: without JavaScript the page shows every field, and a supplement list starts
    pre-ticked from the checklist (engine/desk/prefill.py), so a clerk who then chooses 受理 has done nothing
    wrong — the fields of 补正 simply are not part of a 受理. Refusing would make them untick a list they
    never meant to send; keeping them would record a missing-materials list beside 受理.
    """
    claimed = owners(schema)
    return {k: v for k, v in data.items() if _held(claimed.get(k), data)}
