"""Audit and incidents: verify, replay, checkpoint, incidents."""

from __future__ import annotations

import argparse
from typing import Any

from onewindow.cli.base import Context, UsageError, _actor, _as_option, _command, _setter
from onewindow.output import render_table


def register(commands, common) -> None:
    sub = _command(commands, common, "verify", cmd_verify,
                   "check the audit trail: one case's hash chain and checkpoints, or --all (exit 1 if tampered)")
    sub.add_argument("case_no", nargs="?", metavar="NO", help="the case number")
    sub.add_argument("--all", action="store_true", help="every case, every checkpoint")

    sub = _command(commands, common, "replay", cmd_replay,
                   "re-execute a case from its recorded inputs on its own version; 'identical' or the first "
                   "divergence (exit 1)")
    sub.add_argument("case_no", metavar="NO", help="the case number")

    group = _command(commands, common, "incidents", cmd_incidents,
                     "cases that cannot move: stalled or failing in the scheduler (`incidents`, `incidents retry "
                     "ID`, `incidents resolve ID`); exit 1 while any is open")
    actions = group.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "retry", cmd_incidents_retry, "re-execute the incident's case now (audited)")
    sub.add_argument("incident", type=int, metavar="ID", help="the incident id (see `onewindow incidents`)")
    _as_option(sub, required=True)
    sub = _command(actions, common, "resolve", cmd_incidents_resolve,
                   "close an incident by hand, saying how it was dealt with (audited)")
    sub.add_argument("incident", type=int, metavar="ID", help="the incident id (see `onewindow incidents`)")
    sub.add_argument("--note", required=True, metavar="TEXT", help="how it was dealt with (recorded in the case)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "checkpoint", cmd_checkpoint,
                   "record the head of every case chain that moved since the last checkpoint (run it periodically)")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as who made it (default: cli)")


def cmd_incidents(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    rows = [i.to_dict() for i in incidents.open_incidents(ctx.db)]
    ctx.emit(rows, lambda: render_table(rows, [("id", "id"), ("case_no", "case"), ("kind_name", "kind"),
                                               ("since", "since"), ("element_id", "last step"),
                                               ("attempts", "attempts"), ("next_retry_at", "next retry"),
                                               ("message", "message")]) if rows else "no open incidents")
    return 1 if rows else 0


def cmd_incidents_retry(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    message = incidents.retry(ctx.db, args.incident, _actor(ctx, args.user))
    ctx.emit({"incident": args.incident, "message": message}, message)
    return 0


def cmd_incidents_resolve(args: argparse.Namespace, ctx: Context) -> int:
    from engine.runtime import incidents

    message = incidents.resolve(ctx.db, args.incident, _actor(ctx, args.user), args.note)
    ctx.emit({"incident": args.incident, "message": message}, message)
    return 0


# --- audit integrity ------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0: intact; 1: something is broken (each broken case printed with its first broken event)."""
    import time

    from engine.audit import verify

    if bool(args.case_no) == bool(args.all):
        raise UsageError("give one case number, or --all (see `onewindow verify --help`)")
    if args.case_no:
        began = time.perf_counter()
        verdict = verify.verify_case(ctx.db, args.case_no)
        payload = {**verdict.to_dict(), "seconds": round(time.perf_counter() - began, 4)}
        ctx.emit(payload, lambda: _verdict_text(payload))
        return 0 if verdict.ok else 1
    report = verify.verify_all(ctx.db)
    ctx.emit(report.to_dict(), lambda: _report_text(report.to_dict()))
    return 0 if report.ok else 1


def _verdict_text(verdict: dict[str, Any], indent: str = "") -> str:
    if verdict["ok"]:
        return (f"{indent}case {verdict['case_no']}: intact — {verdict['events']} event(s), "
                f"{verdict['checkpoints']} checkpoint head(s) match")
    first = verdict["first_broken_event"]
    lines = [f"{indent}case {verdict['case_no']}: BROKEN"
             + (f" from event {first}" if first is not None else "") + f" — {verdict['first_problem']}"]
    rest = [p["what"] for p in verdict["problems"] + verdict["checkpoint_problems"]
            if p["what"] != verdict["first_problem"]]
    lines += [f"{indent}    {what}" for what in rest]
    if verdict["more_problems"]:
        lines.append(f"{indent}    … and {verdict['more_problems']} more problem(s)")
    return "\n".join(lines)


def _report_text(report: dict[str, Any]) -> str:
    lines = [_verdict_text(v) for v in report["broken"]]
    if report["broken_count"] > len(report["broken"]):
        lines.append(f"… and {report['broken_count'] - len(report['broken'])} more broken case(s)")
    lines += [f"checkpoints: {p['what']}" for p in report["checkpoint_problems"]]
    verdict = "all intact" if report["ok"] else (
        f"{report['broken_count']} broken case(s)"
        + (f", {len(report['checkpoint_problems'])} checkpoint problem(s)" if report["checkpoint_problems"] else ""))
    lines.append(f"verified {report['cases']:,} case(s), {report['events']:,} event(s), {report['checkpoints']:,} "
                 f"checkpoint(s) in {report['seconds']:.2f} s ({report['events_per_second']:,} events/s): {verdict}")
    latest = report["latest_checkpoint"]
    lines.append(f"latest checkpoint: {latest['id']} at {latest['at']}, hash {latest['hash']}" if latest
                 else "no checkpoint yet (onewindow checkpoint)")
    return "\n".join(lines)


def cmd_replay(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0: the recorded outcome is what the rules produce; 1: the first divergence is printed."""
    from engine.audit import replay

    report = replay.replay_case(ctx.db, args.case_no)
    ctx.emit(report.to_dict(), lambda: _replay_text(report))
    return 0 if report.identical else 1


def _replay_text(report) -> str:
    lines = [f"{s.index + 1:>3}  {s.at}  {s.actor:<12} {s.input:<16} {s.element_id or '':<20} "
             f"{'identical' if s.identical else 'DIFFERS'}" for s in report.steps]
    return "\n".join([*lines, report.summary])


def cmd_checkpoint(args: argparse.Namespace, ctx: Context) -> int:
    from engine.audit import checkpoints

    result = checkpoints.make_checkpoint(ctx.db, _setter(ctx, args.user))
    ctx.emit(result.to_dict(), result.message)
    return 0
