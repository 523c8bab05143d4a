"""The studio (工作室) through the test client with CSRF on: who gets in, drafts from deployed versions,
untrusted uploads refused with a clear message, lint on unsaved text, deploy refusals (errors,
unacknowledged warnings, a refusal from inside the deployment), the form preview rendered by the
desk's renderer, and a deploy that every web worker sees at once while running cases keep their version.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from conftest import make_actor
from test_engine_messages import _english_for

from engine.catalogue import drafts
from engine.desk import casework
from engine.diagrams.lint import Finding, LintReport
from engine.errors import OnewindowError
from engine.reads import queries
from engine.store.db import Database
from webapp import create_app
from webapp.access import ACCESS_ATTR

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DIAGRAM = "joint-review.bpmn"
TIMER = "<bpmn:timeDuration>workdays(2)</bpmn:timeDuration>"


def log_in(client, username: str) -> str:
    """Log in and return a CSRF token for the session (what the studio's pages hand to their scripts)."""
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": username, "password": "secret-pw", "csrf_token": token})
    return CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)


@pytest.fixture
def analyst(db, joint):
    return make_actor(db, "ana", [], ["analyst"])


@pytest.fixture
def studio(client, analyst):
    """The analyst's client, logged in, with a draft of the joint-review demo's version 1."""
    token = log_in(client, "ana")
    response = client.post("/studio/items/DEMO-001/drafts", data={"version": "1", "csrf_token": token})
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return client, token, draft_id


def post_json(client, token: str, path: str, body: dict):
    return client.post(path, json=body, headers={"X-CSRFToken": token})


def test_only_analysts_and_administrators_reach_the_studio(app, client, db, analyst):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("studio.")]
    assert len(rules) >= 10
    for rule in rules:
        assert getattr(app.view_functions[rule.endpoint], ACCESS_ATTR) == ("analyst",), rule.rule
    assert client.get("/studio/").status_code == 302  # not logged in: to the login page
    make_actor(db, "clerk", ["受理窗口"])
    log_in(client, "clerk")
    refused = client.get("/studio/")
    assert refused.status_code == 403 and "流程管理员" in refused.get_data(as_text=True)
    assert "流程工作室" not in client.get("/desk").get_data(as_text=True)  # no nav link for a clerk
    make_actor(db, "root", [], ["admin"])
    log_in(client, "root")
    assert client.get("/studio/").status_code == 200
    log_in(client, "ana")
    page = client.get("/studio/").get_data(as_text=True)
    assert "DEMO-001" in page and "流程工作室" in page


def test_a_draft_is_a_copy_of_a_version_that_deploys_to_the_same_hash(db, joint, analyst):
    draft = drafts.open_draft(db, "DEMO-001", 1, analyst)
    assert draft.diagram_names() == [DIAGRAM] and draft.base_version == 1
    assert drafts.draft_package(draft).content_hash() == joint.content_hash
    result = drafts.deploy_draft(db, draft, analyst, warnings_acknowledged=False)
    assert (result.created, result.version) == (False, 1)  # identical content: a no-op that says so
    with pytest.raises(OnewindowError, match="不存在"):
        drafts.get_draft(db, draft.id, analyst)  # the draft ended with the deploy
    other = make_actor(db, "bob", [], ["analyst"])
    mine = drafts.open_draft(db, "DEMO-001", 1, analyst)
    with pytest.raises(OnewindowError, match="ana 的草稿"):
        drafts.get_draft(db, mine.id, other)


def test_open_edit_save_and_download(studio, db):
    client, token, draft_id = studio
    page = client.get(f"/studio/drafts/{draft_id}").get_data(as_text=True)
    assert "bpmn-modeler.production.min.js" in page and "cdn" not in page.lower()
    xml = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
    edited = xml.replace('name="受理窗口"', 'name="审查组"')
    saved = post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}", {"text": edited})
    assert saved.status_code == 200 and saved.json["ok"] is True and saved.json["findings"] == []
    download = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}?download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True) == edited
    deployed = client.get("/studio/items/DEMO-001/versions/1/diagram.bpmn")
    assert "attachment" in deployed.headers["Content-Disposition"]
    assert 'name="受理窗口"' in deployed.get_data(as_text=True)
    no_token = client.post(f"/studio/drafts/{draft_id}/files/{DIAGRAM}", json={"text": edited})
    assert no_token.status_code == 400


