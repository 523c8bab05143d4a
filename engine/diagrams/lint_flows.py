"""Lint rules about the diagram's wiring: flows that lead nowhere, elements no flow reaches or leaves,
and conditions written in another modelling tool's expression language.

Each rule returns (message, fix, element id) triples for lint to turn into findings, so that lint can
report every one of them in one run, as bpmnlint does, instead of stopping at the first kind.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.diagrams.bpmn import NS
from engine.messages import said

Problem = tuple[str, str, str | None]

FLOW_NODES = ("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
              "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
              "intermediateCatchEvent", "intermediateThrowEvent", "startEvent", "endEvent", "boundaryEvent")

# `${approved}`, `#{x > 1}` (JUEL/EL, Camunda and Activiti), and a language attribute naming FEEL or a
# script language: SpiffWorkflow evaluates Python, so these would fail at the first case, not at deploy.
_EL_EXPRESSION = re.compile(r"^\s*[$#]\{.*\}\s*$", re.S)
_PYTHON_LANGUAGES = ("", "python", "text/x-python", "http://www.python.org/")


def _started_by_event(element: etree._Element) -> bool:
    """An event subprocess (started by its start event's trigger), a compensation handler (started by a
    compensation event through an association) or a compensation boundary event (it leads to its handler
    by an association): none has, nor may have, a sequence flow in or out."""
    if element.get("triggeredByEvent") == "true" or element.get("isForCompensation") == "true":
        return True
    return etree.QName(element).localname == "boundaryEvent" and \
        element.find("./bpmn:compensateEventDefinition", NS) is not None


def dangling_flows(tree: etree._ElementTree) -> list[Problem]:
    """A flow whose source or target is not an element of its process: named by the flow and the missing id."""
    problems = []
    for process in tree.getroot().iterfind(".//bpmn:process", NS):
        ids = {e.get("id") for e in process.iter() if e.get("id")}
        for flow in process.iterfind(".//bpmn:sequenceFlow", NS):
            label = flow.get("name") or flow.get("id")
            for end, words in (("targetRef", said("指向")), ("sourceRef", said("起自"))):
                ref = flow.get(end)
                if not ref:
                    problems.append((said("连线“%(label)s”没有%(side)s（%(end)s）", label=label,
                                          side=said("目标") if end == "targetRef" else said("起点"), end=end),
                                     said("把连线两端都接到流程中的元素上，或删除它"), flow.get("id")))
                elif ref not in ids:
                    problems.append((said("连线“%(label)s”%(words)s不存在的元素“%(ref)s”", label=label, words=words,
                                          ref=ref),
                                     said("把连线接到流程中已有的元素上，或删除这条连线"), flow.get("id")))
    return problems


def orphans(tree: etree._ElementTree) -> list[Problem]:
    """Every element is reached by a flow and leads on (a start has no way in, an end no way out)."""
    root = tree.getroot()
    sources = {f.get("sourceRef") for f in root.iterfind(".//bpmn:sequenceFlow", NS)}
    targets = {f.get("targetRef") for f in root.iterfind(".//bpmn:sequenceFlow", NS)}
    problems: list[Problem] = []
    for kind in FLOW_NODES:
        for element in root.iterfind(f".//bpmn:{kind}", NS):
            element_id, label = element.get("id"), element.get("name") or element.get("id")
            if _started_by_event(element):
                continue
            event_sub = element.getparent().get("triggeredByEvent") == "true"
            if kind not in ("startEvent", "boundaryEvent") and element_id not in targets:
                problems.append((said("“%(label)s”没有任何连线进入，永远不会被执行", label=label),
                                 said("从前一个环节画一条连线到它，或删除它"), element_id))
            if kind != "endEvent" and element_id not in sources and not (kind == "startEvent" and event_sub):
                problems.append((said("“%(label)s”没有任何连线离开，流程会停在这里", label=label),
                                 said("从它画一条连线到下一个环节或结束事件"), element_id))
    return problems


def unsupported_events(tree: etree._ElementTree) -> list[Problem]:
    """Compensation: standard BPMN, but SpiffWorkflow 3.2 has no compensation at all (its parser stops on
    the event with "Unsupported Catch Event"), so a case could never undo the step it was drawn to undo."""
    return [(said("补偿（compensation）事件：平台使用的 SpiffWorkflow 3.2 不执行补偿，撤销步骤永远不会运行"),
             said("把撤销画成普通的路径：在网关后接一个执行撤销的脚本任务或用户任务"),
             definition.getparent().get("id"))
            for definition in tree.getroot().iterfind(".//bpmn:compensateEventDefinition", NS)]


def foreign_language(holder: etree._Element, source: str) -> str | None:
    """Why `source` (a condition or script on `holder`) is not the Python this platform runs, or None."""
    language = (holder.get("language") or holder.get("scriptFormat") or "").strip().lower()
    if language not in _PYTHON_LANGUAGES:
        name = "FEEL" if "feel" in language else language
        return said("用 %(name)s 书写，本平台的条件和脚本只用 Python 表达式（SpiffWorkflow 的约定）", name=name)
    if _EL_EXPRESSION.match(source):
        return said("“%(source)s”是 JUEL/EL（Camunda、Activiti）的写法，本平台的条件和脚本用 Python 表达式",
                    source=source.strip())
    return None
