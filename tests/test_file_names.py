"""A file name that comes from a package, a draft or an upload is a plain name resolved inside its folder
(issue 13, item 1).

A form name in a diagram (`formJsonSchemaFilename`, `formUiSchemaFilename`) or in item.json
(`application_form`, `application_ui_form`) used to be joined to the item folder and forms/ as a path:
`../instance/secret_key` showed the session-signing key in the studio's form view, a deploy stored it
in the version, and lint's "does not exist" told whether a file was there. Each entry point is tested
here with every hostile name against a real secret file beside the forms folder, whose content must
never appear anywhere; uploaded files keep a name without path parts or control characters.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from cli_helpers import run
from conftest import DATA_DIR, PROCESSES, ROOT, make_actor
from sqlalchemy import func, select
from test_web import csrf_token, login

from engine import settings
from engine.catalogue import drafts
from engine.catalogue.deployment import deploy_package
from engine.desk import attachments, casework
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.errors import PackageError
from engine.store.tables import process_versions

SECRET = "S3CRET-4f1c9e-never-shown"
DIAGRAM = "joint-review.bpmn"
ISSUE_FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="issue.json" />'
HOSTILE = ["../instance/secret_key", "../../etc/passwd", "/etc/passwd", "forms/../x.json", "a\\b.json",
           "bad\x00name.json", "bad\nname.json", "bad\tname.json", "bad\x1bname.json", "..", "\u202enosj.json"]
XML_CHARS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
# XML 1.0 cannot carry NUL or most C0 controls at all: those names reach us through item.json only
IN_XML = [n for n in HOSTILE if all(ch >= " " or ch in "\n\t" for ch in n)]
FORM_PROPERTIES = ["formJsonSchemaFilename", "formUiSchemaFilename"]
APPLICATION_KEYS = ["application_form", "application_ui_form"]


@pytest.fixture
def secret(tmp_path, monkeypatch) -> Path:
    """forms/ in a folder beside instance/secret_key (a JSON file, so that a deploy would have stored it)."""
    shutil.copytree(ROOT / "forms", tmp_path / "forms")
    monkeypatch.setattr(settings, "FORMS_DIR", tmp_path / "forms")
    (tmp_path / "instance").mkdir()
    key = tmp_path / "instance" / "secret_key"
    key.write_text(json.dumps({"title": SECRET}), encoding="utf-8")
    return key


@pytest.fixture
def package_dir(tmp_path, secret) -> Path:
    """The joint-review item in tmp_path/item: `../instance/secret_key` from it is the secret, too."""
    shutil.copytree(PROCESSES / "demo-joint-review", tmp_path / "item")
    return tmp_path / "item"


def naming(diagram: str, name: str, prop: str) -> str:
    """The diagram with the user task `issue` naming `name` in the form property `prop`."""
    value = "".join(XML_CHARS.get(ch, ch) for ch in name)
    hostile = f'<spiffworkflow:property name="{prop}" value="{value}" />'
    assert ISSUE_FORM in diagram
    return diagram.replace(ISSUE_FORM, hostile if prop == FORM_PROPERTIES[0] else ISSUE_FORM + hostile, 1)


def plant(folder: Path, name: str) -> tuple[str, str]:
    """Put `name` where the package names a form (the diagram if XML can carry it, else item.json);
    returns the (file, element) lint must name."""
    if name in IN_XML:
        path = folder / DIAGRAM
        path.write_text(naming(path.read_text(encoding="utf-8"), name, FORM_PROPERTIES[0]), encoding="utf-8")
        return DIAGRAM, "issue"
    metadata = json.loads((folder / "item.json").read_text(encoding="utf-8"))
    (folder / "item.json").write_text(json.dumps({**metadata, "application_form": name}), encoding="utf-8")
    return "item.json", "application_form"


def assert_refused_by_name(findings, file: str, element: str) -> None:
    """One error at (file, element) about the name itself: never "does not exist", which would tell."""
    hits = [f for f in findings if (f.file, f.element_id) == (file, element)]
    assert len(hits) == 1 and hits[0].severity == "error", findings
    assert "文件名" in hits[0].message and "不存在" not in hits[0].message
    assert all(SECRET not in str(f) for f in findings)


def says_why(response) -> bool:
    return any(word in response.get_data(as_text=True) for word in ("文件名", "NUL"))


def assert_plain(name: str) -> None:
    assert name and "/" not in name and "\\" not in name and name not in (".", "..")
    assert all(ch.isprintable() for ch in name), repr(name)


# --- lint and the package ------------------------------------------------------------------------------


@pytest.mark.parametrize("prop", FORM_PROPERTIES)
@pytest.mark.parametrize("name", IN_XML)
def test_lint_refuses_a_hostile_form_property_naming_the_user_task(package_dir, name, prop):
    """issue 13, item 1: the user task is named, the file is never read into the package."""
    path = package_dir / DIAGRAM
    path.write_text(naming(path.read_text(encoding="utf-8"), name, prop), encoding="utf-8")
    package = load_package(package_dir)
    assert all(SECRET not in text for text in package.files.values())
    assert_refused_by_name(lint_package(package).findings, DIAGRAM, "issue")


@pytest.mark.parametrize("key", APPLICATION_KEYS)
@pytest.mark.parametrize("name", [*HOSTILE, 42, ["accept.json"]])
def test_lint_refuses_a_hostile_application_form_naming_item_json(package_dir, name, key):
    """issue 13, item 1: item.json's form names follow the same rule (a name that is not text included)."""
    metadata = json.loads((package_dir / "item.json").read_text(encoding="utf-8"))
    (package_dir / "item.json").write_text(json.dumps({**metadata, key: name}), encoding="utf-8")
    package = load_package(package_dir)
    assert all(SECRET not in text for text in package.files.values())
    assert_refused_by_name(lint_package(package).findings, "item.json", key)


