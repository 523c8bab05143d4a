"""Every error becomes a page a person can act on, or — under /api/v1 — JSON with a message.

The engine's errors already say what is wrong and how to fix it, so they are shown as they are, in
the page's language (`engine.messages`). HTTP errors get an explanation of their own. Anything
unexpected is logged with its traceback and the user sees a short apology with the time, never the
traceback itself.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from flask import Flask, Response, jsonify, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import OnewindowError

from .auth import home_for
from .extensions import N_

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Lazy: a page shows them in the person's language; the JSON API evaluates them in Chinese (`error_response`).
HTTP_MESSAGES = {
    400: _l("请求有误，请检查填写的内容后重试。"),
    401: _l("请先登录或提供有效的 API 令牌。"),
    403: _l("您的账号没有打开此页面的权限。"),
    404: _l("您要找的页面不存在，可能网址有误，或者它已被移走。"),
    405: _l("不支持此请求方式；请通过页面上的按钮操作。"),
    413: _l("上传的内容过大；请压缩后重试。"),
    500: _l("系统内部错误，已记录日志；请稍后重试，或联系管理员。"),
}

ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 500: "internal_error"}


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, body: dict[str, Any], title: str | None = None) -> tuple[Response | str, int]:
    """JSON under /api/, the error page elsewhere; `body` has at least `error` and `message`."""
    if wants_json():
        with force_locale("zh"):  # the JSON API answers in Chinese (docs/architecture.md §11a)
            response = jsonify({key: str(value) if isinstance(value, LazyString) else value
                                for key, value in body.items()})
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="onewindow"'
        return response, status
    return render_template("error.html", status=status, title=title or _title_for(status),
                           message=body["message"], hint=HINTS.get(status, ""), start=start_page(),
                           login_url=_login_url()), status


#: What the person can do next, under the message (the message says what happened).
HINTS = {
    403: N_("此页面只对负责相应工作的人员开放。如果您认为应当有此权限，请联系本单位的系统管理员。"),
    404: N_("请检查网址或办件编号是否完整；办件编号是回执上的 14 位数字。也可以回到首页重新查找。"),
}
#: The start page of each role, and how the button names it (first match wins, as `auth.home_for` orders them).
START_LABELS = (("clerk", N_("回到我的待办")), ("supervisor", N_("回到电子监察")), ("auditor", N_("回到审计查询")))
PUBLIC_START = N_("回到办事大厅")


def start_page() -> dict[str, str]:
    """Where this person starts their day (`auth.home_for`), and the button's words; the hall for the public."""
    if not current_user or not current_user.is_authenticated:
        return {"url": url_for("hall.items"), "label": PUBLIC_START}
    roles = {"clerk"} if current_user.actor.is_admin else current_user.actor.roles
    label = next((text for role, text in START_LABELS if role in roles), PUBLIC_START)
    return {"url": home_for(current_user), "label": label}


def _login_url() -> str | None:
    """For someone not logged in: the login page, coming back here after (a GET only)."""
    if current_user and current_user.is_authenticated:
        return None
    return url_for("auth.login", next=request.path) if request.method == "GET" else url_for("auth.login")


def handle_onewindow_error(exc: OnewindowError):
    """The engine's refusal as it said it, in the page's language (`engine.messages`); Chinese under /api/."""
    with force_locale("zh") if wants_json() else nullcontext():
        body = exc.to_dict()
    return error_response(exc.status, body, title=_title_for(exc.status))


def handle_csrf_error(exc: CSRFError):
    message = _l("页面已过期或缺少安全令牌（CSRF），本次提交未处理；请返回上一页，刷新后重新提交。")
    return error_response(400, {"error": "csrf_failed", "message": message}, title=_("请刷新页面后重试"))


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = HTTP_MESSAGES.get(status, exc.description or _l("请求无法处理。"))
    body, code = error_response(status, {"error": ERROR_CODES.get(status, "http_error"), "message": message})
    allowed = getattr(exc, "valid_methods", None)
    if allowed:  # 405 must say which methods would work
        body = body if isinstance(body, Response) else Response(body, mimetype="text/html")
        body.headers["Allow"] = ", ".join(allowed)
    return body, code


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, {"error": "internal_error", "message": HTTP_MESSAGES[500]})


def _title_for(status: int) -> str:
    return str({400: _l("请求有误"), 401: _l("请先登录"), 403: _l("没有权限"), 404: _l("没有找到"),
                405: _l("不能这样操作"), 409: _l("操作未完成"), 413: _l("内容过大"), 422: _l("内容有误")}
               .get(status, _l("出错了")))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(OnewindowError, handle_onewindow_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
