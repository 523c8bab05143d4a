"""The studio's panel edits what spiff-arena writes for the steps onewindow now runs (issue 17, items 1, 4):
a business rule task's calledDecisionId (GT-003's fee table) and a step's instructionsForEndUser (what a
manual task's handler reads), saved into the draft's XML as spiff-arena's own modeler would write them."""

from __future__ import annotations

import pytest
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect

from engine.catalogue import drafts
from engine.diagrams.bpmn import NS
from engine.diagrams.safexml import parse_xml
from engine.org import orgtree

from .test_studio_modeler import open_in_studio, select_element

pytestmark = pytest.mark.browser


def test_the_panel_shows_a_decision_id_and_writes_instructions_into_the_draft(page: Page, screenshot, axe, db):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    orgtree.install(db)
    deploy(db, "catalogue/guotu/GT-003")
    make_actor(db, "ana", [], ["analyst"])
    open_in_studio(page, "ana", "GT-003")

    select_element(page, "issue")  # first: the selected element's context pad opens to its right, over "issue"
    page.fill("#prop-instructions", "核对登记费缴款凭证后发证")
    page.locator("#prop-instructions").blur()
    select_element(page, "fee")
    expect(page.locator("#properties")).to_contain_text("业务规则任务")
    expect(page.locator("#prop-decision")).to_have_value("registration_fee")
    expect(page.locator("#save-status")).to_have_text("有未保存的修改")
    page.click("#save-draft")
    expect(page.locator("#save-status")).to_have_text("已保存")
    screenshot("analyst-10-instructions")
    axe("the modeler with a business rule task")

    draft_id = int(page.url.split("/drafts/")[1].split("/")[0])
    saved = drafts.draft_package(drafts.get_draft(db, draft_id, make_actor(db, "root", [], ["admin"])))
    [bpmn] = [text for name, text in saved.files.items() if name.endswith(".bpmn") and "/" not in name]
    root = parse_xml(bpmn, "draft").getroot()
    issue = root.find(".//bpmn:userTask[@id='issue']", NS)
    instructions = issue.find("./bpmn:extensionElements/spiffworkflow:instructionsForEndUser", NS)
    assert instructions.text == "核对登记费缴款凭证后发证"
    fee = root.find(".//bpmn:businessRuleTask[@id='fee']", NS)
    assert fee.find("./bpmn:extensionElements/spiffworkflow:calledDecisionId", NS).text == "registration_fee"
    assert "registration_fee.dmn" in saved.files  # the table stays with the draft
    assert console_errors == []
