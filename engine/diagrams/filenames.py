"""The one rule for a file name that comes from a package, a draft or an upload: a plain name, found
only inside its own folder.

Why: a form name in a diagram or in item.json is typed by an analyst, not by the operator who owns the
server. Joined to a folder as a path, `../instance/secret_key` showed the session-signing key in the
studio (enough to forge an administrator's session cookie), a deploy stored it in the version, and
lint's "does not exist" told whether any file was there. So a name is refused before any file is
touched unless it is one plain name; and a plain name is only read if, symlinks followed, it is still
inside its folder. An uploaded file's name is kept for display and for the download's header, so it
is reduced to such a name instead.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from engine.messages import said

MAX_NAME_BYTES = 255  # what a file system accepts for one name; a longer one could never be a file
# control (NUL, CR, LF, ESC, C1 …), format (bidi overrides that disguise an extension, BOM …),
# surrogates, line and paragraph separators
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_control(char: str) -> bool:
    return unicodedata.category(char) in _CONTROL_CATEGORIES


def name_problem(name: object) -> str | None:
    """Why `name` is not a plain file name, quoting it, in words an analyst can act on; None if it is one."""
    quoted = repr(name)[1:-1] if isinstance(name, str) else repr(name)  # control characters escaped
    if not isinstance(name, str) or not name.strip():
        return said("文件名“%(name)s”不是一段非空的文字", name=quoted)
    if name in (".", ".."):
        return said("文件名“%(name)s”指向文件夹，不是文件", name=quoted)
    if "/" in name or "\\" in name:
        return said("文件名“%(name)s”含有目录或路径分隔符（/ 或 \\）", name=quoted)
    if any(is_control(char) for char in name):
        return said("文件名“%(name)s”含有控制字符（NUL、换行、制表符、方向控制符等）", name=quoted)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return said("文件名“%(name)s”超过 %(limit)s 字节", name=quoted, limit=MAX_NAME_BYTES)
    return None


def file_in(folder: Path, name: object) -> Path | None:
    """The regular file `name` in `folder`, or None: for a name that is not plain, a missing file, or a
    file that a symlink places outside `folder`."""
    if name_problem(name) is not None:
        return None
    try:
        root = folder.resolve()
        path = (root / str(name)).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None
    except (OSError, RuntimeError):  # a symlink loop, an unreadable folder
        return None


def plain_name(name: str) -> str:
    """What a client's file name becomes: its last path part, without control characters or leading dots."""
    base = re.split(r"[\\/]", name or "")[-1]
    return "".join(char for char in base if not is_control(char)).strip().lstrip(".")
