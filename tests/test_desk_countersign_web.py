"""加签 on the desk (issue 15, item 11): the handler adds a reviewer before (前加签) or after (后加签) their own
answer from the task page; the reviewer is told, finds the task (the task page in their own group, the case
page otherwise) and answers 同意 / 不同意 with a reason; the task page shows the 加签 as it stands.

The engine decides (`engine.desk.countersign`): a clerk, chief or administrator other than oneself; one 加签 at
a time; only the named reviewer answers, once. Hostile variants: oneself, the applicant, an unknown user, a
second 加签 while one is pending, a clerk of another group adding one, someone else answering, answering twice.
"""

from __future__ import annotations

import re

import pytest
from conftest import csrf, desk_ops_case, log_in, make_actor

from engine.reads import queries

ACCEPT = {"applicant_name": "张三", "decision": "受理"}

pytestmark = pytest.mark.usefixtures("every_case_replays")


@pytest.fixture
def case_no(db):
    for name, groups in (("wang", ["受理窗口"]), ("li", ["受理窗口"]), ("zhao", ["审查组"])):
        make_actor(db, name, groups)
    make_actor(db, "chief", ["受理窗口"], ["chief"])
    make_actor(db, "jiancha", [], ["supervisor"])
    return desk_ops_case(db)


def accept_task(db, case_no: str) -> str:
    return next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")


def add(client, task: str, **form):
    return client.post(f"/desk/tasks/{task}/countersign", data={"csrf_token": csrf(client, "/cases"), **form})


def answer(client, task: str, **form):
    return client.post(f"/desk/tasks/{task}/countersign/answer", data={"csrf_token": csrf(client, "/cases"), **form})


