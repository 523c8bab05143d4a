"""Files an applicant sends with a form (materials with an application, a supplement answered online).

Each input `<prefix>-<n>` belongs to the n-th material of a list the page showed; every file is checked
(type by content, size) before anything is written, so one bad file leaves no case or step half-made.

A form sent back with a mistake keeps the files that passed their check (issue 16, item 2): they go to the
file store (named by their hash, as attachments are) and the session remembers which material each was, so
the page shows them as attached and the applicant picks a file again only to replace one (or ticks 移除).
"""

from __future__ import annotations

from typing import Any

from flask import request, session

from engine.desk import attachments
from engine.errors import OnewindowError
from engine.org.assignment import Actor
from engine.store import files as store

from .db import get_db

Chosen = tuple[str | None, str, bytes]  # (material, file name, bytes)
Kept = dict[str, dict[str, str]]  # input index (as text) → {"filename", "sha256"}
_KEPT = "kept_uploads:"


def chosen_files(prefix: str, materials: list[str | None]) -> list[Chosen]:
    """The files given for `materials` (input `<prefix>-<n>` for the n-th), each checked."""
    chosen, problems = collect(prefix, materials)
    if problems:
        raise attachments.AttachmentRefused(next(iter(problems.values())))
    return [c for _, c in sorted(chosen.items())]


def collect(prefix: str, materials: list[str | None], kept: Kept | None = None
            ) -> tuple[dict[int, Chosen], dict[int, str]]:
    """(index → the checked file, index → why a file was refused) for the inputs `<prefix>-<n>`.

    A new file replaces a kept one; a kept one stays unless `<prefix>-<n>-remove` is ticked."""
    kept = kept or {}
    chosen: dict[int, Chosen] = {}
    problems: dict[int, str] = {}
    for index, material in enumerate(materials):
        upload = request.files.get(f"{prefix}-{index}")
        if upload is not None and upload.filename:
            content = upload.read()
            try:
                attachments.check_upload(upload.filename, content)
            except OnewindowError as exc:
                problems[index] = exc.message
                continue
            chosen[index] = (material, upload.filename, content)
        elif (earlier := kept.get(str(index))) and not request.form.get(f"{prefix}-{index}-remove"):
            chosen[index] = (material, earlier["filename"], store.fetch(get_db(), earlier["sha256"]))
    return chosen, problems


def keep(key: str, chosen: dict[int, Chosen]) -> Kept:
    """Put the checked files in the store and remember them for the next try of the form `key`."""
    kept = {str(index): {"filename": attachments.clean_filename(name), "sha256": store.store(get_db(), content)}
            for index, (_, name, content) in chosen.items()}
    session[_KEPT + key] = kept
    return kept


def kept_files(key: str) -> Kept:
    """The files remembered for the form `key` (nothing for a form never sent back)."""
    found = session.get(_KEPT + key)
    return found if isinstance(found, dict) else {}


def forget(key: str) -> None:
    session.pop(_KEPT + key, None)


def attach(case_no: str, files: list[Chosen], actor: Actor) -> None:
    for material, filename, content in files:
        attachments.add_attachment(get_db(), case_no, filename, content, actor, material)


def describe(kept: Kept) -> dict[int, Any]:
    """index → the kept file's name, for the page."""
    return {int(index): entry["filename"] for index, entry in kept.items() if str(index).isdigit()}
