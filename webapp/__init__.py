"""The Flask app factory: one blueprint per audience, no business rule in any of them.

Routes parse the request, call one engine function, and map the engine's errors (which already say
what is wrong and how to fix it) to a page or, under /api/v1, to JSON — never to a traceback.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine import settings
from engine.store.db import Database

from .db import EXTENSION_KEY
from .routing import LazyBuilderRule


def create_app(config: dict[str, Any] | None = None, db: Database | None = None) -> Flask:
    """The app for `config`; `db` lets a caller (tests, the CLI) share a `Database` it already holds."""
    app = Flask(__name__)
    app.url_rule_class = LazyBuilderRule  # URL builders compiled when first used (webapp/routing.py)
    app.config.update(
        DATABASE_URL=None,
        BABEL_DEFAULT_LOCALE="zh",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=21 * 1024 * 1024,  # an attachment (20 MB, engine/desk/attachments.py) and its form
        SCHEDULER_ENABLED=False,
        SESSION_COOKIE_SAMESITE="Lax",
        SECURE_COOKIES="auto",  # the session cookie's Secure flag: auto (on over HTTPS), true or false (sessions.py)
        TRUSTED_PROXIES=settings.whole_number("TRUSTED_PROXIES", 0),  # reverse proxies in front (docs/operators.md)
    )
    app.config.from_prefixed_env("ONEWINDOW")
    app.config.update(config or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key()
    app.extensions[EXTENSION_KEY] = db or Database(app.config["DATABASE_URL"])
    if proxies := app.config["TRUSTED_PROXIES"]:
        # request.remote_addr becomes the address the outermost trusted proxy got the request from, so the
        # guessing limits count applicants, not the proxy; with none trusted, X-Forwarded-For is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    from .inputs import refuse_unstorable_input

    app.before_request(refuse_unstorable_input)  # first, so no later hook takes a NUL to the database

    from . import extensions, sessions

    extensions.init_app(app)
    sessions.init_app(app)

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .audit import bp as audit_bp
    from .auth import bp as auth_bp
    from .cases import bp as cases_bp
    from .desk import bp as desk_bp
    from .desk_ops import bp as _  # noqa: F401  (the desk's operations: their routes join the desk's blueprint)
    from .errors import register_error_handlers
    from .follow import bp as follow_bp
    from .hall import bp as hall_bp
    from .ratings import bp as ratings_bp
    from .register import bp as register_bp
    from .studio import bp as studio_bp
    from .studio_versions import bp as studio_versions_bp
    from .vendor import bp as vendor_bp
    from .watch import bp as watch_bp

    for blueprint in (auth_bp, hall_bp, desk_bp, cases_bp, audit_bp, admin_bp, api_bp, vendor_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(studio_bp)
    app.register_blueprint(studio_versions_bp)
    app.register_blueprint(watch_bp)
    app.register_blueprint(ratings_bp)
    app.register_blueprint(follow_bp)
    app.register_blueprint(register_bp)
    register_error_handlers(app)
    from .deskforms import register as register_form_functions

    register_form_functions(app)
    return app


def instance_secret_key(path: Path | None = None) -> str:
    """The session-signing key when ONEWINDOW_SECRET_KEY is not set: random, made once per instance.

    A fixed default would let anyone forge a login on a `make run` installation; a key kept in
    instance/ (mode 0600) is shared by every worker of that installation and survives restarts.
    """
    path = path or settings.INSTANCE_DIR / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="ascii").strip()



