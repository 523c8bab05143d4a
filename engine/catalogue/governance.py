"""Governance of the catalogue (S-9): the platform governs itself with its own engine.

An item, once in the centre, may not be withdrawn by its department without the district's approval,
and changes to the catalogue are approved and recorded. Concretely, two acts need a supervisor's
approval: withdrawing an item from the centre, and deploying a version that changes an item's time
limits (committed or statutory) or its materials against the latest version. The first deployment
of an item needs none.

The approval is an ordinary case of the governance item `processes/governance/catalogue-change/`
(a BPMN diagram like any other: the analyst's request is its start data, the supervisor's lane is a
group of the org tree, the end events set the status approved / refused). `request_change` starts
one; the deploy or the withdrawal then names it (`approval=<case_no>`), and `check_approval` holds it
to exactly what was asked: the same item, the same kind of change, the same governed values, approved,
requested by an analyst, and never used before. Each governed act is recorded in
`catalogue_changes` in the same transaction as the act itself. (Starting the request is
`engine.catalogue.governance_requests`: it uses casework and deployment, which use the rules here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, insert, select

from engine.diagrams.versiondiff import GuideChange, guide_changes
from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.intake import WITHDRAW, is_withdrawn
from engine.store.db import Database
from engine.store.tables import audit_events, cases, catalogue_changes, items, latest_versions, process_versions, users
from engine.time import clock

GOVERNANCE_ITEM = "GOV-CATALOGUE"
GOVERNANCE_FOLDER = ("governance", "catalogue-change")
SUPERVISION_GROUP = "区中心·电子监察"  # the lane of the supervisor's approval in the governance diagram
REQUEST_ROLES = frozenset({"analyst", "admin"})
DEPLOY = "deploy"
KIND_NAMES = {DEPLOY: "部署新版本（修改时限或材料）", WITHDRAW: "撤出中心"}


class ApprovalRequired(OnewindowError):
    """A governed change without a valid approval: what needs approving, and how to get it."""

    status = 409
    code = "approval_required"


@dataclass(frozen=True)
class GovernedChange:
    """What a deploy or withdrawal would change that S-9 governs; `kind` None: nothing governed."""

    item_code: str
    kind: str | None
    changes: tuple[GuideChange, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return self.kind is not None

    @property
    def summary(self) -> str:
        if self.kind == WITHDRAW:
            return f"事项 {self.item_code} 撤出中心"
        return "；".join(c.summary for c in self.changes)

    def comparable(self) -> list[dict[str, Any]]:
        """The governed values, as stored in a request and compared with a later deploy."""
        return [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes]


# --- what a package changes -----------------------------------------------------------------------


def _latest_metadata(conn: Connection, item_code: str) -> dict[str, Any] | None:
    row = conn.execute(latest_versions(process_versions.c.metadata).where(items.c.code == item_code)).one_or_none()
    return None if row is None else (row.metadata or {})


def governed_change(conn: Connection, metadata: dict[str, Any]) -> GovernedChange:
    """What deploying a package with `metadata` changes of its item's time limits and materials."""
    code = str(metadata.get("code", ""))
    latest = _latest_metadata(conn, code)
    if latest is None:  # the first deployment of an item
        return GovernedChange(code, None)
    changes = tuple(guide_changes(latest, metadata))
    return GovernedChange(code, DEPLOY if changes else None, changes)


def withdrawn_codes(db: Database) -> set[str]:
    """Items withdrawn from the centre: not offered for new cases (running ones continue)."""
    with db.reading() as conn:
        return set(conn.execute(select(catalogue_changes.c.item_code)
                                .where(catalogue_changes.c.kind == WITHDRAW)).scalars())


# --- the approval ---------------------------------------------------------------------------------


def check_governed_deploy(conn: Connection, metadata: dict[str, Any], approval: str | None) -> GovernedChange:
    """Inside the deploy's transaction: refuse a governed deploy without a valid approval.

    Returns what was governed (the caller records it with `record` once the version exists).
    """
    code = str(metadata.get("code", ""))
    if is_withdrawn(conn, code):
        raise ApprovalRequired(said("事项 %(code)s 已撤出中心，不能部署新版本。", code=code))
    change = governed_change(conn, metadata)
    if not change.needs_approval:
        return change
    if not approval:
        raise ApprovalRequired(
            said("事项 %(code)s 的本次部署修改了%(summary)s。按 S-9，修改时限或材料须经电子监察批准："
            "请先提交变更申请，批准后凭审批办件编号部署（onewindow deploy --approval 办件编号）。",
            code=code, summary=change.summary),
            governed=[c.to_dict() for c in change.changes])
    check_approval(conn, approval, change)
    return change


