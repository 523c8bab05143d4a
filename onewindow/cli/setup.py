"""Setting up: init, lint, deploy, withdraw, migrate, items."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.errors import OnewindowError
from onewindow.cli.base import Context, UsageError, _actor, _as_option, _command
from onewindow.output import render_table


def register(commands, common) -> None:
    sub = _command(commands, common, "init", cmd_init, "create or upgrade the database schema (safe to rerun)")
    sub.add_argument("--demo", action="store_true", help="also create demo users and deploy every item in processes/")

    sub = _command(commands, common, "lint", cmd_lint, "check item folders or .bpmn files without deploying")
    sub.add_argument("paths", nargs="+", metavar="PATH",
                     help="an item folder, a .bpmn file, or a folder of item folders (e.g. processes)")

    sub = _command(commands, common, "deploy", cmd_deploy,
                   "lint and deploy an item folder as its next version (identical content: no-op)")
    sub.add_argument("path", nargs="?", metavar="PATH", help="the item folder, e.g. processes/demo-joint-review")
    sub.add_argument("--all", action="store_true", help="deploy every item folder under processes/")
    sub.add_argument("--as", dest="user", metavar="USER", help="record USER as the deployer (default: cli)")
    sub.add_argument("--approval", metavar="CASE_NO",
                     help="the approved governance case a change of time limits or materials needs (S-9)")

    sub = _command(commands, common, "withdraw", cmd_withdraw,
                   "withdraw an item from the centre on an approved governance case (no new cases; running ones go on)")
    sub.add_argument("code", metavar="CODE", help="the item code, e.g. DEMO-001")
    sub.add_argument("--approval", required=True, metavar="CASE_NO", help="the approved governance case (S-9)")
    _as_option(sub, required=True)

    sub = _command(commands, common, "migrate", cmd_migrate,
                   "move open cases of an item from one version to another where it is safe (one transaction "
                   "each); without --apply only lists which cases can move and why not")
    sub.add_argument("code", metavar="CODE", help="the item code, e.g. DEMO-001")
    sub.add_argument("--from", dest="from_number", type=int, required=True, metavar="N", help="the cases' version")
    sub.add_argument("--to", dest="to_number", type=int, required=True, metavar="M", help="the version to move to")
    sub.add_argument("--case", dest="cases", action="append", default=[], metavar="NO",
                     help="only this case (repeat); default: every case that can move")
    sub.add_argument("--apply", action="store_true", help="move them (default: a dry run)")
    _as_option(sub, required=False)

    _command(commands, common, "items", cmd_items, "list the deployed items and their latest version")


# --- setup commands -------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    """Migrate, then optionally seed the demo; rerunning is harmless (demo users are updated, items no-op)."""
    from engine.catalogue import demo
    from engine.org import orgtree
    from engine.store import schema
    from onewindow.serving import masked

    schema.upgrade(ctx.db)
    units = orgtree.install(ctx.db)
    result: dict[str, Any] = {"database": masked(ctx.db.url), "schema": "head", "org_units": len(units)}
    lines = [f"database ready: {result['database']} (schema at head, org tree of {len(units)} units)"]
    status = 0
    if args.demo:
        seeded = demo.seed(ctx.db)
        result["demo"] = {"password": demo.DEMO_PASSWORD, "users": [u.to_dict() for u in seeded.users],
                          "deployed": [_deploy_dict(r) for r in seeded.deployed], "failed": seeded.failed}
        lines += [r.message for r in seeded.deployed]
        for failure in seeded.failed:
            ctx.note(f"error: {failure['path']}: {failure['message']}")
            status = 1
        fixed = [u.to_dict() for u in seeded.users if not u.unit]
        lines += ["", f"demo logins (password {demo.DEMO_PASSWORD} for everyone):", render_table(fixed, LOGIN_COLUMNS),
                  "", "window staff of the org tree (one login per unit and post; `onewindow user list` shows all):",
                  *_logins_by_unit([u for u in seeded.users if u.unit])]
    ctx.emit(result, "\n".join(lines))
    return status


def _logins_by_unit(users) -> list[str]:
    """'区中心/区民政局: mz-window mz-handle mz-review mz-approve' — one line per unit instead of 70 rows."""
    by_unit: dict[str, list[str]] = {}
    for user in users:
        by_unit.setdefault(user.unit, []).append(user.username)
    return [f"  {unit}: {' '.join(names)}" for unit, names in by_unit.items()]


LOGIN_COLUMNS = [("username", "username"), ("password", "password"), ("display_name", "name"),
                 ("roles", "roles"), ("groups", "groups")]


def _deploy_dict(result) -> dict[str, Any]:
    return {"item_code": result.item_code, "version": result.version, "created": result.created,
            "content_hash": result.content_hash, "message": result.message,
            "warnings": [f for f in result.report.to_list() if f["severity"] != "error"]}


def cmd_lint(args: argparse.Namespace, ctx: Context) -> int:
    """Lint each path; every finding names its file and element and says how to fix it."""
    results = [_lint_one(path) for p in args.paths for path in _item_paths(Path(p))]
    errors = sum(1 for r in results for f in r["findings"] if f["severity"] == "error")
    ctx.emit(results, lambda: _lint_text(results, errors))
    return 1 if errors else 0


def _item_paths(path: Path) -> list[Path]:
    """A folder of item folders (processes/, a department's folder) stands for every item under it, and
    its shared call activities; anything else is linted as it is."""
    from engine.catalogue import demo

    if not path.is_dir() or (path / "item.json").exists() or any(path.glob("*.bpmn")):
        return [path]
    found = demo.item_folders(path)
    shared = path / demo.SHARED_FOLDER
    return (found + ([shared] if any(shared.glob("*.bpmn")) else [])) or [path]


def _lint_one(path: Path) -> dict[str, Any]:
    from engine.diagrams.lint import lint_package
    from engine.diagrams.package import load_package

    try:
        package = load_package(path)
        findings = lint_package(package).to_list()
    except OnewindowError as exc:  # unreadable, unsafe or malformed: one finding, as lint would put it
        finding = {"severity": "error", "message": exc.message, "fix": "修正文件后重新检查",
                   "element_id": None, "file": path.name if path.is_file() else None}
        return {"path": str(path), "item_code": None, "ok": False, "findings": [finding]}
    folder = path if path.is_dir() else path.parent
    if not (folder / "item.json").exists():
        findings = _diagrams_only(findings, path)
    ok = not any(f["severity"] == "error" for f in findings)
    return {"path": str(path), "item_code": package.code or None, "ok": ok, "findings": findings}


def _diagrams_only(findings: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """Without item.json there is no item to check (a shared call activity, a sketch): lint the diagrams.

    For a folder this is said as a warning, because deploying it would still need item.json.
    """
    from engine.catalogue import demo

    kept = [f for f in findings if f["file"] != "item.json"]
    if path.is_dir() and path.name != demo.SHARED_FOLDER:  # call activities are not items
        kept.insert(0, {"severity": "warning", "message": "没有 item.json，只检查了流程图",
                        "fix": "作为事项部署前，添加 item.json（code、name、department、handling_mode）",
                        "element_id": None, "file": "item.json"})
    return kept


def _lint_text(results: list[dict[str, Any]], errors: int) -> str:
    lines = []
    for result in results:
        lines.append(f"{result['path']}: {'ok' if result['ok'] else 'FAILED'}")
        lines += [f"  {_finding_line(f)}" for f in result["findings"]]
    warnings = sum(1 for r in results for f in r["findings"] if f["severity"] != "error")
    lines.append(f"{errors} error(s), {warnings} warning(s) in {len(results)} path(s)")
    return "\n".join(lines)


def _finding_line(finding: dict[str, Any]) -> str:
    """`severity: file:element: message — fix`, without repeating a file name the message starts with."""
    where = ":".join(p for p in (finding["file"], finding["element_id"]) if p)
    message = finding["message"]
    if finding["file"] and message.startswith(f"{finding['file']}: "):
        message = message[len(finding["file"]) + 2:]
    return f"{finding['severity']}: {where + ': ' if where else ''}{message} — {finding['fix']}"


def cmd_deploy(args: argparse.Namespace, ctx: Context) -> int:
    from engine.catalogue import demo
    from engine.catalogue.deployment import deploy_package
    from engine.diagrams.package import load_package
    from engine.org import accounts

    if bool(args.path) == bool(args.all):
        raise UsageError("give one item folder to deploy, or --all (see `onewindow deploy --help`)")
    deployer = args.user or "cli"
    if args.user:
        accounts.actor_for(ctx.db, args.user)  # an unknown deployer is refused, not recorded
    if args.approval and not args.path:
        raise UsageError("--approval names the approval of one item's change: give its folder, not --all")
    if args.path:
        result = deploy_package(ctx.db, load_package(args.path), deployer, approval=args.approval)
        ctx.emit(_deploy_dict(result), result.message)
        return 0
    seeded = demo.deploy_all(ctx.db, deployer)
    payload = {"deployed": [_deploy_dict(r) for r in seeded.deployed], "failed": seeded.failed}
    for failure in seeded.failed:
        ctx.note(f"error: {failure['path']}: {failure['message']}")
    ctx.emit(payload, "\n".join([r.message for r in seeded.deployed] or ["no item folder under processes/"]))
    return 1 if seeded.failed else 0


def cmd_withdraw(args: argparse.Namespace, ctx: Context) -> int:
    from engine.catalogue import governance

    governance.withdraw_item(ctx.db, args.code, _actor(ctx, args.user), args.approval)
    ctx.emit({"item_code": args.code, "withdrawn": True, "approval": args.approval},
             f"{args.code} withdrawn from the centre (approval {args.approval}); running cases continue")
    return 0


def cmd_migrate(args: argparse.Namespace, ctx: Context) -> int:
    """Dry run: the verdict per open case. --apply: move the chosen (or every movable) case; exit 1 if any refused."""
    from engine.catalogue import case_migration

    verdicts = case_migration.assess_version(ctx.db, args.code, args.from_number, args.to_number)
    if not args.apply:
        rows = [{**v.to_dict(), "can": "yes" if v.can else "no", "reasons": "；".join(v.reasons)} for v in verdicts]
        ctx.emit([v.to_dict() for v in verdicts], lambda: render_table(rows, [
            ("case_no", "case"), ("status", "status"), ("can", "can move"), ("reasons", "why not")])
            if rows else f"no open case on version {args.from_number}")
        return 0
    if not args.user:
        raise UsageError("--apply needs --as USER (an analyst): the migration is recorded in each case's history")
    chosen = args.cases or [v.case_no for v in verdicts if v.can]
    result = case_migration.migrate_cases(ctx.db, chosen, args.to_number, _actor(ctx, args.user))
    ctx.emit(result.to_dict(), lambda: "\n".join(
        [f"migrated {no} to version {args.to_number}" for no in result.migrated]
        + [f"refused {no}: {'；'.join(reasons)}" for no, reasons in result.refused.items()]
        or ["nothing to migrate"]))
    return 1 if result.refused else 0


def cmd_items(args: argparse.Namespace, ctx: Context) -> int:
    from engine.reads import queries

    rows = queries.list_items(ctx.db)
    ctx.emit(rows, lambda: render_table(rows, [("code", "code"), ("name", "name"), ("department", "department"),
                                               ("handling_mode", "mode"), ("latest_version", "version")])
             if rows else "no item deployed yet (onewindow deploy PATH)")
    return 0
