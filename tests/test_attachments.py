"""Attachments, comments and the materials checklist in the engine: untrusted uploads are checked by their
content, stored once by hash outside the database, recorded in the case's audit chain, and opened only
for the people the case concerns, after re-hashing the bytes."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import DATA_DIR, make_actor, tamper

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk import attachments, casework, comments, materials
from engine.diagrams.package import load_package
from engine.errors import PermissionDenied
from engine.reads import queries
from engine.store import files

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def case(db):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    people = {"wang": make_actor(db, "wang", ["受理窗口"]), "zhao": make_actor(db, "zhao", ["审查组"]),
              "zhangsan": make_actor(db, "zhangsan", [], ["applicant"]),
              "audit": make_actor(db, "audit", [], ["auditor"])}
    case_no = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, people["zhangsan"]).case_no
    return case_no, people


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("a.pdf", PDF, "application/pdf"), ("b.PNG", PNG, "image/png"), ("c.jpg", b"\xff\xd8\xff\xe0" + b"0" * 20,
                                                                     "image/jpeg"),
    ("d.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
def test_allowed_types_are_recognised_by_content(name, content, kind):
    assert attachments.check_upload(name, content).content_type == kind


@pytest.mark.parametrize(("name", "content", "message"), [
    ("evil.pdf", b"MZ\x90\x00 a windows program", "扩展名与内容不符"),
    ("photo.png", PDF, "扩展名与内容不符"),
    ("script.js", b"alert(1)", "只能上传"),
    ("empty.pdf", b"", "是空的"),
    ("", PDF, "请选择"),
])
def test_refused_uploads_say_why(name, content, message):
    with pytest.raises(attachments.AttachmentRefused, match=message):
        attachments.check_upload(name, content)


def test_size_cap_is_a_setting(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_ATTACHMENT_MAX_MB", "0.001")
    with pytest.raises(attachments.AttachmentRefused, match="超过"):
        attachments.check_upload("big.pdf", PDF + b"0" * 2000)


def test_file_names_lose_their_directories():
    assert attachments.clean_filename("C:\\Users\\x\\..\\申请书.pdf") == "申请书.pdf"
    assert attachments.clean_filename("../../etc/passwd\x00.pdf") == "passwd.pdf"


def test_upload_is_stored_once_by_hash_and_recorded_in_the_chain(db, case):
    case_no, people = case
    first = attachments.add_attachment(db, case_no, "申请书.pdf", PDF, people["wang"], "申请书")
    attachments.add_attachment(db, case_no, "申请书-副本.pdf", PDF, people["wang"])
    assert list(files.open_store(db).names()) == [first.sha256]  # same bytes, one file
    event = next(e for e in queries.case_history(db, case_no) if e["type"] == "attachment_added")
    assert event["data"] == {"filename": "申请书.pdf", "content_type": "application/pdf", "size": len(PDF),
                             "sha256": first.sha256, "material": "申请书"}
    with pytest.raises(PermissionDenied, match="只查看"):  # an auditor sees every case but changes none
        attachments.add_attachment(db, case_no, "x.pdf", PDF, people["audit"])
    with pytest.raises(attachments.AttachmentRefused, match="不是本事项办事指南中的材料"):
        attachments.add_attachment(db, case_no, "x.pdf", PDF, people["wang"], "营业执照")
    assert replay_case(db, case_no).identical


def test_download_for_those_the_case_concerns_only(db, case):
    case_no, people = case
    added = attachments.add_attachment(db, case_no, "申请书.pdf", PDF, people["wang"])
    row_id = attachments.list_attachments(db, case_no)[0]["id"]
    for who in ("wang", "zhangsan", "audit"):  # the window (its group has the task), the applicant, an auditor
        assert attachments.open_attachment(db, case_no, row_id, people[who])[1] == PDF
    with pytest.raises(PermissionDenied):  # a clerk of a group the case never reached
        attachments.open_attachment(db, case_no, row_id, people["zhao"])
    tamper(db, added.sha256, PDF.replace(b"1.7", b"1.6"))
    with pytest.raises(attachments.AttachmentDamaged, match="哈希不符"):
        attachments.open_attachment(db, case_no, row_id, people["wang"])


def test_comments_and_checklist_are_part_of_the_story(db, case):
    case_no, people = case
    comments.add_comment(db, case_no, "  申请人称下午补交原件 ", people["wang"], "accept")
    with pytest.raises(comments.CommentRefused):
        comments.add_comment(db, case_no, "   ", people["wang"])
    with pytest.raises(PermissionDenied):
        comments.add_comment(db, case_no, "路过", people["zhao"])
    with pytest.raises(PermissionDenied, match="审计人员只查看"):  # auditors look, they never change a case
        comments.add_comment(db, case_no, "审计意见", people["audit"])
    with pytest.raises(PermissionDenied):  # nor does the applicant: these are the handlers' notes
        comments.add_comment(db, case_no, "我想问问", people["zhangsan"])
    materials.mark_materials(db, case_no, {"身份证": "missing", "申请书": "received"}, people["wang"])
    materials.mark_materials(db, case_no, {"身份证": "received"}, people["wang"])
    with pytest.raises(materials.ChecklistRefused):
        materials.mark_materials(db, case_no, {"营业执照": "received"}, people["wang"])
    rows = {r["name"]: r["status"] for r in materials.checklist(db, case_no)}
    assert rows == {"申请书": "received", "身份证": "received", "场地平面图": None}
    assert [c["body"] for c in comments.list_comments(db, case_no)] == ["申请人称下午补交原件"]
    types = [e["type"] for e in queries.case_history(db, case_no)]
    assert types.count("materials_checked") == 2 and "comment_added" in types
    assert replay_case(db, case_no).identical
