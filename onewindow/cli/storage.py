"""Storage: where files live (`storage check`, `storage migrate`) and the SMS outbox (`sms`)."""

from __future__ import annotations

import argparse
import sys

from onewindow.cli.base import Context, UsageError, _command
from onewindow.output import render_table

BACKENDS = ("local", "database", "s3")


def register(commands, common) -> None:
    sub = _command(commands, common, "storage", cmd_storage,
                   "the file store: `check` re-hashes every stored file, `migrate --to B` moves them between backends")
    sub.add_argument("action", choices=("check", "migrate"))
    sub.add_argument("--from", dest="source", choices=BACKENDS, help="migrate from (default: the configured store)")
    sub.add_argument("--to", dest="target", choices=BACKENDS, help="migrate to (required for migrate)")

    sub = _command(commands, common, "sms", cmd_sms,
                   "the SMS outbox: messages queued for the gateway (newest first); --mark-sent ID… acknowledges")
    sub.add_argument("--pending", action="store_true", help="only messages not yet sent")
    sub.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    sub.add_argument("--mark-sent", type=int, nargs="+", metavar="ID", default=[],
                     help="mark these messages as handed to the provider (a gateway adapter's acknowledgement)")


def _progress(total: int, what: str):
    """A progress bar on a terminal (stderr), nothing for a script; returns the per-file callback and closer."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=what, unit="file", file=sys.stderr, disable=not sys.stderr.isatty())
    return (lambda _sha256: bar.update(1)), bar.close


def cmd_storage(args: argparse.Namespace, ctx: Context) -> int:
    from engine.store import files

    total = len(files.referenced(ctx.db))
    if args.action == "check":
        step, close = _progress(total, "checking")
        try:
            report = files.check(ctx.db, step)
        finally:
            close()
        data = {"backend": report.backend, "checked": report.checked, "missing": report.missing,
                "damaged": report.damaged, "ok": report.ok}
        ctx.emit(data, lambda: "\n".join(
            [f"{report.backend}: {report.checked} file(s) checked, {len(report.missing)} missing, "
             f"{len(report.damaged)} changed"] + [f"missing  {s}" for s in report.missing]
            + [f"changed  {s}" for s in report.damaged]))
        return 0 if report.ok else 1
    if not args.target:
        raise UsageError("storage migrate needs --to local|database|s3")
    source = args.source or files.backend_name(ctx.db)
    step, close = _progress(total, f"{source} → {args.target}")
    try:
        moved = files.migrate(ctx.db, source, args.target, step)
    finally:
        close()
    data = {"from": moved.source, "to": moved.target, "copied": moved.copied, "already_there": moved.already_there,
            "missing": moved.missing, "damaged": moved.damaged}
    ctx.emit(data, lambda: (f"{moved.source} → {moved.target}: {moved.copied} copied, {moved.already_there} already "
                            f"there, {len(moved.missing)} missing, {len(moved.damaged)} changed (not copied)"
                            + ("" if moved.missing or moved.damaged else
                               f"\nnext: set ONEWINDOW_FILE_STORE={moved.target} and run `onewindow storage check`")))
    return 0 if not (moved.missing or moved.damaged) else 1


def cmd_sms(args: argparse.Namespace, ctx: Context) -> int:
    from engine.hall import phone

    if args.mark_sent:
        marked = phone.mark_sent(ctx.db, args.mark_sent)
        ctx.emit({"marked": marked}, f"{marked} message(s) marked sent")
        return 0
    rows = phone.outbox(ctx.db, args.pending, max(1, min(args.limit, 1000)))
    ctx.emit(rows, lambda: render_table(rows, [("id", "id"), ("queued_at", "queued"), ("phone", "phone"),
                                               ("message", "message"), ("sent_at", "sent")])
             if rows else "the outbox is empty")
    return 0
