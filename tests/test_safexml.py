"""Untrusted XML: a DOCTYPE is refused wherever it is and however the document is encoded (issue 13, item 13)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from conftest import make_actor
from test_studio import log_in

from engine.catalogue.deployment import deploy_package
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.diagrams.safexml import parse_xml
from engine.errors import LintFailed, PackageError

ROOT = Path(__file__).resolve().parent.parent
JOINT = ROOT / "processes" / "demo-joint-review"
DIAGRAM = "joint-review.bpmn"
BPMN = (JOINT / DIAGRAM).read_text(encoding="utf-8")
BODY = BPMN.split("?>", 1)[1]  # the diagram without its XML declaration

LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
          + "]><lolz>&lol9;</lolz>")
PASSWD = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
IN_ATTRIBUTE = PASSWD.replace("<x>&e;</x>", '<x name="&e;"/>')  # not well-formed without the entity expanded
LATE = '<?xml version="1.0"?><!--' + "x" * 5000 + '--><!DOCTYPE definitions SYSTEM "http://evil.example/d.dtd">' + BODY
UTF16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE definitions [<!ENTITY e "y">]>' + BODY).encode("utf-16")
# UTF-7: "<!DOCTYPE definitions>" written as "+ADw-!DOCTYPE definitions+AD4-" (no "<!DOCTYPE" byte anywhere)
UTF7 = b'<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE definitions+AD4-' + BODY.encode("utf-7")


@pytest.mark.parametrize("content", [
    '<!DOCTYPE definitions>' + BODY,
    PASSWD,
    IN_ATTRIBUTE,
    LAUGHS,
    LATE,
    UTF16,
    UTF7,
], ids=["at-start", "external-entity", "entity-in-attribute", "billion-laughs", "after-5000-bytes", "utf-16", "utf-7"])
def test_every_doctype_is_refused_naming_the_file(content):
    """issue 13, item 13: the parser's own view of the document decides, not a scan of its first bytes."""
    with pytest.raises(PackageError) as refused:
        parse_xml(content, "evil.bpmn")
    assert refused.value.message.startswith("evil.bpmn: ") and "DOCTYPE" in refused.value.message


def test_the_hostile_documents_hide_from_a_byte_scan():
    """issue 13, item 13: the late, UTF-16 and UTF-7 cases are the ones the old scan of 4096 bytes let through."""
    for content in (LATE.encode("utf-8"), UTF16, UTF7):
        assert b"<!DOCTYPE" not in content[:4096]
    assert b"<!ENTITY" not in LATE.encode("utf-8") + UTF16 + UTF7


@pytest.mark.parametrize("content", [BPMN, BPMN.encode("utf-8"),
                                     ('<?xml version="1.0" encoding="UTF-16"?>' + BODY).encode("utf-16"),
                                     b'<?xml version="1.0" encoding="UTF-7"?>' + BODY.encode("utf-7")],
                         ids=["text", "utf-8", "utf-16", "utf-7"])
def test_a_normal_diagram_parses_in_any_encoding(content):
    """issue 13, item 13: refusing a DOCTYPE does not refuse an encoding."""
    root = parse_xml(content, DIAGRAM).getroot()
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    assert root.find(".//{*}userTask") is not None


def test_malformed_and_oversized_documents_keep_their_messages():
    """issue 13, item 13: the size cap and the syntax check still come first, naming the file."""
    with pytest.raises(PackageError, match=r"^big\.bpmn: .*上限"):
        parse_xml(b"<x>" + b" " * (3 * 1024 * 1024) + b"</x>", "big.bpmn")
    with pytest.raises(PackageError, match=r"^bad\.bpmn: XML 格式错误"):
        parse_xml("<bpmn:definitions", "bad.bpmn")


def test_lint_and_deploy_refuse_a_utf7_doctype(db, tmp_path):
    """issue 13, item 13: engine.diagrams.package.load_package → lint → deploy, the analyst's command-line path."""
    folder = tmp_path / "item"
    shutil.copytree(JOINT, folder)
    for form in ("accept.json", "accept-uischema.json", "review.json", "issue.json"):
        shutil.copy(ROOT / "forms" / form, folder / form)
    (folder / DIAGRAM).write_bytes(UTF7)
    errors = lint_package(load_package(folder)).errors
    assert [f.file for f in errors] == [DIAGRAM] and "DOCTYPE" in errors[0].message
    with pytest.raises(LintFailed):
        deploy_package(db, load_package(folder), "analyst")


def test_the_studio_upload_refuses_a_utf7_doctype(client, db, joint):
    """issue 13, item 13: the studio's upload of a .bpmn made elsewhere keeps the draft as it was."""
    make_actor(db, "ana", [], ["analyst"])
    token = log_in(client, "ana")
    opened = client.post("/studio/items/DEMO-001/drafts", data={"version": "1", "csrf_token": token})
    draft_id = int(opened.headers["Location"].rstrip("/").split("/")[-1])
    before = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").data
    page = client.post(f"/studio/drafts/{draft_id}/upload", data={
        "csrf_token": token, "diagram": DIAGRAM, "bpmn": (io.BytesIO(UTF7), "evil.bpmn")}, follow_redirects=True)
    assert "上传未保存" in page.get_data(as_text=True) and "DOCTYPE" in page.get_data(as_text=True)
    assert client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").data == before
