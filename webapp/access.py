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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.errors import PermissionDenied
from engine.org.assignment import Actor
from engine.runtime.caseaccess import require_concerned

from .db import get_db

ACCESS_ATTR = "onewindow_access"
ROLE_NAMES = {"applicant": _l("申请人"), "clerk": _l("窗口人员"), "supervisor": _l("电子监察"),
              "analyst": _l("流程管理员"), "auditor": _l("审计"), "admin": _l("系统管理员"), "chief": _l("负责人")}

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
    names = _("、").join(str(ROLE_NAMES.get(r, r)) for r in roles)
    raise PermissionDenied(_("此页面仅限%(roles)s使用；如需办理，请联系管理员为您开通相应角色。", roles=names))


def require_case_access(actor: Actor, case_no: str) -> None:
    """403 unless the case concerns `actor` — the engine's one rule (`engine.runtime.caseaccess.concerns`): its
    applicant, the clerks of the groups and units that handle or handled it, those it was copied to, and
    supervisors, auditors and administrators."""
    require_concerned(get_db(), case_no, actor)
