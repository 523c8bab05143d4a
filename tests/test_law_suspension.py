"""行政许可法第四十五条 — 特别程序 not counted (issue 15, item 4), with the clock frozen at the moments that matter.

"行政机关作出行政许可决定，依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，所需时间不计算在
本节规定的期限内。行政机关应当将所需时间书面告知申请人。" A handler of the case's open step stops the clock ad hoc
for a special procedure, with its kind, the expected working days and a reason; a 特别程序告知书 goes to the
applicant; a handler resumes it explicitly, and the working days it held move both deadlines exactly as a
diagram-marked pause does.

Dates from the 2026 calendar (tests/data/cn-calendar-2025-2026.csv): Mid-autumn 25–27 September, National Day
1–7 October, make-up working days Sunday 20 September and Saturday 10 October. The test item promises 5 working
days (20 by law). Accepted Monday 28 September 09:00: 29, 30 September, 8, 9, 10 October → committed deadline
24:00 on Saturday 10 October (shown 2026-10-11 00:00); the statutory one 24:00 on 30 October.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import func, select

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.desk.clockops import SPECIAL_PROCEDURES, resume_clock, suspend_clock
from engine.diagrams.package import load_package
from engine.errors import OnewindowError, PermissionDenied
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import audit_events, cases, clock_pauses, receipts
from engine.time import clock

CLOCK_ITEM = Path(__file__).resolve().parent / "data" / "clock-item"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def people(db):
    deploy_package(db, load_package(CLOCK_ITEM), "analyst")
    return {"window": make_actor(db, "window", ["受理窗口"]), "reviewer": make_actor(db, "reviewer", ["审查组"]),
            "outsider": make_actor(db, "outsider", ["区中心/区民政局·审核"]),
            "applicant": make_actor(db, "lisi", [], ["applicant"])}


def _accept(db, people, at: str = "2026-09-28 09:00", needs_supplement: bool = False) -> str:
    with clock.frozen_at(local(at)):
        case = start_case(db, "TEST-CLOCK", {"needs_supplement": needs_supplement}, people["window"])
        task = next(t for t in queries.open_tasks(db, case_no=case.case_no) if t.element_id == "accept")
        complete_task(db, task.task_id, ACCEPT_DATA, people["window"])
    return case.case_no  # the case now waits at 审查 (group 审查组)


def _clock(db, case_no: str, at: str) -> dict:
    with clock.frozen_at(local(at)):
        return queries.case_detail(db, case_no)["clock"]


def _written(db, case_no: str) -> tuple[int, int, int, int]:
    with db.reading() as conn:
        case = conn.execute(select(cases.c.id, cases.c.lock_version).where(cases.c.case_no == case_no)).one()
        counts = [conn.execute(select(func.count()).select_from(t).where(t.c.case_id == case.id)).scalar_one()
                  for t in (audit_events, receipts, clock_pauses)]
    return (*counts, case.lock_version)


def _assert_replays(db, case_no: str) -> None:
    report = replay_case(db, case_no)
    assert report.identical, report.divergence


def test_xingzheng_xuke_fa_45_expert_review_across_national_day_moves_both_deadlines(db, people):
    """行政许可法第四十五条: 专家评审 of 5 working days from Tuesday 29 September to Monday 12 October. The working
    days after the day it began up to the day it ended — 30 Sep, 8, 9, 10 (make-up Saturday) and 12 Oct — are
    not counted: both deadlines move by 5; the holiday week in between moves nothing."""
    case_no = _accept(db, people)
    view = _clock(db, case_no, "2026-09-28 09:00")
    assert view["committed_deadline"] == local("2026-10-11 00:00").isoformat()
    assert view["statutory_deadline"] == local("2026-10-31 00:00").isoformat()
    with clock.frozen_at(local("2026-09-29 10:00")):
        number = suspend_clock(db, case_no, "专家评审", 5, "建设方案需组织专家论证", people["reviewer"])
    paused = _clock(db, case_no, "2026-09-29 10:00")
    assert paused["paused"] and paused["pauses"][-1]["element_id"] is None
    assert paused["pauses"][-1]["reason"] == "特别程序：专家评审（预计 5 个工作日）"
    tick(db, local("2026-10-11 00:01"))  # the old committed deadline passes while paused: no card
    assert _clock(db, case_no, "2026-10-11 00:01")["warning_level"] == "none"
    assert [e["data"]["kind"] for e in queries.case_history(db, case_no)
            if e["type"] == "warning_raised"] == ["step"]  # only the review's own limit, which runs on (modeling §10)
    with clock.frozen_at(local("2026-10-12 11:00")):
        held = resume_clock(db, case_no, people["reviewer"], "专家评审意见已收到")
    assert held == 5
    view = _clock(db, case_no, "2026-10-12 11:00")
    assert not view["paused"] and view["paused_working_days"] == 5
    assert view["pauses"][-1]["working_days"] == 5
    assert view["committed_deadline"] == local("2026-10-17 00:00").isoformat()  # 24:00 Fri 16 Oct
    assert view["statutory_deadline"] == local("2026-11-07 00:00").isoformat()  # 24:00 Fri 6 Nov
    assert view["working_days_used"] == 1  # 29 September only
    history = queries.case_history(db, case_no)
    started = next(e for e in history if e["type"] == "special_procedure_started")
    assert started["actor"] == "reviewer" and started["data"] == {
        "procedure": "专家评审", "days": 5, "reason": "建设方案需组织专家论证", "expected_until": "2026-10-12"}
    ended = next(e for e in history if e["type"] == "special_procedure_ended")
    assert ended["data"]["note"] == "专家评审意见已收到"
    resumed = next(e for e in history if e["type"] == "clock_resumed")
    assert resumed["seq"] == ended["seq"] + 1 and resumed["data"]["paused_working_days"] == 5
    with db.reading() as conn:
        notice = conn.execute(select(receipts).where(receipts.c.receipt_no == number)).one()
    assert notice.kind == "special_procedure" and notice.title == "特别程序告知书"
    assert notice.content["date"] == "2026年9月29日" and notice.content["days"] == 5
    assert notice.content["procedure"] == "专家评审" and notice.content["until"] == "2026年10月12日"
    assert any("第四十五条" in basis for basis in notice.content["legal_basis"])
    assert "专家评审" in "".join(notice.content["body"]) and "不计算在" in "".join(notice.content["body"])
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_45_one_pause_at_a_time_and_a_resume_needs_a_pause(db, people):
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-09-29 10:00")):
        with pytest.raises(OnewindowError, match="没有暂停计时"):
            resume_clock(db, case_no, people["reviewer"])
        assert _written(db, case_no) == before
        suspend_clock(db, case_no, "检测", "3", "送检样品", people["reviewer"])
        paused = _written(db, case_no)
        with pytest.raises(OnewindowError, match="只能有一个暂停"):
            suspend_clock(db, case_no, "听证", 2, "申请人要求听证", people["reviewer"])
        assert _written(db, case_no) == paused
    with clock.frozen_at(local("2026-09-30 16:00")):
        assert resume_clock(db, case_no, people["reviewer"]) == 1  # 30 September
    _assert_replays(db, case_no)


def test_a_diagram_marked_pause_is_neither_doubled_nor_resumed_by_hand(db, people):
    """The supplement wait (clock=pause on the diagram) already stops the clock: no special procedure on top,
    and no resume by hand — it ends when its step is done."""
    case_no = _accept(db, people, needs_supplement=True)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-09-29 10:00")):
        with pytest.raises(OnewindowError, match="只能有一个暂停"):
            suspend_clock(db, case_no, "鉴定", 5, "材料真伪需鉴定", people["window"])
        with pytest.raises(OnewindowError, match="自动恢复计时"):
            resume_clock(db, case_no, people["window"])
    assert _written(db, case_no) == before
    _assert_replays(db, case_no)


def test_a_special_procedure_outlives_the_steps_the_case_moves_through(db, people):
    """A pause by hand is not ended by the diagram: the review completes during 公示 and the clock stays paused
    until a handler of the step now open (the window's 发证) resumes it."""
    case_no = _accept(db, people)
    with clock.frozen_at(local("2026-09-29 10:00")):
        suspend_clock(db, case_no, "公示", 7, "批前公示七个工作日", people["reviewer"])
    with clock.frozen_at(local("2026-09-30 10:00")):
        review = next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "review")
        complete_task(db, review.task_id, {"opinion": "同意"}, people["reviewer"])
    assert _clock(db, case_no, "2026-09-30 10:00")["paused"]
    with clock.frozen_at(local("2026-10-09 10:00")):
        with pytest.raises(PermissionDenied):
            resume_clock(db, case_no, people["reviewer"])  # no longer handling the case
        assert resume_clock(db, case_no, people["window"]) == 3  # 30 Sep, 8, 9 Oct
    _assert_replays(db, case_no)


