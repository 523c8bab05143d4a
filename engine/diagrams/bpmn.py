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


def element_table(tree: etree._ElementTree) -> dict[str, dict[str, str]]:
    """Every element of a diagram by id — its name, its kind (BPMN tag), what it is attached to — so a
    viewer can name what a case's history only knows by id (the diagram's drawing, DI, is left out)."""
    elements: dict[str, dict[str, str]] = {}
    for node in tree.iter():
        if not isinstance(node.tag, str) or not node.get("id") or "/BPMN/" not in node.tag or "/DI" in node.tag:
            continue
        elements[node.get("id")] = {"name": (node.get("name") or "").strip(), "kind": node.tag.rsplit("}", 1)[-1],
                                    "attached_to": node.get("attachedToRef") or ""}
    return elements
