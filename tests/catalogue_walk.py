"""Drive a catalogue item through its diagram: the paths come from the diagram and its forms, not from a
list written per item.

A walk runs a case to its end, answering each open task with data made from the task's own JSON
Schema: required fields get valid values, and a `decision` gets the answer the walk's plan names for
that element (else its first, positive answer); a case waiting on a timer with nothing to do (批前公示)
is moved on by the scheduler's tick at the timer's due time. `paths_of` finds an item's paths by walking its
default path first, noting every decision it met, and then planning one walk per other answer of
each (补正 is followed by the positive answer, so the supplement loop comes back). Each walk says
what the case ended as, so a test compares that with what the answers chosen imply.

Items made from one of the catalogue's shapes share their diagram but for names and layout: `diagram_classes`
groups items whose walks cannot differ (same elements, flows, conditions, lanes, forms and routing fields),
so a test walks one item of each class and checks the others cheaply (`resolved_groups`: where each step
of those walks would go for their own department and fronts).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path as FolderPath
from typing import Any

from jsonschema import Draft202012Validator

from engine.catalogue import entries as catalogue
from engine.desk.casework import complete_task, start_case
from engine.diagrams.bpmn import BPMN_NS, lane_of
from engine.diagrams.package import ProcessPackage, load_package
from engine.diagrams.safexml import parse_xml
from engine.org import orgtree
from engine.org.assignment import Actor
from engine.reads import queries
from engine.reads.queries import TaskRow
from engine.runtime.change import TERMINAL
from engine.runtime.scheduler import tick
from engine.store.db import Database
from engine.time import clock

SUPPLEMENT = "补正"
REFUSALS = ("不予", "不同意")
MAX_STEPS = 60
PATTERNED = ("42070419800101123X", "13800000000")  # what a patterned field (ID number, phone) is filled with
DESCRIPTIVE = ("code", "name", "department", "process_id", "life_events", "guide")  # item.json: no walk reads them


@dataclass
class Path:
    """One way through an item: where the application comes in, and the answers given at decisions."""

    name: str
    front: str | None
    answers: dict[str, list[str]] = field(default_factory=dict)  # element id → answers, in order of meeting

    def expected_status(self) -> str:
        chosen = [a for answers in self.answers.values() for a in answers]
        if "不予受理" in chosen:
            return "not_accepted"
        if any(a.startswith(REFUSALS) for a in chosen):
            return "refused"
        return "approved"


@dataclass
class Walk:
    case_no: str
    status: str
    steps: list[tuple[str, str | None, str | None]]  # (element id, candidate group, answer)
    decisions: dict[str, list[str]]  # element id → the answers its form offers


def sample(schema: dict[str, Any], decision: str | None) -> dict[str, Any]:
    """A valid submission of `schema` with `decision` (when the form has one); conditional requirements
    (if/then) are met by filling every property the form defines."""
    data: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        data[name] = _value(name, prop)
    if decision is not None:
        data["decision"] = decision
    errors = list(Draft202012Validator(schema).iter_errors(data))
    assert not errors, f"sample data for {schema.get('title')} invalid: {[e.message for e in errors]}"
    return data


def _value(name: str, prop: dict[str, Any]) -> Any:
    if "default" in prop:
        return prop["default"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return max(prop.get("minimum", 1), 1)
    if kind == "array":
        return [f"{prop.get('title', name)}一"]
    if "pattern" in prop:  # the first sample the pattern accepts (JSON Schema patterns search, unanchored)
        return next((v for v in PATTERNED if re.search(prop["pattern"], v)), None)
    if prop.get("format") == "date":
        return "2026-12-01"
    text = f"{prop.get('title', name)}：经核查，符合规定。"
    return text[: prop.get("maxLength", 200)]


def application(db: Database, code: str) -> dict[str, Any]:
    """An application the item's own form accepts (every field it defines, sampled like a task's form), for
    李四: items whose gateways read application data walk too."""
    own = catalogue.application_form(db, code)
    return {**(sample(own[0], None) if own else {}), "applicant_name": "李四", "id_number": "42070419800101123X"}


def walk(db: Database, code: str, actor: Actor, path: Path, mandate: dict | None = None,
         handler: Callable[[TaskRow], Actor] | None = None) -> Walk:
    """Run one case of `code` along `path` to its end (or until nothing is left to do).

    `actor` applies and, unless `handler` names someone else for a task, completes every task: a walk of
    the demo's people applies as the applicant and gives each task to a member of its group."""
    started = start_case(db, code, application(db, code), actor, unit=path.front, mandate=mandate)
    steps: list[tuple[str, str | None, str | None]] = []
    decisions: dict[str, list[str]] = {}
    used: dict[str, int] = {}
    moment: datetime | None = None  # the walk's time once a waiting timer moved it on (else the real clock)
    for _ in range(MAX_STEPS):
        tasks = queries.open_tasks(db, case_no=started.case_no, limit=50)
        if not tasks:
            due = waiting_until(db, started.case_no)
            if due is None:
                break
            moment = due + timedelta(minutes=1)
            tick(db, moment)  # as the scheduler would, once the wait is over
            continue
        task = tasks[-1]  # the oldest first, so parallel reviews are answered in order of creation
        detail = queries.task_detail(db, task.task_id)
        schema = json.loads(detail["schema"]) if isinstance(detail["schema"], str) else detail["schema"]
        offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
        answer = None
        if offered:
            decisions[task.element_id] = list(offered)
            planned = path.answers.get(task.element_id, [])
            n = used.get(task.element_id, 0)
            answer = planned[n] if n < len(planned) else offered[0]
            used[task.element_id] = n + 1
        steps.append((task.element_id, task.candidate_group, answer))
        with clock.frozen_at(moment) if moment else nullcontext():
            complete_task(db, task.task_id, sample(schema, answer), handler(task) if handler else actor)
    status = queries.case_detail(db, started.case_no)["status"]
    return Walk(started.case_no, status, steps, decisions)


