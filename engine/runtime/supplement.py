"""补正 once, completely (行政许可法第三十二条第一款第（四）项): the rules a 补正材料通知书 must meet.

`check_notice(ctx, task, content)` runs as a step's answer is about to issue a 补正材料通知书
(`receipts.from_step`), in that step's change, so a refusal writes nothing:

- the notice lists what is missing (at least one material) and, the first time, everything the case's
  materials checklist marks missing — the one-time notice is complete;
- a second notice on the same submission is refused: after a notice, another one needs the supplement step
  to have been done (the applicant handed something in), and then may name only materials the earlier
  notices asked for — what the applicant newly handed in — never something that was there at the first
  look and should have been listed then; and it needs a reason (the form's `reason`, at least 4 characters).
  Such a repeated notice is recorded (`supplement_repeated`) and told to the supervisors (`role:supervisor`).

It also opens the wait for the supplement (table `supplement_waits`): the applicant is reminded after the
item's `supplement_days` (calendar days, default 30) and the application is treated as withdrawn
(视为撤回) `supplement_grace_days` (calendar days, default 10) after the reminder — the scheduler's tick
does both (`engine.runtime.lapse`). The law fixes neither period nor the consequence; they are the item's
(guide fields), documented in docs/modeling.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from sqlalchemy import delete, func, insert, select

from engine.errors import OnewindowError
from engine.messages import ENUMERATION_COMMA, listed, said
from engine.org.assignment import SYSTEM
from engine.runtime import telling
from engine.store.tables import audit_events, case_materials, process_versions, receipts
from engine.store.tables.cases import supplement_waits

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

DEFAULT_DAYS, DEFAULT_GRACE_DAYS = 30, 10
REASON_MIN = 4


class SupplementRefused(OnewindowError):
    """A 补正材料通知书 the law does not allow as it stands (a second one on the same submission, an incomplete one)."""

    status = 422
    code = "supplement_refused"


def periods(ctx: CaseContext) -> tuple[int, int]:
    """(days until the reminder, days from the reminder until the application lapses), from the item's guide."""
    version = ctx.moved_to_version or ctx.case.version_id
    meta = ctx.conn.execute(select(process_versions.c.metadata).where(process_versions.c.id == version)).scalar_one()
    guide = (meta or {}).get("guide") or {}
    return _days(guide.get("supplement_days"), DEFAULT_DAYS), _days(guide.get("supplement_grace_days"),
                                                                      DEFAULT_GRACE_DAYS)


def _days(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 365 else default


def check_notice(ctx: CaseContext, task: Task, content: dict[str, Any], number: str) -> None:
    """Refuse a 补正材料通知书 the law does not allow; record a repeated one; open the wait (see the module)."""
    missing = [str(m).strip() for m in content.get("missing_materials") or [] if str(m).strip()]
    if not missing:
        raise SupplementRefused(said("补正材料通知书须一次性列明需要补正的全部材料（行政许可法第三十二条第一款第（四）"
                                     "项）；"
                                "请填写需补正的材料。"), field_errors={"missing_materials": [said("请列明需补正的全部材"
                                                                                        "料")]})
    earlier = ctx.conn.execute(select(receipts.c.receipt_no, receipts.c.content, receipts.c.issued_at)
                               .where(receipts.c.case_id == ctx.case.id, receipts.c.kind == "supplement")
                               .order_by(receipts.c.id)).all()
    if not earlier:
        marked = ctx.conn.execute(select(case_materials.c.material).where(
            case_materials.c.case_id == ctx.case.id, case_materials.c.status == "missing")).scalars().all()
        left_out = [m for m in marked if m not in missing]
        if left_out:
            raise SupplementRefused(said("补正须一次性告知全部缺少的材料：材料清单中标为“缺”的“%(left_out)s”"
                                    "未列入本通知书；请一并列明（行政许可法第三十二条第一款第（四）项）。",
                                    left_out='”“'.join(left_out)),
                                    field_errors={"missing_materials": [said("未列全材料清单中缺少的材料")]})
    else:
        _check_repeat(ctx, task, missing, earlier)
    _open_wait(ctx, number)


def _check_repeat(ctx: CaseContext, task: Task, materials: list[str], earlier: list[Any]) -> None:
    numbers = [e.receipt_no for e in earlier]
    issued = ctx.conn.execute(select(audit_events.c.seq, audit_events.c.data).where(
        audit_events.c.case_id == ctx.case.id, audit_events.c.type == "notice_issued")).all()
    last_seq = max((e.seq for e in issued if (e.data or {}).get("kind") == "supplement"), default=0)
    handed_in = ctx.conn.execute(select(func.count()).select_from(audit_events).where(
        audit_events.c.case_id == ctx.case.id, audit_events.c.type == "task_completed",
        audit_events.c.seq > last_seq)).scalar_one()
    if not handed_in:
        raise SupplementRefused(said("本次提交已出具补正材料通知书（%(numbers)s），补正应当一次性告知，"
                                     "不得再次要求补正；"
                                "请等待申请人补正后再审查（行政许可法第三十二条第一款第（四）项）。",
                                numbers=numbers[-1]))
    asked = {str(m).strip() for e in earlier for m in (e.content or {}).get("list") or
             (e.content or {}).get("missing_materials") or []}
    not_new = [m for m in materials if m not in asked]
    if not_new:
        raise SupplementRefused(said("再次告知补正只能针对申请人按补正通知新提交的材料（%(asked)s）；"
                                "“%(not_new)s”在第一次审查时就应一次性告知，现在不能再要求补正。",
                                asked=listed(sorted(asked), ENUMERATION_COMMA), not_new='”“'.join(not_new)),
                                field_errors={"missing_materials": [said("只能列申请人新提交的材料")]})
    reason = str(task.data.get("reason") or "").strip()
    if len(reason) < REASON_MIN:
        raise SupplementRefused(said("再次告知补正须写明理由（新提交的材料存在什么问题），该理由将报送电子监察。"),
                                field_errors={"reason": [said("请写明再次补正的理由")]})
    element = task.task_spec.bpmn_id
    ctx.record("supplement_repeated", element, actor=SYSTEM, reason=reason, materials=materials, earlier=numbers)
    telling.tell(ctx, "role:supervisor", "supplement_repeated", element,
                 said("%(who)s 再次告知补正（已出具 %(numbers)s），材料：%(materials)s；理由：%(reason)s",
                      who=ctx.actor.display_name or ctx.actor.username, numbers=listed(numbers, ENUMERATION_COMMA),
                      materials=listed(materials, ENUMERATION_COMMA), reason=reason))


def _open_wait(ctx: CaseContext, number: str) -> None:
    days, grace = periods(ctx)
    remind_at = ctx.now + timedelta(days=days)
    ctx.conn.execute(delete(supplement_waits).where(supplement_waits.c.case_id == ctx.case.id))
    ctx.conn.execute(insert(supplement_waits).values(case_id=ctx.case.id, notice_no=number, asked_at=ctx.now,
                                                     remind_at=remind_at, lapse_at=remind_at + timedelta(days=grace)))
