"""The studio in a real browser: an analyst opens the joint-review demo in the modeler, shortens the
housing department's reminder timer and renames its lane through the properties panel, sees a lint
error appear on the diagram (and selects its element from the list) and disappear, deploys — and a case
started afterwards shows the new behaviour while a case started before keeps the old one.

Screenshots land in test-artifacts/studio-*.png for a person to look at.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import ACCEPT_DATA, deploy, make_actor
from playwright.sync_api import Page, expect

from engine.catalogue import drafts
from engine.desk import casework
from engine.diagrams.bpmn import NS, spiff_properties
from engine.diagrams.safexml import parse_xml
from engine.reads import queries
from engine.time import clock

from .test_walkthrough import log_in

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HOUSING = "区中心/区住房城乡建设和交通运输局·审核"  # a group of processes/org.json
ACCEPTED_AT = datetime.fromisoformat("2026-03-03T10:00:00+08:00")  # a Tuesday: +1 working day is Wednesday


def accepted_case(db, clerk) -> str:
    """A joint-review case past its acceptance, on whichever version is the item's latest now."""
    with clock.frozen_at(ACCEPTED_AT):
        case_no = casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
        [accept] = queries.open_tasks(db, case_no=case_no)
        casework.complete_task(db, accept.task_id, ACCEPT_DATA, clerk)
    return case_no


def open_in_studio(page: Page, username: str, code: str) -> None:
    """Log in as `username`, go to the studio by its menu, open a draft of item `code` and wait for its diagram."""
    log_in(page, username)
    page.click("nav >> text=流程工作室")
    page.locator(f'tr[data-item="{code}"] button[type=submit]').click()
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")


def select_element(page: Page, element_id: str, band: bool = False) -> None:
    """Click an element on the canvas (a lane: an empty corner of it) and wait for the panel to show it."""
    shape = f'#canvas g.djs-element[data-element-id="{element_id}"] > .djs-visual > :first-child'
    box = page.locator(shape).bounding_box()
    if band:  # an empty corner of the lane, clear of the palette on the left
        page.mouse.click(box["x"] + box["width"] - 20, box["y"] + 12)
    else:
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#properties .prop-id")).to_have_text(element_id)


def test_analyst_edits_lints_and_deploys_and_new_cases_follow(page: Page, screenshot, browser, live_server, db, joint):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    make_actor(db, "ana", [], ["analyst"])
    clerk = make_actor(db, "clerk", ["受理窗口", "住建审查", HOUSING, "消防审查", "环保审查"])
    before = accepted_case(db, clerk)

    log_in(page, "ana")
    page.click("nav >> text=流程工作室")
    page.locator('tr[data-item="DEMO-001"] button[type=submit]').click()
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")

    select_element(page, "remind_housing")
    expect(page.locator("#prop-timer-value")).to_have_value("workdays(2)")
    page.fill("#prop-timer-value", "P1D")
    page.press("#prop-timer-value", "Enter")
    error = page.locator("#findings .finding-error")
    expect(error).to_contain_text("P1D")
    expect(page.locator('#canvas [data-element-id="remind_housing"].lint-error')).to_have_count(1)
    expect(page.locator("#deploy")).to_be_disabled()
    select_element(page, "review_fire")
    error.click()  # the finding selects its element
    expect(page.locator("#properties .prop-id")).to_have_text("remind_housing")
    screenshot("studio-01-lint-error")

    page.fill("#prop-timer-value", "workdays(1)")
    page.press("#prop-timer-value", "Enter")
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")
    expect(page.locator("#findings li")).to_have_count(0)
    expect(page.locator('#canvas [data-element-id="remind_housing"].lint-error')).to_have_count(0)
    page.fill("#prop-notify", "group, chief")  # the first spiffworkflow:property on this element
    page.press("#prop-notify", "Enter")

    select_element(page, "Lane_housing", band=True)
    expect(page.locator("#prop-name")).to_have_value("住建审查")
    page.fill("#prop-name", "住建审查二组")  # a group the org tree does not know: nobody could handle it
    page.press("#prop-name", "Enter")
    expect(page.locator("#findings .finding-error").first).to_contain_text("住建审查二组")
    page.fill("#prop-name", HOUSING)
    page.press("#prop-name", "Enter")
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")
    expect(page.locator("#save-status")).to_have_text("有未保存的修改")
    page.click("#save-draft")
    expect(page.locator("#save-status")).to_have_text("已保存")
    screenshot("studio-02-edited")

    page.click("#deploy")
    expect(page.locator('tr[data-item="DEMO-001"]')).to_contain_text("第 2 版")  # back on the studio's list
    expect(page.locator(".notice-success", has_text="已部署 DEMO-001 第 2 版")).to_be_visible()
    screenshot("studio-03-deployed")

    version_2 = drafts.version_files(db, "DEMO-001", 2)["joint-review.bpmn"]
    timer = parse_xml(version_2, "v2").getroot().find(".//bpmn:boundaryEvent[@id='remind_housing']", NS)
    assert spiff_properties(timer) == {"notify": "group, chief"}
    assert "workdays(1)" in version_2 and 'value="review.json"' in version_2  # and the forms kept

    after = accepted_case(db, clerk)
    housing = {t.element_id: t.candidate_group for t in queries.open_tasks(db, case_no=after)}["review_housing"]
    assert housing == HOUSING
    clerk_page = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        view = clerk_page.new_page()
        log_in(view, "clerk")
        view.goto(f"/cases/{after}")
        open_steps = view.locator("section.panel", has_text="当前环节")
        expect(open_steps.locator("tr", has_text="住建部门审查")).to_contain_text("区住房城乡建设和交通运输局")
        expect(open_steps.locator(".timers")).to_contain_text("2个工作日未办结 — 到期 2026-03-04 10:00")
        view.screenshot(path=str(ARTIFACTS / "studio-04-new-case.png"), full_page=True)
        view.goto(f"/cases/{before}")
        expect(open_steps.locator("tr", has_text="住建部门审查")).to_contain_text("住建审查")
        expect(open_steps.locator("tr", has_text="住建部门审查")).not_to_contain_text("区住房城乡建设和交通运输局")
        expect(open_steps.locator(".timers")).to_contain_text("2个工作日未办结 — 到期 2026-03-05 10:00")
    finally:
        clerk_page.close()
    assert console_errors == []


