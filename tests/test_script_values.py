"""A diagram that leaves a value the case cannot store, or a timer that cannot be evaluated, is a script error
that names the element, and nothing is written (issue 12, item 5): never exit 3 on the command line, never a
500 on the web. Before, a `range` or a set left by a script made the save fail with a bare TypeError (or
silently became a list), and a huge integer a ValueError from inside the serializer.
"""

from __future__ import annotations

import pytest
from cli_helpers import one_error_line, run
from conftest import DATA_DIR, make_actor
from sqlalchemy import func, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.errors import ScriptError
from engine.org import accounts
from engine.reads import queries
from engine.runtime.change import load_workflow
from engine.store.tables import audit_events, cases, task_index, timer_index

UNSTORABLE = ["range", "generator", "complex", "set", "exception", "bigint", "nan"]


@pytest.fixture
def case(db):
    deploy_package(db, load_package(DATA_DIR / "bad-values"), "analyst")
    actor = make_actor(db, "clerk", [])
    case_no = start_case(db, "TEST-BAD-VALUES", {"applicant_name": "张三"}, actor).case_no
    return case_no, actor, queries.open_tasks(db, case_no=case_no)[0].task_id


def _everything(db):
    with db.reading() as conn:
        return (conn.execute(select(cases.c.state, cases.c.lock_version, cases.c.status, cases.c.audit_head)).all(),
                conn.execute(select(task_index.c.task_id, task_index.c.element_id)).all(),
                conn.execute(select(timer_index.c.task_id)).all(),
                conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


@pytest.mark.parametrize("kind", UNSTORABLE)
@pytest.mark.parametrize(("where", "element"), [("post", "enter"), ("script", "compute")])
def test_an_unstorable_value_is_a_script_error_naming_the_element_and_nothing_is_written(db, case, where, element,
                                                                                           kind):
    _, actor, task_id = case
    before = _everything(db)
    with pytest.raises(ScriptError) as refused:
        complete_task(db, task_id, {"where": where, "kind": kind}, actor)
    assert f"元素 {element}" in refused.value.message and "无法保存" in refused.value.message
    assert _everything(db) == before


def test_a_tuple_is_stored_as_the_list_it_reads_back_as(db, case):
    case_no, actor, task_id = case
    complete_task(db, task_id, {"where": "script", "kind": "tuple"}, actor)
    assert load_workflow(db, case_no).get_tasks(spec_name="finish")[0].data["computed"] == [1, 2]


def test_a_timer_that_fails_when_reached_from_a_user_task_names_the_timer_and_writes_nothing(db, case):
    _, actor, task_id = case
    before = _everything(db)
    with pytest.raises(ScriptError) as refused:
        complete_task(db, task_id, {"where": "timer", "kind": "fine"}, actor)
    assert "元素 wait" in refused.value.message and "no_such_hours" in refused.value.message
    assert _everything(db) == before


def test_the_command_line_says_it_in_one_line_with_exit_1(env_db, case, capsys):
    _, _, task_id = case
    status, _, err = run(capsys, "complete", task_id, "--as", "clerk", "--data", '{"where": "post", "kind": "set"}')
    assert status == 1 and "元素 enter" in one_error_line(err)


def test_the_api_answers_422_with_the_message(db, app, case):
    _, _, task_id = case
    token = accounts.issue_token(db, "clerk", "test")
    response = app.test_client().post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"where": "timer",
                                                                                         "kind": "fine"}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and response.get_json()["error"] == "script_error"
    assert "wait" in response.get_json()["message"]
