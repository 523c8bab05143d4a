"""/admin/calendar (工作日历): administrators see the month and set or remove overrides (with CSRF); others get 403."""

from __future__ import annotations

import re
from datetime import date

import pytest
from conftest import make_actor
from test_web import csrf_token, login, text

from engine.time import calendar_admin


@pytest.fixture
def admin(db):
    return make_actor(db, "chief", [], ["admin"])


def cell(page: str, day: str) -> str:
    match = re.search(rf'<td class="day[^"]*"\s+data-day="{day}".*?</td>', page, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


def test_admin_sees_the_month_in_chinese(client, admin):
    login(client, "chief")
    page = client.get("/admin/calendar?month=2026-02")
    assert page.status_code == 200
    body = text(page)
    assert "2026年2月" in body and "本月工作日 16 天，休息日 12 天" in body
    assert "工作日" in cell(body, "2026-02-14") and "调休上班" in cell(body, "2026-02-14")
    assert "休息日" in cell(body, "2026-02-17") and "春节" in cell(body, "2026-02-17")
    assert "春节" in cell(body, "2026-02-21") and "is-off" in cell(body, "2026-02-21")
    assert "is-working" in cell(body, "2026-02-24")
    assert 'href="/admin/calendar?month=2026-01"' in body and 'href="/admin/calendar?month=2026-03"' in body
    assert "工作日历" in text(client.get("/hall"))  # the nav link, for administrators


def test_admin_sets_and_removes_an_override(client, db, admin):
    login(client, "chief")
    token = csrf_token(client, "/admin/calendar?month=2026-10")
    response = client.post("/admin/calendar/overrides", data={
        "day": "2026-10-08", "working": "0", "reason": "政务大厅搬迁", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/calendar?month=2026-10")
    (row,) = calendar_admin.list_overrides(db)
    assert (row.day, row.working, row.reason, row.set_by) == (date(2026, 10, 8), False, "政务大厅搬迁", "chief")

    body = text(client.get("/admin/calendar?month=2026-10"))
    assert "已将 2026-10-08 设为休息日" in body
    assert "已调整" in cell(body, "2026-10-08") and "政务大厅搬迁" in cell(body, "2026-10-08")
    assert "is-off" in cell(body, "2026-10-08")

    token = csrf_token(client, "/admin/calendar?month=2026-10")
    response = client.post("/admin/calendar/overrides/2026-10-08/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert calendar_admin.list_overrides(db) == []
    assert "恢复按法定安排" in text(client.get("/admin/calendar?month=2026-10"))


def test_a_reason_is_required_and_what_was_typed_is_kept(client, db, admin):
    login(client, "chief")
    token = csrf_token(client, "/admin/calendar?month=2026-02")
    response = client.post("/admin/calendar/overrides", data={
        "day": "2026-02-24", "working": "0", "reason": "  ", "csrf_token": token})
    assert response.status_code == 400 and "请填写调整原因" in text(response)
    assert 'value="2026-02-24"' in text(response) and "2026年2月" in text(response)
    response = client.post("/admin/calendar/overrides", data={
        "day": "not-a-day", "working": "0", "reason": "x", "csrf_token": token})
    assert response.status_code == 400 and "请选择要调整的日期" in text(response)
    assert calendar_admin.list_overrides(db) == []


def test_post_without_csrf_is_refused(client, db, admin):
    login(client, "chief")
    response = client.post("/admin/calendar/overrides", data={"day": "2026-02-24", "working": "0", "reason": "x"})
    assert response.status_code == 400 and "安全令牌" in text(response)
    assert calendar_admin.list_overrides(db) == []


def test_clerk_gets_403(client, db, clerk):
    login(client, "clerk")
    page = client.get("/admin/calendar")
    assert page.status_code == 403 and "系统管理员" in text(page)
    token = csrf_token(client, "/desk")
    refused = client.post("/admin/calendar/overrides", data={
        "day": "2026-02-24", "working": "0", "reason": "越权", "csrf_token": token})
    assert refused.status_code == 403
    assert calendar_admin.list_overrides(db) == []
    assert "工作日历" not in text(client.get("/desk"))


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/calendar")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_bad_month_is_a_clear_error(client, admin):
    login(client, "chief")
    page = client.get("/admin/calendar?month=2026-13")
    assert page.status_code == 400 and "2026-02 的形式" in text(page)
