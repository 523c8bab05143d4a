"""A clerk's task operations on real pages (Chromium): decision actions (补正 / 不予受理 / 受理), transfer,
delegate and confirm, return, withdraw, copy with its read mark, urge, materials, attachments, comments,
the case's own diagram on the task page — each time asserting what the page shows afterwards.

Screenshots land in test-artifacts/desk-ops-*.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import DATA_DIR, deploy, make_actor
from playwright.sync_api import Browser, Page, expect

from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.reads import queries

from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def desk_case(db) -> str:
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    for name, groups in (("wang", ["受理窗口"]), ("li", ["受理窗口"]), ("zhao", ["审查组"])):
        make_actor(db, name, groups)
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    return casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, applicant).case_no


@contextmanager
def clerk_page(browser: Browser, live_server: str, username: str, javascript: bool = True) -> Iterator[Page]:
    """A logged-in page of its own (own cookies), so several clerks can act in one test."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "secret-pw")
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(username)
    try:
        yield page
    finally:
        context.close()
    assert [e for e in errors if "status of 4" not in e] == []  # no script error, no CSP violation


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"desk-ops-{name}.png"), full_page=True)


def open_task(page: Page, name: str) -> None:
    page.goto("/desk")
    page.locator("a.task-link", has_text=name).first.click()
    expect(page.locator("h1")).to_have_text(name)


def submit(page: Page) -> None:
    page.click("form.task-form button[type=submit]")


def test_supplement_refusal_and_acceptance_as_actions(browser, live_server, db, desk_case):
    with clerk_page(browser, live_server, "wang") as page:
        page.goto("/desk")
        expect(page.locator("tr", has_text=desk_case)).to_contain_text("受理")
        shot(page, "01-list")
        open_task(page, "受理")
        reason = page.locator(".conditional[data-when='不予受理']").first
        supplement = page.locator(".conditional[data-when='补正']")
        expect(reason).to_be_hidden()  # nothing chosen yet: no conditional field shows
        page.check("#materials input[name='m:身份证'][value=missing]")
        page.check("#materials input[name='m:申请书'][value=received]")
        page.click("#materials button[type=submit]")
        expect(page.locator(".notice-success")).to_contain_text("材料清单已更新")
        expect(page.locator("tr[data-material='身份证']")).to_have_class("material-missing")

        page.locator(".action", has_text="不予受理").click()
        expect(reason).to_be_visible()
        expect(supplement).to_be_hidden()
        expect(page.locator("#f-reason")).to_have_attribute("required", "")  # the browser asks first
        page.locator(".action", has_text="补正").click()
        expect(supplement).to_be_visible()
        expect(page.locator("input[name=missing_materials][value=身份证]")).to_be_checked()  # from the checklist
        page.fill("#f-missing_materials-more", "村委会证明")
        shot(page, "02-task-supplement")
        submit(page)
        expect(page.locator(".notice-success")).to_contain_text("已办理完毕")
        expect(page.locator("#withdraw-form")).to_contain_text("可以撤回")

        page.goto(f"/cases/{desk_case}")
        expect(page.locator("#working-days")).to_contain_text("暂停计时中")
        expect(page.locator("#supplement li")).to_have_text(["身份证", "村委会证明"])
        expect(page.locator("table.history")).to_contain_text("村委会证明")

        open_task(page, "等待补正材料")
        page.check("#f-received")
        submit(page)
        open_task(page, "受理")
        page.locator(".action", has_text="受理").first.click()
        page.eval_on_selector("form.task-form", "form => form.noValidate = true")  # let the server judge
        page.locator(".action", has_text="不予受理").click()
        page.fill("#f-reason", "不属于本部门职权范围")
        submit(page)
        expect(page.locator('[data-field="legal_basis"] .field-error')).to_be_visible()
        expect(page.locator("#f-reason")).to_have_value("不属于本部门职权范围")  # nothing typed is lost
        page.locator(".action", has_text="受理").first.click()
        submit(page)
        expect(page.locator(".notice-success")).to_contain_text("已办理完毕")
    assert [t.element_id for t in queries.open_tasks(db, case_no=desk_case)] == ["review"]


