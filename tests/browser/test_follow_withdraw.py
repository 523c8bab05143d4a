"""撤回申请 online, in a real browser (issue 15, item 7): an applicant without an account looks the case up with
its number and follow-up code, withdraws it with a statement, and sees the case withdrawn with its 撤回申请
确认书; a registered applicant does the same from their case page, ticking the confirmation first.
Screenshots: test-artifacts/follow-withdraw-*.png, hall-withdraw-*.png.
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

from .test_walkthrough import log_in

pytestmark = pytest.mark.browser


def test_an_applicant_follows_a_case_and_withdraws_it_online(page: Page, screenshot, db):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    make_actor(db, "wang", ["受理窗口"])
    started = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"},
                                  make_actor(db, "zhangsan", [], ["applicant"]))

    page.goto("/hall/follow")
    page.fill("#case_no", started.case_no)
    page.fill("#code", started.query_code)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#follow-status")).to_have_text("已提交")
    expect(page.locator("#follow-where")).to_contain_text("受理")
    panel = page.locator("#withdraw-application")
    expect(panel).to_contain_text("作出决定前，您可以撤回申请")
    page.fill("#statement", "已不需要办理，申请撤回")
    page.check("#withdraw-confirm")
    screenshot("follow-withdraw-before")

    page.locator("#withdraw-button").click()
    expect(page.locator(".notice-success")).to_contain_text("您的申请已撤回")
    expect(page.locator("#follow-status")).to_have_text("已撤回")
    expect(page.locator("#withdraw-application")).to_have_count(0)  # nothing left to withdraw
    notice = page.locator("#notices li", has_text="撤回")
    expect(notice).to_have_count(1)
    screenshot("follow-withdraw-done")

    notice.locator("a").first.click()
    expect(page.locator("body")).to_contain_text("已不需要办理，申请撤回")
    screenshot("follow-withdraw-notice")

    assert queries.case_detail(db, started.case_no)["status"] == "withdrawn"
    assert queries.open_tasks(db, case_no=started.case_no) == []
    event = next(e for e in queries.case_history(db, started.case_no) if e["type"] == "application_withdrawn")
    assert event["actor"] == f"applicant:{started.case_no}" and event["data"]["channel"] == "online"
    assert replay_case(db, started.case_no).identical


def test_a_registered_applicant_withdraws_from_their_case_page(page: Page, screenshot, db):
    """The same from the hall (POST /hall/cases/<no>/withdraw): the box must be ticked before the button acts."""
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    started = casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"},
                                  make_actor(db, "zhangsan", [], ["applicant"]))
    log_in(page, "zhangsan")
    page.goto(f"/cases/{started.case_no}")
    panel = page.locator("#withdraw-application")
    expect(panel).to_contain_text("我确认撤回本申请")
    page.fill("#statement", "信息填写有误，撤回后重新申请")
    page.locator("#withdraw-button").click()  # not ticked: the browser holds the form back
    expect(page.locator("#case-status")).to_have_text("已提交")
    page.check("#withdraw-confirm")
    screenshot("hall-withdraw-before")

    page.locator("#withdraw-button").click()
    expect(page.locator(".notice-success")).to_contain_text("您的申请已撤回")
    expect(page.locator("#case-status")).to_have_text("已撤回")
    expect(page.locator("#withdraw-application")).to_have_count(0)
    expect(page.locator("#receipts")).to_contain_text("撤回申请确认书")
    screenshot("hall-withdraw-done")
    assert replay_case(db, started.case_no).identical
