"""申请人注册: an applicant account by phone number, proven by a one-time code (engine/hall/phone.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from engine.errors import OnewindowError
from engine.hall import phone
from engine.org import accounts

from . import sessions
from .access import public
from .db import get_db

bp = Blueprint("register", __name__, url_prefix="/register")


@bp.route("", methods=["GET"])
@public
def start():
    return render_template("auth/register.html", phone_no=request.args.get("phone", ""), code_sent=False)


@bp.route("/code", methods=["POST"])
@public
def send_code():
    number = request.form.get("phone", "").strip()
    try:
        phone.request_code(get_db(), number, request.remote_addr or "unknown")
    except OnewindowError as exc:
        flash(exc.message, "error")
        return render_template("auth/register.html", phone_no=number, code_sent=False), exc.status
    flash("验证码已发送到您的手机，10 分钟内有效。", "success")
    return render_template("auth/register.html", phone_no=number, code_sent=True)


@bp.route("", methods=["POST"])
@public
def create():
    number, name = request.form.get("phone", "").strip(), request.form.get("name", "").strip()
    password = request.form.get("password", "")
    try:
        if password != request.form.get("password2", ""):
            raise OnewindowError("两次输入的密码不一致。")
        phone.register(get_db(), number, request.form.get("code", ""), password, name)
    except OnewindowError as exc:
        flash(exc.message, "error")
        return render_template("auth/register.html", phone_no=number, name=name, code_sent=True), exc.status
    sessions.begin(accounts.login_for(get_db(), number))
    flash(f"注册成功，欢迎，{name}。", "success")
    return redirect(url_for("hall.items"))
