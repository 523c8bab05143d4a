"""新建事项: a brand-new item from the studio, as a draft that deploys as version 1 — no folder copied by hand.

An analyst picks a shape (S-6's five handling modes, or blank) and fills the guide. A shape's diagram is
the diagram of a real catalogue item of that mode (`SHAPES`: lanes, forms, layout and all, drawn by
tools/generate_catalogue.py) with its process id and name made the new item's; blank is a start, one
step in a 【受理窗口】 lane with its own form, and an end, laid out. The guide is checked by the rules lint
uses (`engine.diagrams.guide`), each problem kept beside the field it is about, so the page can name it
there. The code must be well-formed and new: not an item, not a folder under processes/, not another
analyst's new draft.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import insert, select

from engine import settings
from engine.catalogue.demo import item_folders
from engine.catalogue.drafts import ITEM_FILE, Draft, get_draft
from engine.diagrams.guide import LABELS, SCHEMA_PATH, describe_problem, guide_problems
from engine.diagrams.package import load_package, named_forms
from engine.diagrams.specs import FORMS_PREFIX
from engine.errors import PackageError
from engine.messages import said
from engine.org.assignment import Actor
from engine.org.orgtree import read_tree
from engine.store.db import Database
from engine.store.tables import items, studio_drafts
from engine.time import clock

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")


@dataclass(frozen=True)
class Shape:
    key: str
    name: str
    exemplar: str | None  # the catalogue item whose diagram the shape copies; None: blank
    note: str


SHAPES = {s.key: s for s in (
    Shape("direct", said("即办件"), "WT-014", said("受理后当场办结：收件、受理、办结、送达。")),
    Shape("committed", said("承诺件"), "ZJ-001", said("受理后按承诺时限办理：承办、审核、批准、办结出证。")),
    Shape("joint", said("联办件"), "ZJ-002", said("牵头部门受理，多个部门联合审查（会签）后批准。")),
    Shape("report-up", said("上报件"), "MZ-004", said("基层收件初审后报区级部门办理。")),
    Shape("restricted", said("控制事项"), "ZJ-004", said("审查后作出许可或不予许可决定（不予许可须说明理由）。")),
    Shape("blank", said("空白流程"), None, said("一个开始、受理窗口的一个办理步骤（带表单）和一个结束，从头画起。")),
)}
MATERIAL_ROWS = 5
_LINES = ("legal_basis", "conditions", "procedure")
_NUMBERS = ("statutory_limit_days", "committed_limit_days", "visits")
_TEXTS = ("content", "fees", "place", "hours", "phone", "review_body", "court")


class NewItemRefused(PackageError):
    """The new item cannot be created; `fields` holds each problem beside the field it is about."""

    code = "new_item_refused"


def department_choices() -> list[str]:
    """Departments with a window in the district centre (processes/org.json): the ones that can accept."""
    path = settings.PROCESSES_DIR / "org.json"
    if not path.is_file():
        return []
    return [u.name for u in read_tree(path) if u.kind == "department" and "窗口" in u.functions]


def metadata_from_form(form: Mapping[str, Any], shape: str) -> dict[str, Any]:
    """item.json from the guide's form fields (strings, lists for the multi-valued ones), as typed.

    Numbers that are not numbers stay as typed, so the schema names them beside their field.
    """
    def text(key: str) -> str:
        value = form.get(key, "")
        return (value[0] if isinstance(value, list) and value else str(value or "")).strip()

    def lines(key: str) -> list[str]:
        return [line.strip() for line in text(key).splitlines() if line.strip()]

    guide: dict[str, Any] = {key: text(key) for key in _TEXTS if text(key)}
    guide.update({key: lines(key) for key in _LINES})
    for key in _NUMBERS:
        guide[key] = int(text(key)) if text(key).isdigit() and len(text(key)) < 6 else text(key)
    guide["materials"] = [
        {"name": text(f"material_name_{i}"), "form": text(f"material_form_{i}") or "原件",
         "count": int(text(f"material_count_{i}")) if text(f"material_count_{i}").isdigit() else 1,
         "required": text(f"material_required_{i}") != "no"}
        for i in range(MATERIAL_ROWS) if text(f"material_name_{i}")]
    mode = shape if shape in SHAPES and shape != "blank" else text("handling_mode")
    levels = form.get("accept_levels") or []
    metadata: dict[str, Any] = {"code": text("code").upper(), "name": text("name"), "department": text("department"),
                                "handling_mode": mode, "level": text("level") or "district",
                                "accept_levels": [str(v) for v in (levels if isinstance(levels, list) else [levels])]
                                or [text("level") or "district"], "guide": guide}
    if mode == "joint":
        metadata["joint_departments"] = lines("joint_departments")
    return metadata


def field_problems(db: Database, metadata: dict[str, Any], shape: str) -> dict[str, list[str]]:
    """field → problems (Chinese, each with its fix), by the guide's own rules and the new item's own."""
    found: dict[str, list[str]] = {}

    def add(field: str, problem: str, fix: str = "") -> None:
        found.setdefault(field, []).append(said("%(problem)s：%(fix)s。", problem=problem, fix=fix) if fix
                                           else said("%(problem)s。", problem=problem))

    if shape not in SHAPES:
        add("shape", said("请选择事项的流程形态"))
    code = metadata.get("code", "")
    if not CODE_PATTERN.fullmatch(code):
        add("code", said("事项编码只能由大写字母、数字和“-”组成（2–32 位，不以“-”开头）"), said("如 ZJ-101"))
    elif _code_taken(db, code):
        add("code", said("事项编码 %(code)s 已被使用（已部署的事项、processes/ 中的事项文件夹或其他人的新建草稿）",
                         code=code), said("请换一个未使用的编码"))
    departments = department_choices()
    if departments and metadata.get("department") not in departments:
        add("department", said("实施部门须是组织机构中设有窗口的部门"), said("从列表中选择"))
    schema_errors = sorted(_validator().iter_errors(metadata), key=lambda e: list(e.path))
    for error in schema_errors:
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":
            path.append(error.message.split("'")[1])
        field = next((p for p in reversed(path) if p in LABELS or p == "joint_departments"), "guide")
        field = "materials" if "materials" in path else field
        add(field, *describe_problem(error))
    for problem, fix in guide_problems(metadata)[len(schema_errors):]:
        add("committed_limit_days", problem, fix)
    return found


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _code_taken(db: Database, code: str) -> bool:
    with db.reading() as conn:
        if conn.execute(select(items.c.id).where(items.c.code == code)).first():
            return True
        if conn.execute(select(studio_drafts.c.id).where(studio_drafts.c.item_code == code)).first():
            return True
    return any(folder.name == code for folder in item_folders())


def create_item_draft(db: Database, shape: str, metadata: dict[str, Any], author: Actor) -> Draft:
    """A draft of a new item (no base version) with the shape's laid-out diagram and forms; refuses with
    every problem beside its field."""
    problems = field_problems(db, metadata, shape)
    if problems:
        raise NewItemRefused(said("新事项未创建：%(len)s 处需要修改，见各栏下方的说明。",
                                  len=sum(map(len, problems.values()))),
                             fields=problems)
    process_id = "item_" + metadata["code"].lower().replace("-", "_")
    metadata = {**metadata, "process_id": process_id}
    files = _blank(metadata) if SHAPES[shape].exemplar is None else _from_exemplar(SHAPES[shape], metadata)
    files[ITEM_FILE] = json.dumps(metadata, ensure_ascii=False, indent=2)
    now = clock.now()
    with db.transaction() as conn:
        draft_id = conn.execute(insert(studio_drafts).values(
            item_code=metadata["code"], base_version=None, files=files, author=author.username,
            created_at=now, updated_at=now).returning(studio_drafts.c.id)).scalar_one()
    return get_draft(db, draft_id, author)


def _from_exemplar(shape: Shape, metadata: dict[str, Any]) -> dict[str, str]:
    """The exemplar's diagram with the new process id and title, and the joint departments set."""
    folder = next((f for f in item_folders() if f.name == shape.exemplar), None)
    if folder is None:
        raise PackageError(said("找不到%(name)s的样板事项 %(exemplar)s（processes/ 中的事项文件夹）；"
                           "请选择空白流程。", name=shape.name, exemplar=shape.exemplar))
    package = load_package(folder)
    old_id = package.metadata["process_id"]
    title = f"{package.metadata['code']} {package.metadata['name']}"
    files: dict[str, str] = {}
    for name, text in package.files.items():
        if name.endswith(".bpmn") and "/" not in name:
            text = re.sub(rf'(?<=["_]){re.escape(old_id)}(?=")', metadata["process_id"], text)
            text = text.replace(f'name="{title}"', f'name="{_attr(metadata["code"] + " " + metadata["name"])}"')
            if metadata.get("joint_departments"):
                text = re.sub(r"joint_departments = \[[^\]]*\]",
                              _xml_text("joint_departments = " + json.dumps(metadata["joint_departments"],
                                                                            ensure_ascii=False)), text)
            files[f"{metadata['process_id']}.bpmn"] = text
    files.update({FORMS_PREFIX + n: package.files[FORMS_PREFIX + n] for n in named_forms(package)
                  if FORMS_PREFIX + n in package.files})
    return files


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace("\\", "\\\\")


