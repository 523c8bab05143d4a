"""Files an applicant sends with a form (materials with an application, a supplement answered online).

Each input `<prefix>-<n>` belongs to the n-th material of a list the page showed; every file is checked
(type by content, size) before anything is written, so one bad file leaves no case or step half-made.
"""

from __future__ import annotations

from flask import request

from engine.desk import attachments
from engine.org.assignment import Actor

from .db import get_db

Chosen = tuple[str | None, str, bytes]  # (material, file name, bytes)


def chosen_files(prefix: str, materials: list[str | None]) -> list[Chosen]:
    """The files given for `materials` (input `<prefix>-<n>` for the n-th), each checked."""
    chosen = []
    for index, material in enumerate(materials):
        upload = request.files.get(f"{prefix}-{index}")
        if upload is None or not upload.filename:
            continue
        content = upload.read()
        attachments.check_upload(upload.filename, content)
        chosen.append((material, upload.filename, content))
    return chosen


def attach(case_no: str, files: list[Chosen], actor: Actor) -> None:
    for material, filename, content in files:
        attachments.add_attachment(get_db(), case_no, filename, content, actor, material)