def test_a_symlink_out_of_the_forms_folder_is_not_followed(package_dir, secret):
    """issue 13, item 1: a plain name is resolved and must stay inside its folder."""
    (settings.FORMS_DIR / "linked.json").symlink_to(secret)
    (package_dir / "item-linked.json").symlink_to(secret)
    for name in ("linked.json", "item-linked.json"):
        path = package_dir / DIAGRAM
        path.write_text(path.read_text(encoding="utf-8").replace('value="issue.json"', f'value="{name}"'),
                        encoding="utf-8")
        package = load_package(package_dir)
        assert all(SECRET not in text for text in package.files.values())
        errors = lint_package(package).errors
        assert [(f.element_id, name in f.message) for f in errors] == [("issue", True)]
        path.write_text(path.read_text(encoding="utf-8").replace(f'value="{name}"', 'value="issue.json"'),
                        encoding="utf-8")


def test_a_diagram_linked_from_outside_the_item_folder_is_refused(package_dir, secret):
    """issue 13, item 1: the item's own files are read from inside its folder only."""
    (package_dir / "stolen.bpmn").symlink_to(secret)
    with pytest.raises(PackageError, match=r"stolen\.bpmn.*文件夹之外") as refused:
        load_package(package_dir)
    assert SECRET not in str(refused.value)


def test_a_legitimate_form_name_still_deploys(db, package_dir):
    """issue 13, item 1: plain names in the item folder and in forms/ are found as before."""
    shutil.copy(settings.FORMS_DIR / "issue.json", package_dir / "issue.json")
    result = deploy_package(db, load_package(package_dir), "analyst")
    assert result.created and result.report.ok
    with db.reading() as conn:
        files = conn.execute(select(process_versions.c.files)).scalar_one()
    assert {"forms/accept.json", "forms/accept-uischema.json", "forms/review.json", "forms/issue.json"} <= set(files)


# --- onewindow deploy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_cli_deploy_of_a_hostile_form_name_exits_non_zero_and_stores_nothing(env_db, capsys, package_dir, name):
    """issue 13, item 1: deploy lints first, so the refusal names the element and no version is written."""
    file, element = plant(package_dir, name)
    status, out, err = run(capsys, "deploy", str(package_dir))
    assert status != 0
    assert f"{file}:{element}" in err and "文件名" in err
    assert SECRET not in out + err
    with env_db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(process_versions)).scalar_one() == 0


