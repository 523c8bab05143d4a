"""The pages, through Flask's test client with CSRF switched ON (tests read the token from each form).

Covers the issue's web list: login, CSRF, a clerk's group-scoped task list, the schema-rendered
form (invalid input keeps what was typed and shows each field's message; a stale page says what
happened), 403 for a clerk outside the group, an applicant's application, and the case page.
"""

from __future__ import annotations

import re

import pytest
from conftest import ACCEPT_DATA, make_actor
from werkzeug.datastructures import MultiDict

from engine.catalogue import entries as catalogue
from engine.desk import casework
from engine.reads import queries
from webapp.access import ACCESS_ATTR
from webapp.formrender import build_fields, ordered_names, parse_submission

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
REVIEWS = {"review_housing", "review_fire", "review_env"}



def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = "secret-pw"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client, path: str, data: dict, token_from: str):
    """POST like a browser: take the CSRF token from the page the form is on."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def applicant(db):
    return make_actor(db, "zhangsan", [], ["applicant"])


def start(db, actor, data=None) -> str:
    return casework.start_case(db, "DEMO-001", data or {}, actor).case_no


def task_of(db, case_no: str, element_id: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element_id)


# --- login, CSRF, access -------------------------------------------------------------------------

def test_login_page_is_chinese_and_wrong_password_says_so(client, clerk):
    page = client.get("/login")
    assert page.status_code == 200 and "用户登录" in text(page) and 'lang="zh-CN"' in text(page)
    bad = login(client, "clerk", "wrong")
    assert bad.status_code == 401 and "用户名或密码错误" in text(bad)
    assert 'value="clerk"' in text(bad)  # the username typed is kept


def test_login_then_logout(client, clerk, joint):
    response = login(client, "clerk")
    assert response.status_code == 302 and response.headers["Location"].endswith("/desk")
    assert "我的待办" in text(client.get("/desk"))
    token = csrf_token(client, "/desk")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/desk").status_code == 302  # back to the login page


def test_login_refuses_offsite_next(client, clerk):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "username": "clerk", "password": "secret-pw", "csrf_token": token})
    assert response.headers["Location"] == "/desk"


def test_post_without_csrf_token_is_refused(client, clerk, joint):
    refused = client.post("/login", data={"username": "clerk", "password": "secret-pw"})
    assert refused.status_code == 400 and "CSRF" in text(refused) and "Traceback" not in text(refused)
    login(client, "clerk")
    case_no = start(client.application.extensions["onewindow.db"], clerk)
    task_id = task_of(client.application.extensions["onewindow.db"], case_no, "accept")
    refused = client.post(f"/desk/tasks/{task_id}", data=ACCEPT_DATA)
    assert refused.status_code == 400 and "安全令牌" in text(refused)


def test_every_route_declares_who_may_use_it(app):
    """Roles are checked on every route: each view carries a mark set by a webapp.access decorator."""
    unmarked = [rule.rule for rule in app.url_map.iter_rules()
                if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], ACCESS_ATTR)]
    assert unmarked == []


def test_anonymous_user_is_sent_to_login(client, joint):
    response = client.get("/desk")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    guide = client.get("/hall/items/DEMO-001")  # guides are public; applying needs a login
    assert guide.status_code == 200 and "登录后申请" in text(guide)
    assert "script-src 'self'" in guide.headers["Content-Security-Policy"]


def test_language_switch_is_kept_in_the_session(client):
    client.get("/login?lang=en")
    with client.session_transaction() as session:
        assert session["lang"] == "en"


def test_applicant_gets_403_page_on_the_desk(client, applicant):
    login(client, "zhangsan")
    page = client.get("/desk")
    assert page.status_code == 403 and "窗口人员" in text(page) and "Traceback" not in text(page)


def test_unknown_page_is_a_chinese_404(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "页面不存在" in text(page)


def test_unexpected_error_shows_no_traceback(app, client, clerk, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalogue, "entries", boom)
    page = client.get("/hall")
    assert page.status_code == 500 and "系统内部错误" in text(page)
    assert "secret internals" not in text(page) and "Traceback" not in text(page)


# --- hall: an applicant applies -------------------------------------------------------------------

def test_applicant_sees_items_and_starts_a_case(client, db, joint, applicant, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_HALL_DEMO_ITEMS", "true")  # the demo items are listed only when opted in
    login(client, "zhangsan")
    hall = client.get("/hall")
    assert "餐饮服务许可（联合审查演示）" in text(hall)
    item_page = client.get("/hall/items/DEMO-001")
    assert "办事指南" in text(item_page) and "营业执照" in text(item_page)
    response = post_form(client, "/hall/items/DEMO-001/apply",
                         {"applicant_name": "张三", "phone": "13800000000"}, "/hall/items/DEMO-001")
    assert response.status_code == 302 and "/hall/receipts/" in response.headers["Location"]
    receipt = client.get(response.headers["Location"])
    case_no = response.headers["Location"].rsplit("/", 1)[1]
    assert receipt.status_code == 200 and case_no in text(receipt) and "申请已提交" in text(receipt)
    case_page = client.get(f"/cases/{case_no}")
    assert "提交申请" in text(case_page) and "受理" in text(case_page)
    assert queries.case_history(db, case_no)[0]["actor"] == "zhangsan"


def test_application_with_bad_phone_keeps_values(client, joint, applicant):
    login(client, "zhangsan")
    response = post_form(client, "/hall/items/DEMO-001/apply",
                         {"applicant_name": "张三", "phone": "12345", "application_note": "开一家面馆"},
                         "/hall/items/DEMO-001")
    page = text(response)
    assert response.status_code == 422 and "格式不正确" in page
    assert 'value="12345"' in page and "开一家面馆" in page and 'value="张三"' in page


def test_applicant_cannot_open_someone_elses_case(client, db, joint, clerk, applicant):
    case_no = start(db, clerk)
    login(client, "zhangsan")
    page = client.get(f"/cases/{case_no}")
    assert page.status_code == 403 and "自己申请的办件" in page.get_data(as_text=True)


def test_unknown_item_is_a_404_page(client, joint, applicant):
    login(client, "zhangsan")
    page = post_form(client, "/hall/items/NOPE/apply", {"applicant_name": "张三"}, "/hall")
    assert page.status_code == 404 and "事项 NOPE 不存在" in text(page)


# --- desk: tasks and forms ------------------------------------------------------------------------

def test_clerk_sees_only_the_tasks_of_their_groups(client, db, joint, clerk):
    make_actor(db, "housing", ["住建审查"])
    case_no = start(db, clerk)
    login(client, "housing")
    assert case_no not in text(client.get("/desk"))  # 受理 is the window's task, not housing's
    casework.complete_task(db, task_of(db, case_no, "accept"), ACCEPT_DATA, clerk)
    listing = text(client.get("/desk"))
    assert "住建部门审查" in listing and "消防部门审查" not in listing and "环保部门审查" not in listing


def test_task_form_is_rendered_from_the_schema(client, db, joint, clerk):
    case_no = start(db, clerk, {"applicant_name": "李四"})
    login(client, "clerk")
    page = text(client.get(f"/desk/tasks/{task_of(db, case_no, 'accept')}"))
    names = re.findall(r'name="([a-z_]+)"', page)
    form_fields = [n for n in names if n in {"applicant_name", "id_number", "phone", "decision", "remark"}]
    assert list(dict.fromkeys(form_fields)) == ["applicant_name", "id_number", "phone", "decision", "remark"]
    assert 'value="李四"' in page  # pre-filled from what the applicant gave
    assert 'pattern="^[0-9]{17}[0-9Xx]$"' in page and 'maxlength="64"' in page
    assert 'type="radio" name="decision" value="受理"' in page
    assert '<textarea id="f-remark" name="remark"' in page
    assert page.count('class="req"') >= 3  # applicant_name, id_number, decision


def test_invalid_form_keeps_values_and_shows_each_message(client, db, joint, clerk):
    case_no = start(db, clerk)
    task_id = task_of(db, case_no, "accept")
    login(client, "clerk")
    response = post_form(client, f"/desk/tasks/{task_id}", {
        "_case": case_no, "applicant_name": "王五", "id_number": "123", "phone": "",
        "decision": "受理", "remark": "材料齐全"}, f"/desk/tasks/{task_id}")
    page = text(response)
    assert response.status_code == 422
    assert 'value="王五"' in page and 'value="123"' in page and "材料齐全" in page
    assert re.search(r'data-field="id_number".*?格式不正确', page, re.S)
    assert 'value="受理" checked' in page
    assert task_of(db, case_no, "accept") == task_id  # nothing was written


def test_valid_form_completes_the_task(client, db, joint, clerk):
    case_no = start(db, clerk)
    task_id = task_of(db, case_no, "accept")
    login(client, "clerk")
    response = post_form(client, f"/desk/tasks/{task_id}", {"_case": case_no, **ACCEPT_DATA},
                         f"/desk/tasks/{task_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/desk")
    assert {t.element_id for t in queries.open_tasks(db, case_no=case_no)} == REVIEWS
    assert "已办理完毕" in text(client.get("/desk"))


def test_stale_submission_gets_a_clear_message_and_keeps_what_was_typed(client, db, joint, clerk):
    case_no = start(db, clerk)
    task_id = task_of(db, case_no, "accept")
    login(client, "clerk")
    token = csrf_token(client, f"/desk/tasks/{task_id}")
    form = {"_case": case_no, **ACCEPT_DATA, "remark": "第二次点击", "csrf_token": token}
    assert client.post(f"/desk/tasks/{task_id}", data=form).status_code == 302
    again = client.post(f"/desk/tasks/{task_id}", data=form)  # the double click / the stale tab
    page = text(again)
    assert again.status_code == 409 and "已由您于" in page and "办理完毕" in page
    assert "第二次点击" in page and ACCEPT_DATA["id_number"] in page
    assert len([e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"]) == 1


def test_clerk_outside_the_group_gets_403(client, db, joint, clerk):
    make_actor(db, "fire", ["消防审查"])
    case_no = start(db, clerk)
    task_id = task_of(db, case_no, "accept")
    login(client, "fire")
    page = client.get(f"/desk/tasks/{task_id}")
    assert page.status_code == 403 and "受理窗口" in text(page)
    refused = post_form(client, f"/desk/tasks/{task_id}", ACCEPT_DATA, "/desk")
    assert refused.status_code == 403
    assert task_of(db, case_no, "accept") == task_id


def test_claim_and_release(client, db, joint, clerk):
    make_actor(db, "window2", ["受理窗口"])
    case_no = start(db, clerk)
    task_id = task_of(db, case_no, "accept")
    login(client, "clerk")
    response = post_form(client, f"/desk/tasks/{task_id}/claim", {}, "/desk")
    assert response.status_code == 302
    assert queries.open_tasks(db, case_no=case_no)[0].assignee == "clerk"
    assert "我已签收" in text(client.get("/desk"))

    other = client.application.test_client()
    login(other, "window2")
    assert "已由 clerk 签收" in text(other.get("/desk"))
    taken = post_form(other, f"/desk/tasks/{task_id}", {"_case": case_no, **ACCEPT_DATA}, "/desk")
    assert taken.status_code == 409 and "已由 clerk 签收" in text(taken)
    assert ACCEPT_DATA["id_number"] in text(taken)
    claim = post_form(other, f"/desk/tasks/{task_id}/claim", {}, "/desk")
    assert claim.status_code == 302 and "已由 clerk 签收" in text(other.get("/desk"))

    post_form(client, f"/desk/tasks/{task_id}/release", {}, "/desk")
    assert queries.open_tasks(db, case_no=case_no)[0].assignee is None


def test_case_page_shows_status_open_tasks_and_history(client, db, joint, clerk):
    case_no = start(db, clerk)
    casework.complete_task(db, task_of(db, case_no, "accept"), ACCEPT_DATA, clerk)
    login(client, "clerk")
    page = text(client.get(f"/cases/{case_no}"))
    assert "办理中" in page and "住建部门审查" in page and "消防部门审查" in page
    for element in REVIEWS:
        casework.complete_task(db, task_of(db, case_no, element), {"opinion": "同意"}, clerk)
    casework.complete_task(db, task_of(db, case_no, "issue"), {"certificate_no": "JY-2025-001"}, clerk)
    page = text(client.get(f"/cases/{case_no}"))
    assert "已办结" in page and "办结时间" in page and "JY-2025-001" in page
    assert "提交申请" in page and "办理" in page and "clerk" in page and "11010119900101123X" in page


def test_case_diagram_is_the_pinned_version_and_served_from_here(client, db, joint, clerk, applicant):
    case_no = start(db, clerk)
    login(client, "clerk")
    page = text(client.get(f"/cases/{case_no}"))
    assert "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page and 'data-open="accept"' in page
    assert "cdn" not in page.lower()
    diagram = client.get(f"/cases/{case_no}/diagram.bpmn")
    assert diagram.mimetype == "application/xml" and 'id="demo_joint_review"' in text(diagram)
    assert client.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200
    assert client.get("/vendor/bpmn-js/../../package.json").status_code == 404
    other = client.application.test_client()
    login(other, "zhangsan")
    assert other.get(f"/cases/{case_no}/diagram.bpmn").status_code == 403


def test_case_lookup_redirects_to_the_case(client, db, joint, clerk):
    case_no = start(db, clerk)
    login(client, "clerk")
    response = client.get(f"/cases?no={case_no}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case_no}")
    assert client.get("/cases/19990101000001").status_code == 404


# --- the form renderer on its own ------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["count", "agree"],
    "properties": {
        "count": {"type": "integer", "title": "数量", "minimum": 1, "maximum": 9},
        "ratio": {"type": "number", "title": "比例"},
        "agree": {"type": "boolean", "title": "同意"},
        "when": {"type": "string", "format": "date", "title": "日期"},
        "kinds": {"type": "array", "items": {"enum": ["甲", "乙"]}, "title": "类别"},
        "level": {"type": "integer", "enum": [1, 2, 3, 4], "title": "等级"},
        "code": {"type": "string", "pattern": "[A-Z]+"},
    },
}


def test_ui_order_with_wildcard():
    assert ordered_names(SCHEMA, {"ui:order": ["agree", "*", "count"]}) == [
        "agree", "ratio", "when", "kinds", "level", "code", "count"]


def test_fields_carry_widgets_and_html5_attributes():
    fields = {f.name: f for f in build_fields(SCHEMA, {"level": {"ui:widget": "select"}})}
    assert fields["count"].widget == "number" and fields["count"].attrs["min"] == 1
    assert fields["count"].attrs["required"] is True
    assert fields["agree"].widget == "checkbox" and "required" not in fields["agree"].attrs
    assert fields["when"].input_type == "date"
    assert fields["kinds"].widget == "checkboxes" and fields["kinds"].options == [("甲", "甲"), ("乙", "乙")]
    assert fields["level"].widget == "select" and fields["level"].options[0] == ("1", "1")
    assert fields["code"].attrs["pattern"] == ".*[A-Z]+.*"  # JSON Schema patterns are unanchored


def test_submission_is_converted_to_the_schema_types():
    form = MultiDict([("count", "3"), ("ratio", "2.5"), ("agree", "true"), ("when", "2025-03-01"),
                      ("kinds", "甲"), ("kinds", "乙"), ("level", "2"), ("code", "")])
    data, problems = parse_submission(SCHEMA, form)
    assert problems == {}
    assert data == {"count": 3, "ratio": 2.5, "agree": True, "when": "2025-03-01", "kinds": ["甲", "乙"], "level": 2}
    data, problems = parse_submission(SCHEMA, MultiDict([("count", "three")]))
    assert problems == {"count": ["请输入整数，例如 12"]} and data["agree"] is False


def test_without_a_configured_key_each_installation_makes_its_own_secret(tmp_path):
    from webapp import instance_secret_key

    first = instance_secret_key(tmp_path / "secret_key")
    assert len(first) >= 40 and first == instance_secret_key(tmp_path / "secret_key")
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first != instance_secret_key(tmp_path / "other" / "secret_key")
