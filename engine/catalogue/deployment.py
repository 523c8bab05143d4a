"""Deploying a package as an immutable, numbered version of its item.

Lint runs first and any error refuses the deploy. Identical content (same hash) deploys as a no-op
that says so; different content becomes version n+1, and the item's `latest_version` moves to it,
so new cases take it while running cases keep the version they started on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update

from engine.catalogue import governance
from engine.diagrams.lint import LintReport, lint_package, main_process_id
from engine.diagrams.package import ProcessPackage
from engine.errors import LintFailed
from engine.messages import listed, said
from engine.store.db import Database
from engine.store.tables import items, process_versions
from engine.time import clock


@dataclass(frozen=True)
class DeployResult:
    item_code: str
    version: int
    content_hash: str
    created: bool
    report: LintReport

    @property
    def message(self) -> str:
        if self.created:
            return f"已部署 {self.item_code} 第 {self.version} 版"
        return f"{self.item_code} 与第 {self.version} 版内容相同，未部署新版本"


def deploy_package(db: Database, package: ProcessPackage, deployer: str, approval: str | None = None) -> DeployResult:
    """Lint, then deploy `package` as its item's next version (identical content: a no-op).

    A version that changes the item's time limits or materials needs `approval`, the number of an
    approved governance case for exactly that change (S-9, `engine.catalogue.governance`); it is recorded, and
    used up, in the same transaction as the new version.
    """
    report = lint_package(package)
    if not report.ok:
        raise LintFailed(
            said("%(code)s: 检查发现 %(errors)s 个错误，未部署：%(findings)s",
                 code=package.code or package.source, errors=len(report.errors),
                 findings=listed([f.sentence() for f in report.errors], said("; "))),
            report.to_list(),
        )
    meta = package.metadata
    content_hash = package.content_hash()
    now = clock.now()
    with db.transaction() as conn:
        item = conn.execute(select(items).where(items.c.code == meta["code"])).one_or_none()
        if item is not None:
            same = conn.execute(select(process_versions.c.number).where(
                process_versions.c.item_id == item.id, process_versions.c.content_hash == content_hash)
            ).scalar_one_or_none()
            if same is not None:
                return DeployResult(meta["code"], same, content_hash, False, report)
        governed = governance.check_governed_deploy(conn, meta, approval)
        item_values = {"name": meta["name"], "department": meta["department"],
                       "handling_mode": meta["handling_mode"], "guide": meta.get("guide", {})}
        if item is None:
            item_id = conn.execute(insert(items).values(code=meta["code"], latest_version=1, **item_values)
                                   .returning(items.c.id)).scalar_one()
            number = 1
        else:
            item_id, number = item.id, item.latest_version + 1
            conn.execute(update(items).where(items.c.id == item_id)
                         .values(latest_version=number, **item_values))
        conn.execute(insert(process_versions).values(
            item_id=item_id, number=number, content_hash=content_hash, process_id=main_process_id(package),
            files=package.files, metadata=meta, lint_report=report.to_list(), deployed_by=deployer,
            deployed_at=now))
        if governed.needs_approval:
            governance.record(conn, governed, approval, deployer, number)
    return DeployResult(meta["code"], number, content_hash, True, report)
