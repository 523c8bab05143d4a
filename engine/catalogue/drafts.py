"""Studio drafts: an analyst's working copy of an item, between a deployed version and the next one.

A deployed version is immutable, so editing one means copying it: `open_draft` copies a version's
files (item.json, its diagrams, the shared processes it calls, its forms) into a draft that belongs to
one analyst. Saves replace one file at a time and check it like any untrusted upload (safe XML parse,
size cap, JSON that is an object, a form that is a valid JSON Schema), so a bad file is refused with
a message that says what is wrong instead of poisoning the draft. `deploy_draft` turns the draft into
a package and hands it to `engine.catalogue.deployment.deploy_package` — the same lint and the same immutable
versions as `onewindow deploy` — and ends the draft.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import delete, insert, select, update

from engine import settings
from engine.catalogue.deployment import DeployResult, deploy_package
from engine.diagrams.bpmn import BPMN_NS
from engine.diagrams.filenames import name_problem
from engine.diagrams.forms import json_problem, schema_error, schema_problem
from engine.diagrams.lint import LintReport, lint_package
from engine.diagrams.lint_routing import known_groups
from engine.diagrams.package import (
    MAX_FILE_BYTES,
    SHARED_PREFIX,
    ProcessPackage,
    add_forms,
    add_shared_processes,
    named_forms,
)
from engine.diagrams.safexml import parse_xml
from engine.diagrams.specs import FORMS_PREFIX
from engine.errors import ConflictError, NotFound, PackageError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.org.orgtree import ROLES
from engine.store.db import Database
from engine.store.tables import groups, items, process_versions, studio_drafts
from engine.time import clock

ITEM_FILE = "item.json"
_SAFE_NAME = re.compile(r"[\w\u4e00-\u9fff][\w\u4e00-\u9fff.\-]{0,120}")


class WarningsNotAcknowledged(ConflictError):
    """Lint found warnings only; the analyst must say they read them before the deploy goes ahead."""

    code = "warnings_not_acknowledged"


@dataclass(frozen=True)
class Draft:
    id: int
    item_code: str
    base_version: int | None
    files: dict[str, str]
    author: str
    updated_at: datetime

    def diagram_names(self) -> list[str]:
        """The item's own diagrams, the ones the studio edits (shared processes are edited on their own)."""
        return sorted(n for n in self.files if n.endswith(".bpmn") and not n.startswith(SHARED_PREFIX))

    def decision_names(self) -> list[str]:
        """The item's decision tables (.dmn), each edited on its own page of the studio."""
        return sorted(n for n in self.files if n.endswith(".dmn") and not n.startswith(SHARED_PREFIX))

    def form_names(self) -> list[str]:
        return sorted(n.removeprefix(FORMS_PREFIX) for n in self.files if n.startswith(FORMS_PREFIX))

    def available_forms(self) -> list[str]:
        """Form names a user task may name: the draft's own, then the shared ones in forms/."""
        shared = {p.name for p in settings.FORMS_DIR.glob("*.json")} if settings.FORMS_DIR.is_dir() else set()
        return sorted(set(self.form_names()) | shared)

    def metadata(self) -> dict[str, Any]:
        return json.loads(self.files.get(ITEM_FILE, "{}"))


def _row_to_draft(row) -> Draft:
    return Draft(row.id, row.item_code, row.base_version, dict(row.files), row.author, row.updated_at)


def open_draft(db: Database, item_code: str, version: int, author: Actor) -> Draft:
    """Copy version `version` of the item into `author`'s draft of it (replacing an older draft of theirs).

    Shared processes are not copied: like `onewindow deploy`, lint and deploy take them from
    processes/shared/ as they are now, so the next version calls the current shared process.
    """
    files = {n: t for n, t in version_files(db, item_code, version).items() if not n.startswith(SHARED_PREFIX)}
    now = clock.now()
    with db.transaction() as conn:
        conn.execute(delete(studio_drafts).where(studio_drafts.c.item_code == item_code,
                                                 studio_drafts.c.author == author.username))
        draft_id = conn.execute(insert(studio_drafts).values(
            item_code=item_code, base_version=version, files=files, author=author.username,
            created_at=now, updated_at=now).returning(studio_drafts.c.id)).scalar_one()
    return get_draft(db, draft_id, author)


