"""People and places: users, the org tree, API tokens."""

from __future__ import annotations

import argparse
import getpass
import sys

from onewindow.cli.base import Context, UsageError, _command
from onewindow.output import render_table


def register(commands, common) -> None:
    user = _command(commands, common, "user", cmd_user_help,
                    "manage users: `user add`, `user list`, `user disable`, `user enable`")
    actions = user.add_subparsers(title="actions", dest="action", metavar="ACTION")
    sub = _command(actions, common, "add", cmd_user_add,
                   "create a user, or update one (options left out keep their current value)")
    sub.add_argument("username", metavar="USERNAME")
    sub.add_argument("--password", help="the password (omit it to be asked in a terminal)")
    sub.add_argument("--name", help="display name, e.g. 王芳 (default: the username)")
    sub.add_argument("--role", action="append", default=[], metavar="ROLE",
                     help="applicant, clerk, supervisor, analyst, auditor or admin; repeat or comma-separate")
    sub.add_argument("--group", action="append", default=[], metavar="GROUP",
                     help="a group, e.g. 区中心/区民政局·窗口 (see `onewindow org show`); repeat or comma-separate")
    sub.add_argument("--unit", metavar="UNIT", help="the org unit the user works at, e.g. 梁子镇/子坛村")
    _command(actions, common, "list", cmd_user_list, "list users with their roles and groups")
    for name, text in (("disable", "stop USERNAME logging in: sessions end, API tokens are revoked"),
                       ("enable", "let a disabled USERNAME log in again (revoked tokens stay revoked)")):
        sub = _command(actions, common, name, cmd_user_disable_or_enable, text)
        sub.add_argument("username", metavar="USERNAME")

    org = _command(commands, common, "org", cmd_org_help, "the org tree: `org show`, `org load`")
    actions = org.add_subparsers(title="actions", dest="action", metavar="ACTION")
    _command(actions, common, "show", cmd_org_show, "list the units and their groups (what lanes resolve to)")
    _command(actions, common, "load", cmd_org_load, "load processes/org.json into the database (after editing it)")

    sub = _command(commands, common, "token", cmd_token, "API tokens: `token USERNAME` issues one (printed once), "
                   "`token list [USERNAME]` shows them, `token revoke ID` revokes one")
    sub.add_argument("words", nargs="+", metavar="USERNAME | list [USERNAME] | revoke ID")
    sub.add_argument("--label", default="api", help="what the token is for (default: api)")
    sub.add_argument("--days", type=int, metavar="N",
                     help="days the token is valid, 1 to 365 (default: ONEWINDOW_TOKEN_DAYS, else 90)")


# --- people ---------------------------------------------------------------------------------------


def cmd_user_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("say what to do: `onewindow user add USERNAME …`, `user list`, `user disable USERNAME` or "
                     "`user enable USERNAME`")


def _split(values: list[str]) -> list[str]:
    """`--role a --role b,c` → [a, b, c]: both spellings are natural at a shell."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _ask_password(username: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("give --password (or run in a terminal to be asked for it)")
    first = getpass.getpass(f"password for {username}: ")
    if not first or first != getpass.getpass("again: "):
        raise UsageError("the two passwords are empty or differ; nothing changed")
    return first


def cmd_user_add(args: argparse.Namespace, ctx: Context) -> int:
    """Create a user, or update one: options left out keep the existing name, roles and groups."""
    from engine.errors import NotFound
    from engine.org import accounts, password_policy

    try:
        existing = accounts.actor_for(ctx.db, args.username)
    except NotFound:
        existing = None
    roles = _split(args.role) or (sorted(existing.roles) if existing else [])
    group_codes = _split(args.group) or (sorted(existing.groups) if existing else [])
    name = args.name or (existing.display_name if existing else args.username)
    if not roles:
        raise UsageError(f"give at least one --role ({', '.join(accounts.ROLES)})")
    password = args.password or _ask_password(args.username)
    password_policy.check(password, args.username)
    unit = args.unit or (existing.unit if existing else None)
    accounts.create_user(ctx.db, args.username, password, name, roles, group_codes, unit)
    payload = {"username": args.username, "display_name": name, "roles": roles, "groups": group_codes,
               "created": existing is None}
    ctx.emit(payload, f"user {args.username} {'updated' if existing else 'created'}: roles {', '.join(roles)}"
                      + (f"; groups {', '.join(group_codes)}" if group_codes else ""))
    return 0


def cmd_org_help(args: argparse.Namespace, ctx: Context) -> int:
    raise UsageError("give an action: org show | org load")


def cmd_org_load(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import orgtree

    units = orgtree.install(ctx.db)
    ctx.emit({"units": len(units)}, f"org tree loaded: {len(units)} units")
    return 0


def cmd_org_show(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import orgtree

    rows = orgtree.units_with_groups(ctx.db)
    ctx.emit(rows, lambda: render_table(rows, [("code", "unit"), ("name", "name"), ("kind", "kind"),
                                               ("groups", "groups")]) if rows else "no org tree: run onewindow init")
    return 0


def cmd_user_disable_or_enable(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import accounts

    disabled = args.action == "disable"
    accounts.set_disabled(ctx.db, args.username, disabled)
    ctx.emit({"username": args.username, "disabled": disabled},
             f"user {args.username} disabled: logins refused, sessions ended, API tokens revoked" if disabled else
             f"user {args.username} enabled; revoked API tokens stay revoked (`onewindow token {args.username}`)")
    return 0


def cmd_user_list(args: argparse.Namespace, ctx: Context) -> int:
    from engine.org import accounts

    rows = accounts.list_users(ctx.db)
    ctx.emit(rows, lambda: render_table(rows, [("username", "username"), ("display_name", "name"),
                                               ("roles", "roles"), ("groups", "groups"), ("disabled", "disabled")])
             if rows else "no users")
    return 0


TOKEN_USAGE = "give `onewindow token USERNAME [--days N]`, `token list [USERNAME]` or `token revoke ID`"
TOKEN_COLUMNS = [("id", "id"), ("username", "user"), ("label", "label"), ("created_at", "created"),
                 ("expires_at", "expires"), ("state", "state"), ("revoked_reason", "revoked")]


def cmd_token(args: argparse.Namespace, ctx: Context) -> int:
    """One command for a token's life; a user named `list` or `revoke` cannot be given a token from here."""
    from engine.org import accounts

    first, *rest = args.words
    if first == "list" and len(rest) <= 1:
        rows = [t.to_dict() for t in accounts.list_tokens(ctx.db, *rest)]
        ctx.emit(rows, lambda: render_table(rows, TOKEN_COLUMNS) if rows else "no API tokens")
    elif first == "revoke" and len(rest) == 1 and rest[0].isdigit():
        revoked = accounts.revoke_token(ctx.db, int(rest[0]), "命令行吊销")
        ctx.emit(revoked.to_dict(), f"token {revoked.id} of {revoked.username} ({revoked.label}) revoked")
    elif first in ("list", "revoke") or rest:
        raise UsageError(TOKEN_USAGE)
    else:
        days = accounts.token_days(args.days)
        token = accounts.issue_token(ctx.db, first, args.label, days)
        if not ctx.json:
            ctx.note(f"API token for {first} ({args.label}), valid for {days} days; it is shown only this once — "
                     "store it now. Send it as the header `Authorization: Bearer <token>`.")
        ctx.emit({"username": first, "label": args.label, "days": days, "token": token}, token)
    return 0
