"""新建事项 in a real browser (issue 17, item 7), on the database `onewindow init --demo` leaves: the demo
analyst creates a committed item from the studio's guide form — first with the place left empty, which is
named beside its field — gets a laid-out diagram, deploys it as version 1; an applicant applies for it in
the hall, and the case reaches the 住建局 window's desk.

Screenshots: test-artifacts/analyst-3N-new-*.png; axe on every page; no console errors."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_analyst_day import log_in_demo

pytestmark = pytest.mark.browser

GUIDE = {
    "code": "ZJ-101", "name": "城市道路临时占用许可",
    "content": "因工程建设等需要临时占用城市道路的，向区住房城乡建设和交通运输局申请许可。",
    "legal_basis": "《城市道路管理条例》第三十一条", "conditions": "确需临时占用城市道路",
    "procedure": "申请\n受理\n审查\n决定", "statutory_limit_days": "20", "committed_limit_days": "10",
    "fees": "不收费", "hours": "周一至周五 9:00—17:00", "visits": "1",
    "review_body": "区人民政府", "court": "区人民法院", "material_name_0": "临时占用城市道路申请书",
}


def test_an_analyst_creates_a_committed_item_and_an_applicant_applies_for_it(page: Page, screenshot, axe,
                                                                              demo_seeded):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    log_in_demo(page, "analyst")
    page.click("nav >> text=流程工作室")
    page.click("#new-item")
    expect(page.locator("h1")).to_have_text("新建事项")
    page.check("input[name=shape][value=committed]")
    for key, value in GUIDE.items():
        page.fill(f"[name={key}]", value)
    page.select_option("#f-department", "区住房城乡建设和交通运输局")
    axe("the new item's guide")
    screenshot("analyst-31-new-guide")
    page.click("#create-item")
    place = page.locator('[data-field="place"]')
    expect(place.locator(".field-error")).to_contain_text("办理地点")
    expect(page.locator("#f-code")).to_have_value("ZJ-101")  # what was typed stays
    # the refused form answers 400, which the browser notes on its console; that is the only error allowed
    assert [e for e in console_errors if "status of 400" not in e] == []
    console_errors.clear()
    axe("the guide with a mistake named")
    screenshot("analyst-32-new-mistake")

    page.fill("#f-place", "区行政服务中心 住建窗口")
    page.click("#create-item")
    expect(page.locator("#canvas")).to_have_attribute("data-rendered", "1")
    expect(page.locator("h1")).to_contain_text("新事项草稿")
    expect(page.locator("#lint-summary")).not_to_have_text("")
    axe("the new item's modeler")
    screenshot("analyst-33-new-modeler")
    if page.locator("#ack-row").is_visible():
        page.check("#ack-warnings")
    page.click("#deploy")
    expect(page).to_have_url(re.compile(r"/studio/$"))
    expect(page.locator('tr[data-item="ZJ-101"]')).to_contain_text("第 1 版")
    screenshot("analyst-34-new-deployed")

    log_in_demo(page, "applicant")
    page.goto("/hall")
    page.fill("input[name=q]", "临时占用")
    page.click("#catalogue-filters button[type=submit]")
    page.locator("a", has_text="城市道路临时占用许可").first.click()
    page.fill("#f-applicant_name", "张三")
    page.set_input_files("#material-0", files=[{"name": "申请书.pdf", "mimeType": "application/pdf",
                                               "buffer": b"%PDF-1.7\n%demo\n"}])
    axe("the hall's application for the new item")
    page.click("form.form button[type=submit]")
    case_no = page.locator("#case-no").inner_text().strip()
    screenshot("analyst-35-new-applied")

    log_in_demo(page, "zj-window")
    page.goto("/desk")
    expect(page.locator("body")).to_contain_text(case_no)
    axe("the window's desk with the new item's case")
    screenshot("analyst-36-new-at-the-desk")
    assert console_errors == []
