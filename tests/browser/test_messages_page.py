"""A supervisor reads what reaches them, in a real browser (issue 15, item 9): the tick deems an unanswered
application accepted (行政许可法第三十二条) and warns `role:supervisor`; the supervisor logs in, sees the unread
count on the navigation's 消息 link, opens the messages page, marks the warning read, and the count is gone —
for them, not for the other supervisor. Screenshots: test-artifacts/messages-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import make_actor
from law_scenarios import deploy_law_item, people, receive
from playwright.sync_api import Page, expect
from watch_scenarios import local

from engine.desk import inbox
from engine.runtime.scheduler import tick

from .conftest import ClockAt, browser_app, serving
from .test_walkthrough import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(db) -> Iterator[str]:
    app = browser_app(db)
    app.wsgi_app = ClockAt(app.wsgi_app, local("2026-10-12 09:00"))
    with serving(app) as url:
        yield url


def test_a_supervisor_sees_the_unread_count_and_reads_the_warning(page: Page, screenshot, db, tmp_path):
    deploy_law_item(db, tmp_path)
    who = people(db)  # "watch": a supervisor
    other = make_actor(db, "watch2", [], ["supervisor"])
    case_no = receive(db, who, "2026-09-28 10:00")
    tick(db, local("2026-10-11 00:01"))

    log_in(page, "watch")
    link = page.locator("#nav-messages")
    expect(link).to_contain_text("消息")
    expect(page.locator("#nav-unread")).to_have_text("1")
    screenshot("messages-nav-unread")

    link.click()
    expect(page.locator("h1")).to_have_text("消息")
    expect(link).to_have_class("active")
    row = page.locator("table.notices tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(case_no)
    expect(row).to_contain_text("第三十二条")
    expect(row).to_contain_text("共享通知·全体电子监察")
    expect(row).to_have_class("unread")
    screenshot("messages-page-supervisor")

    row.get_by_role("button", name="标为已读").click()
    expect(page.locator("table.notices tbody tr .read-mark")).to_contain_text("已读")
    expect(page.locator("#nav-unread")).to_have_count(0)
    expect(link).to_be_visible()
    screenshot("messages-page-read")
    assert inbox.message_counts(db, other) == (1, 1)  # still unread for the other supervisor


def test_the_same_warning_reads_in_english_for_a_supervisor_who_chose_english(page: Page, screenshot, axe, db,
                                                                                tmp_path):
    """The warning was written by the tick, with no reader and so in Chinese; read in English it is said again
    from its template (notifications.said), the case number and the date kept as data."""
    deploy_law_item(db, tmp_path)
    who = people(db)
    case_no = receive(db, who, "2026-09-28 10:00")
    tick(db, local("2026-10-11 00:01"))

    log_in(page, "watch")
    page.goto("/desk/messages?lang=en")
    expect(page.locator("h1")).to_have_text("Messages")
    row = page.locator("table.notices tbody tr")
    expect(row).to_contain_text(f"Case {case_no} got no acceptance")
    expect(row).to_contain_text("Article 32 of the Administrative Licensing Law")
    expect(row).to_contain_text("(2026-09-28)")
    expect(row).not_to_contain_text("第三十二条")
    axe("messages in English")
    screenshot("messages-page-supervisor-en")
