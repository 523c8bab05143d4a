"""How engine values look on a page: Chinese names for statuses and events, Beijing time for timestamps.

The engine speaks codes (`in_progress`, `task_completed`) and UTC; translating them for people is the
web layer's job, in this one module, so templates stay free of lookup tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.messages import speak
from engine.org import orgtree
from engine.reads import queries, story
from engine.reads.story import StoryNames
from engine.runtime.notice_texts import KINDS as NOTICE_KINDS
from engine.time import clock

from .access import ROLE_NAMES
from .db import get_db

STATUS_NAMES = {
    "submitted": _l("已提交"),
    "accepted": _l("已受理"),
    "in_progress": _l("办理中"),
    "awaiting_supplement": _l("待补正"),
    "approved": _l("已批准"),
    "refused": _l("不予许可"),
    "not_accepted": _l("不予受理"),
    "withdrawn": _l("已撤回"),
    "terminated": _l("已终止"),
    "completed": _l("已办结"),
}

EVENT_NAMES = {
    "application_withdrawn": _l("撤回申请"), "case_terminated": _l("终止办理"),
    "supplement_repeated": _l("再次告知补正"),
    "supplement_reminded": _l("补正催告"), "supplement_lapsed": _l("逾期未补正（视为撤回）"),
    "countersign_added": _l("加签"),
    "countersign_submitted": _l("提交（待加签人签署）"), "countersign_answered": _l("加签人签署意见"),
    "case_started": _l("提交申请"),
    "receipt_issued": _l("出具回执"),
    "notice_issued": _l("出具文书"),
    "handed_over": _l("逐级交接"),
    "case_migrated": _l("迁移到新版流程"),
    "task_claimed": _l("签收"),
    "task_released": _l("退回组内"),
    "task_completed": _l("办理"),
    "step_completed": _l("流程流转"),
    "status_changed": _l("状态变更"),
    "case_closed": _l("办结"),
    "timer_fired": _l("计时触发"),
    "clock_started": _l("开始计时"),
    "clock_paused": _l("暂停计时"),
    "clock_resumed": _l("恢复计时"),
    "warning_raised": _l("时限预警"),
    "deadline_extended": _l("延期"),
    "special_procedure_started": _l("特别程序（暂停计时）"),
    "special_procedure_ended": _l("特别程序结束（恢复计时）"),
    "notified": _l("发出通知"),
    # the desk's operations (engine/desk/taskops.py and friends)
    "task_transferred": _l("转办"),
    "task_delegated": _l("委派"),
    "delegation_submitted": _l("委派办理（待确认）"),
    "delegation_returned": _l("委派退回重办"),
    "delegation_recalled": _l("收回委派"),
    "task_returned": _l("退回"),
    "task_withdrawn": _l("撤回"),
    "case_copied": _l("抄送"),
    "case_urged": _l("催办"),
    "attachment_added": _l("上传附件"),
    "comment_added": _l("发表意见"),
    "materials_checked": _l("核对材料"),
    # the supervisors' actions (engine/watch/supervision.py)
    "warning_acknowledged": _l("电子监察确认预警"),
    "case_chased": _l("电子监察督办"),
    "exception_opened": _l("发起异常处理"),
}

# issue 15, item 10: a reminder is not a card; yellow = overdue, red = still overdue after the chase deadline
WARNING_LEVELS = {
    "none": _l("正常"), "reminder": _l("临期提醒"), "yellow": _l("黄牌（超期）"), "red": _l("红牌（督办逾期）"),
    "statutory": _l("超过法定时限"),
}
WARNING_KINDS = {
    "committed": _l("承诺时限"), "statutory": _l("法定时限"), "step": _l("环节时限"), "chase": _l("督办限期"),
    "acceptance": _l("受理时限（视为受理）"),
}

# engine/catalogue/entries.py LEVEL_NAMES as the web shows them: the engine never imports Flask, so its Chinese
# names are translated here, at the web's edge (tests/test_translations.py keeps the two tables the same in Chinese).
LEVEL_NAMES = {"district": _l("区级"), "town": _l("镇级"), "village": _l("村级")}

# engine/desk/clockops.py SPECIAL_PROCEDURES (行政许可法第四十五条), the engine's Chinese values, as the web names them
PROCEDURE_NAMES = {"听证": _l("听证"), "检验": _l("检验"), "检测": _l("检测"), "检疫": _l("检疫"), "鉴定": _l("鉴定"),
                   "专家评审": _l("专家评审"), "公示": _l("公示")}

HANDLING_MODES = {"direct": _l("即办件"), "committed": _l("承诺件"), "joint": _l("联办件"), "report-up": _l("上报件"),
                  "restricted": _l("控制事项")}


def local_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp (as the engine's read model gives it) in Beijing time."""
    if not value:
        return ""
    return clock.local_text(datetime.fromisoformat(value) if isinstance(value, str) else value, fmt)


