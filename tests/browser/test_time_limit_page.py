"""The case page's 办理时限 panel in a real browser, for a case whose clock has run.

The case is a demo-committed item (乡村建设规划许可证核发, 10 committed working days, 20 statutory,
yellow from 2 days left), driven through the engine at chosen times around the 2026 Spring
Festival: accepted Tuesday 10 February, seven days of publicity (clock paused: 11–14 February), a
review that asks for a supplement on 24 February (clock paused until the applicant brings it on
2 March), a second review left over its own two-day limit, then the tick that raises the yellow
warning on 11 March. The page is served as of 11 March 09:00 (the clock is frozen per request, as
the engine's clock is per thread), so the working days it shows do not depend on the day the test runs.

The screenshots land in test-artifacts/ (time-limit-case.png, time-limit-panel.png) for a person to
read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect

from engine.desk.casework import complete_task, start_case
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock

from .conftest import ARTIFACTS, ClockAt, browser_app, serving
from .test_walkthrough import log_in

pytestmark = pytest.mark.browser

HOUSE = {"applicant_name": "陈国平", "id_number": "420115198203154321", "village": "涂家垴镇新桥村三组",
         "site_area": 120, "floors": 2, "building_height": 7.5, "homestead_approval_no": "江宅批〔2026〕003号",
         "acceptance": "受理"}
SUPPLEMENT_LIST = "1. 住宅设计图（须有设计单位盖章）；2. 村民委员会意见原件"


def local(text: str) -> datetime:
    """A district-time moment ("2026-03-11 09:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


PAGE_TIME = local("2026-03-11 09:00")


@pytest.fixture
def live_server(db) -> Iterator[str]:
    """This module's server: the conftest one, but with the engine clock at PAGE_TIME for each request."""
    app = browser_app(db)
    app.wsgi_app = ClockAt(app.wsgi_app, PAGE_TIME)
    with serving(app) as url:
        yield url


def _open(db, case_no: str, element: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def _case_with_a_clock_that_has_run(db) -> str:
    deploy(db, "demo-committed")
    window = make_actor(db, "window", ["住建局窗口"])
    planner = make_actor(db, "planner", ["住建局规划股"])
    with clock.frozen_at(local("2026-02-10 10:00")):
        case_no = start_case(db, "DEMO-004", {}, window).case_no
        complete_task(db, _open(db, case_no, "accept"), HOUSE, window)
    assert tick(db, local("2026-02-17 10:01")).fired == [{"case_no": case_no, "element_id": "publicity"}]
    with clock.frozen_at(local("2026-02-24 11:00")):
        complete_task(db, _open(db, case_no, "review"),
                      {"approval": "需补正", "supplement_request": SUPPLEMENT_LIST}, planner)
    with clock.frozen_at(local("2026-03-02 16:00")):
        complete_task(db, _open(db, case_no, "supplement"),
                      {"supplement_received_on": "2026-03-02",
                       "supplement_received": "住宅设计图1份（盖章）；村委会意见原件1份"}, window)
    tick(db, local("2026-03-05 00:30"))  # the second review (ready 2 March, 2 working days) is over its limit
    with clock.frozen_at(local("2026-03-05 10:00")):
        complete_task(db, _open(db, case_no, "review"), {"approval": "准予许可", "objections": "无"}, planner)
    tick(db, local("2026-03-11 00:30"))  # two working days left: yellow
    return case_no


def test_case_page_shows_deadline_days_pauses_and_warnings(page: Page, screenshot, db):
    case_no = _case_with_a_clock_that_has_run(db)
    log_in(page, "window")
    page.goto(f"/cases/{case_no}")
    panel = page.locator("#time-limit")
    expect(panel.locator("h2")).to_have_text("办理时限")
    expect(panel).to_contain_text("2026-02-10 10:00")  # accepted (受理时间), not the application
    # 10 working days + 9 paused (4 of publicity, 5 of supplement): due at 24:00 on 13 March.
    expect(panel.locator("#committed-deadline")).to_contain_text("2026-03-13 24:00")
    expect(panel.locator("#committed-deadline")).to_contain_text("10 个工作日")
    expect(panel).to_contain_text("2026-03-27 24:00")  # statutory: 20 + 9 working days
    expect(panel.locator("#working-days")).to_have_text("已用 8 个工作日，剩余 2 个工作日")
    expect(panel.locator("#warning-level")).to_have_text("临期提醒")  # issue 15, item 10: 2 days left is no card

    pauses = panel.locator("table", has=page.locator("th", has_text="不计工作日")).locator("tbody tr")
    expect(pauses).to_have_count(2)
    expect(pauses.nth(0)).to_contain_text("批前公示")
    expect(pauses.nth(0)).to_contain_text("2026-02-17 10:01")
    expect(pauses.nth(0).locator("td").last).to_have_text("4")
    expect(pauses.nth(1)).to_contain_text("等待补正材料")
    expect(pauses.nth(1)).to_contain_text("2026-02-24 11:00")
    expect(pauses.nth(1)).to_contain_text("2026-03-02 16:00")
    expect(pauses.nth(1).locator("td").last).to_have_text("5")

    warnings = panel.locator("table", has=page.locator("th", has_text="通知")).locator("tbody tr")
    expect(warnings).to_have_count(2)
    expect(warnings.nth(0)).to_contain_text("黄牌")  # issue 15, item 10: an overrun step is overdue, a yellow card
    expect(warnings.nth(0)).to_contain_text("环节时限")
    expect(warnings.nth(0)).to_contain_text("规划审查")  # the step by its name (issue 16, item 6), not its id
    expect(warnings.nth(0)).not_to_contain_text("review")
    expect(warnings.nth(1)).to_contain_text("临期提醒")  # the day before the committed deadline: no card
    expect(warnings.nth(1)).to_contain_text("承诺时限")
    expect(warnings.nth(1)).to_contain_text("2026-03-13 24:00")
    expect(warnings.nth(1)).to_contain_text("全体电子监察")  # whom it told, by name
    expect(panel).not_to_contain_text("role:")

    screenshot("time-limit-case")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "time-limit-panel.png"))
