"""A small BPMN 2.0 writer with diagram interchange (DI), for generating the catalogue's diagrams.

A diagram is described as nodes placed on a grid (column, lane, slot) and flows between them; this
module writes the semantic XML (with spiffworkflow extension properties) and the DI shapes and
edges, so bpmn-js and the modeler open the result laid out and editable. It is a development tool:
once written, the diagrams are data an analyst changes in the studio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

COL = 160
LANE_HEIGHT = 200
LEFT = 110
SIZES = {"start": (36, 36), "end": (36, 36), "throw": (36, 36), "boundary": (36, 36), "xor": (50, 50),
         "and": (50, 50), "user": (110, 80), "script": (110, 80), "call": (110, 80)}
TAGS = {"start": "startEvent", "end": "endEvent", "throw": "intermediateThrowEvent", "boundary": "boundaryEvent",
        "xor": "exclusiveGateway", "and": "parallelGateway", "user": "userTask", "script": "scriptTask",
        "call": "callActivity"}


@dataclass
class Node:
    id: str
    kind: str
    name: str
    lane: str
    col: float
    slot: int = 0  # 0: the lane's main row; 1: its lower row (refusal ends, chase branches)
    props: dict[str, str] = field(default_factory=dict)
    script: str | None = None
    called: str | None = None
    timer: str | None = None  # boundary: timeDuration expression
    attached_to: str | None = None
    # parallel multi-instance: (input collection, input item, output collection, output item)
    multi: tuple[str, str, str, str] | None = None
    post_script: str | None = None
    default: str | None = None  # gateway: id of its default flow


@dataclass
class Flow:
    id: str
    source: str
    target: str
    condition: str | None = None
    name: str = ""


@dataclass
class Diagram:
    process_id: str
    name: str
    lanes: list[str]
    nodes: list[Node] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    documentation: str = ""

    def node(self, *args, **kwargs) -> Node:
        n = Node(*args, **kwargs)
        self.nodes.append(n)
        return n

    def flow(self, source: str, target: str, condition: str | None = None, name: str = "", default: bool = False
             ) -> Flow:
        f = Flow(f"f_{source}_{target}", source, target, condition, name)
        self.flows.append(f)
        if default:
            next(n for n in self.nodes if n.id == source).default = f.id
        return f

    # ---- geometry ----

    def _lane_index(self, lane: str) -> int:
        return self.lanes.index(lane)

    def bounds(self, node: Node) -> tuple[float, float, float, float]:
        w, h = SIZES[node.kind]
        if node.kind == "boundary":
            host = next(n for n in self.nodes if n.id == node.attached_to)
            hx, hy, hw, hh = self.bounds(host)
            return hx + hw - w - 8, hy + hh - h / 2, w, h
        cx = LEFT + 60 + node.col * COL
        top = self._lane_index(node.lane) * LANE_HEIGHT
        cy = top + (70 if node.slot == 0 else 160)
        return cx - w / 2, cy - h / 2, w, h

    def width(self) -> float:
        return LEFT + 60 + max(n.col for n in self.nodes) * COL + 120

    def waypoints(self, flow: Flow) -> list[tuple[float, float]]:
        sx, sy, sw, sh = self.bounds(self._node(flow.source))
        tx, ty, tw, th = self.bounds(self._node(flow.target))
        source = self._node(flow.source)
        if source.kind == "boundary":
            start = (sx + sw / 2, sy + sh)
            return [start, (start[0], ty + th / 2), (tx, ty + th / 2)]
        s_mid, t_mid = sy + sh / 2, ty + th / 2
        if tx > sx + sw:  # forward
            if abs(s_mid - t_mid) < 1:
                return [(sx + sw, s_mid), (tx, t_mid)]
            if source.kind in ("xor", "and"):  # leave a gateway from its top or bottom corner
                return [(sx + sw / 2, sy if t_mid < s_mid else sy + sh), (sx + sw / 2, t_mid), (tx, t_mid)]
            mid = tx - 25
            return [(sx + sw, s_mid), (mid, s_mid), (mid, t_mid), (tx, t_mid)]
        # backward (a loop): under both, then up into the target's bottom
        low = max(sy + sh, ty + th) + 25
        return [(sx + sw / 2, sy + sh), (sx + sw / 2, low), (tx + tw / 2, low), (tx + tw / 2, ty + th)]

    def _node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    # ---- XML ----

    def to_xml(self) -> str:
        pid = self.process_id
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
               'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
               'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
               'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
               'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
               f'id="Definitions_{pid}" targetNamespace="http://bpmn.io/schema/bpmn">',
               f'  <bpmn:collaboration id="Collaboration_{pid}">',
               f'    <bpmn:participant id="Participant_{pid}" name={quoteattr(self.name)} processRef="{pid}" />',
               '  </bpmn:collaboration>',
               f'  <bpmn:process id="{pid}" name={quoteattr(self.name)} isExecutable="true">']
        if self.documentation:
            out.append(f"    <bpmn:documentation>{escape(self.documentation)}</bpmn:documentation>")
        out.append(f'    <bpmn:laneSet id="LaneSet_{pid}">')
        for i, lane in enumerate(self.lanes):
            out.append(f'      <bpmn:lane id="Lane_{pid}_{i}" name={quoteattr(lane)}>')
            out += [f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in self.nodes if n.lane == lane]
            out.append("      </bpmn:lane>")
        out.append("    </bpmn:laneSet>")
        for node in self.nodes:
            out += self._node_xml(node)
        for flow in self.flows:
            name = f" name={quoteattr(flow.name)}" if flow.name else ""
            head = f'    <bpmn:sequenceFlow id="{flow.id}"{name} sourceRef="{flow.source}" targetRef="{flow.target}"'
            if flow.condition:
                out += [head + ">", '      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">'
                        f"{escape(flow.condition)}</bpmn:conditionExpression>", "    </bpmn:sequenceFlow>"]
            else:
                out.append(head + " />")
        out.append("  </bpmn:process>")
        out += self._di_xml()
        out.append("</bpmn:definitions>")
        return "\n".join(out) + "\n"

    def _node_xml(self, node: Node) -> list[str]:
        tag = TAGS[node.kind]
        attrs = f'id="{node.id}" name={quoteattr(node.name)}'
        if node.kind == "call":
            attrs += f' calledElement="{node.called}"'
        if node.kind == "boundary":
            attrs += f' cancelActivity="false" attachedToRef="{node.attached_to}"'
        if node.default:
            attrs += f' default="{node.default}"'
        lines = [f"    <bpmn:{tag} {attrs}>"]
        if node.props or node.post_script:
            lines.append("      <bpmn:extensionElements>")
            if node.props:
                lines.append("        <spiffworkflow:properties>")
                lines += [f"          <spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)} />"
                          for k, v in node.props.items()]
                lines.append("        </spiffworkflow:properties>")
            if node.post_script:
                lines.append(f"        <spiffworkflow:postScript>{escape(node.post_script)}</spiffworkflow:postScript>")
            lines.append("      </bpmn:extensionElements>")
        lines += [f"      <bpmn:incoming>{f.id}</bpmn:incoming>" for f in self.flows if f.target == node.id]
        lines += [f"      <bpmn:outgoing>{f.id}</bpmn:outgoing>" for f in self.flows if f.source == node.id]
        if node.multi:
            collection, item, outputs, output = node.multi
            # scriptsOnInstances: each instance's post-script builds that instance's output item
            lines += ['      <bpmn:multiInstanceLoopCharacteristics spiffworkflow:scriptsOnInstances="true">',
                      f"        <bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>",
                      f"        <bpmn:loopDataOutputRef>{outputs}</bpmn:loopDataOutputRef>",
                      f'        <bpmn:inputDataItem id="{item}" name="{item}" />',
                      f'        <bpmn:outputDataItem id="{output}" name="{output}" />',
                      "      </bpmn:multiInstanceLoopCharacteristics>"]
        if node.timer:
            lines += [f'      <bpmn:timerEventDefinition id="TimerDef_{node.id}">',
                      f'        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{escape(node.timer)}'
                      "</bpmn:timeDuration>", "      </bpmn:timerEventDefinition>"]
        if node.script is not None:
            lines.append(f"      <bpmn:script>{escape(node.script)}</bpmn:script>")
        lines.append(f"    </bpmn:{tag}>")
        return lines

    def _di_xml(self) -> list[str]:
        pid, width = self.process_id, self.width()
        height = len(self.lanes) * LANE_HEIGHT
        out = [f'  <bpmndi:BPMNDiagram id="Diagram_{pid}">',
               f'    <bpmndi:BPMNPlane id="Plane_{pid}" bpmnElement="Collaboration_{pid}">',
               f'      <bpmndi:BPMNShape id="Participant_{pid}_di" bpmnElement="Participant_{pid}" '
               'isHorizontal="true">',
               f'        <dc:Bounds x="0" y="0" width="{width:.0f}" height="{height}" />',
               "      </bpmndi:BPMNShape>"]
        for i, _lane in enumerate(self.lanes):
            top = i * LANE_HEIGHT
            out += [f'      <bpmndi:BPMNShape id="Lane_{pid}_{i}_di" bpmnElement="Lane_{pid}_{i}" isHorizontal="true">',
                    f'        <dc:Bounds x="30" y="{top}" width="{width - 30:.0f}" height="{LANE_HEIGHT}" />',
                    "      </bpmndi:BPMNShape>"]
        for node in self.nodes:
            x, y, w, h = self.bounds(node)
            marker = ' isMarkerVisible="true"' if node.kind == "xor" else ""
            out += [f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}"{marker}>',
                    f'        <dc:Bounds x="{x:.0f}" y="{y:.0f}" width="{w}" height="{h}" />']
            if node.kind in ("start", "end", "throw", "boundary", "xor"):
                out.append(f'        <bpmndi:BPMNLabel><dc:Bounds x="{x - 20:.0f}" y="{y + h + 4:.0f}" '
                           f'width="{w + 40}" height="27" /></bpmndi:BPMNLabel>')
            out.append("      </bpmndi:BPMNShape>")
        for flow in self.flows:
            out.append(f'      <bpmndi:BPMNEdge id="{flow.id}_di" bpmnElement="{flow.id}">')
            out += [f'        <di:waypoint x="{x:.0f}" y="{y:.0f}" />' for x, y in self.waypoints(flow)]
            out.append("      </bpmndi:BPMNEdge>")
        out += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>"]
        return out
