"""Request input the database cannot hold is refused before any route runs: a 400 with a message, not a 500.

PostgreSQL refuses a NUL character in text, SQLite cannot bind an integer beyond 64 bits, and PostgreSQL's
`integer` columns (every id and number in engine/store/tables/) end at 2**31 - 1. Left to reach a query, such
input fails deep inside a route as an unexpected error. One check before every request looks at everything
a client sends — the path, the query string, form fields, uploaded file names, a JSON body — so no route
has to remember; routes that parse a number themselves pass it through `db_int`, the same range.

Text in form fields may be any digits (an account number is not a number to count with), so only the
query string, path parts and JSON numbers are held to integer ranges here.
"""

from __future__ import annotations

import math
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from engine.errors import OnewindowError

INT64_MAX = 2**63 - 1
DB_INT_MAX = 2**31 - 1


class InputRefused(OnewindowError):
    """A value no route could store or look up; says which one and what to change."""

    code = "invalid_input"


def refuse_unstorable_input() -> None:
    """The app's `before_request`: raise `InputRefused` for a NUL or an out-of-range number anywhere."""
    _check_text(_l("网址"), request.path)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int):
            db_int(value, _l("网址中的 %(name)s", name=name))
    for name, value in request.args.items(multi=True):
        _check_text(_l("查询参数名"), name)
        _check_text(_l("查询参数 %(name)s", name=name), value)
        _check_integer_text(_l("查询参数 %(name)s", name=name), value)
    for name, value in request.form.items(multi=True):
        _check_text(_l("表单字段名"), name)
        _check_text(_l("表单字段 %(name)s", name=name), value)
    for name, upload in request.files.items(multi=True):
        _check_text(_l("上传字段名"), name)
        _check_text(_l("上传文件 %(name)s 的文件名", name=name), upload.filename or "")
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError as exc:  # json.loads gives up on deep nesting with this, not a ValueError
            raise InputRefused(_("请求体的 JSON 嵌套过深，无法处理；请减少嵌套层数后重试。")) from exc
        _check_json(body)


def db_int(value: int, label: str | LazyString) -> int:
    """`value` if an `integer` column can hold it; routes that parse a number themselves pass it through here.

    Raises `InputRefused` naming `label` (PostgreSQL would fail the whole query with "integer out of range").
    """
    _check_range(label, value, DB_INT_MAX)
    return value


def _check_text(where: str | LazyString, text: str) -> None:
    if "\0" in text:
        raise InputRefused(_("%(where)s 含有空字符（NUL，\\0），无法处理；请删除该字符后重试。", where=where))


def _check_range(where: str | LazyString, value: int, limit: int) -> None:
    if not -limit <= value <= limit:
        raise _out_of_range(where, limit)


def _check_integer_text(where: str | LazyString, text: str) -> None:
    """A query value written as an integer (as `int()` reads one) must fit in 64 bits.

    The digits are counted before any conversion: `int()` refuses more than 4300 of them with a ValueError
    that a route would take for "not a number" rather than "too big".
    """
    digits = text.strip().lstrip("+-").replace("_", "").lstrip("0")
    if digits.isdecimal() and (len(digits) > len(str(INT64_MAX)) or int(digits) > INT64_MAX):
        raise _out_of_range(where, INT64_MAX)


def _out_of_range(where: str | LazyString, limit: int) -> InputRefused:
    return InputRefused(_("%(where)s 的数值超出范围（绝对值最大 %(limit)s）；请检查后重试。", where=where, limit=limit))


def _check_json(body: Any) -> None:
    """Walk the parsed body without recursion (a body nested a thousand deep must not exhaust the stack).

    A value's place (请求体.data.phone) is kept as a chain of parts and written out lazily, only into the message
    of a value refused: writing it out for every value translated "请求体" once per key.
    """
    pending: list[tuple[_Place, Any]] = [(None, body)]
    while pending:
        place, value = pending.pop()
        where = LazyString(_json_place, place)
        if isinstance(value, str):
            _check_text(where, value)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            _check_range(where, value, INT64_MAX)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputRefused(_("%(where)s 不是有限的数值（NaN 或 Infinity）；请改为普通数字。", where=where))
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_text(_l("%(where)s 的字段名", where=where), key)
                pending.append(((place, f".{key}"), item))
        elif isinstance(value, list):
            pending.extend(((place, f"[{index}]"), item) for index, item in enumerate(value))


_Place = tuple["_Place", str] | None  # (the enclosing place, ".key" or "[index]"); None: the body itself


def _json_place(place: _Place) -> str:
    parts: list[str] = []
    while place is not None:
        place, part = place
        parts.append(part)
    return _("请求体") + "".join(reversed(parts))
