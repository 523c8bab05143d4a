"""登录 / 退出: passwords are checked by the engine (argon2, throttled); sessions begin and end in sessions.py."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import PermissionDenied
from engine.org import accounts
from engine.org.ratelimit import TooManyAttempts

from . import sessions
from .access import login_required, public
from .db import get_db
from .extensions import WebUser

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: `next=https://evil.example` must not turn login into a redirector."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):  # browsers read "/\x" as "//x"
        return None
    return target


#: Where each role starts its day after logging in, first match wins (an administrator holds every role and
#: lands on the desk, as before): clerks on their task list, supervisors on the watch, auditors on the audit
#: search; applicants and everyone else in the service hall.
HOMES = (("clerk", "desk.tasks"), ("supervisor", "watch.index"), ("auditor", "audit.search"))


def home_for(user: WebUser) -> str:
    roles = user.actor.roles if not user.actor.is_admin else {"clerk"}
    return url_for(next((endpoint for role, endpoint in HOMES if role in roles), "hall.items"))


@bp.route("/", methods=["GET"])
@public
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("hall.items"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next_url=next_url, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        flash(_("请输入用户名和密码。"), "error")
        return render_template("auth/login.html", next_url=next_url, username=username), 400
    try:
        signed_in = accounts.log_in(get_db(), username, password, request.remote_addr)
    except PermissionDenied as exc:
        flash(exc.message, "error")
        status = exc.status if isinstance(exc, TooManyAttempts) else 401
        return render_template("auth/login.html", next_url=next_url, username=username), status
    user = sessions.begin(signed_in)
    flash(_("欢迎，%(name)s。", name=user.display_name), "success")
    return redirect(next_url or home_for(user))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end()
    flash(_("您已安全退出；此前登录的所有会话均已失效。"), "info")
    return redirect(url_for("auth.login"))
