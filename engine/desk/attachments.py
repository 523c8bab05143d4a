"""Attachments (附件): files in the file store, named by their SHA-256; a row and an audit event on the case.

Why apart from the case's rows: scans of identity papers and drawings are large, and the case's
transaction should carry only what says whose they are. Why named by hash: the same file uploaded twice
is stored once, and a download re-hashes the bytes, so a file changed where it is kept is refused
instead of served.

Uploads are untrusted: the type is decided by the content's first bytes (a `.pdf` that is not a PDF is
refused), the name by the clerk's file only after stripping any path, and the size is capped.

The bytes go to the installation's file store (engine/store/files.py: a folder, the database or an
S3-compatible object store), so any web replica serves any download. Setting (environment):
`ONEWINDOW_ATTACHMENT_MAX_MB` (default 20).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from engine.diagrams.filenames import plain_name
from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org.assignment import Actor
from engine.runtime.caseaccess import concerns
from engine.runtime.change import CaseContext, change_case, load_case_row
from engine.store import files
from engine.store.db import Database
from engine.store.tables import attachments, items

DEFAULT_MAX_MB = 20
# extension → (content type, what the first bytes must be)
KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "pdf"),
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "png": ("image/png", "png"),
    "ofd": ("application/ofd", "ofd"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}
ALLOWED_TEXT = "PDF、JPG、PNG、OFD、DOCX"
UPLOADERS = frozenset({"clerk", "applicant", "admin"})


class AttachmentRefused(OnewindowError):
    status = 422
    code = "attachment_refused"


class AttachmentDamaged(OnewindowError):
    """The stored file no longer matches its recorded hash (changed or lost on disk)."""

    status = 500
    code = "attachment_damaged"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    material: str | None = None


def max_bytes() -> int:
    return int(float(os.environ.get("ONEWINDOW_ATTACHMENT_MAX_MB") or DEFAULT_MAX_MB) * 1024 * 1024)


def sniff(content: bytes) -> str | None:
    """What the bytes are (pdf, jpeg, png, ofd, docx), whatever the file's name says; None if none of these."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(content)).namelist())
        except zipfile.BadZipFile:
            return None
        if "OFD.xml" in names:
            return "ofd"
        if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
            return "docx"
    return None


def clean_filename(name: str) -> str:
    """The file's own name (`engine.diagrams.filenames.plain_name`: no directory part, no control character), at
    most 200 characters: it is shown on pages and sent back in the download's Content-Disposition."""
    base = plain_name(name)
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[:190] + dot + ext) if dot else base[:200]
    return base


