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
    """Raise `FormValidationError` listing every failing field; nothing else happens on failure.

    `field_errors` is keyed by the field's path (`phone`, `contact.phone`), so a page can put each message
    beside its input; the summary names each field by its title (联系电话：必填), as a person reads it.
    """
    if not isinstance(data, dict):
        raise FormValidationError(f"表单“{form_name}”的数据必须是一组字段（JSON 对象）",
                                  {"": ["数据必须是一组字段"]})
    errors = sorted(_validator(schema_text).iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    schema = json.loads(schema_text)
    field_errors: dict[str, list[str]] = {}
    for error in errors:
        name = _field_of(error)
        message = _message(error)
        if message not in field_errors.setdefault(name, []):
            field_errors[name].append(message)
    summary = "；".join(f"{title_of(schema, name)}：{'，'.join(msgs)}" for name, msgs in field_errors.items())
    raise FormValidationError(f"表单填写有误 — {summary}", field_errors)


def title_of(schema: dict[str, Any], path: str) -> str:
    """A field's name as the form shows it: its `title` along the path (联系人 · 联系电话), never its key.

    A key without a title stays the key (the form's author gave nothing better); the whole form is 表单.
    """
    if not path:
        return "表单"
    titles: list[str] = []
    node: Any = schema
    for part in path.split("."):
        if not isinstance(node, dict):
            titles.append(part)
            continue
        if part.isdigit() and isinstance(node.get("items"), dict):
            node = node["items"]
            titles.append(f"第 {int(part) + 1} 项")
            continue
        node = (node.get("properties") or {}).get(part)
        titles.append(str(node.get("title") or part) if isinstance(node, dict) else part)
    return " · ".join(titles)


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path)


TYPE_NAMES = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "“是”或“否”",
              "array": "一组条目", "object": "一组字段", "null": "空值"}
FORMAT_NAMES = {"date": "日期（如 2026-12-31）", "date-time": "日期和时间", "time": "时间（如 14:30）",
                "email": "电子邮箱地址", "uri": "网址", "ipv4": "IP 地址", "uuid": "编号"}


def _type_name(value: Any) -> str:
    kinds = value if isinstance(value, list) else [value]
    return "或".join(TYPE_NAMES.get(str(k), "规定的类型") for k in kinds if k != "null") or TYPE_NAMES["null"]


def _choices(value: Any) -> str:
    return "、".join(f"“{v}”" for v in value) if isinstance(value, list) else "规定的选项"


def _message(error: ValidationError) -> str:
    """A Chinese message for every keyword the catalogue's forms use (and their near kin), never jsonschema's
    English: the clerk reads it beside the field, the analyst in the studio's preview."""
    v, value = str(error.validator), error.validator_value
    if v == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties") or {}))
        return "含有表单未定义的字段：" + "、".join(extra)
    messages = {
        "required": lambda: "必填",
        "type": lambda: f"应为{_type_name(value)}",
        "minLength": lambda: "不能为空" if value == 1 else f"至少 {value} 个字",
        "maxLength": lambda: f"最多 {value} 个字",
        "enum": lambda: f"只能是以下之一：{_choices(value)}",
        "const": lambda: f"只能是“{value}”",
        "pattern": lambda: "格式不正确",
        "minimum": lambda: f"不能小于 {value}",
        "maximum": lambda: f"不能大于 {value}",
        "exclusiveMinimum": lambda: f"应大于 {value}",
        "exclusiveMaximum": lambda: f"应小于 {value}",
        "multipleOf": lambda: f"应为 {value} 的整数倍",
        "format": lambda: f"应为有效的{FORMAT_NAMES.get(str(value), '格式')}",
        "minItems": lambda: "至少填写一项" if value == 1 else f"至少填写 {value} 项",
        "maxItems": lambda: f"最多填写 {value} 项",
        "uniqueItems": lambda: "各项不能重复",
        "additionalProperties": lambda: "含有表单未定义的字段",
        "dependentRequired": lambda: "还需填写相关字段",
        "oneOf": lambda: "不符合任何一种允许的填写方式",
        "anyOf": lambda: "不符合任何一种允许的填写方式",
        "not": lambda: "取值不被允许",
        "false": lambda: "此处不应填写",
    }
    made = messages.get(v)
    return made() if made else "填写不符合表单要求"


JSON_PROBLEMS = {  # json.JSONDecodeError's messages, as an analyst reads them
    "Expecting property name enclosed in double quotes": "此处应是用英文双引号括起的字段名（或多了一个逗号）",
    "Expecting value": "此处缺少一个值（或多了一个逗号）",
    "Expecting ',' delimiter": "此处缺少英文逗号",
    "Expecting ':' delimiter": "此处缺少英文冒号",
    "Extra data": "JSON 结束后还有多余的内容",
    "Unterminated string starting at": "字符串缺少结尾的英文双引号",
    "Invalid control character at": "字符串中有换行等控制字符（请写作 \\n）",
    "Invalid \\escape": "字符串中有无效的反斜杠转义",
}


def json_problem(exc: json.JSONDecodeError) -> str:
    """Where a JSON text breaks and what is wrong there, in Chinese (第 3 行第 5 列：此处缺少英文逗号)."""
    what = next((text for english, text in JSON_PROBLEMS.items() if exc.msg.startswith(english)), "写法有误")
    return f"第 {exc.lineno} 行第 {exc.colno} 列：{what}"


def schema_problem(exc: Any) -> str:
    """What makes a document not a JSON Schema (a `SchemaError`), named by where it is and in Chinese."""
    path = [str(p) for p in exc.path]
    where = "/".join(path) or "顶层"
    value = exc.instance
    if path and path[-1] == "type":
        kinds = "、".join(TYPE_NAMES)
        return f"{where}：“{value}”不是可用的类型，type 只能用英文写作 {kinds} 之一"
    expected = {"type": lambda: f"应为{_type_name(exc.validator_value)}",
                "minimum": lambda: f"不能小于 {exc.validator_value}",
                "uniqueItems": lambda: "各项不能重复",
                "minItems": lambda: f"至少要有 {exc.validator_value} 项"}.get(str(exc.validator))
    shown = json.dumps(value, ensure_ascii=False)[:80]
    return f"{where}：{expected() if expected else '不符合 JSON Schema 的写法'}（现为 {shown}）"
