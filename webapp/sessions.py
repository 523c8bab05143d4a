"""The session cookie, and how a login session begins, is checked and ends.

The session is Flask's signed cookie: SameSite=Lax keeps other sites' forms and scripts from sending it,
HttpOnly keeps page scripts from reading it, and Secure keeps it off plain HTTP. `SECURE_COOKIES`
(ONEWINDOW_SECURE_COOKIES) decides Secure: `auto`, the default, whenever the request came over HTTPS (as the
proxy reports it, through ProxyFix); `true` always; `false` never (a bench on plain HTTP).

A cookie cannot be taken back by the server, so each session carries its user's session generation from
the login (engine/org/accounts.py), checked on every request: logging out, a password change or disabling the
user bumps it, and the session — and any copy of its cookie — is over.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_user, logout_user

from engine.org import accounts

from .db import get_db
from .extensions import WebUser, login_manager

GENERATION_KEY = "_generation"


class SessionCookies(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        setting = app.config["SECURE_COOKIES"]
        return request.is_secure if setting == "auto" else setting


def init_app(app: Flask) -> None:
    setting = app.config["SECURE_COOKIES"]
    if not (setting == "auto" or isinstance(setting, bool)):
        raise ValueError(f"ONEWINDOW_SECURE_COOKIES 只能是 auto、true 或 false（现为 {setting!r}）。")
    app.session_interface = SessionCookies()
    login_manager.user_loader(load_user)


def begin(login: accounts.Login) -> WebUser:
    """A fresh session for `login` (nothing of the anonymous one carried over but the language: no fixation)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    user = WebUser(login.actor)
    login_user(user)
    session[GENERATION_KEY] = login.generation
    return user


def end() -> None:
    """Log the current user out everywhere, on the server's side: a copied cookie stops working too."""
    accounts.end_sessions(get_db(), current_user.actor.username)
    logout_user()
    session.pop(GENERATION_KEY, None)


def load_user(username: str) -> WebUser | None:
    actor = accounts.session_actor(get_db(), username, session.get(GENERATION_KEY))
    return None if actor is None else WebUser(actor)