REVIEW_WITH_DATE = """{
  "title": "部门审查意见",
  "type": "object",
  "required": ["opinion", "site_visit_date"],
  "properties": {
    "opinion": {"type": "string", "title": "审查意见", "enum": ["同意", "不同意"]},
    "site_visit_date": {"type": "string", "format": "date", "title": "现场核查日期"},
    "reason": {"type": "string", "title": "不同意的理由"}
  },
  "if": {"properties": {"opinion": {"const": "不同意"}}, "required": ["opinion"]},
  "then": {"required": ["reason"]}
}"""


def test_form_editor_previews_what_the_clerk_sees_and_saves_beside_the_diagram(page: Page, screenshot, db, joint):
    make_actor(db, "ana", [], ["analyst"])
    log_in(page, "ana")
    page.goto("/studio/")
    page.locator('tr[data-item="DEMO-001"] button[type=submit]').click()
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    select_element(page, "review_housing")
    expect(page.locator("#prop-formJsonSchemaFilename")).to_have_value("review.json")
    page.click("#edit-form")

    expect(page.locator("h1")).to_contain_text("review.json")
    preview = page.locator("#form-preview")
    expect(preview.locator("input[name=opinion][value=同意]")).to_have_count(1)  # the desk's radio buttons
    page.fill("#schema-text", '{"type": "object", "properties": {')
    expect(page.locator("#form-problem")).to_contain_text("不是有效的 JSON")
    page.fill("#schema-text", REVIEW_WITH_DATE)
    expect(page.locator("#form-problem")).to_be_hidden()
    expect(preview.locator("#f-site_visit_date")).to_have_attribute("type", "date")
    expect(preview.locator('[data-field="site_visit_date"] label')).to_contain_text("现场核查日期*")
    page.click("#save-form")
    expect(page.locator("#form-status")).to_have_text("已保存")
    screenshot("studio-05-form-editor")

    draft_id = int(page.url.split("/drafts/")[1].split("/")[0])
    saved = drafts.draft_package(drafts.get_draft(db, draft_id, make_actor(db, "root", [], ["admin"])))
    assert saved.files["forms/review.json"] == REVIEW_WITH_DATE
    page.click("text=返回流程图")
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")


def test_gateway_default_and_condition_through_the_panel(page: Page, screenshot, db):
    deploy(db, "demo-direct")
    make_actor(db, "ana", [], ["analyst"])
    log_in(page, "ana")
    page.goto("/studio/")
    page.locator('tr[data-item="DEMO-002"] button[type=submit]').click()
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")

    select_element(page, "decision_gw")
    page.select_option("#prop-gateway-default", "f_gw_refused")  # the refusal becomes the default flow
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")
    page.select_option("#prop-gateway-default", "")  # no default: the refusal now has no condition
    finding = page.locator('#findings .finding-error[data-element-id="f_gw_refused"]')
    expect(finding).to_contain_text("没有条件")
    finding.click()
    expect(page.locator("#properties .prop-id")).to_have_text("f_gw_refused")
    screenshot("studio-06-missing-condition")
    page.fill("#prop-condition", 'decision == "不予受理"')
    page.locator("#prop-condition").blur()
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")
    page.click("#save-draft")
    expect(page.locator("#save-status")).to_have_text("已保存")
    [draft] = drafts.drafts_of(db, "ana")
    flow = parse_xml(draft.files[draft.diagram_names()[0]], "d").getroot().find(
        ".//bpmn:sequenceFlow[@id='f_gw_refused']/bpmn:conditionExpression", NS)
    assert flow.text == 'decision == "不予受理"'
