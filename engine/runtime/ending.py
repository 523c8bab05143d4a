"""Ending a case before its decision: withdrawn (撤回, 视为撤回) or terminated (终止), with a notice.

Inside a change (`change_case`): every open task is cancelled (SpiffWorkflow's `cancel`, subprocesses
included), the open delegations go, the status becomes `withdrawn` or `terminated` (both in `TERMINAL`),
and `save_case` then closes the case (`case_closed`) and stops its clock. The applicant gets a numbered
notice (`receipts.issue_notice`). Who may end a case, and why, is the caller's (engine/desk/closing.py for a
person, engine/runtime/supplement.py for the scheduler).

After the decision nothing here applies: a case whose licence was granted or refused, or whose application
was not accepted, has been decided; revoking a decision (撤销, 行政许可法第六十九条) is another procedure
with its own hearing of the parties, and is not done here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select

from engine.errors import ConflictError
from engine.messages import said
from engine.runtime import receipts
from engine.runtime.change import TERMINAL, CaseContext
from engine.store.tables import delegations
from engine.store.tables import receipts as receipts_table
from engine.store.tables.cases import supplement_waits

DECISIONS = ("licence_granted", "licence_refused", "refusal_of_acceptance")  # notices that decide the application
WITHDRAWN, TERMINATED = "withdrawn", "terminated"


class CaseDecided(ConflictError):
    """The application has been decided (or the case is closed): it can no longer be withdrawn or terminated."""

    status = 409
    code = "case_decided"


def decided(ctx: CaseContext) -> str | None:
    """Why the case can no longer be ended before its decision, or None while it can."""
    if ctx.status in TERMINAL or ctx.case.closed_at is not None or ctx.workflow.completed:
        return said("办件已办结")
    issued = ctx.conn.execute(select(exists().where(receipts_table.c.case_id == ctx.case.id,
                                                    receipts_table.c.kind.in_(DECISIONS)))).scalar()
    if issued or any(r["kind"] in DECISIONS for r in ctx.receipts):
        return said("已作出决定（受理审查或许可决定已出具文书）")
    return None


def refuse_if_decided(ctx: CaseContext, what: str) -> None:
    why = decided(ctx)
    if why:
        raise CaseDecided(said("办件 %(case_no)s %(why)s，不能%(what)s；作出决定后的撤销、变更须依法另行办理。",
                               case_no=ctx.case.case_no, why=why, what=what))


def end_case(ctx: CaseContext, status: str, notice_kind: str, content: dict[str, Any]) -> str:
    """Cancel every open task, set `status`, and issue the notice; returns the notice number."""
    ctx.workflow.cancel()
    ctx.conn.execute(delete(delegations).where(delegations.c.case_id == ctx.case.id))
    ctx.conn.execute(delete(supplement_waits).where(supplement_waits.c.case_id == ctx.case.id))
    ctx.set_status(status)
    return receipts.issue_notice(ctx, notice_kind, None, content)
