"""Messages a change sends to people (催办, 转办, 补正 reminders, supervision chases): collected on the
case's context while the change runs and written by `save_case` in the same transaction, so a message
exists exactly when the change that caused it does.

A message is read later, by someone whose language is known only then (docs/architecture.md §11a), so
each is written twice: `message`, the Chinese sentence the audit dossier keeps, and `said`, its template
and values (`engine.messages.kept`) from which the inbox says it again in the reader's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from engine.messages import Said, kept, said
from engine.store.tables import notifications, users

if TYPE_CHECKING:
    from engine.runtime.change import CaseContext


def tell(ctx: CaseContext, recipient: str, kind: str, element_id: str | None, message: str,
         about_case: bool = True) -> None:
    """`message` to `recipient`, "办件 <number>：" before it unless `about_case` is False (the sentence names the
    case itself)."""
    if about_case:
        message = said("办件 %(case_no)s：%(message)s", case_no=ctx.case.case_no, message=message)
    ctx.notifications.append({"recipient": recipient, "kind": kind, "element_id": element_id,
                              "message": message, "created_at": ctx.now})


def tell_applicant(ctx: CaseContext, kind: str, message: str) -> None:
    """The applicant's account hears `message`, unless the applicant is the one who did it (or applied at a
    window, with no account)."""
    if ctx.case.applicant_id is None:
        return
    name = ctx.conn.execute(select(users.c.username).where(users.c.id == ctx.case.applicant_id)).scalar_one_or_none()
    if name and name != ctx.actor.username:
        tell(ctx, f"user:{name}", kind, None, message)


def write(conn: Connection, case_id: int, messages: list[dict[str, Any]]) -> None:
    if messages:
        conn.execute(insert(notifications), [
            {"case_id": case_id, **m, "message": str(m["message"]),
             "said": kept(m["message"]) if isinstance(m["message"], Said) else None} for m in messages])
