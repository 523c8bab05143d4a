"""The auditor's pages in the auditor's words: the view log in Chinese, people by name, numbers masked.

Why translate when shown, not when stored: `audit_views` is append-only (a trigger refuses any change), so
its rows keep the short codes they were written with (`dossier`, `verify`, `search: item=RS-006`) — stable
for tests and scripts — and this module says each as a person reads it (查阅案卷, 查询：事项 RS-006). A code
this module does not know is shown as it is, rather than hidden.

Why mask on the page: the events of a case hold the application as handed in (ID number, phone). The
page shows them masked like the dossier's applicant block; the JSON export keeps the events exactly as
recorded, because anyone re-checking the hash chain outside needs the very bytes that were hashed.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.audit.casefiles import mask_id_number, mask_phone
from engine.reads.story import display_names
from engine.store.db import Database

from .formatting import status_name, warning_level_name

VIEW_NAMES = {"dossier": _l("查阅案卷"), "dossier json": _l("下载案卷（JSON）"), "verify": _l("校验办件记录"),
              "verify all": _l("校验全部记录"), "replay": _l("查看重放"), "replay json": _l("下载重放数据（JSON）")}
PREFIXES = {"search": _l("查询"), "export csv": _l("导出 CSV")}
FILTER_NAMES = {"item": _l("事项"), "department": _l("部门"), "date_from": _l("起始日期"), "date_to": _l("截止日期"),
                "status": _l("状态"), "clerk": _l("经办人"), "warning": _l("预警"), "closed": _l("办结情况"),
                "applicant": _l("申请人"), "name": _l("申请人"), "id_number": _l("身份证号码"), "phone": _l("联系电话"),
                "case_no": _l("办件编号"), "q": _l("关键词")}
WARNING_FILTERS = {"any": _l("有预警"), "none": _l("无预警")}
CLOSED = {"open": _l("办理中"), "closed": _l("已办结")}
ALL_CASES = "(all cases)"


def describe(what: str) -> str:
    """One line of the view log as a person reads it."""
    if what in VIEW_NAMES:
        return str(VIEW_NAMES[what])
    head, colon, rest = what.partition(": ")
    if colon and head in PREFIXES:
        return _("%(label)s：%(value)s", label=PREFIXES[head], value=_conditions(rest))
    return what


def _conditions(text: str) -> str:
    if text.strip() == ALL_CASES:
        return _("全部办件")
    parts = []
    for token in text.split(" "):
        key, equals, value = token.partition("=")
        if not equals:
            parts.append(token)
            continue
        parts.append(f"{FILTER_NAMES.get(key, key)} {_value(key, value)}")
    return _("，").join(parts)


def _value(key: str, value: str) -> str:
    if key == "status":
        return status_name(value)
    if key == "warning":
        return str(WARNING_FILTERS.get(value) or warning_level_name(value))
    if key == "closed":
        return str(CLOSED.get(value, value))
    return masked_value(key, value)


def names(db: Database, usernames: list[str | None]) -> dict[str, str]:
    """Username → display name for the people a page names."""
    return display_names(db, [u for u in usernames if u])


def masked_value(key: str, value: Any) -> Any:
    """An ID number or a phone number masked (only the last four show); anything else as it is."""
    if isinstance(value, str) and key.endswith("id_number"):
        return mask_id_number(value)
    if isinstance(value, str) and key.endswith("phone"):
        return mask_phone(value)
    return value


def masked(data: Any, key: str = "") -> Any:
    """`data` (an event's or a decision's) with every ID and phone number in it masked, at any depth."""
    if isinstance(data, dict):
        return {k: masked(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [masked(v, key) for v in data]
    return masked_value(key, data)


NOTIFICATION_KINDS = {"warning": _l("时限预警"), "urge": _l("催办"), "chase": _l("定时催办"),
                      "supervision": _l("电子监察督办"),
                      "supplement": _l("补正"), "supplement_repeated": _l("再次补正（告知监察）"), "closed": _l("办结"),
                      "copy": _l("抄送"), "transfer": _l("转办"), "return": _l("退回"), "delegation": _l("委托办理")}
ROLE_GROUPS = {"supervisor": _l("全体电子监察人员"), "clerk": _l("全体窗口人员"), "auditor": _l("全体审计人员"),
               "admin": _l("系统管理员")}


def recipient(value: str, people: dict[str, str], group_label: Any) -> str:
    """Whom a notification went to, as people say it (`group:…` the group, `role:supervisor` 全体电子监察人员,
    `user:wang` the person's name). Note: webapp.formatting is gaining the same for the desk (`address`);
    once it is in, this should call it."""
    kind, _colon, rest = value.partition(":")
    if kind == "user":
        return people.get(rest, rest)
    if kind == "group":
        return group_label(rest)
    if kind == "chief":
        return _("%(group)s 负责人", group=group_label(rest))
    if kind == "role":
        return str(ROLE_GROUPS.get(rest, rest))
    if kind == "applicant":
        return _("申请人")
    return group_label(value)
