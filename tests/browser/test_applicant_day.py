"""The applicant's day (issue 16, item 12), on the database as `onewindow init --demo` leaves it, with a real
catalogue item: AJ-002 烟花爆竹经营（零售）许可 — six materials, a 补正 at acceptance, a licence number at 办结出证.

钱七 finds the item, registers with the SMS code from the outbox and comes back to it, applies with files (one
mistake first: the files stay), gets the receipt and prints it, finds the case in 我的办件. The window (aj-window,
in a second browser) asks for a 补正 listing what is missing; 钱七 answers it from 我的办件 with the files; the
window accepts, the remaining steps are driven through the engine, and 钱七 sees the result, the notices and the
licence number. Screenshots applicant-NN-*.png, axe on every page, no console errors.
"""

from __future__ import annotations

import json
import re

import pytest
from catalogue_walk import sample
from playwright.sync_api import Page, expect

from engine.desk.casework import complete_task
from engine.hall import phone
from engine.org import accounts
from engine.reads import queries

pytestmark = pytest.mark.browser

ITEM = "/hall/items/AJ-002"
PHONE = "13700001111"
LICENCE = "烟花零售许〔2026〕第 017 号"
MISSING = "营业执照"


def pdf(name: str) -> dict:
    return {"name": f"{name}.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n%" + name.encode() + b"\n"}


def listen(page: Page) -> list[str]:
    """Console errors and failed requests, except the one answer the walk provokes: the form sent back (422)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 422" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.status != 422 else None)
    return errors


def test_the_applicants_day(page: Page, browser, live_server, screenshot, axe, db, demo_seeded):
    errors = listen(page)

    page.goto(ITEM)
    expect(page.locator("h1")).to_have_text("烟花爆竹经营（零售）许可")
    screenshot("applicant-01-item")
    axe("the item's guide")
    page.click("#register-link")
    expect(page.locator("#demo-sms")).to_contain_text("onewindow sms")
    page.fill("#phone", PHONE)
    page.click("form button[type=submit]")
    screenshot("applicant-02-register")
    axe("registration")
    code = re.search(r"验证码是 (\d{6})", phone.outbox(db)[0]["message"]).group(1)
    page.fill("#code", code)
    page.fill("#name", "钱七")
    page.fill("#password", "applicant-pw")
    page.fill("#password2", "applicant-pw")
    page.click("form button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(ITEM) + "$"))  # back at the item, logged in
    expect(page.locator(".who")).to_contain_text("钱七")
    expect(page.locator("#f-phone")).to_have_value(PHONE)  # the registered phone, filled in

    page.set_input_files("#material-0", files=[pdf("申请书")])  # a mistake only the server sees: a program
    page.set_input_files("#material-1", files=[{"name": "营业执照.pdf", "mimeType": "application/pdf",
                                               "buffer": b"MZ\x90\x00 not a document"}])
    page.set_input_files("#material-2", files=[pdf("培训合格证明")])
    page.click("form.form button[type=submit]")
    expect(page.locator("#material-1-note")).to_be_visible()
    expect(page.locator("#kept-0")).to_contain_text("申请书")
    expect(page.locator("#kept-2")).to_contain_text("培训合格证明")
    screenshot("applicant-03-form-mistake")
    axe("the application form after a mistake")
    page.click("form.form button[type=submit]")  # the refused file left out; the kept ones not chosen again

    case_no = page.locator("#case-no").inner_text().strip()
    expect(page.locator("#query-code")).to_be_visible()
    screenshot("applicant-04-receipt")
    axe("the receipt")
    expect(page.locator("#print-receipt")).to_be_visible()
    page.emulate_media(media="print")
    screenshot("applicant-05-receipt-printed")
    page.emulate_media(media="screen")

    page.click("#nav-mine")
    expect(page.locator(f"#case-{case_no}")).to_contain_text("受理审查")
    screenshot("applicant-06-my-cases")
    axe("我的办件")

    window = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    clerk = window.new_page()
    clerk_errors = listen(clerk)
    clerk.goto("/login")
    clerk.fill("#username", "aj-window")
    clerk.fill("#password", "demo1234")
    clerk.click("button[type=submit]")
    clerk.goto("/desk")
    clerk.locator("a.task-link", has_text="受理审查").first.click()
    clerk.locator(".action", has_text="补正").click()
    clerk.check(f"input[name=missing_materials][value='{MISSING}']")
    clerk.fill("#f-missing_materials-more", "零售场所平面示意图（标明周边建筑）")
    clerk.click("form.task-form button[type=submit]")
    expect(clerk.locator(".notice-success")).to_be_visible()
    assert queries.case_detail(db, case_no)["status"] == "awaiting_supplement"

    page.goto("/hall/mine")
    expect(page.locator(f"#case-{case_no}")).to_contain_text("待补正")
    expect(page.locator(f"#case-{case_no}")).to_contain_text("补正材料通知书")
    page.locator(f"#case-{case_no} a", has_text="在线补正").click()
    expect(page.locator("#asked-materials li")).to_have_count(2)
    expect(page.locator("#supplement-form input[type=file]")).to_have_count(2)
    screenshot("applicant-07-supplement-asked")
    axe("the 补正 on 我的办件")
    page.set_input_files("#supplement-0", files=[pdf("营业执照")])
    page.set_input_files("#supplement-1", files=[pdf("平面示意图")])
    page.fill("#supplement-note", "营业执照原件办证时带到窗口核验")
    page.click("#supplement-submit")
    expect(page.locator(".notice-success")).to_contain_text("补正材料已提交")
    expect(page.locator("#case-status")).to_have_text("已提交")
    screenshot("applicant-08-supplement-sent")

    clerk.goto("/desk")
    clerk.locator("a.task-link", has_text="受理审查").first.click()
    clerk.locator(".action", has_text="受理").first.click()
    clerk.click("form.task-form button[type=submit]")
    expect(clerk.locator(".notice-success")).to_be_visible()
    assert not clerk_errors, clerk_errors
    window.close()

    admin = accounts.actor_for(db, "admin")  # the department's own steps: not the applicant's pages
    for _ in range(10):
        tasks = queries.open_tasks(db, case_no=case_no)
        if not tasks:
            break
        detail = queries.task_detail(db, tasks[-1].task_id)
        schema = json.loads(detail["schema"]) if isinstance(detail["schema"], str) else detail["schema"]
        offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
        data = {**sample(schema, offered[0] if offered else None)}
        if "document_no" in data:
            data["document_no"] = LICENCE
        complete_task(db, tasks[-1].task_id, data, admin)
    assert queries.case_detail(db, case_no)["status"] == "approved"

    page.goto("/hall/mine")
    row = page.locator(f"#case-{case_no}")
    expect(row).to_contain_text("已批准")
    expect(row).to_contain_text(LICENCE)
    expect(row).to_contain_text("准予行政许可决定书")
    screenshot("applicant-09-my-cases-decided")
    page.click(f"#case-{case_no} td.mono a")
    expect(page.locator("#my-document")).to_contain_text(LICENCE)
    for title in ("补正材料通知书", "受理通知书", "准予行政许可决定书"):
        expect(page.locator("#my-notices")).to_contain_text(title)
    screenshot("applicant-10-case-decided")
    axe("a decided case on 我的办件")
    page.locator("#my-result a").click()
    expect(page.locator("#notice-title")).to_have_text("准予行政许可决定书")
    screenshot("applicant-11-licence-notice")
    axe("the 准予行政许可决定书")
    assert not errors, errors
