"""The /watch pages: only supervisors (and administrators), GET-only except the three actions, CSRF on
those, figures as the engine counts them, and the performance exports (CSV, XLSX) equal to the table.
"""

from __future__ import annotations

import csv
import io

import pytest
from conftest import make_actor
from openpyxl import load_workbook
from sqlalchemy import select
from test_web import csrf_token, login
from watch_scenarios import local, one_late_one_early

from engine.reads import queries
from engine.store.tables import case_warnings, notifications
from engine.time import clock
from engine.watch import performance
from engine.watch.dashboard import dashboard
from webapp.watch import PERFORMANCE_COLUMNS

ACTIONS = {"watch.acknowledge", "watch.acknowledge_many", "watch.chase", "watch.exception", "watch.weights",
           "watch.rectify_days", "watch.chase_days",
           "watch.retry_incident", "watch.resolve_incident"}  # the last two: operators (admin) only


@pytest.fixture
def world(db):
    return one_late_one_early(db)


def test_only_supervisors_and_administrators_open_the_watch_pages(client, db, world):
    make_actor(db, "clerk1", ["受理窗口"])
    assert client.get("/watch").status_code == 302  # to the login page
    login(client, "clerk1")
    for path in ("/watch", "/watch/dashboard.json", "/watch/warnings", "/watch/performance", "/watch/reports"):
        assert client.get(path).status_code == 403, path
    client.post("/logout", data={"csrf_token": csrf_token(client, "/cases")})
    login(client, "centre-watch")
    for path in ("/watch", "/watch/dashboard.json", "/watch/warnings", "/watch/performance", "/watch/reports"):
        assert client.get(path).status_code == 200, path
    assert client.get("/watch/weights").status_code == 403  # weights are the administrator's


