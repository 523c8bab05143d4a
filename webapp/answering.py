"""The applicant answers a 补正 online — from 我的办件 (logged in) and from the follow-up page (the code proven):
one form, one way in, so both pages send the same answer to the same engine call.

The form is the applicant's own: a file input per material the 补正材料通知书 lists, and a note
(engine/hall/supplementing.py turns them into the step's answer). An item whose supplement step asks for
something else keeps its own form fields.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_babel import gettext as _

from engine.catalogue import entries as catalogue
from engine.desk import casework
from engine.diagrams.forms import validate_form
from engine.errors import FormValidationError, StaleTaskError
from engine.hall import follow, supplementing
from engine.org.assignment import Actor
from engine.time import clock

from .db import get_db
from .formrender import build_fields, parse_submission, raw_values
from .uploads import Chosen, attach, collect

PREFIX = "supplement"


def asked(view: dict[str, Any]) -> list[str]:
    """The materials the open 补正材料通知书 lists (`view` is `engine.hall.follow.case_view`)."""
    return list((view["supplement"] or {}).get("missing_materials") or [])


def form_for(view: dict[str, Any], values: dict[str, Any] | None = None,
             errors: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """What the page shows to answer the case's open 补正: the materials asked for, and the step's own fields
    when its form is not the supplement form (None: nothing for the applicant to answer now)."""
    step = follow.applicant_step(get_db(), view["case_no"])
    if step is None:
        return None
    own = not supplementing.is_applicants_form(step["schema"])
    fields = build_fields(step["schema"], step["ui_schema"], values or {}, errors or {}) if own else None
    return {"asked": asked(view), "fields": fields, "errors": errors or {}, "note": (values or {}).get("note", "")}


def answer(view: dict[str, Any], actor: Actor) -> None:
    """Check and send the applicant's answer: the files first (nothing written if one is refused), then
    the step completed as `actor` — the case's own applicant or the follow-up code's applicant."""
    case_no = view["case_no"]
    step = follow.applicant_step(get_db(), case_no)
    if step is None:
        raise StaleTaskError(_("此办件当前不需要您在线办理（可能已补正或已由窗口办理）。"))
    files, sent = _files(asked(view), view["item_code"])
    if supplementing.is_applicants_form(step["schema"]):
        data = supplementing.answer(sent, request.form.get("note", ""), clock.local_date())
    else:
        data, problems = parse_submission(step["schema"], request.form)
        if problems:
            raise FormValidationError(_("表单填写有误"), problems)
        validate_form(json.dumps(step["schema"], ensure_ascii=False), data, step["form"])
    attach(case_no, files, actor)
    casework.answer_as_applicant(get_db(), case_no, data, actor)


def refilled(view: dict[str, Any], exc: FormValidationError) -> dict[str, Any] | None:
    """The form again after a mistake, with what was typed and the messages."""
    step = follow.applicant_step(get_db(), view["case_no"])
    values = raw_values(step["schema"], request.form) if step else {}
    return form_for(view, {**values, "note": request.form.get("note", "")}, exc.field_errors)


def _files(materials: list[str], item_code: str) -> tuple[list[Chosen], list[str]]:
    """(the files sent, the materials they answer): a material the guide names is recorded with its file (the
    window's checklist then sees it), any other file as a plain attachment."""
    known = set(catalogue.guide_materials(get_db(), item_code))
    chosen, problems = collect(PREFIX, [m if m in known else None for m in materials])
    if problems:
        raise FormValidationError(_("有文件未通过检查"),
                                  {f"{PREFIX}-{i}": [message] for i, message in problems.items()})
    return [chosen[i] for i in sorted(chosen)], [materials[i] for i in sorted(chosen)]
