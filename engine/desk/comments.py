"""Comments (意见交流) on a case: notes between the staff handling it, kept in the case's audit chain.

Internal: the case page shows them to staff only, and only handlers (not auditors, not applicants) write.

A comment is part of the case's story (S-11: a new clerk picks the case up from its page), so it is
written like any other change — through `change_case`, with an audit event — not on the side.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.caseaccess import concerns
from engine.runtime.change import CaseContext, change_case, load_case_row
from engine.store.db import Database
from engine.store.tables import case_comments

MAX_LENGTH = 2000
WRITERS = frozenset({"clerk", "supervisor", "admin"})  # auditors look, never change a case (S-16)


class CommentRefused(OnewindowError):
    status = 422
    code = "comment_refused"


def add_comment(db: Database, case_no: str, body: str, actor: Actor, element_id: str | None = None) -> None:
    """Add a comment (at a step, if `element_id`) to the case, for those it concerns."""
    text = (body or "").strip()

    def comment(ctx: CaseContext) -> None:
        if not may_comment(actor):  # who may comes before what was written: no oracle for strangers
            raise PermissionDenied(said("只有办理人员可以发表意见（审计人员只查看办件）。"))
        if not concerns(ctx.conn, ctx.case, actor):
            raise PermissionDenied(said("此办件与您无关，不能发表意见。"))
        if not text:
            raise CommentRefused(said("请填写意见内容。"), field_errors={"body": [said("请填写意见内容")]})
        if len(text) > MAX_LENGTH:
            raise CommentRefused(said("意见不能超过 %(max_length)s 字。",
                                      max_length=MAX_LENGTH), field_errors={"body": [said("内容过长")]})
        ctx.conn.execute(insert(case_comments).values(case_id=ctx.case.id, element_id=element_id,
                                                      author=actor.username, body=text, created_at=ctx.now))
        ctx.record("comment_added", element_id, body=text)

    change_case(db, case_no, actor, comment)


def may_comment(actor: Actor) -> bool:
    """Comments are the handlers' notes to each other: staff who handle cases write them."""
    return bool(actor.roles & WRITERS)


def list_comments(db: Database, case_no: str) -> list[dict[str, Any]]:
    with db.reading() as conn:
        case = load_case_row(conn, case_no)
        rows = conn.execute(select(case_comments).where(case_comments.c.case_id == case.id)
                            .order_by(case_comments.c.created_at, case_comments.c.id)).all()
    return [{"id": r.id, "element_id": r.element_id, "author": r.author, "body": r.body, "created_at": r.created_at}
            for r in rows]