def get_draft(db: Database, draft_id: int, actor: Actor) -> Draft:
    """The draft, if `actor` may work on it: its author, or an administrator."""
    with db.reading() as conn:
        row = conn.execute(select(studio_drafts).where(studio_drafts.c.id == draft_id)).one_or_none()
    if row is None:
        raise NotFound(said("草稿 %(draft_id)s 不存在（可能已部署或被新的草稿替换）；请从工作室首页重新打开。",
                            draft_id=draft_id))
    if row.author != actor.username and not actor.is_admin:
        raise PermissionDenied(said("这是 %(author)s 的草稿；请基于已部署的版本打开您自己的草稿。", author=row.author))
    return _row_to_draft(row)


def drafts_of(db: Database, author: str) -> list[Draft]:
    with db.reading() as conn:
        rows = conn.execute(select(studio_drafts).where(studio_drafts.c.author == author)
                            .order_by(studio_drafts.c.updated_at.desc())).all()
    return [_row_to_draft(r) for r in rows]


def save_file(db: Database, draft: Draft, name: str, text: str) -> Draft:
    """Check `text` as the file `name` of the draft and store it; refuses anything unsafe or unreadable."""
    check_file(draft, name, text)
    files = {**draft.files, name: text}
    now = clock.now()
    with db.transaction() as conn:
        changed = conn.execute(update(studio_drafts).where(studio_drafts.c.id == draft.id)
                               .values(files=files, updated_at=now)).rowcount
    if not changed:
        raise NotFound(said("草稿已不存在（可能已部署）；请从工作室首页重新打开。"))
    return Draft(draft.id, draft.item_code, draft.base_version, files, draft.author, now)


def check_file(draft: Draft, name: str, text: str) -> None:
    """Raise `PackageError` naming what is wrong with `text` as the draft's file `name`."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise PackageError(said("%(name)s: %(size)s 字节，超过单个文件 %(MAX_FILE_BYTES)s 字节的上限（size limit）。",
                                name=name, size=size, MAX_FILE_BYTES=MAX_FILE_BYTES))
    if name == ITEM_FILE:
        metadata = _json_object(name, text)
        if metadata.get("code") != draft.item_code:
            raise PackageError(said("%(name)s: 事项编码（code）必须保持为 %(item_code)s；新事项请另行创建。",
                                    name=name, item_code=draft.item_code))
    elif name.startswith(FORMS_PREFIX) and _safe(name.removeprefix(FORMS_PREFIX), ".json"):
        check_form(name.removeprefix(FORMS_PREFIX), text)
    elif _safe(name, ".bpmn"):
        root = parse_xml(text, name).getroot()
        if root.tag != f"{{{BPMN_NS}}}definitions":
            raise PackageError(said("%(name)s: 不是 BPMN 2.0 流程图（根元素应为 bpmn:definitions）。", name=name))
    elif _safe(name, ".dmn"):
        root = parse_xml(text, name).getroot()
        if etree.QName(root).localname != "definitions" or "/DMN/" not in etree.QName(root).namespace:
            raise PackageError(said("%(name)s: 不是 DMN 决策表（根元素应为 DMN 的 definitions）。", name=name))
    elif name.startswith(SHARED_PREFIX):
        raise PackageError(said("%(name)s: 共用流程不能在事项草稿中修改；请修改 processes/shared/ 中的文件。",
                                name=name))
    else:
        raise PackageError(said("%(name)s: 文件名不允许；只能保存 item.json、*.bpmn、*.dmn 或 forms/*.json"
                           "（字母、数字、汉字、-、_、.）。", name=name))


def _safe(name: str, suffix: str) -> bool:
    """A plain name (`engine.diagrams.filenames`) that is also plain to put in the studio's URLs and pages."""
    return name.endswith(suffix) and name_problem(name) is None and bool(_SAFE_NAME.fullmatch(name))


