"""The auditor's replay in a real browser: a joint-handling case walked forward and back on its own
diagram, checking at each step which elements bpmn-js carries which marker (the classes on
`g.djs-element[data-element-id=…]`): tokens, just completed, done before.

Screenshots land in test-artifacts/ (replay-01-accepted.png, replay-02-chase-timer.png,
replay-03-two-reviews.png, replay-04-closed.png, and the diagram alone at steps 3 and 6:
replay-01-accepted-diagram.png, replay-03-two-reviews-diagram.png) for a person to read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import ACCEPT_DATA, make_actor
from playwright.sync_api import Page, expect

from engine.desk.casework import claim_task, complete_task, start_case
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.time import clock

from .conftest import ARTIFACTS
from .test_walkthrough import log_in

pytestmark = pytest.mark.browser

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in the district
MARKERS = {"token": "replay-token", "just": "replay-just-completed", "done": "replay-done"}
REVIEWS = ["review_env", "review_fire", "review_housing"]
TIMERS = ["remind_env", "remind_fire", "remind_housing"]

# What the diagram must show after each change (1-based step): tokens, just completed, done before.
EXPECTED = {
    1: (["accept"], ["start"], []),
    2: (["accept"], [], ["start"]),
    3: (sorted(REVIEWS + TIMERS), ["accept", "split"], ["start"]),
    4: (["join", "remind_env", "remind_fire", "review_env", "review_fire"], ["review_housing"],
        ["accept", "split", "start"]),
    5: (["join", "review_env", "review_fire"],
        ["chase_env", "chase_fire", "chased_env", "chased_fire", "remind_env", "remind_fire"],
        ["accept", "review_housing", "split", "start"]),
    6: (["join", "review_env"], ["review_fire"],
        ["accept", "chase_env", "chase_fire", "chased_env", "chased_fire", "remind_env", "remind_fire",
         "review_housing", "split", "start"]),
}


def _task(db, case_no: str, element: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element)


def joint_case(db, clerk) -> str:
    """DEMO-001 through the engine: accepted, housing reviews the same day, the chase timers of fire and
    environment fire three days later (scheduler tick), then fire, environment and the certificate."""
    with clock.frozen_at(T0):
        case_no = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
        claim_task(db, _task(db, case_no, "accept"), clerk)
        complete_task(db, _task(db, case_no, "accept"), ACCEPT_DATA, clerk)
    with clock.frozen_at(T0 + timedelta(hours=5)):
        complete_task(db, _task(db, case_no, "review_housing"), {"opinion": "同意"}, clerk)
    tick(db, T0 + timedelta(days=3))  # workdays(2) have passed: 催办 for fire and environment
    with clock.frozen_at(T0 + timedelta(days=3, hours=2)):
        complete_task(db, _task(db, case_no, "review_fire"), {"opinion": "同意"}, clerk)
    with clock.frozen_at(T0 + timedelta(days=3, hours=4)):
        complete_task(db, _task(db, case_no, "review_env"), {"opinion": "同意"}, clerk)
    with clock.frozen_at(T0 + timedelta(days=4)):
        complete_task(db, _task(db, case_no, "issue"), {"certificate_no": "C-2026-7"}, clerk)
    return case_no


def markers(page: Page) -> tuple[list[str], list[str], list[str]]:
    """The ids carrying each replay marker on the rendered diagram: (tokens, just completed, done)."""
    found = page.eval_on_selector_all(
        "#replay-diagram g.djs-element[data-element-id]",
        "els => els.map(e => [e.getAttribute('data-element-id'), Array.from(e.classList)])")
    return tuple(sorted(i for i, classes in found if MARKERS[key] in classes) for key in ("token", "just", "done"))


def at_step(page: Page, number: int) -> None:
    expect(page.locator("#replay-diagram")).to_have_attribute("data-step", str(number))
    expect(page.locator(f"#step-{number}")).to_be_visible()
    expect(page.locator("#replay-position [data-position]")).to_have_text(str(number))
    expect(page.locator("#timeline li.is-current")).to_have_attribute("data-step", str(number))


def check(page: Page, number: int) -> None:
    at_step(page, number)
    tokens, just, done = EXPECTED[number]
    assert markers(page) == (tokens, just, done), number
    expect(page.locator("#replay-diagram .replay-token-badge")).to_have_count(len(tokens))


def test_auditor_walks_a_joint_case_forward_and_back(page: Page, screenshot, db, joint, clerk):
    console_errors: list[str] = []  # a CSP violation, a script error or a missing file shows up here
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    case_no = joint_case(db, clerk)
    make_actor(db, "shenji", [], ["auditor"])
    log_in(page, "shenji")
    page.goto("/audit?item=DEMO-001")
    page.locator("#results tr", has_text=case_no).get_by_role("link", name="重放").click()
    expect(page.locator("h1")).to_contain_text(f"办理过程重放 {case_no}")
    expect(page.locator("#replay-verdict")).to_contain_text("重新执行一致")
    expect(page.locator("#replay-diagram")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#timeline li")).to_have_count(8)
    check(page, 1)
    expect(page.locator("#replay-prev")).to_have_attribute("aria-disabled", "true")

    next_button = page.locator("#replay-next")
    next_button.click()
    check(page, 2)
    expect(page.locator("#step-2")).to_contain_text("签收「受理」")
    next_button.click()
    check(page, 3)  # after 受理: the three reviews and their waiting chase timers hold tokens
    step = page.locator("#step-3")
    expect(step).to_contain_text("办理「受理」：受理")
    expect(step.locator("tr[data-key=decision] td.new")).to_have_text("受理")
    expect(step).to_contain_text("一致")
    expect(page).to_have_url(re.compile(r"\?step=3$"))
    screenshot("replay-01-accepted")
    page.locator("#replay-diagram").screenshot(path=str(ARTIFACTS / "replay-01-accepted-diagram.png"))

    next_button.click()
    check(page, 4)
    next_button.click()
    check(page, 5)  # the scheduler's tick: two chase timers fired
    expect(page.locator("#step-5")).to_contain_text("计时触发「2个工作日未办结」×2 → 催办消防审查、催办环保审查")
    expect(page.locator("#step-5")).to_contain_text("系统（计时器）")
    screenshot("replay-02-chase-timer")
    next_button.click()
    check(page, 6)  # two reviews done: environment still holds a token, join waits
    screenshot("replay-03-two-reviews")
    page.locator("#replay-diagram").screenshot(path=str(ARTIFACTS / "replay-03-two-reviews-diagram.png"))

    page.locator("#replay-prev").click()
    check(page, 5)
    page.locator("#replay-prev").click()
    check(page, 4)
    page.keyboard.press("ArrowLeft")
    check(page, 3)  # going back restores the earlier highlighting
    page.locator("#timeline li[data-step='6'] a").click()
    check(page, 6)

    page.locator("#timeline li[data-step='8'] a").click()  # the certificate: the case is closed
    at_step(page, 8)
    tokens, just, done = markers(page)
    assert tokens == [] and {"issue", "end"} <= set(just)
    assert {*REVIEWS, "accept", "join", "split", "start"} <= set(done)
    expect(page.locator("#replay-next")).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#step-8")).to_contain_text("办理「办结发证」")
    screenshot("replay-04-closed")

    page.keyboard.press("ArrowLeft")
    at_step(page, 7)
    page.reload()  # the address keeps the step: the server renders it, the script marks it again
    expect(page).to_have_url(re.compile(r"\?step=7$"))
    expect(page.locator("#replay-diagram")).to_have_attribute("data-rendered", "1")
    at_step(page, 7)
    tokens, just, _ = markers(page)
    assert tokens == ["issue"] and just == ["join", "review_env"]
    assert console_errors == []


def test_without_javascript_the_steps_are_links(browser, live_server, db, joint, clerk):
    """Everything but the diagram works without JavaScript: ?step=N pages, previous/next as links, the
    highlighted elements listed as text."""
    case_no = joint_case(db, clerk)
    make_actor(db, "shenji", [], ["auditor"])
    context = browser.new_context(base_url=live_server, locale="zh-CN", java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "shenji")
        page.goto(f"/audit/cases/{case_no}/replay?step=3")
        expect(page.locator(".replay-step:visible")).to_have_count(1)
        expect(page.locator("#step-3")).to_be_visible()
        page.locator("#replay-next").click()
        expect(page).to_have_url(re.compile(r"\?step=4$"))
        step = page.locator("#step-4")
        expect(step).to_be_visible()
        ids = "els => els.map(e => e.dataset.elementId)"
        for css, expected in zip((".marks-token", ".marks-just", ".marks-done"), EXPECTED[4], strict=True):
            assert sorted(step.locator(f"{css} li").evaluate_all(ids)) == expected, css
        page.locator("#timeline li[data-step='1'] a").click()
        expect(page).to_have_url(re.compile(r"\?step=1$"))
        expect(page.locator("#step-1")).to_contain_text("提交申请")
        expect(page.locator("#replay-prev")).to_have_attribute("aria-disabled", "true")
    finally:
        context.close()
