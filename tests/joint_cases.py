"""A real joint item (JG-002, 政府投资项目可行性研究报告审批) brought to a chosen step, for the tests of the form
pages: its window accepts, its four departments review in parallel (multi-instance), its 承办 collates.

Each department's reviewer is a person of that department's 审核 group, so the opinions are answered as the
district would answer them; the tests read what the pages and the engine make of it.
"""

from __future__ import annotations

from conftest import PROCESSES, make_actor

from engine.catalogue.deployment import deploy_package
from engine.desk import submission
from engine.desk.casework import start_case
from engine.diagrams.package import load_package
from engine.org import accounts, orgtree
from engine.org.assignment import Actor
from engine.reads import queries

ITEM = "JG-002"
LEAD = "区经济改革局"
DEPARTMENTS = ("市国土资源局本区分局", "区住房城乡建设和交通运输局", "区环境保护局", "区财政局")
REVIEWERS = ("赵国土", "钱住建", "孙环保", "李财政")  # display names: the pages name people so


def group(unit_name: str, function: str) -> str:
    return orgtree.group_code(orgtree.department_unit(unit_name), function)


def set_up(db) -> dict[str, Actor]:
    """The item deployed on the org tree, an applicant, the lead's window and 承办 clerks, one reviewer per
    department (named after it, so a test can tell whose answer is whose)."""
    orgtree.install(db)
    deploy_package(db, load_package(PROCESSES / "catalogue/jinggai/JG-002"), "analyst")
    people = {"applicant": make_actor(db, "lisi", [], ["applicant"]),
              "window": make_actor(db, "window", [group(LEAD, "窗口")]),
              "lead": make_actor(db, "lead", [group(LEAD, "承办")])}
    for n, department in enumerate(DEPARTMENTS):
        accounts.create_user(db, f"reviewer{n}", "secret-pw", REVIEWERS[n], ["clerk"], [group(department, "审核")])
        people[department] = accounts.actor_for(db, f"reviewer{n}")
    return people


def start(db, people: dict[str, Actor]) -> str:
    started = start_case(db, ITEM, {"applicant_name": "李四", "id_number": "42070419800101123X"},
                         people["applicant"], unit=orgtree.department_unit(LEAD))
    return started.case_no


def open_task(db, case_no: str, element: str, group_code: str | None = None):
    tasks = [t for t in queries.open_tasks(db, case_no=case_no, limit=50) if t.element_id == element
             and (group_code is None or t.candidate_group == group_code)]
    assert tasks, f"no open {element} for {group_code} in {case_no}"
    return tasks[0]


def accept(db, people, case_no: str) -> None:
    task = open_task(db, case_no, "accept_review")
    submission.submit_task(db, task.task_id, {"decision": ["受理"]}, people["window"])


REFUSAL = {"reason": "项目用地不符合土地利用总体规划", "legal_basis": "《中华人民共和国土地管理法》第五十二条"}


def review(db, people, case_no: str, answers: dict[str, str]) -> None:
    """Each department answers (同意 / 不同意, with a reason and legal basis of its own for a 不同意)."""
    for department, answer in answers.items():
        task = open_task(db, case_no, "joint_opinion", group(department, "审核"))
        sent = {"decision": [answer], "comment": [f"{department}已审查"]}
        if answer == "不同意":
            sent |= {"reason": [REFUSAL["reason"]], "legal_basis": [REFUSAL["legal_basis"]]}
        submission.submit_task(db, task.task_id, sent, people[department])
