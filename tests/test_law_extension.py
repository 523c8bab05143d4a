"""行政许可法第四十二条 — 延期 (issue 15, item 3), with the clock frozen at the moments the law cares about.

"二十日内不能作出决定的，经本行政机关负责人批准，可以延长十日，并应当将延长期限的理由告知申请人" (¶1);
联合办理 "可以延长十五日" (¶2); art 82: the law's periods are working days. So: only the head (chief) of the
organ handling the case, once, at most 10 working days (15 for a joint item, or the item's own statutory
maximum), before the deadline has passed, recorded with the reason, and a dated 延期告知书 to the applicant.

Dates from the 2026 calendar (tests/data/cn-calendar-2025-2026.csv, the independent copy): the test item
(tests/data/clock-item) promises 5 working days, the law gives it 20. Accepted Monday 2 March 2026 09:00, its
committed deadline is 24:00 on Monday 9 March (3, 4, 5, 6, 9 March), shown as 2026-03-10 00:00.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ACCEPT_DATA, make_actor
from sqlalchemy import func, select

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.desk.clockops import extend_deadline
from engine.diagrams.package import load_package
from engine.errors import OnewindowError, PermissionDenied
from engine.reads import queries
from engine.store.tables import audit_events, cases, receipts
from engine.time import clock

CLOCK_ITEM = Path(__file__).resolve().parent / "data" / "clock-item"
DECIDING_CHIEF_GROUP = "区中心/测试部门·批准"  # the item's department is 测试部门: its district unit decides


def local(text: str) -> datetime:
    """A district-time moment ("2026-03-02 09:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def _item_folder(tmp_path: Path, code: str, **changes) -> Path:
    """The clock test item under another code, with item.json changed (handling mode, guide fields)."""
    folder = tmp_path / code
    shutil.copytree(CLOCK_ITEM, folder)
    meta = json.loads((folder / "item.json").read_text(encoding="utf-8"))
    guide = changes.pop("guide", {})
    meta.update(code=code, **changes)
    meta["guide"].update(guide)
    (folder / "item.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def people(db, tmp_path):
    deploy_package(db, load_package(CLOCK_ITEM), "analyst")
    deploy_package(db, load_package(_item_folder(tmp_path, "TEST-JOINT", handling_mode="joint")), "analyst")
    deploy_package(db, load_package(_item_folder(tmp_path, "TEST-CAPPED", guide={"extension_limit_days": 5})),
                   "analyst")
    return {
        "window": make_actor(db, "window", ["受理窗口"]),
        "reviewer": make_actor(db, "reviewer", ["审查组"]),
        "chief": make_actor(db, "chief", [DECIDING_CHIEF_GROUP], ["clerk", "chief"]),  # head of the deciding organ
        "step_chief": make_actor(db, "step_chief", ["审查组"], ["chief"]),  # head of the group handling the step
        "other_chief": make_actor(db, "other_chief", ["区中心/区人力资源和社会保障局·批准"], ["clerk", "chief"]),
        "admin": make_actor(db, "root", [], ["admin"]),
        "applicant": make_actor(db, "lisi", [], ["applicant"]),
    }


def _accept(db, people, at: str = "2026-03-02 09:00", item: str = "TEST-CLOCK") -> str:
    with clock.frozen_at(local(at)):
        case = start_case(db, item, {"needs_supplement": False}, people["window"])
        task = next(t for t in queries.open_tasks(db, case_no=case.case_no) if t.element_id == "accept")
        complete_task(db, task.task_id, ACCEPT_DATA, people["window"])
    return case.case_no


def _clock(db, case_no: str, at: str) -> dict:
    with clock.frozen_at(local(at)):
        return queries.case_detail(db, case_no)["clock"]


def _written(db, case_no: str) -> tuple[int, int, int]:
    """What a refused operation must not change: the case's events, notices and lock version."""
    with db.reading() as conn:
        case = conn.execute(select(cases.c.id, cases.c.lock_version).where(cases.c.case_no == case_no)).one()
        events = conn.execute(select(func.count()).select_from(audit_events)
                              .where(audit_events.c.case_id == case.id)).scalar_one()
        notices = conn.execute(select(func.count()).select_from(receipts)
                               .where(receipts.c.case_id == case.id)).scalar_one()
    return events, notices, case.lock_version


def _notices(db, case_no: str) -> list:
    with db.reading() as conn:
        return conn.execute(select(receipts).join(cases, cases.c.id == receipts.c.case_id)
                            .where(cases.c.case_no == case_no).order_by(receipts.c.id)).all()


def _assert_replays(db, case_no: str) -> None:
    report = replay_case(db, case_no)
    assert report.identical, report.divergence


def test_xingzheng_xuke_fa_42_once_3_days_then_a_second_extension_refused(db, people):
    """行政许可法第四十二条: +3 accepted on Friday 6 March; a second extension (+2 on 9 March) is refused — once."""
    case_no = _accept(db, people)
    assert _clock(db, case_no, "2026-03-06 10:00")["committed_deadline"] == local("2026-03-10 00:00").isoformat()
    with clock.frozen_at(local("2026-03-06 10:00")):
        done = extend_deadline(db, case_no, 3, "需组织现场核查", people["chief"])
    assert done.days == 3 and done.committed_deadline == local("2026-03-13 00:00").isoformat()  # 10, 11, 12 Mar
    view = _clock(db, case_no, "2026-03-06 10:00")
    assert view["extension_days"] == 3
    assert view["statutory_deadline"] == local("2026-04-03 00:00").isoformat()  # 20 + 3 working days
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-09 10:00")), pytest.raises(OnewindowError, match="只允许延长一次"):
        extend_deadline(db, case_no, 2, "再次延期", people["chief"])
    assert _written(db, case_no) == before
    extended = [e for e in queries.case_history(db, case_no) if e["type"] == "deadline_extended"]
    assert len(extended) == 1
    assert extended[0]["data"]["reason"] == "需组织现场核查" and extended[0]["data"]["approved_by"] == "chief"
    assert extended[0]["data"]["chief_of"] == DECIDING_CHIEF_GROUP and extended[0]["data"]["most"] == 10
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_42_the_notice_is_dated_numbered_with_days_and_new_deadline(db, people):
    """行政许可法第四十二条 "应当将延长期限的理由告知申请人": a 延期告知书 in the same change as the extension."""
    case_no = _accept(db, people)
    with clock.frozen_at(local("2026-03-06 10:00")):
        done = extend_deadline(db, case_no, 3, "需组织现场核查", people["chief"])
    extension = [n for n in _notices(db, case_no) if n.kind == "extension"]
    assert len(extension) == 1
    notice = extension[0]
    assert notice.receipt_no == done.notice_no and notice.receipt_no.startswith(f"{case_no}-")
    assert notice.title == "延期告知书" and clock.as_utc(notice.issued_at) == local("2026-03-06 10:00")
    content = notice.content
    assert content["date"] == "2026年3月6日" and content["days"] == 3 and content["until"] == "2026年3月12日"
    assert content["reason"] == "需组织现场核查"
    body = "".join(content["body"])
    assert "延长3个工作日" in body and "至2026年3月12日" in body and "需组织现场核查" in body
    assert any("第四十二条" in basis for basis in content["legal_basis"])
    history = queries.case_history(db, case_no)
    extended = next(e for e in history if e["type"] == "deadline_extended")
    issued = next(e for e in history if e["type"] == "notice_issued" and e["data"]["kind"] == "extension")
    assert issued["seq"] == extended["seq"] + 1 and issued["at"] == extended["at"]  # one change
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_42_at_most_10_working_days_on_an_ordinary_case(db, people):
    """行政许可法第四十二条第一款: +11 refused; +10 accepted (due 24:00 on 23 March instead of 9 March)."""
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-05 15:00")):
        with pytest.raises(OnewindowError, match="最多 10 个工作日"):
            extend_deadline(db, case_no, 11, "情况复杂", people["chief"])
        assert _written(db, case_no) == before
        extend_deadline(db, case_no, 10, "情况复杂", people["chief"])
    assert _clock(db, case_no, "2026-03-05 15:00")["committed_deadline"] == local("2026-03-24 00:00").isoformat()
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_42_2_joint_handling_15_accepted_16_refused(db, people):
    """行政许可法第四十二条第二款 (联合办理, handling_mode joint): +16 refused, +15 accepted."""
    case_no = _accept(db, people, item="TEST-JOINT")
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-04 11:00")):
        with pytest.raises(OnewindowError, match=r"第二款.*最多 15 个工作日"):
            extend_deadline(db, case_no, 16, "多部门联合审查，需补充会商", people["chief"])
        assert _written(db, case_no) == before
        done = extend_deadline(db, case_no, 15, "多部门联合审查，需补充会商", people["chief"])
    # 5 + 15 = 20 working days after 2 March: 3–6, 9–13, 16–20, 23–27, 30 March → 24:00 on 30 March
    assert done.committed_deadline == local("2026-03-31 00:00").isoformat()
    assert _notices(db, case_no)[-1].content["until"] == "2026年3月30日"
    _assert_replays(db, case_no)


def test_an_item_whose_own_law_allows_less_caps_the_extension(db, people):
    """行政许可法第四十二条第一款 "法律、法规另有规定的，依照其规定": guide.extension_limit_days = 5."""
    case_no = _accept(db, people, item="TEST-CAPPED")
    with clock.frozen_at(local("2026-03-04 11:00")):
        with pytest.raises(OnewindowError, match=r"办事指南.*最多 5 个工作日"):
            extend_deadline(db, case_no, 6, "需现场核查", people["chief"])
        extend_deadline(db, case_no, 5, "需现场核查", people["chief"])
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_42_only_the_head_of_the_handling_organ(db, people):
    """行政许可法第四十二条 "经本行政机关负责人批准": a chief of another department, a clerk, an administrator
    and the applicant are refused with nothing written; the chief of the group handling the open step may."""
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-04 11:00")):
        with pytest.raises(PermissionDenied, match="不是当前办理单位或决定机关的负责人"):
            extend_deadline(db, case_no, 3, "需现场核查", people["other_chief"])
        for who in ("reviewer", "window", "admin", "applicant"):
            with pytest.raises(PermissionDenied, match="负责人"):
                extend_deadline(db, case_no, 3, "需现场核查", people[who])
        assert _written(db, case_no) == before
        extend_deadline(db, case_no, 3, "需现场核查", people["step_chief"])  # chief of 审查组, where the case is
    extended = next(e for e in queries.case_history(db, case_no) if e["type"] == "deadline_extended")
    assert extended["actor"] == "step_chief" and extended["data"]["chief_of"] == "审查组"
    _assert_replays(db, case_no)


def test_xingzheng_xuke_fa_42_refused_once_the_deadline_has_passed(db, people):
    """行政许可法第四十二条: the extension is decided within the limit; at 00:01 on 10 March it has run out."""
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-09 23:59")):
        assert extend_deadline(db, case_no, 1, "最后一日决定延期", people["chief"]).days == 1
    late = _accept(db, people)
    before = _written(db, late)
    with clock.frozen_at(local("2026-03-10 00:01")), pytest.raises(OnewindowError, match="届满"):
        extend_deadline(db, late, 3, "逾期才想起延期", people["chief"])
    assert _written(db, late) == before
    for number in (case_no, late):
        _assert_replays(db, number)


@pytest.mark.parametrize("days, message", [
    ("abc", "整数"), (-1, "整数"), (0, "整数"), (10 ** 9, "整数"), ("3.5", "整数"), (True, "整数"), (None, "整数"),
    ("9" * 40, "整数"), ([3], "整数"),
])
def test_hostile_days_are_refused_with_nothing_written(db, people, days, message):
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-04 11:00")), pytest.raises(OnewindowError, match=message):
        extend_deadline(db, case_no, days, "需现场核查", people["chief"])
    assert _written(db, case_no) == before
    _assert_replays(db, case_no)


@pytest.mark.parametrize("reason, message", [
    ("", "请写明延期理由"), ("   ", "请写明延期理由"), (None, "请写明延期理由"), ("理" * 5000, "最多 500 字")])
def test_a_missing_or_huge_reason_is_refused_with_nothing_written(db, people, reason, message):
    case_no = _accept(db, people)
    before = _written(db, case_no)
    with clock.frozen_at(local("2026-03-04 11:00")), pytest.raises(OnewindowError, match=message):
        extend_deadline(db, case_no, "3", reason, people["chief"])
    assert _written(db, case_no) == before


def test_the_days_a_form_sends_as_text_are_accepted(db, people):
    case_no = _accept(db, people)
    with clock.frozen_at(local("2026-03-04 11:00")):
        assert extend_deadline(db, case_no, " 4 ", "需现场核查", people["chief"]).days == 4
    _assert_replays(db, case_no)


def test_a_case_not_yet_accepted_cannot_be_extended(db, people):
    with clock.frozen_at(local("2026-03-02 09:00")):
        case = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, people["window"])
        with pytest.raises(OnewindowError, match="尚未受理或已办结"):
            extend_deadline(db, case.case_no, 3, "需现场核查", people["chief"])
