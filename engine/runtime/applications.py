"""What an application may hold: the questions every item asks, plus the item's own application form.

Checked in the engine when a case starts (`casework.start_case`), so the hall, the API and the command
line accept exactly the same applications (issue 13, item 6): before, only the hall's page checked its
form, and `POST /api/v1/cases` or `onewindow start` stored any keys of any size — a 15 MB note, or a
`decision` that then pre-filled the accepting clerk's form. An item names its own form in item.json
(`application_form`, a JSON Schema kept and versioned with the item); everything else is refused by name.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from engine.diagrams.forms import validate_form
from engine.diagrams.specs import ProcessSpecs
from engine.errors import FormValidationError
from engine.messages import said

MAX_BYTES = 64 * 1024  # the whole application as JSON; files travel as attachments, never as data
ID_NUMBER_PATTERN = "^[0-9]{17}[0-9Xx]$"
COMMON_PROPERTIES: dict[str, Any] = {
    "applicant_name": {"type": "string", "title": said("申请人姓名"), "minLength": 1, "maxLength": 64},
    "id_number": {"type": "string", "title": said("身份证号码"), "pattern": ID_NUMBER_PATTERN,
                  "description": said("18 位居民身份证号码")},
    "phone": {"type": "string", "title": said("联系电话"), "pattern": "^1[0-9]{10}$",
              "description": said("11 位手机号码，用于接收办理进度通知")},
    "application_note": {"type": "string", "title": said("申请说明"), "maxLength": 500},
}


def own_form(specs: ProcessSpecs) -> dict[str, Any]:
    """The item's own application form (empty when it asks only the common questions)."""
    return json.loads(specs.forms[specs.application_form]) if specs.application_form else {}


def schema_of(specs: ProcessSpecs) -> dict[str, Any]:
    """The whole application form of a version: the common questions, then the item's own; nothing else."""
    return schema_with(own_form(specs))


def schema_with(own: dict[str, Any]) -> dict[str, Any]:
    """The common questions followed by `own` (an item's application form), closed to any other field."""
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "properties": {**copy.deepcopy(COMMON_PROPERTIES), **(own.get("properties") or {})},
                              "required": list(own.get("required") or [])}
    if own.get("allOf"):
        schema["allOf"] = own["allOf"]
    return schema


def check(specs: ProcessSpecs, data: Any) -> None:
    """Refuse an application its item's form does not allow, saying which field and why."""
    if not isinstance(data, dict):
        raise FormValidationError(said("申请数据必须是一个对象（JSON object）"), {"": [said("数据必须是一个对象")]})
    size = len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_BYTES:
        raise FormValidationError(said("申请数据共 %(size)s 字节，超过上限 %(MAX_BYTES)s 字节；材料请作为附件上传。",
                                       size=size, MAX_BYTES=MAX_BYTES),
                                  {"": [said("申请数据过大")]})
    validate_form(_schema_text(specs.forms[specs.application_form] if specs.application_form else ""), data,
                  said("申请表"))


@functools.lru_cache(maxsize=256)
def _schema_text(own_text: str) -> str:
    """The whole form as the validator's cache key, made once per form text: a deployed version's form never
    changes, and building it (a copy of the common questions, a JSON dump) was a tenth of opening a case."""
    return json.dumps(schema_with(json.loads(own_text) if own_text else {}), ensure_ascii=False, sort_keys=True)
