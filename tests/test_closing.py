"""Nothing stalls unseen (issue 15, item 7): withdrawing (撤回申请) and terminating (终止), dated 2026-12-01.

行政许可法 has no article on withdrawing an application or terminating a licensing procedure; practice (and
many local rules) lets the applicant withdraw before the decision, and the head of the organ end a case that
cannot go on, each in writing. So: the applicant withdraws online (their account or the follow-up code) or at
the window (a clerk records the applicant's statement); a chief of a group handling the case terminates with
a reason; the applicant gets a notice; open tasks are cancelled; all are refused after the decision
(art 38's decision, or art 32's 不予受理) — revoking a decision (撤销, art 69) is another procedure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import deploy, make_actor

from engine.audit.replay import replay_case
from engine.desk import casework, closing, offers
from engine.desk.casework import complete_task
from engine.errors import OnewindowError, PermissionDenied
from engine.org import orgtree
from engine.reads import queries
from engine.runtime.ending import CaseDecided
from engine.runtime.scheduler import tick
from engine.store.tables import audit_events, cases, notifications, receipts
from engine.time import clock

WINDOW = "区中心/区安全生产监督管理局·窗口"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HOUSE = {"applicant_name": "陈国平", "id_number": "420115198203154321", "village": "涂家垴镇新桥村三组",
         "site_area": 120, "floors": 2, "building_height": 7.5, "homestead_approval_no": "江宅批〔2026〕003号",
         "acceptance": "受理"}  # DEMO-004's acceptance, as tests/browser/test_time_limit_page.py fills it


@pytest.fixture
def setup(db):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    window = make_actor(db, "aj", [WINDOW])
    applicant = make_actor(db, "wangwu", [], ["applicant"])
    return window, applicant


def _start(db, applicant, at=T0):
    with clock.frozen_at(at):
        return casework.start_case(db, "AJ-003", {"applicant_name": "王五"}, applicant)


def _counts(db, case_no):
    with db.reading() as conn:
        case_id = conn.execute(cases.select().where(cases.c.case_no == case_no)).one().id
        return (conn.execute(audit_events.select().where(audit_events.c.case_id == case_id)).all().__len__(),
                [r.kind for r in conn.execute(receipts.select().where(receipts.c.case_id == case_id))])


def test_the_applicant_withdraws_online_before_the_decision(db, setup):
    """Withdrawal online, by the registered applicant and by the follow-up code; the open step is cancelled,
    the window's group is told, a 撤回申请确认书 is issued, the case ends 'withdrawn' and replays identically."""
    _window, applicant = setup
    first, second = _start(db, applicant), _start(db, applicant)
    with clock.frozen_at(T0 + timedelta(hours=1)):
        number = closing.withdraw_application(db, first.case_no, applicant, "不再需要")
        closing.withdraw_application(db, second.case_no, casework.applicant_actor(second.case_no))
    for started in (first, second):
        detail = queries.case_detail(db, started.case_no)
        assert detail["status"] == "withdrawn" and detail["closed_at"] is not None
        assert queries.open_tasks(db, case_no=started.case_no) == []
        assert _counts(db, started.case_no)[1] == ["withdrawal"]
        assert replay_case(db, started.case_no).identical
    assert number.startswith(first.case_no)
    with db.reading() as conn:
        told = conn.execute(notifications.select().where(notifications.c.recipient == f"group:{WINDOW}")).all()
    assert any("申请人已撤回申请" in n.message for n in told)
    with pytest.raises(CaseDecided, match="已办结"):  # once is enough
        closing.withdraw_application(db, first.case_no, applicant)


def test_the_window_records_a_withdrawal_with_the_applicants_statement(db, setup):
    """At the window: a clerk of the handling group, with the applicant's statement (required)."""
    window, applicant = setup
    started = _start(db, applicant)
    before = _counts(db, started.case_no)
    with clock.frozen_at(T0 + timedelta(hours=2)):
        with pytest.raises(OnewindowError, match="陈述"):
            closing.withdraw_application(db, started.case_no, window, "  ", channel="window")
        stranger = make_actor(db, "other", ["区中心/区民政局·窗口"])
        with pytest.raises(PermissionDenied):
            closing.withdraw_application(db, started.case_no, stranger, "申请人当面要求撤回", channel="window")
        with pytest.raises(OnewindowError):
            closing.withdraw_application(db, started.case_no, window, "x" * 501, channel="window")
        with pytest.raises(OnewindowError, match="撤回方式"):
            closing.withdraw_application(db, started.case_no, window, "申请人当面要求撤回", channel="<script>")
        assert _counts(db, started.case_no) == before  # nothing written by any refusal
        closing.withdraw_application(db, started.case_no, window, "申请人王五当面书面申请撤回", channel="window")
    event = next(e for e in queries.case_history(db, started.case_no) if e["type"] == "application_withdrawn")
    assert event["data"] == {"channel": "window", "statement": "申请人王五当面书面申请撤回"}
    assert replay_case(db, started.case_no).identical


def test_someone_else_cannot_withdraw_online(db, setup):
    _window, applicant = setup
    started = _start(db, applicant)
    other = make_actor(db, "lisi", [], ["applicant"])
    with clock.frozen_at(T0):
        with pytest.raises(PermissionDenied, match="只有本办件的申请人"):
            closing.withdraw_application(db, started.case_no, other)
        with pytest.raises(PermissionDenied):
            closing.withdraw_application(db, started.case_no, casework.applicant_actor("20260101000001"))
    assert queries.case_detail(db, started.case_no)["status"] == "submitted"


