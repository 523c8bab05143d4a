"""The law's operations on a case's time limit: 延期 (行政许可法第四十二条) and 特别程序 (第四十五条).

The case clock (`engine.runtime.caseclock`) moves deadlines and holds pauses; this module decides who may,
how often and how far, and gives the applicant the written notice the law requires — all in one change:

- **延期** — only the head (负责人, role `chief`) of the organ handling the case: a chief who is a member of
  the group of one of the case's open steps, or of a group of the same unit, or of the item's deciding unit
  (a group is `<unit>·<post>`, so "of the unit" is string work on the codes). Once per case; at most 10
  working days, 15 for an item whose `handling_mode` is `joint` (联合办理, art 42 ¶2), or the item's own
  `guide.extension_limit_days` when its law says otherwise (art 42 ¶1 "法律、法规另有规定的，依照其规定");
  refused once the committed deadline has passed; a 延期告知书 goes to the applicant.
- **特别程序** — a handler of one of the case's open steps stops the clock for 听证/检验/检测/检疫/鉴定/
  专家评审/公示 with the expected working days and a reason; a 特别程序告知书 goes to the applicant; a
  handler resumes it explicitly, and the working days it held move both deadlines as a marked step's pause.

Every refusal is raised before anything is recorded, so a refused operation writes nothing. Each input is
one audit event that `engine.audit.replay` feeds back (`deadline_extended`, `special_procedure_started`,
`special_procedure_ended`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import ENUMERATION_COMMA, listed, said, said_in
from engine.org.assignment import Actor
from engine.org.orgtree import split_group
from engine.runtime import caseclock, indexes
from engine.runtime.change import CaseContext, change_case
from engine.runtime.receipts import issue_notice
from engine.store.db import Database
from engine.store.tables import process_versions
from engine.time.clock import iso_utc, local_date

ORDINARY_EXTENSION_DAYS = 10  # 行政许可法第四十二条第一款
JOINT_EXTENSION_DAYS = 15  # 第四十二条第二款: 联合办理、集中办理、统一办理
JOINT_MODE = "joint"
SPECIAL_PROCEDURES = ("听证", "检验", "检测", "检疫", "鉴定", "专家评审", "公示")
MAX_EXPECTED_DAYS = 365
MAX_REASON = 500
CHIEF_ROLE = "chief"


@dataclass(frozen=True)
class Extended:
    """What an extension did, for the page that asked for it."""

    case_no: str
    days: int
    committed_deadline: str
    notice_no: str


# --- who may ------------------------------------------------------------------------------------------------

def open_groups(ctx: CaseContext) -> list[str | None]:
    """The groups of the case's open human steps (None: a step without a lane, any clerk)."""
    return [ctx.group_of(t) for t in indexes.open_human_tasks(ctx.workflow)]


def chief_group(ctx: CaseContext, actor: Actor, what: str = "延期", law: str = "（行政许可法第四十二条）") -> str:
    """The actor's group that makes them the head of the organ handling the case, or PermissionDenied.

    Heads are people with role `chief`; they are the head of the groups they belong to and of those
    groups' units (`chief:<group>` in notifications means the same). The organ handling the case is the
    unit of any open step's group, or the item's deciding unit (a case waiting on a timer has no open step).
    The one chief rule of the desk: 延期 here, 终止 (`engine.desk.closing`) with its own `what` and `law`.
    """
    if CHIEF_ROLE not in actor.roles:
        raise PermissionDenied(said("%(what)s须经本行政机关负责人批准%(law)s；您不是负责人，请报负责人办理。",
                                    what=what, law=law))
    groups = [g for g in open_groups(ctx) if g]
    units = {split_group(g)[0] for g in groups} - {""}
    with contextlib.suppress(OnewindowError):  # an item without a department: only its steps' groups count
        units.add(ctx.routing.unit("deciding"))
    for group in sorted(actor.groups):
        if group in groups or split_group(group)[0] in units:
            return group
    raise PermissionDenied(said("%(what)s须由办理本件的行政机关的负责人批准；您不是当前办理单位或决定机关的负责人，"
                           "请报该单位负责人办理。", what=what))


