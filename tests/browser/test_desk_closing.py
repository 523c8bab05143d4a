"""撤回申请 at the window and 终止 on real pages (issue 15, item 7): the window clerk sees the 撤回申请 form on the
task page (no 终止); the chief of the handling group terminates from the case page with a reason and a ticked
confirmation, and the page says which notice was issued.

Screenshots in test-artifacts/desk-closing-*.png for a person to look at.
"""

from __future__ import annotations

import pytest
from conftest import DATA_DIR, make_actor
from playwright.sync_api import Page, expect

from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.reads import queries

from .test_walkthrough import log_in, open_task

pytestmark = pytest.mark.browser


def test_the_clerk_is_offered_withdrawal_and_the_chief_terminates(db, page: Page, screenshot):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    make_actor(db, "wang", ["受理窗口"])
    make_actor(db, "chief", ["受理窗口"], ["chief"])
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    case_no = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, applicant).case_no

    log_in(page, "wang")
    open_task(page, "受理")
    expect(page.locator("#op-terminate")).to_have_count(0)
    page.click("#op-withdraw-application summary")
    page.fill("#withdraw-application-form textarea[name=statement]", "申请人到窗口书面申请撤回")
    screenshot("desk-closing-1-withdraw-form")
    page.locator("form[action='/logout'] button").click()

    log_in(page, "chief")
    page.goto(f"/cases/{case_no}")
    expect(page.locator("#op-withdraw-application")).to_have_count(0)  # a chief who is no clerk
    page.click("#op-terminate summary")
    page.fill("#terminate-form textarea[name=reason]", "申请事项已调整为由市级机关办理")
    page.click("#terminate-form button[type=submit]")  # not ticked: the browser asks first
    assert queries.case_detail(db, case_no)["status"] == "submitted"
    page.check("#terminate-form input[name=confirm]")
    screenshot("desk-closing-2-terminate-form")
    page.click("#terminate-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("终止办理告知书")
    expect(page.locator("#op-terminate")).to_have_count(0)
    screenshot("desk-closing-3-terminated")
    assert queries.case_detail(db, case_no)["status"] == "terminated"
