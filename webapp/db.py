"""The current app's database, in a module of its own (as Flask's tutorial keeps `flaskr/db.py`).

Blueprints import `get_db` from here, not from the package: the package imports every blueprint while it
builds the app, so importing back from it made each blueprint part of an import circle.
"""

from __future__ import annotations

from flask import current_app

from engine.store.db import Database

EXTENSION_KEY = "onewindow.db"


def get_db() -> Database:
    return current_app.extensions[EXTENSION_KEY]
