"""Notices are documents (issue 15, item 8), tested 2026-12-01 with the clock frozen at the decisions.

Every decision that reaches the applicant is a numbered, dated document issued in the name of the organ that
decided (行政许可法第三十二条第二款: 受理/不予受理 with the organ's seal and a date; 第三十八条: the written
decision, a refusal with its reasons and the right to 行政复议 (行政复议法第二十条, 60 days) and 行政诉讼
(行政诉讼法第四十六条, 6 months)). A relayed case (village room → district department) is accepted in the
department's name, not the village room's; a refusal names the review body and the court from the guide, and
one whose guide names none is neither deployed nor issued. The pages and the PDF are for the case's people.
"""

from __future__ import annotations

import io
import re

import pytest
from catalogue_walk import Path, sample, walk
from conftest import PROCESSES, deploy, make_actor
from pypdf import PdfReader
from watch_scenarios import local

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.errors import OnewindowError
from engine.org import accounts, orgtree
from engine.reads import queries
from engine.runtime import notice_texts, receipts
from engine.store.tables import cases
from engine.time import clock

VILLAGE = "梁子镇/高塘村"
DEPARTMENT = "区经济改革局"
MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}


@pytest.fixture
def units(db):
    return orgtree.install(db)


@pytest.fixture
def admin(db, units):
    return make_actor(db, "admin1", [], ["admin"])


def _notices(db, case_no: str) -> list[dict]:
    with db.reading() as conn:
        case_id = conn.execute(cases.select().where(cases.c.case_no == case_no)).one().id
        return receipts.of_case(conn, case_id)


def _flat(text: str) -> str:
    return re.sub(r"[\s\x00]+", "", text)  # pypdf spaces (or NUL-pads) the CJK glyphs it maps back


def test_a_relayed_case_is_accepted_and_refused_in_the_departments_name(db, units, admin):
    """JG-003 applied for at a village room, relayed up, accepted and refused by 区经济改革局 (art 32, 38)."""
    deploy(db, "catalogue/jinggai/JG-003")
    with clock.frozen_at(local("2026-12-01 09:30")):
        done = walk(db, "JG-003", admin, Path("村代办：不予批准", VILLAGE, {"approve": ["不予批准"]}), MANDATE)
    assert done.status == "refused"
    given = _notices(db, done.case_no)
    assert [n["kind"] for n in given] == ["acceptance", "licence_refused", "service_receipt"]
    assert [n["receipt_no"] for n in given] == [f"{done.case_no}-0{i}" for i in (1, 2, 3)]
    for notice in given:  # the department decided each step: never the village room the case came in at
        assert notice["organ_name"] == DEPARTMENT and notice["unit_code"] == f"区中心/{DEPARTMENT}"
        assert notice["content"]["organ"] == DEPARTMENT and "高塘村" not in notice["organ_name"]
        assert notice["content"]["date"] == "2026年12月1日" and notice["issued_at"] is not None
    accepted, refused, served = (n["content"] for n in given)
    assert accepted["title"] == "受理通知书"
    assert any("行政许可法》第三十二条" in b for b in accepted["legal_basis"])
    assert refused["title"] == "不予行政许可决定书"
    assert any("第三十八条第二款" in b for b in refused["legal_basis"])
    appeal = refused["appeal"]
    assert appeal["review_body"] == "区人民政府" and appeal["court"] == "区人民法院"
    assert "六十日内向区人民政府申请行政复议" in appeal["text"] and "六个月内向区人民法院提起行政诉讼" in appeal["text"]
    assert refused["reason"] and receipts.refusal_problems(refused) == []
    assert served["title"] == "送达回证" and served["delivered_notice"]["number"] == given[1]["receipt_no"]


