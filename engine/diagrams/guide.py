"""An item's metadata and guide (办事指南) checked against `schemas/item.schema.json`.

The guide is what the hall publishes (the six publics, S-10) and what the case clock reads (its time
limits), so an item whose guide misses a field does not deploy. Messages name the field in the
words of the guide (申请材料, 承诺时限…) and say what to write.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from lxml import etree

from engine.diagrams.bpmn import spiff_properties, user_tasks
from engine.diagrams.specs import FORMS_PREFIX
from engine.messages import ENUMERATION_COMMA, listed, said

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "item.schema.json"
NOTICE_PROPERTY = "receipt"  # a step that issues a notice (engine/runtime/receipts.py)
REFUSING = ("不予", "不同意", "驳回", "拒绝")  # an answer refusing the application: the notice names the appeal

LABELS = {
    "code": said("事项编码"), "name": said("事项名称"), "department": said("实施部门"),
    "handling_mode": said("办理方式"), "level": said("行使层级"), "accept_levels": said("可受理层级"),
    "guide": said("办事指南"), "content": said("服务内容"), "legal_basis": said("设定依据"),
    "conditions": said("申请条件"), "materials": said("申请材料"), "procedure": said("办理流程"),
    "statutory_limit_days": said("法定时限"), "committed_limit_days": said("承诺时限"),
    "warning_days": said("预警天数"), "fees": said("收费标准"), "place": said("办理地点"), "hours": said("办公时间"),
    "visits": said("到现场次数"), "form": said("材料形式"), "count": said("份数"), "required": said("是否必需"),
    "review_body": said("行政复议机关"), "court": said("行政诉讼法院"), "appeal_note": said("救济途径说明"),
    "notice_basis": said("文书程序依据"),
}


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def guide_problems(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """(problem, fix) pairs for item.json; empty when the item may deploy."""
    problems = [describe_problem(error) for error in sorted(_validator().iter_errors(metadata), key=lambda e: e.path)]
    guide = metadata.get("guide") if isinstance(metadata.get("guide"), dict) else {}
    committed, statutory = guide.get("committed_limit_days"), guide.get("statutory_limit_days")
    if isinstance(committed, int) and isinstance(statutory, int) and committed > statutory:
        problems.append((said("承诺时限 %(committed)s 个工作日超过了法定时限 %(statutory)s 个工作日",
                              committed=committed, statutory=statutory),
                         said("承诺时限不得超过法定时限：缩短承诺时限")))
    if metadata.get("handling_mode") == "direct" and isinstance(committed, int) and committed != 0:
        problems.append((said("即办件（direct）的承诺时限应为 0（当场办结）"),
                         said("把 committed_limit_days 设为 0，或改为承诺件（committed）")))
    if metadata.get("handling_mode") not in (None, "direct") and committed == 0:
        problems.append((said("%(mode)s 事项不能当场办结，必须有承诺时限（工作日）",
                              mode=metadata.get("handling_mode")),
                         said("把 committed_limit_days 设为不超过法定时限的天数，或改为即办件（direct）")))
    return problems


def describe_problem(error: ValidationError) -> tuple[str, str]:
    """(problem, fix) for one schema error, named by the guide's labels: shared by lint and the studio's
    新建事项 form, which puts each beside its field."""
    path = [str(p) for p in error.absolute_path]
    where = listed([LABELS.get(p, said("第 %(n)s 项", n=int(p) + 1) if p.isdigit() else p) for p in path],
                   said("／")) if path else "item.json"
    if error.validator == "required":
        missing = error.message.split("'")[1]
        label = LABELS.get(missing, missing)
        return said("%(where)s 缺少“%(label)s”（%(missing)s）", where=where, label=label,
                    missing=missing), said("在 item.json 的 %(key)s 填写%(label)s", key=".".join([*path, missing]),
                                           label=label)
    if error.validator == "enum":
        return (said("%(where)s 的值 %(instance)s 不在允许范围内", where=where, instance=json.dumps(error.instance,
                                                                                                    ensure_ascii=False)),
                said("改为以下之一：%(choices)s", choices=listed(map(str, error.validator_value), ENUMERATION_COMMA)))
    return (f"{where}：{error.message}",
            said("按办事指南格式（engine/diagrams/schemas/item.schema.json）修改 %(path)s", path='.'.join(path)))


def appeal_problems(metadata: dict[str, Any], trees: dict[str, etree._ElementTree],
                    files: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(problem, fix, element, file) for each step that can issue a refusal notice (不予受理决定书, 不予行政许可
    决定书) while the guide names no review body (行政复议机关) or court: such a notice may not be issued, so
    the item may not deploy (行政许可法第三十八条第二款). A diagram without item.json (a sketch, a shared
    process) has no guide yet: the item that deploys it is checked."""
    if not metadata:
        return []
    guide = metadata.get("guide") if isinstance(metadata.get("guide"), dict) else {}
    missing = [label for key, label in (("review_body", said("行政复议机关")), ("court", said("行政诉讼法院")))
               if not str(guide.get(key) or "").strip()]
    if not missing:
        return []
    problems = []
    for name, tree in trees.items():
        for task in user_tasks(tree):
            props = spiff_properties(task)
            marked = props.get(NOTICE_PROPERTY)
            if marked and _can_refuse(marked, props.get("formJsonSchemaFilename"), files):
                problems.append((said("步骤“%(step)s”可能出具不予受理或不予许可的决定书，"
                                 "办事指南却没有写明%(missing)s，决定书无法告知申请人救济途径",
                                      step=task.get("name") or task.get("id"), missing=listed(missing, said("和"))),
                                 said("在 item.json 的 guide 中填写 review_body（如“区人民政府”）和 court"
                                 "（如“区人民法院”；实行集中管辖的写集中管辖法院）"),
                                 task.get("id"), name))
    return problems


def _can_refuse(marked: str, form: str | None, files: dict[str, str]) -> bool:
    step, _, field = marked.partition(":")
    if step == "refusal":
        return True
    if step not in ("acceptance", "decision"):
        return False
    try:
        schema = json.loads(files.get(FORMS_PREFIX + str(form), "") or "{}")
    except json.JSONDecodeError:
        return False
    answers = ((schema.get("properties") or {}).get(field or "decision") or {}).get("enum") or []
    return any(isinstance(a, str) and any(word in a for word in REFUSING) for a in answers)
