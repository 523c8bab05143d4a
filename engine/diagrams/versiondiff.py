"""What changed between two versions of an item, element by element, in the analyst's words.

Two versions are compared by BPMN element id over their stored files (`process_versions.files`):
an id only in the new version is *added*, only in the old one *removed*, in both with a different
reading *changed* — and then the diff says what: the name, the lane, the form, a timer, a condition,
the marks of our conventions (clock, stepLimitDays, notify, caseStatus …), a script, the wiring of a
flow. Form files and the guide's time limits and materials are compared too, and decision tables rule by
rule (`engine.diagrams.dmndiff`). This is the
human-readable diff of the studio; whether a running case may move to the new version is a question
for `engine.catalogue.case_migration`, which asks SpiffWorkflow's own spec diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.diagrams.bpmn import BPMN_NS, FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY, NS, lane_of, spiff_properties
from engine.diagrams.dmndiff import RuleChange, rule_changes
from engine.diagrams.package import SHARED_PREFIX
from engine.diagrams.safexml import parse_xml
from engine.messages import COMMA, ENUMERATION_COMMA, listed, said

# Containers and bookkeeping that are not elements an analyst draws (their contents are compared).
_SKIPPED_TAGS = frozenset({"definitions", "laneSet", "collaboration", "extensionElements", "documentation",
                           "conditionExpression", "incoming", "outgoing", "flowNodeRef", "script",
                           "timeDuration", "timeDate", "timeCycle"})
_EVENT_DEFINITIONS = ("timerEventDefinition", "messageEventDefinition", "errorEventDefinition",
                      "signalEventDefinition", "escalationEventDefinition", "terminateEventDefinition",
                      "conditionalEventDefinition", "cancelEventDefinition", "compensateEventDefinition")
_FORM_PROPERTIES = (FORM_SCHEMA_PROPERTY, FORM_UI_PROPERTY)

# What an aspect is called on the studio's page.
ASPECT_NAMES = {
    "type": said("类型"), "name": said("名称"), "lane": said("泳道"), "form": said("表单"),
    "ui_form": said("界面表单"), "timer": said("定时器"), "condition": said("条件"), "default": said("默认路径"),
    "flow": said("连线"), "event": said("事件类型"), "attached_to": said("附着于"), "interrupting": said("中断"),
    "called": said("调用流程"), "script": said("脚本"), "pre_script": said("前置脚本"),
    "post_script": said("后置脚本"), "property:clock": said("计时标记（clock）"),
    "property:stepLimitDays": said("环节时限（stepLimitDays）"),
    "property:notify": said("通知（notify）"), "property:caseStatus": said("办件状态（caseStatus）"),
}


def aspect_name(aspect: str) -> str:
    if aspect in ASPECT_NAMES:
        return ASPECT_NAMES[aspect]
    return said("属性 %(name)s", name=aspect.split(":", 1)[1]) if aspect.startswith("property:") else aspect


@dataclass(frozen=True)
class AspectChange:
    """One thing about an element that differs: its old and new reading (None: absent)."""

    aspect: str
    old: str | None
    new: str | None

    @property
    def label(self) -> str:
        return aspect_name(self.aspect)

    def to_dict(self) -> dict[str, Any]:
        return {"aspect": self.aspect, "label": self.label, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ElementDiff:
    """An element that was added, removed or changed; `file` is the BPMN file it is drawn in."""

    element_id: str
    kind: str  # the BPMN tag: userTask, sequenceFlow, lane …
    name: str
    status: str  # added, removed, changed
    file: str
    changes: tuple[AspectChange, ...] = ()

    @property
    def shared(self) -> bool:
        return self.file.startswith(SHARED_PREFIX)

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "kind": self.kind, "name": self.name, "status": self.status,
                "file": self.file, "changes": [c.to_dict() for c in self.changes]}


@dataclass(frozen=True)
class FileDiff:
    """A form file (or another non-BPMN file) added, removed or changed, with a short note of how; a
    decision table's changed rows are in `rules`."""

    name: str
    status: str
    notes: tuple[str, ...] = ()
    rules: tuple[RuleChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "notes": list(self.notes),
                "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class GuideChange:
    """A governed field of the item's guide: the time limits and the materials (S-9)."""

    field: str  # committed_limit_days, statutory_limit_days, materials
    label: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "old": self.old, "new": self.new}

    @property
    def summary(self) -> str:
        return said("%(label)s：%(old)s → %(new)s", label=self.label, old=_shown(self.old), new=_shown(self.new))


