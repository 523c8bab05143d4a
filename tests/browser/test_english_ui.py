"""A foreign investor in the browser (issue 16, item 11): opens the hall in Chinese, follows the header's
"English" link, reads the hall, a guide, a refused follow-up (the engine's own refusal) and the registration
page in English, and the link back says
中文 and returns to the same page — with axe on every page and no console error."""

from __future__ import annotations

import re

import pytest
from conftest import deploy
from playwright.sync_api import Page, expect

from engine.org import orgtree

pytestmark = pytest.mark.browser


def test_an_investor_switches_to_english_and_back_on_the_same_page(page: Page, screenshot, axe, db):
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-001")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto("/hall?level=village")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    switch = page.locator("#lang-switch")
    expect(switch).to_have_text("English")
    expect(switch).to_have_attribute("lang", "en")
    switch.click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert re.search(r"/hall\?level=village&lang=en$", page.url), page.url  # the same page, the same filter
    expect(page.locator("nav.main-nav")).to_contain_text("Service hall")
    expect(page.locator("#item-count")).to_contain_text("Service items: 1")
    screenshot("investor-01-hall-en")
    axe("the hall in English")

    page.click("a[href=\"/hall/items/MZ-001\"] >> nth=0")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered: no ?lang on this link
    expect(page.locator("main")).to_contain_text("Service guide")
    screenshot("investor-02-guide-en")
    axe("a guide in English")

    page.goto("/register")
    expect(page.locator("h1")).to_contain_text("Applicant registration")
    screenshot("investor-03-register-en")
    axe("registration in English")

    # An engine refusal (engine/messages.py) on a public page reads in English too: a wrong query code.
    page.goto("/hall/follow")
    page.fill("#case_no", "20261204000001")
    page.fill("#code", "123456")
    logged = len(errors)
    page.click("button[type=submit]")
    expect(page.locator("main")).to_contain_text("The case number or query code is incorrect")
    expect(page.locator("main")).not_to_contain_text("办件编号或查询码不正确")
    assert [e for e in errors[logged:] if "404" not in e] == []  # Chromium logs the refusal's own status, 404
    del errors[logged:]
    screenshot("investor-04-follow-refused-en")
    axe("a refused follow-up in English")

    page.goto("/register")
    back = page.locator("#lang-switch")
    expect(back).to_have_text("中文")
    expect(back).to_have_attribute("lang", "zh-CN")
    back.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert page.url.endswith("/register?lang=zh"), page.url
    expect(page.locator("h1")).to_contain_text("申请人注册")
    assert errors == []
