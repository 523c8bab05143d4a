"""Flask extensions in one place: sessions (Flask-Login), CSRF (Flask-WTF), locale (Flask-Babel).

Why each is set up the way it is:
- Flask-Login keeps only the username (and the session generation, webapp/sessions.py) in the session;
  every request rebuilds the `Actor` from the database, so a role or group taken away by an administrator
  counts from the next click on.
- CSRFProtect guards every form POST; the JSON API is exempted in `webapp.api` because it
  authenticates with a bearer token that a foreign page cannot send.
- Flask-Babel: the UI is Chinese (msgids are the Chinese texts themselves, wrapped in `_()`), and
  English comes from webapp/translations/en (docs/operators.md, "Translations"). `?lang=en` or
  `?lang=zh` on any page switches the language and the session remembers it, so the header's switch
  is a plain link that keeps the page; Chinese stays the default, because the people at the window
  and most applicants read Chinese, and a browser's Accept-Language is not a choice they made.
  The engine's refusals (`engine.messages.said`) are looked up in the same catalogue: `_engine_words`
  is installed as the engine's translator, so an error's `message` reads in the page's language.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext, pgettext
from flask_login import LoginManager, UserMixin
from flask_wtf.csrf import CSRFProtect
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from engine.messages import translate_with
from engine.org.assignment import Actor

LOCALES = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}  # the `<html lang>` of each locale, for screen readers and fonts
# The switch names the other language in that language, so a reader of it recognises it.
SWITCH_LABEL = {"zh": "中文", "en": "English"}

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


def N_(message: str) -> str:
    """Marks a message for extraction (pybabel knows `N_`) where it is defined; it is translated with
    `gettext` where it is shown, because at import time there is no request and so no locale."""
    return message


def _engine_words(template: str, context: str | None) -> str:
    """An engine message id in this request's language; outside a request (the scheduler, the command
    line, a test calling the engine) the engine speaks Chinese, as it wrote it."""
    if not has_request_context():
        return template
    return pgettext(context, template) if context else gettext(template)


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LOCALES else "zh"


def _language_switch() -> dict[str, str]:
    """The header's link to the other language: this same page and query with `lang` replaced.

    Only the path and query of this request go into the link, and the path with one leading slash
    (`//host/x` would be another site's address), so it cannot lead off the site whatever was asked;
    a POST's page links to its GET, which is what reloading shows.
    """
    if not has_request_context():
        return {"html_lang": HTML_LANG["zh"]}
    current = str(get_locale() or "zh")
    other = "zh" if current == "en" else "en"
    args = request.args.to_dict(flat=False)
    args["lang"] = [other]
    path = request.script_root + "/" + request.path.lstrip("/")
    return {"html_lang": HTML_LANG.get(current, HTML_LANG["zh"]), "switch_html_lang": HTML_LANG[other],
            "switch_label": SWITCH_LABEL[other], "switch_url": f"{path}?{urlencode(args, doseq=True)}"}


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


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, whatever number of apps it makes.

    Jinja compiles a template per Environment, and each app has its own: the command line and the test
    suite make many apps in one process, and each paid ~100 ms to compile the pages it first rendered
    (the suite: minutes). Jinja keys each entry by the template's name and a checksum of its source, so an
    edited template is compiled anew. Kept in memory, not in files: nothing another user could write to is
    ever run as code."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


def init_app(app: Flask) -> None:
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = gettext
    csrf.init_app(app)
    babel.init_app(app, default_locale=app.config.get("BABEL_DEFAULT_LOCALE", "zh"),
                   locale_selector=select_locale)
    translate_with(_engine_words)
    app.before_request(_remember_language)
    app.context_processor(_language_switch)
    app.after_request(_security_headers)

    from .formatting import register_filters

    register_filters(app)