def check_handler(ctx: CaseContext, actor: Actor, action: str) -> None:
    """A handler: a member of the group of one of the case's open steps (administrators, as everywhere)."""
    groups = open_groups(ctx)
    if not groups:
        raise OnewindowError(said("办件当前没有待办环节，不能%(action)s。", action=action))
    if actor.is_admin or any(g in actor.groups for g in groups if g) or (None in groups and "clerk" in actor.roles):
        return
    raise PermissionDenied(said("只有当前环节的办理人员可以%(action)s；请由正在办理本件的窗口或科室办理。",
                                action=action))


# --- inputs -------------------------------------------------------------------------------------------------

def whole_days(value: Any, what: str, most: int) -> int:
    """A count of days typed by a person: a whole number from 1 to `most` (a string of digits is fine)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= most:
        raise OnewindowError(said("%(what)s须为 1 至 %(most)s 之间的整数（工作日）。", what=what, most=most))
    return value


def written_reason(value: Any, what: str) -> str:
    """A reason the applicant will read: not empty, at most `MAX_REASON` characters."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise OnewindowError(said("请写明%(what)s；它将写入告知书送达申请人。", what=what))
    if len(text) > MAX_REASON:
        raise OnewindowError(said("%(what)s最多 %(MAX_REASON)s 字（现 %(text)s 字）；请精简后再提交。",
                                  what=what, MAX_REASON=MAX_REASON, text=len(text)))
    return text


def _item(ctx: CaseContext) -> dict[str, Any]:
    version = ctx.moved_to_version or ctx.case.version_id
    meta = ctx.conn.execute(select(process_versions.c.metadata).where(process_versions.c.id == version)).scalar_one()
    return meta or {}


def extension_limit(ctx: CaseContext) -> tuple[int, str]:
    """The most working days this case may be extended by, and the rule that says so."""
    item = _item(ctx)
    guide = item.get("guide") if isinstance(item.get("guide"), dict) else {}
    own = guide.get("extension_limit_days")
    if isinstance(own, int) and not isinstance(own, bool) and own >= 0:
        return own, "本事项办事指南载明的法定延长期限"
    if item.get("handling_mode") == JOINT_MODE:
        return JOINT_EXTENSION_DAYS, "行政许可法第四十二条第二款（联合办理）"
    return ORDINARY_EXTENSION_DAYS, "行政许可法第四十二条第一款"


def _day_text(moment) -> str:
    day = local_date(moment)
    return f"{day.year}年{day.month}月{day.day}日"


# --- 延期 -----------------------------------------------------------------------------------------------------

def check_extension(ctx: CaseContext, actor: Actor) -> tuple[str, int, str]:
    """Everything but the days and reason: who, whether the case can still be extended, and how far."""
    group = chief_group(ctx, actor)
    caseclock.check_extendable(ctx)
    if ctx.clock["extension_days"]:
        raise OnewindowError(said("本件已延期 %(extension_days)s 个工作日；行政许可法第四十二条只允许延长一次，"
                             "不能再次延期。", extension_days=ctx.clock['extension_days']))
    most, rule = extension_limit(ctx)
    if most < 1:
        raise OnewindowError(said("依照%(rule)s，本事项不得延期。", rule=rule))
    return group, most, rule


def extend_in(ctx: CaseContext, days: Any, reason: Any, actor: Actor) -> Extended:
    """Inside a change: the chief's extension, its record and the 延期告知书."""
    group, most, rule = check_extension(ctx, actor)
    days = whole_days(days, f"延长的工作日数（依照{rule}最多 {most} 个工作日）", most)
    reason = written_reason(reason, said("延期理由"))
    caseclock.extend(ctx, days, reason, chief_of=group, most=most)
    deadline = ctx.clock["committed_deadline"]
    content: dict[str, Any] = {"days": days, "reason": reason, "approved_by": actor.display_name or actor.username}
    if deadline is not None and ctx.clock["paused_since"] is None:  # while paused, the end is not known yet
        content["until"] = _day_text(deadline - timedelta(microseconds=1))
    number = issue_notice(ctx, "extension", None, content, group)
    return Extended(ctx.case.case_no, days, iso_utc(deadline) or "", number)


def extend_deadline(db: Database, case_no: str, days: Any, reason: Any, actor: Actor) -> Extended:
    """延期 (行政许可法第四十二条): see the module docstring; `days` may be the string a form sent."""
    return change_case(db, case_no, actor, lambda ctx: extend_in(ctx, days, reason, actor))


