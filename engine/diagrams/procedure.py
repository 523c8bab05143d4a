"""The procedure (办理流程) of an item as the public reads it, drawn from the item's own diagram (S-10).

The hall shows the steps a case really takes, in order, with who takes them, rather than a text that
can drift from the diagram: the user tasks reached from the start event, breadth first, with each
call activity's steps in its place. A 【role】 lane is said the way an applicant understands it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from lxml import etree

from engine.diagrams.bpmn import NS, lane_of
from engine.diagrams.safexml import parse_xml
from engine.messages import said, said_in
from engine.org.orgtree import role_of, split_group
from engine.store.db import Database
from engine.store.tables import items, latest_versions, process_versions

PUBLIC_ROLES = {  # said: the hall's guide names them in the reader's language
    "收件窗口": said("递件窗口（村、镇代办点或部门窗口）"), "受理窗口": said("受理窗口"),
    "镇中心": said_in("level", "镇便民服务中心"),  # one centre (the watch's scope, said plain, is all of them)
    "区窗口": said("区行政服务中心部门窗口"), "办理窗口": said("办理窗口"), "承办": said("承办人员"),
    "审核": said("审核人员"), "批准": said("批准（分管领导）"), "会审部门": said("各会审部门（并联）"),
}


@dataclass(frozen=True)
class Step:
    name: str
    who: str


def item_steps(db: Database, item_code: str) -> list[Step]:
    """The steps of the item's latest version (empty when it is not deployed)."""
    with db.reading() as conn:
        row = conn.execute(latest_versions(process_versions.c.files, process_versions.c.process_id)
                           .where(items.c.code == item_code)).one_or_none()
    return [] if row is None else steps(row.files, row.process_id)


def steps(files: dict[str, str], process_id: str) -> list[Step]:
    processes: dict[str, tuple[etree._Element, dict[str, str]]] = {}
    for name, text in files.items():
        if name.endswith(".bpmn"):
            tree = parse_xml(text, name)
            lanes = lane_of(tree)
            for process in tree.getroot().iterfind(".//bpmn:process", NS):
                processes[process.get("id")] = (process, lanes)
    return _walk(processes, process_id, set())


def _walk(processes: dict, process_id: str, calling: set[str]) -> list[Step]:
    if process_id not in processes or process_id in calling:
        return []
    process, lanes = processes[process_id]
    by_id = {e.get("id"): e for e in process if e.get("id")}
    outgoing: dict[str, list[str]] = {}
    for flow in process.iterfind("./bpmn:sequenceFlow", NS):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    queue = deque(e.get("id") for e in process.iterfind("./bpmn:startEvent", NS))
    seen, found = set(queue), []
    while queue:
        element = by_id.get(queue.popleft())
        if element is None:
            continue
        kind = etree.QName(element).localname
        if kind == "userTask":
            found.append(Step(element.get("name") or element.get("id"), _who(lanes.get(element.get("id")))))
        elif kind == "callActivity":
            found += _walk(processes, element.get("calledElement"), calling | {process_id})
        for target in outgoing.get(element.get("id"), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    unique: list[Step] = []
    for step in found:  # a shared step reached twice (e.g. the relay before and after acceptance) is said once
        if step not in unique:
            unique.append(step)
    return unique


def _who(lane: str | None) -> str:
    role = role_of(lane)
    if role is not None:
        return PUBLIC_ROLES.get(role, role)
    if not lane:
        return said("窗口工作人员")
    unit, name = split_group(lane)  # a group lane is said by its unit's own name ("区财政局")
    return unit.rsplit("/", 1)[-1] if unit else name
