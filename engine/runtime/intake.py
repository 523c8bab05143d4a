"""Where an application comes in: the front window's unit, and the mandate of full agency (S-5).

A case belongs to the window the applicant (or a village agent for them) came to; from there its
【relative】 lanes resolve and it relays up to the level that handles the item and back down with the
result. Villages have no approval power (S-1): a village agent accepts on the applicant's behalf
only with a recorded mandate (委托), which stays on the case and in its first audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Exists, bindparam, exists, select

from engine.diagrams.specs import ProcessSpecs
from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.messages import ENUMERATION_COMMA, listed, said
from engine.org.assignment import Actor
from engine.org.orgtree import LEVELS, department_unit, describe_group, level_of, unit_names
from engine.runtime import receipts
from engine.store.db import Database
from engine.store.tables import cases, catalogue_changes, items, latest_versions, org_units, process_versions

MANDATE_FIELDS = {"principal": "委托人姓名", "principal_id_number": "委托人身份证号码", "signed_on": "委托书签署日期"}


WITHDRAW = "withdraw"  # an item withdrawn from the centre (S-9, recorded by `engine.catalogue.governance`)


def withdrawn(item_code: ColumnElement[str]) -> Exists:
    """Whether the item is withdrawn from the centre, as a column of a statement (`casework.start_case` reads
    it with the item's latest version, one statement fewer for every new case)."""
    return exists().where(catalogue_changes.c.item_code == item_code, catalogue_changes.c.kind == WITHDRAW)


_WITHDRAWN = select(withdrawn(bindparam("b_code")))


def is_withdrawn(conn: Connection, item_code: str) -> bool:
    return bool(conn.execute(_WITHDRAWN, {"b_code": item_code}).scalar())


def ensure_offered(conn: Connection, item_code: str, known_withdrawn: bool | None = None) -> None:
    """Refuse a new case of an item withdrawn from the centre (for `casework.start_case` and the hall);
    `known_withdrawn`: already read by the caller (`withdrawn`)."""
    if is_withdrawn(conn, item_code) if known_withdrawn is None else known_withdrawn:
        raise NotFound(said("事项 %(item_code)s 已撤出中心，不再受理新的申请；已受理的办件照常办理。",
                            item_code=item_code))


def front_unit(conn: Connection, specs: ProcessSpecs, unit: str | None) -> str | None:
    """The unit the case comes in at, checked against the org tree and the item's level."""
    if unit is None:
        if specs.level == "town":
            raise OnewindowError(said("镇级事项须选择办理地点：申请人所在镇的便民服务中心或村便民服务室。"))
        return None
    if conn.execute(select(org_units.c.code).where(org_units.c.code == unit)).scalar_one_or_none() is None:
        raise NotFound(said("收件单位“%(unit)s”不在组织机构中；请从组织机构中选择（onewindow org show）。", unit=unit))
    if LEVELS.index(level_of(unit)) > LEVELS.index(specs.level):
        raise OnewindowError(said("“%(unit)s”是区级窗口，不能受理镇级事项；请到所在镇便民服务中心或村便民服务室收件。",
                                  unit=unit))
    return unit


def check_window(actor: Actor, front: str | None) -> None:
    """A clerk takes in applications at their own window only: a village clerk cannot skip the mandate by
    choosing their town, nor file as another town's village room (issue 13, item 12). Applicants choose
    where they go; administrators may file anywhere."""
    if "clerk" not in actor.roles or actor.is_admin or not actor.unit or front == actor.unit:
        return
    raise PermissionDenied(said("您是“%(unit)s”的工作人员，只能在本单位窗口收件（办理地点选“%(unit)s”）；"
                           "代他人申请请在本单位登记委托。", unit=actor.unit))


def check_mandate(conn: Connection, actor: Actor, front: str | None, mandate: dict[str, Any] | None
                  ) -> dict[str, Any] | None:
    """A village clerk applying for someone needs the applicant's mandate; it is stored as given, plus the agent."""
    agency = front is not None and level_of(front) == "village" and "clerk" in actor.roles and not actor.is_admin
    if mandate is None:
        if agency:
            raise OnewindowError(said("村代办员代为申请须登记申请人的委托：委托人姓名、身份证号码、委托书签署日期。"))
        return None
    if not isinstance(mandate, dict):
        raise OnewindowError(said("委托（mandate）必须是一个对象，含委托人姓名、身份证号码和委托书签署日期。"))
    missing = [label for key, label in MANDATE_FIELDS.items() if not str(mandate.get(key) or "").strip()]
    if missing:
        raise OnewindowError(said("委托信息不完整，缺少：%(missing)s。", missing=listed(missing, ENUMERATION_COMMA)))
    return {**{k: str(mandate[k]) for k in MANDATE_FIELDS}, "agent": actor.username, "agent_unit": front,
            "scope": str(mandate.get("scope") or "全程代办")}


def places(db: Database, item_code: str) -> list[tuple[str, str]]:
    """Where an application for the item can come in, as (unit code, label): its department's district
    window for a district item, then every town centre and village room (which relay it up, S-5)."""
    with db.reading() as conn:
        meta = conn.execute(latest_versions(process_versions.c.metadata).where(items.c.code == item_code)
                            ).scalar_one_or_none()
        if meta is None:
            raise NotFound(said("事项 %(item_code)s 不存在或尚未部署；请从事项列表中选择。", item_code=item_code))
        units = conn.execute(select(org_units.c.code, org_units.c.name, org_units.c.kind)
                             .order_by(org_units.c.position)).all()
    district = department_unit(meta.get("department") or "") if meta.get("level", "district") == "district" else None
    return [(u.code, u.name if u.kind != "village" else said("　%(name)s（代办）", name=u.name)) for u in units
            if u.code == district or u.kind in ("town", "village")]


def case_intake(db: Database, case_no: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    """Where a case came in, who applied for whom, the receipts it was given and the hand-overs between
    levels (village → town → district and back), for the case page: its story of place (S-5, S-11)."""
    with db.reading() as conn:
        case = conn.execute(select(cases.c.id, cases.c.unit_code, cases.c.mandate)
                            .where(cases.c.case_no == case_no)).one_or_none()
        if case is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        names = unit_names(conn)
        given = receipts.of_case(conn, case.id)
    chain = [{"at": e["at"], "actor": e["actor"], "step": e["element_id"],
              "source": describe_group(e["data"].get("source"), names),
              "target": describe_group(e["data"].get("target"), names)}
             for e in history if e["type"] == "handed_over"]
    return {"unit": case.unit_code, "unit_name": names.get(case.unit_code or "", case.unit_code),
            "mandate": case.mandate, "receipts": given, "chain": chain}