def test_transfer_delegate_confirm_return_and_withdraw(browser, live_server, db, desk_case):
    with clerk_page(browser, live_server, "wang") as wang:
        open_task(wang, "受理")
        wang.click("#op-transfer summary")
        wang.select_option("#op-transfer select[name=to]", "li")
        wang.fill("#op-transfer textarea[name=reason]", "本人下午外出")
        wang.click("#op-transfer button[type=submit]")
        expect(wang.locator(".notice-success")).to_contain_text("已转办给 li")
        expect(wang.locator("tr", has_text=desk_case)).to_contain_text("li")

    with clerk_page(browser, live_server, "li") as li:
        li.goto("/desk/messages")
        expect(li.locator("table.notices")).to_contain_text("wang 将“受理”转办给您：本人下午外出")
        open_task(li, "受理")
        expect(li.locator("#assignee")).to_have_text("li")
        li.click("#op-delegate summary")
        li.select_option("#op-delegate select[name=to]", "zhao")
        li.click("#op-delegate button[type=submit]")
        expect(li.locator("#delegation-note")).to_contain_text("已委派给 zhao")

    with clerk_page(browser, live_server, "zhao") as zhao:
        zhao.goto("/desk/delegated")
        expect(zhao.locator("#tab-delegated .badge")).to_have_text("1")
        zhao.locator("a.task-link", has_text="受理").click()
        expect(zhao.locator("#delegation-note")).to_contain_text("交回 li 确认")
        zhao.locator(".action", has_text="受理").first.click()
        zhao.click("form.task-form button[type=submit]")
        expect(zhao.locator(".notice-success")).to_contain_text("已交回 li 确认")
        expect(zhao.locator("table.delegated")).to_contain_text("已交回，待确认")

    with clerk_page(browser, live_server, "li") as li:
        open_task(li, "受理")
        expect(li.locator("#delegation-note")).to_contain_text("zhao 已按委派办理完毕")
        expect(li.locator(".action-go input")).to_be_checked()  # the proposal, filled in
        shot(li, "03-task-delegation-proposed")
        li.click("form.task-form button[type=submit]")  # 确认并提交
        expect(li.locator(".notice-success")).to_contain_text("已办理完毕")
        li.click("#withdraw-form button[type=submit]")  # nobody has touched the review yet
        expect(li.locator(".notice-success")).to_contain_text("已撤回")
        open_task(li, "受理")
        expect(li.locator("#assignee")).to_have_text("li")
        expect(li.locator(".action-go input")).to_be_checked()  # the withdrawn submission, kept
        li.click("form.task-form button[type=submit]")
        expect(li.locator(".notice-success")).to_contain_text("已办理完毕")

    with clerk_page(browser, live_server, "zhao") as zhao:
        open_task(zhao, "审查")
        expect(zhao.locator("#diagram")).to_have_attribute("data-rendered", "1")
        expect(zhao.locator("#diagram .djs-element.is-open")).to_have_count(1)
        zhao.click("#op-return summary")
        zhao.eval_on_selector("#op-return form", "form => form.noValidate = true")
        zhao.click("#op-return button[type=submit]")
        expect(zhao.locator("#op-message")).to_contain_text("必须填写理由")
        zhao.fill("#op-return textarea[name=reason]", "身份证复印件不清晰")
        zhao.click("#op-return button[type=submit]")
        expect(zhao.locator(".notice-success")).to_contain_text("已从“审查”退回")

    with clerk_page(browser, live_server, "li") as li:
        li.goto("/desk?view=mine")
        expect(li.locator("tr", has_text=desk_case)).to_contain_text("受理")
        li.goto(f"/cases/{desk_case}")
        history = li.locator("table.history")
        for what in ("转办", "委派", "委派办理（待确认）", "撤回", "退回", "身份证复印件不清晰"):
            expect(history).to_contain_text(what)
        shot(li, "04-case-story")


def test_copy_urge_attachment_and_comment(browser, live_server, db, desk_case):
    deploy(db, "demo-joint-review")  # a second item on the list, with a diagram drawn for people
    with clerk_page(browser, live_server, "wang") as wang:
        open_task(wang, "受理")
        wang.set_input_files("#attachments input[type=file]", files=[
            {"name": "身份证.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        wang.select_option("#attachments select[name=material]", "身份证")
        wang.click("#attachments button[type=submit]")
        expect(wang.locator(".notice-success")).to_contain_text("附件“身份证.pdf”已上传")
        with wang.expect_download() as download:
            wang.locator("#attachments a", has_text="身份证.pdf").click()
        assert Path(download.value.path()).read_bytes() == PDF
        wang.fill("#comment-body", "申请人下午补交原件")
        wang.click("#comments button[type=submit]")
        expect(wang.locator(".comment")).to_contain_text("申请人下午补交原件")
        wang.click("#op-copy summary")
        wang.check("#op-copy input[value=zhao]")
        wang.fill("#op-copy textarea[name=note]", "请知悉")
        wang.click("#op-copy button[type=submit]")
        expect(wang.locator(".notice-success")).to_contain_text("已抄送")
        shot(wang, "05-task-page")
        wang.locator(".action", has_text="受理").first.click()
        submit(wang)
        wang.goto(f"/cases/{desk_case}")
        wang.fill("#urge-form input[name=note]", "申请人来电催问")
        wang.click("#urge-form button[type=submit]")
        expect(wang.locator(".notice-success")).to_contain_text("已催办")
        wang.click("#urge-form button[type=submit]")
        expect(wang.locator(".notice-error")).to_contain_text("1 小时内不能重复催办")

    with clerk_page(browser, live_server, "zhao") as zhao:
        zhao.goto("/desk")
        expect(zhao.locator("#tab-copies .badge")).to_have_text("1")
        zhao.click("#tab-copies")
        row = zhao.locator("table.notices tr", has_text="wang 抄送给您：请知悉")
        expect(row).to_have_class("unread")
        row.locator("button").click()
        expect(zhao.locator("table.notices tr", has_text="请知悉")).to_contain_text("已读")
        zhao.goto("/desk/messages")
        expect(zhao.locator("table.notices")).to_contain_text("被催办：申请人来电催问")
        shot(zhao, "06-copies")


def test_decision_works_without_javascript(browser, live_server, db, desk_case):
    with clerk_page(browser, live_server, "wang", javascript=False) as page:
        open_task(page, "受理")
        expect(page.locator(".conditional[data-when='不予受理']").first).to_be_visible()  # everything shows
        note = page.locator(".conditional[data-when='不予受理'] .when-note").first
        expect(note).to_contain_text("选择“不予受理”时必填")
        page.check("input[name=decision][value=不予受理]")
        page.fill("#f-reason", "不属于本部门职权范围")
        page.fill("#f-legal_basis", "《行政许可法》第三十二条")
        submit(page)
        expect(page.locator(".notice-success")).to_contain_text("已办理完毕")
    assert queries.case_detail(db, desk_case)["status"] == "refused"
