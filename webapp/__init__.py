"""The Flask app factory: one blueprint per audience, no business rule in any of them.

Routes parse the request, call one engine function, and map the engine's errors (which already say
what is wrong and how to fix it) to a page or, under /api/v1, to JSON — never to a traceback.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine.db import Database


def create_app(config: dict[str, Any] | None = None, db: Database | None = None) -> Flask:
    """The app for `config`; `db` lets a caller (tests, the CLI) share a `Database` it already holds."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="dev-only-change-me",
        DATABASE_URL=None,
        BABEL_DEFAULT_LOCALE="zh",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        SCHEDULER_ENABLED=False,
    )
    app.config.from_prefixed_env("ONEWINDOW")
    app.config.update(config or {})
    app.extensions["onewindow.db"] = db or Database(app.config["DATABASE_URL"])

    from . import extensions

    extensions.init_app(app)

    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .cases import bp as cases_bp
    from .desk import bp as desk_bp
    from .errors import register_error_handlers
    from .hall import bp as hall_bp
    from .vendor import bp as vendor_bp

    for blueprint in (auth_bp, hall_bp, desk_bp, cases_bp, api_bp, vendor_bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    return app


def get_db() -> Database:
    from flask import current_app

    return current_app.extensions["onewindow.db"]
