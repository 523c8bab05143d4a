"""登录 / 退出: passwords are checked by the engine (argon2); the session keeps only the username."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from engine import accounts
from engine.errors import PermissionDenied

from . import get_db
from .access import login_required, public
from .extensions import WebUser

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: `next=https://evil.example` must not turn login into a redirector."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: WebUser) -> str:
    """Clerks land on their task list; everyone else in the service hall."""
    return url_for("desk.tasks") if user.has_role("clerk") else url_for("hall.items")


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
        flash("请输入用户名和密码。", "error")
        return render_template("auth/login.html", next_url=next_url, username=username), 400
    try:
        actor = accounts.authenticate(get_db(), username, password)
    except PermissionDenied as exc:
        flash(exc.message + "；请检查后重试。", "error")
        return render_template("auth/login.html", next_url=next_url, username=username), 401
    lang = session.get("lang")
    session.clear()  # a fresh session on login: no fixation
    if lang:
        session["lang"] = lang
    user = WebUser(actor)
    login_user(user)
    flash(f"欢迎，{user.display_name}。", "success")
    return redirect(next_url or home_for(user))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"))
