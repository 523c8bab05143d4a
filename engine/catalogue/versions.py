"""An item's deployed versions as the studio shows them: the list, one version's diagram, the diff of two.

The comparison itself is the diagrams' (`diagrams.versiondiff`, pure over files); this room reads the
stored versions it compares, so the studio's pages make one call each and hold no connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from engine.diagrams.versiondiff import VersionDiff, diff_files, guide_changes, main_diagram
from engine.errors import NotFound
from engine.messages import said
from engine.runtime import intake
from engine.store.db import Database
from engine.store.tables import cases, items, process_versions


@dataclass(frozen=True)
class VersionRow:
    """One line of an item's version list: who deployed what and when, and the cases on it."""

    number: int
    content_hash: str
    deployed_by: str
    deployed_at: Any
    errors: int
    warnings: int
    open_cases: int
    cases: int


def list_versions(conn: Connection, item_code: str) -> list[VersionRow]:
    """Every version of `item_code`, newest first, with its lint summary and how many cases run on it."""
    item_id = conn.execute(select(items.c.id).where(items.c.code == item_code)).scalar_one_or_none()
    if item_id is None:
        raise NotFound(said("事项 %(item_code)s 不存在；请从事项列表中选择。", item_code=item_code))
    counts = {r.version_id: (r.open, r.total) for r in conn.execute(
        select(cases.c.version_id, func.count().label("total"),
               func.count().filter(cases.c.closed_at.is_(None)).label("open"))
        .where(cases.c.item_id == item_id).group_by(cases.c.version_id))}
    rows = conn.execute(select(process_versions.c.id, process_versions.c.number, process_versions.c.content_hash,
                               process_versions.c.deployed_by, process_versions.c.deployed_at,
                               process_versions.c.lint_report)
                        .where(process_versions.c.item_id == item_id).order_by(process_versions.c.number.desc()))
    out = []
    for r in rows:
        findings = r.lint_report or []
        errors = sum(1 for f in findings if f.get("severity") == "error")
        open_count, total = counts.get(r.id, (0, 0))
        out.append(VersionRow(r.number, r.content_hash, r.deployed_by, r.deployed_at, errors,
                              len(findings) - errors, open_count, total))
    return out


@dataclass(frozen=True)
class VersionList:
    rows: list[VersionRow]
    withdrawn: bool  # the item no longer takes applications


def versions(db: Database, item_code: str) -> VersionList:
    with db.reading() as conn:
        return VersionList(list_versions(conn, item_code), intake.is_withdrawn(conn, item_code))


def diagram(db: Database, item_code: str, number: int) -> str:
    """The item's own diagram of version `number` (the one defining its process), for the viewer."""
    with db.reading() as conn:
        version = load_version(conn, item_code, number)
    text = main_diagram(version.files, version.process_id)
    if text is None:
        raise NotFound(said("第 %(number)s 版没有流程图文件。", number=number))
    return text


def compare(db: Database, item_code: str, old_number: int, new_number: int) -> VersionDiff:
    with db.reading() as conn:
        return diff_versions(conn, item_code, old_number, new_number)


def load_version(conn: Connection, item_code: str, number: int):
    """The stored row of version `number` of `item_code` (files, metadata, who deployed it)."""
    row = conn.execute(select(process_versions).join(items, items.c.id == process_versions.c.item_id)
                       .where(items.c.code == item_code, process_versions.c.number == number)).one_or_none()
    if row is None:
        raise NotFound(said("事项 %(item_code)s 没有第 %(number)s 版；请从版本列表中选择。",
                            item_code=item_code, number=number))
    return row


def diff_versions(conn: Connection, item_code: str, old_number: int, new_number: int) -> VersionDiff:
    """The diff between two deployed versions of one item."""
    old, new = load_version(conn, item_code, old_number), load_version(conn, item_code, new_number)
    elements, files = diff_files(old.files, new.files)
    return VersionDiff(item_code, old_number, new_number, elements, files,
                       guide_changes(old.metadata or {}, new.metadata or {}))