@pytest.mark.parametrize("procedure, days, reason, message", [
    ("拍卖", 5, "理由", "特别程序须为以下之一"),
    ("", 5, "理由", "特别程序须为以下之一"),
    (None, 5, "理由", "特别程序须为以下之一"),
    ("专家评审", "abc", "理由", "1 至 365"),
    ("专家评审", -1, "理由", "1 至 365"),
    ("专家评审", 0, "理由", "1 至 365"),
    ("专家评审", 366, "理由", "1 至 365"),
    ("专家评审", 10 ** 9, "理由", "1 至 365"),
    ("专家评审", "1e3", "理由", "1 至 365"),
    ("专家评审", 5, "", "请写明启动特别程序的理由"),
    ("专家评审", 5, "  ", "请写明启动特别程序的理由"),
    ("专家评审", 5, "理" * 100_000, "最多 500 字"),
])
def test_hostile_inputs_are_refused_with_nothing_written(db, people, procedure, days, reason, message):
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-09-29 10:00")), pytest.raises(OnewindowError, match=message):
        suspend_clock(db, case_no, procedure, days, reason, people["reviewer"])
    assert _written(db, case_no) == before
    _assert_replays(db, case_no)


@pytest.mark.parametrize("who", ["window", "outsider", "applicant"])
def test_only_a_handler_of_the_open_step_may_suspend_or_resume(db, people, who):
    """The window (another group: the case is at 审查组), a clerk of another department, the applicant."""
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-09-29 10:00")), pytest.raises(PermissionDenied, match="当前环节的办理人员"):
        suspend_clock(db, case_no, "检验", 2, "抽样检验", people[who])
    assert _written(db, case_no) == before
    with clock.frozen_at(local("2026-09-29 10:00")):
        suspend_clock(db, case_no, "检验", 2, "抽样检验", people["reviewer"])
    paused = _written(db, case_no)
    with clock.frozen_at(local("2026-09-30 10:00")), pytest.raises(PermissionDenied, match="当前环节的办理人员"):
        resume_clock(db, case_no, people[who])
    assert _written(db, case_no) == paused
    _assert_replays(db, case_no)


def test_every_kind_the_law_names_is_offered(db, people):
    assert SPECIAL_PROCEDURES == ("听证", "检验", "检测", "检疫", "鉴定", "专家评审", "公示")


def test_no_suspension_before_acceptance_or_after_closing(db, people):
    with clock.frozen_at(local("2026-09-28 09:00")):
        case = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, people["window"])
        with pytest.raises(OnewindowError, match="尚未受理或已办结"):
            suspend_clock(db, case.case_no, "鉴定", 2, "鉴定", people["window"])
    _assert_replays(db, case.case_no)
