"""我的办件 (issue 16, item 1): a registered applicant sees every case of theirs — status, step by name, the
deadline as the desk says it, the notices and the result with its document number — and answers a 补正 from
there with their own form (a file per material asked, a note), without the follow-up code.

Hostile: another applicant, a clerk (even the window handling the case), an administrator, anonymous, odd
case numbers, a bad file, an empty answer, a case not waiting for a 补正 — none sees or writes anything.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from catalogue_walk import sample
from conftest import csrf, deploy, log_in, make_actor

from engine.desk import attachments
from engine.desk.casework import complete_task, start_case
from engine.errors import FormValidationError, NotFound, PermissionDenied
from engine.hall import mycases, supplementing
from engine.org import orgtree
from engine.reads import queries

pytestmark = pytest.mark.usefixtures("every_case_replays")

WINDOW_GROUP = "区中心/区安全生产监督管理局·窗口"
PDF = b"%PDF-1.7\n%supplement\n"
PLAN = "应急预案文本（综合预案、专项预案、现场处置方案）"  # a material AJ-003's guide names


@pytest.fixture
def world(db):
    """AJ-002 (a licence, committed) and AJ-003 (a filing, on the spot); 钱七 (phone login) and a stranger."""
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-002")
    deploy(db, "catalogue/anjian/AJ-003")
    return {"me": make_actor(db, "13700001111", [], ["applicant"]),
            "stranger": make_actor(db, "13700002222", [], ["applicant"]),
            "window": make_actor(db, "aj", [WINDOW_GROUP]),
            "admin": make_actor(db, "walker", [], ["admin"])}


def apply(db, actor, code: str) -> str:
    return start_case(db, code, {"applicant_name": "钱七", "phone": "13700001111"}, actor).case_no


def answer_open_task(db, case_no: str, actor, decision: str | None = None, **extra) -> str:
    task = queries.open_tasks(db, case_no=case_no)[-1]
    detail = queries.task_detail(db, task.task_id)
    schema = json.loads(detail["schema"]) if isinstance(detail["schema"], str) else detail["schema"]
    offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
    complete_task(db, task.task_id, {**sample(schema, decision or (offered[0] if offered else None)), **extra}, actor)
    return task.element_id


def to_the_end(db, case_no: str, actor, **extra) -> None:
    for _ in range(20):
        if not queries.open_tasks(db, case_no=case_no):
            return
        answer_open_task(db, case_no, actor, **extra)


def ask_supplement(db, case_no: str, window, materials: list[str]) -> None:
    task = queries.open_tasks(db, case_no=case_no)[0]
    complete_task(db, task.task_id, {"decision": "补正", "missing_materials": materials}, window)


def page(client, path: str):
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def test_the_list_shows_each_own_case_with_status_step_deadline_notices_and_result(client, db, world):
    licence = apply(db, world["me"], "AJ-002")
    filing = apply(db, world["me"], "AJ-003")
    theirs = apply(db, world["stranger"], "AJ-003")
    answer_open_task(db, filing, world["window"], "受理")  # accepted: a 受理通知书, the on-the-spot step next
    answer_open_task(db, licence, world["window"], "受理")
    to_the_end(db, licence, world["admin"], document_no="烟花零售许〔2026〕第 017 号")
    assert queries.case_detail(db, licence)["status"] == "approved"

    log_in(client, "13700001111")
    status, html = page(client, "/hall/mine")
    assert status == 200 and 'id="nav-mine"' in html  # linked in the navigation
    assert licence in html and filing in html and theirs not in html
    assert "已批准" in html and "准予行政许可决定书" in html and "烟花零售许〔2026〕第 017 号" in html
    assert "证照或批复文号" in html
    assert "当场办结" in html and "受理通知书" in html  # the step by its name, the notice by its title
    deadline = queries.case_detail(db, filing)["clock"]["committed_deadline"]
    assert deadline and "24:00" in html  # the end of the deadline's day, as the desk says it

    status, html = page(client, f"/hall/mine/{licence}")
    assert status == 200 and 'id="my-result"' in html and "烟花零售许〔2026〕第 017 号" in html
    assert "decide" not in html and "approve" not in html.replace("approved", "")  # no element ids
    numbers = [n["number"] for n in mycases.my_case(db, licence, world["me"])["notices"]]
    assert numbers and all(f"/hall/notices/{n}" in html for n in numbers)
    notice = client.get(f"/hall/notices/{numbers[0]}")
    assert notice.status_code == 200 and f"/hall/mine/{licence}" in notice.get_data(as_text=True)  # back to it


def test_an_applicant_with_no_case_gets_a_way_to_the_hall(client, db, world):
    log_in(client, "13700002222")
    status, html = page(client, "/hall/mine")
    assert status == 200 and "您还没有申请过办件" in html


@pytest.mark.parametrize("who", ["13700002222", "aj", "walker"])
def test_nobody_else_sees_or_answers_the_case(client, db, world, who):
    """Another applicant and the administrator are refused the case; a clerk (the window that handles it) has
    no 我的办件 at all."""
    expected = 403
    case_no = apply(db, world["me"], "AJ-003")
    ask_supplement(db, case_no, world["window"], ["应急预案文本（盖章）"])
    log_in(client, who)
    assert client.get(f"/hall/mine/{case_no}").status_code == expected
    before = [e["type"] for e in queries.case_history(db, case_no)]
    sent = client.post(f"/hall/mine/{case_no}/supplement", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client, "/hall"), "note": "冒充申请人",
                             "supplement-0": (io.BytesIO(PDF), "x.pdf")})
    assert sent.status_code == expected
    assert [e["type"] for e in queries.case_history(db, case_no)] == before
    assert attachments.list_attachments(db, case_no) == []
    if who != "aj":
        assert case_no not in client.get("/hall/mine").get_data(as_text=True)


def test_anonymous_is_sent_to_log_in(client, db, world):
    case_no = apply(db, world["me"], "AJ-003")
    for path in ("/hall/mine", f"/hall/mine/{case_no}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("case_no", ["..%2F..%2Fetc", "x" * 500, "' OR '1'='1", "20260101000001", "%00"])
def test_odd_case_numbers_are_a_plain_404(client, db, world, case_no):  # never a 500
    log_in(client, "13700001111")
    assert client.get(f"/hall/mine/{case_no}").status_code in (400, 404)


def test_the_applicant_answers_a_supplement_from_my_cases(client, db, world):
    case_no = apply(db, world["me"], "AJ-003")
    ask_supplement(db, case_no, world["window"], [PLAN, "单位发布令（盖章）"])
    log_in(client, "13700001111")
    status, html = page(client, "/hall/mine")
    assert "待补正" in html and f"/hall/mine/{case_no}#supplement-request" in html
    status, html = page(client, f"/hall/mine/{case_no}")
    assert status == 200 and 'name="supplement-0"' in html and 'name="supplement-1"' in html
    assert 'name="note"' in html and "单位发布令（盖章）" in html
    assert 'name="supplement_received"' not in html and "窗口收到" not in html  # not the window's form
    assert "补正材料通知书" in html

    token = csrf(client, f"/hall/mine/{case_no}")
    empty = client.post(f"/hall/mine/{case_no}/supplement", data={"csrf_token": token})
    assert empty.status_code == 422 and "请上传补正材料" in empty.get_data(as_text=True)
    not_a_pdf = client.post(f"/hall/mine/{case_no}/supplement", content_type="multipart/form-data", data={
        "csrf_token": token, "supplement-0": (io.BytesIO(b"MZ\x90\x00 not a document"), "预案.pdf")})
    assert not_a_pdf.status_code == 422 and "field-error" in not_a_pdf.get_data(as_text=True)
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["supplement_wait"]
    assert attachments.list_attachments(db, case_no) == []  # one refused file: nothing written

    done = client.post(f"/hall/mine/{case_no}/supplement", content_type="multipart/form-data", data={
        "csrf_token": token, "note": "原件送窗口核验",
        "supplement-0": (io.BytesIO(PDF), "预案.pdf"), "supplement-1": (io.BytesIO(PDF + b"2"), "发布令.pdf")})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/hall/mine/{case_no}")
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["accept_review"]
    files = {a["filename"]: (a["material"], a["uploaded_by"]) for a in attachments.list_attachments(db, case_no)}
    assert files == {"预案.pdf": (PLAN, "13700001111"),
                     "发布令.pdf": (None, "13700001111")}  # a material the guide does not name: a plain file
    answered = [e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"][-1]
    assert answered["actor"] == "13700001111" and answered["element_id"] == "supplement_wait"
    assert answered["data"]["data"]["supplement_received"] == f"{PLAN}、单位发布令（盖章）"
    assert answered["data"]["data"]["supplement_note"] == "原件送窗口核验"
    _, after = page(client, f"/hall/mine/{case_no}")
    assert "补正材料已提交" in after and 'name="supplement-0"' not in after

    again = client.post(f"/hall/mine/{case_no}/supplement", content_type="multipart/form-data", data={
        "csrf_token": token, "supplement-0": (io.BytesIO(PDF), "again.pdf")})
    assert again.status_code == 302 and len(attachments.list_attachments(db, case_no)) == 2  # nothing more


def test_the_answer_is_made_from_what_was_sent():
    today = date(2026, 12, 1)
    assert supplementing.answer(["营业执照"], "", today) == {
        "supplement_received": "营业执照", "supplement_received_on": "2026-12-01"}
    assert supplementing.answer([], "原件邮寄", today)["supplement_received"] == "申请人说明：原件邮寄"
    for sent, note in (([], ""), ([], " "), ([], "好"), (["x"], "长" * 501)):
        with pytest.raises(FormValidationError):
            supplementing.answer(sent, note, today)
    standard = {"properties": {"supplement_received": {}, "supplement_received_on": {}, "supplement_note": {}}}
    assert supplementing.is_applicants_form(standard)
    assert not supplementing.is_applicants_form({"properties": {"supplement_received": {}, "licence_copy": {}}})
    assert not supplementing.is_applicants_form({"properties": {}})


def test_the_engine_answers_nobody_else(db, world):
    case_no = apply(db, world["me"], "AJ-003")
    assert mycases.my_case(db, case_no, world["me"])["case_no"] == case_no
    for someone in (world["stranger"], world["window"], world["admin"]):
        with pytest.raises(PermissionDenied):
            mycases.my_case(db, case_no, someone)
        assert mycases.my_cases(db, someone) == []
    with pytest.raises(NotFound):
        mycases.my_case(db, "20991231000001", world["me"])
