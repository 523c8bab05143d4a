"""Reading our conventions off a BPMN document (lxml tree), shared by packaging, lint and deployment.

The conventions are spiff-arena's: `spiffworkflow:property` elements named
`formJsonSchemaFilename` / `formUiSchemaFilename` on user tasks, `calledElement` on call activities.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

FORM_SCHEMA_PROPERTY = "formJsonSchemaFilename"
FORM_UI_PROPERTY = "formUiSchemaFilename"


def process_ids(tree: etree._ElementTree, executable_only: bool = False) -> list[str]:
    processes = tree.getroot().iterfind(".//bpmn:process", NS)
    return [p.get("id") for p in processes
            if not executable_only or p.get("isExecutable", "false").lower() == "true"]


def called_elements(tree: etree._ElementTree) -> list[str]:
    return [c.get("calledElement") for c in tree.getroot().iterfind(".//bpmn:callActivity", NS)
            if c.get("calledElement")]


def spiff_properties(element: etree._Element) -> dict[str, str]:
    found = element.iterfind("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
    return {p.get("name", ""): p.get("value", "") for p in found}


def user_tasks(tree: etree._ElementTree) -> Iterator[etree._Element]:
    yield from tree.getroot().iterfind(".//bpmn:userTask", NS)


def form_names(tree: etree._ElementTree) -> list[str]:
    names = []
    for task in user_tasks(tree):
        props = spiff_properties(task)
        names += [props[key] for key in (FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY) if props.get(key)]
    return names


def lane_of(tree: etree._ElementTree) -> dict[str, str]:
    """Element id → the name of the lane that holds it."""
    lanes: dict[str, str] = {}
    for lane in tree.getroot().iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("./bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id")
    return lanes
