"""或签 (any one of a group decides, issue 15 item 11): a multi-instance step whose standard
`<bpmn:completionCondition>` is `True` completes at the first answer (docs/modeling.md).

The test package tests/data/or-sign: 受理 → a script names three reviewers → 审查（或签）, one instance per
reviewer, all in the 审查组 lane → 不予批准 ends the case refused, 通过 goes on to 制证发证. The first answer
completes the step; the other instances are cancelled — a page still showing one of them gets
`StaleTaskError`, from the desk's submission as from a plain completion — and the case goes on and
re-executes identically from its audit trail.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from conftest import DATA_DIR, make_actor
from SpiffWorkflow.util.task import TaskState

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk import casework, submission
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.errors import StaleTaskError
from engine.reads import queries
from engine.runtime.change import load_workflow
from engine.time import clock

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 Beijing time
PACKAGE = DATA_DIR / "or-sign"
WINDOW, REVIEW = "受理窗口", "审查组"


@pytest.fixture
def people(db):
    deploy_package(db, load_package(PACKAGE), "analyst")
    return {"window": make_actor(db, "wang", [WINDOW]), "zhao": make_actor(db, "zhao", [REVIEW]),
            "qian": make_actor(db, "qian", [REVIEW]), "sun": make_actor(db, "sun", [REVIEW]),
            "applicant": make_actor(db, "zhangsan", [], ["applicant"])}


def open_tasks(db, case_no: str) -> list:
    return sorted(queries.open_tasks(db, case_no=case_no), key=lambda t: t.task_id)


def at(minutes: int):
    return clock.frozen_at(T0 + timedelta(minutes=minutes))


def reviewing(db, people) -> str:
    """A case accepted at the window, waiting at 审查（或签） with one open instance per reviewer."""
    with at(0):
        case_no = casework.start_case(db, "TEST-ORSIGN", {"applicant_name": "张三"}, people["applicant"]).case_no
    accept = open_tasks(db, case_no)[0]
    with at(5):
        casework.complete_task(db, accept.task_id, {"applicant_name": "张三", "decision": "受理"}, people["window"])
    return case_no


def test_the_or_sign_package_lints_clean():
    assert [str(f) for f in lint_package(load_package(PACKAGE)).findings] == []


def test_the_first_answer_completes_the_step_and_cancels_the_others(db, people):
    case_no = reviewing(db, people)
    reviews = open_tasks(db, case_no)
    assert [t.element_id for t in reviews] == ["review"] * 3
    first, *others = reviews
    with at(10):
        casework.claim_task(db, first.task_id, people["zhao"])
        casework.complete_task(db, first.task_id, {"review_decision": "通过", "opinion": "材料齐全"}, people["zhao"])
    assert [t.element_id for t in open_tasks(db, case_no)] == ["issue"]  # the case moved on
    workflow = load_workflow(db, case_no)
    states = {r.task_id: TaskState.get_name(workflow.get_task_from_id(uuid.UUID(r.task_id)).state) for r in reviews}
    assert states == {first.task_id: "COMPLETED", **{o.task_id: "CANCELLED" for o in others}}
    issue = open_tasks(db, case_no)[0]
    assert workflow.get_task_from_id(uuid.UUID(issue.task_id)).data["review_decisions"] == ["通过"]  # the one answer
    for other, who in zip(others, ("qian", "sun"), strict=True):
        with pytest.raises(StaleTaskError, match="已办理完毕或不存在"):  # a stale page: the instance went with the step
            casework.complete_task(db, other.task_id, {"review_decision": "不予批准", "reason": "不符合",
                                                        "legal_basis": "某条例第三条"}, people[who])
        with pytest.raises(StaleTaskError):
            submission.submit_task(db, other.task_id, {"review_decision": ["通过"]}, people[who])
    with at(20):
        casework.complete_task(db, issue.task_id, {"certificate_no": "ZS-001"}, people["window"])
    assert queries.case_detail(db, case_no)["status"] == "approved"
    history = queries.case_history(db, case_no)
    assert [e["actor"] for e in history if e["type"] == "task_completed" and e["element_id"] == "review"] == ["zhao"]
    report = replay_case(db, case_no)
    assert report.identical, report.divergence


def test_any_one_reviewer_can_refuse_alone(db, people):
    case_no = reviewing(db, people)
    last = open_tasks(db, case_no)[-1]
    with at(10):
        casework.complete_task(db, last.task_id, {"review_decision": "不予批准", "reason": "不符合条件",
                                                   "legal_basis": "某条例第三条"}, people["sun"])
    assert open_tasks(db, case_no) == []
    assert queries.case_detail(db, case_no)["status"] == "refused"
    report = replay_case(db, case_no)
    assert report.identical, report.divergence
