"""The desk's task operations in the engine: transfer, delegate, return, withdraw, copy, urge — and the
diagram decisions (补正 / 不予受理 / 通过) they sit beside.

Every case a test leaves re-executes identically from its audit trail (an autouse fixture replays it),
so each new input event is proven replayable, not just recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import DATA_DIR, deploy, make_actor
from sqlalchemy import select

from engine.catalogue.deployment import deploy_package
from engine.desk import caseops, casework, inbox, taskops
from engine.diagrams.package import load_package
from engine.errors import ConflictError, FormValidationError, NotFound, PermissionDenied, StaleTaskError
from engine.reads import queries
from engine.runtime import taskdata
from engine.runtime.change import load_workflow
from engine.store.tables import delegations, notifications
from engine.time import clock

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing time
WINDOW, REVIEW = "受理窗口", "审查组"
ACCEPTED = {"applicant_name": "张三", "decision": "受理"}
DIBAO = {"applicant_name": "李长林", "id_number": "420115197001011234", "village": "东沟镇桃园村",
         "household_size": 3, "annual_income": 9000, "hardship": "因病", "home_visit_note": "户主长期患病"}

pytestmark = pytest.mark.usefixtures("every_case_replays")


@pytest.fixture
def people(db):
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    return {
        "a": make_actor(db, "wang", [WINDOW]), "b": make_actor(db, "li", [WINDOW]),
        "r": make_actor(db, "zhao", [REVIEW]), "r2": make_actor(db, "qian", [REVIEW]),
        "applicant": make_actor(db, "zhangsan", [], ["applicant"]),
    }


def start(db, people) -> str:
    with clock.frozen_at(T0):
        return casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, people["applicant"]).case_no


def task(db, case_no: str, element: str):
    rows = [t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element]
    assert len(rows) == 1, [t.element_id for t in queries.open_tasks(db, case_no=case_no)]
    return rows[0]


def open_elements(db, case_no: str) -> list[str]:
    return sorted(t.element_id for t in queries.open_tasks(db, case_no=case_no))


def messages_of(db, username: str) -> list[tuple[str, str]]:
    with db.reading() as conn:
        rows = conn.execute(select(notifications.c.kind, notifications.c.message)
                            .where(notifications.c.recipient == f"user:{username}")
                            .order_by(notifications.c.id)).all()
    return [(r.kind, r.message) for r in rows]


def accepted(db, people) -> str:
    case_no = start(db, people)
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        casework.complete_task(db, task(db, case_no, "accept").task_id, ACCEPTED, people["a"])
    return case_no


# --- 转办 ---------------------------------------------------------------------------------------------

def test_transfer_hands_the_task_to_a_group_member_and_tells_them(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    casework.claim_task(db, accept, people["a"])
    taskops.transfer_task(db, accept, "li", people["a"], "本人外出")
    assert task(db, case_no, "accept").assignee == "li"
    assert messages_of(db, "li") == [("transfer", f"办件 {case_no}：wang 将“受理”转办给您：本人外出")]
    event = queries.case_history(db, case_no)[-1]
    assert (event["type"], event["actor"], event["data"]["to"], event["data"]["group"]) == \
        ("task_transferred", "wang", "li", WINDOW)
    with pytest.raises(StaleTaskError, match="已由 li 签收"):  # no longer wang's to pass on
        taskops.transfer_task(db, accept, "wang", people["a"])


def test_transfer_is_refused_outside_the_group_and_to_oneself(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    before = queries.case_history(db, case_no)
    with pytest.raises(taskops.TaskOperationError, match="不在“受理窗口”组"):
        taskops.transfer_task(db, accept, "zhao", people["a"])
    with pytest.raises(taskops.TaskOperationError, match="不能转办给自己"):
        taskops.transfer_task(db, accept, "wang", people["a"])
    with pytest.raises(PermissionDenied):
        taskops.transfer_task(db, accept, "li", people["r"])
    with pytest.raises(NotFound, match="nobody"):
        taskops.transfer_task(db, accept, "nobody", people["a"])
    assert queries.case_history(db, case_no) == before  # a refused operation writes nothing


# --- 委派 ---------------------------------------------------------------------------------------------

def test_delegation_comes_back_to_the_delegator_to_confirm(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    taskops.delegate_task(db, accept, "zhao", people["a"], "请协助核对身份")
    assert task(db, case_no, "accept").assignee == "wang"  # the delegator stays responsible
    assert ("delegate", f"办件 {case_no}：wang 将“受理”委派给您办理，办理后交回确认") in messages_of(db, "zhao")
    [row] = inbox.delegated_to(db, people["r"])  # 委派给我的, from the delegations read model
    assert (row["task_id"], row["case_no"], row["name"], row["delegator"], row["reason"]) == (
        accept, case_no, "受理", "wang", "请协助核对身份")
    assert inbox.delegated_to(db, people["a"]) == []
    with pytest.raises((PermissionDenied, StaleTaskError)):  # the delegate cannot complete it
        casework.complete_task(db, accept, ACCEPTED, people["r"])
    with pytest.raises(FormValidationError):  # but the delegate's proposal is checked like a submission
        taskops.submit_delegated(db, accept, {"decision": "受理"}, people["r"])

    taskops.submit_delegated(db, accept, {"applicant_name": "张三", "decision": "不予受理", "reason": "不符合",
                                          "legal_basis": "某条例第三条"}, people["r"])
    assert open_elements(db, case_no) == ["accept"]  # not completed: back with wang to confirm
    with db.reading() as conn:
        assert conn.execute(select(delegations.c.state, delegations.c.delegate)).one() == ("proposed", "zhao")
    with pytest.raises(StaleTaskError, match="委派状态已变化"):
        taskops.submit_delegated(db, accept, ACCEPTED, people["r"])
    with pytest.raises(taskops.TaskOperationError, match="必须填写理由"):
        taskops.send_back_delegated(db, accept, people["a"], " ")
    taskops.send_back_delegated(db, accept, people["a"], "应予受理，请重新核对")
    assert ("delegate", f"办件 {case_no}：“受理”被退回重办：应予受理，请重新核对") in messages_of(db, "zhao")

    taskops.submit_delegated(db, accept, ACCEPTED, people["r"])
    wf_task = load_workflow(db, case_no).get_task_from_id(__import__("uuid").UUID(accept))
    assert taskdata.delegation(wf_task)["proposed"] == ACCEPTED
    casework.complete_task(db, accept, taskdata.delegation(wf_task)["proposed"], people["a"])  # 确认
    assert open_elements(db, case_no) == ["review"]
    types = [e["type"] for e in queries.case_history(db, case_no)]
    assert types.count("delegation_submitted") == 2 and "delegation_returned" in types


def test_delegation_can_be_recalled_and_blocks_transfer(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    taskops.delegate_task(db, accept, "zhao", people["a"])
    with pytest.raises(taskops.TaskOperationError, match="已委派给 zhao"):
        taskops.transfer_task(db, accept, "li", people["a"])
    with pytest.raises(ConflictError, match="先收回委派"):  # nor dropped back into the group
        casework.release_task(db, accept, people["a"])
    with pytest.raises(PermissionDenied, match="委派人 wang"):
        taskops.recall_delegated(db, accept, people["r"])
    taskops.recall_delegated(db, accept, people["a"])
    with db.reading() as conn:
        assert conn.execute(select(delegations)).all() == []
    taskops.transfer_task(db, accept, "li", people["a"])


# --- 退回 ---------------------------------------------------------------------------------------------

def test_return_rewinds_to_an_earlier_step_and_gives_it_back_to_its_handler(db, people):
    case_no = accepted(db, people)
    review = task(db, case_no, "review").task_id
    accept_id = next(e["data"]["task_id"] for e in queries.case_history(db, case_no) if e["type"] == "task_completed")
    with pytest.raises(taskops.TaskOperationError, match="必须填写理由"):
        taskops.return_task(db, review, accept_id, "", people["r"])
    with pytest.raises(PermissionDenied):
        taskops.return_task(db, review, accept_id, "身份证复印件不清", people["b"])
    taskops.return_task(db, review, accept_id, "身份证复印件不清", people["r"])
    again = task(db, case_no, "accept")
    assert again.assignee == "wang" and again.task_id == accept_id
    assert messages_of(db, "wang") == [("return", f"办件 {case_no}：“审查”退回至“受理”：身份证复印件不清")]
    event = next(e for e in queries.case_history(db, case_no) if e["type"] == "task_returned")
    assert (event["element_id"], event["data"]["to_element"], event["data"]["reason"]) == \
        ("review", "accept", "身份证复印件不清")
    with clock.frozen_at(T0 + timedelta(minutes=30)):  # and the case goes on from there
        casework.complete_task(db, accept_id, ACCEPTED, people["a"])
    assert open_elements(db, case_no) == ["review"]


def test_return_only_to_a_step_on_the_path_that_led_here(db):
    deploy(db, "demo-joint-review")
    reviewer = make_actor(db, "all", ["受理窗口", "住建审查", "消防审查", "环保审查"])
    case_no = casework.start_case(db, "DEMO-001", {}, reviewer).case_no
    accept = task(db, case_no, "accept").task_id
    casework.complete_task(db, accept, {"applicant_name": "张三", "id_number": "11010119900101123X",
                                        "decision": "受理"}, reviewer)
    reviews = {t.element_id: t.task_id for t in queries.open_tasks(db, case_no=case_no)}
    first, second = sorted(reviews)[:2]
    casework.complete_task(db, reviews[first], {"opinion": "同意"}, reviewer)
    with pytest.raises(taskops.TaskOperationError, match="可退回：受理"):  # a parallel branch is not the path
        taskops.return_task(db, reviews[second], reviews[first], "不一致", reviewer)
    taskops.return_task(db, reviews[second], accept, "申请人信息有误", reviewer)
    assert open_elements(db, case_no) == ["accept"]  # every branch rewound with it


# --- 撤回 ---------------------------------------------------------------------------------------------

def test_withdraw_while_the_next_step_is_untouched(db, people):
    case_no = accepted(db, people)
    accept_id = next(e["data"]["task_id"] for e in queries.case_history(db, case_no) if e["type"] == "task_completed")
    with pytest.raises(PermissionDenied, match="只能撤回自己办理的环节"):  # who may, before anything else
        taskops.withdraw_task(db, case_no, accept_id, people["b"])
    taskops.withdraw_task(db, case_no, accept_id, people["a"], "决定填错")
    again = task(db, case_no, "accept")
    assert (again.task_id, again.assignee) == (accept_id, "wang")
    assert open_elements(db, case_no) == ["accept"]


def test_withdraw_refused_once_the_next_handler_claimed(db, people):
    case_no = accepted(db, people)
    accept_id = next(e["data"]["task_id"] for e in queries.case_history(db, case_no) if e["type"] == "task_completed")
    casework.claim_task(db, task(db, case_no, "review").task_id, people["r"])
    with pytest.raises(ConflictError, match="已由 zhao 签收"):
        taskops.withdraw_task(db, case_no, accept_id, people["a"])
    assert open_elements(db, case_no) == ["review"]


def test_withdraw_refused_once_the_next_step_is_done_and_for_a_step_returned_to_its_handler(db, people):
    """The reasons a step cannot be withdrawn, each in words: someone handled what it led to; or it is open
    again (returned to its handler), so there is nothing to take back."""
    case_no = accepted(db, people)
    accept_id = next(e["data"]["task_id"] for e in queries.case_history(db, case_no) if e["type"] == "task_completed")
    review = task(db, case_no, "review").task_id
    casework.complete_task(db, review, {"decision": "通过", "opinion": "材料齐全"}, people["r"])
    before = queries.case_history(db, case_no)
    with pytest.raises(ConflictError, match="“受理”：后续环节已有人办理，不能撤回；请联系后续办理人退回"):
        taskops.withdraw_task(db, case_no, accept_id, people["a"])
    assert queries.case_history(db, case_no) == before and open_elements(db, case_no) == ["issue"]

    case_no = accepted(db, people)
    accept_id = next(e["data"]["task_id"] for e in queries.case_history(db, case_no) if e["type"] == "task_completed")
    taskops.return_task(db, task(db, case_no, "review").task_id, accept_id, "身份证复印件不清", people["r"])
    with pytest.raises(ConflictError, match="该环节尚未办理完毕，无需撤回"):
        taskops.withdraw_task(db, case_no, accept_id, people["a"])
    assert task(db, case_no, "accept").assignee == "wang"  # still wang's to handle, as the return left it


def test_withdraw_reaches_the_next_step_inside_a_called_process(db):
    """撤回 looks through a call activity (S-6 rule 4: the town window reports the matter up to the district):
    the step a window completed led into the shared relay process; while the district has not claimed its
    review, the window takes the step back and the called process goes with it."""
    deploy(db, "demo-report-up")
    boss = make_actor(db, "boss", [], ["admin", "clerk"])
    case_no = casework.start_case(db, "DEMO-003", {}, boss).case_no
    accept = task(db, case_no, "accept").task_id
    casework.complete_task(db, accept, {**DIBAO, "acceptance": "受理"}, boss)
    assert open_elements(db, case_no) == ["district_review"]  # inside relay_to_district
    taskops.withdraw_task(db, case_no, accept, boss, "入户核查记录待补")
    assert open_elements(db, case_no) == ["accept"] and task(db, case_no, "accept").task_id == accept
    assert load_workflow(db, case_no).subprocesses == {}
    event = queries.case_history(db, case_no)[-1]
    assert (event["type"], event["data"]["reason"]) == ("task_withdrawn", "入户核查记录待补")


# --- 抄送, 催办 ----------------------------------------------------------------------------------------

def test_copy_notifies_each_recipient_once_and_can_be_marked_read(db, people):
    case_no = start(db, people)
    caseops.copy_case(db, case_no, ["zhao", "qian", "zhao", "wang"], people["a"], "请知悉")
    assert messages_of(db, "zhao") == [("copy", f"办件 {case_no}：wang 抄送给您：请知悉")]
    assert messages_of(db, "wang") == []  # never to oneself
    with pytest.raises(NotFound, match="nobody"):
        caseops.copy_case(db, case_no, ["nobody"], people["a"])
    with pytest.raises(taskops.TaskOperationError, match="至少一名"):
        caseops.copy_case(db, case_no, [], people["a"])
    with db.reading() as conn:
        note = conn.execute(select(notifications.c.id).where(notifications.c.recipient == "user:zhao")).scalar_one()
    with pytest.raises(PermissionDenied):  # only the recipient
        inbox.mark_read(db, note, people["r2"])
    assert inbox.mark_read(db, note, people["r"])
    assert not inbox.mark_read(db, note, people["r"])  # already read


def test_urge_by_the_accepting_clerk_once_an_hour(db, people):
    case_no = accepted(db, people)
    with pytest.raises(PermissionDenied, match="办理过本办件"):
        caseops.urge_case(db, case_no, people["b"])
    with clock.frozen_at(T0 + timedelta(hours=1)):
        caseops.urge_case(db, case_no, people["a"], "申请人来电询问")
    with db.reading() as conn:
        sent = conn.execute(select(notifications.c.recipient, notifications.c.kind)
                            .where(notifications.c.kind == "urge")).all()
    assert sent == [("group:审查组", "urge")]
    with clock.frozen_at(T0 + timedelta(hours=1, minutes=30)), pytest.raises(ConflictError, match="1 小时内"):
        caseops.urge_case(db, case_no, people["a"])
    casework.claim_task(db, task(db, case_no, "review").task_id, people["r"])
    with clock.frozen_at(T0 + timedelta(hours=2, minutes=1)):
        caseops.urge_case(db, case_no, people["a"])
    assert messages_of(db, "zhao")[-1][0] == "urge"  # now the holder is chased by name


# --- decisions drawn in the diagram ---------------------------------------------------------------------

def test_supplement_needs_the_complete_list_and_pauses_the_clock(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    with pytest.raises(FormValidationError) as refused:
        casework.complete_task(db, accept, {"applicant_name": "张三", "decision": "补正"}, people["a"])
    assert "missing_materials" in refused.value.field_errors
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        casework.complete_task(db, accept, {"applicant_name": "张三", "decision": "补正",
                                            "missing_materials": ["身份证"]}, people["a"])
    assert open_elements(db, case_no) == ["supplement"]
    assert queries.case_detail(db, case_no)["clock"]["paused"] is True


def test_refusal_needs_reason_and_legal_basis(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    with pytest.raises(FormValidationError) as refused:
        casework.complete_task(db, accept, {"applicant_name": "张三", "decision": "不予受理"}, people["a"])
    assert {"reason", "legal_basis"} <= set(refused.value.field_errors)
    casework.complete_task(db, accept, {"applicant_name": "张三", "decision": "不予受理", "reason": "不属本部门职权",
                                        "legal_basis": "《行政许可法》第三十二条"}, people["a"])
    assert queries.case_detail(db, case_no)["status"] == "refused"


def test_return_from_inside_a_called_process_to_the_accepting_window(db):
    deploy(db, "demo-report-up")
    boss = make_actor(db, "boss", [], ["admin", "clerk"])
    case_no = casework.start_case(db, "DEMO-003", {}, boss).case_no
    accept = task(db, case_no, "accept").task_id
    casework.complete_task(db, accept, {**DIBAO, "acceptance": "受理"}, boss)
    review = task(db, case_no, "district_review").task_id  # inside the shared relay_to_district process
    taskops.return_task(db, review, accept, "入户核查记录不完整", boss)
    assert open_elements(db, case_no) == ["accept"]
    assert load_workflow(db, case_no).subprocesses == {}  # the called process is gone with the rewind
