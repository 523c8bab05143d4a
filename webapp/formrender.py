"""JSON Schema (+ UI schema) → HTML form fields, and submitted strings → typed values, server-side.

Why server-side: the desk must work without JavaScript, and the same schema the engine validates
against drives the page, so a field an analyst adds to a form file shows up with no code change.
We follow the react-jsonschema-form UI-schema conventions spiff-arena uses (`ui:order`,
`ui:widget`, `ui:help`, `ui:placeholder`, `ui:enumNames`), so forms made there render here.

The browser gets HTML5 attributes (required, pattern, maxlength, min/max) for quick feedback, but
the engine's schema check is the one that counts: `parse_submission` only converts types, and
returns its own messages just for values that cannot be converted at all (letters in a number). The
conversion itself is the engine's (`engine.diagrams.formdata`): submitting a task hands it the raw form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.diagrams import formdata
from engine.diagrams.formdata import TRUE_STRINGS, options, to_text, type_of

INPUT_TYPES = {"date": "date", "date-time": "datetime-local", "email": "email", "uri": "url", "time": "time"}


@dataclass
class Field:
    """One form control, ready for the `render_field` macro in templates/_form.html."""

    name: str
    label: str
    widget: str  # text | textarea | select | radio | checkbox | checkboxes | number | json | hidden | password
    required: bool = False
    input_type: str = "text"
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    attrs: dict[str, Any] = field(default_factory=dict)
    help: str = ""
    value: Any = ""  # str; list[str] for checkboxes; bool for checkbox
    errors: list[str] = field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return f"f-{self.name}"


def ordered_names(schema: Mapping[str, Any], ui_schema: Mapping[str, Any]) -> list[str]:
    """Property names in `ui:order` (with its `*` wildcard), else in the schema's own order."""
    names = list(schema.get("properties", {}))
    order = ui_schema.get("ui:order")
    if not order:
        return names
    listed = [n for n in order if n != "*" and n in names]
    rest = [n for n in names if n not in listed]
    if "*" not in order:
        return listed + rest
    star = order.index("*")
    before = [n for n in order[:star] if n in names]
    after = [n for n in order[star + 1:] if n in names]
    return before + rest + after


def _html_pattern(pattern: str) -> str:
    """JSON Schema patterns match anywhere; HTML's `pattern` must match the whole value."""
    head = "" if pattern.startswith("^") else ".*"
    tail = "" if pattern.endswith("$") else ".*"
    return f"{head}{pattern}{tail}"


def _widget(kind: str, prop: Mapping[str, Any], ui: Mapping[str, Any], choices: list) -> str:
    wanted = ui.get("ui:widget")
    if kind == "array" and options(prop.get("items", {}), {}):
        return "checkboxes"
    if kind in ("object", "array"):
        return "json"
    if choices:
        return wanted if wanted in ("radio", "select") else ("radio" if len(choices) <= 3 else "select")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if wanted in ("textarea", "hidden", "password"):
        return wanted
    return "text"


def _attrs(kind: str, prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if required and kind != "boolean":
        attrs["required"] = True
    if kind == "string":
        if "maxLength" in prop:
            attrs["maxlength"] = prop["maxLength"]
        if "minLength" in prop:
            attrs["minlength"] = prop["minLength"]
        if "pattern" in prop:
            attrs["pattern"] = _html_pattern(prop["pattern"])
    if kind in ("integer", "number"):
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[attr] = prop[key]
        attrs["step"] = prop.get("multipleOf", 1 if kind == "integer" else "any")
        attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
    if ui.get("ui:placeholder"):
        attrs["placeholder"] = ui["ui:placeholder"]
    if ui.get("ui:readonly") or ui.get("ui:disabled") or prop.get("readOnly"):
        attrs["readonly"] = True
    if ui.get("ui:autofocus"):
        attrs["autofocus"] = True
    return attrs


def build_fields(schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None = None,
                 values: Mapping[str, Any] | None = None,
                 errors: Mapping[str, list[str]] | None = None) -> list[Field]:
    """The form's fields in display order, each carrying its current value and its error messages.

    `values` are either typed data (initial values) or the raw strings a clerk just submitted;
    both are shown as they are, so a failed submission loses nothing that was typed.
    """
    ui_schema = ui_schema or {}
    values = values or {}
    errors = errors or {}
    required = set(schema.get("required", []))
    fields = []
    for name in ordered_names(schema, ui_schema):
        prop = schema["properties"][name] or {}
        ui = ui_schema.get(name, {}) or {}
        kind = type_of(prop)
        choices = options(prop, ui)
        widget = _widget(kind, prop, ui, choices)
        item_options = options(prop.get("items", {}), {}) if widget == "checkboxes" else []
        fields.append(Field(
            name=name,
            label=str(ui.get("ui:title") or prop.get("title") or name),
            widget=widget,
            required=name in required,
            input_type=INPUT_TYPES.get(prop.get("format", ""), "text") if widget == "text" else "text",
            options=item_options or choices,
            attrs=_attrs(kind, prop, ui, name in required),
            help=str(ui.get("ui:help") or prop.get("description") or ""),
            value=_display_value(widget, values.get(name, prop.get("default"))),
            errors=list(errors.get(name, [])),
        ))
    return fields


def _display_value(widget: str, value: Any) -> Any:
    if widget == "checkbox":
        return value if isinstance(value, bool) else to_text(value).lower() in TRUE_STRINGS
    if widget == "checkboxes":
        return [to_text(v) for v in value] if isinstance(value, list) else []
    if widget == "json":
        return value if isinstance(value, str) else ("" if value is None else json.dumps(value, ensure_ascii=False))
    return to_text(value)


def raw_values(schema: Mapping[str, Any], form: MultiDict) -> dict[str, Any]:
    """What the clerk typed, keyed by field, to re-render a form exactly as it was sent."""
    raw: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = type_of(prop or {})
        if kind == "array" and options((prop or {}).get("items", {}), {}):
            raw[name] = form.getlist(name)
        elif kind == "boolean" and not options(prop or {}, {}):
            raw[name] = name in form and form.get(name, "").lower() in TRUE_STRINGS
        else:
            raw[name] = form.get(name, "")
    return raw


def parse_submission(schema: Mapping[str, Any], form: MultiDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The browser's form, as the engine's conversion reads a submission (field → every value sent)."""
    return formdata.parse(schema, form.to_dict(flat=False))
