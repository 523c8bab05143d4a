"""An analyst edits an item's decision table in the studio (issue 17, item 4): GT-003's registration fee
table opens from the draft page in dmn-js (served from /vendor, never a CDN), the 住宅 row's fee goes
from 80 to 90, the save is checked as DMN and linted clean, the deploy makes version 2, the version
diff names the changed row (not raw XML), and a case on version 2 is charged 90.

Screenshots: test-artifacts/analyst-2N-dmn-*.png; axe on every page; no console errors (a CSP refusal
of eval would be one)."""

from __future__ import annotations

import re

import catalogue_walk
import pytest
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect

from engine.catalogue import versions
from engine.org import orgtree
from engine.runtime.change import load_workflow

from .test_studio_modeler import open_in_studio

pytestmark = pytest.mark.browser

# dmn-js 17.10.2's production bundle carries Inferno's development build, which says so on the console as
# an error when it finds itself minified; it is the library's own notice, not a fault of the page.
INFERNO_DEV_NOTICE = "It looks like you're using a minified copy of the development build of Inferno"


def test_the_analyst_changes_a_fee_in_the_decision_table_and_deploys_it(page: Page, screenshot, axe, db,
                                                                        monkeypatch):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    units = orgtree.install(db)
    deploy(db, "catalogue/guotu/GT-003")
    make_actor(db, "ana", [], ["analyst"])
    open_in_studio(page, "ana", "GT-003")

    page.click("a.decision-link >> text=registration_fee.dmn")
    expect(page.locator("#dmn-canvas")).to_have_attribute("data-rendered", "1")
    expect(page.locator("h1")).to_contain_text("registration_fee.dmn")
    table = page.locator("#dmn-canvas .tjs-table")
    expect(table).to_contain_text("申请人类别")
    expect(table).to_contain_text("登记费（元/件）")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#dmn-canvas")).to_contain_text("命中策略")  # dmn-js's own labels in Chinese
    expect(page.locator("#dmn-canvas .tjs-table thead")).not_to_contain_text("When")
    axe("the decision table")
    screenshot("analyst-21-dmn-table")

    residential = rows.filter(has_text='"住宅"')
    fee = residential.locator("td.output-cell").first
    expect(fee).to_have_text("80")
    fee.locator("[contenteditable]").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("90")
    page.locator("h1").click()
    expect(page.locator("#save-status")).to_have_text("有未保存的修改")
    page.click("#save-decision")
    expect(page.locator("#save-status")).to_have_text("已保存")
    expect(page.locator("#lint-summary")).to_have_text("没有发现问题")
    screenshot("analyst-22-dmn-saved")

    page.click("text=返回流程图")
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    page.click("#deploy")
    expect(page).to_have_url(re.compile(r"/studio/$"))
    expect(page.locator(".flash, .notice").first).to_contain_text("第 2 版")

    page.goto("/studio/items/GT-003/diff")
    changes = page.locator("#rule-changes")
    expect(changes).to_contain_text("住宅类不动产登记")
    expect(changes.locator("tr[data-status=changed]")).to_have_count(1)
    expect(changes).to_contain_text("登记费（元/件）")
    expect(changes.locator("td.old").first).to_have_text("80")
    expect(changes.locator("td.new").first).to_have_text("90")
    axe("the version diff with a decision table's rows")
    screenshot("analyst-23-dmn-diff")
    assert [e for e in console_errors if not e.startswith(INFERNO_DEV_NOTICE)] == [], console_errors

    # the engine: a residential registration on version 2 is charged 90
    assert versions.compare(db, "GT-003", 1, 2).rules[0].label == "住宅类不动产登记"
    sampled = catalogue_walk.application
    monkeypatch.setattr(catalogue_walk, "application",
                        lambda db, code: {**sampled(db, code), "applicant_kind": "个人", "land_use": "住宅"})
    front = catalogue_walk.fronts_for({"department": "市国土资源局本区分局", "level": "district"}, units)["区级窗口"]
    done = catalogue_walk.walk(db, "GT-003", make_actor(db, "walker", [], ["admin"]),
                               catalogue_walk.Path("批准", front))
    assert done.status == "approved"
    assert load_workflow(db, done.case_no).data["registration_fee"] == 90
