"""Supervisors and chiefs read what reaches them (issue 15, item 9), over HTTP: the messages page
(/desk/messages) is every person's — their own rows plus the group:, chief: and role: rows that reach them
(engine/desk/inbox.py) — and the navigation shows a 消息 link with their unread count.

Dated 2026 (tests/law_scenarios.py): an application received Mon 28 Sep nobody answered is deemed accepted
by the tick at 00:01 on Sun 11 Oct (行政许可法第三十二条), and the supervisors are warned by a row addressed
to `role:supervisor`. One supervisor reads it: their count drops, the other supervisor's does not; an
auditor sees none of it. A chief who is no clerk reads a supervisor's chase to his group.
"""

from __future__ import annotations

import re

import pytest
from conftest import make_actor
from law_scenarios import deploy_law_item, people, receive
from sqlalchemy import select
from watch_scenarios import local

from engine.audit.replay import replay_case
from engine.runtime.scheduler import tick
from engine.store.tables import notifications
from engine.time import clock
from engine.watch.supervision import chase_case

UNREAD = re.compile(r'id="nav-unread"[^>]*>(\d+)<')


@pytest.fixture
def warned(db, tmp_path):
    """The case deemed accepted by the tick, the supervisors warned; two supervisors, an auditor, a chief."""
    deploy_law_item(db, tmp_path)
    who = people(db)  # "watch" is a supervisor
    who.update(watch2=make_actor(db, "watch2", [], ["supervisor"]), auditor=make_actor(db, "audit", [], ["auditor"]),
               chief=make_actor(db, "chief", ["受理窗口"], ["chief"]))
    case_no = receive(db, who, "2026-09-28 10:00")
    tick(db, local("2026-10-11 00:01"))
    with db.reading() as conn:
        [row] = conn.execute(select(notifications.c.id, notifications.c.recipient)).all()
    assert row.recipient == "role:supervisor"
    yield {"who": who, "case_no": case_no, "warning": row.id}
    assert replay_case(db, case_no).identical


def logged_in(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": username, "password": "secret-pw",
                                       "csrf_token": token}).status_code == 302
    return client


def unread_in_nav(client, path: str = "/watch") -> int:
    page = client.get(path).get_data(as_text=True)
    found = UNREAD.search(page)
    return int(found.group(1)) if found else 0


def test_a_supervisor_reads_a_warning_addressed_to_all_supervisors(app, db, warned):
    first, second = logged_in(app, "watch"), logged_in(app, "watch2")
    landing = first.get("/watch").get_data(as_text=True)
    assert 'id="nav-messages"' in landing and 'href="/desk/messages"' in landing and "消息" in landing
    assert unread_in_nav(first) == 1 and unread_in_nav(second) == 1

    page = first.get("/desk/messages").get_data(as_text=True)
    assert "第三十二条" in page and warned["case_no"] in page
    assert "共享通知·全体电子监察" in page  # whom the row was addressed to
    assert 'id="tab-delegated"' not in page  # a supervisor has no desk lists
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    read = first.post(f"/desk/notices/{warned['warning']}/read", data={"csrf_token": token, "next": "/desk/messages"})
    assert read.status_code == 302 and read.headers["Location"].endswith("/desk/messages")

    assert unread_in_nav(first) == 0 and 'id="nav-messages"' in first.get("/watch").get_data(as_text=True)
    assert "已读" in first.get("/desk/messages").get_data(as_text=True)
    assert unread_in_nav(second) == 1  # read per person: still unread for the other supervisor
    assert "标为已读" in second.get("/desk/messages").get_data(as_text=True)


def test_an_auditor_does_not_see_the_supervisors_rows(app, db, warned):
    auditor = logged_in(app, "audit")
    page = auditor.get("/desk/messages")
    assert page.status_code == 200  # everyone's own messages page …
    body = page.get_data(as_text=True)
    assert "第三十二条" not in body and "暂无内容" in body  # … with nothing addressed to supervisors
    assert 'id="nav-messages"' not in auditor.get("/audit").get_data(as_text=True)  # nothing for them: no link
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert auditor.post(f"/desk/notices/{warned['warning']}/read", data={"csrf_token": token}).status_code == 403
    assert unread_in_nav(logged_in(app, "watch")) == 1  # the auditor's try marked nothing


def test_a_chief_reads_a_chase_to_his_group(app, db, warned):
    with clock.frozen_at(local("2026-10-12 09:00")):
        chase_case(db, warned["case_no"], warned["who"]["watch"], "请尽快受理")
    chief = logged_in(app, "chief")
    assert unread_in_nav(chief, "/hall") == 1
    page = chief.get("/desk/messages").get_data(as_text=True)
    assert "请尽快受理" in page and "第三十二条" not in page  # the group's row, not the supervisors'
    assert "共享通知·受理窗口" in page
    member = logged_in(app, "window")  # a clerk of the group: the same row, his own read mark
    assert unread_in_nav(member, "/desk") == 1