def test_withdrawal_and_termination_are_refused_after_the_decision(db, setup):
    """Art 32: 不予受理 decides the application; nothing is withdrawn or terminated after it."""
    window, applicant = setup
    started = _start(db, applicant)
    chief = make_actor(db, "chief", [WINDOW], ["chief"])
    with clock.frozen_at(T0):
        review = queries.open_tasks(db, case_no=started.case_no)[0]
        complete_task(db, review.task_id, {"decision": "不予受理", "reason": "不属于本机关职权范围"}, window)
        before = _counts(db, started.case_no)
        with pytest.raises(CaseDecided, match="不能撤回申请"):
            closing.withdraw_application(db, started.case_no, applicant)
        with pytest.raises(CaseDecided, match="不能终止"):
            closing.terminate_case(db, started.case_no, chief, "申请人已注销")
    assert _counts(db, started.case_no) == before


def test_a_decision_notice_ends_the_right_to_withdraw_before_the_certificate_is_issued(db):
    """Art 38's 准予行政许可决定书 is issued with the review's decision, before the certificate is made: from then
    on nothing is withdrawn or terminated though the case is still open (its 制证发证 step waits), and the desk
    no longer offers either (S-6 rule 5: the applicant has a clear answer, which only another procedure revokes)."""
    deploy(db, "demo-committed")
    window = make_actor(db, "window", ["住建局窗口"])
    planner = make_actor(db, "planner", ["住建局规划股"])
    chief = make_actor(db, "chief", ["住建局规划股"], ["chief"])
    applicant = make_actor(db, "chenguoping", [], ["applicant"])
    with clock.frozen_at(T0):
        case_no = casework.start_case(db, "DEMO-004", {}, applicant).case_no
        complete_task(db, queries.open_tasks(db, case_no=case_no)[0].task_id, HOUSE, window)
    tick(db, T0 + timedelta(days=7, minutes=1))  # 批前公示 over
    with clock.frozen_at(T0 + timedelta(days=8)):
        review = queries.open_tasks(db, case_no=case_no)[0]
        assert review.element_id == "review"
        complete_task(db, review.task_id, {"approval": "准予许可", "objections": "无"}, planner)
    assert [t.element_id for t in queries.open_tasks(db, case_no=case_no)] == ["issue"]
    assert queries.case_detail(db, case_no)["closed_at"] is None
    assert _counts(db, case_no)[1] == ["acceptance", "licence_granted"]
    before = _counts(db, case_no)
    with clock.frozen_at(T0 + timedelta(days=8, hours=1)):
        with pytest.raises(CaseDecided, match="已作出决定（受理审查或许可决定已出具文书），不能撤回申请"):
            closing.withdraw_application(db, case_no, applicant)
        with pytest.raises(CaseDecided, match=r"已作出决定.*不能终止"):
            closing.terminate_case(db, case_no, chief, "申请人已注销")
        offered = offers.choices(db, case_no, window)
    assert not offered.may_withdraw_application and not offered.may_terminate
    assert _counts(db, case_no) == before


def test_a_chief_terminates_with_a_reason_and_a_notice_a_clerk_cannot(db, setup):
    """终止: only a chief of a group that handles the case, with a reason; the applicant gets a 终止办理告知书
    and a message; the case ends 'terminated'."""
    window, applicant = setup
    started = _start(db, applicant)
    chief = make_actor(db, "chief", [WINDOW], ["chief"])
    other_chief = make_actor(db, "chief2", ["区中心/区民政局·窗口"], ["chief"])
    with clock.frozen_at(T0 + timedelta(days=1)):
        with pytest.raises(PermissionDenied, match="只有负责人"):
            closing.terminate_case(db, started.case_no, window, "申请人已注销")
        with pytest.raises(PermissionDenied, match="不是当前办理单位或决定机关的负责人"):
            closing.terminate_case(db, started.case_no, other_chief, "申请人已注销")
        with pytest.raises(OnewindowError, match="终止的理由"):
            closing.terminate_case(db, started.case_no, chief, "")
        number = closing.terminate_case(db, started.case_no, chief, "申请人企业已注销，申请事项无法继续办理")
    detail = queries.case_detail(db, started.case_no)
    assert detail["status"] == "terminated" and detail["closed_at"] is not None
    with db.reading() as conn:
        notice = conn.execute(receipts.select().where(receipts.c.receipt_no == number)).one()
        told = conn.execute(notifications.select().where(notifications.c.recipient == "user:wangwu")).all()
    assert notice.kind == "termination" and "企业已注销" in " ".join(notice.content["body"])
    assert any("终止办理" in n.message for n in told)
    assert replay_case(db, started.case_no).identical


def test_the_applicant_withdraws_from_the_follow_up_page(client, db, setup):
    """Online, with the follow-up code only: the page offers 撤回申请 until the case is closed."""
    from test_web import csrf_token, post_form, text

    _window, applicant = setup
    started = _start(db, applicant)
    post_form(client, "/hall/follow", {"case_no": started.case_no, "code": started.query_code}, "/hall/follow")
    assert "撤回申请" in text(client.get(f"/hall/follow/{started.case_no}"))
    token = csrf_token(client, f"/hall/follow/{started.case_no}")
    unconfirmed = client.post(f"/hall/follow/{started.case_no}/withdraw", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "请勾选" in text(unconfirmed)  # one click does not withdraw
    assert queries.case_detail(db, started.case_no)["status"] != "withdrawn"
    done = client.post(f"/hall/follow/{started.case_no}/withdraw",
                       data={"csrf_token": token, "statement": "不需要了", "confirm": "yes"})
    assert done.status_code == 302
    page = text(client.get(f"/hall/follow/{started.case_no}"))
    assert "已撤回" in page and "撤回申请确认书" in page
    again = client.post(f"/hall/follow/{started.case_no}/withdraw", data={"csrf_token": token, "confirm": "yes"})
    assert again.status_code == 409
    assert replay_case(db, started.case_no).identical
