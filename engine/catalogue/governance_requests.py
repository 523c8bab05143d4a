"""An analyst's request for a governed change of the catalogue (S-9): a case of the governance item.

Apart from the rules (`engine.catalogue.governance`) because it uses what those rules serve — starting a case
(`casework`) and deploying the governance item itself (`deployment`) — so the arrows point one way.
"""

from __future__ import annotations

from sqlalchemy import select

from engine import settings
from engine.catalogue.deployment import deploy_package
from engine.catalogue.governance import (
    GOVERNANCE_FOLDER,
    GOVERNANCE_ITEM,
    KIND_NAMES,
    REQUEST_ROLES,
    WITHDRAW,
    GovernedChange,
    governed_change,
)
from engine.desk import casework
from engine.diagrams.package import ProcessPackage, load_package
from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.intake import is_withdrawn
from engine.store.db import Database
from engine.store.tables import items


def governance_package() -> ProcessPackage:
    return load_package(settings.PROCESSES_DIR.joinpath(*GOVERNANCE_FOLDER))


def ensure_governance_item(db: Database, deployer: str = "system") -> None:
    """Deploy the governance item if it is not deployed at its current content (a no-op otherwise)."""
    deploy_package(db, governance_package(), deployer)


def request_change(db: Database, actor: Actor, code: str, change_summary: str, reason: str,
                   package: ProcessPackage | None = None, withdraw: bool = False) -> str:
    """Start a governance case asking to deploy `package` (its governed changes against the latest
    version) or to withdraw item `code`; returns the case number the deploy or withdrawal will name.

    Raises `OnewindowError` with a message for the studio when there is nothing to approve.
    """
    if not (actor.is_admin or actor.roles & REQUEST_ROLES):
        raise PermissionDenied(said("只有流程管理员可以提出事项目录变更申请。"))
    if not reason or not reason.strip():
        raise OnewindowError(said("请写明变更理由；电子监察据此审批。"))
    with db.reading() as conn:
        item = conn.execute(select(items.c.name).where(items.c.code == code)).one_or_none()
        if item is None:
            raise NotFound(said("事项 %(code)s 尚未部署；首次部署无需审批。", code=code))
        if is_withdrawn(conn, code):
            raise OnewindowError(said("事项 %(code)s 已撤出中心。", code=code))
        if withdraw:
            change = GovernedChange(code, WITHDRAW)
        else:
            if package is None or package.code != code:
                raise OnewindowError(said("请给出事项 %(code)s 要部署的内容，平台据此比对时限和材料的变更。",
                                          code=code))
            change = governed_change(conn, package.metadata)
            if not change.needs_approval:
                raise OnewindowError(said("事项 %(code)s 的这次修改不涉及时限和材料，部署无需审批。", code=code))
    ensure_governance_item(db)
    data = {"applicant_name": actor.display_name or actor.username, "target_item": code,
            "target_name": f"{code} {item.name}", "change_kind": change.kind,
            "change_kind_name": KIND_NAMES[change.kind],
            "governed": change.comparable(), "governed_summary": change.summary,
            "change_summary": (change_summary or "").strip()[:4000] or change.summary,
            "request_reason": reason.strip()[:2000]}
    return casework.start_case(db, GOVERNANCE_ITEM, data, actor).case_no
