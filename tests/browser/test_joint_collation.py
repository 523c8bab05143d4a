"""A joint item's day at the desk, in a real browser (issue 16, items 4, 5 and 12), on the demo database and
the real catalogue item JG-002 (政府投资项目可行性研究报告审批, four departments in parallel):

- the window ticks a missing material under 补正, changes its mind to 受理 and submits: the list is hidden,
  not sent, and the record carries no missing-materials list;
- a department says 不同意: the reason and legal basis appear only for that answer;
- the collating clerk (承办 of the lead department) opens the joint refusal: every department's opinion by
  name, with reason, legal basis, who and when, and the refusal pre-filled from the departments that said no;
- the case page shows the same opinions.

Screenshots: test-artifacts/joint-NN-*.png; axe on every page; no console errors.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from engine.catalogue import demo
from engine.desk import submission
from engine.desk.casework import start_case
from engine.org import accounts, orgtree
from engine.reads import queries

from .test_analyst_day import log_in_demo

pytestmark = pytest.mark.browser

ITEM, LEAD = "JG-002", "区经济改革局"
LAND, HOUSING, ENVIRONMENT, FINANCE = ("市国土资源局本区分局", "区住房城乡建设和交通运输局", "区环境保护局", "区财政局")
MATERIAL = "项目可行性研究报告"
REASON = "项目选址位于生态保护红线内，不符合环境准入要求"
BASIS = "《中华人民共和国环境影响评价法》第二十二条"


def _group(unit: str, function: str) -> str:
    return orgtree.group_code(orgtree.department_unit(unit), function)


def _login_of(group: str) -> str:
    return next(u.username for u in demo.demo_users() if group in u.groups)


def _task(db, case_no: str, element: str, group: str | None = None):
    return next(t for t in queries.open_tasks(db, case_no=case_no, limit=50)
                if t.element_id == element and (group is None or t.candidate_group == group))


def _recorded(db, case_no: str, element: str) -> dict:
    return [e for e in queries.case_history(db, case_no)
            if e["type"] == "task_completed" and e["element_id"] == element][-1]["data"]["data"]


def test_a_joint_case_from_acceptance_to_the_collated_refusal(page: Page, screenshot, axe, demo_seeded, db):
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    applicant = accounts.actor_for(db, "applicant")
    case_no = start_case(db, ITEM, {"applicant_name": "张三", "id_number": "42070419800101123X"}, applicant,
                         unit=orgtree.department_unit(LEAD)).case_no

    # the window: 补正 with a ticked material, then 受理 after all
    log_in_demo(page, _login_of(_group(LEAD, "窗口")))
    page.goto(f"/desk/tasks/{_task(db, case_no, 'accept_review').task_id}")
    missing = page.locator('[data-field="missing_materials"]')
    expect(missing).to_be_hidden()  # no answer chosen yet: no answer's fields
    page.locator(".decision-actions label", has_text="补正").click()
    expect(missing).to_be_visible()
    missing.get_by_label(MATERIAL, exact=True).check()
    axe("the acceptance form, 补正 chosen")
    screenshot("joint-01-accept-supplement-ticked")
    page.locator(".decision-actions label", has_text="受理").first.click()
    expect(missing).to_be_hidden()
    expect(missing.get_by_label(MATERIAL, exact=True)).to_be_disabled()  # hidden and not sent
    expect(page.locator('[data-field="reason"]')).to_be_hidden()
    screenshot("joint-02-accept-chosen")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success").first).to_contain_text("已办理完毕")
    assert _recorded(db, case_no, "accept_review") == {"decision": "受理"}

    # the environment department says no, in the browser; the others answer through the engine
    log_in_demo(page, _login_of(_group(ENVIRONMENT, "审核")))
    page.goto(f"/desk/tasks/{_task(db, case_no, 'joint_opinion', _group(ENVIRONMENT, '审核')).task_id}")
    reason = page.locator('[data-field="reason"]')
    expect(reason).to_be_hidden()
    page.locator(".decision-actions label", has_text="不同意").click()
    expect(reason).to_be_visible()
    page.fill("#f-comment", "经审查，项目选址与生态保护红线重叠")
    page.fill("#f-reason", REASON)
    page.fill("#f-legal_basis", BASIS)
    axe("a department's review, 不同意 chosen")
    screenshot("joint-03-department-refuses")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success").first).to_contain_text("已办理完毕")
    for department in (LAND, HOUSING, FINANCE):
        group = _group(department, "审核")
        submission.submit_task(db, _task(db, case_no, "joint_opinion", group).task_id,
                               {"decision": ["同意"], "comment": ["同意，无意见"]},
                               accounts.actor_for(db, _login_of(group)))

    # the collating clerk: every department's opinion, the refusal drafted from the one that said no
    log_in_demo(page, _login_of(_group(LEAD, "承办")))
    page.goto(f"/desk/tasks/{_task(db, case_no, 'joint_refusal').task_id}")
    panel = page.locator("#joint-opinions")
    expect(panel).to_contain_text("4 个部门中 1 个不同意")
    for department in (LAND, HOUSING, ENVIRONMENT, FINANCE):
        expect(panel.locator("tbody tr", has_text=department)).to_have_count(1)
    refusing = panel.locator("tr.opinion-refused")
    expect(refusing).to_contain_text(ENVIRONMENT)
    expect(refusing).to_contain_text(REASON)
    expect(refusing).to_contain_text(BASIS)
    expect(refusing).to_contain_text("区环境保护局 审核")  # the reviewer by display name
    expect(panel).not_to_contain_text("·审核")
    expect(page.locator("#f-reason")).to_have_value(f"{ENVIRONMENT}：{REASON}")
    expect(page.locator("#f-legal_basis")).to_have_value(f"{ENVIRONMENT}：{BASIS}")
    axe("the joint refusal with the departments' opinions")
    screenshot("joint-04-collation")
    page.click("form.task-form button[type=submit]")
    expect(page.locator(".notice-success").first).to_contain_text("已办理完毕")
    assert _recorded(db, case_no, "joint_refusal")["reason"] == f"{ENVIRONMENT}：{REASON}"

    page.goto(f"/cases/{case_no}")
    expect(page.locator("#joint-opinions")).to_contain_text(REASON)
    axe("the case page with the opinions")
    screenshot("joint-05-case-page")
    assert console_errors == []