@dataclass
class VersionDiff:
    item_code: str
    old_number: int
    new_number: int
    elements: list[ElementDiff] = field(default_factory=list)
    files: list[FileDiff] = field(default_factory=list)
    guide: list[GuideChange] = field(default_factory=list)

    @property
    def rules(self) -> list[RuleChange]:
        """The decision tables' rows added, removed or changed, over every .dmn file."""
        return [rule for f in self.files for rule in f.rules]

    def by_status(self, status: str) -> list[ElementDiff]:
        return [e for e in self.elements if e.status == status]

    @property
    def empty(self) -> bool:
        return not (self.elements or self.files or self.guide)

    @property
    def summary(self) -> str:
        counts = [said("新增 %(n)s", n=len(self.by_status("added"))),
                  said("删除 %(n)s", n=len(self.by_status("removed"))),
                  said("修改 %(n)s", n=len(self.by_status("changed")))]
        extra = [said("表单文件 %(n)s", n=len(self.files))] if self.files else []
        extra += [said("决策表规则 %(n)s", n=len(self.rules))] if self.rules else []
        extra += [c.summary for c in self.guide]
        return said("第 %(old)s 版 → 第 %(new)s 版：元素%(counts)s%(extra)s", old=self.old_number,
                    new=self.new_number, counts=listed(counts, COMMA),
                    extra=said("；%(more)s", more=listed(extra)) if extra else "")

    def to_dict(self) -> dict[str, Any]:
        return {"item_code": self.item_code, "from": self.old_number, "to": self.new_number,
                "summary": self.summary, "elements": [e.to_dict() for e in self.elements],
                "files": [f.to_dict() for f in self.files], "guide": [g.to_dict() for g in self.guide],
                "rules": [r.to_dict() for r in self.rules]}


# --- reading an element ---------------------------------------------------------------------------


def _local(tag: Any) -> str | None:
    if not isinstance(tag, str) or not tag.startswith("{" + BPMN_NS + "}"):
        return None
    return tag.rsplit("}", 1)[1]


def _text(node: etree._Element | None) -> str | None:
    if node is None or node.text is None:
        return None
    return " ".join(node.text.split()) or None


def _spiff_text(node: etree._Element, name: str) -> str | None:
    return _text(node.find(f"./bpmn:extensionElements/spiffworkflow:{name}", NS))


def _reading(node: etree._Element, kind: str, lanes: dict[str, str]) -> dict[str, str]:
    """Everything about an element that the diff compares, as aspect → text (absent aspects left out)."""
    element_id = node.get("id")
    found: dict[str, str | None] = {"type": kind, "name": (node.get("name") or "").strip() or None,
                                    "lane": lanes.get(element_id)}
    properties = spiff_properties(node)
    found["form"] = properties.pop(FORM_SCHEMA_PROPERTY, None)
    found["ui_form"] = properties.pop(FORM_UI_PROPERTY, None)
    found.update({f"property:{key}": value for key, value in properties.items()})
    for definition in _EVENT_DEFINITIONS:
        if node.find(f"./bpmn:{definition}", NS) is not None:
            found["event"] = definition.removesuffix("EventDefinition")
    timer = node.find("./bpmn:timerEventDefinition", NS)
    if timer is not None:
        found["timer"] = "; ".join(f"{child.tag.rsplit('}', 1)[1]}={_text(child)}" for child in timer
                                   if _local(child.tag) and _text(child))
    if kind == "sequenceFlow":
        found["flow"] = f"{node.get('sourceRef')} → {node.get('targetRef')}"
        found["condition"] = _text(node.find("./bpmn:conditionExpression", NS))
    found["default"] = node.get("default")
    found["attached_to"] = node.get("attachedToRef")
    if kind == "boundaryEvent":
        found["interrupting"] = node.get("cancelActivity", "true")
    found["called"] = node.get("calledElement")
    found["script"] = _text(node.find("./bpmn:script", NS))
    found["pre_script"] = _spiff_text(node, "preScript")
    found["post_script"] = _spiff_text(node, "postScript")
    return {key: value for key, value in found.items() if value is not None}


