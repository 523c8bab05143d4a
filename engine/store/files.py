"""Where stored files live — attachments, and the reports the platform generates — named by their SHA-256.

A web replica must hold nothing a user needs on its own disk: behind a load balancer the next request
goes to another replica, and a replaced container loses its folder. So files go through one interface
with three backends, chosen by settings (`file_store`):

- `local` — a folder (`ONEWINDOW_FILES_DIR`, default `instance/files`; attachments used to default to
  `instance/attachments`, which is still honoured by `ONEWINDOW_ATTACHMENTS_DIR`): the embedded default,
  one machine.
- `database` — the `stored_files` table of the platform's own database: the default when DATABASE_URL is
  PostgreSQL and no object store is configured, so a PostgreSQL installation is stateless with no extra
  service (and its backup holds the files).
- `s3` — an S3-compatible object store (`ONEWINDOW_S3_BUCKET`, `ONEWINDOW_S3_ENDPOINT`, the usual
  `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_DEFAULT_REGION`): Alibaba OSS, Tencent COS, Huawei OBS
  and MinIO all speak it.

`ONEWINDOW_FILE_STORE=local|database|s3` overrides the choice. Every read re-hashes the bytes: a file
changed or truncated in any backend is refused (`FileDamaged`), never served.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from engine import settings
from engine.errors import NotFound, OnewindowError
from engine.messages import said
from engine.store.db import Database
from engine.store.tables import attachments, report_files, stored_files

SHA256 = re.compile(r"^[0-9a-f]{64}$")
BACKENDS = ("local", "database", "s3")


class FileMissing(NotFound):
    """No file is stored under this hash (lost, or never stored on this backend)."""


class FileDamaged(OnewindowError):
    """The stored bytes no longer hash to their name: changed or truncated where they are kept."""

    status = 500
    code = "file_damaged"


class FileStore(Protocol):
    """Content-addressed storage: `put` is idempotent, `get` gives the bytes as stored (unchecked)."""

    name: str

    def put(self, sha256: str, content: bytes) -> None: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def names(self) -> Iterator[str]: ...


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _checked_name(sha256: str) -> str:
    """A name is a SHA-256 and nothing else: never a path, never a key prefix someone chose."""
    if not SHA256.match(sha256 or ""):
        raise FileMissing(said("文件标识无效：应为 64 位十六进制 SHA-256。"))
    return sha256


class LocalStore:
    """A folder on this machine, two-level fan-out (`ab/abcdef…`), written atomically by rename."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        name = _checked_name(sha256)
        return self.root / name[:2] / name

    def put(self, sha256: str, content: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise FileMissing(said("文件 %(sha256)s… 不在存储目录 %(root)s 中。",
                                   sha256=sha256[:12], root=self.root)) from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def names(self) -> Iterator[str]:
        if self.root.exists():
            yield from sorted(p.name for p in self.root.glob("??/*") if SHA256.match(p.name))


class DatabaseStore:
    """The `stored_files` table: one row per distinct file, written in its own short transaction."""

    name = "database"

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, sha256: str, content: bytes) -> None:
        _checked_name(sha256)
        if self.exists(sha256):
            return
        try:
            with self.db.transaction() as conn:
                conn.execute(insert(stored_files).values(sha256=sha256, size=len(content), content=content,
                                                         stored_at=func.now()))  # storage sits below the clock
        except IntegrityError:  # the same file stored meanwhile by another replica: it is there now
            pass

    def get(self, sha256: str) -> bytes:
        with self.db.reading() as conn:
            content = conn.execute(select(stored_files.c.content)
                                   .where(stored_files.c.sha256 == _checked_name(sha256))).scalar_one_or_none()
        if content is None:
            raise FileMissing(said("文件 %(sha256)s… 不在数据库的文件表中。", sha256=sha256[:12]))
        return bytes(content)

    def exists(self, sha256: str) -> bool:
        with self.db.reading() as conn:
            return conn.execute(select(stored_files.c.sha256)
                                .where(stored_files.c.sha256 == _checked_name(sha256))).first() is not None

    def names(self) -> Iterator[str]:
        with self.db.reading() as conn:
            yield from conn.execute(select(stored_files.c.sha256).order_by(stored_files.c.sha256)).scalars().all()


