"""How engine values look on a page: Chinese names for statuses and events, Beijing time for timestamps.

The engine speaks codes (`in_progress`, `task_completed`) and UTC; translating them for people is the
web layer's job, in this one module, so templates stay free of lookup tables.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask import Flask, g

from engine.org import orgtree
from engine.reads import queries
from engine.time import clock

from .access import ROLE_NAMES
from .db import get_db

STATUS_NAMES = {
    "submitted": "已提交",
    "accepted": "已受理",
    "in_progress": "办理中",
    "awaiting_supplement": "待补正",
    "approved": "已批准",
    "refused": "不予许可",
    "not_accepted": "不予受理",
    "withdrawn": "已撤回",
    "terminated": "已终止",
    "completed": "已办结",
}

EVENT_NAMES = {
    "application_withdrawn": "撤回申请", "case_terminated": "终止办理", "supplement_repeated": "再次告知补正",
    "supplement_reminded": "补正催告", "supplement_lapsed": "逾期未补正（视为撤回）", "countersign_added": "加签",
    "countersign_submitted": "提交（待加签人签署）", "countersign_answered": "加签人签署意见",
    "case_started": "提交申请",
    "receipt_issued": "出具回执",
    "notice_issued": "出具文书",
    "handed_over": "逐级交接",
    "case_migrated": "迁移到新版流程",
    "task_claimed": "签收",
    "task_released": "退回组内",
    "task_completed": "办理",
    "step_completed": "流程流转",
    "status_changed": "状态变更",
    "case_closed": "办结",
    "timer_fired": "计时触发",
    "clock_started": "开始计时",
    "clock_paused": "暂停计时",
    "clock_resumed": "恢复计时",
    "warning_raised": "时限预警",
    "deadline_extended": "延期",
    "special_procedure_started": "特别程序（暂停计时）",
    "special_procedure_ended": "特别程序结束（恢复计时）",
    "notified": "发出通知",
    # the desk's operations (engine/desk/taskops.py and friends)
    "task_transferred": "转办",
    "task_delegated": "委派",
    "delegation_submitted": "委派办理（待确认）",
    "delegation_returned": "委派退回重办",
    "delegation_recalled": "收回委派",
    "task_returned": "退回",
    "task_withdrawn": "撤回",
    "case_copied": "抄送",
    "case_urged": "催办",
    "attachment_added": "上传附件",
    "comment_added": "发表意见",
    "materials_checked": "核对材料",
    # the supervisors' actions (engine/watch/supervision.py)
    "warning_acknowledged": "电子监察确认预警",
    "case_chased": "电子监察督办",
    "exception_opened": "发起异常处理",
}

# issue 15, item 10: a reminder is not a card; yellow = overdue, red = still overdue after the chase deadline
WARNING_LEVELS = {"none": "正常", "reminder": "临期提醒", "yellow": "黄牌（超期）", "red": "红牌（督办逾期）",
                  "statutory": "超过法定时限"}
WARNING_KINDS = {"committed": "承诺时限", "statutory": "法定时限", "step": "环节时限", "chase": "督办限期",
                 "acceptance": "受理时限（视为受理）"}

HANDLING_MODES = {"direct": "即办件", "committed": "承诺件", "joint": "联办件", "report-up": "上报件",
                  "restricted": "控制事项"}


def local_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp (as the engine's read model gives it) in Beijing time."""
    if not value:
        return ""
    return clock.local_text(datetime.fromisoformat(value) if isinstance(value, str) else value, fmt)


def status_name(code: str | None) -> str:
    return STATUS_NAMES.get(code or "", code or "")


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
    return EVENT_NAMES.get(code, code)


