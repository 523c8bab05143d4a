"""Every CSV download is served one way (issue 16, item 10): `text/csv; charset=utf-8` — one charset, not
two — and UTF-8 bytes that begin with exactly one byte-order mark, so Excel on a Chinese Windows opens the
Chinese as Chinese. The watch's performance table, its kept reports and the auditor's export alike.
"""

from __future__ import annotations

from datetime import date

import pytest
from conftest import make_actor
from test_web import login
from watch_scenarios import one_late_one_early

from engine.watch import reports

BOM = b"\xef\xbb\xbf"


@pytest.fixture
def world(db):
    found = one_late_one_early(db)
    make_actor(db, "shenji", [], ["auditor"])
    return found


def _check(response, first_cell: str) -> str:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Type"].count("charset") == 1
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    body = response.get_data()
    assert body.startswith(BOM) and not body[3:].startswith(BOM) and body.count(BOM) == 1
    decoded = body[3:].decode("utf-8")
    assert decoded.startswith(first_cell)
    return decoded


def test_the_performance_csv(client, db, world):
    login(client, "centre-watch")
    decoded = _check(client.get("/watch/performance.csv?from=2026-02-01&to=2026-02-28"), "窗口")
    assert "梁子镇便民服务中心" in decoded


def test_a_kept_report(client, db, world):
    names = reports.make(db, "daily", date(2026, 2, 25))
    daily = next(name for name in names if name.endswith(".csv"))  # "daily/<name>.csv"
    login(client, "centre-watch")
    decoded = _check(client.get(f"/watch/reports/{daily}"), "")
    assert "测试部门" in decoded and "日报" in decoded


def test_the_audit_export_and_the_performance_csv_share_one_content_type(client, db, world):
    login(client, "shenji")
    audit = client.get("/audit/export.csv")
    decoded = _check(audit, "办件编号")
    assert world["late"] in decoded
    client.post("/logout")
    login(client, "centre-watch")
    watch = client.get("/watch/performance.csv")
    assert audit.headers["Content-Type"] == watch.headers["Content-Type"]


def test_strangers_get_no_csv(client, db, world):
    make_actor(db, "clerk1", ["受理窗口"])
    login(client, "clerk1")
    for path in ("/watch/performance.csv", "/audit/export.csv"):
        answer = client.get(path)
        assert answer.status_code == 403 and not answer.get_data().startswith(BOM), path
