"""Where the platform finds its database and its data folders.

One place reads the environment, so the web app, the scheduler and the command line agree.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.messages import said

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROCESSES_DIR = PROJECT_ROOT / "processes"
FORMS_DIR = PROJECT_ROOT / "forms"
# What is truly per machine (docs/operators.md "Files and replicas"): the embedded SQLite database, the
# session key of an installation without ONEWINDOW_SECRET_KEY, the local file store's default folder.
INSTANCE_DIR = Path(os.environ.get("ONEWINDOW_INSTANCE_DIR") or PROJECT_ROOT / "instance")


def database_url() -> str:
    """`DATABASE_URL` if set, else the embedded SQLite file `instance/onewindow.db`."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'onewindow.db'}"


def whole_number(name: str, default: int, minimum: int = 0) -> int:
    """`ONEWINDOW_<name>` as a whole number, `default` when unset.

    A value that is not one stops with the variable named, rather than leaving a limit silently off.
    """
    raw = os.environ.get(f"ONEWINDOW_{name}", "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        raise ValueError(said("环境变量 ONEWINDOW_%(name)s=%(raw)r 无效：应为不小于 %(minimum)s 的整数；"
                         "请改正，或删去它以用默认值 %(default)s。",
                         name=name, raw=raw, minimum=minimum, default=default))
    return int(raw)


def switch(name: str, default: bool = False) -> bool:
    """`ONEWINDOW_<name>` as on/off (1/true/yes/on, 0/false/no/off), `default` when unset; read at each use, so
    an operator's change needs no code change. Any other value stops with the variable named."""
    raw = os.environ.get(f"ONEWINDOW_{name}", "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(said("环境变量 ONEWINDOW_%(name)s=%(raw)r 无效：应为 true 或 false；请改正，或删去它以用默认值。",
                          name=name, raw=raw))
