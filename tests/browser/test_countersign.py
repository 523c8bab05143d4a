"""后加签 in a real browser (issue 15, item 11): the window clerk 王 adds his colleague 李 as a reviewer after
his own answer, decides 受理 and submits — the answer is kept, the case waits; 李 logs in, finds the message
and the task, reads 王's answer and agrees; the case moves on to 审查 with 王's answer, countersigned.

Screenshots in test-artifacts/countersign-*.png for a person to look at.
"""

from __future__ import annotations

import pytest
from conftest import DATA_DIR, make_actor
from playwright.sync_api import Page, expect

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.reads import queries

from .test_walkthrough import log_in, open_task

pytestmark = pytest.mark.browser


def test_a_clerk_adds_a_reviewer_after_and_the_reviewer_agrees(db, page: Page, screenshot):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    make_actor(db, "wang", ["受理窗口"])
    make_actor(db, "li", ["受理窗口"])
    make_actor(db, "zhao", ["审查组"])
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    case_no = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, applicant).case_no

    # 王 names 李 as reviewer after his answer (后加签), then decides 受理
    log_in(page, "wang")
    open_task(page, "受理")
    page.click("#op-countersign summary")
    page.check("#countersign-form input[name=mode][value=after]")
    page.select_option("#countersign-form select[name=to]", "li")
    page.fill("#countersign-form textarea[name=reason]", "新办企业，请复核受理意见")
    screenshot("countersign-1-form")
    page.click("#countersign-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已后加签给 li")
    expect(page.locator("#countersign-note")).to_contain_text("经办人提交后，须加签人同意方可办结")
    page.locator(".action", has_text="受理").first.click()
    expect(page.locator("form.task-form button[type=submit]")).to_have_text("提交，交加签人签署")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("等待加签人 li 签署意见")
    expect(page.locator("#countersign-note")).to_contain_text("受理决定：受理")
    expect(page.locator("form.task-form button[type=submit]")).to_be_disabled()
    screenshot("countersign-2-waiting")
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["accept"]
    page.locator("form[action='/logout'] button").click()

    # 李 logs in: the message, then the task page with 王's answer; 李 agrees
    log_in(page, "li")
    page.goto("/desk/messages")
    expect(page.locator("table.notices")).to_contain_text("就“受理”后加签给您")
    expect(page.locator("table.notices")).to_contain_text("已办理“受理”，请签署您的意见")
    screenshot("countersign-3-reviewer-messages")
    open_task(page, "受理")
    note = page.locator("#countersign-note")
    expect(note).to_contain_text("等待加签人 li 签署意见")
    expect(note).to_contain_text("受理决定：受理")
    note.locator("input[name=opinion][value=同意]").check()
    screenshot("countersign-4-reviewer-answers")
    note.locator("button[type=submit]").click()
    expect(page.locator(".notice-success")).to_contain_text("您已签署加签意见：同意")
    expect(page.locator("table.history")).to_contain_text("加签人签署意见")
    screenshot("countersign-5-case-moved-on")

    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["review"]
    done = [e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"]
    assert done[-1]["actor"] == "wang" and done[-1]["data"]["countersigned_by"] == "li"
    report = replay_case(db, case_no)
    assert report.identical, report.divergence
