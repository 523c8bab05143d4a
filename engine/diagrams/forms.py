"""Validating form data against the JSON Schema a user task names (spiff-arena's form convention).

Validators are built once per (version content, form file) and kept: a schema of a deployed version
never changes. Messages are in Chinese, keyed by field, so the desk can put each beside its field.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.errors import FormValidationError


@functools.lru_cache(maxsize=1024)
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_form(schema_text: str, data: Any, form_name: str) -> None:
    """Raise `FormValidationError` listing every failing field; nothing else happens on failure."""
    if not isinstance(data, dict):
        raise FormValidationError(f"表单 {form_name} 的数据必须是一个对象（JSON object）",
                                  {"": ["数据必须是一个对象"]})
    errors = sorted(_validator(schema_text).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    field_errors: dict[str, list[str]] = {}
    for error in errors:
        name = _field_of(error)
        field_errors.setdefault(name, []).append(_message(error))
    summary = "；".join(f"{name or '表单'}：{'，'.join(msgs)}" for name, msgs in field_errors.items())
    raise FormValidationError(f"表单填写有误 — {summary}", field_errors)


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path)


def _message(error: ValidationError) -> str:
    v, value = error.validator, error.validator_value
    messages = {
        "required": "必填",
        "type": f"类型应为 {value}",
        "minLength": "不能为空" if value == 1 else f"至少 {value} 个字符",
        "maxLength": f"最多 {value} 个字符",
        "enum": "只能是以下之一：" + "、".join(map(str, value)) if isinstance(value, list) else "取值不在允许范围内",
        "pattern": "格式不正确",
        "minimum": f"不能小于 {value}",
        "maximum": f"不能大于 {value}",
        "format": f"不是有效的 {value} 格式",
        "additionalProperties": "含有表单未定义的字段",
        "const": f"必须是 {value}",
    }
    if v == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties") or {}))
        return "含有表单未定义的字段：" + "、".join(extra)
    return messages.get(str(v), error.message)