@pytest.mark.parametrize(("text", "message"), [
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "DOCTYPE"),
    ("<bpmn:definitions", "XML 格式错误"),
    ('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "不是 BPMN 2.0 流程图"),
    ("<x>" + "a" * (2 * 1024 * 1024) + "</x>", "上限"),
])
def test_unsafe_or_broken_diagrams_are_refused_with_a_clear_message(studio, text, message):
    client, token, draft_id = studio
    before = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
    refused = post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}", {"text": text})
    assert refused.status_code == 400 and message in refused.json["message"]
    assert client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True) == before


def test_an_upload_with_an_entity_is_refused_and_a_good_one_replaces_the_diagram(studio):
    client, token, draft_id = studio
    evil = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>'
    page = client.post(f"/studio/drafts/{draft_id}/upload", data={
        "csrf_token": token, "diagram": DIAGRAM, "bpmn": (io.BytesIO(evil), "evil.bpmn")}, follow_redirects=True)
    assert "上传未保存" in page.get_data(as_text=True) and "DOCTYPE" in page.get_data(as_text=True)
    good = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").data.replace(b"workdays(2)", b"workdays(4)")
    page = client.post(f"/studio/drafts/{draft_id}/upload", data={
        "csrf_token": token, "diagram": DIAGRAM, "bpmn": (io.BytesIO(good), "mine.bpmn")}, follow_redirects=True)
    assert "已用 mine.bpmn 替换" in page.get_data(as_text=True)
    assert b"workdays(4)" in client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").data


def test_lint_of_unsaved_text_names_the_element_and_errors_block_the_deploy(studio, db):
    client, token, draft_id = studio
    xml = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
    broken = xml.replace(TIMER, "<bpmn:timeDuration>P1D</bpmn:timeDuration>", 1)
    report = post_json(client, token, f"/studio/drafts/{draft_id}/lint", {"name": DIAGRAM, "text": broken}).json
    assert report["ok"] is False
    [error] = report["findings"]
    assert error["element_id"] == "remind_housing" and '"P1D"' in error["fix"]
    assert post_json(client, token, f"/studio/drafts/{draft_id}/lint", {}).json == {"ok": True, "findings": []}
    post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}", {"text": broken})
    refused = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {})
    assert refused.status_code == 422 and refused.json["error"] == "lint_failed"
    assert "remind_housing" in refused.json["message"]
    assert queries.list_items(db)[0]["latest_version"] == 1


def test_warnings_must_be_acknowledged_before_a_deploy(studio, db, monkeypatch):
    client, token, draft_id = studio
    xml = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
    shorter = xml.replace(TIMER, TIMER.replace("2", "3"))
    post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}", {"text": shorter})
    warning = Finding("warning", "时限变短", "请确认", "review_housing", DIAGRAM)
    monkeypatch.setattr(drafts, "lint_package", lambda package: LintReport([warning]))
    refused = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {})
    assert refused.status_code == 409 and "我已阅读警告" in refused.json["message"]
    assert refused.json["findings"][0]["message"] == "时限变短"
    deployed = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {"acknowledge_warnings": True})
    assert deployed.status_code == 200 and deployed.json["version"] == 2 and deployed.json["created"] is True


def test_a_governed_change_is_refused_with_the_deployments_own_message_and_the_draft_kept(studio, db):
    """Changing the committed time limit needs a supervisor's approval (catalogue.governance, inside the deploy)."""
    client, token, draft_id = studio
    assert "item.json" in client.get(f"/studio/drafts/{draft_id}/item").get_data(as_text=True)
    metadata = json.loads(client.get(f"/studio/drafts/{draft_id}/files/item.json").get_data(as_text=True))
    metadata["guide"]["committed_limit_days"] -= 1
    wrong_code = post_json(client, token, f"/studio/drafts/{draft_id}/files/item.json",
                           {"text": json.dumps({**metadata, "code": "DEMO-999"})})
    assert wrong_code.status_code == 400 and "DEMO-001" in wrong_code.json["message"]
    saved = post_json(client, token, f"/studio/drafts/{draft_id}/files/item.json", {"text": json.dumps(metadata)})
    assert saved.status_code == 200
    refused = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {})
    assert refused.status_code == 409 and refused.json["error"] == "approval_required"
    assert "电子监察" in refused.json["message"]
    wrong_approval = post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {"approval": "20260101000001"})
    assert wrong_approval.status_code == 409 and "20260101000001" in wrong_approval.json["message"]
    assert queries.list_items(db)[0]["latest_version"] == 1
    assert client.get(f"/studio/drafts/{draft_id}").status_code == 200  # the draft is still there to fix


