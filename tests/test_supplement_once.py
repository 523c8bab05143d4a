"""补正 once, completely, and a wait that ends (issue 15, item 2), tested on dated cases from 2026-12-01.

行政许可法第三十二条第一款第（四）项: materials incomplete or not in the legal form — the organ tells the
applicant on the spot or within five days, **once**, everything to be supplemented. So a second 补正 notice on
the same submission is refused; after the applicant hands materials in, another notice may name only those
newly handed-in materials, with a reason, and the supervisors are told. The law sets no period for the
supplement and no consequence: the item's guide does (supplement_days, calendar days, default 30; then a
reminder; supplement_grace_days, default 10, later the application is treated as withdrawn, 视为撤回), and the
scheduler's tick alone carries it out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import deploy, make_actor

from engine.audit.replay import replay_case
from engine.desk import casework, materials
from engine.desk.casework import complete_task
from engine.errors import OnewindowError
from engine.org import orgtree
from engine.reads import queries
from engine.runtime import receipts as notices
from engine.runtime.change import change_case
from engine.runtime.scheduler import tick
from engine.runtime.supplement import SupplementRefused
from engine.store.tables import cases, notifications, receipts
from engine.time import clock

WINDOW = "区中心/区安全生产监督管理局·窗口"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 Beijing, a Tuesday


@pytest.fixture
def setup(db):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    window = make_actor(db, "aj", [WINDOW])
    supervisor = make_actor(db, "jiancha", [], ["supervisor"])
    applicant = make_actor(db, "wangwu", [], ["applicant"])
    with clock.frozen_at(T0):
        started = casework.start_case(db, "AJ-003", {"applicant_name": "王五"}, applicant)
    return started, window, supervisor, applicant


def _review(db, case_no):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept_review")


def _kinds(db, case_no):
    with db.reading() as conn:
        case_id = conn.execute(cases.select().where(cases.c.case_no == case_no)).one().id
        return [r.kind for r in conn.execute(receipts.select().where(receipts.c.case_id == case_id)
                                             .order_by(receipts.c.id))]


def _supplement(db, case_no, applicant, at):
    with clock.frozen_at(at):
        casework.answer_as_applicant(db, case_no, {"supplement_received": "应急预案文本（已盖章）",
                                                   "supplement_received_on": "2026-12-03"}, applicant)


def test_a_second_supplement_notice_on_the_same_submission_is_refused(db, setup):
    """Art 32(4): once, completely. The first notice must list what the checklist marks missing; after the
    applicant hands in the supplement, a notice naming something that was there before is refused, one about
    the newly handed-in material needs a reason and is told to the supervisors."""
    started, window, _supervisor, applicant = setup
    no = started.case_no
    with clock.frozen_at(T0 + timedelta(hours=2)):
        complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]},
                      window)
    assert _kinds(db, no) == ["supplement"]
    _supplement(db, no, applicant, T0 + timedelta(days=2))
    task = _review(db, no)
    with clock.frozen_at(T0 + timedelta(days=2, hours=1)):
        with pytest.raises(SupplementRefused, match="第一次审查时就应一次性告知"):
            complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["营业执照副本"],
                                             "reason": "营业执照不清晰"}, window)
        with pytest.raises(SupplementRefused, match="须写明理由"):
            complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]},
                          window)
    assert _kinds(db, no) == ["supplement"]  # nothing written by the refusals
    with clock.frozen_at(T0 + timedelta(days=2, hours=2)):
        complete_task(db, task.task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"],
                                         "reason": "新提交的预案文本未加盖公章"}, window)
    assert _kinds(db, no) == ["supplement", "supplement"]
    history = queries.case_history(db, no)
    repeated = [e for e in history if e["type"] == "supplement_repeated"]
    assert repeated and repeated[0]["data"]["reason"] == "新提交的预案文本未加盖公章"
    with db.reading() as conn:
        told = conn.execute(notifications.select().where(notifications.c.recipient == "role:supervisor",
                                                         notifications.c.kind == "supplement_repeated")).all()
    assert len(told) == 1 and "新提交的预案文本未加盖公章" in told[0].message
    assert replay_case(db, no).identical


def test_a_second_notice_before_any_supplement_is_refused(db, setup):
    """Art 32(4): the same submission gets one notice — a decision step asking again before the applicant
    handed anything in is refused whatever the reason."""
    started, window, _supervisor, _applicant = setup
    no = started.case_no
    with clock.frozen_at(T0):
        complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]},
                      window)
    # the window registers nothing; the applicant's step is still open: no second review task exists at all,
    # so the rule is checked on the rule itself
    def again(ctx):
        task = next(t for t in ctx.workflow.get_tasks() if t.task_spec.bpmn_id == "accept_review")
        task.data.update({"reason": "再补一次", "missing_materials": ["应急预案文本（盖章）"]})
        notices.from_step(ctx, task, "acceptance")

    with clock.frozen_at(T0 + timedelta(hours=1)), pytest.raises(SupplementRefused, match="不得再次要求补正"):
        change_case(db, no, window, again)
    assert _kinds(db, no) == ["supplement"]


def test_the_first_notice_lists_every_material_the_checklist_marks_missing(db, setup):
    """Art 32(4): 一次性告知 — a material the window marked missing must be on the one notice."""
    started, window, _supervisor, _applicant = setup
    no = started.case_no
    guide = [m["name"] for m in materials.checklist(db, no)]
    with clock.frozen_at(T0):
        materials.mark_materials(db, no, {guide[0]: "missing"}, window)
        with pytest.raises(SupplementRefused, match="未列入本通知书"):
            complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": ["另一份材料"]},
                          window)
        complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": [guide[0]]}, window)
    assert _kinds(db, no) == ["supplement"]
    assert replay_case(db, no).identical


def test_a_case_waiting_for_supplement_is_reminded_then_treated_as_withdrawn_by_ticks_alone(db, setup):
    """No period in art 32: the item's (default 30 calendar days, then 10 more after the reminder). Ticks
    before the limit change nothing; the first tick after it issues a 补正催告通知书 and tells the registered
    applicant; the first tick after the grace cancels the open step, ends the case 'withdrawn' (视为撤回) with a
    视为撤回申请告知书. The case replays identically."""
    started, window, _supervisor, applicant = setup
    no = started.case_no
    with clock.frozen_at(T0):
        complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]},
                      window)
    tick(db, T0 + timedelta(days=29))
    assert _kinds(db, no) == ["supplement"]
    tick(db, T0 + timedelta(days=30, minutes=1))
    assert _kinds(db, no) == ["supplement", "supplement_reminder"]
    with db.reading() as conn:
        told = conn.execute(notifications.select().where(notifications.c.recipient == "user:wangwu")).all()
    assert any("逾期视为撤回" in n.message for n in told)
    tick(db, T0 + timedelta(days=35))
    assert queries.case_detail(db, no)["status"] == "awaiting_supplement"
    tick(db, T0 + timedelta(days=40, minutes=2))
    detail = queries.case_detail(db, no)
    assert detail["status"] == "withdrawn" and detail["closed_at"] is not None
    assert _kinds(db, no) == ["supplement", "supplement_reminder", "deemed_withdrawn"]
    assert queries.open_tasks(db, case_no=no) == []
    with pytest.raises(OnewindowError):
        _supplement(db, no, applicant, T0 + timedelta(days=41))
    tick(db, T0 + timedelta(days=60))  # nothing more happens
    assert _kinds(db, no)[-1] == "deemed_withdrawn"
    assert replay_case(db, no).identical


def test_a_supplement_handed_in_in_time_ends_the_wait(db, setup):
    """The wait ends with the supplement: later ticks neither remind nor withdraw."""
    started, window, _supervisor, applicant = setup
    no = started.case_no
    with clock.frozen_at(T0):
        complete_task(db, _review(db, no).task_id, {"decision": "补正", "missing_materials": ["应急预案文本（盖章）"]},
                      window)
    _supplement(db, no, applicant, T0 + timedelta(days=10))
    tick(db, T0 + timedelta(days=31))
    tick(db, T0 + timedelta(days=45))
    assert _kinds(db, no) == ["supplement"] and queries.case_detail(db, no)["status"] == "submitted"
    assert replay_case(db, no).identical