def check_approval(conn: Connection, approval: str, change: GovernedChange) -> None:
    """`approval` must be an approved, unused governance case asking for exactly `change`."""
    row = conn.execute(select(cases.c.id, cases.c.status, items.c.code).join(items, items.c.id == cases.c.item_id)
                       .where(cases.c.case_no == approval)).one_or_none()
    if row is None or row.code != GOVERNANCE_ITEM:
        raise ApprovalRequired(said("%(approval)s 不是事项目录变更审批的办件编号；请核对审批办件编号。",
                                    approval=approval))
    if row.status != "approved":
        raise ApprovalRequired(said("审批 %(approval)s 尚未批准（当前状态：%(status)s）；批准后才能据此变更。",
                                    approval=approval, status=row.status))
    if conn.execute(select(exists().where(catalogue_changes.c.approval_case_no == approval))).scalar():
        raise ApprovalRequired(said("审批 %(approval)s 已经使用过；每个审批只能用于一次变更，请重新申请。",
                                    approval=approval))
    started = conn.execute(select(audit_events.c.actor, audit_events.c.data)
                           .where(audit_events.c.case_id == row.id, audit_events.c.seq == 1)).one()
    request = (started.data or {}).get("data") or {}
    if request.get("target_item") != change.item_code or request.get("change_kind") != change.kind:
        asked = f"{request.get('target_item')}（{KIND_NAMES.get(request.get('change_kind'), '?')}）"
        raise ApprovalRequired(said("审批 %(approval)s 批准的是 %(asked)s，不是事项 %(item_code)s"
                               "（%(kind)s）；请使用对应的审批，或重新申请。",
                               approval=approval, asked=asked, item_code=change.item_code,
                               kind=KIND_NAMES[change.kind]))
    if change.kind == DEPLOY and request.get("governed") != change.comparable():
        raise ApprovalRequired(said("审批 %(approval)s 批准的变更与本次部署不一致（本次：%(summary)s）；"
                               "请按批准的内容部署，或重新申请。", approval=approval, summary=change.summary))
    roles = conn.execute(select(users.c.roles).where(users.c.username == started.actor)).scalar_one_or_none()
    if not set(roles or []) & REQUEST_ROLES:
        raise ApprovalRequired(said("审批 %(approval)s 不是由流程管理员提出的，不能用于事项目录变更。",
                                    approval=approval))


def record(conn: Connection, change: GovernedChange, approval: str, actor_name: str,
           version_number: int | None = None) -> None:
    """The governed act, in the act's own transaction; the unique approval column makes it single-use."""
    conn.execute(insert(catalogue_changes).values(
        item_code=change.item_code, kind=change.kind, approval_case_no=approval, version_number=version_number,
        changes=[c.to_dict() for c in change.changes], acted_by=actor_name, acted_at=clock.now()))


# --- requesting, withdrawing ----------------------------------------------------------------------


def withdraw_item(db: Database, code: str, actor: Actor, approval: str) -> None:
    """Withdraw item `code` from the centre on an approved request: no new cases; running ones continue."""
    if not (actor.is_admin or actor.roles & REQUEST_ROLES):
        raise PermissionDenied(said("只有流程管理员可以撤出事项。"))
    with db.transaction() as conn:
        if conn.execute(select(items.c.id).where(items.c.code == code)).one_or_none() is None:
            raise NotFound(said("事项 %(code)s 不存在；请核对事项编码。", code=code))
        if is_withdrawn(conn, code):
            raise OnewindowError(said("事项 %(code)s 已撤出中心。", code=code))
        change = GovernedChange(code, WITHDRAW)
        if not approval:
            raise ApprovalRequired(said("撤出事项 %(code)s 须经电子监察批准：请先提交撤出申请，批准后凭审批办件编号撤出"
                                   "（onewindow withdraw CODE --approval 办件编号）。", code=code))
        check_approval(conn, approval, change)
        record(conn, change, approval, actor.username)


def history(db: Database, code: str) -> list[dict[str, Any]]:
    """The governed changes of one item, oldest first (the studio's version page shows them)."""
    with db.reading() as conn:
        rows = conn.execute(select(catalogue_changes).where(catalogue_changes.c.item_code == code)
                            .order_by(catalogue_changes.c.id)).all()
    return [dict(r._mapping) for r in rows]
