"""The analyst's day in a real browser (issue 16, item 12), on the database `onewindow init --demo` leaves:
the demo analyst opens the studio, a real catalogue item (JG-002, 政府投资项目可行性研究报告审批) in the
modeler, edits the collation step's form in the form editor — first a form that is not JSON and one that is
not a JSON Schema, each refused in Chinese naming what is wrong — previews it as the clerk will see it, sees
the lint results, deploys version 2, and reads the version list and the difference between the versions.

Screenshots: test-artifacts/analyst-NN-*.png; axe on every page; no console errors.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from engine.catalogue import drafts
from engine.catalogue.demo import DEMO_PASSWORD

from .test_studio_modeler import select_element

pytestmark = pytest.mark.browser

ITEM = "JG-002"
COLLATE_FORM = "catalogue-collate.json"
WITH_MEETING = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "汇总会签意见",
    "type": "object",
    "required": ["collated_opinion", "meeting_date"],
    "properties": {
        "collated_opinion": {"type": "string", "title": "汇总意见", "minLength": 2, "maxLength": 2000},
        "meeting_date": {"type": "string", "format": "date", "title": "联合会审日期"},
    },
}


def log_in_demo(page: Page, username: str) -> None:
    """Log in as a demo person (password demo1234), whoever was logged in before having gone."""
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_be_visible()


def test_the_analysts_day(page: Page, screenshot, axe, demo_seeded, db):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    log_in_demo(page, "analyst")

    page.click("nav >> text=流程工作室")
    row = page.locator(f'tr[data-item="{ITEM}"]')
    expect(row).to_contain_text("政府投资项目可行性研究报告审批")
    axe("the studio's list")
    screenshot("analyst-01-studio")

    row.locator("button[type=submit]").click()
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#lint-summary")).not_to_be_empty()
    axe("the modeler")
    screenshot("analyst-02-modeler")

    select_element(page, "collate")
    expect(page.locator("#prop-formJsonSchemaFilename")).to_have_value(COLLATE_FORM)
    page.click("#edit-form")
    expect(page.locator("h1")).to_contain_text(COLLATE_FORM)
    preview = page.locator("#form-preview")
    expect(preview.locator("#f-collated_opinion")).to_have_count(1)
    axe("the form editor")
    screenshot("analyst-03-form-editor")

    # hostile: not JSON, then JSON that is no JSON Schema — each named in Chinese, nothing saved
    page.fill("#schema-text", '{"type": "object", "properties": {"a": 1,}}')
    problem = page.locator("#form-problem")
    expect(problem).to_contain_text("不是有效的 JSON")
    expect(problem).to_contain_text("第 1 行")
    page.fill("#schema-text", json.dumps({"type": "object", "properties": {"phone": {"type": "文字"}}},
                                         ensure_ascii=False))
    expect(problem).to_contain_text("properties/phone/type")
    expect(problem).to_contain_text("“文字”不是可用的类型")
    assert not re.search(r"is not valid|Expecting", problem.inner_text())  # no English from the libraries
    screenshot("analyst-04-form-refused")
    # the refused previews are 400 answers, which Chromium logs as failed loads: those, and nothing else
    assert all("status of 400" in e for e in console_errors), console_errors
    console_errors.clear()

    page.fill("#schema-text", json.dumps(WITH_MEETING, ensure_ascii=False, indent=2))
    expect(problem).to_be_hidden()
    expect(preview.locator("#f-meeting_date")).to_have_attribute("type", "date")
    expect(preview.locator('[data-field="meeting_date"] label')).to_contain_text("联合会审日期")
    page.click("#save-form")
    expect(page.locator("#form-status")).to_have_text("已保存")
    axe("the form editor with its preview")
    screenshot("analyst-05-form-preview")

    page.click("text=返回流程图")
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#lint-summary")).not_to_be_empty()
    errors = page.locator("#findings .finding-error")
    expect(errors).to_have_count(0)
    axe("the modeler after the form was edited")
    screenshot("analyst-06-lint")

    if page.locator("#ack-row").is_visible():  # warnings (not errors) are acknowledged before a deploy
        page.check("#ack-warnings")
    page.click("#deploy")
    expect(page.locator(f'tr[data-item="{ITEM}"]')).to_contain_text("第 2 版")
    expect(page.locator(".notice-success", has_text=f"已部署 {ITEM} 第 2 版")).to_be_visible()
    axe("the studio's list after the deploy")
    screenshot("analyst-07-deployed")
    version_2 = drafts.version_files(db, ITEM, 2)
    assert json.loads(version_2[f"forms/{COLLATE_FORM}"])["properties"]["meeting_date"]["title"] == "联合会审日期"

    page.locator(f'tr[data-item="{ITEM}"]').get_by_role("link", name="版本列表").click()
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("第 2 版")
    axe("the version list")
    screenshot("analyst-08-versions")

    rows.first.get_by_role("link", name="与上一版比较").click()
    expect(page.locator("#diagram-new")).to_have_attribute("data-rendered", "1")
    expect(page.locator("main")).to_contain_text("元素新增 0，删除 0，修改 0；表单文件 1")  # the diagram is the same
    changed = page.locator("tr", has_text=f"forms/{COLLATE_FORM}")
    expect(changed).to_contain_text("新增字段 “联合会审日期”（meeting_date）")
    axe("the difference between the versions")
    screenshot("analyst-09-diff")
    assert console_errors == []