# --- 特别程序 ---------------------------------------------------------------------------------------------------

def check_suspension(ctx: CaseContext, actor: Actor) -> None:
    check_handler(ctx, actor, said("启动特别程序、暂停计时"))
    caseclock.check_running(ctx, said_in("action", "暂停计时"))
    if ctx.clock["paused_since"] is not None:
        raise OnewindowError(said("办件已在暂停计时（%(reason)s），"
                             "同一时间只能有一个暂停；请先恢复计时。",
                             reason=caseclock.open_pause_reason(ctx) or said("暂停中")))


def suspend_clock(db: Database, case_no: str, procedure: Any, days: Any, reason: Any, actor: Actor) -> str:
    """特别程序 (行政许可法第四十五条): stop the clock for a hearing, testing … public notice; returns the
    number of the 特别程序告知书 it gives the applicant."""

    def suspend(ctx: CaseContext) -> str:
        check_suspension(ctx, actor)
        if procedure not in SPECIAL_PROCEDURES:
            raise OnewindowError(said("特别程序须为以下之一：%(SPECIAL_PROCEDURES)s。",
                                      SPECIAL_PROCEDURES=listed(SPECIAL_PROCEDURES, ENUMERATION_COMMA)))
        expected = whole_days(days, said("预计所需时间"), MAX_EXPECTED_DAYS)
        why = written_reason(reason, said("启动特别程序的理由"))
        until = ctx.calendar.add_working_days(local_date(ctx.now), expected)
        ctx.record("special_procedure_started", procedure=procedure, days=expected, reason=why,
                   expected_until=until.isoformat())
        caseclock.pause_by_hand(ctx, f"特别程序：{procedure}（预计 {expected} 个工作日）")
        return issue_notice(ctx, "special_procedure", None, {
            "procedure": procedure, "days": expected, "reason": why,
            "until": f"{until.year}年{until.month}月{until.day}日"})

    return change_case(db, case_no, actor, suspend)


def check_resumption(ctx: CaseContext, actor: Actor) -> None:
    check_handler(ctx, actor, said("结束特别程序、恢复计时"))
    if ctx.clock["paused_since"] is None:
        raise OnewindowError(said("办件当前没有暂停计时，无需恢复。"))
    if not caseclock.paused_by_hand(ctx):
        raise OnewindowError(said("当前的暂停来自流程环节“%(ctx)s”，"
                             "该环节办结时自动恢复计时，不能手动恢复。", ctx=caseclock.open_pause_reason(ctx) or ''))


def resume_clock(db: Database, case_no: str, actor: Actor, note: Any = "") -> int:
    """The special procedure is over: the clock runs again; returns the working days it held."""

    def resume(ctx: CaseContext) -> int:
        check_resumption(ctx, actor)
        text = note.strip() if isinstance(note, str) else ""
        if len(text) > MAX_REASON:
            raise OnewindowError(said("说明最多 %(MAX_REASON)s 字（现 %(text)s 字）；请精简后再提交。",
                                      MAX_REASON=MAX_REASON, text=len(text)))
        before = ctx.clock["paused_days"]
        ctx.record("special_procedure_ended", pause=caseclock.open_pause_reason(ctx), note=text)
        caseclock.resume_by_hand(ctx)
        return ctx.clock["paused_days"] - before

    return change_case(db, case_no, actor, resume)


# --- what a page may offer ------------------------------------------------------------------------------------

def offers(ctx: CaseContext, actor: Actor) -> dict[str, Any]:
    """Which of these operations would pass their checks now (the engine checks again when asked)."""
    found: dict[str, Any] = {"extension": None, "special": None, "resumable": None}
    try:
        _group, most, rule = check_extension(ctx, actor)
        found["extension"] = {"most": most, "rule": rule,
                              "deadline": iso_utc(ctx.clock["committed_deadline"])}
    except OnewindowError:
        pass
    for key, check in (("special", check_suspension), ("resumable", check_resumption)):
        try:
            check(ctx, actor)
            found[key] = {"kinds": list(SPECIAL_PROCEDURES), "most": MAX_EXPECTED_DAYS,
                          "pause": caseclock.open_pause_reason(ctx)}
        except OnewindowError:
            pass
    return found
