"""Casework as the desk does it: start, tasks, claim, release, complete, extend, case, history."""

from __future__ import annotations

import argparse
from typing import Any

from onewindow.cli.base import Context, _actor, _as_option, _command, _data_option
from onewindow.inputs import json_object
from onewindow.output import render_pairs, render_table


def register(commands, common) -> None:
    sub = _command(commands, common, "start", cmd_start, "apply: start a case of ITEM's latest version")
    sub.add_argument("item", metavar="ITEM", help="the item code, e.g. DEMO-001")
    _data_option(sub)
    sub.add_argument("--unit", metavar="UNIT", help="the window it comes in at, e.g. 梁子镇/子坛村 (default: the "
                     "user's own unit; see `onewindow org show`)")
    sub.add_argument("--mandate", type=json_object, default=None, metavar="JSON",
                     help='full agency (委托): {"principal": …, "principal_id_number": …, "signed_on": "YYYY-MM-DD"}')
    _as_option(sub, required=True)

    sub = _command(commands, common, "tasks", cmd_tasks, "list open tasks (all, or those USER may handle)")
    sub.add_argument("--case", metavar="NO", help="only the tasks of this case")
    _as_option(sub, required=False)

    for name, handler, text in (("claim", cmd_claim, "claim (签收) an open task"),
                                ("release", cmd_release, "give a claimed task back to its group")):
        sub = _command(commands, common, name, handler, text)
        sub.add_argument("task", metavar="TASK", help="the task id (see `onewindow tasks`)")
        _as_option(sub, required=True)

    sub = _command(commands, common, "complete", cmd_complete, "fill a task's form and complete it")
    sub.add_argument("task", metavar="TASK", help="the task id (see `onewindow tasks`)")
    _data_option(sub)
    _as_option(sub, required=True)

    sub = _command(commands, common, "extend", cmd_extend,
                   "延期: extend a case's deadline by N working days (a chief's approval; refused once it passed)")
    sub.add_argument("case_no", metavar="NO", help="the case number")
    sub.add_argument("--days", type=int, required=True, metavar="N", help="working days to add (at least 1)")
    sub.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded in the case history)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "case", cmd_case,
                   "show a case: status, version, open tasks, timers, time limit")
    sub.add_argument("case_no", metavar="NO", help="the case number")
    sub = _command(commands, common, "history", cmd_history, "show a case's audit trail, oldest first")
    sub.add_argument("case_no", metavar="NO", help="the case number")


# --- casework -------------------------------------------------------------------------------------

TASK_COLUMNS = [("task_id", "task"), ("case_no", "case"), ("item_code", "item"), ("name", "step"),
                ("candidate_group", "group"), ("assignee", "claimed by"), ("created_at", "created")]


def _tasks_text(rows: list[dict[str, Any]], empty: str = "no open tasks") -> str:
    return render_table(rows, TASK_COLUMNS) if rows else empty


def cmd_start(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework
    from engine.reads import queries

    started = casework.start_case(ctx.db, args.item, args.data, _actor(ctx, args.user), unit=args.unit,
                                  mandate=args.mandate)
    tasks = [t.to_dict() for t in queries.open_tasks(ctx.db, case_no=started.case_no)]
    payload = {"case_no": started.case_no, "item_code": args.item, "status": started.status,
               "version": started.version, "open_tasks": tasks}
    ctx.emit(payload, lambda: f"started case {started.case_no} ({args.item} version {started.version}), "
                              f"status {started.status}\n" + _tasks_text(tasks, "no open tasks"))
    return 0


def cmd_tasks(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    actor = _actor(ctx, args.user) if args.user else None
    rows = [t.to_dict() for t in queries.open_tasks(ctx.db, actor=actor, case_no=args.case)]
    ctx.emit(rows, lambda: _tasks_text(rows))
    return 0


def cmd_claim(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework

    case_no = casework.claim_task(ctx.db, args.task, _actor(ctx, args.user))
    ctx.emit({"task_id": args.task, "case_no": case_no, "assignee": args.user},
             f"task {args.task} of case {case_no} claimed by {args.user}")
    return 0


def cmd_release(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import casework

    case_no = casework.release_task(ctx.db, args.task, _actor(ctx, args.user))
    ctx.emit({"task_id": args.task, "case_no": case_no, "assignee": None},
             f"task {args.task} of case {case_no} released to its group")
    return 0


def cmd_complete(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import submission
    from engine.reads import queries

    case_no = submission.submit_data(ctx.db, args.task, args.data, _actor(ctx, args.user))
    detail = queries.case_detail(ctx.db, case_no)
    payload = {"task_id": args.task, "case_no": case_no, "status": detail["status"],
               "closed_at": detail["closed_at"], "open_tasks": detail["open_tasks"]}
    ctx.emit(payload, lambda: f"completed task {args.task}; case {case_no} is now {detail['status']}\n"
                              + _tasks_text(detail["open_tasks"], "no open tasks left"))
    return 0


def cmd_extend(args: argparse.Namespace, ctx: Context) -> int:
    from engine.desk import clockops
    from engine.reads import queries

    clockops.extend_deadline(ctx.db, args.case_no, args.days, args.reason, _actor(ctx, args.user))
    clock_view = queries.case_detail(ctx.db, args.case_no)["clock"]
    ctx.emit(clock_view, f"case {args.case_no}: deadline extended by {args.days} working day(s) to "
                         f"{clock_view['committed_deadline']} (statutory {clock_view['statutory_deadline']})")
    return 0


def cmd_case(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    detail = queries.case_detail(ctx.db, args.case_no)
    ctx.emit(detail, lambda: _case_text(detail))
    return 0


def _case_text(detail: dict[str, Any]) -> str:
    keys = ["case_no", "item_code", "item_name", "version", "status", "created_at", "updated_at", "closed_at",
            "lock_version", "serializer_version"]
    parts = [render_pairs([(k, detail.get(k)) for k in keys]), "", "open tasks:",
             _tasks_text(detail["open_tasks"], "  none")]
    if detail["timers"]:
        parts += ["", "timers:", render_table(detail["timers"], [("element_id", "element"), ("due_at", "due")])]
    clock_view = detail.get("clock") or {}
    if clock_view.get("started_at"):
        parts += ["", "time limit:", render_pairs([(k, clock_view.get(k)) for k in (
            "started_at", "committed_deadline", "statutory_deadline", "working_days_used", "working_days_remaining",
            "paused", "paused_working_days", "extension_days", "warning_level", "stopped_at")])]
    return "\n".join(parts)


HISTORY_COLUMNS = [("seq", "#"), ("at", "at"), ("actor", "actor"), ("type", "event"), ("element_id", "element"),
                   ("data", "data")]


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    events = queries.case_history(ctx.db, args.case_no)
    ctx.emit(events, lambda: render_table(events, HISTORY_COLUMNS) if events else "no events")
    return 0