def test_form_preview_renders_what_the_clerk_sees_and_checks_the_schema(studio, db, analyst):
    client, token, draft_id = studio
    schema = '{"type": "object", "required": ["opinion"], "properties": {"opinion": {"type": "string", ' \
             '"title": "审查意见", "enum": ["同意", "不同意"]}, "note": {"type": "string", "title": "说明"}}}'
    preview = post_json(client, token, "/studio/forms/preview",
                        {"schema": schema, "ui_schema": '{"note": {"ui:widget": "textarea"}}'})
    html = preview.json["html"]
    assert 'type="radio" name="opinion" value="同意"' in html and '<textarea id="f-note"' in html
    assert "审查意见" in html and "提交办理" in html
    bad = post_json(client, token, "/studio/forms/preview", {"schema": '{"properties": {"a": {"type": "strin"}}}'})
    assert bad.status_code == 400 and "不是有效的 JSON Schema" in bad.json["message"]
    syntax = post_json(client, token, "/studio/forms/preview", {"schema": '{"type": "object",'})
    assert "不是有效的 JSON" in syntax.json["message"] and "第 1 行" in syntax.json["message"]
    page = client.get(f"/studio/drafts/{draft_id}/forms/review.json").get_data(as_text=True)
    assert "forms/review.json" in page and "opinion" in page  # the draft's copy of the form
    new = client.get(f"/studio/drafts/{draft_id}/forms/site-visit.json?ui=site-visit-ui.json").get_data(as_text=True)
    assert "新表单" in new and "forms/site-visit-ui.json" in new  # a name no file has yet: an empty form to fill
    saved = post_json(client, token, f"/studio/drafts/{draft_id}/files/forms/review.json", {"text": schema})
    assert saved.status_code == 200
    assert drafts.draft_package(drafts.get_draft(db, draft_id, analyst)).files["forms/review.json"] == schema


def test_a_deploy_is_live_in_every_worker_and_running_cases_keep_their_version(studio, db, clerk):
    """Two apps on one database, as two web workers: deploy through one, start a case through the other."""
    client, token, draft_id = studio
    running = casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
    other_worker_db = Database(db.url)
    other_worker = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": db.url}, db=other_worker_db)
    assert other_worker.extensions["onewindow.db"] is not client.application.extensions["onewindow.db"]
    try:
        xml = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
        post_json(client, token, f"/studio/drafts/{draft_id}/files/{DIAGRAM}",
                  {"text": xml.replace('name="受理窗口"', 'name="审查组"')})
        assert post_json(client, token, f"/studio/drafts/{draft_id}/deploy", {}).json["version"] == 2
        fresh = casework.start_case(other_worker_db, "DEMO-001", {"applicant_name": "李四"}, clerk).case_no
        assert queries.case_detail(other_worker_db, fresh)["version"] == 2
        assert [t.candidate_group for t in queries.open_tasks(other_worker_db, case_no=fresh)] == ["审查组"]
        assert queries.case_detail(other_worker_db, running)["version"] == 1
        assert [t.candidate_group for t in queries.open_tasks(other_worker_db, case_no=running)] == ["受理窗口"]
    finally:
        other_worker_db.dispose()


def test_an_analysts_lint_findings_read_in_english_in_an_english_studio(studio):
    """The studio's lint answers JSON to its own page: the findings follow the page's language, and the
    command line (no request) keeps them in Chinese."""
    client, token, draft_id = studio
    client.get("/studio?lang=en")
    xml = client.get(f"/studio/drafts/{draft_id}/files/{DIAGRAM}").get_data(as_text=True)
    broken = xml.replace(TIMER, "<bpmn:timeDuration>P1D</bpmn:timeDuration>", 1)
    report = post_json(client, token, f"/studio/drafts/{draft_id}/lint", {"name": DIAGRAM, "text": broken}).json
    [finding] = report["findings"]
    assert finding["message"] == _english_for("定时器的值 %(value)s 没有加引号，会被当作表达式求值而失败") % {
        "value": "P1D"}
    assert finding["fix"] == _english_for("写成 \"%(value)s\"（带双引号）") % {"value": "P1D"}
    client.get("/studio?lang=zh")
    report = post_json(client, token, f"/studio/drafts/{draft_id}/lint", {"name": DIAGRAM, "text": broken}).json
    assert report["findings"][0]["message"] == "定时器的值 P1D 没有加引号，会被当作表达式求值而失败"
