"""撤回申请 at the window and 终止 on the desk's pages (issue 15, item 7): who is offered which button, the forms,
their confirmation, and the engine's answer flashed on the page.

The engine decides (`engine.desk.closing`): a clerk the case concerns records the applicant's withdrawal with
their statement; a chief of a group handling the case terminates it with a reason; both refused once the
application has been decided. The page offers each only to whom the engine would allow (`engine.desk.offers`):
a handling clerk sees 撤回申请, the chief of the handling group sees 终止; another department's clerk, a
supervisor, an auditor and the applicant see neither, and a decided case offers neither.
"""

from __future__ import annotations

import re

import pytest
from conftest import csrf, desk_ops_case, log_in, make_actor

from engine.desk import casework
from engine.org import accounts
from engine.reads import queries

WITHDRAW, TERMINATE = 'id="op-withdraw-application"', 'id="op-terminate"'

pytestmark = pytest.mark.usefixtures("every_case_replays")


@pytest.fixture
def case_no(db):
    make_actor(db, "wang", ["受理窗口"])  # the window handling the case
    make_actor(db, "chief", ["受理窗口"], ["chief"])  # the head of the handling group, no clerk
    make_actor(db, "zhao", ["审查组"])  # another department's clerk
    make_actor(db, "review-chief", ["审查组"], ["chief"])  # another department's chief
    make_actor(db, "jiancha", [], ["supervisor"])
    make_actor(db, "shenji", [], ["auditor"])
    return desk_ops_case(db)


def task_id(db, case_no: str) -> str:
    return queries.open_tasks(db, case_no=case_no)[0].task_id


def status(db, case_no: str) -> str:
    return queries.case_detail(db, case_no)["status"]


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf(client, "/cases"), **form})


def test_the_handling_clerk_sees_withdraw_the_chief_sees_terminate_others_neither(client, db, case_no):
    log_in(client, "wang")
    for page in (client.get(f"/cases/{case_no}"), client.get(f"/desk/tasks/{task_id(db, case_no)}")):
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and WITHDRAW in html and TERMINATE not in html
        assert 'name="statement"' in html and 'name="confirm" value="yes"' in html  # the statement, a confirmation
    log_in(client, "chief")
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert TERMINATE in html and WITHDRAW not in html and 'name="reason"' in html
    for outsider in ("zhao", "review-chief", "jiancha", "shenji", "zhangsan"):
        log_in(client, outsider)
        page = client.get(f"/cases/{case_no}")
        assert outsider in client.get("/cases").get_data(as_text=True)  # logged in as this person
        html = page.get_data(as_text=True)
        # another department does not see the case at all; the supervisor, auditor and applicant see no button
        assert page.status_code == (403 if outsider in ("zhao", "review-chief") else 200), outsider
        assert WITHDRAW not in html and TERMINATE not in html, outsider
    assert status(db, case_no) == "submitted"


def test_a_clerk_records_the_applicants_withdrawal_at_the_window(client, db, case_no):
    log_in(client, "wang")
    path = f"/desk/cases/{case_no}/withdraw-application"
    unconfirmed = post(client, path, statement="申请人本人到窗口书面申请撤回")
    assert unconfirmed.status_code == 302 and status(db, case_no) == "submitted"
    assert "请勾选确认" in client.get(f"/cases/{case_no}").get_data(as_text=True)
    no_statement = post(client, path, confirm="yes", statement="  ")
    assert no_statement.status_code == 302 and status(db, case_no) == "submitted"
    assert "请写明申请人撤回申请的陈述" in client.get(f"/cases/{case_no}").get_data(as_text=True)  # the engine's

    done = post(client, path, confirm="yes", statement="申请人本人到窗口书面申请撤回", next=f"/cases/{case_no}")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_no}")
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert status(db, case_no) == "withdrawn"
    assert re.search(r"撤回申请确认书 \S+ 已出具", html)
    assert WITHDRAW not in html  # ended: nothing more to offer
    [event] = [e for e in queries.case_history(db, case_no) if e["type"] == "application_withdrawn"]
    assert event["actor"] == "wang" and event["data"] == {"channel": "window",
                                                          "statement": "申请人本人到窗口书面申请撤回"}


def test_the_chief_of_the_handling_group_terminates_with_a_reason(client, db, case_no):
    path = f"/desk/cases/{case_no}/terminate"
    log_in(client, "review-chief")  # a chief, but not of a group handling the case
    assert post(client, path, confirm="yes", reason="申请事项已不属本机关职权").status_code == 403
    log_in(client, "jiancha")
    assert post(client, path, confirm="yes", reason="申请事项已不属本机关职权").status_code == 403
    log_in(client, "chief")
    assert post(client, path, reason="申请事项已不属本机关职权").status_code == 302  # no confirmation
    assert status(db, case_no) == "submitted"
    assert post(client, path, confirm="yes", reason="").status_code == 302
    assert "请写明终止的理由" in client.get(f"/cases/{case_no}").get_data(as_text=True)

    assert post(client, path, confirm="yes", reason="申请事项已不属本机关职权").status_code == 302
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert status(db, case_no) == "terminated" and re.search(r"终止办理告知书 \S+ 已出具", html)
    assert TERMINATE not in html


def test_outsiders_are_refused_and_nothing_is_written(client, db, case_no):
    before = len(queries.case_history(db, case_no))
    log_in(client, "zhao")  # another department's clerk: the engine refuses (the case does not concern him)
    assert post(client, f"/desk/cases/{case_no}/withdraw-application", confirm="yes",
                statement="申请人书面申请撤回").status_code == 403
    for who in ("jiancha", "shenji", "zhangsan"):
        log_in(client, who)
        assert post(client, f"/desk/cases/{case_no}/withdraw-application", confirm="yes",
                    statement="申请人书面申请撤回").status_code == 403, who
        assert post(client, f"/desk/cases/{case_no}/terminate", confirm="yes",
                    reason="申请事项已不属本机关职权").status_code == 403, who
    assert status(db, case_no) == "submitted" and len(queries.case_history(db, case_no)) == before


def test_a_decided_case_offers_neither_and_the_engine_refuses_both(client, db, case_no):
    # the window decides not to accept: the application is decided (不予受理决定书)
    refusal = {"applicant_name": "张三", "decision": "不予受理", "reason": "不属于本机关职权范围",
               "legal_basis": "《中华人民共和国行政许可法》第三十二条"}
    casework.complete_task(db, task_id(db, case_no), refusal, accounts.actor_for(db, "wang"))
    decided = status(db, case_no)
    for who in ("wang", "chief"):
        log_in(client, who)
        html = client.get(f"/cases/{case_no}").get_data(as_text=True)
        assert WITHDRAW not in html and TERMINATE not in html, who
    log_in(client, "wang")
    post(client, f"/desk/cases/{case_no}/withdraw-application", confirm="yes", statement="申请人书面申请撤回")
    assert "不能撤回申请" in client.get(f"/cases/{case_no}").get_data(as_text=True)
    log_in(client, "chief")
    post(client, f"/desk/cases/{case_no}/terminate", confirm="yes", reason="申请事项已不属本机关职权")
    assert "不能终止" in client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert status(db, case_no) == decided
