"""Full agency in a real browser (S-5): a village agent applies in the hall for a villager with a mandate,
forwards the case up, and the case page shows where it came in, the mandate, the hand-overs and the
receipts; the district window sees it only once it has arrived."""

from __future__ import annotations

import re

import pytest
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect

from engine.org import accounts, orgtree

from .test_walkthrough import log_in, open_task

pytestmark = pytest.mark.browser

VILLAGE = "梁子镇/子坛村"


def switch_to(page: Page, username: str) -> None:
    page.locator("form[action$='/logout'] button").click()
    log_in(page, username)


def test_a_village_agent_carries_a_case_up_and_the_page_shows_the_chain(page: Page, screenshot, db):
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-008")
    accounts.create_user(db, "zitan", "secret-pw", "zitan", ["clerk"], ["梁子镇/子坛村·窗口"], VILLAGE)
    make_actor(db, "liangzi", ["梁子镇·窗口"])
    make_actor(db, "mz", ["区中心/区民政局·窗口"])

    log_in(page, "zitan")
    page.goto("/hall/items/MZ-008")
    expect(page.locator("#f-unit")).to_have_value(VILLAGE)  # the agent's own room is preselected
    page.fill("#f-applicant_name", "李四")
    expect(page.locator("#f-mandate_principal")).to_have_attribute("required", "")  # the page asks for it
    page.eval_on_selector("form.form", "form => form.noValidate = true")  # let the server judge
    page.click("form.form button[type=submit]")
    expect(page.locator(".notice-error")).to_contain_text("委托")  # no mandate: refused, nothing lost
    expect(page.locator("#f-applicant_name")).to_have_value("李四")
    page.fill("#f-mandate_principal", "李四")
    page.fill("#f-mandate_principal_id_number", "42070419800101123X")
    page.fill("#f-mandate_signed_on", "2026-11-27")
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/hall/receipts/\d+$"))
    case_no = page.url.rsplit("/", 1)[-1]

    open_task(page, "村代办员报送镇中心")
    page.fill("#f-relay_note", "申请书、户口簿复印件等 4 份，专人送达")
    page.click("form.task-form button[type=submit]")

    page.goto(f"/cases/{case_no}")
    expect(page.locator("#front-unit")).to_have_text("子坛村便民服务室")
    expect(page.locator("#mandate")).to_contain_text("受 李四 委托")
    expect(page.locator("#handover-chain li").first).to_contain_text("子坛村便民服务室 窗口 → 梁子镇便民服务中心 窗口")
    screenshot("agency-case-page")

    switch_to(page, "mz")
    page.goto("/desk")
    expect(page.locator("tr", has_text=case_no)).to_have_count(0)  # still at the town: not the district's yet
    switch_to(page, "liangzi")
    open_task(page, "镇中心报送区级")
    page.fill("#f-relay_note", "次日报送区民政局")
    page.click("form.task-form button[type=submit]")
    switch_to(page, "mz")
    open_task(page, "受理审查")
    page.check("input[name=decision][value=受理]")
    page.click("form.task-form button[type=submit]")
    page.goto(f"/cases/{case_no}")
    expect(page.locator("#handover-chain li")).to_have_count(2)
    expect(page.locator("#receipts")).to_contain_text("受理通知书")
    screenshot("agency-case-page-accepted")
