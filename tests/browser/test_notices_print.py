"""An applicant without an account follows a relayed, refused case with its number and code, opens the
不予行政许可决定书 from follow-up and prints it on A4 (issue 15, item 8; 行政许可法第三十八条第二款) — dated
2026-12-01, the document in the name of 区经济改革局, not the village room the application came in at."""

from __future__ import annotations

import pytest
from catalogue_walk import application, sample
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from watch_scenarios import local

from engine.desk.casework import complete_task, start_case
from engine.org import orgtree
from engine.reads import queries
from engine.time import clock

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}


def _refused_relayed_case(db) -> tuple[str, str]:
    orgtree.install(db)
    deploy(db, "catalogue/jinggai/JG-003")
    admin = make_actor(db, "admin1", [], ["admin"])
    with clock.frozen_at(local("2026-12-01 09:30")):
        started = start_case(db, "JG-003", application(db, "JG-003"), admin, unit="梁子镇/高塘村", mandate=MANDATE)
        for _ in range(20):
            tasks = queries.open_tasks(db, case_no=started.case_no)
            if not tasks:
                break
            detail = queries.task_detail(db, tasks[-1].task_id)
            offered = ((detail["schema"].get("properties") or {}).get("decision") or {}).get("enum")
            answer = "不予批准" if tasks[-1].element_id == "approve" else (offered[0] if offered else None)
            complete_task(db, tasks[-1].task_id, sample(detail["schema"], answer), admin)
    return started.case_no, started.query_code


def test_the_applicant_opens_the_refusal_from_follow_up_and_prints_it(page: Page, screenshot, db):
    case_no, code = _refused_relayed_case(db)
    page.goto("/hall/follow")
    page.fill("#case_no", case_no)
    page.fill("#code", code)
    page.click("form button[type=submit]")
    expect(page.locator("#follow-status")).to_have_text("不予许可")
    notices = page.locator("#notices")
    expect(notices).to_contain_text("受理通知书")
    expect(notices).to_contain_text("送达回证")
    notices.get_by_role("link", name="不予行政许可决定书").click()
    expect(page.locator("#notice-title")).to_have_text("不予行政许可决定书")
    expect(page.locator("#notice-organ")).to_have_text("区经济改革局")
    expect(page.locator("#notice-no")).to_have_text(f"{case_no}-02")
    expect(page.locator("#notice-date")).to_have_text("2026年12月1日")
    expect(page.locator("#notice-appeal")).to_contain_text("六十日内向区人民政府申请行政复议")
    expect(page.locator("#notice-appeal")).to_contain_text("六个月内向区人民法院提起行政诉讼")
    screenshot("notice-screen")

    page.emulate_media(media="print")  # what the print dialog gets: the document alone, on A4
    expect(page.locator("#notice-actions")).to_be_hidden()
    screenshot("notice-print")
    ARTIFACTS.mkdir(exist_ok=True)
    printed = ARTIFACTS / "notice-print.pdf"
    page.pdf(path=str(printed), prefer_css_page_size=True)
    first = PdfReader(str(printed)).pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)  # A4 in points

    page.emulate_media(media="screen")
    # the PDF embeds the Noto CJK font, which takes seconds to subset when other tests share the CPUs
    download = page.request.get(page.locator("#notice-pdf").get_attribute("href"), timeout=60_000)
    assert download.ok and download.headers["content-type"] == "application/pdf" and download.body()[:5] == b"%PDF-"
