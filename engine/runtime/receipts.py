"""Notices (文书): every decision that reaches the applicant is a numbered, dated document.

`issue_notice(ctx, kind, element_id, content, group)` issues one inside a change: it is numbered from
the case (`<case no>-01`, `-02` … in the order the case gave them, so re-executing the case yields the
same numbers), dated `ctx.now`, issued in the name of the organ whose group handled the deciding step
(the department, never the village room a relayed case came in at), carries the legal basis and, for
a refusal, the appeal rights naming the review body and the court; it is written in the case's own
transaction and announced by a `notice_issued` audit event. A refusal whose text lacks any of them is
not issued: the change fails with the reason (lint keeps such an item from deploying in the first place).

A step marked `receipt` issues its notice when it completes (`from_step`): `acceptance` (受理通知书,
补正材料通知书 or 不予受理决定书, by the answer), `decision` (准予 / 不予行政许可决定书, by the answer),
`refusal` (不予行政许可决定书, a step that writes the refusal), `delivery` (送达回证). `:<field>` after
the value names the form field holding the answer when it is not `decision` (`decision:approval`).
The wording is in `engine.runtime.notice_texts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from sqlalchemy import Connection, func, insert, select

from engine.errors import NotFound, OnewindowError
from engine.messages import ENUMERATION_COMMA, listed, said
from engine.org.orgtree import department_unit, split_group
from engine.runtime import notice_texts, supplement
from engine.runtime.notice_texts import KINDS, REFUSALS
from engine.store.db import Database
from engine.store.tables import cases, org_units, process_versions, receipts

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

__all__ = [
    "AT_THE_WINDOW",
    "KINDS",
    "REFUSALS",
    "from_step",
    "issue_notice",
    "of_case",
    "one",
    "refusal_problems",
    "write",
]

AT_THE_WINDOW = ("acceptance", "supplement", "refusal_of_acceptance")  # the acceptance step's answers: a visit
STEP_KINDS = ("acceptance", "decision", "refusal", "delivery")  # the values of a step's `receipt` property
REFUSAL_WORDS = ("不予", "不同意", "驳回", "拒绝")  # as lint's rule for reasons (engine.diagrams.lint_routing)


class NoticeError(OnewindowError):
    """A notice that may not be issued as it stands (a refusal without its reason or appeal rights)."""


def issue_notice(ctx: CaseContext, kind: str, element_id: str | None, content: dict[str, Any],
                 group: str | None = None) -> str:
    """Issue a notice of `kind` (a key of `KINDS`) in the change `ctx`; returns its number.

    `content` holds the facts of this notice (a refusal's `reason`, a 补正's `missing_materials`, an
    extension's `days` and `reason` …, see `notice_texts.compose`); `group` is the group that handled the
    deciding step, whose unit is the issuing organ (None: the item's deciding unit, e.g. for an extension
    decided by the head of the organ handling the case).
    """
    if kind not in KINDS:
        raise NoticeError(said("未知的文书种类：%(kind)s；可用：%(kinds)s", kind=kind,
                               kinds=listed(KINDS, ENUMERATION_COMMA)))
    guide = _guide(ctx)
    organ_code, organ_name = _organ(ctx, group)
    notice = notice_texts.compose(kind, content, guide, {
        "case_no": ctx.case.case_no, "item": ctx.case.item_name, "item_code": ctx.case.item_code,
        "applicant": ctx.case.applicant_name, "organ": organ_name, "issued_at": ctx.now,
        "received_at": ctx.case.created_at, "limits": ctx.specs.limits})
    if kind in REFUSALS and (problems := refusal_problems(notice)):
        raise NoticeError(said("不能出具%(kind)s：%(problems)s。"
                          "行政许可法第三十八条第二款要求不予许可的说明理由，并告知申请行政复议或者提起行政诉讼的权利；"
                          "请流程管理员在事项 item.json 的 guide 中填写 review_body（行政复议机关）和 court"
                          "（行政诉讼法院）后重新部署，并把本件迁移到新版本。",
                          kind=KINDS[kind], problems=listed(problems)))
    number = _next_number(ctx)
    ctx.record("notice_issued", element_id, notice_no=number, kind=kind, title=KINDS[kind], organ=organ_name)
    ctx.receipts.append({"receipt_no": number, "kind": kind, "title": KINDS[kind], "element_id": element_id,
                         "unit_code": organ_code, "organ_name": organ_name, "issued_by": ctx.actor.username,
                         "issued_at": ctx.now, "content": notice})
    return number


def from_step(ctx: CaseContext, task: Task, marked: str) -> str | None:
    """The notice a step marked `receipt=<marked>` issues as it completes (None: its answer issues none)."""
    step, _, field = marked.partition(":")
    answer = str(task.data.get(field or "decision") or "")
    kind = _kind_of(step, answer)
    if kind is None:
        return None
    data = task.data
    content: dict[str, Any] = {"answer": answer, "step": task.task_spec.bpmn_name or task.task_spec.bpmn_id}
    for key in ("legal_basis", "missing_materials", "approval_note", "result_note", "remark", "certificate_no",
                "delivered_on", "delivery_method", "receiver", "recipient"):
        if data.get(key) not in (None, "", []):
            content[key] = data[key]
    reason = data.get("reason") or next((v for k, v in data.items() if k.endswith("_reason") and v), None)
    if reason and kind in ("refusal_of_acceptance", "licence_refused"):
        content["reason"] = str(reason)
    if kind == "supplement" and not content.get("missing_materials") and data.get("supplement_request"):
        content["missing_materials"] = [str(data["supplement_request"])]
    group = ctx.group_of(task)
    if kind == "service_receipt":  # served by the window the applicant came to, in the name of the deciding organ
        delivered = _last_decision(ctx)
        if delivered:
            content["delivered_notice"] = delivered
        content["served_by"] = ctx.actor.display_name or ctx.actor.username
        group = None
    if kind == "supplement":  # once, completely (art 32(4)); opens the wait for the supplement
        supplement.check_notice(ctx, task, content, _next_number(ctx))
    return issue_notice(ctx, kind, task.task_spec.bpmn_id, content, group)


def _kind_of(step: str, answer: str) -> str | None:
    refused = any(word in answer for word in REFUSAL_WORDS)
    if step == "acceptance":
        return "refusal_of_acceptance" if refused else "supplement" if "补正" in answer else "acceptance"
    if step == "decision":  # a 即办 step decides at the window: its 不予受理 is a refusal to accept (art 32)
        if "不予受理" in answer:
            return "refusal_of_acceptance"
        return "licence_refused" if refused else "supplement" if "补正" in answer else "licence_granted"
    if step == "refusal":
        return "licence_refused"
    if step == "delivery":
        return "service_receipt"
    return None


def refusal_problems(notice: dict[str, Any]) -> list[str]:
    """What a refusal notice lacks, read from its content (not only that the fields are there)."""
    problems = []
    if len(str(notice.get("reason") or "").strip()) < 4:
        problems.append(said("缺少不予受理或不予许可的理由"))
    if not notice.get("legal_basis"):
        problems.append(said("缺少法律依据"))
    appeal = notice.get("appeal") or {}
    body, court, text = (str(appeal.get(k) or "").strip() for k in ("review_body", "court", "text"))
    if not body:
        problems.append(said("办事指南未载明行政复议机关"))
    if not court:
        problems.append(said("办事指南未载明行政诉讼的人民法院"))
    if body and court and not (body in text and court in text and "六十日" in text and "六个月" in text):
        problems.append(said("救济途径告知未写明向谁、在多长期限内申请行政复议和提起行政诉讼"))
    return problems


def _guide(ctx: CaseContext) -> dict[str, Any]:
    version = ctx.moved_to_version or ctx.case.version_id
    meta = ctx.conn.execute(select(process_versions.c.metadata).where(process_versions.c.id == version)).scalar_one()
    guide = (meta or {}).get("guide")
    return guide if isinstance(guide, dict) else {}


def _organ(ctx: CaseContext, group: str | None) -> tuple[str | None, str]:
    """The issuing organ: the unit of the deciding step's group; else the item's deciding unit or department."""
    unit = split_group(group)[0] if group else ""
    if not unit:
        try:
            unit = ctx.routing.unit("deciding")
        except OnewindowError:
            unit = department_unit(ctx.specs.department) if ctx.specs.department else ""
    name = ctx.conn.execute(select(org_units.c.name).where(org_units.c.code == unit)).scalar_one_or_none() \
        if unit else None
    return (unit or None), (name or (unit.rsplit("/", 1)[-1] if unit else "") or ctx.specs.department or "")


def _last_decision(ctx: CaseContext) -> dict[str, str] | None:
    pending = [r for r in ctx.receipts if r["kind"] in ("licence_granted", "licence_refused")]
    if pending:
        return {"number": pending[-1]["receipt_no"], "title": pending[-1]["title"]}
    row = ctx.conn.execute(select(receipts.c.receipt_no, receipts.c.title)
                           .where(receipts.c.case_id == ctx.case.id,
                                  receipts.c.kind.in_(("licence_granted", "licence_refused")))
                           .order_by(receipts.c.id.desc()).limit(1)).one_or_none()
    return {"number": row.receipt_no, "title": row.title} if row else None


def _next_number(ctx: CaseContext) -> str:
    stored = ctx.conn.execute(select(func.count()).select_from(receipts)
                              .where(receipts.c.case_id == ctx.case.id)).scalar_one()
    return f"{ctx.case.case_no}-{stored + len(ctx.receipts) + 1:02d}"


def write(conn: Connection, case_id: int, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(receipts), [{"case_id": case_id, **r} for r in rows])


def of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's notices, oldest first, for its page and the applicant's view."""
    return [dict(r._mapping) for r in conn.execute(select(receipts).where(receipts.c.case_id == case_id)
                                                   .order_by(receipts.c.id))]


def one(db: Database, number: str) -> dict[str, Any]:
    """One notice by its number, with the case number it belongs to; the caller checks who may see the case."""
    with db.reading() as conn:
        row = conn.execute(select(receipts, cases.c.case_no).join(cases, cases.c.id == receipts.c.case_id)
                           .where(receipts.c.receipt_no == number)).one_or_none()
    if row is None:
        raise NotFound(said("文书 %(number)s 不存在；请核对文书编号。", number=number))
    return dict(row._mapping)
