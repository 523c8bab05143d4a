"""What changed in an item's decision tables (.dmn) between two versions, rule by rule.

A decision table is read by people as rows: "住宅类不动产登记: 登记费 80". Its XML, as dmn-js rewrites it
on every save, reorders attributes and re-indents, so a text diff says nothing. Rules are matched by
their id (dmn-js keeps a rule's id while its cells change; a new row gets a new id): a rule only in the
new version is *added*, only in the old one *removed*, in both with different cells *changed* — and
each is named by its description, else by its input values (土地用途 = "住宅"), the way the analyst
wrote the row. Columns are named by their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.diagrams.package import SHARED_PREFIX
from engine.diagrams.safexml import parse_xml
from engine.errors import OnewindowError
from engine.messages import COMMA, listed, said


@dataclass(frozen=True)
class CellChange:
    """One cell of a rule that differs: its column's label, the old and new text (None: no such cell)."""

    column: str
    old: str | None
    new: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class RuleChange:
    """A row of a decision table added, removed or changed; `decision` is the decision's name."""

    file: str
    decision: str
    rule_id: str
    label: str
    status: str  # added, removed, changed
    cells: tuple[CellChange, ...] = ()

    @property
    def summary(self) -> str:
        verb = {"added": said("新增规则"), "removed": said("删除规则"), "changed": said("修改规则")}[self.status]
        detail = listed([said("%(column)s %(old)s → %(new)s", column=c.column, old=c.old or said("（空）"),
                              new=c.new or said("（空）")) for c in self.cells], COMMA)
        return said("%(decision)s：%(verb)s“%(label)s”%(detail)s", decision=self.decision, verb=verb, label=self.label,
                    detail=said("（%(detail)s）", detail=detail) if self.cells else "")

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "decision": self.decision, "rule_id": self.rule_id, "label": self.label,
                "status": self.status, "cells": [c.to_dict() for c in self.cells]}


def _children(node: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _text(node: etree._Element) -> str:
    found = _children(node, "text")
    return " ".join((found[0].text or "").split()) if found else ""


def _column(node: etree._Element, index: int, kind: str) -> str:
    expression = _children(node, "inputExpression")
    return (node.get("label") or node.get("name") or (_text(expression[0]) if expression else "")
            or said("%(kind)s%(n)s", kind=kind, n=index + 1))


Rule = tuple[str, dict[str, str]]  # label, column → cell text


def decision_rules(name: str, text: str) -> dict[tuple[str, str], tuple[str, Rule]]:
    """(decision id, rule id) → (decision name, (label, cells)) for every rule of a DMN file."""
    try:
        root = parse_xml(text, name).getroot()
    except OnewindowError:
        return {}
    found: dict[tuple[str, str], tuple[str, Rule]] = {}
    for decision in (e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "decision"):
        for table in _children(decision, "decisionTable"):
            inputs = [_column(c, i, said("条件")) for i, c in enumerate(_children(table, "input"))]
            outputs = [_column(c, i, said("结果")) for i, c in enumerate(_children(table, "output"))]
            for position, rule in enumerate(_children(table, "rule")):
                cells = dict(zip(inputs, map(_text, _children(rule, "inputEntry")), strict=False))
                cells.update(zip(outputs, map(_text, _children(rule, "outputEntry")), strict=False))
                description = " ".join((_text_of(rule, "description")).split())
                given = "，".join(f"{k} = {v}" for k, v in list(cells.items())[:len(inputs)] if v not in ("", "-"))
                label = description or given or said("第 %(n)s 行（任意条件）", n=position + 1)
                found[(decision.get("id") or "", rule.get("id") or f"#{position}")] = (
                    decision.get("name") or decision.get("id") or name, (label, cells))
    return found


def _text_of(node: etree._Element, name: str) -> str:
    found = _children(node, name)
    return (found[0].text or "") if found else ""


def rule_changes(old_files: dict[str, str], new_files: dict[str, str]) -> list[RuleChange]:
    """Rules added, changed (in the new version's order), then removed, over every .dmn file of the item."""
    changes: list[RuleChange] = []
    names = sorted(n for n in {*old_files, *new_files} if n.endswith(".dmn") and not n.startswith(SHARED_PREFIX))
    for name in names:
        old = decision_rules(name, old_files.get(name, ""))
        new = decision_rules(name, new_files.get(name, ""))
        for key, (decision, (label, cells)) in new.items():
            if key not in old:
                changes.append(RuleChange(name, decision, key[1], label, "added"))
                continue
            before = old[key][1][1]
            differ = tuple(CellChange(column, before.get(column), cells.get(column))
                           for column in dict.fromkeys([*before, *cells]) if before.get(column) != cells.get(column))
            if differ:
                changes.append(RuleChange(name, decision, key[1], label, "changed", differ))
        changes += [RuleChange(name, decision, key[1], label, "removed")
                    for key, (decision, (label, _cells)) in old.items() if key not in new]
    return changes
