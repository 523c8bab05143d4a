"""The hall's public side (issue: hall and watch, items 1 and 3; S-10, S-13): the catalogue by department,
level and life event with search, each guide with its procedure drawn from the diagram and a printable
page, and following a case by number and follow-up code — with no enumeration and a rate limit — and
answering a supplement online."""

from __future__ import annotations

import io
import json
import re
import shutil

import pytest
from conftest import deploy, make_actor
from test_web import csrf_token, post_form, text

from engine import settings
from engine.catalogue.deployment import deploy_package
from engine.desk import attachments, casework
from engine.desk.casework import complete_task
from engine.diagrams.package import load_package
from engine.errors import LintFailed
from engine.hall import follow, phone
from engine.org import accounts, orgtree
from engine.reads import queries

ITEMS = ("catalogue/minzheng/MZ-008", "catalogue/minzheng/MZ-001", "catalogue/anjian/AJ-003",
         "catalogue/jinggai/JG-002")


@pytest.fixture
def catalogue(db):
    orgtree.install(db)
    for folder in ITEMS:
        deploy(db, folder)


def test_the_catalogue_filters_by_department_level_life_event_and_words(client, catalogue):
    page = text(client.get("/hall"))
    assert "共 4 个事项" in page and "区民政局" in page and "区安全生产监督管理局" in page
    only_mz = text(client.get("/hall?department=区民政局"))
    assert "共 2 个事项" in only_mz and "AJ-003" not in only_mz
    village = text(client.get("/hall?level=village"))  # what a village room can take in: MZ-001 (低保)
    assert "MZ-001" in village and "JG-002" not in village
    assert "MZ-001" in text(client.get("/hall?life_event=社会救助")) and \
        "AJ-003" not in text(client.get("/hall?life_event=社会救助"))
    found = text(client.get("/hall?q=最低生活保障"))
    assert "共 1 个事项" in found and "MZ-001" in found
    assert "没有符合条件的事项" in text(client.get("/hall?q=不存在的事项名称"))


def test_a_guide_shows_the_six_publics_and_the_procedure_of_its_diagram(client, catalogue):
    page = text(client.get("/hall/items/JG-002"))
    for heading in ("服务内容", "办理流程", "申请条件", "申请材料", "承诺时限", "收费标准", "办理地点", "办理时间"):
        assert heading in page, heading
    steps = re.findall(r"<li>([^<]+) <span class=\"muted\">— ([^<]+)</span></li>", page)
    names = [name for name, _ in steps]
    assert names.index("受理审查") < names.index("部门并联审查") < names.index("批准")
    assert ("部门并联审查", "各会审部门（并联）") in steps
    printable = client.get("/hall/items/JG-002/print")
    assert printable.status_code == 200 and "便民服务手册" in text(printable) and "部门并联审查" in text(printable)
    assert client.get("/hall/items/NOPE-1").status_code == 404


def _apply(db, code: str = "AJ-003"):
    applicant = make_actor(db, "wangwu", [], ["applicant"])
    return casework.start_case(db, code, {"applicant_name": "王五"}, applicant)


def test_a_case_is_followed_with_its_code_and_wrong_pairs_look_the_same(client, db, catalogue):
    started = _apply(db)
    assert re.fullmatch(r"\d{6}", started.query_code)
    wrong_code = post_form(client, "/hall/follow", {"case_no": started.case_no, "code": "000000"}, "/hall/follow")
    no_case = post_form(client, "/hall/follow", {"case_no": "20990101000001", "code": "123456"}, "/hall/follow")
    assert wrong_code.status_code == no_case.status_code == 404
    assert "办件编号或查询码不正确" in text(wrong_code) and "办件编号或查询码不正确" in text(no_case)
    assert client.get(f"/hall/follow/{started.case_no}").status_code == 403  # not without the code
    ok = post_form(client, "/hall/follow", {"case_no": started.case_no, "code": started.query_code}, "/hall/follow")
    assert ok.status_code == 302
    page = text(client.get(ok.headers["Location"]))
    assert "受理审查" in page and "区安全生产监督管理局 窗口" in page and "已提交" in page