def page(client, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def events(db, case_no: str, kind: str) -> list[dict]:
    return [e for e in queries.case_history(db, case_no) if e["type"] == kind]


def test_the_handler_is_offered_the_clerks_and_chiefs_the_engine_allows(client, db, case_no):
    log_in(client, "wang")
    html = page(client, f"/desk/tasks/{accept_task(db, case_no)}")
    form = html[html.index('id="op-countersign"'):html.index("</details>", html.index('id="op-countersign"'))]
    offered = re.findall(r'<option value="([^"]+)"', form)
    assert offered == ["li", "chief", "zhao"]  # the task's own clerks first; never oneself, an applicant, a supervisor
    assert 'value="before"' in form and 'value="after"' in form


def test_after_the_handlers_answer_waits_for_the_reviewer_who_agrees_on_the_task_page(client, db, case_no):
    task = accept_task(db, case_no)
    log_in(client, "wang")
    done = add(client, task, to="li", mode="after", reason="请复核受理意见")
    assert done.status_code == 302
    html = page(client, f"/desk/tasks/{task}")
    assert "已后加签给 li" in html and 'id="op-countersign"' not in html  # one at a time: no second form
    kept = client.post(f"/desk/tasks/{task}", data={"csrf_token": csrf(client, "/cases"), "_case": case_no, **ACCEPT})
    assert kept.status_code == 302 and kept.headers["Location"].endswith(f"/desk/tasks/{task}")
    assert queries.case_detail(db, case_no)["status"] == "submitted"
    html = page(client, f"/desk/tasks/{task}")
    assert f"办件 {case_no} 的“受理”已提交，等待加签人 li 签署意见" in html  # not 已办理完毕
    assert "等待加签人 li 签署意见。" in html and "受理决定：受理" in html
    assert 'id="countersign-answer-' not in html  # the handler does not answer their own 加签

    log_in(client, "li")
    assert "就“受理”后加签给您" in page(client, "/desk/messages")
    html = page(client, f"/desk/tasks/{task}")
    assert f'id="countersign-answer-{task}"' in html and "受理决定：受理" in html
    agreed = answer(client, task, opinion="同意", next=f"/desk/tasks/{task}")
    assert agreed.status_code == 302 and agreed.headers["Location"].endswith(f"/cases/{case_no}")
    assert "您已签署加签意见：同意" in page(client, f"/cases/{case_no}")
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["review"]  # the case moved on
    [completed] = events(db, case_no, "task_completed")
    assert completed["actor"] == "wang" and completed["data"]["countersigned_by"] == "li"

    again = answer(client, task, opinion="同意")  # answering twice: the task is done
    assert again.status_code == 302 and "已办理完毕" in page(client, "/desk")
    assert len(events(db, case_no, "countersign_answered")) == 1


def test_before_a_reviewer_of_another_group_answers_from_the_case_page(client, db, case_no):
    task = accept_task(db, case_no)
    log_in(client, "wang")
    assert add(client, task, to="zhao", mode="before").status_code == 302
    html = page(client, f"/desk/tasks/{task}")
    assert "已前加签给 zhao" in html and re.search(r'<button type="submit" class="primary" disabled', html)
    refused = client.post(f"/desk/tasks/{task}",
                          data={"csrf_token": csrf(client, "/cases"), "_case": case_no, **ACCEPT})
    assert refused.status_code == 422 and "须等其签署意见" in refused.get_data(as_text=True)

    log_in(client, "zhao")
    assert client.get(f"/desk/tasks/{task}").status_code == 403  # not his group's task
    html = page(client, f"/cases/{case_no}")
    assert 'id="countersign-requests"' in html and f'id="countersign-answer-{task}"' in html
    answer(client, task, opinion="不同意", next=f"/cases/{case_no}")  # no reason
    assert "不同意必须填写理由" in page(client, f"/cases/{case_no}")
    assert events(db, case_no, "countersign_answered") == []
    answer(client, task, opinion="不同意", reason="身份证复印件不清晰", next=f"/cases/{case_no}")
    answer(client, task, opinion="同意", next=f"/cases/{case_no}")  # answering twice
    assert "您已签署意见" in page(client, f"/cases/{case_no}")
    assert [e["data"]["opinion"] for e in events(db, case_no, "countersign_answered")] == ["不同意"]

    log_in(client, "wang")
    html = page(client, f"/desk/tasks/{task}")
    assert "加签人 zhao 已签署意见：不同意" in html
    done = client.post(f"/desk/tasks/{task}", data={"csrf_token": csrf(client, "/cases"), "_case": case_no, **ACCEPT})
    assert done.status_code == 302 and [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["review"]


@pytest.mark.parametrize(("to", "mode", "message"), [
    ("wang", "after", "不能加签给自己"),
    ("zhangsan", "after", "不是窗口人员或负责人"),
    ("nobody-such", "after", "用户 nobody-such 不存在"),
    ("li", "sideways", "加签方式只能是"),
    ("jiancha", "before", "不是窗口人员或负责人"),
])
def test_the_engine_refuses_a_bad_reviewer_and_the_form_comes_back(client, db, case_no, to, mode, message):
    task = accept_task(db, case_no)
    log_in(client, "wang")
    refused = add(client, task, to=to, mode=mode, reason="请复核")
    html = refused.get_data(as_text=True)
    assert refused.status_code in (404, 422) and message in html
    assert 'id="op-countersign" open' in html and "请复核" in html  # the form as typed
    assert events(db, case_no, "countersign_added") == []


def test_a_second_countersign_an_outsider_and_someone_elses_answer_are_refused(client, db, case_no):
    task = accept_task(db, case_no)
    log_in(client, "zhao")  # another group's clerk may not add a 加签 to this task
    assert add(client, task, to="li", mode="after").status_code == 403
    log_in(client, "wang")
    add(client, task, to="li", mode="before")
    second = add(client, task, to="chief", mode="after")
    assert second.status_code == 422 and "一次只能加签一人" in second.get_data(as_text=True)
    log_in(client, "chief")  # not the reviewer: refused, though the case concerns him
    assert answer(client, task, opinion="同意").status_code == 403
    log_in(client, "zhao")  # the case does not concern him at all
    assert answer(client, task, opinion="同意").status_code == 403
    log_in(client, "jiancha")
    assert answer(client, task, opinion="同意").status_code == 403
    assert [e["data"]["to"] for e in events(db, case_no, "countersign_added")] == ["li"]
    assert events(db, case_no, "countersign_answered") == []
