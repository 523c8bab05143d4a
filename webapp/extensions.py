"""Flask extensions in one place: sessions (Flask-Login), CSRF (Flask-WTF), locale (Flask-Babel).

Why each is set up the way it is:
- Flask-Login keeps only the username (and the session generation, webapp/sessions.py) in the session;
  every request rebuilds the `Actor` from the database, so a role or group taken away by an administrator
  counts from the next click on.
- CSRFProtect guards every form POST; the JSON API is exempted in `webapp.api` because it
  authenticates with a bearer token that a foreign page cannot send.
- Flask-Babel: the UI is Chinese (msgids are the Chinese texts themselves, wrapped in `_()`), and a
  `?lang=en` switch is kept in the session so an English catalogue can be added later without
  touching a template. No catalogue ships yet, so every locale shows the Chinese text.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect

from engine.org.assignment import Actor

LOCALES = ("zh", "en")

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class WebUser(UserMixin):
    """The logged-in person as Flask-Login needs it, wrapping the engine's `Actor`."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def get_id(self) -> str:
        return self.actor.username

    @property
    def display_name(self) -> str:
        return self.actor.display_name or self.actor.username

    def has_role(self, *roles: str) -> bool:
        return self.actor.is_admin or bool(self.actor.roles & set(roles))


def select_locale() -> str:
    return session.get("lang") or "zh"


def _remember_language() -> None:
    """`?lang=en` (or `?lang=zh`) on any page switches the language for the rest of the session."""
    lang = request.args.get("lang")
    if lang in LOCALES:
        session["lang"] = lang


def _security_headers(response):
    """No framing, no sniffing, scripts only from this site (there is no inline script anywhere)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'")
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, default_locale=app.config.get("BABEL_DEFAULT_LOCALE", "zh"),
                   locale_selector=select_locale)
    app.before_request(_remember_language)
    app.after_request(_security_headers)

    from .formatting import register_filters

    register_filters(app)
