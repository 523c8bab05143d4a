"""The auditor's day in a real browser (issue 16, item 12), on the database `onewindow init --demo` leaves: an
application for a real catalogue item (JG-002) with an attachment the window received; the demo auditor (吴刚)
searches it by the applicant's name, opens the dossier (the attachment with its SHA-256 and 完好, the applicant
with the ID number to its last four and the phone masked), replays it, verifies it and reads the view log —
in Chinese, people by name.

Screenshots: test-artifacts/auditor-NN-*.png; axe on every page; no console errors.
"""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Page, expect

from engine.desk import attachments, casework
from engine.org import accounts
from engine.reads import queries

from .test_analyst_day import log_in_demo

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n% feasibility study\n"
ID_NUMBER = "11010119800101567X"
PHONE = "13800006666"


def test_the_auditors_day(page: Page, screenshot, axe, demo_seeded, db):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    window = accounts.actor_for(db, "jg-window")
    case_no = casework.start_case(db, "JG-002", {"applicant_name": "鑫源实业有限公司", "id_number": ID_NUMBER,
                                                 "phone": PHONE}, window).case_no
    attachments.add_attachment(db, case_no, "可行性研究报告.pdf", PDF, window)
    accept = queries.open_tasks(db, case_no=case_no)[0]
    casework.complete_task(db, accept.task_id, {"decision": "受理"}, window)

    log_in_demo(page, "auditor")
    page.goto("/audit")
    page.fill("#name", "鑫源")
    page.locator("#audit-search button[type=submit]").first.click()
    expect(page.locator("main")).to_contain_text(case_no)
    axe("the audit search")
    screenshot("auditor-01-search")

    page.goto(f"/audit/cases/{case_no}")
    files = page.locator("#attachments")
    expect(files).to_contain_text("可行性研究报告.pdf")
    expect(files).to_contain_text(hashlib.sha256(PDF).hexdigest())
    expect(files).to_contain_text("完好")
    expect(files).to_contain_text("区经济改革局 窗口")  # the uploader by name, not jg-window
    expect(page.locator("#applicant-name")).to_contain_text("鑫源实业有限公司")
    expect(page.locator("#applicant-id")).to_have_text("*" * 14 + "567X")
    expect(page.locator("#applicant-phone")).to_have_text("138****6666")
    body = page.locator("main").inner_text()
    assert ID_NUMBER not in body and PHONE not in body and "jg-window" not in body
    axe("the dossier")
    screenshot("auditor-02-dossier")

    page.click("text=重放办理过程")
    expect(page.locator("h1")).to_contain_text("重放")
    axe("the replay")
    screenshot("auditor-03-replay")

    page.goto(f"/audit/verify?case={case_no}")
    expect(page.locator("main")).to_contain_text("校验通过")
    axe("the verification")
    screenshot("auditor-04-verify")

    page.goto("/audit/views")
    log = page.locator("#views")
    for words in ("查阅案卷", "查看重放", "校验办件记录", "查询", "审计员 吴刚"):
        expect(log).to_contain_text(words)
    text = log.inner_text()
    assert "dossier" not in text and "search:" not in text and ID_NUMBER not in text
    axe("the view log")
    screenshot("auditor-05-views")
    assert console_errors == []
