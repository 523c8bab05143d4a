"""History reads as a story (issue 16, item 6): steps by name, fields by title, lists as lists, people by name,
deadlines as the end of their day ("2026-09-30 24:00", never National Day's 00:00) on every page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from conftest import deploy, log_in, make_actor

from engine.desk import casework, countersign
from engine.org import accounts, orgtree
from engine.reads import queries, story
from engine.time import clock
from webapp.formatting import event_summary

ITEM = "catalogue/jinggai/JG-003"
DATA = {"applicant_name": "李梅", "id_number": "42070419800101123X", "phone": "13900001111"}


def test_a_deadline_is_the_end_of_its_day_even_before_a_holiday():
    end = clock.end_of_day(date(2026, 9, 30))  # stored as 1 October 00:00, National Day
    assert clock.deadline_text(end) == "2026-09-30 24:00"
    assert clock.deadline_text(datetime(2026, 9, 30, 7, 30, tzinfo=UTC)) == "2026-09-30 15:30"  # not a day's end
    assert clock.deadline_text(None) == ""


@pytest.fixture
def case(db):
    """A JG-003 case accepted and handled, with an applicant, a window clerk and a handler named in the org."""
    orgtree.install(db)
    deploy(db, ITEM)
    applicant = make_actor(db, "limei", [], ["applicant"])
    started = casework.start_case(db, "JG-003", DATA, applicant)
    accept = queries.open_tasks(db, case_no=started.case_no)[0]
    window = make_actor(db, "wang", [accept.candidate_group])
    casework.claim_task(db, accept.task_id, window)
    casework.complete_task(db, accept.task_id, {"decision": "受理", "remark": "材料齐全"}, window)
    handle = next(t for t in queries.open_tasks(db, case_no=started.case_no) if t.element_id == "handle")
    handler = make_actor(db, "zhou", [handle.candidate_group])
    casework.complete_task(db, handle.task_id, {"handling_opinion": "符合条件", "site_inspection": True}, handler)
    return started.case_no


def test_the_story_names_steps_fields_and_people(db, case):
    events = story.case_story(db, case)
    started = events[0]
    assert started["who"] == "limei"  # the account's display name (make_actor names it by its login)
    pairs = dict(event_summary(started))
    assert pairs["申请人姓名"] == "李梅" and pairs["身份证号码"] == DATA["id_number"]
    assert pairs["联系电话"] == DATA["phone"]
    handled = next(e for e in events if e["type"] == "task_completed" and e["element_id"] == "handle")
    assert handled["step"] == "承办"
    assert dict(event_summary(handled)) == {"承办意见": "符合条件", "已现场核查": "是"}
    claimed = next(e for e in events if e["type"] == "task_claimed")
    assert claimed["element_id"] == "accept_review" and claimed["step"] == "受理审查"  # from the called diagram
    every = [key for e in events for key, _value in event_summary(e)]
    assert not [k for k in every if re.fullmatch(r"[a-z_]+", k)], every  # no raw key anywhere


def test_a_follow_up_applicant_is_named_by_the_application(db, case):
    names = story.story_names(db, case, [])
    assert names.person(f"applicant:{case}") == "李梅"
    assert names.person("system") == "系统" and names.person("nobody") == "nobody"


def test_countersign_and_lists_read_as_words(db, case):
    review = next(t for t in queries.open_tasks(db, case_no=case) if t.element_id == "review")
    handler = make_actor(db, "sun", [review.candidate_group])
    accounts.create_user(db, "luo", "secret-pw", "负责人 罗军", ["clerk", "chief"], [review.candidate_group])
    chief = accounts.actor_for(db, "luo")
    countersign.add_reviewer(db, review.task_id, "luo", "before", handler, "请负责人先看")
    countersign.answer(db, review.task_id, "同意", "", chief)
    events = story.case_story(db, case)
    added = dict(event_summary(next(e for e in events if e["type"] == "countersign_added")))
    assert added == {"交给": "负责人 罗军", "加签方式": "前加签", "理由": "请负责人先看"}  # by name, no raw keys
    answered = next(e for e in events if e["type"] == "countersign_answered")
    assert answered["who"] == "负责人 罗军" and dict(event_summary(answered)) == {"加签意见": "同意"}


def test_a_list_is_a_list(db, case):
    """补正's missing materials: the field's title and the materials one after another, never "['a', 'b']"."""
    again = casework.start_case(db, "JG-003", DATA, make_actor(db, "limei2", [], ["applicant"])).case_no
    accept = queries.open_tasks(db, case_no=again)[0]
    casework.complete_task(db, accept.task_id, {"decision": "补正", "missing_materials": ["项目节能报告", "备案证明"]},
                           make_actor(db, "wang2", [accept.candidate_group]))
    done = next(e for e in story.case_story(db, again) if e["type"] == "task_completed")
    assert dict(event_summary(done))["需补正的全部材料（一次性告知）"] == "项目节能报告、备案证明"


def test_the_case_page_tells_the_story_and_says_deadlines_as_the_day_end(client, db, case):
    log_in(client, "wang")
    html = client.get(f"/cases/{case}").get_data(as_text=True)
    assert "承办意见" in html and "handling_opinion" not in html and "site_inspection" not in html
    assert f"applicant:{case}" not in html and "['" not in html
    deadline = queries.case_detail(db, case)["clock"]["committed_deadline"]
    day_end = clock.deadline_text(datetime.fromisoformat(deadline))
    assert day_end.endswith("24:00") and day_end in html
    assert clock.local_text(datetime.fromisoformat(deadline)) not in html  # never the next day's 00:00
    task = next(t for t in queries.open_tasks(db, case_no=case) if t.element_id == "review")
    log_in(client, "zhou")
    make_actor(db, "qian", [task.candidate_group])
    log_in(client, "qian")
    assert day_end in client.get("/desk").get_data(as_text=True)  # the desk list says the same day
    assert day_end in client.get(f"/desk/tasks/{task.task_id}").get_data(as_text=True)  # and the task page


def test_who_may_not_see_the_case_sees_no_story(client, db, case):
    make_actor(db, "outsider", ["区中心/区民政局·窗口"])
    log_in(client, "outsider")
    page = client.get(f"/cases/{case}")
    assert page.status_code == 403 and "承办意见" not in page.get_data(as_text=True)



def test_the_case_page_leaves_the_systems_own_moves_out_unless_asked(client, db, case):
    """A story, not a log: gateways and events the system passed are counted and one click away; the
    multi-instance step's parent is named like its steps, not by its id (issue 16, item 6)."""
    system_moves = [e for e in queries.case_history(db, case) if e["type"] == "step_completed"
                    and e["actor"] == "system"]
    assert system_moves  # the case did pass gateways
    log_in(client, "wang")
    page = client.get(f"/cases/{case}").get_data(as_text=True)
    assert "event-step_completed" not in page and f"另有 {len(system_moves)} 条系统流转记录" in page
    every = client.get(f"/cases/{case}?steps=all").get_data(as_text=True)
    assert every.count('class="event-step_completed"') == len(system_moves)
    names = story.StoryNames(steps={"joint_opinion": "部门并联审查"})
    assert names.step("joint_opinion", "joint_opinion") == "部门并联审查"  # the recorded "name" was the id
    assert names.step("accept", "受理") == "受理" and names.step("nameless") == "nameless"
