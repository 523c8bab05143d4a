"""The auditor's pages in a real browser: search, the dossier on screen and as printed, verification.

Screenshots land in test-artifacts/ (audit-search.png, audit-dossier.png, audit-dossier-print.png,
audit-verify.png) for a person to read.
"""

from __future__ import annotations

import pytest
from conftest import make_actor
from playwright.sync_api import Page, expect
from test_audit_integrity import run_case

from .test_walkthrough import log_in

pytestmark = pytest.mark.browser


def test_auditor_finds_a_case_reads_and_prints_its_dossier(page: Page, screenshot, db, joint, clerk):
    case_no = run_case(db, clerk)
    run_case(db, clerk, to_the_end=False)
    make_actor(db, "shenji", [], ["auditor"])
    log_in(page, "shenji")
    page.click("nav >> text=审计")
    page.select_option("#status", "completed")
    page.click("#audit-search button[type=submit]")
    expect(page.locator("#result-count")).to_contain_text("共 1 件")
    screenshot("audit-search")
    page.click(f"#results >> text={case_no}")
    expect(page.locator("h1")).to_contain_text(case_no)
    expect(page.locator("#verdict")).to_contain_text("校验通过")
    expect(page.locator("[data-print]")).to_be_visible()  # audit.js shows the print button
    expect(page.locator("#views")).to_contain_text("shenji")
    screenshot("audit-dossier")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    screenshot("audit-dossier-print")
    page.emulate_media(media="screen")
    page.goto("/audit/verify?all=1")
    expect(page.locator("#report")).to_contain_text("全部校验通过")
    screenshot("audit-verify")
