"""Lint: every mistake in a package that we can see before a clerk does.

Runs before every deploy (an error blocks it) and on its own (`onewindow lint`, the studio). Each
finding names the file and the BPMN element id and says how to fix it, in words an analyst uses.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine.diagrams import lint_dmn, lint_flows, lint_routing
from engine.diagrams.bpmn import (
    FORM_SCHEMA_PROPERTY,
    FORM_UI_PROPERTY,
    NS,
    lane_of,
    process_ids,
    spiff_properties,
    user_tasks,
)
from engine.diagrams.filenames import name_problem
from engine.diagrams.forms import schema_error
from engine.diagrams.guide import appeal_problems, guide_problems
from engine.diagrams.package import ProcessPackage
from engine.diagrams.parser_words import in_words
from engine.diagrams.safexml import parse_xml
from engine.diagrams.scripting import compile_expression, compile_script
from engine.diagrams.specs import FORMS_PREFIX, build_specs
from engine.errors import OnewindowError, ScriptError
from engine.messages import Said, said

_UNQUOTED_TIME = re.compile(r"(R\d*/)?P[\dYMWDTHS.]+|\d{4}-\d{2}-\d{2}(T[\d:.]+)?([+-]\d{2}:?\d{2}|Z)?")


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    message: str
    fix: str
    element_id: str | None = None
    file: str | None = None

    def __str__(self) -> str:
        return str(self.sentence())

    def sentence(self) -> Said:
        """The finding as one line (错误: file:element: message — fix), for the command line and a refusal."""
        where = ":".join(p for p in (self.file, self.element_id) if p)
        return said("%(label)s: %(where)s%(message)s — %(fix)s",
                    label=said("错误") if self.severity == "error" else said("警告"),
                    where=f"{where}: " if where else "", message=self.message, fix=self.fix)


@dataclass
class LintReport:
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_list(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.findings]


def main_process_id(package: ProcessPackage) -> str | None:
    """The process a case starts: `process_id` in item.json, else the only executable main process."""
    if package.metadata.get("process_id"):
        return str(package.metadata["process_id"])
    found = [pid for name, text in package.main_bpmn_files().items()
             for pid in process_ids(parse_xml(text, name), executable_only=True)]
    return found[0] if len(found) == 1 else None


def lint_package(package: ProcessPackage) -> LintReport:
    findings: list[Finding] = []
    trees: dict[str, etree._ElementTree] = {}
    for name, text in package.bpmn_files().items():
        try:
            trees[name] = parse_xml(text, name)
        except OnewindowError as exc:
            findings.append(Finding("error", exc.message, said("修正 XML 后重新保存流程图"), file=name))
    findings[:0] = _lint_metadata(package, diagrams_readable=not findings)
    for called in package.missing:
        findings.append(Finding("error", said("调用活动调用的流程“%(called)s”在任何文件中都没有定义", called=called),
                                said("把该流程的 BPMN 放到 processes/shared/，或更正 calledElement")))
    dangling = {name: lint_flows.dangling_flows(tree) for name, tree in trees.items()}
    for name, tree in trees.items():
        findings += _lint_tree(package, name, tree, dangling[name])
    decisions = [Finding("error", problem, fix, element, file)
                 for problem, fix, element, file in lint_dmn.decision_problems(package.dmn_files(), trees)]
    findings += decisions
    findings += [Finding("error", problem, fix, element, file)  # a refusal notice must name where to appeal
                 for problem, fix, element, file in appeal_problems(package.metadata, trees, package.files)]
    # The parser's view too, but not twice: what our rules already named on an element stays ours; and it
    # stops at a flow to nowhere or a decision table it cannot use, which our own rules have named better.
    if trees and not decisions and not any(dangling.values()):
        named = {(f.file, f.element_id) for f in findings if f.severity == "error" and f.element_id}
        findings += [f for f in _lint_spec(package) if (f.file, f.element_id) not in named]
    return LintReport(findings)


def _lint_metadata(package: ProcessPackage, diagrams_readable: bool) -> list[Finding]:
    findings = [Finding("error", problem, fix, file="item.json") for problem, fix in guide_problems(package.metadata)]
    for key, schema in (("application_form", True), ("application_ui_form", False)):  # the hall's form
        if package.metadata.get(key):  # the key stands for the element a finding names
            findings += _lint_form(package, package.metadata[key], key, "item.json", schema=schema)
    if diagrams_readable and package.main_bpmn_files() and main_process_id(package) is None:
        findings.append(Finding("error", said("无法确定办件从哪个流程开始"),
                                said("只把一个流程标记为 isExecutable=\"true\"，或在 item.json 中填写 process_id"),
                                file="item.json"))
    return findings


def _lint_tree(package: ProcessPackage, name: str, tree: etree._ElementTree,
               dangling: list[lint_flows.Problem]) -> list[Finding]:
    findings: list[Finding] = []
    lanes = lane_of(tree)
    has_lanes = bool(tree.getroot().find(".//bpmn:lane", NS) is not None)
    for task in user_tasks(tree):
        element = task.get("id")
        label = task.get("name") or element
        props = spiff_properties(task)
        form = props.get(FORM_SCHEMA_PROPERTY)
        if not form:
            findings.append(Finding("error", said("用户任务“%(label)s”没有指定表单", label=label),
                                    said("把属性 %(property)s 设为 forms/ 中的一个 JSON Schema 文件",
                                         property=FORM_SCHEMA_PROPERTY),
                                    element, name))
        else:
            findings += _lint_form(package, form, element, name, schema=True)
        if props.get(FORM_UI_PROPERTY):
            findings += _lint_form(package, props[FORM_UI_PROPERTY], element, name, schema=False)
        if has_lanes and element not in lanes:
            findings.append(Finding("error", said("用户任务“%(label)s”不在任何泳道（lane）中，没有人能办理它",
                                                  label=label),
                                    said("把它移到负责办理的窗口所在的泳道"), element, name))
        elif element in lanes and (problem := lint_routing.lane_problem(lanes[element])):
            findings.append(Finding("error", problem[0], problem[1], element, name))
    for task in tree.getroot().iterfind(".//bpmn:manualTask", NS):  # a person confirms it; the lane says who
        element, label = task.get("id"), task.get("name") or task.get("id")
        if has_lanes and element not in lanes:
            findings.append(Finding("error", said("人工任务“%(label)s”不在任何泳道（lane）中，没有人能确认它",
                                                  label=label),
                                    said("把它移到负责确认的窗口所在的泳道"), element, name))
        elif element in lanes and (problem := lint_routing.lane_problem(lanes[element])):
            findings.append(Finding("error", problem[0], problem[1], element, name))
    for task in tree.getroot().iterfind(".//bpmn:task", NS):
        findings.append(Finding(
            "error", said("无类型任务“%(task)s”（bpmn:task）在运行时会停下等人办理，"
                     "却没有表单和办理人", task=task.get("name") or task.get("id")),
            said("改为用户任务（userTask，指定表单和泳道）、人工任务（manualTask，由泳道中的人确认）或脚本任务（scriptTask）"),
            task.get("id"), name))
    findings += _lint_gateways(tree, name)
    findings += [Finding("error", problem, fix, element, name)
                 for problem, fix, element in dangling + lint_flows.orphans(tree)
                 + lint_flows.unsupported_events(tree)]
    findings += _lint_timeout_paths(tree, name)
    findings += _lint_expressions(tree, name)
    return findings


def _lint_form(package: ProcessPackage, form: object, element: str, file: str, schema: bool) -> list[Finding]:
    """A bad name is reported from the name alone: looking it up would tell whether such a file exists."""
    if problem := name_problem(form):
        return [Finding("error", said("表单%(problem)s", problem=problem),
                        said("只填写 forms/ 或事项文件夹中的文件名本身，如 accept.json（不带目录、“..”或控制字符）"),
                        element, file)]
    text = package.files.get(FORMS_PREFIX + str(form))
    if text is None:
        return [Finding("error", said("表单文件“%(form)s”不存在", form=form),
                        said("添加 forms/%(form)s，或更正表单属性", form=form),
                        element, file)]
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [Finding("error", said("表单文件“%(form)s”不是有效的 JSON（第 %(lineno)s 行：%(msg)s）", form=form,
                                      lineno=exc.lineno, msg=exc.msg),
                        said("修正 JSON 语法"), element, file)]
    if not schema:
        return []
    if exc := schema_error(text):
        return [Finding("error", said("表单“%(form)s”不是有效的 JSON Schema：%(message)s", form=form,
                                      message=exc.message),
                        said("按 JSON Schema draft 2020-12 修正表单"), element, file)]
    if document.get("type", "object") != "object":
        return [Finding("error", said("表单“%(form)s”必须描述一个对象", form=form), said("设置 \"type\": \"object\""),
                        element, file)]
    return _refusal_findings(document, str(form), element, file)


def _refusal_findings(document: dict[str, Any], form: str, element: str, file: str) -> list[Finding]:
    """One finding per refusing answer of any decision field that needs no reason; each names the field (its
    title too, as the clerk sees it), since a form may have several decision fields and only one may lack it."""
    properties = document.get("properties") or {}
    findings = []
    for name, answers in lint_routing.refusals_without_reason_by_field(document).items():
        title = (properties.get(name) or {}).get("title")
        field = f"“{title}”（{name}）" if isinstance(title, str) and title and title != name else f"“{name}”"
        findings += [Finding("error", said("表单“%(form)s”的字段%(field)s答复“%(answer)s”是拒绝，却可以不写理由就提交",
                                           form=form, field=field, answer=answer),
                             said("在表单的 allOf 中加入：if %(name)s 为“%(answer)s” then required 含 reason"
                             "（或 …_reason，如 refusal_reason；作出拒绝决定的还应含 legal_basis），"
                             "并在 properties 中定义该理由字段", name=name, answer=answer), element,
                             file) for answer in answers]
    return findings


def _lint_gateways(tree: etree._ElementTree, file: str) -> list[Finding]:
    findings = []
    flows = {f.get("id"): f for f in tree.getroot().iterfind(".//bpmn:sequenceFlow", NS)}
    for gateway in tree.getroot().iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = [flows[ref.text.strip()] for ref in gateway.iterfind("./bpmn:outgoing", NS)
                    if ref.text and ref.text.strip() in flows]
        if len(outgoing) < 2:
            continue
        default = gateway.get("default")
        for flow in outgoing:
            if flow.get("id") != default and flow.find("./bpmn:conditionExpression", NS) is None:
                findings.append(Finding(
                    "error", said("从网关“%(gateway)s”流出的连线"
                             "“%(flow)s”没有条件", gateway=gateway.get("name") or gateway.get("id"),
                                  flow=flow.get("name") or flow.get("id")),
                    said("为它写条件，或把它设为该网关的默认流（default flow）"), flow.get("id"), file))
    return findings


def _lint_timeout_paths(tree: etree._ElementTree, file: str) -> list[Finding]:
    """A timeout never approves a licence on its own: no path from a timer may reach an approving end
    event without passing a person's decision (a user task)."""
    root = tree.getroot()
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    outgoing: dict[str, list[str]] = {}
    for flow in root.iterfind(".//bpmn:sequenceFlow", NS):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    findings = []
    for definition in root.iterfind(".//bpmn:timerEventDefinition", NS):
        timer = definition.getparent()
        pending, seen = list(outgoing.get(timer.get("id"), [])), set()
        while pending:
            element_id = pending.pop()
            if element_id in seen or element_id not in by_id:
                continue
            seen.add(element_id)
            element = by_id[element_id]
            kind = etree.QName(element).localname
            if kind == "userTask":
                continue
            if kind == "endEvent" and spiff_properties(element).get("caseStatus") == "approved":
                timer_name = timer.get("name") or timer.get("id")
                findings.append(Finding(
                    "error", said("定时器“%(timer_name)s”超时后不经任何人审批就能走到批准的结束事件"
                             "“%(end)s”", timer_name=timer_name, end=element.get("name") or element_id),
                    said("超时只能催办、提醒或转交他人办理：在这条路径上加入用户任务，或改为不批准的结束"),
                    timer.get("id"), file))
                break
            pending += outgoing.get(element_id, [])
    return findings


