"""申请人注册: an applicant account by phone number, proven by a one-time code (engine/hall/phone.py).

Registration returns to where the applicant was going (`next`, a path on this site only: `safe_next`), so
someone who found an item and then registered lands back on its application form. A demo installation
(`onewindow init --demo`) sends no SMS: the page says the codes wait in the outbox (`onewindow sms`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import OnewindowError
from engine.hall import phone
from engine.org import accounts
from engine.store import installation

from . import sessions
from .access import public
from .auth import safe_next
from .db import get_db

bp = Blueprint("register", __name__, url_prefix="/register")


def _page(code_sent: bool, status: int = 200, **values: Any):
    return render_template("auth/register.html", code_sent=code_sent, demo=installation.is_demo(get_db()),
                           next_url=safe_next(request.values.get("next")), **values), status


@bp.route("", methods=["GET"])
@public
def start():
    return _page(False, phone_no=request.args.get("phone", "")[:11])


@bp.route("/code", methods=["POST"])
@public
def send_code():
    number = request.form.get("phone", "").strip()
    try:
        phone.request_code(get_db(), number, request.remote_addr or "unknown")
    except OnewindowError as exc:
        flash(exc.message, "error")
        return _page(False, exc.status, phone_no=number[:11])
    flash(_("验证码已发送到您的手机，10 分钟内有效。"), "success")
    return _page(True, phone_no=number)


@bp.route("", methods=["POST"])
@public
def create():
    number, name = request.form.get("phone", "").strip(), request.form.get("name", "").strip()
    password = request.form.get("password", "")
    try:
        if password != request.form.get("password2", ""):
            raise OnewindowError(_("两次输入的密码不一致。"))
        phone.register(get_db(), number, request.form.get("code", ""), password, name)
    except OnewindowError as exc:
        flash(exc.message, "error")
        return _page(True, exc.status, phone_no=number[:11], name=name[:64])
    sessions.begin(accounts.login_for(get_db(), number))
    flash(_("注册成功，欢迎，%(name)s。", name=name), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("hall.items"))
