"""实时报送 (S-15): the daily and monthly report files, their list and download, the `report` command, and
the incremental case feed for a higher-level platform (every field documented in the OpenAPI document).
"""

from __future__ import annotations

import csv
import io

import pytest
from cli_helpers import run
from sqlalchemy import func, select
from test_web import login
from watch_scenarios import apply, local, one_late_one_early, review

from engine.errors import NotFound
from engine.org import accounts
from engine.store.tables import case_warnings, cases
from engine.watch import reports

FEBRUARY_25 = local("2026-02-25 12:00").date()


@pytest.fixture
def world(db):
    cases = one_late_one_early(db)
    return {**cases, "waiting": apply(db, cases["people"], "2026-02-25 11:00", unit="区中心/区民政局")}


def _count(db, table, *where) -> int:
    with db.reading() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_daily_report_counts_that_day_from_the_tables(db, world):
    report = reports.build(db, reports.DAILY, FEBRUARY_25)
    total = report.rows[-1]
    since, until = local("2026-02-25 00:00"), local("2026-02-26 00:00")
    assert total["department"] == reports.TOTAL
    assert total["received"] == _count(db, cases, cases.c.created_at >= since, cases.c.created_at < until) == 1
    assert total["closed"] == 0 and total["accepted"] == 0
    assert total["yellow"] == _count(db, case_warnings, case_warnings.c.raised_at >= since,
                                     case_warnings.c.raised_at < until, case_warnings.c.level == "yellow") == 1
    day = (case_warnings.c.raised_at >= since, case_warnings.c.raised_at < until)
    # issue 15, item 10: a reminder is counted as one, never as a card
    assert total["reminders"] == _count(db, case_warnings, *day, case_warnings.c.level == "reminder") == 1
    assert total["red"] == _count(db, case_warnings, *day, case_warnings.c.level.in_(("red", "statutory")))
    assert total["open_at_end"] == 2  # the late case and the one that came in that day
    february_13 = reports.build(db, reports.DAILY, local("2026-02-13 12:00").date()).rows[-1]
    assert (february_13["closed"], february_13["on_time"], february_13["approved"]) == (1, 1, 1)


def test_the_monthly_report_adds_the_windows_performance(db, world):
    report = reports.build(db, reports.MONTHLY, FEBRUARY_25)
    assert (report.name, report.date_from.isoformat(), report.date_to.isoformat()) == \
        ("2026-02", "2026-02-01", "2026-02-28")
    assert report.rows[-1]["received"] == 3 and report.rows[-1]["closed"] == 1
    town = next(w for w in report.windows if w["key"] == "梁子镇")
    assert (town["handled"], town["on_time_rate"]) == (1, 1.0)