def event_summary(event: dict[str, Any]) -> list[tuple[str, str]]:
    """An audit event's data as (label, value) pairs for the history table.

    Form data is listed field by field; bookkeeping (task ids, the element's name, shown in its
    own column) is left out; status codes are shown by their Chinese names.
    """
    data = event.get("data") or {}
    kind = event.get("type")
    if kind == "status_changed":
        return [("状态", f"{status_name(data.get('old'))} → {status_name(data.get('new'))}")]
    if kind == "case_closed":
        return [("结果", status_name(data.get("status")))]
    pairs: list[tuple[str, str]] = []
    if kind == "case_started":
        pairs += [("事项", _scalar(data.get("item"))), ("流程版本", _scalar(data.get("version")))]
    for key, value in (data.get("data") or {}).items():
        pairs.append((key, _scalar(value)))
    if kind in DESK_EVENTS:
        return pairs + _desk_summary(kind, data)
    skip = {"task_id", "name", "data", "item", "version"}
    pairs += [(key, _scalar(value)) for key, value in data.items() if key not in skip]
    return pairs


# The desk's operations (engine/desk/taskops.py and friends): their data by Chinese label, empty ones left out.
DESK_EVENTS = frozenset({"task_transferred", "task_delegated", "delegation_submitted", "delegation_returned",
                         "delegation_recalled", "task_returned", "task_withdrawn", "case_copied", "case_urged",
                         "attachment_added", "comment_added", "materials_checked"})
DESK_LABELS = {"to": "交给", "group": "办理组", "reason": "理由", "to_name": "退回至", "recipients": "抄送给",
               "note": "附言", "filename": "文件", "material": "对应材料", "size": "大小（字节）", "body": "意见"}
MATERIAL_MARKS = {"received": "已收", "missing": "缺"}


def _desk_summary(kind: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    if kind == "materials_checked":
        return [(name, MATERIAL_MARKS.get(mark, mark)) for name, mark in (data.get("marks") or {}).items()]
    pairs = []
    if kind == "case_urged":
        whom = "、".join(t.get("recipient", "").split(":", 1)[-1] for t in data.get("tasks") or [])
        pairs.append(("催办对象", whom))
    for key, label in DESK_LABELS.items():
        value = data.get(key)
        if value not in (None, "", []):
            pairs.append((label, "、".join(value) if isinstance(value, list) else _scalar(value)))
    return pairs


_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        return local_time(value)  # deadlines and due times recorded in UTC, shown in district time
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def committed_limit(guide: dict[str, Any] | None) -> str:
    """承诺时限 as the hall shows it: "即办" for 0 working days (on the spot), else "N 个工作日"."""
    guide = guide or {}
    days = guide.get("committed_limit_days", guide.get("time_limit_days"))
    if days is None or days == "":
        return ""
    return "即办（当场办结）" if int(days) == 0 else f"{int(days)} 个工作日"


def warning_level_name(code: str | None) -> str:
    return WARNING_LEVELS.get(code or "none", code or "")


def warning_kind_name(code: str | None) -> str:
    return WARNING_KINDS.get(code or "", code or "")


def group_label(code: str | None) -> str:
    """'区中心/区民政局·审核' → '区民政局 审核': a group as people say it (unit names read once per request)."""
    if "unit_names" not in g:
        g.unit_names = queries.unit_names(get_db())
    return orgtree.describe_group(code, g.unit_names)


def register_filters(app: Flask) -> None:
    app.add_template_filter(group_label, "group_label")
    app.add_template_filter(local_time, "localtime")
    app.add_template_filter(status_name, "status_name")
    app.add_template_filter(status_class, "status_class")
    app.add_template_filter(event_name, "event_name")
    app.add_template_filter(event_summary, "event_summary")
    app.add_template_filter(warning_level_name, "warning_level")
    app.add_template_filter(committed_limit, "committed_limit")
    app.add_template_filter(warning_kind_name, "warning_kind")
    app.add_template_filter(lambda code: HANDLING_MODES.get(code, code), "handling_mode")
    app.add_template_filter(lambda code: ROLE_NAMES.get(code, code), "role_name")
