"""受理回执: every acceptance decision gives the applicant a dated, numbered record.

A step marked `receipt` (the acceptance step of every item) yields one receipt per completion:
受理 (with the committed time limit), 补正 (the one complete list of missing materials) or 不予受理
(with the reason). The receipt is written in the case's own transaction and announced by an audit
event, and its number follows from the case's number and count, so re-executing the case yields the
same receipts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from SpiffWorkflow.task import Task
from sqlalchemy import Connection, func, insert, select

from engine.store.tables import receipts

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext

KINDS = {"受理": "受理通知书", "补正": "补正材料通知书", "不予受理": "不予受理通知书"}


def receipt_for(ctx: CaseContext, task: Task, kind_of: str) -> dict[str, Any]:
    """The receipt of the decision `task` just recorded; the audit event is recorded here too."""
    decision = str(task.data.get("decision") or "")
    title = KINDS.get(decision, f"{decision or '办理'}回执")
    content: dict[str, Any] = {"title": title, "decision": decision, "item": ctx.case.item_name,
                               "applicant": ctx.case.applicant_name, "step": kind_of}
    if decision == "补正":
        content["missing_materials"] = list(task.data.get("missing_materials") or [])
    if decision == "不予受理":
        content["reason"] = task.data.get("reason")
        content["legal_basis"] = task.data.get("legal_basis")
    if decision == "受理":
        content["committed_limit_days"] = ctx.specs.limits.committed_days
        content["statutory_limit_days"] = ctx.specs.limits.statutory_days
    number = _next_number(ctx)
    ctx.record("receipt_issued", task.task_spec.bpmn_id, receipt_no=number, kind=decision, title=title)
    return {"receipt_no": number, "kind": decision, "element_id": task.task_spec.bpmn_id,
            "unit_code": ctx.case.unit_code, "issued_by": ctx.actor.username, "issued_at": ctx.now,
            "content": content}


def _next_number(ctx: CaseContext) -> str:
    stored = ctx.conn.execute(select(func.count()).select_from(receipts)
                              .where(receipts.c.case_id == ctx.case.id)).scalar_one()
    return f"{ctx.case.case_no}-{stored + len(ctx.receipts) + 1:02d}"


def write(conn: Connection, case_id: int, rows: list[dict[str, Any]]) -> None:
    conn.execute(insert(receipts), [{"case_id": case_id, **r} for r in rows])


def of_case(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """The case's receipts, oldest first, for its page and the applicant's view."""
    return [dict(r._mapping) for r in conn.execute(select(receipts).where(receipts.c.case_id == case_id)
                                                   .order_by(receipts.c.id))]
