"""The applicant's own answer to a 补正材料通知书: per material the notice lists, a file (or word that it comes
to the window), and a note — not the window's form for registering what it received.

The diagram's supplement step (`answeredBy=applicant`, form `catalogue-supplement.json`: 补正的材料, 补正日期,
备注) is still completed by `casework.answer_as_applicant` as before, so it is an ordinary `task_completed`
and replays; this module only turns what the applicant sent into that form's answer. A step whose form asks
something else (an item's own applicant form) is answered with its own fields, as the follow-up page did.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.errors import FormValidationError
from engine.messages import said

RECEIVED, RECEIVED_ON, NOTE = "supplement_received", "supplement_received_on", "supplement_note"
STANDARD_FIELDS = frozenset({RECEIVED, RECEIVED_ON, NOTE})
NOTE_MAX = 500


def is_applicants_form(schema: dict[str, Any]) -> bool:
    """True when the step's form is the supplement form whose answer this module writes (every field known)."""
    fields = set((schema.get("properties") or {}).keys())
    return RECEIVED in fields and fields <= STANDARD_FIELDS


def answer(sent: list[str], note: str, today: date) -> dict[str, Any]:
    """The supplement step's answer from the names of the materials sent (files chosen) and the note.

    Nothing sent and nothing said is refused: the window would get an empty 补正. A note alone (say, the
    originals come by post) is an answer; the window decides whether it is complete.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise FormValidationError(said("说明过长"),
                                  {"note": [said("说明请不要超过 %(limit)s 个字", limit=NOTE_MAX)]})
    if not sent and len(note) < 2:
        raise FormValidationError(said("请上传补正材料，或在说明中写明您将如何补正（例如送到窗口）。"),
                                  {"note": [said("未上传任何材料时，请写明您将如何补正")]})
    received = "、".join(sent) if sent else f"申请人说明：{note}"
    data: dict[str, Any] = {RECEIVED: received[:1000], RECEIVED_ON: today.isoformat()}
    if note:
        data[NOTE] = note
    return data
