"""A case's history as a clerk reads it: steps by name, form fields by title, people by name.

The audit trail (`queries.case_history`) records what the engine saw: element ids, form keys, usernames and
`applicant:<case no>` for whoever proved the follow-up code. That is right for the chain and for replay, but
a person reads a story — "区民政局 郑伟 办理 审核：审核意见 同意". This read model puts the names beside the
recorded values, from the version the case is pinned to (its diagrams and forms) and the accounts table;
nothing is rewritten, and an id with no name stays as it was recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.diagrams.specs import ProcessSpecs
from engine.errors import NotFound
from engine.messages import said
from engine.reads import queries
from engine.runtime import applications
from engine.runtime.change import load_specs
from engine.store.db import Database
from engine.store.tables import cases, process_versions, users

FORM_PROPERTY = "formJsonSchemaFilename"
SYSTEM = "system"
FOLLOW_UP_PREFIX = "applicant:"
# Keys the platform's conventions give a meaning, set by a diagram's script rather than a form, so no form names
# them: the departments of a joint review (the shared joint-review subprocess loops over them, docs/modeling.md).
PLATFORM_KEYS = {"joint_departments": said("会审部门"), "joint_opinions": said("各部门会审意见")}
# the keys of the recorded data that name a person (a username), whatever the event
PERSON_KEYS = frozenset({"to", "approved_by", "handler", "delegator", "delegate", "reviewer", "by", "recipients"})


@dataclass(frozen=True)
class StoryNames:
    """What a case's ids, keys and usernames are called: one lookup for the whole history."""

    steps: dict[str, str] = field(default_factory=dict)  # element id → its name in the diagram
    titles: dict[str, dict[str, str]] = field(default_factory=dict)  # element id → form key → field title
    application: dict[str, str] = field(default_factory=dict)  # the application form's key → title
    people: dict[str, str] = field(default_factory=dict)  # username → display name
    applicant: str = ""  # the applicant's name on the application

    def step(self, element_id: str | None, recorded: str | None = None) -> str:
        """A step by its name: the name recorded with the event, else the diagram's, else the id. A name that is
        only the id again (SpiffWorkflow names a multi-instance step's parent by its id) is no name."""
        if recorded and recorded != element_id:
            return recorded
        return self.steps.get(element_id or "", element_id or "")

    def person(self, username: str | None) -> str:
        """A username as people say it: the display name, the applicant's name for the follow-up login."""
        if not username:
            return ""
        if username == SYSTEM:
            return "系统"
        if username.startswith(FOLLOW_UP_PREFIX):
            return self.applicant or "申请人"
        return self.people.get(username, username)

    def field_title(self, element_id: str | None, key: str, started: bool = False) -> str:
        """A form key by its title: the application form for the application, else the step's form."""
        if started:
            return self.application.get(key, key)
        return self.titles.get(element_id or "", {}).get(key) or self.application.get(key, key)

    def any_title(self, key: str) -> str:
        """A key of the case's data, which no one step owns (the replay's data changes): the application's
        title, else the first form that names it, else the platform's name for it, else the key."""
        if key in self.application:
            return self.application[key]
        return next((titles[key] for titles in self.titles.values() if key in titles), PLATFORM_KEYS.get(key, key))


def _form_titles(schema: dict[str, Any]) -> dict[str, str]:
    """key → title of a JSON Schema's properties, its `allOf`/`if-then` branches included."""
    found: dict[str, str] = {}
    parts = [schema, *(schema.get("allOf") or [])]
    for part in parts:
        for branch in (part, part.get("then") or {}, part.get("else") or {}):
            for key, prop in (branch.get("properties") or {}).items():
                if isinstance(prop, dict) and prop.get("title") and key not in found:
                    found[key] = str(prop["title"])
    return found


def _specs_names(specs: ProcessSpecs) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Element names and each user task's form titles, across the main diagram and its called ones."""
    steps: dict[str, str] = {}
    titles: dict[str, dict[str, str]] = {}
    for spec in [specs.spec, *specs.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            element = getattr(task_spec, "bpmn_id", None)
            if not element:
                continue
            if getattr(task_spec, "bpmn_name", None):
                steps.setdefault(element, task_spec.bpmn_name)
            form = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY)
            if form and form in specs.forms:
                try:
                    titles.setdefault(element, _form_titles(json.loads(specs.forms[form])))
                except ValueError:
                    continue
    return steps, titles


def _usernames(history: list[dict[str, Any]]) -> set[str]:
    names = {e["actor"] for e in history if e.get("actor")}
    for event in history:
        for key, value in (event.get("data") or {}).items():
            if key in PERSON_KEYS:
                names.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return names


def display_names(db: Database, usernames: list[str]) -> dict[str, str]:
    """username → display name of the accounts among `usernames` (at most 500 looked up at once)."""
    wanted = sorted({u for u in usernames if isinstance(u, str) and u})[:500]
    if not wanted:
        return {}
    with db.reading() as conn:
        return {r.username: r.display_name or r.username for r in conn.execute(
            select(users.c.username, users.c.display_name).where(users.c.username.in_(wanted)))}


def story_names(db: Database, case_no: str, history: list[dict[str, Any]]) -> StoryNames:
    """The names a case's history needs, read once: the pinned version's steps and forms, the people in it."""
    with db.reading() as conn:
        row = conn.execute(select(cases.c.version_id, cases.c.applicant_name, process_versions.c.content_hash)
                           .join(process_versions, process_versions.c.id == cases.c.version_id)
                           .where(cases.c.case_no == case_no)).one_or_none()
        if row is None:
            raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no=case_no))
        specs = load_specs(conn, row.content_hash, row.version_id)
    people = display_names(db, list(_usernames(history)))
    steps, titles = _specs_names(specs)
    application = _form_titles(applications.schema_of(specs))
    return StoryNames(steps, titles, application, people, row.applicant_name or "")


def case_story(db: Database, case_no: str, history: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The case's history (as `queries.case_history` gives it), each event with `step` (the step's name),
    `who` (the person's name) and `names` (to name its fields and the people in its data)."""
    history = queries.case_history(db, case_no) if history is None else history
    names = story_names(db, case_no, history)
    return [{**event, "step": names.step(event["element_id"], (event.get("data") or {}).get("name")),
             "who": names.person(event["actor"]), "names": names} for event in history]
