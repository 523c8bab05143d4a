"""Scripts are bounded (issue 13, item 5): a diagram's script, condition or timer expression that loops for ever,
computes a giant number or text, recurses without end or leaves too much data is a script error naming the
element, and nothing is written. Before, `while True: pass` held SQLite's write lock for ever (every other write
of the district failed after 30 s), and `'a' * 10**8` grew a worker by hundreds of megabytes and its state by 100 MB.
"""

from __future__ import annotations

import threading
import time

import pytest
from conftest import DATA_DIR, make_actor
from sqlalchemy import func, select

from engine.catalogue.deployment import deploy_package
from engine.desk.casework import complete_task, start_case
from engine.diagrams.package import load_package
from engine.errors import ScriptError
from engine.reads import queries
from engine.store.tables import audit_events, cases, task_index

SAFETY_SECONDS = 10  # a bound on a stopped script, far above the 1 s it is given: never a speed target


@pytest.fixture
def clerk(db):
    deploy_package(db, load_package(DATA_DIR / "script-bounds"), "analyst")
    return make_actor(db, "clerk", [])


def _open_case(db, clerk) -> str:
    """A new case's first task (`enter`), whose form says where the diagram fails and how."""
    case_no = start_case(db, "TEST-SCRIPT-BOUNDS", {"applicant_name": "张三"}, clerk).case_no
    return queries.open_tasks(db, case_no=case_no)[0].task_id


def _stored(db):
    with db.reading() as conn:
        return (conn.execute(select(cases.c.case_no, cases.c.state, cases.c.lock_version, cases.c.audit_head)
                             .order_by(cases.c.case_no)).all(),
                conn.execute(select(task_index.c.task_id).order_by(task_index.c.task_id)).all(),
                conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def _refused(db, clerk, task_id: str, where: str, kind: str) -> str:
    before = _stored(db)
    started = time.monotonic()
    with pytest.raises(ScriptError) as refused:
        complete_task(db, task_id, {"where": where, "kind": kind}, clerk)
    assert time.monotonic() - started < SAFETY_SECONDS
    assert _stored(db) == before
    return refused.value.message


@pytest.mark.parametrize(("kind", "says"), [("loop", "运行超过 1 秒"), ("power", "整数过大"),
                                            ("repeat", "文字或列表过长"), ("recursion", "递归过深"),
                                            ("data", "办件数据超过上限 1,048,576 字节")])
def test_a_script_that_runs_away_is_stopped_naming_its_element_and_nothing_is_written(db, clerk, kind, says):
    message = _refused(db, clerk, _open_case(db, clerk), "script", kind)
    assert "元素 compute" in message and says in message


@pytest.mark.parametrize(("where", "element"), [("post", "enter"), ("condition", "route"), ("timer", "wait")])
def test_a_post_script_a_condition_and_a_timer_expression_are_bounded_too(db, clerk, where, element):
    message = _refused(db, clerk, _open_case(db, clerk), where, "fine")
    assert f"元素 {element}" in message and "运行超过 1 秒" in message


def test_the_same_case_goes_on_once_the_input_no_longer_sends_it_into_the_loop(db, clerk):
    task_id = _open_case(db, clerk)
    _refused(db, clerk, task_id, "script", "loop")
    complete_task(db, task_id, {"where": "none", "kind": "fine"}, clerk)
    assert [t.element_id for t in queries.open_tasks(db)] == ["finish"]


def test_another_case_is_written_while_an_endless_script_holds_the_write_lock(db, clerk):
    """On SQLite a change holds the database's write lock from its first statement: before, a second writer
    waited 30 s for it and failed with "database is locked". Now the lock is held for the script's second."""
    looping, other = _open_case(db, clerk), _open_case(db, clerk)
    outcome: list[BaseException] = []

    def run_away() -> None:
        try:
            complete_task(db, looping, {"where": "script", "kind": "loop"}, clerk)
        except BaseException as exc:  # handed to the test's thread to assert on
            outcome.append(exc)

    thread = threading.Thread(target=run_away, daemon=True)
    thread.start()
    time.sleep(0.3)  # the looping change has begun and holds the lock
    started = time.monotonic()
    complete_task(db, other, {"where": "none", "kind": "fine"}, clerk)
    assert time.monotonic() - started < SAFETY_SECONDS
    thread.join(SAFETY_SECONDS)
    assert len(outcome) == 1 and isinstance(outcome[0], ScriptError)
    assert "元素 compute" in outcome[0].message
