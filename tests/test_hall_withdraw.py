"""撤回申请 from the hall (issue 15, item 7): a registered applicant withdraws their own application from their
case page — POST /hall/cases/<no>/withdraw, with a ticked confirmation — before the decision only.

The engine decides who may (`engine.desk.closing.withdraw_application`, online: the case's own applicant); the
route only asks for the confirmation. Hostile variants: another applicant, a clerk (even one handling the
case), anonymous, a case number that does not exist, a decided case; none of them writes anything.
"""

from __future__ import annotations

import pytest
from conftest import csrf, desk_ops_case, log_in, make_actor
from sqlalchemy import select

from engine.desk import casework
from engine.org import accounts
from engine.reads import queries
from engine.store.tables import receipts

pytestmark = pytest.mark.usefixtures("every_case_replays")


@pytest.fixture
def case_no(db):
    make_actor(db, "wang", ["受理窗口"])
    make_actor(db, "lisi", [], ["applicant"])
    return desk_ops_case(db)


def withdraw(client, case_no: str, **form):
    with client.session_transaction() as session:  # an anonymous visitor has a page with a token too: the login
        logged_in = "_user_id" in session
    return client.post(f"/hall/cases/{case_no}/withdraw",
                       data={"csrf_token": csrf(client, "/hall" if logged_in else "/login"), "confirm": "yes", **form})


def status(db, case_no: str) -> str:
    return queries.case_detail(db, case_no)["status"]


def events(db, case_no: str) -> list[str]:
    return [e["type"] for e in queries.case_history(db, case_no)]


def test_the_applicant_withdraws_from_their_case_page(client, db, case_no):
    log_in(client, "zhangsan")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'id="withdraw-application"' in page and f'action="/hall/cases/{case_no}/withdraw"' in page
    assert 'name="confirm" value="yes"' in page and "我确认撤回本申请" in page  # a confirmation, not one click

    unconfirmed = client.post(f"/hall/cases/{case_no}/withdraw", data={"csrf_token": csrf(client, "/hall")})
    assert unconfirmed.status_code == 302 and status(db, case_no) == "submitted"
    assert "请勾选" in client.get(f"/cases/{case_no}").get_data(as_text=True)

    done = withdraw(client, case_no, statement="不需要了")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_no}")
    assert status(db, case_no) == "withdrawn" and queries.open_tasks(db, case_no=case_no) == []
    event = next(e for e in queries.case_history(db, case_no) if e["type"] == "application_withdrawn")
    assert (event["actor"], event["data"]) == ("zhangsan", {"channel": "online", "statement": "不需要了"})
    with db.reading() as conn:
        [number] = conn.execute(select(receipts.c.receipt_no).where(receipts.c.kind == "withdrawal")).scalars().all()
    after = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert f"撤回申请确认书 {number}" in after and number in after  # said, and listed among the notices
    assert 'id="withdraw-application"' not in after  # closed: nothing left to withdraw

    again = withdraw(client, case_no)
    assert again.status_code == 302 and events(db, case_no).count("application_withdrawn") == 1
    assert "办件已办结，不能撤回申请" in client.get(f"/cases/{case_no}").get_data(as_text=True)


@pytest.mark.parametrize("who", ["lisi", "wang"])
def test_another_applicant_or_a_clerk_is_refused(client, db, case_no, who):
    log_in(client, who)
    before = events(db, case_no)
    assert withdraw(client, case_no).status_code == 403
    assert status(db, case_no) == "submitted" and events(db, case_no) == before


def test_a_clerk_handling_the_case_cannot_withdraw_it_online(client, db, case_no):
    log_in(client, "wang")
    accept = queries.open_tasks(db, case_no=case_no)[0].task_id
    casework.claim_task(db, accept, accounts.actor_for(db, "wang"))
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'id="withdraw-application"' not in page  # the hall's button is the applicant's
    assert withdraw(client, case_no).status_code == 403 and status(db, case_no) == "submitted"


def test_anonymous_is_sent_to_log_in(client, db, case_no):
    response = withdraw(client, case_no)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert status(db, case_no) == "submitted"


def test_a_case_that_does_not_exist(client, db, case_no):
    log_in(client, "zhangsan")
    response = withdraw(client, "20990101999999")
    assert response.status_code == 404 and "不存在" in response.get_data(as_text=True)


def test_a_decided_case_is_refused_with_the_engines_message(client, db, case_no):
    accept = queries.open_tasks(db, case_no=case_no)[0].task_id
    casework.complete_task(db, accept, {"applicant_name": "张三", "decision": "不予受理", "reason": "不属于本机关职权",
                                        "legal_basis": "《中华人民共和国行政许可法》第三十二条"},
                           accounts.actor_for(db, "wang"))
    assert status(db, case_no) == "refused"
    log_in(client, "zhangsan")
    before = events(db, case_no)
    response = withdraw(client, case_no, statement="不需要了")  # a page opened before the decision
    assert response.status_code == 302
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert f"办件 {case_no} 办件已办结，不能撤回申请" in page
    assert status(db, case_no) == "refused" and events(db, case_no) == before
