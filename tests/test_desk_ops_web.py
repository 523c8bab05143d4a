"""The desk's task page and operations over HTTP (no browser): plain POST forms, CSRF on, Chinese messages.

Covers what must work without JavaScript: the decision as actions with its conditional fields, the
one-per-line supplement list, transfer / delegate / return / copy / urge / withdraw as forms, the
materials checklist, attachments (upload checked by content, download only for those the case
concerns, hash verified), comments, and 403 for a clerk without rights.
"""

from __future__ import annotations

import re

import pytest
from conftest import csrf, desk_ops_case, log_in, make_actor, tamper

from engine.desk import attachments
from engine.reads import queries

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.usefixtures("every_case_replays")


@pytest.fixture
def case_no(db):
    for name, groups in (("wang", ["受理窗口"]), ("li", ["受理窗口"]), ("zhao", ["审查组"])):
        make_actor(db, name, groups)
    return desk_ops_case(db)


def task_id(db, case_no: str, element: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def test_decision_renders_as_actions_with_the_fields_each_needs(client, db, case_no):
    log_in(client, "wang")
    page = client.get(f"/desk/tasks/{task_id(db, case_no, 'accept')}").get_data(as_text=True)
    assert 'class="action action-go"' in page and 'class="action action-pause"' in page
    assert 'class="action action-stop"' in page  # 不予受理: a refusal, needing reason and legal basis
    assert "需填写：理由、法律依据" in page
    assert 'data-when="不予受理"' in page and "选择“不予受理”时必填" in page  # said without JavaScript
    # the supplement list offers the guide's materials as tick boxes, one more per line beside them
    assert 'name="missing_materials" value="身份证"' in page and 'name="missing_materials__more"' in page


def test_supplement_list_and_refusal_messages_without_javascript(client, db, case_no):
    log_in(client, "wang")
    path = f"/desk/tasks/{task_id(db, case_no, 'accept')}"
    token = csrf(client, path)
    refused = client.post(path, data={"csrf_token": token, "_case": case_no, "applicant_name": "张三",
                                      "decision": "不予受理", "reason": "不符"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'data-field="legal_basis".*?field-error', page, re.S)
    assert 'value="不符"' not in page and ">不符</textarea>" in page  # what was typed is kept
    done = client.post(path, data={"csrf_token": token, "_case": case_no, "applicant_name": "张三", "decision": "补正",
                                   "missing_materials": ["身份证"], "missing_materials__more": "村委会证明\n"})
    assert done.status_code == 302
    completed = [e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"][-1]
    assert completed["data"]["data"]["missing_materials"] == ["身份证", "村委会证明"]
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["supplement"]
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "zhangsan")  # the applicant reads the one complete list on the case page
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    listed = page[page.index('id="supplement"'):page.index('id="materials"')]
    assert "<li>身份证</li><li>村委会证明</li>" in listed and "暂停计时" in listed
    assert 'id="comments"' not in page  # the handlers' notes are internal


def test_transfer_form_and_403_for_an_outsider(client, db, case_no):
    accept = task_id(db, case_no, "accept")
    log_in(client, "zhao")
    assert client.get(f"/desk/tasks/{accept}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/desk")})
    log_in(client, "wang")
    token = csrf(client, f"/desk/tasks/{accept}")
    wrong = client.post(f"/desk/tasks/{accept}/transfer", data={"csrf_token": token, "to": "zhao", "reason": "外出"})
    assert wrong.status_code == 422
    page = wrong.get_data(as_text=True)
    assert "不在“受理窗口”组" in page and "外出</textarea>" in page and 'id="op-transfer" open' in page
    moved = client.post(f"/desk/tasks/{accept}/transfer", data={"csrf_token": token, "to": "li", "reason": "外出"})
    assert moved.status_code == 302
    assert queries.open_tasks(db, case_no=case_no)[0].assignee == "li"


def test_return_needs_a_reason_and_withdraw_shows_on_the_list(client, db, case_no):
    log_in(client, "wang")
    accept = task_id(db, case_no, "accept")
    token = csrf(client, f"/desk/tasks/{accept}")
    client.post(f"/desk/tasks/{accept}", data={"csrf_token": token, "_case": case_no, "applicant_name": "张三",
                                               "decision": "受理"})
    desk = client.get("/desk").get_data(as_text=True)
    assert 'id="withdraw-form"' in desk and "可以撤回" in desk
    withdrawn = client.post(f"/desk/cases/{case_no}/withdraw", data={"csrf_token": token, "task_id": accept,
                                                                    "next": "/desk"})
    assert withdrawn.status_code == 302
    assert task_id(db, case_no, "accept") == accept