def status_name(code: str | None) -> str:
    return str(STATUS_NAMES.get(code or "", code or ""))


def status_class(code: str | None) -> str:
    """A CSS class per status family: done, stopped, waiting or running."""
    if code in ("completed", "approved"):
        return "status-done"
    if code in ("refused", "withdrawn", "terminated"):
        return "status-stopped"
    if code == "awaiting_supplement":
        return "status-waiting"
    return "status-running"


def event_name(code: str) -> str:
    return str(EVENT_NAMES.get(code, code))


def deadline(value: str | datetime | None) -> str:
    """A deadline as every page says it: the end of its day, "2026-09-30 24:00" (`clock.deadline_text`)."""
    if not value:
        return ""
    return clock.deadline_text(datetime.fromisoformat(value) if isinstance(value, str) else value)


def event_summary(event: dict[str, Any], names: StoryNames | None = None) -> list[tuple[str, str]]:
    """An audit event's data as (label, value) pairs for the history table — a story, not a record.

    Form data is listed by each field's title (from the form the step used, `names`); the engine's own data by
    a Chinese label; bookkeeping (task ids, hashes, the step's name, shown in its own column) is left out;
    people by their names, lists as lists, deadlines as the end of their day.
    """
    names = names or event.get("names") or StoryNames()
    data = event.get("data") or {}
    kind = event.get("type")
    element = event.get("element_id")
    if kind == "status_changed":
        return [(_("状态"), f"{status_name(data.get('old'))} → {status_name(data.get('new'))}")]
    if kind == "case_closed":
        return [(_("结果"), status_name(data.get("status")))]
    if kind == "materials_checked":
        return [(name, str(MATERIAL_MARKS.get(mark, mark))) for name, mark in (data.get("marks") or {}).items()]
    pairs: list[tuple[str, str]] = []
    if kind == "case_started":
        pairs.append((_("流程版本"), _("第 %(n)s 版", n=_scalar(data.get("version")))))
    for key, value in (data.get("data") or {}).items():
        if value not in (None, "", []):
            pairs.append((names.field_title(element, key, kind == "case_started"), _value(value, key, names)))
    for key, value in data.items():
        if key in HIDDEN_KEYS or value in (None, "", [], {}) or (key == "kind" and "title" in data):
            continue
        pairs.append((str(KIND_LABELS.get((kind, key)) or DATA_LABELS.get(key, key)), _value(value, key, names)))
    return pairs


