"""行政许可法第四十五条 and 第四十二条 in a real browser (issue 15, items 3 and 4): a clerk handling the review
stops the clock for an expert review from the task page and resumes it after National Day; then the head of
the group handling the case extends the deadline from the case page. Each leaves its notice on the case.

The test item (tests/data/clock-item: 5 working days promised) is accepted on Monday 28 September 2026; the
server's clock is frozen per request and moved on between the acts. Screenshots in test-artifacts/
(chief-extends-*.png) for a person to read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from law_scenarios import clock_case_at_review
from playwright.sync_api import Page, expect

from engine.audit.replay import replay_case
from engine.time import clock

from .conftest import ClockAt, browser_app, serving
from .test_walkthrough import log_in, open_task

pytestmark = pytest.mark.browser



def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def server_clock(db) -> Iterator[tuple[str, ClockAt]]:
    """The app at a moment the test moves on (the middleware's `moment`)."""
    app = browser_app(db)
    app.wsgi_app = at = ClockAt(app.wsgi_app, local("2026-09-29 10:00"))
    with serving(app) as url:
        yield url, at


@pytest.fixture
def live_server(server_clock) -> str:
    return server_clock[0]


def test_a_clerk_suspends_and_resumes_then_a_chief_extends_from_the_desk(db, page: Page, server_clock, screenshot):
    _url, at = server_clock
    case_no = clock_case_at_review(db)

    # 29 September: the reviewer stops the clock for an expert review (第四十五条)
    log_in(page, "reviewer")
    open_task(page, "审查")
    expect(page.locator("#op-extend")).to_have_count(0)  # a clerk is no chief
    page.locator("#op-suspend summary").click()
    page.select_option("#suspend-form select[name=procedure]", "专家评审")
    page.fill("#suspend-form input[name=days]", "5")
    page.fill("#suspend-form textarea[name=reason]", "建设方案需组织专家论证")
    screenshot("chief-extends-1-suspend-form")
    page.click("#suspend-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("特别程序告知书")
    expect(page.locator("#resume-form")).to_contain_text("特别程序：专家评审（预计 5 个工作日）")
    screenshot("chief-extends-2-suspended")

    # 12 October, after National Day: the review is back, the reviewer resumes the clock
    at.moment = local("2026-10-12 11:00")
    page.reload()
    page.fill("#resume-form input[name=note]", "专家评审意见已收到")
    page.click("#resume-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("暂停的 5 个工作日不计入办理期限")
    expect(page.locator("#resume-form")).to_have_count(0)
    page.goto(f"/cases/{case_no}")
    expect(page.locator("body")).to_contain_text("2026-10-16 24:00")  # 10 October + the 5 days held
    screenshot("chief-extends-3-resumed")
    page.locator("form[action='/logout'] button").click()

    # 13 October: the chief extends by 3 working days (第四十二条) from the case page
    at.moment = local("2026-10-13 15:00")
    log_in(page, "chief")
    page.goto(f"/cases/{case_no}")
    screenshot("chief-extends-debug")
    page.locator("#op-extend summary").click()
    expect(page.locator("#extend-form")).to_contain_text("最多延长 10 个工作日")
    page.fill("#extend-form input[name=days]", "3")
    page.fill("#extend-form textarea[name=reason]", "专家意见分歧，需补充论证")
    screenshot("chief-extends-4-extend-form")
    page.click("#extend-form button[type=submit]")
    expect(page.locator(".notice-success")).to_contain_text("已延期 3 个工作日，承诺期限至 2026-10-21 24:00")
    expect(page.locator("#op-extend")).to_have_count(0)  # once per case
    expect(page.locator("body")).to_contain_text("延期告知书")
    expect(page.locator("body")).to_contain_text("特别程序告知书")
    screenshot("chief-extends-5-extended")
    report = replay_case(db, case_no)
    assert report.identical, report.divergence
