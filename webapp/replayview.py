"""The replay (重放) as the auditor reads it: each re-executed step of `engine.audit.replay` titled in words,
its events labelled (fields by title, people by name), its data changes shown, and the diagram's marks.

Kept apart from the audit blueprint's routes (webapp/audit.py), which only fetch and render.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.audit.replay import ReplayReport, Step
from engine.messages import speak
from engine.reads import story

from .formatting import (
    EVENT_NAMES,
    event_name,
    event_summary,
    procedure_name,
    status_name,
    warning_kind_name,
    warning_level_name,
)

INPUT_NAMES = {**{kind: EVENT_NAMES[kind] for kind in (
    "case_started", "task_completed", "task_claimed", "task_released", "deadline_extended", "case_migrated",
    "special_procedure_started", "special_procedure_ended")}, "tick": _l("计时器（系统）")}
NONE_SHOWN = _l("（无）")  # a key without a value before or after the change
CHOICE_FIELDS = ("decision", "acceptance", "approval", "opinion", "result")  # the answer a title quotes
_TASK_TAGS = ("task", "userTask", "scriptTask", "serviceTask", "manualTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess")


def replay_steps(report: ReplayReport, elements: dict[str, dict[str, str]],
                 names: story.StoryNames | None = None) -> list[dict[str, Any]]:
    """Each step of the report for people: its number (1-based), a Chinese title, the events labelled (fields
    by title and people by name, with `names`), the data diff shown, and `done_before` — what earlier steps
    completed that is neither open again nor completed again in this step (the diagram's lighter "done" marker)."""
    elements = _named_from_events(report, elements)
    out: list[dict[str, Any]] = []
    earlier: set[str] = set()
    before: set[str] = set()  # open after the previous step
    for step in report.steps:
        view = step.to_dict()
        active, completed = set(step.active_after), set(step.completed)
        done_before = sorted(earlier - active - completed)
        view.update(number=step.index + 1, title=_step_title(step, elements, before), done_before=done_before,
                    completed=list(dict.fromkeys(step.completed)),
                    events=[_event_view(e, elements, names) for e in step.recorded],
                    produced_events=[_event_view(e, elements, names) for e in step.produced],
                    actor_name=names.person(step.actor) if names and step.actor not in (None, "system") else step.actor,
                    diff=[(key, speak(names.any_title(key)) if names else key, _shown(old), _shown(new))
                          for key, (old, new) in sorted(step.changed.items())],
                    names={i: _element_name(i, elements)
                           for i in {*step.active_after, *completed, *done_before, step.element_id} if i})
        earlier |= completed
        before = active
        out.append(view)
    return out


def _named_from_events(report: ReplayReport, elements: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Elements of called processes (shared diagrams) are not on the case's diagram: their names come
    from the recorded events that carry one (a completed task or step records its element's name)."""
    named = dict(elements)
    for step in report.steps:
        for event in step.recorded:
            name = (event.get("data") or {}).get("name") if isinstance(event.get("data"), dict) else None
            element_id = event.get("element_id")
            if element_id and isinstance(name, str) and name and not named.get(element_id, {}).get("name"):
                named[element_id] = {"name": name, "kind": "", "attached_to": ""}
    return named


def _element_name(element_id: str | None, elements: dict[str, dict[str, str]], event: dict | None = None) -> str:
    if not element_id:
        return ""
    name = elements.get(element_id, {}).get("name") or ((event or {}).get("data") or {}).get("name") or ""
    return name if name and name != element_id else element_id


def _event_view(event: dict[str, Any], elements: dict[str, dict[str, str]],
                names: story.StoryNames | None = None) -> dict[str, Any]:
    if "error" in event:  # re-execution failed at this step
        return {"label": _("重新执行失败"), "type": "error", "element": "", "actor": "",
                "pairs": [(_("原因"), event["error"])]}
    pairs = [(key, value) for key, value in event_summary(event, names) if value != ""]
    actor = event.get("actor")
    return {"label": event_name(event["type"]), "type": event["type"],
            "element": _element_name(event.get("element_id"), elements, event),
            "actor": names.person(actor) if names and actor and actor != "system" else actor,
            "pairs": pairs}


def _shown(value: Any) -> str:
    if value is None:
        return str(NONE_SHOWN)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _step_title(step: Step, elements: dict[str, dict[str, str]], before: set[str]) -> str:
    """What happened, in Chinese: 提交申请, 办理「受理」：受理, 签收「受理」, 延期 2 个工作日,
    计时触发「…」 → 催办…、进入「…」 (what a timer set off: scripts run, tasks opened — an escalation)."""
    first = step.recorded[0] if step.recorded else {}
    name = _element_name(step.element_id, elements, first)
    data = first.get("data") or {}
    if step.input == "case_started":
        return str(EVENT_NAMES["case_started"])
    if step.input == "task_completed":
        form = data.get("data") or {}
        choice = next((form[k] for k in CHOICE_FIELDS if isinstance(form.get(k), str) and form[k]), None)
        if choice:
            return _("办理「%(step)s」：%(choice)s", step=name, choice=choice)
        return _("办理「%(step)s」", step=name)
    if step.input == "task_claimed":
        return _("签收「%(step)s」", step=name)
    if step.input == "task_released":
        return _("退回组内「%(step)s」", step=name)
    if step.input == "deadline_extended":
        return _("延期 %(n)s 个工作日", n=data.get("days", "?"))
    if step.input == "special_procedure_started":
        return _("特别程序「%(procedure)s」，暂停计时（预计 %(n)s 个工作日）",
                 procedure=procedure_name(data.get("procedure", "?")), n=data.get("days", "?"))
    if step.input == "special_procedure_ended":
        return _("特别程序结束，恢复计时")
    opened = [_element_name(i, elements) for i in step.active_after
              if i not in before and elements.get(i, {}).get("kind") in _TASK_TAGS]
    return _tick_title(step.recorded, elements, opened)


def _tick_title(events: list[dict[str, Any]], elements: dict[str, dict[str, str]], opened: list[str]) -> str:
    """A change the platform made by itself: timers fired (and what they set off), warnings, the clock."""
    parts: list[str] = []
    timers = Counter(_element_name(e["element_id"], elements, e) for e in events if e["type"] == "timer_fired")
    if timers:
        fired = _("计时触发") + "".join(_("「%(name)s」", name=n) + (f"×{c}" if c > 1 else "")
                                        for n, c in timers.items())
        followed = list(dict.fromkeys(_element_name(e["element_id"], elements, e) for e in events
                                      if e["type"] == "step_completed"
                                      and elements.get(e["element_id"] or "", {}).get("kind") in _TASK_TAGS))
        followed += [_("进入「%(step)s」", step=name) for name in opened]
        parts.append(fired + (" → " + _("、").join(followed) if followed else ""))
    warnings = [e["data"] or {} for e in events if e["type"] == "warning_raised"]
    if warnings:
        parts.append(_("时限预警（%(warnings)s）", warnings=_("、").join(
            f"{warning_level_name(w.get('level'))}·{warning_kind_name(w.get('kind'))}" for w in warnings)))
    for kind in ("clock_paused", "clock_resumed", "case_closed"):
        if any(e["type"] == kind for e in events):
            parts.append(event_name(kind))
    for e in events:
        if e["type"] == "status_changed":
            parts.append(_("状态变更：%(old)s → %(new)s", old=status_name((e["data"] or {}).get("old")),
                           new=status_name((e["data"] or {}).get("new"))))
    if not parts:
        kinds = dict.fromkeys(event_name(e["type"]) for e in events)
        parts.append(_("系统处理：%(events)s", events=_("、").join(kinds)))
    return _("；").join(parts)