# The engine's own event data, by a Chinese label (form data is named by its form's titles instead).
DATA_LABELS = {
    "to": _l("交给"), "group": _l("办理组"), "reason": _l("理由"), "to_name": _l("退回至"),
    "recipients": _l("通知对象"), "note": _l("附言"), "filename": _l("文件"), "material": _l("对应材料"),
    "size": _l("大小（字节）"), "body": _l("意见"), "unit": _l("受理单位"), "mandate": _l("委托"),
    "source": _l("移交单位"), "target": _l("接收单位"), "committed_days": _l("承诺时限（工作日）"),
    "statutory_days": _l("法定时限（工作日）"), "committed_deadline": _l("承诺期限"),
    "statutory_deadline": _l("法定期限"), "old_deadline": _l("原承诺期限"), "new_deadline": _l("新承诺期限"),
    "days": _l("工作日数"), "approved_by": _l("批准人"), "chief_of": _l("负责人所在组"),
    "most": _l("最多可延长（工作日）"), "notice_no": _l("文书编号"), "title": _l("文书"), "organ": _l("出具机关"),
    "level": _l("级别"), "due_at": _l("期限"), "notified": _l("通知对象"), "received_at": _l("收到申请"),
    "acceptance_due_at": _l("受理期限"), "paused_working_days": _l("暂停的工作日"), "procedure": _l("特别程序"),
    "expected_until": _l("预计结束"), "pause": _l("暂停原因"), "channel": _l("方式"), "statement": _l("申请人陈述"),
    "mode": _l("加签方式"), "opinion": _l("加签意见"), "comment": _l("加签说明"), "countersigned_by": _l("加签人"),
    "message": _l("内容"), "steps": _l("环节"), "chase_days": _l("督办限期（工作日）"), "chase_due_at": _l("督办期限"),
    "exception_case_no": _l("异常处理办件"), "problem": _l("问题"), "version_from": _l("原版本"),
    "version_to": _l("新版本"), "lapse_at": _l("视为撤回日期"), "supplement_notice": _l("补正通知书"),
    "materials": _l("材料"), "earlier": _l("此前的通知书"), "tasks": _l("催办环节"), "kind": _l("类别"),
    "handler": _l("经办人"),
}
KIND_LABELS = {("case_copied", "recipients"): _l("抄送给"), ("case_chased", "recipients"): _l("督办对象"),
               ("notified", "recipients"): _l("通知对象")}
# bookkeeping: ids, hashes and the step's name (its own column), and what the rows above already say
HIDDEN_KEYS = frozenset({"task_id", "name", "data", "item", "version", "instance", "target_task_id", "hash_from",
                         "hash_to", "open_elements", "marks", "status", "old", "new"})
MATERIAL_MARKS = {"received": _l("已收"), "missing": _l("缺")}
VALUE_NAMES = {
    "channel": {"online": _l("网上"), "window": _l("窗口")}, "mode": {"before": _l("前加签"), "after": _l("后加签")},
    "level": WARNING_LEVELS, "kind": {**WARNING_KINDS, **NOTICE_KINDS}, "procedure": PROCEDURE_NAMES,
}
DEADLINE_KEYS = frozenset({"committed_deadline", "statutory_deadline", "old_deadline", "new_deadline", "due_at",
                           "acceptance_due_at", "chase_due_at"})


def _value(value: Any, key: str, names: StoryNames) -> str:
    """One recorded value as a person reads it: names for people, groups and steps; lists joined; no JSON."""
    if isinstance(value, list):
        return _("、").join(_value(v, key, names) for v in value)
    if isinstance(value, dict):
        if key == "mandate":
            return _("受 %(principal)s 委托", principal=_scalar(value.get("principal")))
        if "recipient" in value:  # a chased task: whom it reached
            return address(str(value["recipient"]), names.person)
        return _("；").join(_("%(label)s：%(value)s", label=names.field_title(None, k), value=_value(v, k, names))
                            for k, v in value.items() if v not in (None, "", []))
    if key in DEADLINE_KEYS and isinstance(value, str):
        return deadline(value)
    if key in VALUE_NAMES and isinstance(value, str):
        return str(VALUE_NAMES[key].get(value, value))
    if key in ("steps",) and isinstance(value, str):
        return names.step(value)
    if key == "unit" and isinstance(value, str):
        return unit_label(value)
    if key in ("source", "target", "chief_of", "group") and isinstance(value, str):
        return group_label(value)
    if key in story.PERSON_KEYS | {"notified"} and isinstance(value, str):
        return address(value, names.person)
    return _scalar(value)


