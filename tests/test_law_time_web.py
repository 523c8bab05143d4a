"""行政许可法第四十五条 and 第四十二条 over plain forms (no browser): a handler of the open step stops the clock
for an expert review from the task page and resumes it after National Day; the head of the group handling the
case extends the deadline once from the case page. Each page says what the engine did — the notice, the days
held, the new deadline — and offers the operation only to whom the engine would allow it (S-7: time limits).

The twin of tests/browser/test_chief_extends.py, with the engine's clock frozen around each request as that
test's server freezes it: the test item (tests/data/clock-item, 5 working days promised) is accepted on Monday
28 September 2026; the 2026 calendar as in tests/test_law_suspension.py.
"""

from __future__ import annotations

import re

import pytest
from conftest import csrf, log_in
from law_scenarios import clock_case_at_review
from watch_scenarios import local

from engine.audit.replay import replay_case
from engine.reads import queries
from engine.time import clock


@pytest.fixture
def case_no(db) -> str:
    """The case accepted on 28 September, waiting at 审查 (group 审查组)."""
    return clock_case_at_review(db)


def _page(client, path: str, at: str) -> str:
    with clock.frozen_at(local(at)):
        return client.get(path).get_data(as_text=True)


def _post(client, at: str, path: str, back: str, **form: str) -> str:
    """Post a form from the page `back` as of `at`, and read the page it sends back to (its flashed message)."""
    with clock.frozen_at(local(at)):
        done = client.post(path, data={"csrf_token": csrf(client, back), "next": back, **form}, follow_redirects=True)
    assert done.status_code == 200
    return done.get_data(as_text=True)


def _success(page: str) -> str:
    return re.search(r'<div class="notice notice-success" role="status">(.*?)</div>', page, re.S).group(1)


def _part(page: str, start: str, end: str) -> str:
    """The page from `start` to the first `end` after it."""
    begin = page.index(start)
    return page[begin : page.index(end, begin)]


def test_a_handler_suspends_and_resumes_then_the_chief_extends_over_plain_forms(client, db, case_no):
    review = next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "review")
    task_path, case_path = f"/desk/tasks/{review}", f"/cases/{case_no}"
    log_in(client, "reviewer")
    page = _page(client, task_path, "2026-09-29 10:00")
    assert 'id="suspend-form"' in page and 'id="op-extend"' not in page  # a clerk is no chief
    assert 'id="resume-form"' not in page

    suspend = {"procedure": "专家评审", "days": "5", "reason": "建设方案需组织专家论证"}
    page = _post(client, "2026-09-29 10:05", f"/desk/cases/{case_no}/suspend", task_path, **suspend)
    assert re.fullmatch(rf"已启动特别程序并暂停计时；特别程序告知书 {case_no}-\d+ 已出具。", _success(page))
    assert "暂停计时中" in page  # the task page's deadline, while the clock stands still
    resume = _part(page, 'id="resume-form"', "</form>")
    assert "正在暂停计时：特别程序：专家评审（预计 5 个工作日）。" in resume
    assert 'id="suspend-form"' not in page  # one pause at a time

    page = _post(client, "2026-10-12 11:00", f"/desk/cases/{case_no}/resume", task_path, note="专家评审意见已收到")
    assert _success(page) == "特别程序结束，已恢复计时；暂停的 5 个工作日不计入办理期限。"
    assert 'id="resume-form"' not in page and "暂停计时中" not in page
    assert "2026-10-16 24:00" in _page(client, case_path, "2026-10-12 11:01")  # 10 October + the 5 days held

    log_in(client, "chief")
    offered = _part(_page(client, case_path, "2026-10-13 15:00"), 'id="op-extend"', "</details>")
    assert "现承诺期限：2026-10-16 24:00。" in offered and "最多延长 10 个工作日" in offered
    assert 'name="days" min="1" max="10"' in offered
    extend = {"days": "3", "reason": "专家意见分歧，需补充论证"}
    page = _post(client, "2026-10-13 15:05", f"/desk/cases/{case_no}/extend", case_path, **extend)
    extended = rf"已延期 3 个工作日，承诺期限至 2026-10-21 24:00；延期告知书 {case_no}-\d+ 已出具。"
    assert re.fullmatch(extended, _success(page))
    assert 'id="op-extend"' not in page  # once per case
    assert "延期告知书" in page and "特别程序告知书" in page
    report = replay_case(db, case_no)
    assert report.identical, report.divergence
