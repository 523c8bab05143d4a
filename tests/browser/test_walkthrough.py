"""Real browser walks through the demo joint-review item, as a clerk and as an applicant would.

Screenshots land in test-artifacts/ so a person can check that the pages read right in Chinese.
"""

from __future__ import annotations

import re

import pytest
from conftest import make_actor
from playwright.sync_api import Page, expect

from engine.desk import casework
from engine.reads import queries

pytestmark = pytest.mark.browser

REVIEWS = ("住建部门审查", "消防部门审查", "环保部门审查")


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "secret-pw")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username)


def open_task(page: Page, name: str) -> None:
    page.goto("/desk")
    page.locator("a.task-link", has_text=name).first.click()
    expect(page.locator("h1")).to_have_text(name)


def completions(db, case_no: str) -> int:
    return sum(e["type"] == "task_completed" for e in queries.case_history(db, case_no))


def test_clerk_walks_a_case_from_acceptance_to_certificate(page: Page, screenshot, db, joint, clerk):
    console_errors: list[str] = []  # a CSP violation, a script error or a missing file shows up here
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    case_no = casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
    log_in(page, "clerk")
    expect(page).to_have_url(re.compile(r"/desk$"))
    expect(page.locator("tr", has_text=case_no)).to_contain_text("受理")
    screenshot("01-desk")

    open_task(page, "受理")
    expect(page.locator("#f-applicant_name")).to_have_value("张三")  # pre-filled from the application
    page.fill("#f-id_number", "12345")
    page.fill("#f-remark", "材料齐全，现场核验")
    page.check("input[name=decision][value=受理]")
    page.eval_on_selector("form.task-form", "form => form.noValidate = true")  # let the server judge
    page.click("form.task-form button[type=submit]")
    error = page.locator('[data-field="id_number"] .field-error')
    expect(error).to_have_text("格式不正确")
    expect(page.locator("#f-id_number")).to_have_value("12345")
    expect(page.locator("#f-remark")).to_have_value("材料齐全，现场核验")
    expect(page.locator("input[name=decision][value=受理]")).to_be_checked()
    screenshot("02-task-invalid")

    page.fill("#f-id_number", "11010119900101123X")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已办理完毕")
    screenshot("03-desk-reviews")
    page.goto(f"/cases/{case_no}")
    expect(page.locator("#diagram")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#diagram .djs-element.is-open")).to_have_count(3)  # the three parallel reviews
    screenshot("04-case-in-progress")

    for index, review in enumerate(REVIEWS):
        open_task(page, review)
        page.check("input[name=opinion][value=同意]")
        button = page.locator("form.task-form button[type=submit]")
        if index == 0:
            button.dblclick()  # a double click must submit once
        else:
            button.click()
        expect(page.locator(".notice-success")).to_contain_text(review)
    assert completions(db, case_no) == 4

    open_task(page, "办结发证")
    page.fill("#f-certificate_no", "JY-2025-0001")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("办结发证")

    page.goto(f"/cases/{case_no}")
    expect(page.locator("#case-status")).to_have_text("已办结")
    history = page.locator("table.history")
    expect(history).to_contain_text("JY-2025-0001")
    expect(history.locator("tr.event-case_closed")).to_contain_text("办结")
    expect(page.locator("#diagram")).to_have_attribute("data-rendered", "1")
    screenshot("05-case-completed")
    expected = "status of 422"  # the deliberately invalid form
    assert [m for m in console_errors if expected not in m] == []


def test_stale_tab_gets_a_clear_message(page: Page, screenshot, db, joint, clerk):
    case_no = casework.start_case(db, "DEMO-001", {}, clerk).case_no
    log_in(page, "clerk")
    open_task(page, "受理")
    page.fill("#f-applicant_name", "李四")
    page.fill("#f-id_number", "11010119900101123X")
    page.check("input[name=decision][value=受理]")
    task_id = next(t.task_id for t in queries.open_tasks(db, case_no=case_no))
    casework.complete_task(db, task_id, {"applicant_name": "李四", "id_number": "11010119900101123X",
                                         "decision": "受理"}, clerk)  # meanwhile, in another tab
    page.click("form.task-form button[type=submit]")
    expect(page.locator("#stale-message")).to_contain_text("已由您于")
    expect(page.locator("dl.typed")).to_contain_text("李四")
    screenshot("06-stale")


def test_applicant_applies_and_gets_a_receipt(page: Page, screenshot, db, joint, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_HALL_DEMO_ITEMS", "true")  # the hall lists the demo items only when opted in
    make_actor(db, "zhangsan", [], ["applicant"])
    log_in(page, "zhangsan")
    page.goto("/hall")
    screenshot("07-hall")
    page.click("text=餐饮服务许可（联合审查演示）")
    page.fill("#f-phone", "13800138000")
    page.click("form.form button[type=submit]")
    case_no = page.locator("#case-no").inner_text().strip()
    assert re.fullmatch(r"\d{14}", case_no)
    screenshot("08-receipt")
    page.click("text=查看办理进度")
    expect(page.locator("#case-status")).to_have_text("已提交")


def test_works_without_javascript(browser, live_server, db, joint, clerk):
    casework.start_case(db, "DEMO-001", {}, clerk)
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, "clerk")
        open_task(page, "受理")
        page.fill("#f-applicant_name", "王五")
        page.fill("#f-id_number", "11010119900101123X")
        page.check("input[name=decision][value=不予受理]")
        page.fill("#f-reason", "不属于本中心受理范围")  # a refusal always states its reason (S-7)
        page.click("form.task-form button[type=submit]")
        expect(page.locator(".notice-success")).to_contain_text("已办理完毕")
    finally:
        context.close()