def _json_object(name: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackageError(said("%(name)s: 不是有效的 JSON（%(exc)s）。", name=name, exc=json_problem(exc))) from exc
    if not isinstance(document, dict):
        raise PackageError(said("%(name)s: 必须是一个 JSON 对象（{ … }）。", name=name))
    return document


def check_form(name: str, text: str) -> dict[str, Any]:
    """A form file as the desk will read it: a JSON object; a schema must also pass the 2020-12 meta-schema.

    UI schemas pass the meta-schema too (their `ui:` keys are unknown keywords, which JSON Schema
    allows), so every form file gets the same check; a schema with fields must describe an object.
    """
    document = _json_object(name, text)
    if exc := schema_error(text):
        raise PackageError(said("%(name)s: 不是有效的 JSON Schema（%(exc)s）。", name=name, exc=schema_problem(exc)))
    if "properties" in document and document.get("type", "object") != "object":
        raise PackageError(said("%(name)s: 表单必须描述一个对象（\"type\": \"object\"）。", name=name))
    return document


def draft_package(draft: Draft, overrides: dict[str, str] | None = None) -> ProcessPackage:
    """The package a deploy of this draft would store: item.json, diagrams and decision tables, shared
    processes, named forms.

    Forms neither the diagrams nor item.json name any more stay in the draft (nothing typed is lost)
    but are not deployed; a form named but not in the draft comes from forms/, and the shared processes
    the diagrams call from processes/shared/, as `onewindow deploy` would find them. `overrides` lints
    unsaved text without storing it.
    """
    files = {**draft.files, **(overrides or {})}
    try:
        metadata = json.loads(files.pop(ITEM_FILE, "{}"))
    except json.JSONDecodeError:
        metadata = {}
    diagrams = {n: t for n, t in files.items() if n.endswith((".bpmn", ".dmn")) and not n.startswith(SHARED_PREFIX)}
    package = ProcessPackage(metadata=metadata if isinstance(metadata, dict) else {},
                             files=diagrams, source=f"草稿 {draft.item_code}")
    package.files.update({FORMS_PREFIX + n: files[FORMS_PREFIX + n] for n in named_forms(package)
                          if FORMS_PREFIX + n in files})
    add_shared_processes(package, settings.PROCESSES_DIR / "shared")
    add_forms(package, [settings.FORMS_DIR])
    return package


def lint_draft(draft: Draft, overrides: dict[str, str] | None = None) -> LintReport:
    return lint_package(draft_package(draft, overrides))


def deploy_draft(db: Database, draft: Draft, actor: Actor, warnings_acknowledged: bool,
                 approval: str | None = None) -> DeployResult:
    """Deploy the draft as the item's next version, then end the draft.

    Errors refuse the deploy (inside `deploy_package`, with the findings); warnings refuse it until
    the analyst acknowledges them. `approval` is the number of an approved governance case, for a
    change that needs one (`engine.catalogue.governance`, checked inside the deployment). Any refusal the
    deployment raises (lint, governance) leaves the draft as it was, so the analyst can fix it and
    try again.
    """
    package = draft_package(draft)
    report = lint_package(package)
    if report.ok and report.findings and not warnings_acknowledged:
        raise WarningsNotAcknowledged(
            said("检查发现 %(findings)s 条警告；请逐条阅读并勾选“我已阅读警告”后再部署。",
                 findings=len(report.findings)),
            findings=report.to_list())
    result = deploy_package(db, package, actor.username, approval=approval or None)
    with db.transaction() as conn:
        conn.execute(delete(studio_drafts).where(studio_drafts.c.id == draft.id))
    return result



def version_files(db: Database, item_code: str, version: int) -> dict[str, str]:
    """A deployed version's files as stored (item.json included), for download and for the studio's viewer."""
    with db.reading() as conn:
        row = conn.execute(
            select(process_versions.c.files, process_versions.c.metadata)
            .join(items, items.c.id == process_versions.c.item_id)
            .where(items.c.code == item_code, process_versions.c.number == version)).one_or_none()
    if row is None:
        raise NotFound(said("事项 %(item_code)s 没有第 %(version)s 版；请从工作室首页选择已部署的版本。",
                            item_code=item_code, version=version))
    return {ITEM_FILE: json.dumps(row.metadata, ensure_ascii=False, indent=2), **row.files}


def lane_choices(db: Database) -> list[str]:
    """What a lane may be called: the 【roles】 relative to the case, then every group lint accepts.

    The groups are those of the org tree (processes/org.json, as `engine.diagrams.lint_routing` reads it), or,
    without an org tree, the groups people are in.
    """
    known = known_groups()
    if known is None:
        with db.reading() as conn:
            known = frozenset(conn.execute(select(groups.c.code)).scalars().all())
    return [f"【{role}】" for role in ROLES] + sorted(known)
