"""好差评 (S-12): only the applicant rates, only when they choose to; a 1 or 2, or a complaint, starts a
rectification case at the window concerned, with a working-day limit an administrator sets, a follow-up
with the applicant and an appeal the supervisors decide.
"""

from __future__ import annotations

import re

import pytest
from conftest import PROCESSES, make_actor
from sqlalchemy import func, insert, select
from watch_scenarios import local, setup, task_of

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.errors import ConflictError, FormValidationError, PermissionDenied
from engine.reads import queries
from engine.runtime.scheduler import tick
from engine.store.tables import cases, notifications, receipts
from engine.store.tables import ratings as ratings_table
from engine.time import clock
from engine.watch import performance, ratings

WINDOW = "区中心/区民政局"


@pytest.fixture
def world(db):
    people = setup(db)
    deploy_package(db, load_package(PROCESSES / "supervision" / "rectification"), "analyst")
    applicant = make_actor(db, "zhangsan", [], ["applicant"])
    mz_window = make_actor(db, "mz-window", [f"{WINDOW}·窗口"])
    return people, applicant, mz_window


def _closed_case(db, people, applicant, at="2026-03-02 10:00", unit=WINDOW) -> str:
    with clock.frozen_at(local(at)):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, applicant, unit=unit).case_no
        complete_task(db, task_of(db, case_no, "accept"), {"applicant_name": "张三", "id_number": "11010119900101123X",
                                                           "decision": "受理"}, people.window)
        complete_task(db, task_of(db, case_no, "review"), {"opinion": "同意"}, people.reviewer)
        complete_task(db, task_of(db, case_no, "issue"), {"certificate_no": "证-9"}, people.window)
    return case_no


def _rating_rows(db) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(ratings_table)).scalar_one()


def test_no_rating_is_ever_made_by_the_platform_and_only_the_applicant_rates(db, world):
    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    tick(db, local("2026-04-01 00:00"))
    assert _rating_rows(db) == 0  # closing a case, or time passing, rates nothing
    assert [o.visit for o in ratings.occasions(db, case_no, applicant)] == [ratings.COMPLETION]
    other = make_actor(db, "lisi", [], ["applicant"])
    for actor in (other, people.window, people.supervisor):
        with pytest.raises(PermissionDenied):
            ratings.rate(db, case_no, actor, ratings.COMPLETION, 5)
    assert _rating_rows(db) == 0


def test_a_good_rating_is_kept_once_per_occasion_and_starts_nothing(db, world):
    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    with clock.frozen_at(local("2026-03-03 09:00")):
        rated = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 4, sub_ratings={"服务态度": 5, "办事效率": 4},
                             comment="窗口服务耐心")
    assert rated.rectification_case_no is None
    [row] = ratings.of_case(db, case_no)
    assert (row["score"], row["label"], row["sub_ratings"]) == (4, "满意", {"服务态度": 5, "办事效率": 4})
    with pytest.raises(ConflictError):
        ratings.rate(db, case_no, applicant, ratings.COMPLETION, 5)
    with pytest.raises(ratings.RatingRefused) as refused:
        ratings.rate(db, case_no, applicant, ratings.COMPLETION, 6, kind=ratings.RATING)
    assert "score" in refused.value.details["field_errors"]
    report = performance.evaluate(db, local("2026-03-01 12:00").date(), local("2026-03-31 12:00").date())
    window = next(m for m in report.windows if m.key == WINDOW)
    assert (window.rating_count, window.rating_average) == (1, 4.0)


def test_an_open_case_is_rated_per_visit_only(db, world):
    _, applicant, _ = world
    with clock.frozen_at(local("2026-03-02 10:00")):
        case_no = start_case(db, "TEST-CLOCK", {"needs_supplement": False}, applicant, unit=WINDOW).case_no
    assert ratings.occasions(db, case_no, applicant) == []
    with pytest.raises(ratings.RatingRefused):
        ratings.rate(db, case_no, applicant, ratings.COMPLETION, 5)
    with db.transaction() as conn:  # a dated receipt is a visit at the window (the catalogue's acceptance issues one)
        cid = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()
        conn.execute(insert(receipts).values(receipt_no=f"{case_no}-01", case_id=cid, kind="supplement",
                                             title="补正材料通知书", element_id="accept",
                                             unit_code=WINDOW, issued_by="window", issued_at=local("2026-03-02 10:30"),
                                             content={}))
    [visit] = ratings.occasions(db, case_no, applicant)
    assert (visit.visit, visit.rated) == (1, False) and "补正" in visit.label
    ratings.rate(db, case_no, applicant, 1, 5)
    assert ratings.occasions(db, case_no, applicant)[0].rated


