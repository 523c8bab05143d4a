"""The supervisor's pages in a real browser: a time jump turns a case yellow and the dashboard shows it
without a reload, the warning appears on the warnings page and is acknowledged, and the performance
table changes once the case completes.

The server's clock is a moment the test moves (every request runs at it), and the scheduler tick runs
at the moment of the jump — the engine never reads the wall clock, so the pages do not depend on the day
the test runs. Screenshots: test-artifacts/watch-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from watch_scenarios import accept, finish, local, setup

from engine.runtime.scheduler import tick

from .conftest import ClockAt, browser_app, serving
from .test_walkthrough import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server_clock() -> ClockAt:
    return ClockAt(None, local("2026-02-24 09:00"))


@pytest.fixture
def live_server(db, server_clock) -> Iterator[str]:
    app = browser_app(db)
    app.config["WATCH_POLL_SECONDS"] = 1
    server_clock.app = app.wsgi_app
    app.wsgi_app = server_clock
    with serving(app) as url:
        yield url


def test_a_supervisor_sees_the_warning_after_a_time_jump_and_the_performance_change(page: Page, screenshot, db,
                                                                                    server_clock):
    people = setup(db)
    case_no = accept(db, people, "2026-02-12 10:00", unit="梁子镇")

    log_in(page, "centre-watch")
    page.locator(".main-nav a", has_text="电子监察").click()
    expect(page.locator("h1")).to_have_text("实时监控")
    expect(page.locator("[data-figure=open]")).to_have_text("1")
    expect(page.locator("[data-figure=yellow]")).to_have_text("0")
    expect(page.locator("[data-figure=refused_without_reason]")).to_have_text("0")
    expect(page.locator("#by_town")).to_contain_text("梁子镇")
    screenshot("watch-dashboard-before")

    # The time jump: the tick at 00:01 on 25 February, a working day before the deadline, raises the
    # reminder (issue 15, item 10: a reminder, not yet a card); the page, left open, shows it at its next poll.
    tick(db, local("2026-02-25 00:01"))
    server_clock.moment = local("2026-02-25 09:00")
    expect(page.locator("[data-figure=reminder]")).to_have_text("1")
    expect(page.locator("[data-figure=yellow]")).to_have_text("0")
    expect(page.locator("[data-figure=unacknowledged_warnings]")).not_to_have_text("0")
    screenshot("watch-dashboard-reminder")

    page.locator("a.kpi", has_text="临期提醒").click()
    rows = page.locator("#warnings tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(case_no)
    expect(rows.first).to_contain_text("临期提醒·承诺时限")
    expect(rows.first).to_contain_text("梁子镇便民服务中心")
    screenshot("watch-warnings")
    rows.first.get_by_role("button", name="确认").click()
    expect(page.locator(".notice-success")).to_contain_text(f"已确认办件 {case_no} 的预警")
    expect(page.locator("#no-warnings")).to_be_visible()

    page.goto("/watch/performance?from=2026-02-01&to=2026-02-28")
    town = page.locator("#windows tr[data-key='梁子镇']")
    expect(town.locator("[data-col=handled]")).to_have_text("0")  # its warnings count already, no case closed
    expect(town.locator("[data-col=on_time_rate]")).to_have_text("—")
    screenshot("watch-performance-before")
    finish(db, people, case_no, "2026-02-25 10:00")
    page.reload()
    expect(town.locator("[data-col=handled]")).to_have_text("1")
    expect(town.locator("[data-col=on_time_rate]")).to_have_text("100.0%")
    # one card: the review step overran its own limit; the committed-deadline reminder is no card
    expect(town.locator("[data-col=yellow_cards]")).to_have_text("1")
    expect(page.locator("#people tr[data-key='reviewer'] [data-col=handled]")).to_have_text("1")
    expect(page.locator("#performance-chart svg")).to_be_visible()
    screenshot("watch-performance")
