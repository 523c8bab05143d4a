"""403 and 404 pages written for the person who got them (issue 16, item 10): Chinese, what happened, what
they can do — their own start page by role, the login for someone not logged in — and no stack trace or
internal name; under /api/ the same errors stay JSON.
"""

from __future__ import annotations

import pytest
from conftest import log_in, make_actor
from test_web import text

INTERNAL = ("Traceback", "werkzeug", "NotFound", "Forbidden", "role:", "auth.login", "watch.index",
            "roles_required", "Not Found", "You don't have")


@pytest.fixture
def people(db):
    make_actor(db, "clerk1", ["受理窗口"])
    make_actor(db, "watcher", [], ["supervisor"])
    make_actor(db, "shenji", [], ["auditor"])
    make_actor(db, "citizen", [], ["applicant"])


def _clean(body: str) -> None:
    for word in INTERNAL:
        assert word not in body, word


@pytest.mark.parametrize(("who", "forbidden", "start", "label"), [
    ("clerk1", "/watch", "/desk", "回到我的待办"),
    ("watcher", "/audit", "/watch", "回到电子监察"),
    ("shenji", "/watch", "/audit", "回到审计查询"),
    ("citizen", "/audit/views", "/hall", "回到办事大厅"),
])
def test_a_403_says_what_happened_and_leads_back_to_the_persons_own_start(client, db, people, who, forbidden,
                                                                         start, label):
    log_in(client, who)
    answer = client.get(forbidden)
    body = text(answer)
    assert answer.status_code == 403 and "没有权限" in body and "系统管理员" in body
    start_link = body[body.index('id="error-start"') - 80:body.index('id="error-start"') + 80]
    assert f'href="{start}' in start_link and label in body
    assert 'id="error-login"' not in body  # logged in: no login button
    _clean(body)


def test_a_404_for_someone_not_logged_in_offers_the_login_and_the_hall(client, db):
    answer = client.get("/no/such/page")
    body = text(answer)
    assert answer.status_code == 404 and "没有找到" in body and "14 位数字" in body
    assert 'id="error-login"' in body and "next=/no/such/page" in body and "回到办事大厅" in body
    _clean(body)


def test_a_404_of_an_unknown_case_names_it_plainly(client, db, people):
    log_in(client, "shenji")
    answer = client.get("/audit/cases/20990101000001")
    body = text(answer)
    assert answer.status_code == 404 and "办件 20990101000001 不存在" in body and "回到审计查询" in body
    _clean(body)


def test_hostile_paths_are_not_echoed_as_markup(client, db):
    answer = client.get("/%3Cscript%3Ealert(1)%3C/script%3E")
    assert answer.status_code == 404 and "<script>alert(1)</script>" not in text(answer)
    login = client.get("/watch")  # not logged in: to the login page, never a page of the watch
    assert login.status_code == 302 and "/login" in login.headers["Location"]


def test_api_errors_stay_json(client, db):
    for path, status in (("/api/v1/no-such-thing", 404), ("/api/v1/tasks", 401)):
        answer = client.get(path)
        assert answer.status_code == status and answer.is_json, path
        assert set(answer.get_json()) >= {"error", "message"} and "<html" not in text(answer)