def test_guessing_is_stopped_after_a_few_failures(client, db, catalogue):
    started = _apply(db)
    for _ in range(follow.MAX_FAILURES_PER_CASE):
        post_form(client, "/hall/follow", {"case_no": started.case_no, "code": "999999"}, "/hall/follow")
    blocked = post_form(client, "/hall/follow", {"case_no": started.case_no, "code": started.query_code},
                        "/hall/follow")
    assert blocked.status_code == 429 and "15 分钟" in text(blocked)  # even the right code waits now


def test_the_applicant_answers_a_supplement_online(client, db, catalogue):
    started = _apply(db)
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    task = queries.open_tasks(db, actor=window)[0]
    complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]}, window)
    response = post_form(client, "/hall/follow", {"case_no": started.case_no, "code": started.query_code},
                         "/hall/follow")
    page = text(client.get(response.headers["Location"]))
    assert "待补正" in page and "应急预案文本（盖章）" in page and "提交补正材料" in page
    token = csrf_token(client, f"/hall/follow/{started.case_no}")
    assert 'name="supplement_received"' not in page  # the applicant's own form, not the window's 窗口收到
    invalid = client.post(f"/hall/follow/{started.case_no}/answer", data={"csrf_token": token})
    assert invalid.status_code == 422 and "请上传补正材料" in text(invalid)
    answered = client.post(f"/hall/follow/{started.case_no}/answer", data={
        "csrf_token": token, "note": "原件送窗口核验",
        "supplement-0": (io.BytesIO(b"%PDF-1.7\n%stamped\n"), "预案（盖章）.pdf")}, content_type="multipart/form-data")
    assert answered.status_code == 302
    assert [(a["filename"], a["uploaded_by"]) for a in attachments.list_attachments(db, started.case_no)] == [
        ("预案（盖章）.pdf", f"applicant:{started.case_no}")]
    assert [t.element_id for t in queries.open_tasks(db, case_no=started.case_no)] == ["accept_review"]
    done = [e for e in queries.case_history(db, started.case_no) if e["type"] == "task_completed"][-1]
    assert done["actor"] == f"applicant:{started.case_no}" and done["element_id"] == "supplement_wait"
    assert done["data"]["data"]["supplement_received"] == "应急预案文本（盖章）"
    assert done["data"]["data"]["supplement_note"] == "原件送窗口核验"
    assert queries.case_detail(db, started.case_no)["status"] == "submitted"


def test_only_the_applicant_may_answer_as_applicant(db, catalogue):
    started = _apply(db)
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    task = queries.open_tasks(db, actor=window)[0]
    complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["营业执照"]}, window)
    stranger = make_actor(db, "stranger", [], ["applicant"])
    with pytest.raises(casework.PermissionDenied):
        casework.answer_as_applicant(db, started.case_no, {"supplement_received": "x" * 3,
                                                           "supplement_received_on": "2026-12-01"}, stranger)
    owner = queries.case_history(db, started.case_no)[0]["actor"]
    from engine.org.accounts import actor_for

    casework.answer_as_applicant(db, started.case_no, {"supplement_received": "营业执照复印件",
                                                       "supplement_received_on": "2026-12-01"},
                                 actor_for(db, owner))
    assert [t.element_id for t in queries.open_tasks(db, case_no=started.case_no)] == ["accept_review"]


def test_an_applicant_registers_with_a_phone_code(client, db, monkeypatch, tmp_path):
    assert post_form(client, "/register/code", {"phone": "12345"}, "/register").status_code == 400
    sent = post_form(client, "/register/code", {"phone": "13912345678"}, "/register")
    assert sent.status_code == 200 and "验证码已发送" in text(sent)
    again = post_form(client, "/register/code", {"phone": "13912345678"}, "/register")
    assert again.status_code == 409  # once a minute
    line = phone.outbox(db)[0]["message"]
    code = re.search(r"验证码是 (\d{6})", line).group(1)
    form = {"phone": "13912345678", "name": "赵六", "password": "goodpass1", "password2": "goodpass1"}
    wrong = post_form(client, "/register", {**form, "code": "000000" if code != "000000" else "111111"}, "/register")
    assert wrong.status_code == 403 and "还可以再试 4 次" in text(wrong)
    done = post_form(client, "/register", {**form, "code": code}, "/register")
    assert done.status_code == 302
    assert "赵六" in text(client.get("/hall"))  # logged in as the new applicant
    assert accounts.actor_for(db, "13912345678").roles == frozenset({"applicant"})
    reused = post_form(client, "/register", {**form, "code": code}, "/register")
    assert reused.status_code == 403  # a code is used once


