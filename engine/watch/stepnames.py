"""Steps by name, not by id: what the supervisors' and auditors' pages call an element of a case's diagram.

Warnings, incidents and audit events know a step only by its BPMN id (`review`, `window_handle`); a
person reads its name (审查, 窗口办理). The names come from the case's own version — every diagram file it
was deployed with, the shared (called) ones included, since a joint review's steps live there. A
version never changes once deployed (`catalogue.deployment`), so its table is parsed once per content
hash and kept; a list of 500 warnings over three items parses three versions, not 500 diagrams.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from engine.diagrams.bpmn import element_table
from engine.diagrams.safexml import parse_xml
from engine.errors import OnewindowError
from engine.store.tables import process_versions

UNNAMED = "未命名环节"


def version_names(conn: Connection, version_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Element id → name for each of `version_ids` (a version whose diagrams cannot be read names nothing)."""
    wanted = sorted(set(version_ids))
    if not wanted:
        return {}
    hashes = dict(conn.execute(select(process_versions.c.id, process_versions.c.content_hash)
                               .where(process_versions.c.id.in_(wanted))).all())
    out: dict[int, dict[str, str]] = {}
    for version_id, content_hash in hashes.items():
        if content_hash not in _parsed:
            files = conn.execute(select(process_versions.c.files)
                                 .where(process_versions.c.id == version_id)).scalar_one()
            _remember(content_hash, files or {})
        out[version_id] = _parsed[content_hash]
    return out


_parsed: dict[str, dict[str, str]] = {}


def _remember(content_hash: str, files: dict[str, str]) -> None:
    if len(_parsed) > 256:  # a bound, not a policy: versions are few; a long-lived worker never grows without end
        _parsed.clear()
    _parsed[content_hash] = _names_in(files)


def _names_in(files: dict[str, str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for _, text in sorted((n, t) for n, t in files.items() if n.endswith(".bpmn")):
        try:
            table = element_table(parse_xml(text, "diagram"))
        except OnewindowError:
            continue
        for element_id, element in table.items():
            if element["name"] and element_id not in names:
                names[element_id] = element["name"]
    return names


def step_name(names: dict[str, str], element_id: str | None) -> str:
    """The step as a person reads it: its name, else a neutral word — never the bare id."""
    if not element_id:
        return ""
    return names.get(element_id) or UNNAMED