def check_upload(filename: str, content: bytes) -> Attachment:
    """Refuse an empty, oversized, unnamed or mistyped file with a message that says what is allowed."""
    name = clean_filename(filename)
    if not name:
        raise AttachmentRefused(said("请选择要上传的文件。"))
    if not content:
        raise AttachmentRefused(said("文件“%(name)s”是空的；请重新选择。", name=name))
    if len(content) > max_bytes():
        raise AttachmentRefused(said("文件“%(name)s”超过 %(value)s MB 上限；请压缩或分拆后上传。",
                                     name=name, value=max_bytes() // (1024 * 1024)))
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in KINDS:
        raise AttachmentRefused(said("不支持“%(name)s”的文件类型；只能上传 %(ALLOWED_TEXT)s 文件。",
                                     name=name, ALLOWED_TEXT=ALLOWED_TEXT))
    content_type, expected = KINDS[extension]
    actual = sniff(content)
    if actual != expected:
        raise AttachmentRefused(said("文件“%(name)s”的内容不是 %(extension)s 文件（扩展名与内容不符）；"
                                "请上传真实的 %(ALLOWED_TEXT)s 文件。",
                                name=name, extension=extension.upper(), ALLOWED_TEXT=ALLOWED_TEXT))
    return Attachment(name, content_type, len(content), hashlib.sha256(content).hexdigest())


def add_attachment(db: Database, case_no: str, filename: str, content: bytes, actor: Actor,
                   material: str | None = None) -> Attachment:
    """上传附件: check who uploads, then the file, store it by hash, then record it on the case in one change.

    Who may is checked before anything is stored (a stranger's upload must not fill the disk); the change
    checks it again, in the case's own transaction."""
    with db.reading() as conn:
        _check_uploader(conn, load_case_row(conn, case_no), actor)
    attachment = check_upload(filename, content)
    attachment = Attachment(**{**asdict(attachment), "material": material or None})
    files.store(db, content)
    register(db, case_no, asdict(attachment), actor)
    return attachment


def register(db: Database, case_no: str, attachment: dict[str, Any], actor: Actor) -> None:
    """Record an already stored file on the case (the change part of an upload; re-execution feeds this)."""

    def record(ctx: CaseContext) -> None:
        _check_uploader(ctx.conn, ctx.case, actor)
        material = attachment.get("material")
        if material and material not in guide_material_names(ctx):
            raise AttachmentRefused(said("“%(material)s”不是本事项办事指南中的材料；请从材料清单中选择。",
                                         material=material))
        ctx.conn.execute(insert(attachments).values(
            case_id=ctx.case.id, material=material, filename=attachment["filename"],
            content_type=attachment["content_type"], size=attachment["size"], sha256=attachment["sha256"],
            uploaded_by=actor.username, uploaded_at=ctx.now))
        ctx.record("attachment_added", **attachment)

    change_case(db, case_no, actor, record)


def _check_uploader(conn: Connection, case: Row, actor: Actor) -> None:
    if not actor.roles & UPLOADERS:
        raise PermissionDenied(said("只有窗口人员或申请人可以上传材料（监察、审计人员只查看）。"))
    if not concerns(conn, case, actor):
        raise PermissionDenied(said("此办件与您无关，不能为其上传材料。"))


def guide_material_names(ctx: CaseContext) -> list[str]:
    guide = ctx.conn.execute(select(items.c.guide).where(items.c.id == ctx.case.item_id)).scalar_one()
    return [m["name"] for m in (guide or {}).get("materials", [])]


def list_attachments(db: Database, case_no: str) -> list[dict[str, Any]]:
    with db.reading() as conn:
        case = load_case_row(conn, case_no)
        rows = conn.execute(select(attachments).where(attachments.c.case_id == case.id)
                            .order_by(attachments.c.uploaded_at, attachments.c.id)).all()
    return [{"id": r.id, "material": r.material, "filename": r.filename, "content_type": r.content_type,
             "size": r.size, "sha256": r.sha256, "uploaded_by": r.uploaded_by, "uploaded_at": r.uploaded_at}
            for r in rows]


def open_attachment(db: Database, case_no: str, attachment_id: int, actor: Actor) -> tuple[dict[str, Any], bytes]:
    """The attachment's row and bytes, for someone the case concerns, after checking the bytes' hash."""
    with db.reading() as conn:
        case = load_case_row(conn, case_no)
        if not concerns(conn, case, actor):
            raise PermissionDenied(said("此办件与您无关（您不在办理过它的组内，也未被抄送），不能下载其材料。"))
        row = conn.execute(select(attachments).where(attachments.c.id == attachment_id,
                                                     attachments.c.case_id == case.id)).one_or_none()
    if row is None:
        raise NotFound(said("办件 %(case_no)s 没有编号为 %(attachment_id)s 的附件。",
                            case_no=case_no, attachment_id=attachment_id))
    try:
        content = files.fetch(db, row.sha256)
    except files.FileMissing as exc:
        raise AttachmentDamaged(said("附件“%(filename)s”的文件已丢失；请联系管理员从备份恢复。",
                                     filename=row.filename)) from exc
    except files.FileDamaged as exc:
        raise AttachmentDamaged(said("附件“%(filename)s”的文件与登记的哈希不符（可能被篡改），已拒绝下载；"
                                "请联系管理员。", filename=row.filename)) from exc
    return dict(row._mapping), content
