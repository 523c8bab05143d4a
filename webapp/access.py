"""Who may open which page: one decorator on every view, so no route is reachable by accident.

Each decorator marks the view with `ACCESS_ATTR`; a test walks the URL map and fails for any view
without a mark, so "roles are checked on every route" is enforced, not hoped for. The engine checks
group membership again on every change (claim, complete); these checks decide who sees a page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import current_app
from flask_login import current_user

from engine.assignment import Actor
from engine.errors import PermissionDenied

ACCESS_ATTR = "onewindow_access"
STAFF_ROLES = frozenset({"clerk", "supervisor", "auditor", "admin"})
ROLE_NAMES = {"applicant": "申请人", "clerk": "窗口人员", "supervisor": "电子监察", "analyst": "流程管理员",
              "auditor": "审计", "admin": "系统管理员"}

F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Open to anyone, logged in or not (login page, static files, the OpenAPI document)."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Logged in and holding one of `roles` (administrators pass every check); no roles: any login."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            require_role(current_user.actor, roles)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, roles or "login")
        return wrapper  # type: ignore[return-value]

    return decorate


login_required = roles_required()


def require_role(actor: Actor, roles: Iterable[str]) -> None:
    roles = tuple(roles)
    if not roles or actor.is_admin or actor.roles & set(roles):
        return
    names = "、".join(ROLE_NAMES.get(r, r) for r in roles)
    raise PermissionDenied(f"此页面仅限{names}使用；如需办理，请联系管理员为您开通相应角色。")


def may_view_case(actor: Actor, started_by: str | None) -> bool:
    """Staff see every case; an applicant (or village agent) sees the cases they started."""
    return bool(actor.roles & STAFF_ROLES) or actor.is_admin or (started_by is not None
                                                                  and started_by == actor.username)


def require_case_access(actor: Actor, history: list[dict[str, Any]]) -> None:
    """Raise 403 unless `actor` may see the case whose audit history is `history`.

    Who started a case is its first audit event's actor (the `case_started` event), which is the
    record we already trust for everything else about the case.
    """
    started_by = history[0]["actor"] if history else None
    if not may_view_case(actor, started_by):
        raise PermissionDenied("您只能查看自己申请的办件；如需查询他人办件，请到窗口办理。")