def test_acceptance_step_answers_give_their_notices(db, units):
    """补正 (art 32 ¶1 (4)), then 受理 (art 32 ¶1 (5)); a 不予受理 on another case carries the appeal rights."""
    deploy(db, "catalogue/anjian/AJ-003")
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    with clock.frozen_at(local("2026-12-01 10:00")):
        first = start_case(db, "AJ-003", {"applicant_name": "王五"}, window).case_no
        task = queries.open_tasks(db, actor=window)[0]
        complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["营业执照副本"]}, window)
        second = start_case(db, "AJ-003", {"applicant_name": "赵六"}, window).case_no
        task = queries.open_tasks(db, case_no=second)[0]
        complete_task(db, task.task_id, {"decision": "不予受理", "reason": "申请事项不属于本机关职权范围"}, window)
    [supplement] = _notices(db, first)
    assert supplement["kind"] == "supplement" and supplement["title"] == "补正材料通知书"
    assert supplement["content"]["list"] == ["营业执照副本"]
    assert any("第三十二条第一款第（四）项" in b for b in supplement["content"]["legal_basis"])
    [refusal] = _notices(db, second)
    assert refusal["kind"] == "refusal_of_acceptance" and refusal["title"] == "不予受理决定书"
    content = refusal["content"]
    assert "申请事项不属于本机关职权范围" in "".join(content["body"])
    assert receipts.refusal_problems(content) == []
    history = queries.case_history(db, second)
    issued = [e for e in history if e["type"] == "notice_issued"]
    assert issued and issued[0]["data"]["notice_no"] == f"{second}-01"


def test_refusal_problems_read_the_content_not_only_the_keys():
    vague = "可以依法申请行政复议或者提起行政诉讼。"
    empty = {"reason": "不符合条件", "legal_basis": ["x"],
             "appeal": {"review_body": "区人民政府", "court": "区人民法院", "text": vague}}
    assert receipts.refusal_problems(empty) == ["救济途径告知未写明向谁、在多长期限内申请行政复议和提起行政诉讼"]
    nobody = notice_texts.appeal_rights({"court": "区人民法院"})
    assert "办事指南未载明行政复议机关" in receipts.refusal_problems({"reason": "不符合条件", "legal_basis": ["x"],
                                                                 "appeal": nobody})
    assert notice_texts.appeal_rights({"review_body": "区人民政府", "court": "区人民法院"})["text"].count("六") == 2


def _package_without_review_body():
    package = load_package(PROCESSES / "catalogue/anjian/AJ-003")
    package.metadata["guide"].pop("review_body")
    return package


def test_lint_stops_an_item_that_can_refuse_without_a_review_body():
    report = lint_package(_package_without_review_body())
    findings = [f for f in report.errors if "行政复议机关" in f.message]
    assert {f.element_id for f in findings} == {"decide", "accept_review"}
    assert lint_package(load_package(PROCESSES / "catalogue/anjian/AJ-003")).ok


def test_a_refusal_without_a_review_body_is_not_issued(db, units, monkeypatch):
    """A version deployed before the guide had a review body (lint skipped here): the refusal is refused, whole."""
    import engine.catalogue.deployment as deployment

    monkeypatch.setattr(deployment, "lint_package", lambda package: lint_package(load_package(
        PROCESSES / "catalogue/anjian/AJ-003")))
    deploy_package(db, _package_without_review_body(), "analyst")
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    case_no = start_case(db, "AJ-003", {"applicant_name": "王五"}, window).case_no
    task = queries.open_tasks(db, actor=window)[0]
    with pytest.raises(OnewindowError, match="行政复议机关"):
        complete_task(db, task.task_id, {"decision": "不予受理", "reason": "不属于本机关职权范围"}, window)
    assert _notices(db, case_no) == [] and queries.case_detail(db, case_no)["status"] == "submitted"