def waiting_until(db: Database, case_no: str) -> datetime | None:
    """When an unfinished case with no task open waits on a timer (批前公示): the earliest one's due time."""
    detail = queries.case_detail(db, case_no)
    if detail["status"] in TERMINAL:
        return None
    return min((datetime.fromisoformat(t["due_at"]) for t in detail["timers"]), default=None)


def paths_of(db: Database, code: str, actor: Actor, fronts: dict[str, str | None]) -> tuple[Walk, list[Path]]:
    """The item's paths, found from its diagram: the default path from the first front (walked here, and
    returned), then one per other answer met on it, and the default path from every other front."""
    labels = iter(fronts)
    first_label = next(labels)
    first_front = fronts[first_label]
    explored = walk(db, code, actor, Path(f"{first_label}：全部通过", first_front))
    paths = [Path(f"{label}：全部通过", fronts[label]) for label in labels]
    for element, offered in explored.decisions.items():
        for answer in offered[1:]:
            answers = [answer, offered[0]] if answer == SUPPLEMENT else [answer]
            paths.append(Path(f"{element}={answer}", first_front, {element: answers}))
    return explored, paths


def fronts_for(meta: dict[str, Any], units: list[orgtree.Unit]) -> dict[str, str | None]:
    """Where an application for this item can come in: its own window, a town, and a village (agency)."""
    department = orgtree.department_unit(meta["department"])
    town = next(u.code for u in units if u.kind == "town")
    village = next(u.code for u in units if u.kind == "village")
    accept = meta.get("accept_levels") or [meta["level"]]
    fronts: dict[str, str | None] = {}
    if meta["level"] == "district":
        fronts["区级窗口"] = department
    if "town" in accept:
        fronts["镇受理"] = town
    fronts["村受理" if "village" in accept else "村代办"] = village
    return fronts


def diagram_class(package: ProcessPackage) -> str:
    """A digest of everything a walk of the item depends on: item.json but for its descriptive fields, every
    file of the package (forms, tables, shared call activities) as it is, and the item's own diagrams without
    their drawing, documentation and names (but lanes' names: they route), its process id made neutral."""
    process_id = str(package.metadata.get("process_id", ""))
    main = package.main_bpmn_files()
    shape = {
        "metadata": {key: value for key, value in package.metadata.items() if key not in DESCRIPTIVE},
        "diagrams": sorted(_structure(text, process_id) for text in main.values()),
        "files": {name: text for name, text in package.files.items() if name not in main},
    }
    canonical = json.dumps(shape, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _structure(text: str, process_id: str) -> list[list[Any]]:
    neutral = (lambda value: value.replace(process_id, "P")) if process_id else (lambda value: value)
    found: list[list[Any]] = []
    for node in parse_xml(text, "diagram").iter():
        if not isinstance(node.tag, str) or "/DI" in node.tag or "/DD/" in node.tag \
                or node.tag == f"{{{BPMN_NS}}}documentation":
            continue
        kept = {key: neutral(value) for key, value in node.attrib.items()
                if key != "name" or node.tag == f"{{{BPMN_NS}}}lane"}
        found.append([node.tag, sorted(kept.items()), neutral((node.text or "").strip())])
    return found


def diagram_classes(folders: Iterable[FolderPath]) -> dict[str, list[FolderPath]]:
    """Item folders by `diagram_class`, in the order given."""
    classes: dict[str, list[FolderPath]] = {}
    for folder in folders:
        classes.setdefault(diagram_class(load_package(folder)), []).append(folder)
    return classes


def element_lanes(package: ProcessPackage) -> dict[str, str]:
    """Element id → its lane's name, in the item's diagrams and the shared call activities it carries."""
    lanes: dict[str, str] = {}
    for name, text in package.bpmn_files().items():
        lanes.update(lane_of(parse_xml(text, name)))
    return lanes


def resolved_groups(done: Walk, lanes: dict[str, str], routing: orgtree.Routing) -> list[str | None]:
    """Where each step of `done` goes when the case routes by `routing` (another item of the class, at its own
    front): a 【role】 lane resolved for it; a literal lane, and a joint review's lane that its data names
    (joint_departments are part of the class), go where they went in `done`."""
    groups: list[str | None] = []
    for element, group, _ in done.steps:
        role = orgtree.role_of(lanes.get(element))
        data_named = role in orgtree.ROLES and orgtree.ROLES[role][0] == "department"
        groups.append(group if role is None or data_named else routing.group(lanes[element]))
    return groups