def test_a_bad_rating_starts_a_rectification_at_the_window_with_its_limit(db, world):
    people, applicant, mz_window = world
    case_no = _closed_case(db, people, applicant)
    with clock.frozen_at(local("2026-03-03 09:00")):
        rated = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 2, sub_ratings={"服务态度": 1},
                             comment="窗口人员态度生硬")
    rectification = rated.rectification_case_no
    assert rectification is not None
    detail = queries.case_detail(db, rectification)
    assert detail["item_code"] == "SUP-RECTIFY"
    [task] = detail["open_tasks"]
    assert (task["element_id"], task["candidate_group"]) == ("window_rectify", f"{WINDOW}·窗口")
    data = queries.case_history(db, rectification)[0]["data"]["data"]
    assert data["original_case_no"] == case_no and data["rectify_days"] == 5
    assert data["complaint"] == "评价 2 分（不满意）：窗口人员态度生硬"
    # The limit: 5 working days after Tuesday 3 March is Tuesday 10 March, at the same time of day.
    [timer] = detail["timers"]
    assert timer["due_at"] == local("2026-03-10 09:00").isoformat()
    assert tick(db, local("2026-03-10 09:01")).fired == [{"case_no": rectification, "element_id": "rectify_overdue"}]
    with db.reading() as conn:
        told = set(conn.execute(select(notifications.c.recipient)
                                .where(notifications.c.element_id == "chase_window")).scalars())
    assert told == {f"group:{WINDOW}·窗口", "role:supervisor"}

    # The window puts it right; the supervisors call the applicant, who appeals; they order it redone.
    complete_task(db, task["task_id"], {"explanation": "当日排队人多", "measures": "已批评教育并道歉"}, mz_window)
    follow = task_of(db, rectification, "follow_up")
    with pytest.raises(FormValidationError):  # an appeal needs its reason
        complete_task(db, follow, {"contact": "电话 3月11日", "applicant_view": "不满意", "appeal": "申诉"},
                      people.supervisor)
    complete_task(db, follow, {"contact": "电话 3月11日", "applicant_view": "道歉不够诚恳", "appeal": "申诉",
                               "appeal_reason": "希望当面道歉"}, people.supervisor)
    complete_task(db, task_of(db, rectification, "supervisor_decide"),
                  {"decision": "责令重新整改", "reason": "应当面致歉"}, people.supervisor)
    complete_task(db, task_of(db, rectification, "window_rectify"),
                  {"explanation": "已上门当面致歉", "measures": "当面致歉，加强培训"}, mz_window)
    complete_task(db, task_of(db, rectification, "follow_up"),
                  {"contact": "电话 3月13日", "applicant_view": "满意", "appeal": "不申诉"}, people.supervisor)
    assert queries.case_detail(db, rectification)["status"] == "completed"


def test_a_complaint_needs_its_text_and_starts_a_rectification(db, world):
    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    with pytest.raises(ratings.RatingRefused):
        ratings.rate(db, case_no, applicant, ratings.COMPLETION, None, kind=ratings.COMPLAINT, comment="差")
    rated = ratings.rate(db, case_no, applicant, ratings.COMPLETION, None, kind=ratings.COMPLAINT,
                         comment="窗口中午提前下班，让我白跑一趟")
    assert rated.rectification_case_no is not None
    [row] = ratings.of_case(db, case_no)
    assert (row["kind"], row["score"]) == ("complaint", 0)
    report = performance.evaluate(db, local("2026-03-01 12:00").date(), local("2026-12-31 12:00").date())
    assert next(m for m in report.windows if m.key == WINDOW).rating_count == 0  # a complaint is not a score


