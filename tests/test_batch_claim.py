"""On the desk's list (issue 16, item 7): batch 签收 with checkboxes — one engine call per task, the refused ones
named; a chief who is no clerk reads the list of his groups and reaches the case page (延期, 加签) but handles
no task; the navigation counts unread personal and group messages."""

from __future__ import annotations

import re

import pytest
from conftest import csrf, desk_ops_case, log_in, make_actor

from engine.desk import casework
from engine.errors import OnewindowError
from engine.org import accounts
from engine.reads import queries
from engine.store.tables import cases, notifications
from engine.time import clock


@pytest.fixture
def three(db):
    """Three cases, each with its first task open in the window's group; two window clerks, another group's."""
    numbers = [desk_ops_case(db, f"applicant{i}") for i in range(3)]
    group = queries.open_tasks(db, case_no=numbers[0])[0].candidate_group
    make_actor(db, "wang", [group])
    make_actor(db, "li", [group])
    make_actor(db, "zhao", ["审查组"])
    make_actor(db, "chief", [group], ["chief"])  # the head of the window, no clerk
    return numbers, [queries.open_tasks(db, case_no=n)[0].task_id for n in numbers]


def test_each_task_is_claimed_on_its_own_and_the_refused_are_named(db, three):
    numbers, tasks = three
    casework.claim_task(db, tasks[1], accounts.actor_for(db, "li"))  # taken meanwhile
    done = casework.claim_tasks(db, [*tasks, tasks[0], "no-such-task"], accounts.actor_for(db, "wang"))
    assert done.claimed == [numbers[0], numbers[2]]  # the duplicate is claimed once
    step = queries.open_tasks(db, case_no=numbers[1])[0].name
    assert [who for who, _why in done.failed] == [f"办件 {numbers[1]}“{step}”", "一项已办结或不存在的任务"]
    assert "li" in done.failed[0][1]
    assert {t.assignee for t in queries.open_tasks(db, case_no=numbers[0])} == {"wang"}


def test_another_group_claims_nothing(db, three):
    _numbers, tasks = three
    done = casework.claim_tasks(db, tasks, accounts.actor_for(db, "zhao"))
    assert done.claimed == [] and len(done.failed) == 3 and all("不属于" in why for _who, why in done.failed)
    assert all(t.assignee is None for t in queries.open_tasks(db))


@pytest.mark.parametrize("ids", [[], ["x" * 10_000], [str(i) for i in range(51)]])
def test_hostile_batches_are_refused_before_anything_is_written(db, three, ids):
    with pytest.raises(OnewindowError):
        casework.claim_tasks(db, ids, accounts.actor_for(db, "wang"))
    assert all(t.assignee is None for t in queries.open_tasks(db))


def post(client, path: str, **form):
    return client.post(path, data={"csrf_token": csrf(client, "/cases"), **form})


def test_the_list_offers_checkboxes_and_claims_the_ticked(client, db, three):
    numbers, tasks = three
    log_in(client, "wang")
    html = client.get("/desk").get_data(as_text=True)
    assert html.count('name="task"') == 3 and 'id="batch-claim"' in html
    casework.claim_task(db, tasks[2], accounts.actor_for(db, "li"))
    done = post(client, "/desk/claim", task=[tasks[0], tasks[2]], next="/desk")
    assert done.status_code == 302
    page = client.get("/desk").get_data(as_text=True)
    assert "已签收 1 项任务" in page and f"办件 {numbers[2]}" in page and "未能签收" in page
    assert {t.assignee for t in queries.open_tasks(db, case_no=numbers[0])} == {"wang"}
    assert post(client, "/desk/claim", next="https://evil.example/").headers["Location"].endswith("/desk")


def test_who_may_not_batch_claim(client, db, three):
    _numbers, tasks = three
    make_actor(db, "jiancha", [], ["supervisor"])
    for who in ("jiancha", "chief"):
        log_in(client, who)
        assert post(client, "/desk/claim", task=tasks).status_code == 403, who
    client.post("/logout", data={"csrf_token": csrf(client, "/cases")})
    anonymous = client.post("/desk/claim", data={"csrf_token": csrf(client, "/login"), "task": tasks})
    assert anonymous.status_code in (302, 401) and "/login" in anonymous.headers.get("Location", "/login")
    assert all(t.assignee is None for t in queries.open_tasks(db))


def test_a_chief_reads_the_list_but_handles_no_task(client, db, three):
    numbers, tasks = three
    log_in(client, "chief")
    page = client.get("/desk")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and numbers[0] in html and 'id="chief-note"' in html
    assert 'name="task"' not in html and "/claim" not in html and f"/desk/tasks/{tasks[0]}" not in html
    assert client.get(f"/desk/tasks/{tasks[0]}").status_code == 403
    assert post(client, f"/desk/tasks/{tasks[0]}/claim").status_code == 403
    assert client.get(f"/cases/{numbers[0]}").status_code == 200  # the case page: 延期, 加签, 终止 are there
    log_in(client, "zhao")  # a clerk of another group: none of the window's tasks
    assert numbers[0] not in client.get("/desk").get_data(as_text=True)


def test_the_navigation_counts_personal_and_group_messages(client, db, three):
    numbers, _tasks = three
    group = queries.open_tasks(db, case_no=numbers[0])[0].candidate_group
    with db.transaction() as conn:
        case_id = conn.execute(cases.select().where(cases.c.case_no == numbers[0])).one().id
        for recipient in ("user:wang", f"group:{group}", "user:li"):
            conn.execute(notifications.insert().values(case_id=case_id, recipient=recipient, kind="urge",
                                                       message="办件催办", created_at=clock.now()))
    log_in(client, "wang")
    html = client.get("/desk").get_data(as_text=True)
    assert re.search(r'id="nav-unread"[^>]*>2<', html)  # his own and his group's, not li's