def diagram_elements(files: dict[str, str]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Every element id of a version's BPMN files → (file, kind, reading)."""
    elements: dict[str, tuple[str, str, dict[str, str]]] = {}
    for name, text in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        tree = parse_xml(text, name)
        lanes = lane_of(tree)
        for node in tree.getroot().iter():
            kind = _local(node.tag)
            if kind is None or kind in _SKIPPED_TAGS or kind.endswith("EventDefinition") or not node.get("id"):
                continue
            elements[node.get("id")] = (name, kind, _reading(node, kind, lanes))
    return elements


# --- comparing ------------------------------------------------------------------------------------


def diff_files(old_files: dict[str, str], new_files: dict[str, str]) -> tuple[list[ElementDiff], list[FileDiff]]:
    """Elements added, removed, changed (in the order of the new version, removed last) and form files."""
    old, new = diagram_elements(old_files), diagram_elements(new_files)
    result: list[ElementDiff] = []
    for element_id, (file, kind, reading) in new.items():
        if element_id not in old:
            result.append(ElementDiff(element_id, kind, reading.get("name", ""), "added", file))
            continue
        before = old[element_id][2]
        changes = tuple(AspectChange(aspect, before.get(aspect), reading.get(aspect))
                        for aspect in dict.fromkeys([*before, *reading]) if before.get(aspect) != reading.get(aspect))
        if changes:
            result.append(ElementDiff(element_id, kind, reading.get("name") or before.get("name", ""), "changed",
                                      file, changes))
    for element_id, (file, kind, reading) in old.items():
        if element_id not in new:
            result.append(ElementDiff(element_id, kind, reading.get("name", ""), "removed", file))
    return result, _file_diffs(old_files, new_files)


def _file_diffs(old_files: dict[str, str], new_files: dict[str, str]) -> list[FileDiff]:
    out: list[FileDiff] = []
    for name in sorted({*old_files, *new_files}):
        if name.endswith(".bpmn"):
            continue
        before, after = old_files.get(name), new_files.get(name)
        if before == after:
            continue
        if before is None or after is None:
            out.append(FileDiff(name, "added" if before is None else "removed"))
        elif name.endswith(".dmn"):
            rules = tuple(rule_changes({name: before}, {name: after}))
            notes = (said("规则变更 %(n)s 条", n=len(rules)),) if rules else (said("表头或格式已修改（规则未变）"),)
            out.append(FileDiff(name, "changed", notes, rules))
        elif _json_or_none(before) != _json_or_none(after) or _json_or_none(after) is None:
            out.append(FileDiff(name, "changed", tuple(_form_notes(before, after))))
    return out


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _form_notes(old_text: str, new_text: str) -> list[str]:
    """What a changed JSON Schema form changed: fields added or removed, fields that became (not) required."""
    old, new = _json_or_none(old_text), _json_or_none(new_text)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [said("内容已修改")]
    old_fields, new_fields = old.get("properties") or {}, new.get("properties") or {}
    old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
    def named(k: str) -> str:  # by its title as the clerk reads it, the key beside it for the analyst
        prop = new_fields.get(k) or old_fields.get(k)
        title = prop.get("title") if isinstance(prop, dict) else None
        return f"“{title}”（{k}）" if title else k

    notes = [said("新增字段 %(field)s", field=named(k)) for k in new_fields if k not in old_fields]
    notes += [said("删除字段 %(field)s", field=named(k)) for k in old_fields if k not in new_fields]
    notes += [said("字段 %(field)s 的定义已修改", field=named(k))
              for k in new_fields if k in old_fields and old_fields[k] != new_fields[k]]
    notes += [said("字段 %(field)s 改为必填", field=named(k)) for k in sorted(new_required - old_required)]
    notes += [said("字段 %(field)s 改为选填", field=named(k)) for k in sorted(old_required - new_required)]
    return notes or [said("内容已修改（字段未变）")]


GOVERNED_GUIDE_FIELDS = {"committed_limit_days": said("承诺时限（工作日）"),
                         "statutory_limit_days": said("法定时限（工作日）"), "materials": said("申请材料")}


def guide_changes(old_metadata: dict[str, Any], new_metadata: dict[str, Any]) -> list[GuideChange]:
    """The governed parts of the guide that differ: time limits and materials (S-9 needs approval for them)."""
    old_guide, new_guide = old_metadata.get("guide") or {}, new_metadata.get("guide") or {}
    return [GuideChange(key, label, old_guide.get(key), new_guide.get(key))
            for key, label in GOVERNED_GUIDE_FIELDS.items() if old_guide.get(key) != new_guide.get(key)]


def _shown(value: Any) -> str:
    if value is None:
        return said("（无）")
    if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
        names = [str(v["name"]) if v.get("required", True) else said("%(name)s（选）", name=str(v["name"]))
                 for v in value]
        return listed(names, ENUMERATION_COMMA) if names else said("（无）")
    return str(value)


# --- two stored versions --------------------------------------------------------------------------


def main_diagram(files: dict[str, str], process_id: str) -> str | None:
    """The BPMN text that defines `process_id` (the item's own diagram, not a shared one)."""
    diagrams = [text for name, text in sorted(files.items())
                if name.endswith(".bpmn") and not name.startswith(SHARED_PREFIX)]
    return next((text for text in diagrams if f'id="{process_id}"' in text), diagrams[0] if diagrams else None)
