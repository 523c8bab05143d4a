"""The materials checklist (材料清单): per material of the item's guide, received or missing, per case.

The guide (items.guide["materials"]) says what an applicant must bring; the clerk marks what was
received. The marks are part of the case's story, so each marking is a change with an audit event,
and the missing ones are what a supplement request (补正) lists — once, completely.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.caseaccess import concerns
from engine.runtime.change import CaseContext, change_case, load_case_row
from engine.store.db import Database
from engine.store.tables import case_materials, items

STATUSES = {"received": "已收", "missing": "缺"}


class ChecklistRefused(OnewindowError):
    status = 422
    code = "checklist_refused"


def mark_materials(db: Database, case_no: str, marks: dict[str, str], actor: Actor) -> None:
    """Record received / missing for the named materials of the item's guide (others are left as they are)."""

    def mark(ctx: CaseContext) -> None:
        if not ({"clerk", "admin"} & actor.roles):
            raise PermissionDenied(said("只有窗口人员可以核对材料。"))
        if not concerns(ctx.conn, ctx.case, actor):  # marking must not make a stranger "concerned"
            raise PermissionDenied(said("此办件与您无关（您所在的组、单位未办理过它），不能核对其材料。"))
        names = [m["name"] for m in _guide_materials(ctx.conn, ctx.case.item_id)]
        unknown = [n for n in marks if n not in names]
        if unknown:
            raise ChecklistRefused(said("“%(unknown)s”不是本事项办事指南中的材料。", unknown=unknown[0]))
        bad = [n for n, s in marks.items() if s not in STATUSES]
        if bad or not marks:
            raise ChecklistRefused(said("请为每项材料选择“已收”或“缺”。"))
        ordered = {n: marks[n] for n in names if n in marks}
        ctx.conn.execute(delete(case_materials).where(case_materials.c.case_id == ctx.case.id,
                                                      case_materials.c.material.in_(list(ordered))))
        ctx.conn.execute(insert(case_materials), [
            {"case_id": ctx.case.id, "material": n, "status": s, "marked_by": actor.username, "marked_at": ctx.now}
            for n, s in ordered.items()])
        ctx.record("materials_checked", marks=ordered)

    change_case(db, case_no, actor, mark)


def _guide_materials(conn, item_id: int) -> list[dict[str, Any]]:
    guide = conn.execute(select(items.c.guide).where(items.c.id == item_id)).scalar_one()
    return list((guide or {}).get("materials", []))


def checklist(db: Database, case_no: str) -> list[dict[str, Any]]:
    """Every material of the guide with its mark (status None: not checked yet)."""
    with db.reading() as conn:
        case = load_case_row(conn, case_no)
        marks = {r.material: r for r in conn.execute(select(case_materials)
                                                     .where(case_materials.c.case_id == case.id))}
        guide = _guide_materials(conn, case.item_id)
    rows = []
    for material in guide:
        mark = marks.get(material["name"])
        rows.append({**material, "status": mark.status if mark else None,
                     "marked_by": mark.marked_by if mark else None, "marked_at": mark.marked_at if mark else None})
    return rows


def missing(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows if r["status"] == "missing"]
