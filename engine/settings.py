"""Where the platform finds its database and its data folders.

One place reads the environment, so the web app, the scheduler and the command line agree.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROCESSES_DIR = PROJECT_ROOT / "processes"
FORMS_DIR = PROJECT_ROOT / "forms"
INSTANCE_DIR = PROJECT_ROOT / "instance"


def database_url() -> str:
    """`DATABASE_URL` if set, else the embedded SQLite file `instance/onewindow.db`."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'onewindow.db'}"