# --- the studio ----------------------------------------------------------------------------------------


@pytest.fixture
def studio(client, db, secret):
    """An analyst's client with a draft of the joint-review demo, and the CSRF token its scripts send."""
    deploy_package(db, load_package(PROCESSES / "demo-joint-review"), "analyst")
    make_actor(db, "ana", [], ["analyst"])
    login(client, "ana")
    token = csrf_token(client, "/studio/")
    opened = client.post("/studio/items/DEMO-001/drafts", data={"version": "1", "csrf_token": token})
    return client, token, int(opened.headers["Location"].rstrip("/").split("/")[-1])


def post_json(client, token: str, path: str, body: dict):
    return client.post(path, json=body, headers={"X-CSRFToken": token})


def versions(db) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(process_versions)).scalar_one()


@pytest.mark.parametrize("prop", FORM_PROPERTIES)
@pytest.mark.parametrize("name", IN_XML)
def test_studio_save_of_a_hostile_diagram_is_flagged_and_never_reads_the_file(studio, db, name, prop):
    """issue 13, item 1: save, live lint, the modeler page and deploy name the task; none shows the file."""
    client, token, draft_id = studio
    diagram = naming(client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True), name, prop)
    live = post_json(client, token, f"/studio/drafts/{draft_id}/lint", {"name": DIAGRAM, "text": diagram})
    saved = post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}", {"text": diagram})
    for response in (live, saved):
        assert response.status_code == 200 and response.json["ok"] is False
        assert [f["element_id"] for f in response.json["findings"] if "文件名" in f["message"]] == ["issue"]
    page = client.get(f"/studio/drafts/{draft_id}")
    deploy = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {})
    assert deploy.status_code == 422 and "issue" in deploy.json["message"]
    for response in (live, saved, page, deploy):
        assert SECRET not in response.get_data(as_text=True)
    assert versions(db) == 1


@pytest.mark.parametrize("name", HOSTILE)
def test_studio_form_view_refuses_a_hostile_name_and_never_shows_the_file(studio, name):
    """issue 13, item 1: as the form itself or as its UI schema, even once a saved diagram names it."""
    client, token, draft_id = studio
    if name in IN_XML:
        diagram = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
        post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}",
                  {"text": naming(diagram, name, FORM_PROPERTIES[1])})
    as_form = client.get(f"/studio/drafts/{draft_id}/forms/{quote(name, safe='')}", follow_redirects=True)
    as_ui = client.get(f"/studio/drafts/{draft_id}/forms/issue.json?ui={quote(name, safe='')}")
    # refused with a message naming the fault (a NUL may be refused for the whole request first, by
    # webapp.inputs); in the path, `//etc` is first merged to `/etc` by a redirect, and routing finds
    # no page at all for a newline
    assert as_ui.status_code == 400 and says_why(as_ui)
    assert as_form.status_code == 404 or (as_form.status_code == 400 and says_why(as_form))
    assert SECRET not in as_form.get_data(as_text=True) + as_ui.get_data(as_text=True)
    assert client.get(f"/studio/drafts/{draft_id}/forms/issue.json?ui=accept-uischema.json").status_code == 200


def test_studio_item_json_naming_a_hostile_application_form_is_flagged(studio, db):
    """issue 13, item 1: item.json saved in the studio is linted like the folder's, naming its key."""
    client, token, draft_id = studio
    metadata = json.loads(client.get(f"/studio/drafts/{draft_id}/files/item.json").get_data(as_text=True))
    saved = post_json(client, token, f"/studio/drafts/{draft_id}/files/item.json",
                      {"text": json.dumps({**metadata, "application_form": "../instance/secret_key"})})
    assert saved.status_code == 200 and SECRET not in saved.get_data(as_text=True)
    assert [(f["file"], f["element_id"]) for f in saved.json["findings"] if "文件名" in f["message"]] == [
        ("item.json", "application_form")]
    assert post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {}).status_code == 422
    assert versions(db) == 1