def test_files_are_kept_listed_and_caught_up_once(db, world):
    assert reports.make(db, reports.DAILY, FEBRUARY_25) == ["daily/2026-02-25.html", "daily/2026-02-25.csv"]
    assert "日报 2026-02-25" in reports.read_file(db, "daily", "2026-02-25.html").decode("utf-8")
    text = reports.read_file(db, "daily", "2026-02-25.csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[1] == [label for _, label in reports.COLUMNS] and rows[-1][0] == reports.TOTAL
    made = reports.catch_up(db, local("2026-03-01 00:30"))
    assert sorted(made) == ["daily/2026-02-28.csv", "daily/2026-02-28.html", "monthly/2026-02.csv",
                            "monthly/2026-02.html"]
    assert reports.catch_up(db, local("2026-03-01 01:30")) == []
    reports.make(db, reports.DAILY, FEBRUARY_25)  # made again: replaced, not listed twice
    listed = [(f.kind, f.name, f.suffix) for f in reports.list_files(db)]
    assert ("monthly", "2026-02", "html") in listed and listed.count(("daily", "2026-02-25", "csv")) == 1
    for bad in ("../secret_key", "2026-02-25.py", ".2026.html", "2026-02-26.html"):
        with pytest.raises(NotFound):  # only a kept <period>.html|csv of a known kind
            reports.read_file(db, "daily", bad)


def test_the_report_command_and_the_reports_page(client, app, env_db, world, tmp_path, capsys):
    status, out, _ = run(capsys, "report", "monthly", "--date", "2026-02-10", "--dir", str(tmp_path))
    assert status == 0 and "made monthly/2026-02.html" in out and "monthly/2026-02.csv" in out
    assert "月报 2026-02" in (tmp_path / "monthly" / "2026-02.html").read_text(encoding="utf-8")  # the copy asked for
    login(client, "centre-watch")
    page = client.get("/watch/reports").get_data(as_text=True)
    assert "/watch/reports/monthly/2026-02.csv" in page
    download = client.get("/watch/reports/monthly/2026-02.html")
    assert download.status_code == 200 and "月报 2026-02" in download.get_data(as_text=True)
    assert client.get("/watch/reports/monthly/..%2F..%2Fsecret_key").status_code == 404
    assert client.get("/watch/reports/weekly/2026-02.html").status_code == 404


def test_the_feed_is_incremental_by_sequence_number(client, db, world):
    supervisor = {"Authorization": f"Bearer {accounts.issue_token(db, 'centre-watch', 'feed')}"}
    first = client.get("/api/v1/feed/cases?after=0", headers=supervisor).get_json()
    assert sorted(r["case_no"] for r in first["records"]) == sorted([world["early"], world["late"], world["waiting"]])
    assert all(set(r) == set(reports.FEED_FIELDS) for r in first["records"])
    late = next(r for r in first["records"] if r["case_no"] == world["late"])
    assert (late["window"], late["level"], late["town"]) == ("梁子镇", "town", "梁子镇")
    assert late["warning_level"] == "reminder"  # issue 15, item 10: the day before the deadline is a reminder
    assert [r["seq"] for r in first["records"]] == sorted(r["seq"] for r in first["records"])
    assert first["more"] is False
    again = client.get(f"/api/v1/feed/cases?after={first['next_after']}", headers=supervisor).get_json()
    assert again["records"] == [] and again["next_after"] == first["next_after"]

    review(db, world["people"], world["late"], "2026-02-26 09:00")
    changed = client.get(f"/api/v1/feed/cases?after={first['next_after']}", headers=supervisor).get_json()
    assert [r["case_no"] for r in changed["records"]] == [world["late"]]
    assert changed["records"][0]["seq"] > first["next_after"]

    paged = client.get("/api/v1/feed/cases?after=0&limit=1", headers=supervisor).get_json()
    assert len(paged["records"]) == 1 and paged["more"] is True


def test_the_feed_needs_a_supervisor_or_auditor_token(client, db, world):
    assert client.get("/api/v1/feed/cases").status_code == 401
    accounts.create_user(db, "clerk9", "secret-pw", "clerk9", ["clerk"], [])
    clerk = {"Authorization": f"Bearer {accounts.issue_token(db, 'clerk9', 'x')}"}
    assert client.get("/api/v1/feed/cases", headers=clerk).status_code == 403
    accounts.create_user(db, "auditor9", "secret-pw", "auditor9", ["auditor"], [])
    auditor = {"Authorization": f"Bearer {accounts.issue_token(db, 'auditor9', 'x')}"}
    assert client.get("/api/v1/feed/cases?after=x", headers=auditor).status_code == 400
    assert client.get("/api/v1/feed/cases", headers=auditor).status_code == 200


def test_recent_changes_wait_for_the_next_call(db, world):
    review(db, world["people"], world["late"], "2026-02-26 09:00")
    settled = reports.feed(db, 0, now=local("2026-02-26 09:00:02"))  # the review's events are 2 s old
    assert settled["more"] is True
    later = reports.feed(db, settled["next_after"], now=local("2026-02-26 09:00:10"))
    assert [r["case_no"] for r in later["records"]] == [world["late"]]


def test_the_openapi_document_describes_every_feed_field(client):
    document = client.get("/api/v1/openapi.json").get_json()
    properties = document["components"]["schemas"]["FeedRecord"]["properties"]
    assert set(properties) == set(reports.FEED_FIELDS)
    assert all(p["description"] for p in properties.values())
    assert "/feed/cases" in document["paths"]