def test_watch_routes_are_gets_except_the_supervisors_actions(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("watch.") and rule.endpoint not in ACTIONS:
            assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule


def test_the_dashboard_page_and_json_show_the_engines_figures(client, db, world):
    login(client, "centre-watch")
    figures = dashboard(db).to_dict()
    assert client.get("/watch/dashboard.json").get_json() | {"as_of": ""} == figures | {"as_of": ""}
    page = client.get("/watch").get_data(as_text=True)
    assert f'data-figure="yellow">{figures["yellow"]}<' in page
    assert f'data-figure="open">{figures["open"]}<' in page
    assert 'data-figure="refused_without_reason">0<' in page
    assert "/static/watch/dashboard.js" in page and "<script>" not in page  # no inline script (CSP)


def test_acknowledge_and_chase_need_the_csrf_token_and_are_recorded(client, db, world):
    with clock.frozen_at(local("2026-02-25 09:00")):  # the requests run in this thread: at this moment
        _acknowledge_and_chase(client, db, world)


def _acknowledge_and_chase(client, db, world):
    login(client, "centre-watch")
    with db.reading() as conn:
        warning_id = conn.execute(select(case_warnings.c.id).where(case_warnings.c.kind == "committed")).scalar_one()
    assert client.post(f"/watch/warnings/{warning_id}/acknowledge", data={}).status_code == 400
    token = csrf_token(client, "/watch/warnings")
    response = client.post(f"/watch/warnings/{warning_id}/acknowledge",
                           data={"csrf_token": token, "back": "/watch/warnings?state=all"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/watch/warnings?state=all")
    assert queries.case_history(db, world["late"])[-1]["type"] == "warning_acknowledged"
    page = client.get("/watch/warnings?state=all").get_data(as_text=True)
    assert f"已确认办件 {world['late']} 的预警" in page and "centre-watch 于" in page

    response = client.post(f"/watch/cases/{world['late']}/chase",
                           data={"csrf_token": token, "note": "今日办结", "back": "//evil.example/"})
    assert response.headers["Location"].endswith("/watch/warnings")  # never an open redirect
    with db.reading() as conn:
        assert conn.execute(select(notifications.c.recipient).where(notifications.c.kind == "supervision")
                            ).scalars().all() == ["group:审查组"]
    refused = client.post(f"/watch/cases/{world['early']}/chase", data={"csrf_token": token}, follow_redirects=True)
    assert "已办结，无需催办" in refused.get_data(as_text=True)


def test_a_clerk_cannot_act_as_a_supervisor(client, db, world):
    make_actor(db, "clerk1", ["审查组"])
    login(client, "clerk1")
    token = csrf_token(client, "/cases")
    assert client.post(f"/watch/cases/{world['late']}/chase", data={"csrf_token": token}).status_code == 403
    assert not any(e["type"] == "case_chased" for e in queries.case_history(db, world["late"]))


def test_performance_page_and_exports_agree(client, db, world):
    login(client, "centre-watch")
    query = "?from=2026-02-01&to=2026-02-28"
    report = performance.evaluate(db, local("2026-02-01 12:00").date(), local("2026-02-28 12:00").date())
    town = next(m for m in report.windows if m.key == "梁子镇")
    page = client.get("/watch/performance" + query).get_data(as_text=True)
    assert 'id="performance-chart"' in page and "/vendor/echarts/echarts.min.js" in page
    assert f'<td class="num" data-col="handled">{town.handled}</td>' in page

    text = client.get("/watch/performance.csv" + query).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [h for _, h in PERFORMANCE_COLUMNS]
    assert rows[0] == ["窗口"] and rows[1] == header
    town_row = next(r for r in rows if len(r) > 1 and r[1] == "梁子镇")
    assert town_row[header.index("办结件数")] == str(town.handled) == "1"
    assert town_row[header.index("按时办结率")] == "100.0"

    book = load_workbook(io.BytesIO(client.get("/watch/performance.xlsx" + query).data))
    assert book.sheetnames == ["窗口", "人员"]
    sheet_rows = list(book["窗口"].iter_rows(values_only=True))
    assert list(sheet_rows[0]) == header
    xlsx_town = next(r for r in sheet_rows[1:] if r[1] == "梁子镇")
    assert xlsx_town[header.index("办结件数")] == town.handled
    assert xlsx_town[header.index("考核得分")] == town.score
    assert client.get("/watch/performance?from=2026-02-30&to=x").status_code == 200  # a bad date: this month


def test_an_administrator_sets_the_weights(client, db, world):
    make_actor(db, "boss", [], ["admin"])
    login(client, "boss")
    token = csrf_token(client, "/watch/weights")
    bad = client.post("/watch/weights", data={"csrf_token": token, **{k: "0" for k in performance.DEFAULT_WEIGHTS}})
    assert bad.status_code == 422 and "不能全为 0" in bad.get_data(as_text=True)
    good = client.post("/watch/weights", data={"csrf_token": token, **performance.DEFAULT_WEIGHTS, "red_card": "10"})
    assert good.status_code == 302
    assert performance.weights(db)["red_card"] == 10
    assert client.post("/watch/rectify-days", data={"csrf_token": token, "rectify_days": "7"}).status_code == 302
    assert 'value="7"' in client.get("/watch/weights").get_data(as_text=True)
    assert client.post("/watch/chase-days", data={"csrf_token": token, "chase_days": "5"}).status_code == 302
    weights = client.get("/watch/weights").get_data(as_text=True)
    assert 'id="chase_days" name="chase_days" value="5"' in weights
    assert weights.count('id="chase-days-form"') == 1  # once, in the page's body, not in its <title> or <head>
    assert "<title>考核权重" in weights and "<section" not in weights.split("</head>")[0]


def test_echarts_is_served_from_node_modules(client):
    response = client.get("/vendor/echarts/echarts.min.js")
    assert response.status_code == 200 and b"echarts" in response.data[:2000]


def test_nav_shows_the_watch_link_to_supervisors_only(client, db, world):
    login(client, "centre-watch")
    assert 'href="/watch"' in client.get("/cases").get_data(as_text=True)
    with clock.frozen_at(local("2026-02-25 09:00")):
        assert "临期提醒" in client.get("/watch/warnings").get_data(as_text=True)  # issue 15 item 10: not a card


def test_opening_an_exception_from_the_warnings_page(client, db, world):
    from conftest import PROCESSES

    from engine.catalogue.deployment import deploy_package
    from engine.diagrams.package import load_package

    deploy_package(db, load_package(PROCESSES / "supervision" / "exception-handling"), "analyst")
    login(client, "centre-watch")
    token = csrf_token(client, "/watch/warnings")
    empty = client.post(f"/watch/cases/{world['late']}/exception", data={"csrf_token": token, "note": " "},
                        follow_redirects=True)
    assert "请写明异常的事由" in empty.get_data(as_text=True)
    done = client.post(f"/watch/cases/{world['late']}/exception",
                       data={"csrf_token": token, "note": "超期未办", "back": "/watch/warnings?state=all"},
                       follow_redirects=True)
    [linked] = [e for e in queries.case_history(db, world["late"]) if e["type"] == "exception_opened"]
    assert f"异常处理办件编号 {linked['data']['exception_case_no']}" in done.get_data(as_text=True)
