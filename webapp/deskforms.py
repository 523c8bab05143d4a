"""A decision step's form as clear actions: 通过 / 补正 / 不予受理, each with the fields it needs.

The analysts' convention (docs/modeling.md): a decision step's form has an enum field (`decision`) and
JSON Schema `if`/`then` rules saying which further fields each choice requires (a refusal: `reason` and
`legal_basis`; a supplement: `missing_materials`, the one complete list). Everything here is read off
the schema — no item is named in code — so a new item's decision form renders as actions on deploy.

List fields (an array of strings, such as the missing materials) are typed one item per line, with the
item guide's materials offered as tick boxes, instead of as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from werkzeug.datastructures import MultiDict

from engine.desk import opinions
from engine.diagrams.branches import owners, requirements
from engine.diagrams.formdata import list_fields, submitted_list

from .db import get_db
from .formrender import Field

LIST_WIDGET = "lines"
PREFERRED_DECISION = "decision"
SUPPLEMENT_FIELD = "missing_materials"  # the convention: a supplement request's one complete list
REFUSAL_MARK = "legal_basis"  # the convention: a refusal must state its legal basis


@dataclass
class Choice:
    value: str
    label: str
    unlocks: list[str]  # the fields this choice makes required
    tone: str  # go (nothing more), pause (a list to give), stop (a refusal: legal basis), more (other fields)


@dataclass
class Decision:
    field: Field
    choices: list[Choice]
    conditional: dict[str, list[str]] = field(default_factory=dict)  # field → the choices it belongs to (branches)
    fields: list[Field] = field(default_factory=list)

    def when(self, name: str) -> str:
        return "|".join(self.conditional.get(name, []))

    def needs(self, choice: Choice) -> str:
        """The labels of the fields a choice requires, as the page names them."""
        titles = {f.name: f.label for f in self.fields}
        return "、".join(titles.get(n, n) for n in choice.unlocks)

    def required(self, name: str) -> bool:
        """Whether the choices a field belongs to require it (else it is optional within them)."""
        return any(name in c.unlocks for c in self.choices if c.value in self.conditional.get(name, []))

    def labels(self, name: str) -> str:
        names = {c.value: c.label for c in self.choices}
        return "、".join(f"“{names.get(v, v)}”" for v in self.conditional.get(name, []))


def decision(schema: Mapping[str, Any], fields: list[Field]) -> Decision | None:
    """The form's decision, if it has one: an option field that `if`/`then` rules depend on
    (or one named `decision`), with what each choice requires."""
    rules = requirements(schema)
    belonging = owners(schema)
    by_name = {f.name: f for f in fields if f.widget in ("radio", "select") and f.options}
    controllers = list(rules) + [c for claims in belonging.values() for c in claims if c not in rules]
    candidates = [n for n in controllers if n in by_name] or [n for n in [PREFERRED_DECISION] if n in by_name]
    if not candidates:
        return None
    name = PREFERRED_DECISION if PREFERRED_DECISION in candidates else candidates[0]
    unlocks = rules.get(name, {})
    list_names = list_fields(schema)
    choices = []
    for value, label in by_name[name].options:
        needs = [n for n in unlocks.get(value, []) if n != name]
        tone = ("go" if not needs else "pause" if any(n in list_names for n in needs)
                else "stop" if REFUSAL_MARK in needs else "more")
        choices.append(Choice(value, label, needs, tone))
    conditional = {f: [c.value for c in choices if c.value in claims[name]]
                   for f, claims in belonging.items() if name in claims}
    return Decision(by_name[name], choices, conditional, fields)


def as_lists(schema: Mapping[str, Any], fields: list[Field], values: Mapping[str, Any],
             offered: list[str]) -> None:
    """Turn list fields into the one-per-line widget: the guide's materials offered as tick boxes."""
    for f in fields:
        if f.name not in list_fields(schema):
            continue
        value = values.get(f.name)
        items = value if isinstance(value, list) else _parse_list(value)
        f.widget = LIST_WIDGET
        f.options = [(m, m) for m in offered]
        more = "\n".join(i for i in items if i not in offered)
        f.value = {"ticked": [i for i in items if i in offered], "more": more}


def _parse_list(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return []
        return [str(v) for v in parsed] if isinstance(parsed, list) else []
    return []


def raw_lists(schema: Mapping[str, Any], form: MultiDict) -> dict[str, list[str]]:
    """What was typed into each list field, to show it again after a refused submission."""
    submitted = form.to_dict(flat=False)
    return {name: submitted_list(submitted, name) for name in list_fields(schema)}


def joint_opinions(case_no: str) -> list[opinions.Opinion]:
    """The departments' opinions of the case's joint reviews, for templates (the task and case pages include
    cases/_opinions.html, which calls this): the routes of both pages stay as they are."""
    return opinions.of_case(get_db(), case_no)


def register(app: Flask) -> None:
    """Make the form pages' template functions available (called once by the app factory)."""
    app.add_template_global(joint_opinions, "joint_opinions")
