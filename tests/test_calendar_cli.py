"""`onewindow calendar …`: show, check, add-days, set, unset, overrides — tables, --json, and one-line errors.

Like tests/test_cli.py, each test points DATABASE_URL at the `db` fixture (SQLite or PostgreSQL).
"""

from __future__ import annotations

import pytest
from cli_helpers import one_error_line, run, run_json
from conftest import make_actor

from engine.time import calendar_admin


def test_show_a_month_day_by_day(env_db, capsys):
    status, out, err = run(capsys, "calendar", "show", "2026-02")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "2026-02: 16 working day(s), 12 day(s) off"
    row = {line.split()[0]: line for line in lines[3:]}
    assert len(row) == 28
    assert "工作日" in row["2026-02-14"] and "调休上班（春节）" in row["2026-02-14"]
    assert "休息日" in row["2026-02-21"] and "春节" in row["2026-02-21"]
    assert "休息日" in row["2026-02-17"]
    payload = run_json(capsys, "calendar", "show", "2026-10")
    assert payload["month"] == "2026-10" and len(payload["days"]) == 31
    days = {d["day"]: d for d in payload["days"]}
    assert days["2026-10-10"]["working"] and days["2026-10-10"]["kind"] == "make_up"
    assert not days["2026-10-07"]["working"] and days["2026-10-07"]["holiday"] == "国庆节"


def test_show_defaults_to_this_month(env_db, capsys):
    payload = run_json(capsys, "calendar", "show")
    assert len(payload["month"]) == 7 and 28 <= len(payload["days"]) <= 31


def test_check_says_why(env_db, capsys):
    status, out, _ = run(capsys, "calendar", "check", "2026-09-20")
    assert status == 0
    assert "yes" in out and "调休上班（国庆节）" in out and "周日" in out
    info = run_json(capsys, "calendar", "check", "2026-10-01")
    assert info["working"] is False and info["source"] == "holiday" and info["names"] == ["国庆节"]


def test_add_days_across_the_spring_festival(env_db, capsys):
    status, out, _ = run(capsys, "calendar", "add-days", "2026-02-13", "2")
    assert status == 0 and out.startswith("2026-02-24 (周二)")
    assert run_json(capsys, "calendar", "add-days", "2026-02-13", "7")["result"] == "2026-03-02"
    assert run_json(capsys, "calendar", "add-days", "2026-02-17", "0")["result"] == "2026-02-17"


def test_set_list_and_unset_an_override(env_db, capsys):
    make_actor(env_db, "chief", [], ["admin"])
    status, out, err = run(capsys, "calendar", "set", "2026-02-24", "--off", "--reason", "大厅停电检修",
                           "--as", "chief")
    assert status == 0, err
    assert "2026-02-24" in out and "day off" in out and "chief" in out
    assert run_json(capsys, "calendar", "add-days", "2026-02-13", "2")["result"] == "2026-02-25"
    info = run_json(capsys, "calendar", "check", "2026-02-24")
    assert info["source"] == "override" and info["override"]["reason"] == "大厅停电检修"

    created = run_json(capsys, "calendar", "set", "2026-02-17", "--working", "--reason", "应急值守")
    assert created["set_by"] == "cli" and created["working"] is True

    status, out, _ = run(capsys, "calendar", "overrides", "--year", "2026")
    assert status == 0 and "大厅停电检修" in out and "应急值守" in out and "chief" in out
    assert run_json(capsys, "calendar", "overrides", "--year", "2025") == []
    assert [o["day"] for o in run_json(capsys, "calendar", "overrides")] == ["2026-02-17", "2026-02-24"]

    removed = run_json(capsys, "calendar", "unset", "2026-02-24")
    assert removed["removed"]["reason"] == "大厅停电检修" and removed["now"]["working"] is True
    status, _, err = run(capsys, "calendar", "unset", "2026-02-24")
    assert status == 1 and "2026-02-24" in one_error_line(err)
    assert [o.day.isoformat() for o in calendar_admin.list_overrides(env_db)] == ["2026-02-17"]


def test_set_refusals(env_db, capsys):
    status, _, err = run(capsys, "calendar", "set", "2026-02-24", "--off", "--reason", "   ")
    assert status == 1 and "原因" in one_error_line(err)
    status, _, err = run(capsys, "calendar", "set", "2026-02-24", "--off", "--reason", "x", "--as", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)
    assert calendar_admin.list_overrides(env_db) == []


@pytest.mark.parametrize(("argv", "needle"), [
    (["calendar", "check", "2026-02-30"], "YYYY-MM-DD"),
    (["calendar", "check", "tomorrow"], "YYYY-MM-DD"),
    (["calendar", "show", "2026-13"], "YYYY-MM"),
    (["calendar", "add-days", "2026/02/13", "3"], "YYYY-MM-DD"),
    (["calendar", "add-days", "2026-02-13", "-3"], "number of days"),
    (["calendar", "add-days", "2026-02-13", "three"], "number of days"),
    (["calendar", "set", "2026-02-24", "--reason", "x"], "--working"),
    (["calendar", "set", "2026-02-24", "--off", "--working", "--reason", "x"], "--working"),
    (["calendar", "set", "2026-02-24", "--off"], "--reason"),
    (["calendar", "set", "24/02/2026", "--off", "--reason", "x"], "YYYY-MM-DD"),
    (["calendar", "unset", "2026-2-4x"], "YYYY-MM-DD"),
    (["calendar", "overrides", "--year", "twenty"], "year"),
    (["calendar"], "calendar show"),
])
def test_bad_input_exits_2_with_one_line(env_db, capsys, argv, needle):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert needle in one_error_line(err)
