"""Creating and upgrading the database schema with Alembic (`onewindow init`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from engine.store.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run on an up-to-date database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