BLANK_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "办理", "type": "object",
    "required": ["opinion"],
    "properties": {"opinion": {"type": "string", "title": "办理意见", "minLength": 2, "maxLength": 2000}},
}

BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="Definitions_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:collaboration id="Collaboration_{pid}">
    <bpmn:participant id="Participant_{pid}" name="{title}" processRef="{pid}" />
  </bpmn:collaboration>
  <bpmn:process id="{pid}" name="{title}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_{pid}">
      <bpmn:lane id="Lane_{pid}_accept" name="【受理窗口】">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>handle</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="提交申请"><bpmn:outgoing>f_start_handle</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="handle" name="办理">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f_start_handle</bpmn:incoming><bpmn:outgoing>f_handle_end</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end" name="办结"><bpmn:incoming>f_handle_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start_handle" sourceRef="start" targetRef="handle" />
    <bpmn:sequenceFlow id="f_handle_end" sourceRef="handle" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_{pid}">
    <bpmndi:BPMNPlane id="Plane_{pid}" bpmnElement="Collaboration_{pid}">
      <bpmndi:BPMNShape id="Participant_{pid}_di" bpmnElement="Participant_{pid}" isHorizontal="true">
        <dc:Bounds x="100" y="80" width="560" height="160" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_{pid}_accept_di" bpmnElement="Lane_{pid}_accept" isHorizontal="true">
        <dc:Bounds x="130" y="80" width="530" height="160" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="192" y="142" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="184" y="185" width="52" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="handle_di" bpmnElement="handle"><dc:Bounds x="330" y="120" width="100" height="80" />
        </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="542" y="142" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="547" y="185" width="26" height="14" /></bpmndi:BPMNLabel></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_start_handle_di" bpmnElement="f_start_handle">
        <di:waypoint x="228" y="160" /><di:waypoint x="330" y="160" /></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f_handle_end_di" bpmnElement="f_handle_end">
        <di:waypoint x="430" y="160" /><di:waypoint x="542" y="160" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _blank(metadata: dict[str, Any]) -> dict[str, str]:
    pid = metadata["process_id"]
    form = f"{pid.replace('_', '-')}-handle.json"
    diagram = BLANK.format(pid=pid, title=_attr(f"{metadata['code']} {metadata['name']}"), form=form)
    return {f"{pid}.bpmn": diagram, FORMS_PREFIX + form: json.dumps(BLANK_FORM, ensure_ascii=False, indent=2)}
