"""JSON Schema (+ UI schema) → HTML form fields, and submitted strings → typed values, server-side.

Why server-side: the desk must work without JavaScript, and the same schema the engine validates
against drives the page, so a field an analyst adds to a form file shows up with no code change.
We follow the react-jsonschema-form UI-schema conventions spiff-arena uses (`ui:order`,
`ui:widget`, `ui:help`, `ui:placeholder`, `ui:enumNames`), so forms made there render here.

The browser gets HTML5 attributes (required, pattern, maxlength, min/max) for quick feedback, but
the engine's schema check is the one that counts: `parse_submission` only converts types, and
returns its own messages just for values that cannot be converted at all (letters in a number).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.time import clock

TRUE_STRINGS = frozenset({"on", "true", "1", "yes", "是"})
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


def _type_of(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def _options(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs from `enum` (+ `ui:enumNames`) or from `oneOf: [{const, title}]`."""
    if "enum" in prop:
        names = ui.get("ui:enumNames") or prop.get("enumNames") or []
        return [(_to_text(v), str(names[i]) if i < len(names) else _to_text(v)) for i, v in enumerate(prop["enum"])]
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        return [(_to_text(o["const"]), str(o.get("title", o["const"]))) for o in prop["oneOf"]]
    return []


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


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


def _widget(kind: str, prop: Mapping[str, Any], ui: Mapping[str, Any], options: list) -> str:
    wanted = ui.get("ui:widget")
    if kind == "array" and _options(prop.get("items", {}), {}):
        return "checkboxes"
    if kind in ("object", "array"):
        return "json"
    if options:
        return wanted if wanted in ("radio", "select") else ("radio" if len(options) <= 3 else "select")
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
        kind = _type_of(prop)
        options = _options(prop, ui)
        widget = _widget(kind, prop, ui, options)
        item_options = _options(prop.get("items", {}), {}) if widget == "checkboxes" else []
        fields.append(Field(
            name=name,
            label=str(ui.get("ui:title") or prop.get("title") or name),
            widget=widget,
            required=name in required,
            input_type=INPUT_TYPES.get(prop.get("format", ""), "text") if widget == "text" else "text",
            options=item_options or options,
            attrs=_attrs(kind, prop, ui, name in required),
            help=str(ui.get("ui:help") or prop.get("description") or ""),
            value=_display_value(widget, values.get(name, prop.get("default"))),
            errors=list(errors.get(name, [])),
        ))
    return fields


def _display_value(widget: str, value: Any) -> Any:
    if widget == "checkbox":
        return value if isinstance(value, bool) else _to_text(value).lower() in TRUE_STRINGS
    if widget == "checkboxes":
        return [_to_text(v) for v in value] if isinstance(value, list) else []
    if widget == "json":
        return value if isinstance(value, str) else ("" if value is None else json.dumps(value, ensure_ascii=False))
    return _to_text(value)


def raw_values(schema: Mapping[str, Any], form: MultiDict) -> dict[str, Any]:
    """What the clerk typed, keyed by field, to re-render a form exactly as it was sent."""
    raw: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _type_of(prop or {})
        if kind == "array" and _options((prop or {}).get("items", {}), {}):
            raw[name] = form.getlist(name)
        elif kind == "boolean" and not _options(prop or {}, {}):
            raw[name] = name in form and form.get(name, "").lower() in TRUE_STRINGS
        else:
            raw[name] = form.get(name, "")
    return raw


def parse_submission(schema: Mapping[str, Any], form: MultiDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Submitted strings → typed data per the schema, plus messages for values that cannot convert.

    An empty optional field is left out (not sent as ""), so a blank optional phone number is
    "not given" rather than "badly formatted"; an empty required field is left out too, and the
    engine's check then says 必填 beside it.
    """
    data: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        prop = prop or {}
        kind = _type_of(prop)
        try:
            value = _convert_field(name, kind, prop, form)
        except ValueError as exc:
            problems[name] = [str(exc)]
            continue
        if value is not _MISSING:
            data[name] = value
    return data, problems


_MISSING = object()


def _convert_field(name: str, kind: str, prop: Mapping[str, Any], form: MultiDict) -> Any:
    if kind == "array" and _options(prop.get("items", {}), {}):
        item = prop["items"]
        return [_convert_scalar(_type_of(item), item, v) for v in form.getlist(name)]
    if kind == "boolean" and not _options(prop, {}):
        return name in form and form.get(name, "").lower() in TRUE_STRINGS
    raw = form.get(name, "")
    if raw.strip() == "":
        return _MISSING
    if kind in ("object", "array"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError("请输入有效的 JSON") from exc
    return _convert_scalar(kind, prop, raw)


def _convert_scalar(kind: str, prop: Mapping[str, Any], raw: str) -> Any:
    options = _options(prop, {})
    if options and "enum" in prop:
        for value in prop["enum"]:
            if _to_text(value) == raw:
                return value
        return raw  # not an option: the engine's check names the allowed values
    if kind == "integer":
        try:
            return int(raw.strip())
        except ValueError as exc:
            raise ValueError("请输入整数，例如 12") from exc
    if kind == "number":
        try:
            number = float(raw.strip())
        except ValueError as exc:
            raise ValueError("请输入数字，例如 3.5") from exc
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        return raw.lower() in TRUE_STRINGS
    if prop.get("format") == "date-time" and len(raw) == 16:  # <input type=datetime-local> has no seconds/zone
        return datetime.fromisoformat(raw).replace(tzinfo=clock.LOCAL_TZ).isoformat()  # the district's time
    return raw
