"""Applying in the hall (issue 16, items 2 and 4): files survive a mistake on the form, registration returns
to the item (a local `next` only), the registered phone is filled in, a village agent's 委托 is required, a
demo installation names its SMS outbox, and each role lands on its own page after logging in.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import csrf, deploy, log_in, make_actor

from engine.desk import attachments
from engine.hall import phone
from engine.org import orgtree
from engine.reads import queries
from engine.store import installation
from engine.store.files import digest
from webapp.auth import safe_next

ROOT = Path(__file__).resolve().parent.parent
ITEM = "/hall/items/AJ-003"  # its guide asks for four materials
PDF = b"%PDF-1.7\n%plan\n"


@pytest.fixture
def hall(db):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    return make_actor(db, "13700001111", [], ["applicant"])


def apply(client, form: dict, files: dict | None = None):
    data = {"csrf_token": csrf(client, ITEM), "applicant_name": "钱七", **form}
    data.update({name: (io.BytesIO(content), filename) for name, (filename, content) in (files or {}).items()})
    return client.post(f"{ITEM}/apply", data=data, content_type="multipart/form-data")


def cases_of(db) -> list[str]:
    return sorted({t.case_no for t in queries.open_tasks(db, limit=100)})


def test_files_survive_a_mistake_and_need_not_be_picked_again(client, db, hall):
    log_in(client, "13700001111")
    wrong = apply(client, {"phone": "12345"},
                  {"material-0": ("申报表.pdf", PDF), "material-2": ("预案.pdf", PDF + b"2")})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and cases_of(db) == []
    assert 'id="kept-0"' in html and "申报表.pdf" in html and 'id="kept-2"' in html and "预案.pdf" in html
    assert "无需重新选择" in html and 'name="material-0-remove"' in html
    done = apply(client, {"phone": "13700001111"})  # no file picked again
    assert done.status_code == 302
    case_no = done.headers["Location"].rsplit("/", 1)[1]
    kept = {a["filename"]: a["sha256"] for a in attachments.list_attachments(db, case_no)}
    assert kept == {"申报表.pdf": digest(PDF), "预案.pdf": digest(PDF + b"2")}
    assert "kept-0" not in client.get(ITEM).get_data(as_text=True)  # forgotten once used


def test_a_kept_file_is_replaced_or_removed(client, db, hall):
    log_in(client, "13700001111")
    apply(client, {"phone": "1"}, {"material-0": ("旧.pdf", PDF), "material-1": ("意见.pdf", PDF + b"1")})
    done = apply(client, {"phone": "13700001111", "material-1-remove": "1"}, {"material-0": ("新.pdf", PDF + b"new")})
    case_no = done.headers["Location"].rsplit("/", 1)[1]
    assert [a["filename"] for a in attachments.list_attachments(db, case_no)] == ["新.pdf"]


def test_a_refused_file_is_named_and_the_good_ones_kept(client, db, hall):
    log_in(client, "13700001111")
    response = apply(client, {"phone": "13700001111"},
                     {"material-0": ("申报表.pdf", PDF), "material-1": ("病毒.pdf", b"MZ\x90\x00 program")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and cases_of(db) == []
    assert 'id="material-1-note"' in html and 'id="kept-0"' in html and 'id="kept-1"' not in html


def test_another_persons_kept_files_are_not_theirs(client, app, db, hall):
    """Files are kept in the session of who sent them: another browser sees none of them."""
    log_in(client, "13700001111")
    apply(client, {"phone": "1"}, {"material-0": ("申报表.pdf", PDF)})
    make_actor(db, "13700002222", [], ["applicant"])
    other = app.test_client()
    log_in(other, "13700002222")
    done = apply(other, {"phone": "13700002222"})
    case_no = done.headers["Location"].rsplit("/", 1)[1]
    assert attachments.list_attachments(db, case_no) == []


def test_the_registered_phone_is_filled_in(client, db, hall):
    log_in(client, "13700001111")
    html = client.get(ITEM).get_data(as_text=True)
    assert re.search(r'name="phone" value="13700001111"', html)
    make_actor(db, "zhangsan", [], ["applicant"])  # an account whose login is no phone number
    log_in(client, "zhangsan")
    assert re.search(r'name="phone" value=""', client.get(ITEM).get_data(as_text=True))
    assert phone.number_of("13700001111") == "13700001111"
    assert phone.number_of("1370000111") is None and phone.number_of("admin") is None


def test_a_village_agent_must_give_the_mandate(client, db):
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-001")  # accepted at village rooms
    from engine.org import accounts

    accounts.create_user(db, "zitan", "secret-pw", "子坛村代办员", ["clerk"], ["梁子镇/子坛村·窗口"], "梁子镇/子坛村")
    log_in(client, "zitan")
    html = client.get("/hall/items/MZ-001").get_data(as_text=True)
    for field in ("mandate_principal", "mandate_principal_id_number", "mandate_signed_on"):
        assert re.search(rf'<label for="f-{field}">[^<]+<span class="req"', html), field
    assert "mandate" not in re.sub(r'(name|id|for|data-field|aria-describedby)="[^"]*"', "", html)
    response = client.post("/hall/items/MZ-001/apply", data={
        "csrf_token": csrf(client, "/hall/items/MZ-001"), "applicant_name": "李四", "unit": "梁子镇/子坛村"})
    assert response.status_code == 422 and cases_of(db) == []
    assert "委托人姓名" in response.get_data(as_text=True)


def test_a_district_clerk_is_not_asked_for_a_mandate(client, db, hall):
    make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    log_in(client, "aj")
    assert "mandate_principal" not in client.get(ITEM).get_data(as_text=True)


@pytest.mark.parametrize("target, lands", [
    (ITEM, ITEM), ("https://evil.example/x", "/hall"), ("//evil.example", "/hall"), ("/\\evil.example", "/hall"),
    ("javascript:alert(1)", "/hall"), ("/hall\r\nSet-Cookie: x=1", "/hall"), ("", "/hall")])
def test_registration_returns_to_the_item_and_nowhere_else(client, db, hall, target, lands):
    start = client.get("/register", query_string={"next": target}).get_data(as_text=True)
    assert (f'name="next" value="{ITEM}"' in start) == (target == ITEM)
    client.post("/register/code", data={"csrf_token": csrf(client, "/register"), "phone": "13900001234",
                                        "next": target})
    code = re.search(r"验证码是 (\d{6})", phone.outbox(db)[0]["message"]).group(1)
    done = client.post("/register", data={"csrf_token": csrf(client, "/register"), "phone": "13900001234",
                                          "code": code, "name": "钱七", "password": "applicant-pw",
                                          "password2": "applicant-pw", "next": target})
    assert done.status_code == 302 and done.headers["Location"] == lands


def test_the_item_page_sends_registration_back_to_it(client, db, hall):
    html = client.get(ITEM).get_data(as_text=True)
    assert 'href="/register?next=/hall/items/AJ-003"' in html.replace("%2F", "/")


def test_safe_next_keeps_local_paths_only():
    assert safe_next("/hall/items/AJ-003?x=1") == "/hall/items/AJ-003?x=1"
    for hostile in ("https://evil.example", "//evil.example", "/\\evil.example", "\\\\evil", "evil", "/x\nY",
                    "http:/evil", None, ""):
        assert safe_next(hostile) is None, hostile


def test_a_demo_installation_names_its_sms_outbox(client, db, hall):
    assert "onewindow sms" not in client.get("/register").get_data(as_text=True)
    installation.put(db, installation.DEMO, True)
    assert installation.is_demo(db)
    html = client.get("/register").get_data(as_text=True)
    assert 'id="demo-sms"' in html and "onewindow sms" in html and "短信发件箱" in html
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "onewindow sms" in readme and "sms_outbox" in readme


def test_demo_seeding_marks_the_installation(db, tmp_path):
    """`onewindow init --demo` seeds through `demo.seed`, which marks the installation (an empty processes folder
    keeps the seed short)."""
    from engine.catalogue import demo

    orgtree.install(db)
    assert not installation.is_demo(db)
    demo.seed(db, tmp_path)
    assert installation.is_demo(db) and installation.get(db, installation.DEMO) is True


@pytest.mark.parametrize("login, home", [("clerk", "/desk"), ("watcher", "/watch"), ("auditor", "/audit"),
                                         ("13700001111", "/hall"), ("root", "/desk")])
def test_each_role_lands_on_its_own_page(client, db, hall, login, home):
    roles = {"clerk": ["clerk"], "watcher": ["supervisor"], "auditor": ["auditor"], "root": ["admin"]}
    if login in roles:
        make_actor(db, login, [], roles[login])
    response = log_in(client, login)
    assert response.status_code == 302 and response.headers["Location"] == home


def test_a_valid_next_wins_over_the_home_and_a_foreign_one_does_not(client, db, hall):
    make_actor(db, "watcher", [], ["supervisor"])
    token = csrf(client)
    back = client.post("/login?next=/hall/items/AJ-003", data={"username": "watcher", "password": "secret-pw",
                                                               "csrf_token": token})
    assert back.headers["Location"] == ITEM
    log_in(client, "13700001111")
    client.post("/logout", data={"csrf_token": csrf(client, "/hall")})
    away = client.post("/login?next=//evil.example", data={"username": "watcher", "password": "secret-pw",
                                                           "csrf_token": csrf(client)})
    assert away.headers["Location"] == "/watch"


def test_the_common_questions_are_asked_in_english_on_an_english_page(client, db, hall):
    """The questions every item asks (engine/runtime/applications.py, said) follow the page's language; the
    item's own questions are its data, as written."""
    from markupsafe import escape
    from test_engine_messages import _english_for

    log_in(client, "13700001111")
    english = client.get(f"{ITEM}?lang=en").get_data(as_text=True)
    assert str(escape(_english_for("申请人姓名"))) in english and str(escape(_english_for("联系电话"))) in english
    assert "申请人姓名" not in english and "11 位手机号码" not in english
    chinese = client.get(f"{ITEM}?lang=zh").get_data(as_text=True)
    assert "申请人姓名" in chinese and "11 位手机号码，用于接收办理进度通知" in chinese
