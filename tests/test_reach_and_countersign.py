"""Warnings reach people (issue 15, item 9) and 加签 (item 11), dated 2026-12-01.

Rows addressed to `role:supervisor`, `chief:<group>` and `group:<code>` reach those people's inbox and unread
count, each read-marked per person; nobody else sees them. 加签 (Chinese BPM practice; no article of 行政许可法
governs it — the handler stays responsible, art 38's decision is the organ's): before, the reviewer answers
first; after, the handler's answer completes only when the reviewer agrees. Every case replays identically.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import deploy, make_actor

from engine.audit.replay import replay_case
from engine.desk import casework, countersign, inbox
from engine.desk.casework import complete_task
from engine.desk.taskops import TaskOperationError
from engine.errors import NotFound, PermissionDenied
from engine.org import orgtree
from engine.reads import queries
from engine.store.tables import cases, notifications
from engine.time import clock

WINDOW = "区中心/区安全生产监督管理局·窗口"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def started(db):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    applicant = make_actor(db, "wangwu", [], ["applicant"])
    with clock.frozen_at(T0):
        return casework.start_case(db, "AJ-003", {"applicant_name": "王五"}, applicant)


def _notify(db, case_no, recipient, message):
    with db.transaction() as conn:
        case_id = conn.execute(cases.select().where(cases.c.case_no == case_no)).one().id
        return conn.execute(notifications.insert().values(case_id=case_id, recipient=recipient, kind="warning",
                                                          message=message, created_at=T0)
                            .returning(notifications.c.id)).scalar_one()


def test_shared_rows_reach_supervisors_chiefs_and_group_members_each_read_on_their_own(db, started):
    """A supervisor, a chief and a group member see (and count) the rows addressed to them; others do not."""
    sup1 = make_actor(db, "jiancha1", [], ["supervisor"])
    sup2 = make_actor(db, "jiancha2", [], ["supervisor"])
    chief = make_actor(db, "chief", [WINDOW], ["chief"])
    member = make_actor(db, "aj", [WINDOW])
    stranger = make_actor(db, "other", ["区中心/区民政局·窗口"])
    warning = _notify(db, started.case_no, "role:supervisor", "黄牌预警：办件超承诺时限")
    chief_row = _notify(db, started.case_no, f"chief:{WINDOW}", "红牌：请负责人督办")
    _notify(db, started.case_no, f"group:{WINDOW}", "电子监察督办")
    assert [n["message"] for n in inbox.notices(db, sup1, copies=False)] == ["黄牌预警：办件超承诺时限"]
    assert {n["message"] for n in inbox.notices(db, chief, copies=False)} == {"红牌：请负责人督办", "电子监察督办"}
    assert [n["message"] for n in inbox.notices(db, member, copies=False)] == ["电子监察督办"]
    assert inbox.notices(db, stranger, copies=False) == []
    assert inbox.unread_counts(db, sup1)["messages"] == inbox.unread_counts(db, sup2)["messages"] == 1
    assert inbox.unread_counts(db, chief)["messages"] == 2 and inbox.unread_counts(db, stranger)["messages"] == 0
    assert inbox.mark_read(db, warning, sup1) is True and inbox.mark_read(db, warning, sup1) is False
    assert inbox.unread_counts(db, sup1)["messages"] == 0
    assert inbox.unread_counts(db, sup2)["messages"] == 1  # read by one supervisor, still unread for the other
    for outsider, row in ((member, chief_row), (stranger, warning), (chief, warning)):
        with pytest.raises(PermissionDenied, match="不是发给您的"):
            inbox.mark_read(db, row, outsider)
    with pytest.raises(NotFound):
        inbox.mark_read(db, 999_999, sup1)


def test_a_supervisors_chase_reaches_the_group_that_has_not_answered(db, started):
    """The chase goes to the open tasks' groups, and their members see it in their inbox."""
    from engine.watch.supervision import chase_case

    sup = make_actor(db, "jiancha", [], ["supervisor"])
    member = make_actor(db, "aj", [WINDOW])
    with clock.frozen_at(T0 + timedelta(days=3)):
        chase_case(db, started.case_no, sup, "请尽快受理")
    messages = [n["message"] for n in inbox.notices(db, member, copies=False)]
    assert any("电子监察督办" in m and "请尽快受理" in m for m in messages)
    assert inbox.unread_counts(db, member)["messages"] == 1
    assert replay_case(db, started.case_no).identical


def test_countersign_before_the_reviewer_answers_first(db, started):
    """前加签: the handler cannot complete until the reviewer answered; then they decide."""
    handler = make_actor(db, "aj", [WINDOW])
    reviewer = make_actor(db, "chief", [WINDOW], ["chief", "clerk"])
    task = queries.open_tasks(db, case_no=started.case_no)[0]
    with clock.frozen_at(T0 + timedelta(hours=1)):
        with pytest.raises(TaskOperationError, match="不能加签给自己"):
            countersign.add_reviewer(db, task.task_id, "aj", "before", handler)
        with pytest.raises(TaskOperationError, match="加签方式"):
            countersign.add_reviewer(db, task.task_id, "chief", "<b>sideways</b>", handler)
        with pytest.raises(NotFound):
            countersign.add_reviewer(db, task.task_id, "nobody-such", "before", handler)
        countersign.add_reviewer(db, task.task_id, "chief", "before", handler, "请负责人把关")
        with pytest.raises(TaskOperationError, match="须等其签署意见"):
            complete_task(db, task.task_id, {"decision": "受理"}, handler)
        with pytest.raises(PermissionDenied):
            countersign.answer(db, task.task_id, "同意", "", make_actor(db, "x", [WINDOW]))
        countersign.answer(db, task.task_id, "同意", "材料齐全", reviewer)
        complete_task(db, task.task_id, {"decision": "受理"}, handler)
    assert queries.case_detail(db, started.case_no)["status"] == "accepted"
    assert replay_case(db, started.case_no).identical


def test_countersign_after_the_case_moves_on_only_when_the_reviewer_agrees(db, started):
    """后加签: the handler's answer is kept; a disagreement sends it back; an agreement completes it."""
    handler = make_actor(db, "aj", [WINDOW])
    reviewer = make_actor(db, "chief", [WINDOW], ["chief", "clerk"])
    task = queries.open_tasks(db, case_no=started.case_no)[0]
    with clock.frozen_at(T0 + timedelta(hours=1)):
        countersign.add_reviewer(db, task.task_id, "chief", "after", handler)
        complete_task(db, task.task_id, {"decision": "受理"}, handler)
        assert [t.element_id for t in queries.open_tasks(db, case_no=started.case_no)] == ["accept_review"]
        with pytest.raises(TaskOperationError, match="不同意必须填写理由"):
            countersign.answer(db, task.task_id, "不同意", "", reviewer)
        countersign.answer(db, task.task_id, "不同意", "缺少营业执照", reviewer)
        countersign.add_reviewer(db, task.task_id, "chief", "after", handler)
        complete_task(db, task.task_id, {"decision": "受理"}, handler)
        countersign.answer(db, task.task_id, "同意", "", reviewer)
    assert queries.case_detail(db, started.case_no)["status"] == "accepted"
    done = [e for e in queries.case_history(db, started.case_no) if e["type"] == "task_completed"]
    assert done[-1]["actor"] == "aj" and done[-1]["data"]["countersigned_by"] == "chief"
    assert replay_case(db, started.case_no).identical