class S3Store:
    """An S3-compatible bucket; keys are `<prefix><sha256>`."""

    name = "s3"

    def __init__(self, bucket: str, endpoint: str | None = None, prefix: str = "") -> None:
        import boto3  # only installations with an object store load the AWS SDK

        self.bucket, self.prefix = bucket, prefix
        self.client = boto3.client("s3", endpoint_url=endpoint or None)

    def _key(self, sha256: str) -> str:
        return self.prefix + _checked_name(sha256)

    def put(self, sha256: str, content: bytes) -> None:
        if not self.exists(sha256):
            self.client.put_object(Bucket=self.bucket, Key=self._key(sha256), Body=content)

    def get(self, sha256: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise FileMissing(said("文件 %(sha256)s… 不在对象存储 %(bucket)s 中。",
                                   sha256=sha256[:12], bucket=self.bucket)) from exc

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def names(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                name = entry["Key"][len(self.prefix):]
                if SHA256.match(name):
                    yield name


def backend_name(db: Database) -> str:
    """The configured backend: the setting, else an object store when one is named, else the database
    on PostgreSQL, else the local folder."""
    chosen = os.environ.get("ONEWINDOW_FILE_STORE", "").strip().lower()
    if chosen:
        if chosen not in BACKENDS:
            raise ValueError(said("环境变量 ONEWINDOW_FILE_STORE=%(chosen)r 无效：应为 local、database 或 s3。",
                                  chosen=chosen))
        return chosen
    if os.environ.get("ONEWINDOW_S3_BUCKET"):
        return "s3"
    return "local" if db.is_sqlite else "database"


def local_root() -> Path:
    return Path(os.environ.get("ONEWINDOW_FILES_DIR") or os.environ.get("ONEWINDOW_ATTACHMENTS_DIR")
                or settings.INSTANCE_DIR / "files")


def open_store(db: Database, name: str | None = None) -> FileStore:
    """The backend `name` (default: the configured one) for this installation."""
    name = name or backend_name(db)
    if name == "local":
        return LocalStore(local_root())
    if name == "database":
        return DatabaseStore(db)
    if name == "s3":
        bucket = os.environ.get("ONEWINDOW_S3_BUCKET", "").strip()
        if not bucket:
            raise ValueError(said("对象存储需要 ONEWINDOW_S3_BUCKET（桶名）；"
                                  "另可设 ONEWINDOW_S3_ENDPOINT（服务地址）。"))
        return S3Store(bucket, os.environ.get("ONEWINDOW_S3_ENDPOINT"), os.environ.get("ONEWINDOW_S3_PREFIX", ""))
    raise ValueError(said("没有名为 %(name)r 的文件存储；可选 local、database、s3。", name=name))


def store(db: Database, content: bytes) -> str:
    """Keep `content` in the configured backend; its SHA-256, which names it from now on."""
    sha256 = digest(content)
    open_store(db).put(sha256, content)
    return sha256


def fetch(db: Database, sha256: str) -> bytes:
    """The bytes stored under `sha256`, re-hashed: a changed file is refused, a missing one is `FileMissing`."""
    content = open_store(db).get(sha256)
    if digest(content) != sha256:
        raise FileDamaged(said("文件 %(sha256)s… 已损坏或被改动（内容与登记的 SHA-256 不符），已拒绝提供；"
                          "请联系管理员用备份恢复。", sha256=sha256[:12]))
    return content


# --- for operators: check and move ------------------------------------------------------------------


def referenced(db: Database) -> list[str]:
    """Every file the platform needs: each attachment's and each kept report's SHA-256, once."""
    with db.reading() as conn:
        found = conn.execute(select(attachments.c.sha256).union(select(report_files.c.sha256))).scalars().all()
    return sorted(set(found))


@dataclass
class CheckReport:
    backend: str
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.damaged)


def check(db: Database, on_file: Callable[[str], None] | None = None) -> CheckReport:
    """Read back every referenced file from the configured backend and re-hash it (operators, the auditor)."""
    backend = open_store(db)
    report = CheckReport(backend.name)
    for sha256 in referenced(db):
        report.checked += 1
        try:
            if digest(backend.get(sha256)) != sha256:
                report.damaged.append(sha256)
        except FileMissing:
            report.missing.append(sha256)
        if on_file:
            on_file(sha256)
    return report


@dataclass
class MoveReport:
    source: str
    target: str
    copied: int = 0
    already_there: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


def migrate(db: Database, source_name: str, target_name: str,
            on_file: Callable[[str], None] | None = None) -> MoveReport:
    """Copy every referenced file from one backend to another; resumable — a file already in the target is
    skipped, so an interrupted run continues where it stopped. A file that is missing or fails its hash in
    the source is reported, never copied. The source keeps its copies (remove them once `check` passes on
    the target with `ONEWINDOW_FILE_STORE` switched)."""
    if source_name == target_name:
        raise ValueError(said("来源和目标是同一个文件存储（%(source_name)s）。", source_name=source_name))
    source, target = open_store(db, source_name), open_store(db, target_name)
    report = MoveReport(source.name, target.name)
    for sha256 in referenced(db):
        if target.exists(sha256):
            report.already_there += 1
        else:
            try:
                content = source.get(sha256)
            except FileMissing:
                report.missing.append(sha256)
            else:
                if digest(content) == sha256:
                    target.put(sha256, content)
                    report.copied += 1
                else:
                    report.damaged.append(sha256)
        if on_file:
            on_file(sha256)
    return report