def test_applying_online_with_materials_uploaded_against_the_guide(client, db, catalogue, monkeypatch, tmp_path):
    make_actor(db, "zhaoliu", [], ["applicant"])
    client.post("/login", data={"username": "zhaoliu", "password": "secret-pw",
                                "csrf_token": csrf_token(client)})
    form = {"applicant_name": "赵六", "csrf_token": csrf_token(client, "/hall/items/AJ-003")}
    fake = client.post("/hall/items/AJ-003/apply", data={**form, "material-0": (io.BytesIO(b"not a pdf"), "plan.pdf")},
                       content_type="multipart/form-data")
    assert fake.status_code == 422 and "扩展名与内容不符" in text(fake)
    assert queries.task_page(db, None, queries.TaskFilter(), "newest", 1, 10).total == 0  # no case was started
    good = client.post("/hall/items/AJ-003/apply", data={
        **form, "material-0": (io.BytesIO(b"%PDF-1.7\n%test\n"), "应急预案.pdf")}, content_type="multipart/form-data")
    assert good.status_code == 302
    case_no = good.headers["Location"].rsplit("/", 1)[-1]
    stored = attachments.list_attachments(db, case_no)
    material = json.loads((settings.PROCESSES_DIR / "catalogue/anjian/AJ-003/item.json").read_text(
        encoding="utf-8"))["guide"]["materials"][0]["name"]
    assert [(a["material"], a["filename"]) for a in stored] == [(material, "应急预案.pdf")]
    receipt = text(client.get(good.headers["Location"]))
    assert re.search(r'id="query-code">\d{6}<', receipt)
    assert 'id="query-code"' not in text(client.get(good.headers["Location"]))  # shown once


def test_an_item_brings_its_own_application_form(client, db, catalogue):
    make_actor(db, "sunba", [], ["applicant"])
    client.post("/login", data={"username": "sunba", "password": "secret-pw", "csrf_token": csrf_token(client)})
    page = text(client.get("/hall/items/MZ-001"))
    assert "共同生活家庭成员人数" in page and "致贫原因" in page  # forms/application-dibao.json
    common = {"applicant_name": "孙八", "unit": "梁子镇"}
    missing = post_form(client, "/hall/items/MZ-001/apply", common, "/hall/items/MZ-001")
    assert (missing.status_code == 422 and "household_size" in text(missing)) or "家庭成员人数" in text(missing)
    done = post_form(client, "/hall/items/MZ-001/apply", {**common, "household_size": "3", "monthly_income": "800",
                                                         "hardship": "重病"}, "/hall/items/MZ-001")
    assert done.status_code == 302
    case_no = done.headers["Location"].rsplit("/", 1)[-1]
    started = queries.case_history(db, case_no)[0]["data"]
    assert started["data"]["household_size"] == 3 and started["unit"] == "梁子镇"


def test_a_missing_application_form_does_not_deploy(db, tmp_path):
    folder = tmp_path / "MZ-001"
    shutil.copytree(settings.PROCESSES_DIR / "catalogue/minzheng/MZ-001", folder)
    meta = json.loads((folder / "item.json").read_text(encoding="utf-8"))
    (folder / "item.json").write_text(json.dumps({**meta, "application_form": "no-such-form.json"}), encoding="utf-8")
    with pytest.raises(LintFailed, match=r"no-such-form\.json"):
        deploy_package(db, load_package(folder, processes_dir=settings.PROCESSES_DIR), "analyst")
