"""The supervisor's day in a real browser (issue 16, item 12), on the database `onewindow init --demo` leaves:
two applications for a real catalogue item (JG-002, 政府投资项目可行性研究报告审批) accepted in March are long
overdue in June; the demo supervisor (周敏) reads the watch, sees the warnings — one row per case and level,
the step by name — acknowledges two at once, chases a case, reads performance (staff only, no applicant
among them) and downloads the performance table as CSV (one charset, one BOM).

The server's clock is a moment the test sets (ClockAt); the scheduler's tick runs at the jump.
Screenshots: test-artifacts/supervisor-NN-*.png; axe on every page; no console errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from watch_scenarios import local

from engine.desk import casework
from engine.org import accounts
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock

from .conftest import ClockAt, browser_app, serving
from .test_analyst_day import log_in_demo

pytestmark = pytest.mark.browser

APPLIED = "2026-03-02 09:30"
LATER = "2026-06-01 09:00"


@pytest.fixture
def server_clock() -> ClockAt:
    return ClockAt(None, local(LATER))


@pytest.fixture
def live_server(db, server_clock) -> Iterator[str]:
    app = browser_app(db)
    server_clock.app = app.wsgi_app
    app.wsgi_app = server_clock
    with serving(app) as url:
        yield url


def _accepted(db, applicant: str) -> str:
    window = accounts.actor_for(db, "jg-window")
    with clock.frozen_at(local(APPLIED)):
        case_no = casework.start_case(db, "JG-002", {"applicant_name": applicant, "phone": "13800006666"},
                                      window).case_no
        accept = queries.open_tasks(db, case_no=case_no)[0]
        casework.complete_task(db, accept.task_id, {"decision": "受理"}, window)
    return case_no


def test_the_supervisors_day(page: Page, screenshot, axe, demo_seeded, db):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    first, second = _accepted(db, "鑫源实业有限公司"), _accepted(db, "恒达建设集团")
    tick(db, local("2026-06-01 00:01"))

    log_in_demo(page, "supervisor")
    page.goto("/watch")
    expect(page.locator("h1")).to_have_text("实时监控")
    expect(page.locator("[data-figure=open]")).not_to_have_text("0")
    expect(page.locator("#supervision-cases")).to_contain_text("监察办件")
    axe("the dashboard")
    screenshot("supervisor-01-dashboard")

    page.goto("/watch/warnings")
    table = page.locator("#warnings")
    for case_no in (first, second):
        rows = table.locator(f'tr[data-case="{case_no}"]')
        expect(rows.first).to_be_visible()
        levels = rows.evaluate_all("rows => rows.map(r => r.dataset.level)")
        assert len(levels) == len(set(levels)), levels  # one row per case and level
    yellow = table.locator(f'tr[data-case="{first}"][data-level="yellow"]')
    expect(yellow.locator("td.steps")).not_to_have_text("—")
    assert "_" not in yellow.locator("td.steps").inner_text()  # a name, not an element id
    axe("the warnings")
    screenshot("supervisor-02-warnings")

    for case_no in (first, second):
        table.locator(f'tr[data-case="{case_no}"][data-level="yellow"] input[type=checkbox]').check()
    page.locator("#ack-selected-applicants").click()
    notice = page.locator(".notice-success")
    expect(notice).to_contain_text("已确认办件")
    expect(notice).to_contain_text(first)
    expect(notice).to_contain_text(second)
    expect(page.locator(f'#warnings tr[data-case="{first}"][data-level="yellow"]')).to_have_count(0)
    screenshot("supervisor-03-acknowledged")

    page.locator(f'#warnings tr[data-case="{first}"]').first.get_by_role("button", name="督办").click()
    expect(page.locator(".notice-success")).to_contain_text(f"已督办办件 {first}")
    assert "group:" not in page.locator(".notice-success").inner_text()
    screenshot("supervisor-04-chased")

    page.goto("/watch/incidents")
    expect(page.locator("h1")).to_have_text("异常办件")
    axe("the incidents")
    screenshot("supervisor-05-incidents")

    page.goto("/watch/performance?from=2026-03-01&to=2026-06-30")
    people = page.locator("#people")
    if people.count():
        text = people.inner_text()
        assert "applicant" not in text and "申请人" not in text
    axe("the performance page")
    screenshot("supervisor-06-performance")

    with page.expect_download() as download:
        page.click("#export-csv")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and content.count(b"\xef\xbb\xbf") == 1
    assert "窗口" in content[3:].decode("utf-8")

    page.goto("/watch/reports")
    axe("the reports")
    screenshot("supervisor-07-reports")
    assert console_errors == []
