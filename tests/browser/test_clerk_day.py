"""The clerks' day (issue 16, item 12), in Chromium on the database as `onewindow init --demo` leaves it, on REAL
catalogue items:

- MZ-001 城乡居民最低生活保障审批, relayed up: the 高塘村 service-room clerk takes the application for a villager
  (委托), accepts it, checks it and forwards it; the 梁子镇 town clerk claims it with the list's batch 签收 and
  forwards it to the district; the 区民政局 handler finds it by the applicant's name and handles it; the head of
  the 区民政局 (批准) extends its deadline from the case page;
- JG-002 政府投资项目可行性研究报告审批, a joint review: the 区财政局 reviewer gives the department's opinion.

Each page: no console error, axe-core finds nothing serious, a screenshot clerk-NN-* a person reads.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from engine.catalogue.demo import DEMO_PASSWORD
from engine.desk import casework
from engine.org import accounts
from engine.reads import queries

pytestmark = pytest.mark.browser

VILLAGER = "刘秀英"
VILLAGER_ID = "420704195505051226"


@pytest.fixture
def watched(page: Page) -> list[str]:
    """Console errors of every page the walk opens (a CSP refusal, a script error, a missing file)."""
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator(".who")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("form[action$='/logout'] button").click()


def look(page: Page, screenshot, axe, name: str) -> None:
    """What a person sees: the screenshot to read, the accessibility check."""
    screenshot(name)
    axe(name)


def open_task_of(page: Page, case_no: str) -> None:
    page.goto("/desk")
    page.locator("tr", has_text=case_no).locator("a.task-link").first.click()


def submit_task(page: Page) -> None:
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已办理完毕")


def test_a_relayed_application_village_town_district_and_the_chief(page: Page, demo_seeded, db, screenshot, axe,
                                                                    watched):
    # 高塘村: the service-room clerk applies for the villager with her mandate
    sign_in(page, "liangzi-gaotang-window")
    page.goto("/hall/items/MZ-001")
    page.fill("#f-applicant_name", VILLAGER)
    page.fill("#f-id_number", VILLAGER_ID)
    page.fill("#f-phone", "13800005555")
    page.fill("#f-household_size", "2")
    page.fill("#f-monthly_income", "600")
    page.select_option("#f-hardship", "重病")
    page.fill("#f-mandate_principal", VILLAGER)
    page.fill("#f-mandate_principal_id_number", VILLAGER_ID)
    page.fill("#f-mandate_signed_on", "2026-12-01")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/hall/receipts/\d+$"))
    case_no = page.url.rsplit("/", 1)[-1]
    expect(page.locator("#print-receipt")).to_be_visible()  # the receipt the clerk hands over, printed
    look(page, screenshot, axe, "clerk-01-village-receipt")

    page.goto("/desk")
    expect(page.locator("tr", has_text=case_no)).to_contain_text(VILLAGER)
    look(page, screenshot, axe, "clerk-02-village-desk")
    open_task_of(page, case_no)
    expect(page.locator("h1")).to_have_text("受理审查")
    page.check("input[name=decision][value=受理]")
    look(page, screenshot, axe, "clerk-03-village-accept")
    submit_task(page)
    for step, fill in (("初审", {"#f-precheck_opinion": "经入户核查，家庭人均收入低于当地低保标准"}),
                       ("村代办员报送镇中心", {"#f-relay_note": "申请书、户口簿、收入证明等 5 份，专人送达"})):
        open_task_of(page, case_no)
        expect(page.locator("h1")).to_have_text(step)
        for selector, text in fill.items():
            page.fill(selector, text)
        submit_task(page)
    page.goto(f"/cases/{case_no}")
    history = page.locator("table.history")
    expect(history).to_contain_text("初审意见")  # the field's title, not precheck_opinion
    expect(history).not_to_contain_text("precheck_opinion")
    expect(page.locator("#committed-deadline")).to_contain_text("24:00")
    look(page, screenshot, axe, "clerk-04-village-case-page")
    sign_out(page)

    # 梁子镇: the town clerk claims it with the batch 签收 and forwards it to the district
    sign_in(page, "liangzi-window")
    page.goto("/desk")
    row = page.locator("tr", has_text=case_no)
    row.locator("input[name=task]").check()
    look(page, screenshot, axe, "clerk-05-town-desk-ticked")
    page.click("#batch-claim button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已签收 1 项任务")
    expect(page.locator("tr", has_text=case_no)).to_contain_text("我已签收")
    open_task_of(page, case_no)
    expect(page.locator("h1")).to_have_text("镇中心报送区级")
    page.fill("#f-relay_note", "经镇民政办复核，报区民政局审批")
    look(page, screenshot, axe, "clerk-06-town-task")
    submit_task(page)
    sign_out(page)

    # 区民政局: the handler finds the case by the applicant's name and handles it
    sign_in(page, "mz-handle")
    page.goto("/cases")
    page.fill("#name", "秀英")
    page.click("form.case-search button[type=submit]")
    expect(page.locator("#search-results tr", has_text=case_no)).to_contain_text(VILLAGER)
    look(page, screenshot, axe, "clerk-07-district-search")
    page.goto(f"/cases?id_number={VILLAGER_ID}")
    expect(page.locator("#search-results")).to_contain_text(case_no)
    open_task_of(page, case_no)
    expect(page.locator("h1")).to_have_text("承办")
    page.fill("#f-handling_opinion", "家庭收入、财产符合低保条件，拟同意纳入")
    look(page, screenshot, axe, "clerk-08-district-handle")
    submit_task(page)
    page.goto(f"/cases/{case_no}")
    expect(page.locator("table.history")).to_contain_text("承办意见")
    expect(page.locator("table.history")).not_to_contain_text(f"applicant:{case_no}")
    sign_out(page)

    # the head of the 区民政局 (批准) extends the deadline from the case page (行政许可法第四十二条)
    review = next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "review")
    casework.complete_task(db, review.task_id, {"review_opinion": "同意承办意见"}, accounts.actor_for(db, "mz-review"))
    sign_in(page, "mz-approve")
    page.goto(f"/cases/{case_no}")
    page.locator("#op-extend summary").click()
    page.fill("#extend-form input[name=days]", "5")
    page.fill("#extend-form textarea[name=reason]", "需对申请人家庭财产状况补充入户核查")
    look(page, screenshot, axe, "clerk-09-chief-extend-form")
    page.click("#extend-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已延期 5 个工作日")
    expect(page.locator(".notice-success")).to_contain_text("24:00")
    expect(page.locator("#committed-deadline")).to_contain_text("延期 5 日")
    look(page, screenshot, axe, "clerk-10-chief-extended")
    assert watched == []


def test_a_joint_review_department_gives_its_opinion(page: Page, demo_seeded, db, screenshot, axe, watched):
    window = accounts.actor_for(db, "jg-window")
    case_no = casework.start_case(db, "JG-002", {"applicant_name": "鑫源实业有限公司", "phone": "13800006666"},
                                  window).case_no
    accept = queries.open_tasks(db, case_no=case_no)[0]
    casework.complete_task(db, accept.task_id, {"decision": "受理"}, window)

    sign_in(page, "cz-review")
    page.goto("/desk")
    expect(page.locator("tr", has_text=case_no)).to_contain_text("部门并联审查")
    look(page, screenshot, axe, "clerk-11-joint-desk")
    open_task_of(page, case_no)
    expect(page.locator("h1")).to_have_text("部门并联审查")
    page.check("input[name=decision][value=同意]")
    page.fill("#f-comment", "项目资金来源已落实，财政承受能力评估通过")
    look(page, screenshot, axe, "clerk-12-joint-opinion")
    submit_task(page)
    page.goto(f"/cases/{case_no}")
    expect(page.locator("table.history")).to_contain_text("审查结论")
    look(page, screenshot, axe, "clerk-13-joint-case-page")
    page.goto("/cases?name=鑫源")
    expect(page.locator("#search-results")).to_contain_text(case_no)
    assert watched == []