def address(value: str, person: Callable[[str], str]) -> str:
    """A recipient as people say it: `user:wang` → 王芳, `group:…` → the group, `role:supervisor` → 全体电子监察."""
    kind, _colon, rest = value.partition(":")
    if kind == "user" or (not rest and kind):
        return person(rest or kind)
    if kind == "group":
        return group_label(rest)
    if kind == "chief":
        return _("%(group)s 负责人", group=group_label(rest))
    if kind == "role":
        return _("全体%(role)s", role=ROLE_NAMES.get(rest, rest))
    if kind == "applicant":
        return person(value)
    return group_label(value)


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        return local_time(value)  # times recorded in UTC, shown in district time
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def committed_limit(guide: dict[str, Any] | None) -> str:
    """承诺时限 as the hall shows it: "即办" for 0 working days (on the spot), else "N 个工作日"."""
    guide = guide or {}
    days = guide.get("committed_limit_days", guide.get("time_limit_days"))
    if days is None or days == "":
        return ""
    return _("即办（当场办结）") if int(days) == 0 else _("%(n)s 个工作日", n=int(days))


def warning_level_name(code: str | None) -> str:
    return str(WARNING_LEVELS.get(code or "none", code or ""))


def warning_kind_name(code: str | None) -> str:
    return str(WARNING_KINDS.get(code or "", code or ""))


def level_name(code: str | None) -> str:
    """An item's level (`district`) as the hall names it, in the page's language (see `LEVEL_NAMES`)."""
    return str(LEVEL_NAMES.get(code or "", code or ""))


def procedure_name(value: str | None) -> str:
    return str(PROCEDURE_NAMES.get(value or "", value or ""))


def handling_mode_name(code: str | None) -> str:
    return str(HANDLING_MODES.get(code or "", code or ""))


def role_name(code: str | None) -> str:
    return str(ROLE_NAMES.get(code or "", code or ""))


def group_label(code: str | None) -> str:
    """'区中心/区民政局·审核' → '区民政局 审核': a group as people say it (unit names read once per request)."""
    if "unit_names" not in g:
        g.unit_names = queries.unit_names(get_db())
    return orgtree.describe_group(code, g.unit_names)


def unit_label(code: str | None) -> str:
    """'梁子镇/高塘村' → '高塘村便民服务室': an org unit by its name (unit names read once per request)."""
    if not code:
        return ""
    if "unit_names" not in g:
        g.unit_names = queries.unit_names(get_db())
    return g.unit_names.get(code, code.rsplit("/", 1)[-1])


def person_name(username: str | None) -> str:
    """A username as people say it (the account's display name), looked up once per request and name;
    `system` is 系统 and the follow-up login `applicant:<no>` is 申请人."""
    if not username:
        return ""
    if username == story.SYSTEM:
        return _("系统")
    if username.startswith(story.FOLLOW_UP_PREFIX):
        return _("申请人")
    if "person_names" not in g:
        g.person_names = {}
    if username not in g.person_names:
        g.person_names.update(story.display_names(get_db(), [username]) or {username: username})
    return g.person_names[username]


def register_filters(app: Flask) -> None:
    app.add_template_filter(person_name, "person")
    app.add_template_filter(lambda value: address(value, person_name), "address")
    app.add_template_filter(group_label, "group_label")
    app.add_template_filter(local_time, "localtime")
    app.add_template_filter(status_name, "status_name")
    app.add_template_filter(status_class, "status_class")
    app.add_template_filter(event_name, "event_name")
    app.add_template_filter(event_summary, "event_summary")
    app.add_template_filter(deadline, "deadline")
    app.add_template_filter(warning_level_name, "warning_level")
    app.add_template_filter(committed_limit, "committed_limit")
    app.add_template_filter(warning_kind_name, "warning_kind")
    app.add_template_filter(handling_mode_name, "handling_mode")
    app.add_template_filter(role_name, "role_name")
    app.add_template_filter(level_name, "level_name")
    app.add_template_filter(speak, "spoken")  # an engine's `said` word (a label, a level) in the page's language
    app.add_template_filter(procedure_name, "procedure_name")
