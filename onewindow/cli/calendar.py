"""The working-day calendar: show, check, add-days, set, unset, overrides."""

from __future__ import annotations

import argparse
from typing import Any

from onewindow.cli.base import Context, UsageError, _command, _setter
from onewindow.inputs import day_count, iso_date, year, year_month
from onewindow.output import render_pairs, render_table


def register(commands, common) -> None:
    group = _command(commands, common, "calendar", cmd_calendar_help,
                     "the working-day calendar: `calendar show|check|add-days|set|unset|overrides`")
    actions = group.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "show", cmd_calendar_show, "a month day by day: working or off, and why")
    sub.add_argument("month", nargs="?", type=year_month, metavar="YEAR-MONTH",
                     help="e.g. 2026-02 (default: this month)")
    sub = _command(actions, common, "check", cmd_calendar_check, "is DATE a working day, and why")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub = _command(actions, common, "add-days", cmd_calendar_add_days,
                   "the N-th working day after DATE (DATE itself never counts)")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub.add_argument("n", type=day_count, metavar="N", help="working days, 0 or more")
    sub = _command(actions, common, "set", cmd_calendar_set,
                   "override the statutory calendar: make DATE a working day or a day off (replaces an earlier one)")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    choice = sub.add_mutually_exclusive_group(required=True)
    choice.add_argument("--working", dest="working", action="store_const", const=True, help="make DATE a working day")
    choice.add_argument("--off", dest="working", action="store_const", const=False, help="make DATE a day off")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="why (kept with the override), e.g. 国办发明电…")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as who set it (default: cli)")
    sub = _command(actions, common, "unset", cmd_calendar_unset,
                   "remove DATE's override: the statutory calendar decides it again")
    sub.add_argument("day", type=iso_date, metavar="DATE", help="YYYY-MM-DD")
    sub.add_argument("--as", dest="user", metavar="USER", help="who removes it, for the log (default: cli)")
    sub = _command(actions, common, "overrides", cmd_calendar_overrides, "list the administrator's overrides")
    sub.add_argument("--year", type=year, metavar="YEAR", help="only this year")


# --- calendar -------------------------------------------------------------------------------------

DAY_COLUMNS = [("day", "date"), ("weekday", "day"), ("label", "status"), ("why", "why")]
OVERRIDE_COLUMNS = [("day", "date"), ("weekday", "day"), ("label", "set to"), ("reason", "reason"),
                    ("set_by", "set by"), ("set_at", "set at")]


def cmd_calendar_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("say what to do: `onewindow calendar show|check|add-days|set|unset|overrides …`")


def _override_row(override) -> dict[str, Any]:
    from engine.time.workdays import WEEKDAY_NAMES

    return {**override.to_dict(), "weekday": WEEKDAY_NAMES[override.day.weekday()],
            "label": "工作日" if override.working else "休息日"}


def cmd_calendar_show(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin, clock

    year_, month = args.month or (clock.local_date().year, clock.local_date().month)
    days = calendar_admin.month_view(ctx.db, year_, month)
    rows = [d.to_dict() for d in days]
    working = sum(1 for d in days if d.working)
    payload = {"month": f"{year_:04d}-{month:02d}", "working_days": working, "days_off": len(days) - working,
               "days": rows}
    ctx.emit(payload, lambda: f"{payload['month']}: {working} working day(s), {len(days) - working} day(s) off\n"
                              + render_table(rows, DAY_COLUMNS, limit=100))
    return 0


def cmd_calendar_check(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    info = calendar_admin.day_view(ctx.db, args.day)
    pairs = [("date", info.day.isoformat()), ("weekday", info.weekday), ("working day", info.working),
             ("why", info.why), ("holiday", info.holiday),
             ("statutory", "工作日" if info.statutory_working else "休息日")]
    if info.override:
        pairs += [("override by", info.override.set_by), ("override at", info.override.set_at)]
    ctx.emit(info.to_dict(), lambda: render_pairs(pairs))
    return 0


def cmd_calendar_add_days(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin
    from engine.time.workdays import WEEKDAY_NAMES

    result = calendar_admin.calendar(ctx.db).add_working_days(args.day, args.n)
    payload = {"start": args.day.isoformat(), "n": args.n, "result": result.isoformat(),
               "weekday": WEEKDAY_NAMES[result.weekday()]}
    ctx.emit(payload, f"{payload['result']} ({payload['weekday']}): working day {args.n} after {payload['start']}")
    return 0


def cmd_calendar_set(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    override = calendar_admin.set_override(ctx.db, args.day, args.working, args.reason, _setter(ctx, args.user))
    row = _override_row(override)
    ctx.emit(row, f"{row['day']} ({row['weekday']}) is now a {'working day' if override.working else 'day off'} "
                  f"(override by {override.set_by}: {override.reason})")
    return 0


def cmd_calendar_unset(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    removed = calendar_admin.remove_override(ctx.db, args.day, _setter(ctx, args.user))
    info = calendar_admin.day_view(ctx.db, args.day)
    payload = {"removed": _override_row(removed), "now": info.to_dict()}
    ctx.emit(payload, f"override of {removed.day.isoformat()} removed (it made the day "
                      f"{'working' if removed.working else 'off'}: {removed.reason}); now {info.label}: {info.why}")
    return 0


def cmd_calendar_overrides(args: argparse.Namespace, ctx: Context) -> int:
    from engine.time import calendar_admin

    rows = [_override_row(o) for o in calendar_admin.list_overrides(ctx.db, args.year)]
    ctx.emit(rows, lambda: render_table(rows, OVERRIDE_COLUMNS) if rows
             else "no overrides: the statutory calendar (holidays package) decides every day")
    return 0