def _lint_expressions(tree: etree._ElementTree, file: str) -> list[Finding]:
    findings = []
    root = tree.getroot()
    # (element named, where the language is declared, source, eval/exec, may be empty)
    checks: list[tuple[etree._Element, etree._Element, str, str, bool]] = []
    for condition in root.iterfind(".//bpmn:conditionExpression", NS):
        checks.append((condition.getparent(), condition, condition.text or "", "eval", False))
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for timer in root.iterfind(f".//bpmn:{tag}", NS):
            element, value = timer.getparent().getparent(), (timer.text or "").strip()
            if _UNQUOTED_TIME.fullmatch(value):
                findings.append(Finding("error", said("定时器的值 %(value)s 没有加引号，会被当作表达式求值而失败",
                                                      value=value),
                                        said("写成 \"%(value)s\"（带双引号）", value=value), element.get("id"), file))
                continue
            checks.append((element, timer, value, "eval", False))
    for script in root.iterfind(".//bpmn:scriptTask/bpmn:script", NS):
        checks.append((script.getparent(), script.getparent(), script.text or "", "exec", False))
    for prop in ("preScript", "postScript"):  # spiff-arena's modeler writes them empty: nothing to run
        for script in root.iterfind(f".//bpmn:extensionElements/spiffworkflow:{prop}", NS):
            checks.append((script.getparent().getparent(), script, script.text or "", "exec", True))
    for element, holder, source, mode, may_be_empty in checks:
        if not source.strip():
            if not may_be_empty:
                findings.append(Finding("error", said("表达式或脚本为空"), said("填写内容，或删除该元素"),
                                        element.get("id"), file))
            continue
        if foreign := lint_flows.foreign_language(holder, source):
            findings.append(Finding("error", foreign, said("改写为 Python 表达式，如 approved == True 或 "
                                    "decision == \"受理\"（见 docs/modeling.md）"), element.get("id"), file))
            continue
        try:
            (compile_expression if mode == "eval" else compile_script)(source.strip())
        except ScriptError as exc:
            findings.append(Finding("error", exc.message,
                                    said("只使用基于表单数据的普通表达式：不能 import，不能使用以“_”开头的名字，"
                                    "不能使用 eval/exec"), element.get("id"), file))
    return findings


