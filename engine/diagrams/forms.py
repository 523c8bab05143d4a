"""Validating form data against the JSON Schema a user task names (spiff-arena's form convention).

Validators are built once per (version content, form file) and kept: a schema of a deployed version
never changes. Messages are in Chinese, keyed by field, so the desk can put each beside its field.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from engine.errors import FormValidationError
from engine.messages import COMMA, ENUMERATION_COMMA, listed, said


@functools.lru_cache(maxsize=1024)
def schema_error(schema_text: str) -> SchemaError | None:
    """The 2020-12 meta-schema's verdict on a form's text (parsed already by the caller), once per text:
    checking every form against it was half of a deploy's time (6 of 12 s for the 70 demo and catalogue
    items), and a text's verdict never changes. The error is read, never raised again by the cache."""
    try:
        Draft202012Validator.check_schema(json.loads(schema_text))
    except SchemaError as exc:
        return exc
    return None


@functools.lru_cache(maxsize=1024)
def _validator(schema_text: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_text), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_form(schema_text: str, data: Any, form_name: str) -> None:
    """Raise `FormValidationError` listing every failing field; nothing else happens on failure.

    `field_errors` is keyed by the field's path (`phone`, `contact.phone`), so a page can put each message
    beside its input; the summary names each field by its title (联系电话：必填), as a person reads it.
    """
    if not isinstance(data, dict):
        raise FormValidationError(said("表单“%(form_name)s”的数据必须是一组字段（JSON 对象）", form_name=form_name),
                                  {"": [said("数据必须是一组字段")]})
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
    summary = listed(said("%(title)s：%(messages)s", title=title_of(schema, name), messages=listed(msgs, COMMA))
                     for name, msgs in field_errors.items())
    raise FormValidationError(said("表单填写有误 — %(summary)s", summary=summary), field_errors)


def title_of(schema: dict[str, Any], path: str) -> str:
    """A field's name as the form shows it: its `title` along the path (联系人 · 联系电话), never its key.

    A key without a title stays the key (the form's author gave nothing better); the whole form is 表单.
    """
    if not path:
        return said("表单")
    titles: list[str] = []
    node: Any = schema
    for part in path.split("."):
        if not isinstance(node, dict):
            titles.append(part)
            continue
        if part.isdigit() and isinstance(node.get("items"), dict):
            node = node["items"]
            titles.append(said("第 %(n)s 项", n=int(part) + 1))
            continue
        node = (node.get("properties") or {}).get(part)
        titles.append(str(node.get("title") or part) if isinstance(node, dict) else part)
    return listed(titles, MIDDLE_DOT)


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(path)


TYPE_NAMES = {"string": said("文字"), "integer": said("整数"), "number": said("数字"),
              "boolean": said("“是”或“否”"),
              "array": said("一组条目"), "object": said("一组字段"), "null": said("空值")}
FORMAT_NAMES = {"date": said("日期（如 2026-12-31）"), "date-time": said("日期和时间"),
                "time": said("时间（如 14:30）"),
                "email": said("电子邮箱地址"), "uri": said("网址"), "ipv4": said("IP 地址"), "uuid": said("编号")}
OR = said("或")
MIDDLE_DOT = said(" · ")


def _type_name(value: Any) -> str:
    kinds = [said("规定的类型") if k not in TYPE_NAMES else TYPE_NAMES[k]
             for k in (value if isinstance(value, list) else [value]) if k != "null"]
    return listed(kinds, OR) if kinds else TYPE_NAMES["null"]


def _choices(value: Any) -> str:
    return listed((f"“{v}”" for v in value), ENUMERATION_COMMA) if isinstance(value, list) else said("规定的选项")


