"""Collating a joint review (issue 16, item 5): every department's opinion with its name, reason, legal basis,
who and when — on the collating clerk's page and the case page — and a joint refusal drafted from the
departments that said no. On a real joint item, JG-002, its four departments answering in parallel."""

from __future__ import annotations

import joint_cases
from conftest import log_in, make_actor
from joint_cases import DEPARTMENTS, REFUSAL

from engine.desk import opinions, prefill
from engine.reads import queries

LAND, HOUSING, ENVIRONMENT, FINANCE = DEPARTMENTS


def _refused_case(db):
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    joint_cases.accept(db, people, case_no)
    joint_cases.review(db, people, case_no, {LAND: "不同意", HOUSING: "同意", ENVIRONMENT: "不同意", FINANCE: "同意"})
    return people, case_no


def test_every_departments_opinion_by_name_with_reason_basis_who_and_when(db):
    _, case_no = _refused_case(db)
    found = {o.department: o for o in opinions.of_case(db, case_no)}
    assert set(found) == set(DEPARTMENTS)  # the units' display names, not 区中心/…·审核
    land = found[LAND]
    assert (land.answer, land.refused, land.reason, land.legal_basis) == (
        "不同意", True, REFUSAL["reason"], REFUSAL["legal_basis"])
    assert land.by == "赵国土" and land.at and land.comment == f"{LAND}已审查"
    housing = found[HOUSING]
    assert (housing.answer, housing.refused, housing.reason, housing.legal_basis) == ("同意", False, "", "")
    assert housing.by == "钱住建"


def test_the_joint_refusal_starts_from_the_departments_that_said_no(db):
    _, case_no = _refused_case(db)
    task = joint_cases.open_task(db, case_no, "joint_refusal")
    values = prefill.initial_values(db, queries.task_detail(db, task.task_id))
    assert values["reason"] == f"{LAND}：{REFUSAL['reason']}；{ENVIRONMENT}：{REFUSAL['reason']}"
    assert values["legal_basis"] == f"{LAND}：{REFUSAL['legal_basis']}；{ENVIRONMENT}：{REFUSAL['legal_basis']}"
    assert HOUSING not in values["reason"] and FINANCE not in values["reason"]


def test_a_department_still_reviewing_does_not_start_from_anothers_no(db):
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    joint_cases.accept(db, people, case_no)
    joint_cases.review(db, people, case_no, {LAND: "不同意"})
    task = joint_cases.open_task(db, case_no, "joint_opinion", joint_cases.group(FINANCE, "审核"))
    values = prefill.initial_values(db, queries.task_detail(db, task.task_id))
    assert "reason" not in values and "legal_basis" not in values


def test_all_agreed_the_collation_has_no_refusal_and_no_case_loads_a_workflow_for_nothing(db):
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    assert opinions.of_case(db, case_no) == []  # before any review: answered from the trail alone
    joint_cases.accept(db, people, case_no)
    joint_cases.review(db, people, case_no, dict.fromkeys(DEPARTMENTS, "同意"))
    task = joint_cases.open_task(db, case_no, "collate")
    assert [o.refused for o in opinions.of_case(db, case_no)] == [False] * 4
    assert opinions.refusal_draft(opinions.of_case(db, case_no)) == {}
    assert "reason" not in prefill.initial_values(db, queries.task_detail(db, task.task_id))


def test_the_collating_clerks_page_shows_the_opinions_and_the_drafted_refusal(db, client):
    _, case_no = _refused_case(db)
    task = joint_cases.open_task(db, case_no, "joint_refusal")
    log_in(client, "lead")
    page = client.get(f"/desk/tasks/{task.task_id}").get_data(as_text=True)
    panel = page[page.index('id="joint-opinions"'):page.index("</section>", page.index('id="joint-opinions"'))]
    for department in DEPARTMENTS:
        assert department in panel
    assert "赵国土" in panel and REFUSAL["legal_basis"] in panel and "4 个部门中 2 个不同意" in panel
    assert "·审核" not in panel and "区中心/" not in panel and "reviewer0" not in panel  # no internal names
    assert f"{LAND}：{REFUSAL['reason']}；{ENVIRONMENT}：{REFUSAL['reason']}" in page  # the form, pre-filled


def test_the_case_page_shows_them_to_staff_and_not_to_the_applicant(db, client):
    _, case_no = _refused_case(db)
    log_in(client, "lead")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'id="joint-opinions"' in page and "孙环保" in page and ENVIRONMENT in page
    log_in(client, "lisi")
    seen = client.get(f"/cases/{case_no}")
    assert seen.status_code in (200, 302, 403, 404)
    text = seen.get_data(as_text=True)
    assert "joint-opinions" not in text and REFUSAL["legal_basis"] not in text


def test_a_reviewing_department_gets_no_opinions_panel_and_an_outsider_no_page(db, client):
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    joint_cases.accept(db, people, case_no)
    joint_cases.review(db, people, case_no, {LAND: "不同意"})
    task = joint_cases.open_task(db, case_no, "joint_opinion", joint_cases.group(FINANCE, "审核"))
    log_in(client, "reviewer3")
    page = client.get(f"/desk/tasks/{task.task_id}").get_data(as_text=True)
    assert 'id="joint-opinions"' not in page  # its own answer is its own (the history still tells what happened)
    assert f"{LAND}：" not in page  # and its form starts from nothing of another's
    make_actor(db, "stranger", [joint_cases.group("区民政局", "审核")])
    log_in(client, "stranger")
    assert client.get(f"/desk/tasks/{task.task_id}").status_code == 403
    assert "joint-opinions" not in client.get(f"/cases/{case_no}").get_data(as_text=True)
