"""Form errors name the field as the form shows it, in Chinese (issue 16, items 2 and 10).

The summary a clerk or the API reads says 联系电话：必填, never `phone`; nested fields name each level; every
keyword the catalogue's forms use has a Chinese message (jsonschema's English never reaches a person).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.diagrams.forms import _message, title_of, validate_form
from engine.errors import FormValidationError

ROOT = Path(__file__).resolve().parent.parent
FORM = {
    "type": "object", "required": ["phone", "decision"], "additionalProperties": False,
    "properties": {
        "phone": {"type": "string", "title": "联系电话", "pattern": "^1[0-9]{10}$"},
        "decision": {"type": "string", "title": "受理意见", "enum": ["受理", "不予受理"]},
        "count": {"type": "integer", "title": "份数", "minimum": 1, "maximum": 9},
        "amount": {"type": "number", "title": "金额", "exclusiveMinimum": 0},
        "day": {"type": "string", "title": "日期", "format": "date"},
        "items": {"type": "array", "title": "材料", "minItems": 1, "items": {"type": "string", "minLength": 2}},
        "contact": {"type": "object", "title": "联系人", "required": ["name"],
                    "properties": {"name": {"type": "string", "title": "姓名", "maxLength": 4}}},
        "agree": {"type": "boolean", "title": "已阅读"},
        "kind": {"const": "个人", "title": "类型"},
    },
}
ASCII_WORDS = re.compile(r"[A-Za-z]{3,}")


def refused(data) -> FormValidationError:
    with pytest.raises(FormValidationError) as caught:
        validate_form(json.dumps(FORM, ensure_ascii=False), data, "受理")
    return caught.value


def test_the_summary_names_titles_not_keys():
    error = refused({"decision": "受理"})
    assert error.message == "表单填写有误 — 联系电话：必填"
    assert error.field_errors == {"phone": ["必填"]}  # keyed by the field, for the message beside its input


def test_nested_fields_and_list_items_are_named_by_their_titles():
    error = refused({"phone": "13800000000", "decision": "受理", "contact": {"name": "欧阳司马长风"},
                     "items": ["身份证", "x"]})
    assert "联系人 · 姓名：最多 4 个字" in error.message
    assert "材料 · 第 2 项：至少 2 个字" in error.message
    assert "contact" not in error.message and "items" not in error.message


def test_every_message_is_chinese():
    error = refused({"phone": 138, "decision": "批准", "count": "三", "amount": 0, "day": "明天", "items": [],
                     "contact": {}, "agree": "yes", "kind": "企业", "extra": 1})
    messages = [m for ms in error.field_errors.values() for m in ms]
    assert "应为文字" in error.field_errors["phone"]
    assert "应为整数" in error.field_errors["count"]
    assert "应为“是”或“否”" in error.field_errors["agree"]
    assert error.field_errors["decision"] == ["只能是以下之一：“受理”、“不予受理”"]
    assert error.field_errors["amount"] == ["应大于 0"]
    assert error.field_errors["items"] == ["至少填写一项"]
    assert error.field_errors["kind"] == ["只能是“个人”"]
    assert any(m.startswith("含有表单未定义的字段：extra") for m in messages)
    for message in messages:  # nothing English but the names of a hostile caller's own extra keys
        assert not ASCII_WORDS.search(message.replace("extra", "")), message
    assert not ASCII_WORDS.search(error.message.replace("extra", ""))


def test_title_of_falls_back_to_the_key_and_the_form():
    assert title_of(FORM, "") == "表单"
    assert title_of(FORM, "nope") == "nope"
    assert title_of(FORM, "contact.name") == "联系人 · 姓名"


def test_not_an_object_is_refused_in_chinese():
    with pytest.raises(FormValidationError) as caught:
        validate_form(json.dumps(FORM), ["受理"], "受理")
    assert "必须是一组字段" in caught.value.message


def _keywords(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for child in value.values():
                    _keywords(child, found)
            else:
                _keywords(value, found)
    elif isinstance(node, list):
        for child in node:
            _keywords(child, found)


ANNOTATIONS = {"$schema", "title", "description", "default", "readOnly", "type", "properties", "items", "allOf",
               "if", "then", "else", "enumNames", "examples", "$id", "$comment", "ui:order"}


def test_every_keyword_the_catalogues_forms_use_has_a_chinese_message():
    """Every validating keyword in forms/ and processes/ (a new one fails here until it has its message)."""
    found: set[str] = set()
    for path in [*ROOT.glob("forms/*.json"), *ROOT.glob("processes/**/*.json")]:
        if path.name in ("item.json", "org.json") or "uischema" in path.name:
            continue
        _keywords(json.loads(path.read_text(encoding="utf-8")), found)
    validating = found - ANNOTATIONS
    assert validating, "no validating keyword found: the scan is broken"

    class Fake:
        def __init__(self, keyword):
            self.validator, self.validator_value, self.instance, self.schema = keyword, 1, None, {}

    for keyword in sorted(validating | {"type"}):
        message = _message(Fake(keyword))
        assert message != "填写不符合表单要求", f"no Chinese message for keyword {keyword}"
        assert not ASCII_WORDS.search(message), (keyword, message)


def test_the_studio_refuses_a_broken_form_in_chinese_naming_where():
    """An analyst's form that is not JSON, or not a JSON Schema: where it breaks and what is wrong, no English."""
    from engine.catalogue.drafts import check_form
    from engine.errors import PackageError

    cases = {'{"type": "object", "properties": {"a": 1,}}': ("第 1 行", "字段名"),
             '{"type": "object"': ("第 1 行", "逗号"),
             '{"type": "object", "properties": {"phone": {"type": "文字"}}}': ("properties/phone/type",
                                                                             "“文字”不是可用的类型"),
             '{"type": "object", "required": "phone"}': ("required", "应为一组条目")}
    for text, expected in cases.items():
        with pytest.raises(PackageError) as caught:
            check_form("review.json", text)
        message = caught.value.message
        assert all(part in message for part in expected), message
        assert not re.search(r"Expecting|is not valid|is not of type", message), message