def _message(error: ValidationError) -> str:
    """A Chinese message for every keyword the catalogue's forms use (and their near kin), never jsonschema's
    English: the clerk reads it beside the field, the analyst in the studio's preview."""
    v, value = str(error.validator), error.validator_value
    if v == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties") or {}))
        return said("含有表单未定义的字段：%(fields)s", fields=listed(extra, ENUMERATION_COMMA))
    messages = {
        "required": lambda: said("必填"),
        "type": lambda: said("应为%(kind)s", kind=_type_name(value)),
        "minLength": lambda: said("不能为空") if value == 1 else said("至少 %(n)s 个字", n=value),
        "maxLength": lambda: said("最多 %(n)s 个字", n=value),
        "enum": lambda: said("只能是以下之一：%(choices)s", choices=_choices(value)),
        "const": lambda: said("只能是“%(value)s”", value=value),
        "pattern": lambda: said("格式不正确"),
        "minimum": lambda: said("不能小于 %(n)s", n=value),
        "maximum": lambda: said("不能大于 %(n)s", n=value),
        "exclusiveMinimum": lambda: said("应大于 %(n)s", n=value),
        "exclusiveMaximum": lambda: said("应小于 %(n)s", n=value),
        "multipleOf": lambda: said("应为 %(n)s 的整数倍", n=value),
        "format": lambda: said("应为有效的%(format)s", format=FORMAT_NAMES.get(str(value)) or said("格式")),
        "minItems": lambda: said("至少填写一项") if value == 1 else said("至少填写 %(n)s 项", n=value),
        "maxItems": lambda: said("最多填写 %(n)s 项", n=value),
        "uniqueItems": lambda: said("各项不能重复"),
        "additionalProperties": lambda: said("含有表单未定义的字段"),
        "dependentRequired": lambda: said("还需填写相关字段"),
        "oneOf": lambda: said("不符合任何一种允许的填写方式"),
        "anyOf": lambda: said("不符合任何一种允许的填写方式"),
        "not": lambda: said("取值不被允许"),
        "false": lambda: said("此处不应填写"),
    }
    made = messages.get(v)
    return made() if made else said("填写不符合表单要求")


JSON_PROBLEMS = {  # json.JSONDecodeError's messages, as an analyst reads them
    "Expecting property name enclosed in double quotes": said("此处应是用英文双引号括起的字段名（或多了一个逗号）"),
    "Expecting value": said("此处缺少一个值（或多了一个逗号）"),
    "Expecting ',' delimiter": said("此处缺少英文逗号"),
    "Expecting ':' delimiter": said("此处缺少英文冒号"),
    "Extra data": said("JSON 结束后还有多余的内容"),
    "Unterminated string starting at": said("字符串缺少结尾的英文双引号"),
    "Invalid control character at": said("字符串中有换行等控制字符（请写作 \\n）"),
    "Invalid \\escape": said("字符串中有无效的反斜杠转义"),
}


def json_problem(exc: json.JSONDecodeError) -> str:
    """Where a JSON text breaks and what is wrong there, in Chinese (第 3 行第 5 列：此处缺少英文逗号)."""
    what = next((text for english, text in JSON_PROBLEMS.items() if exc.msg.startswith(english)), said("写法有误"))
    return said("第 %(line)s 行第 %(column)s 列：%(what)s", line=exc.lineno, column=exc.colno, what=what)


def schema_problem(exc: Any) -> str:
    """What makes a document not a JSON Schema (a `SchemaError`), named by where it is and in Chinese."""
    path = [str(p) for p in exc.path]
    where = "/".join(path) or said("顶层")
    value = exc.instance
    if path and path[-1] == "type":
        return said("%(where)s：“%(value)s”不是可用的类型，type 只能用英文写作 %(kinds)s 之一",
                    where=where, value=value, kinds=listed(TYPE_NAMES, ENUMERATION_COMMA))
    expected = {"type": lambda: said("应为%(kind)s", kind=_type_name(exc.validator_value)),
                "minimum": lambda: said("不能小于 %(n)s", n=exc.validator_value),
                "uniqueItems": lambda: said("各项不能重复"),
                "minItems": lambda: said("至少要有 %(n)s 项", n=exc.validator_value)}.get(str(exc.validator))
    shown = json.dumps(value, ensure_ascii=False)[:80]
    return said("%(where)s：%(problem)s（现为 %(shown)s）", where=where,
                problem=expected() if expected else said("不符合 JSON Schema 的写法"), shown=shown)
