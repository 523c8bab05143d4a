"""An applicant in a real browser (S-10, S-13): registers with a phone code, finds an item in the hall,
applies with a file, follows the case with its number and follow-up code, and answers the supplement
the window asked for — then the window sees the case back at acceptance."""

from __future__ import annotations

import re

import pytest
from conftest import deploy, make_actor
from playwright.sync_api import Page, expect

from engine.desk import attachments
from engine.desk.casework import complete_task
from engine.hall import phone
from engine.org import orgtree
from engine.reads import queries

pytestmark = pytest.mark.browser


def log_in_as(page: Page, username: str, password: str, name: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(name)


def test_an_applicant_applies_follows_and_answers_a_supplement(page: Page, screenshot, db, tmp_path, monkeypatch):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")

    page.goto("/register")
    page.fill("#phone", "13700001111")
    page.click("form button[type=submit]")
    code = re.search(r"验证码是 (\d{6})", phone.outbox(db)[0]["message"]).group(1)
    page.fill("#code", code)
    page.fill("#name", "钱七")
    page.fill("#password", "applicant-pw")
    page.fill("#password2", "applicant-pw")
    page.click("form button[type=submit]")
    expect(page.locator(".who")).to_contain_text("钱七")

    page.goto("/hall")
    page.fill("input[name=q]", "应急预案")
    page.click("#catalogue-filters button[type=submit]")
    expect(page.locator("#item-count")).to_contain_text("共 1 个事项")
    screenshot("hall-search")
    page.locator("a", has_text="备案").first.click()
    expect(page.locator("#procedure")).to_contain_text("受理审查")
    page.fill("#f-applicant_name", "钱七")
    page.set_input_files("#material-0", files=[{"name": "预案.pdf", "mimeType": "application/pdf",
                                               "buffer": b"%PDF-1.7\n%demo\n"}])
    screenshot("hall-apply")
    page.click("form.form button[type=submit]")
    case_no = page.locator("#case-no").inner_text().strip()
    follow_code = page.locator("#query-code").inner_text().strip()
    screenshot("hall-receipt")

    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    task = queries.open_tasks(db, actor=window)[0]
    complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["单位主要负责人签署的发布令"]}, window)

    page.locator("form[action$='/logout'] button").click()
    page.goto("/hall/follow")
    page.fill("#case_no", case_no)
    page.fill("#code", "000000" if follow_code != "000000" else "111111")
    page.click("form.form button[type=submit]")
    expect(page.locator(".flash, .notice-error, [role=alert]").first).to_contain_text("办件编号或查询码不正确")
    page.fill("#code", follow_code)
    page.click("form.form button[type=submit]")
    expect(page.locator("#follow-status")).to_have_text("待补正")
    expect(page.locator("#supplement-request")).to_contain_text("单位主要负责人签署的发布令")
    screenshot("follow-supplement")
    expect(page.locator("#f-supplement_received")).to_have_count(0)  # the applicant's own form, not the window's
    page.fill("#supplement-note", "签署后的发布令一份")
    page.set_input_files("#supplement-0", files=[{"name": "发布令.pdf", "mimeType": "application/pdf",
                                                 "buffer": b"%PDF-1.7\n%signed\n"}])
    page.click("#supplement-request button[type=submit]")
    expect(page.locator("#follow-status")).to_have_text("已提交")
    expect(page.locator("#follow-where")).to_contain_text("受理审查")
    assert [t.element_id for t in queries.open_tasks(db, actor=window)] == ["accept_review"]
    assert sorted(a["filename"] for a in attachments.list_attachments(db, case_no)) == ["发布令.pdf", "预案.pdf"]

    # 好差评: the applicant rates the visit (each receipt is a visit); nothing is rated for them
    log_in_as(page, "13700001111", "applicant-pw", "钱七")
    page.goto(f"/hall/cases/{case_no}/rate")
    page.check("#rate input[name=score][value='5']")
    page.fill("#comment", "一次告知清楚，网上补正很方便")
    page.click("#rate button[type=submit]")
    expect(page.locator("#given")).to_contain_text("非常满意")
    screenshot("hall-rated")