def test_the_administrator_sets_the_rectification_limit(db, world):
    people, applicant, _ = world
    with pytest.raises(PermissionDenied):
        ratings.set_rectify_days(db, 3, people.supervisor)
    with pytest.raises(ratings.RatingRefused):
        ratings.set_rectify_days(db, 0, people.admin)
    ratings.set_rectify_days(db, 3, people.admin)
    case_no = _closed_case(db, people, applicant)
    with clock.frozen_at(local("2026-03-03 09:00")):
        rated = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 1)
    detail = queries.case_detail(db, rated.rectification_case_no)
    assert detail["timers"][0]["due_at"] == local("2026-03-06 09:00").isoformat()


def test_a_window_outside_the_org_tree_keeps_the_rating_without_a_rectification(db, world):
    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant, unit=None)  # 测试部门: no window in processes/org.json
    rated = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 1, comment="很差")
    assert rated.rectification_case_no is None and _rating_rows(db) == 1


def test_the_applicant_rates_from_the_case_page(client, db, world):
    from test_web import csrf_token, login

    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    login(client, "zhangsan")
    assert 'id="rating-link"' in client.get(f"/cases/{case_no}").get_data(as_text=True)
    page = client.get(f"/hall/cases/{case_no}/rate").get_data(as_text=True)
    assert "非常不满意" in page and "非常满意" in page and "服务态度" in page
    token = csrf_token(client, f"/hall/cases/{case_no}/rate")
    bad = client.post(f"/hall/cases/{case_no}/rate", data={"csrf_token": token, "kind": "rating", "visit": "0"})
    assert bad.status_code == 422 and _rating_rows(db) == 0
    done = client.post(f"/hall/cases/{case_no}/rate", data={"csrf_token": token, "kind": "rating", "visit": "0",
                                                             "score": "2", "sub-服务态度": "1", "comment": "态度差"},
                       follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "已启动整改" in text and 'id="given"' in text and "2 不满意" in text
    english = client.get(f"/hall/cases/{case_no}/rate?lang=en").get_data(as_text=True)  # the scale is the engine's
    assert "2 dissatisfied" in english and "Courtesy 1" in english
    assert "不满意" not in english and "服务态度" not in english
    client.get("/hall?lang=zh")
    login(client, "window")  # staff see the case page without the rating link, and cannot rate
    assert 'id="rating-link"' not in client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert client.get(f"/hall/cases/{case_no}/rate").status_code == 403


def test_a_good_rating_on_the_page_is_listed_without_a_rectification(client, db, world):
    """A 5 starts nothing (S-12): the applicant's 已提交 list shows it with a dash where a rectification case
    would be linked."""
    from test_web import csrf_token, login

    people, applicant, _ = world
    case_no = _closed_case(db, people, applicant)
    login(client, "zhangsan")
    token = csrf_token(client, f"/hall/cases/{case_no}/rate")
    page = client.post(f"/hall/cases/{case_no}/rate", data={"csrf_token": token, "kind": "rating", "visit": "0",
                                                             "score": "5", "comment": "办得快"},
                       follow_redirects=True).get_data(as_text=True)
    given = page[page.index('id="given"'):page.index("</table>", page.index('id="given"'))]
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", given, re.S)]
    assert cells == ["办结", "评价", "5 非常满意", "办得快", "—"]  # 整改: none, and no link
    assert _rating_rows(db) == 1


def test_rectification_cases_are_not_counted_as_the_windows_work(db, world):
    people, applicant, mz_window = world
    case_no = _closed_case(db, people, applicant)
    rectification = ratings.rate(db, case_no, applicant, ratings.COMPLETION, 1).rectification_case_no
    complete_task(db, task_of(db, rectification, "window_rectify"), {"explanation": "说明", "measures": "措施"},
                  mz_window)
    complete_task(db, task_of(db, rectification, "follow_up"),
                  {"contact": "电话", "applicant_view": "满意", "appeal": "不申诉"}, people.supervisor)
    report = performance.evaluate(db, local("2026-01-01 12:00").date(), local("2026-12-31 12:00").date())
    window = next(m for m in report.windows if m.key == WINDOW)
    assert window.handled == 1  # the rated case only
    assert "mz-window" not in [m.key for m in report.people]
