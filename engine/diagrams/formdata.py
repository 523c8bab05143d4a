"""A submitted form's strings → typed data, per the JSON Schema the form names.

Browsers send strings; the engine validates typed values. The conversion is part of submitting a task
(one engine call takes the raw form and gives back either the result or every message at once), so it
lives here beside the schema check, not in the web layer. A submission is a plain mapping of field name
→ the list of strings sent under it (what a multi-valued HTML form carries), so nothing here knows the
web framework.

Only types are converted here: a value that cannot be converted at all (letters in a number) gets its
own message, and the schema check (`forms.validate_form`) says everything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.diagrams.branches import chosen_only
from engine.diagrams.forms import validate_form
from engine.errors import FormValidationError
from engine.messages import said
from engine.time.clock import LOCAL_TZ

Submission = Mapping[str, list[str]]

TRUE_STRINGS = frozenset({"on", "true", "1", "yes", "是"})
MORE_SUFFIX = "__more"  # the textarea of a list field: one item per line, beyond the ticked ones
_MISSING = object()


def type_of(prop: Mapping[str, Any]) -> str:
    """A property's JSON type; of a nullable type (`["string", "null"]`), the non-null one."""
    kind = prop.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return kind


def to_text(value: Any) -> str:
    """A value as a form control carries it (JSON's spelling of booleans, nothing for null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def options(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs from `enum` (+ `ui:enumNames`) or from `oneOf: [{const, title}]`."""
    if "enum" in prop:
        names = ui.get("ui:enumNames") or prop.get("enumNames") or []
        return [(to_text(v), str(names[i]) if i < len(names) else to_text(v)) for i, v in enumerate(prop["enum"])]
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        return [(to_text(o["const"]), str(o.get("title", o["const"]))) for o in prop["oneOf"]]
    return []


def list_fields(schema: Mapping[str, Any]) -> set[str]:
    """Array-of-strings fields without fixed options: typed one item per line (the missing materials)."""
    names = set()
    for name, prop in (schema.get("properties") or {}).items():
        items = (prop or {}).get("items") or {}
        if (prop or {}).get("type") == "array" and items.get("type") == "string" and "enum" not in items:
            names.add(name)
    return names


def _first(submitted: Submission, name: str) -> str:
    values = submitted.get(name) or []
    return values[0] if values else ""


def submitted_list(submitted: Submission, name: str) -> list[str]:
    """A list field's items: the ticked ones, then one per non-empty line of its textarea, without repeats."""
    items = [v.strip() for v in submitted.get(name) or [] if v.strip()]
    items += [line.strip() for line in _first(submitted, name + MORE_SUFFIX).splitlines() if line.strip()]
    return list(dict.fromkeys(items))


def parse(schema: Mapping[str, Any], submitted: Submission,
          lines: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Submitted strings → typed data per the schema, plus messages for values that cannot convert.

    An empty optional field is left out (not sent as ""), so a blank optional phone number is "not given"
    rather than "badly formatted"; an empty required field is left out too, and the schema check then
    says 必填 beside it. With `lines`, list fields come as ticked boxes plus one item per line (the
    desk's widget); an empty list is left out, so a required list is reported as missing.
    """
    as_lines = list_fields(schema) if lines else set()
    data: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        if name in as_lines:
            items = submitted_list(submitted, name)
            if items:
                data[name] = items
            continue
        try:
            value = _convert_field(name, prop or {}, submitted)
        except ValueError as exc:
            problems[name] = [str(exc)]
            continue
        if value is not _MISSING:
            data[name] = value
    return data, problems


def typed(schema_text: str, submitted: Submission, form_name: str, lines: bool = False) -> dict[str, Any]:
    """The submission as typed data, or `FormValidationError` with every message at once: a value that
    cannot convert never reaches the engine, and the rest of the form is checked too, so the person
    sees all that is wrong, not one message per try. Fields of an answer not chosen are left out before
    anything is checked (`branches.chosen_only` says why): hidden on the page, they are not part of the answer."""
    schema = json.loads(schema_text)
    data, problems = parse(schema, submitted, lines)
    kept = chosen_only(schema, {**data, **problems})
    data = {k: v for k, v in data.items() if k in kept}
    problems = {k: v for k, v in problems.items() if k in kept}
    if not problems:
        return data
    errors = dict(problems)
    try:
        validate_form(schema_text, data, form_name)
    except FormValidationError as exc:
        for name, messages in exc.field_errors.items():
            errors.setdefault(name, messages)
    raise FormValidationError(said("表单填写有误"), errors)


def _convert_field(name: str, prop: Mapping[str, Any], submitted: Submission) -> Any:
    kind = type_of(prop)
    if kind == "array" and options(prop.get("items", {}), {}):
        item = prop["items"]
        return [_convert_scalar(type_of(item), item, v) for v in submitted.get(name) or []]
    if kind == "boolean" and not options(prop, {}):
        return name in submitted and _first(submitted, name).lower() in TRUE_STRINGS
    raw = _first(submitted, name)
    if raw.strip() == "":
        return _MISSING
    if kind in ("object", "array"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(said("请输入有效的 JSON")) from exc
    return _convert_scalar(kind, prop, raw)


def _convert_scalar(kind: str, prop: Mapping[str, Any], raw: str) -> Any:
    if options(prop, {}) and "enum" in prop:
        for value in prop["enum"]:
            if to_text(value) == raw:
                return value
        return raw  # not an option: the schema check names the allowed values
    if kind == "integer":
        try:
            return int(raw.strip())
        except ValueError as exc:
            raise ValueError(said("请输入整数，例如 12")) from exc
    if kind == "number":
        try:
            number = float(raw.strip())
        except ValueError as exc:
            raise ValueError(said("请输入数字，例如 3.5")) from exc
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        return raw.lower() in TRUE_STRINGS
    if prop.get("format") == "date-time" and len(raw) == 16:  # <input type=datetime-local> has no seconds/zone
        return datetime.fromisoformat(raw).replace(tzinfo=LOCAL_TZ).isoformat()  # the district's time
    return raw