def test_studio_upload_of_a_diagram_naming_a_hostile_form_is_flagged(studio, db):
    """issue 13, item 1: a diagram made in another modeler goes through the same rule; its own file name
    (a path with control characters) is shown without them."""
    client, token, draft_id = studio
    diagram = naming(client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True),
                     "../instance/secret_key", FORM_PROPERTIES[0])
    page = client.post(f"/studio/drafts/{draft_id}/upload", data={
        "csrf_token": token, "diagram": DIAGRAM, "bpmn": (io.BytesIO(diagram.encode()), "../x/mine\x1b.bpmn")},
        follow_redirects=True).get_data(as_text=True)
    assert "已用 mine.bpmn 替换" in page and "../x" not in page and "\x1b" not in page
    assert "issue" in page and SECRET not in page
    assert post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {}).status_code == 422


def test_a_draft_takes_the_application_form_it_holds_like_a_folder_does(db, secret):
    """issue 13, item 1: a draft and an item folder take their forms from one list of plain names
    (`engine.diagrams.package.named_forms`), so item.json's own form saved in the draft is the one deployed."""
    deploy_package(db, load_package(PROCESSES / "demo-joint-review"), "analyst")
    draft = drafts.open_draft(db, "DEMO-001", 1, make_actor(db, "ana", [], ["analyst"]))
    form = json.dumps({"type": "object", "properties": {"purpose": {"type": "string", "title": "用途"}}})
    draft = drafts.save_file(db, draft, "forms/own-application.json", form)
    draft = drafts.save_file(db, draft, "item.json",
                             json.dumps({**draft.metadata(), "application_form": "own-application.json"}))
    package = drafts.draft_package(draft)
    assert package.files["forms/own-application.json"] == form
    assert lint_package(package).ok


# --- attachments ---------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize("name", [*HOSTILE, "a\r\nX-Injected: 1", "\x85\u2028\ufeff"])
def test_an_uploaded_name_keeps_no_path_part_or_control_character(name):
    """issue 13, item 1: the name kept for an attachment is shown and sent back in Content-Disposition."""
    kept = attachments.check_upload(f"{name}申请书.pdf", PDF).filename
    assert_plain(kept)
    assert kept.endswith("申请书.pdf")


def multipart(fields: dict[str, str], filename: str, content: bytes) -> bytes:
    """A form with one file whose name is sent RFC 2231-encoded, as a client may: CR, LF and NUL arrive raw."""
    parts = [f'--B\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n' for key, value in fields.items()]
    parts.append("--B\r\nContent-Disposition: form-data; name=\"file\"; "
                 f"filename*=UTF-8''{quote(filename, safe='')}\r\nContent-Type: application/pdf\r\n\r\n")
    return "".join(parts).encode() + content + b"\r\n--B--\r\n"


def test_an_upload_with_a_hostile_name_is_stored_and_sent_back_under_a_safe_name(client, db):
    """issue 13, item 1: the desk's upload, then the download's Content-Disposition."""
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    make_actor(db, "wang", ["受理窗口"])
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    case_no = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, applicant).case_no
    login(client, "wang")
    hostile = "../../instance/secret_key\r\nX-Injected: 1\x1b\u202e申请书.pdf"  # a NUL: the engine test above
    body = multipart({"csrf_token": csrf_token(client, f"/cases/{case_no}")}, hostile, PDF)
    page = client.post(f"/desk/cases/{case_no}/attachments", data=body,
                       content_type="multipart/form-data; boundary=B", follow_redirects=True)
    assert "已上传" in page.get_data(as_text=True) and "../" not in page.get_data(as_text=True)
    row = attachments.list_attachments(db, case_no)[0]
    assert_plain(row["filename"])
    download = client.get(f"/desk/cases/{case_no}/attachments/{row['id']}")
    assert download.status_code == 200 and download.data == PDF
    disposition = download.headers["Content-Disposition"]
    assert "X-Injected" not in download.headers and "%2F" not in disposition and "/" not in disposition
    assert all(ch.isprintable() for ch in disposition)