def test_attachment_upload_checks_content_and_download_checks_who(client, db, case_no, tmp_path):
    log_in(client, "wang")
    page = f"/cases/{case_no}"
    token = csrf(client, page)
    fake = client.post(f"/desk/cases/{case_no}/attachments", data={
        "csrf_token": token, "file": (__import__("io").BytesIO(b"MZ not a pdf"), "申请书.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "扩展名与内容不符" in fake.get_data(as_text=True)
    ok = client.post(f"/desk/cases/{case_no}/attachments", data={
        "csrf_token": token, "material": "申请书", "file": (__import__("io").BytesIO(PDF), "申请书.pdf")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "已上传" in ok.get_data(as_text=True)
    row = attachments.list_attachments(db, case_no)[0]
    download = client.get(f"/desk/cases/{case_no}/attachments/{row['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "zhao")  # a clerk of a group the case never reached
    assert client.get(f"/desk/cases/{case_no}/attachments/{row['id']}").status_code == 403
    tamper(db, row["sha256"], PDF + b"tampered")  # wherever the store keeps it (a folder, the database)
    client.post("/logout", data={"csrf_token": csrf(client, "/desk")})
    log_in(client, "wang")
    damaged = client.get(f"/desk/cases/{case_no}/attachments/{row['id']}")
    assert damaged.status_code == 500 and "哈希不符" in damaged.get_data(as_text=True)


def test_copy_shows_in_the_recipients_tab_with_a_read_mark(client, db, case_no):
    log_in(client, "wang")
    token = csrf(client, f"/cases/{case_no}")
    client.post(f"/desk/cases/{case_no}/copy", data={"csrf_token": token, "to": ["zhao"], "note": "请知悉"})
    client.post(f"/desk/cases/{case_no}/comments", data={"csrf_token": token, "body": "申请人电话 138"})
    client.post(f"/desk/cases/{case_no}/materials", data={"csrf_token": token, "m:申请书": "received",
                                                          "m:身份证": "missing"})
    case_page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "申请人电话 138" in case_page and 'class="material-missing" data-material="身份证"' in case_page
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "zhao")
    desk = client.get("/desk").get_data(as_text=True)
    assert re.search(r'id="tab-copies">抄送我的<span class="badge">1</span>', desk)
    copies = client.get("/desk/copies").get_data(as_text=True)
    assert "wang 抄送给您：请知悉" in copies and 'class="unread"' in copies
    notice = re.search(r'/desk/notices/(\d+)/read', copies).group(1)
    client.post(f"/desk/notices/{notice}/read", data={"csrf_token": csrf(client, "/desk/copies"),
                                                     "next": "/desk/copies"})
    assert "已读" in client.get("/desk/copies").get_data(as_text=True)


def test_operations_over_the_json_api(client, db, case_no):
    from engine.org import accounts

    auth = {"Authorization": f"Bearer {accounts.issue_token(db, 'wang')}"}
    accept = task_id(db, case_no, "accept")
    moved = client.post(f"/api/v1/tasks/{accept}/transfer", json={"to": "li", "reason": "外出"}, headers=auth)
    assert moved.status_code == 200 and moved.get_json()["case_no"] == case_no
    refused = client.post(f"/api/v1/tasks/{accept}/transfer", json={"to": "wang"}, headers=auth)
    assert refused.status_code == 409 and refused.get_json()["error"] == "stale_task"  # li holds it now
    copied = client.post(f"/api/v1/cases/{case_no}/copy", json={"to": "zhao"}, headers=auth)
    assert copied.status_code == 400 and "用户名列表" in copied.get_json()["message"]
    urged = client.post(f"/api/v1/cases/{case_no}/urge", json={}, headers=auth)
    assert urged.status_code == 403 and "办理过本办件" in urged.get_json()["message"]


def test_decision_is_read_off_any_schema_following_the_convention():
    from webapp import deskforms
    from webapp.formrender import build_fields

    schema = {"type": "object", "required": ["decision"], "properties": {
        "decision": {"type": "string", "title": "审批结论",
                     "oneOf": [{"const": "同意", "title": "同意"}, {"const": "有条件同意", "title": "有条件同意"},
                               {"const": "不予批准", "title": "不予批准"}, {"const": "不同意", "title": "不同意"}]},
        "conditions": {"type": "string", "title": "附加条件"},
        "reason": {"type": "string", "title": "理由"}, "legal_basis": {"type": "string", "title": "法律依据"}},
        "allOf": [{"if": {"properties": {"decision": {"enum": ["不予批准", "不同意"]}}},
                   "then": {"required": ["reason", "legal_basis"]}},
                  {"if": {"properties": {"decision": {"const": "有条件同意"}}}, "then": {"required": ["conditions"]}}]}
    fields = build_fields(schema, {})
    decision = deskforms.decision(schema, fields)
    assert [(c.label, c.tone) for c in decision.choices] == [
        ("同意", "go"), ("有条件同意", "more"), ("不予批准", "stop"), ("不同意", "stop")]
    assert decision.when("reason") == "不予批准|不同意" and decision.labels("conditions") == "“有条件同意”"
    assert deskforms.decision({"type": "object", "properties": {"x": {"type": "string"}}}, []) is None


def test_delegate_hand_back_and_confirm_without_a_browser(client, db, case_no):
    """委派 over plain forms (S-4: the work behind the one window moves between people, the window answers
    for it): the delegator sees whom the task waits for and may recall it; the delegate finds it under 委派给我的,
    is told a submission goes back, and hands it back; the delegator finds the proposal filled in, and may send
    it back or confirm it."""
    accept = task_id(db, case_no, "accept")
    path = f"/desk/tasks/{accept}"
    log_in(client, "wang")
    token = csrf(client, path)
    client.post(f"{path}/delegate", data={"csrf_token": token, "to": "zhao", "reason": "请协助核对身份"})
    page = client.get(path).get_data(as_text=True)
    note = page[page.index('id="delegation-note"'):page.index("</div>", page.index('id="delegation-note"'))]
    assert "此任务已委派给 zhao，等待其办理后交回。" in note and f'action="{path}/recall"' in note
    assert 'class="primary" disabled>提交办理<' in page  # the delegator waits: nothing to submit meanwhile

    log_in(client, "zhao")
    listed = client.get("/desk/delegated").get_data(as_text=True)
    row = re.search(rf'<tr data-task="{accept}">(.*?)</tr>', listed, re.S).group(1)
    assert f'href="/cases/{case_no}"' in row and f'href="{path}"' in row
    assert ">wang<" in row and "请协助核对身份" in row and "待您办理" in row
    page = client.get(path).get_data(as_text=True)
    assert "wang 将此任务委派给您" in page and "交回 wang 确认" in page
    assert ">提交，交回委派人确认<" in page
    handed = client.post(path, data={"csrf_token": csrf(client, path), "_case": case_no,
                                     "applicant_name": "张三", "decision": "受理"})
    assert handed.status_code == 302 and handed.headers["Location"].endswith("/desk/delegated")
    listed = client.get("/desk/delegated").get_data(as_text=True)
    assert f"办件 {case_no} 的“受理”已交回 wang 确认。" in listed and "已交回，待确认" in listed
    assert task_id(db, case_no, "accept") == accept  # a delegate's submission completes nothing

    log_in(client, "wang")
    page = client.get(path).get_data(as_text=True)
    assert "zhao 已按委派办理完毕" in page and f'action="{path}/send-back"' in page
    assert 'name="decision" value="受理" checked required' in page  # the proposal, filled in for the delegator
    assert ">确认并提交<" in page
    done = client.post(path, data={"csrf_token": csrf(client, path), "_case": case_no, "applicant_name": "张三",
                                   "decision": "受理"})
    assert done.status_code == 302
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["review"]


def test_a_comment_at_a_step_and_an_urge_read_on_the_case_page(client, db, case_no):
    """The case page names the step a comment was made at, and says whom an urge reached — the group holding
    the step, by its name (S-14: every step of every case recorded, in words people read)."""
    accept = task_id(db, case_no, "accept")
    log_in(client, "wang")
    token = csrf(client, f"/desk/tasks/{accept}")
    client.post(f"/desk/cases/{case_no}/comments", data={"csrf_token": token, "body": "原件已核对",
                                                          "element_id": "accept"})
    client.post(f"/desk/tasks/{accept}", data={"csrf_token": token, "_case": case_no, "applicant_name": "张三",
                                               "decision": "受理"})
    client.post(f"/desk/cases/{case_no}/urge", data={"csrf_token": token, "note": "申请人来电催问"})
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    comment = re.search(r'<div class="comment-head">(.*?)</div>', page, re.S).group(1)
    assert "<strong>wang</strong>" in comment and comment.rstrip().endswith("· 受理</span>")
    urged = re.search(r'<tr class="event-case_urged">(.*?)</tr>', page, re.S).group(1)
    assert "<dt>催办环节</dt><dd>审查组</dd>" in urged and "申请人来电催问" in urged
    assert "group:" not in urged and "recipient" not in urged  # whom it reached, not the record's keys