def _lint_spec(package: ProcessPackage) -> list[Finding]:
    """Let SpiffWorkflow's parser (XSD validation included) judge what our rules do not cover."""
    process_id = main_process_id(package)
    # Without item.json (a folder of shared processes), each executable process is parsed on its own.
    starts = [process_id] if process_id or package.metadata else [
        pid for name, text in package.main_bpmn_files().items()
        for pid in process_ids(parse_xml(text, name), executable_only=True)]
    if not starts:
        if package.metadata:  # item.json's own finding says which process to start
            return []
        return [Finding("error", said("文件中没有可执行的流程，办件无从开始"),
                        said("在要运行的流程上设置 isExecutable=\"true\"（调用活动所调用的流程除外）"))]
    try:
        for start in starts:
            build_specs(package.files, start)
    except (ValidationException, OnewindowError) as exc:
        cause = exc if isinstance(exc, ValidationException) else exc.__cause__
        if not isinstance(cause, ValidationException):
            return [Finding("error", *in_words(str(exc)))]
        element = cause.id or _element_at_line(package.files, cause.file_name, getattr(cause, "line_number", None))
        message, fix = in_words(_short_xsd_message(str(cause)))
        return [Finding("error", message, fix, element or None, cause.file_name or None)]
    return []


def _element_at_line(files: dict[str, str], file_name: str | None, line: object) -> str | None:
    """XSD errors carry a line number, not an element id: the id of the element on that line."""
    text = files.get(file_name or "")
    if not text or not isinstance(line, int):
        return None
    for element in parse_xml(text, file_name or "").getroot().iter():
        if element.sourceline == line and element.get("id"):
            return element.get("id")
    return None


def _short_xsd_message(message: str) -> str:
    """`{http://www.omg.org/…/MODEL}fooTask` → `bpmn:fooTask`, without the XSD's list of expected elements."""
    for prefix, uri in NS.items():
        message = message.replace("{" + uri + "}", prefix + ":")
    return re.sub(r"\s*Expected is one of \(.*?\)\.*", "", message).strip()
