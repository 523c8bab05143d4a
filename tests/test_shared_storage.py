"""Web replicas are stateless (issue 19): files live in a store every replica reads — the local folder, the
database or an S3-compatible object store — each read re-hashed; reports and the SMS outbox are rows.

The contract is tested on every backend the machine can run: the folder, the database (on both databases),
and S3 through moto's server, a local S3-compatible HTTP endpoint (not a real Alibaba/Tencent/Huawei store).
Two real servers with separate instance folders against one PostgreSQL database prove a replica needs
nothing from another's disk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cli_helpers import run
from conftest import DATA_DIR, POSTGRES_URL, make_actor, tamper
from test_cli import free_port
from test_web import CSRF_RE

from engine.catalogue.deployment import deploy_package
from engine.desk import attachments, casework
from engine.diagrams.package import load_package
from engine.store import files

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
CONSOLE_SCRIPT = Path(sys.executable).parent / "onewindow"


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3-compatible server on a free local port, for the module."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """The S3 backend chosen by settings, on a fresh bucket."""
    import boto3

    bucket = f"onewindow-{os.getpid()}-{time.monotonic_ns()}"
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "ONEWINDOW_S3_ENDPOINT": s3_endpoint,
                        "ONEWINDOW_S3_BUCKET": bucket}.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return bucket


@pytest.mark.parametrize("backend", ["local", "database", "s3"])
def test_every_backend_keeps_the_contract(db, backend, monkeypatch, request):
    if backend == "s3":
        request.getfixturevalue("s3")
    monkeypatch.setenv("ONEWINDOW_FILE_STORE", backend)
    store = files.open_store(db)
    assert store.name == backend
    sha256 = files.store(db, PDF)
    files.store(db, PDF)  # idempotent: stored once
    assert list(store.names()) == [sha256] and store.exists(sha256)
    assert files.fetch(db, sha256) == PDF
    for hostile in ("../../etc/passwd", sha256[:-1] + "G", "", sha256.upper(), sha256 + "/x"):
        with pytest.raises(files.FileMissing):
            store.get(hostile)
    with pytest.raises(files.FileMissing):
        files.fetch(db, files.digest(b"never stored"))
    if backend == "s3":  # changed in the bucket behind the platform's back
        store.client.put_object(Bucket=store.bucket, Key=sha256, Body=PDF + b"x")
    else:
        tamper(db, sha256, PDF + b"x")
    with pytest.raises(files.FileDamaged, match="不符"):
        files.fetch(db, sha256)


def test_the_default_is_the_database_on_postgresql_and_the_folder_on_sqlite(db, monkeypatch):
    assert files.backend_name(db) == ("local" if db.is_sqlite else "database")
    monkeypatch.setenv("ONEWINDOW_S3_BUCKET", "b")
    assert files.backend_name(db) == "s3"  # an object store, once named, is the store
    monkeypatch.setenv("ONEWINDOW_FILE_STORE", "ftp")
    with pytest.raises(ValueError, match="ONEWINDOW_FILE_STORE"):
        files.backend_name(db)


@pytest.fixture
def case(db):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    wang = make_actor(db, "wang", ["受理窗口"])
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    return casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, applicant).case_no, wang


def test_check_and_a_resumable_migration_between_backends(db, case, s3, monkeypatch, capsys, env_db):
    case_no, wang = case
    monkeypatch.setenv("ONEWINDOW_FILE_STORE", "local")
    added = attachments.add_attachment(db, case_no, "申请书.pdf", PDF, wang)
    other = attachments.add_attachment(db, case_no, "图纸.pdf", PDF.replace(b"1.7", b"1.6"), wang)
    status, out, _ = run(capsys, "storage", "check")
    assert status == 0 and "2 file(s) checked, 0 missing, 0 changed" in out

    files.open_store(db, "s3").put(added.sha256, PDF)  # as if an earlier run stopped after one file
    status, out, _ = run(capsys, "storage", "migrate", "--to", "s3")
    assert status == 0 and "1 copied, 1 already there" in out and "ONEWINDOW_FILE_STORE=s3" in out
    status, out, _ = run(capsys, "storage", "migrate", "--to", "s3")
    assert status == 0 and "0 copied, 2 already there" in out  # resumable: nothing done twice
    monkeypatch.setenv("ONEWINDOW_FILE_STORE", "s3")
    assert attachments.open_attachment(db, case_no, attachments.list_attachments(db, case_no)[1]["id"],
                                       wang)[1] == PDF.replace(b"1.7", b"1.6")

    store = files.open_store(db)
    store.client.delete_object(Bucket=store.bucket, Key=other.sha256)
    store.client.put_object(Bucket=store.bucket, Key=added.sha256, Body=b"%PDF-forged")
    status, out, _ = run(capsys, "--json", "storage", "check")
    assert status == 1 and other.sha256 in out and added.sha256 in out  # missing and changed, both named


def test_the_sms_outbox_is_a_table_a_gateway_drains(db, client, capsys, env_db):
    from engine.hall import phone

    phone.request_code(db, "13912345678", "10.0.0.9")
    [queued] = phone.outbox(db, pending_only=True)
    assert re.search(r"验证码是 \d{6}", queued["message"]) and queued["sent_at"] is None
    status, out, _ = run(capsys, "sms", "--pending")
    assert status == 0 and "13912345678" in out
    status, out, _ = run(capsys, "sms", "--mark-sent", str(queued["id"]))
    assert status == 0 and "1 message(s) marked sent" in out
    assert phone.outbox(db, pending_only=True) == [] and len(phone.outbox(db)) == 1


class Replica:
    """`onewindow serve` with its own instance folder: what one web container sees."""

    def __init__(self, db_url: str, instance: Path) -> None:
        self.base = f"http://127.0.0.1:{free_port()}"
        env = {**os.environ, "DATABASE_URL": db_url, "ONEWINDOW_INSTANCE_DIR": str(instance),
               "ONEWINDOW_SECRET_KEY": "the-same-key-on-every-replica-of-this-test"}
        for name in ("ONEWINDOW_FILES_DIR", "ONEWINDOW_FILE_STORE"):
            env.pop(name, None)
        self.proc = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--port", self.base.rsplit(":", 1)[1],
                                      "--workers", "1", "--no-scheduler"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.base + "/login", timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _token(http: requests.Session, url: str) -> str:
    return CSRF_RE.search(http.get(url, timeout=30).text).group(1)


@pytest.mark.skipif(not POSTGRES_URL, reason="replicas share a PostgreSQL database (DATABASE_URL=postgresql…)")
@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")
def test_a_file_uploaded_through_one_replica_downloads_through_another(db, case, tmp_path, capsys, env_db):
    case_no, _ = case
    make_actor(db, "centre-watch", [], ["supervisor"])
    first, second = Replica(db.url, tmp_path / "a"), Replica(db.url, tmp_path / "b")
    try:
        http = requests.Session()
        http.post(first.base + "/login", data={"username": "wang", "password": "secret-pw",
                                               "csrf_token": _token(http, first.base + "/login")}, timeout=30)
        token = _token(http, f"{first.base}/cases/{case_no}")
        uploaded = http.post(f"{first.base}/desk/cases/{case_no}/attachments", data={"csrf_token": token},
                             files={"file": ("申请书.pdf", PDF, "application/pdf")}, timeout=30)
        assert uploaded.status_code in (200, 302)
        [row] = attachments.list_attachments(db, case_no)
        download = http.get(f"{second.base}/desk/cases/{case_no}/attachments/{row['id']}", timeout=30)
        assert download.status_code == 200 and download.content == PDF  # the other replica, the same login

        status, _, _ = run(capsys, "report", "daily", "--date", "2026-02-25")  # made by a third process
        watch = requests.Session()
        watch.post(second.base + "/login", data={"username": "centre-watch", "password": "secret-pw",
                                                 "csrf_token": _token(watch, second.base + "/login")}, timeout=30)
        report = watch.get(f"{second.base}/watch/reports/daily/2026-02-25.html", timeout=30)
        assert status == 0 and report.status_code == 200 and "日报 2026-02-25" in report.text

        applicant = requests.Session()
        sent = applicant.post(first.base + "/register/code", timeout=30, data={
            "phone": "13712345678", "csrf_token": _token(applicant, first.base + "/register")})
        assert sent.status_code == 200
        from engine.hall import phone

        assert "13712345678" in [m["phone"] for m in phone.outbox(db)]  # queued where every process sees it
    finally:
        first.stop()
        second.stop()
    kept = [p for p in (tmp_path / "a").rglob("*") if p.is_file()] + \
        [p for p in (tmp_path / "b").rglob("*") if p.is_file()]
    assert [p.name for p in kept if p.name != "secret_key"] == []  # nothing a user needs on a replica's disk
