"""A manual task (BPMN manualTask) at the desk: a person confirms it, without a form (issue 17, item 1).

The model is the corpus's manual-task, deployed unchanged; its spiff-arena instructions are what the
person reads, and 确认完成 is the whole answer. The engine side (indexing, completing, replay) is
tests/test_corpus.py's run of the same model.
"""

from __future__ import annotations

from conftest import DATA_DIR, csrf, desk_ops_case, log_in, make_actor
from test_corpus import as_item

from engine.audit.replay import replay_case
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.reads import queries
from engine.runtime.change import load_workflow


def test_a_manual_task_shows_its_instructions_and_is_confirmed_with_one_button(db, client, tmp_path):
    deploy_package(db, load_package(as_item(DATA_DIR / "corpus" / "manual-task", tmp_path, "MANUAL-001")), "analyst")
    make_actor(db, "zhang", [], ["admin"])
    applicant = make_actor(db, "li", [], ["applicant"])
    case_no = casework.start_case(db, "MANUAL-001", {"applicant_name": "李四"}, applicant).case_no
    [task] = queries.open_tasks(db, case_no=case_no)
    detail = queries.task_detail(db, task.task_id)
    assert detail["manual"] and detail["instructions"] == "请核对申请人出示的原件与复印件一致"

    log_in(client, "zhang")
    page = client.get(f"/desk/tasks/{task.task_id}").get_data(as_text=True)
    assert "请核对申请人出示的原件与复印件一致" in page and "确认完成" in page and "提交办理" not in page
    done = client.post(f"/desk/tasks/{task.task_id}",
                       data={"csrf_token": csrf(client, f"/desk/tasks/{task.task_id}"), "_case": case_no})
    assert done.status_code == 302
    assert queries.case_detail(db, case_no)["status"] == "completed"
    assert load_workflow(db, case_no).data["total"] == 200 and replay_case(db, case_no).identical

    again = client.post(f"/desk/tasks/{task.task_id}", data={"csrf_token": csrf(client, "/desk"), "_case": case_no})
    assert again.status_code in (302, 409) and queries.case_detail(db, case_no)["status"] == "completed"


def test_a_user_task_is_no_manual_task(db):
    """The flag is the task's kind: a user task keeps its form and its 提交办理."""
    case_no = desk_ops_case(db)
    [task] = queries.open_tasks(db, case_no=case_no)
    assert queries.task_detail(db, task.task_id)["manual"] is False
