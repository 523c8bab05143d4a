"""Every error becomes a page a person can act on, or — under /api/v1 — JSON with a message.

The engine's errors already say what is wrong and how to fix it (in Chinese), so they are shown as
they are. HTTP errors get a Chinese explanation. Anything unexpected is logged with its traceback
and the user sees a short apology with the time, never the traceback itself.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import OnewindowError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

HTTP_MESSAGES = {
    400: "请求有误，请检查填写的内容后重试。",
    401: "请先登录或提供有效的 API 令牌。",
    403: "您没有权限访问此页面。",
    404: "页面不存在；请检查网址，或从首页重新进入。",
    405: "不支持此请求方式；请通过页面上的按钮操作。",
    413: "上传的内容过大；请压缩后重试。",
    500: "系统内部错误，已记录日志；请稍后重试，或联系管理员。",
}

ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 500: "internal_error"}


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, body: dict[str, Any], title: str | None = None) -> tuple[Response | str, int]:
    """JSON under /api/, the error page elsewhere; `body` has at least `error` and `message`."""
    if wants_json():
        response = jsonify(body)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="onewindow"'
        return response, status
    return render_template("error.html", status=status, title=title or HTTP_MESSAGES.get(status, "出错了"),
                           message=body["message"]), status


def handle_onewindow_error(exc: OnewindowError):
    return error_response(exc.status, exc.to_dict(), title=_title_for(exc.status))


def handle_csrf_error(exc: CSRFError):
    message = "页面已过期或缺少安全令牌（CSRF），本次提交未处理；请返回上一页，刷新后重新提交。"
    return error_response(400, {"error": "csrf_failed", "message": message}, title="请刷新页面后重试")


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    message = HTTP_MESSAGES.get(status, exc.description or "请求无法处理。")
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
    return {403: "没有权限", 404: "未找到", 409: "操作未完成", 422: "内容有误"}.get(status, "出错了")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(OnewindowError, handle_onewindow_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
    app.register_error_handler(Exception, handle_unexpected)
