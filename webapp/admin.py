"""系统管理: the working-day calendar (工作日历) and the API tokens (API 令牌), administrators only.

The month grid shows every day as working or off and why (holiday, 调休上班, weekend, or an
administrator's override with its reason); a form sets a day working or off with a reason, and each
override can be removed. The token list shows every token's holder, purpose, expiry and state, and revokes
one for good (issuing stays with `onewindow token`, which shows the token once on the operator's terminal).
The engine (`engine.time.calendar_admin`, `engine.org.accounts`) validates and records; the routes only parse the
request.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.errors import OnewindowError
from engine.org import accounts
from engine.time import calendar_admin, clock
from engine.time.workdays import DayInfo

from .access import roles_required
from .db import get_db
from .extensions import N_

bp = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN_ROLES = ("admin",)
WEEK_HEADER = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))


@bp.route("/calendar", methods=["GET"])
@roles_required(*ADMIN_ROLES)
def calendar():
    year, month = _month_arg(request.args.get("month"))
    return _calendar_page(year, month, {"day": request.args.get("day", ""), "working": "", "reason": ""})


@bp.route("/calendar/overrides", methods=["POST"])
@roles_required(*ADMIN_ROLES)
def set_override():
    values = {key: request.form.get(key, "").strip() for key in ("day", "working", "reason")}
    day = _parse_day(values["day"])
    try:
        if day is None:
            raise OnewindowError(_("请选择要调整的日期"))
        if values["working"] not in ("1", "0"):
            raise OnewindowError(_("请选择设为工作日还是休息日"))
        calendar_admin.set_override(get_db(), day, values["working"] == "1", values["reason"],
                                    current_user.actor.username)
    except OnewindowError as exc:
        year, month = (day.year, day.month) if day else _month_arg(request.form.get("month"))
        return _calendar_page(year, month, values, exc.message), exc.status
    flash(_("已将 %(day)s 设为工作日。", day=day.isoformat()) if values["working"] == "1"
          else _("已将 %(day)s 设为休息日。", day=day.isoformat()), "success")
    return redirect(url_for("admin.calendar", month=f"{day:%Y-%m}"))


@bp.route("/calendar/overrides/<day>/delete", methods=["POST"])
@roles_required(*ADMIN_ROLES)
def remove_override(day: str):
    parsed = _parse_day(day)
    if parsed is None:
        raise OnewindowError(_("日期 %(day)s 无效", day=day))
    removed = calendar_admin.remove_override(get_db(), parsed, current_user.actor.username)
    flash(_("已取消 %(day)s 的调整，该日恢复按法定安排计算。", day=removed.day.isoformat()), "success")
    return redirect(url_for("admin.calendar", month=request.form.get("month") or f"{parsed:%Y-%m}"))


@bp.route("/tokens", methods=["GET"])
@roles_required(*ADMIN_ROLES)
def tokens():
    username = request.args.get("user", "").strip() or None
    return render_template("admin/tokens.html", tokens=accounts.list_tokens(get_db(), username),
                           username=username or "", now=clock.now())


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(*ADMIN_ROLES)
def revoke_token(token_id: int):
    # the reason is the record's, kept in Chinese like every record; the flash is the reader's
    revoked = accounts.revoke_token(get_db(), token_id, f"管理员 {current_user.actor.username} 吊销")
    flash(_("已吊销 %(user)s 的令牌 %(id)s（%(label)s），使用它的请求将被拒绝。", user=revoked.username, id=revoked.id,
            label=revoked.label), "success")
    return redirect(url_for("admin.tokens", user=request.form.get("user") or None))


def _calendar_page(year: int, month: int, values: dict[str, str], form_error: str | None = None):
    days = calendar_admin.month_view(get_db(), year, month)
    first = date(year, month, 1)
    previous = date(year - 1, 12, 1) if month == 1 else date(year, month - 1, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return render_template(
        "admin/calendar.html", year=year, month=month, weeks=_weeks(days), week_header=[_(day) for day in WEEK_HEADER],
        working_days=sum(1 for d in days if d.working), day_count=len(days),
        previous=f"{previous:%Y-%m}", following=f"{following:%Y-%m}", this_month=f"{clock.local_date():%Y-%m}",
        month_key=f"{first:%Y-%m}", overrides=calendar_admin.list_overrides(get_db(), year),
        values=values, form_error=form_error)


def _weeks(days: list[DayInfo]) -> list[list[DayInfo | None]]:
    """The month as rows of seven cells, Monday first; None for the blanks before and after."""
    cells: list[Any] = [None] * days[0].day.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def _month_arg(text: str | None) -> tuple[int, int]:
    if not text:
        today = clock.local_date()
        return today.year, today.month
    parsed = _parse_day(f"{text}-01")
    if parsed is None or not 2 <= parsed.year <= 9998:
        raise OnewindowError(_("月份“%(text)s”无效；请写成 2026-02 的形式", text=text))
    return parsed.year, parsed.month


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