@pytest.fixture
def refused_case(db, units, admin, app):
    deploy(db, "catalogue/jinggai/JG-003")
    accounts.create_user(db, "lisi", "secret-pw", "李四", ["applicant"])
    accounts.create_user(db, "wangwu", "secret-pw", "王五", ["applicant"])
    with clock.frozen_at(local("2026-12-01 09:30")):
        started = start_case(db, "JG-003", {"applicant_name": "李四", "id_number": "42070419800101123X"},
                             accounts.actor_for(db, "lisi"), unit=f"区中心/{DEPARTMENT}")
        for answer in ("受理", "批准", "批准", "不予批准"):
            [task] = queries.open_tasks(db, case_no=started.case_no)
            detail = queries.task_detail(db, task.task_id)
            offered = ((detail["schema"].get("properties") or {}).get("decision") or {}).get("enum") or []
            complete_task(db, task.task_id, sample(detail["schema"], answer if answer in offered else None), admin)
            if queries.case_detail(db, started.case_no)["status"] == "refused":
                break
    return started


def _token(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(app, username):
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": "secret-pw",
                                         "csrf_token": _token(client, "/login")})
    assert answer.status_code == 302, username
    return client


def test_the_applicant_and_the_staff_see_the_notice_and_its_pdf_nobody_else_does(db, app, refused_case, admin):
    case_no = refused_case.case_no
    given = _notices(db, case_no)
    refusal = next(n for n in given if n["kind"] == "licence_refused")
    number = refusal["receipt_no"]
    owner = _login(app, "lisi")
    page = owner.get(f"/hall/notices/{number}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "不予行政许可决定书" in text and number in text and DEPARTMENT in text
    assert "六十日内向区人民政府申请行政复议" in text and "@page" not in text and "notice.css" in text
    assert f"/hall/notices/{number}" in owner.get(f"/cases/{case_no}").get_data(as_text=True)
    pdf = owner.get(f"/hall/notices/{number}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf.data))
    extracted = _flat("".join(p.extract_text() for p in reader.pages))
    assert number in extracted and DEPARTMENT in extracted and "区人民政府" in extracted
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    descriptor = fonts[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "CJK" in str(fonts[0]["/BaseFont"]) and ("/FontFile3" in descriptor or "/FontFile2" in descriptor)
    make_actor(db, "jg-stranger", ["区中心/区民政局·窗口"])
    for outsider in ("wangwu", "jg-stranger"):  # another applicant; a clerk of another department
        client = _login(app, outsider)
        assert client.get(f"/hall/notices/{number}").status_code == 403
        assert client.get(f"/hall/notices/{number}/pdf").status_code == 403
    anonymous = app.test_client().get(f"/hall/notices/{number}")
    assert anonymous.status_code in (302, 401) and b"\xe4\xb8\x8d\xe4\xba\x88" not in anonymous.data
    assert _login(app, "admin1").get(f"/hall/notices/{number}").status_code == 200


def test_follow_up_shows_the_notices_only_after_the_code(db, app, refused_case):
    case_no, code = refused_case.case_no, refused_case.query_code
    number = _notices(db, case_no)[0]["receipt_no"]
    client = app.test_client()
    assert client.get(f"/hall/follow/{case_no}/notices/{number}").status_code == 403
    client.post("/hall/follow", data={"case_no": case_no, "code": code, "csrf_token": _token(client, "/hall/follow")})
    followed = client.get(f"/hall/follow/{case_no}")
    assert f"/hall/follow/{case_no}/notices/{number}" in followed.get_data(as_text=True)
    page = client.get(f"/hall/follow/{case_no}/notices/{number}")
    assert page.status_code == 200 and "受理通知书" in page.get_data(as_text=True)
    assert client.get(f"/hall/follow/{case_no}/notices/{number}/pdf").data.startswith(b"%PDF-")
    other = start_case(db, "JG-003", {"applicant_name": "王五"}, accounts.actor_for(db, "wangwu"),
                       unit=f"区中心/{DEPARTMENT}").case_no
    assert client.get(f"/hall/follow/{other}/notices/{number}").status_code == 403  # not proven for that case
    assert client.get(f"/hall/follow/{case_no}/notices/{other}-01").status_code == 404
