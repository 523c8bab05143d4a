"""Lint rules for DMN decision tables and the businessRuleTasks that call them.

SpiffWorkflow evaluates one decision table per decision with the hit policies UNIQUE (it takes the
first matching row), FIRST (the same) and COLLECT without an aggregation; any other policy would run
as if it were FIRST and silently give another answer than the table says — so lint refuses it by name.
A businessRuleTask naming a decision no .dmn file of the item defines used to fail at deploy with
"Available DMN ids are: ." — here it names the decision and the ones there are.
"""

from __future__ import annotations

from lxml import etree

from engine.diagrams.bpmn import NS
from engine.diagrams.safexml import parse_xml
from engine.errors import OnewindowError
from engine.messages import ENUMERATION_COMMA, listed, said

Problem = tuple[str, str, str | None, str | None]  # message, fix, element id, file

_SUPPORTED = ("UNIQUE", "FIRST", "COLLECT")


def _decisions(name: str, tree: etree._ElementTree) -> tuple[dict[str, str], list[Problem]]:
    """The decision ids a DMN file defines (id → file), and what is wrong with its tables."""
    root, problems, found = tree.getroot(), [], {}
    decisions = [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "decision"]
    if not decisions:
        problems.append((said("DMN 文件中没有任何决策（decision）"), said("在 DMN 中定义一个决策表"), None, name))
    for decision in decisions:
        found[decision.get("id")] = name
        tables = [e for e in decision if isinstance(e.tag, str) and etree.QName(e).localname == "decisionTable"]
        label = decision.get("name") or decision.get("id")
        if len(tables) != 1:
            problems.append((said("决策“%(label)s”应当恰好有一张决策表（现有 %(tables)s 张）", label=label,
                                  tables=len(tables)),
                             said("每个决策只放一张决策表；多张表拆成多个决策"), decision.get("id"), name))
            continue
        policy = (tables[0].get("hitPolicy") or "UNIQUE").upper()
        if policy not in _SUPPORTED:
            problems.append((said("决策“%(label)s”的命中策略 %(policy)s 不受支持"
                             "（SpiffWorkflow 只执行 UNIQUE、FIRST、COLLECT）", label=label, policy=policy),
                             said("改用 UNIQUE（只有一行命中）、FIRST（取第一条命中的规则）"
                                  "或 COLLECT（收集所有命中的输出）"),
                             decision.get("id"), name))
        if tables[0].get("aggregation"):
            problems.append((said("决策“%(label)s”的 COLLECT 聚合 %(aggregation)s 不受支持", label=label,
                                  aggregation=tables[0].get("aggregation")),
                             said("去掉 aggregation，收集全部输出后在脚本任务中求和、计数或取最值"),
                             decision.get("id"), name))
    return found, problems


def decision_problems(dmn_files: dict[str, str], trees: dict[str, etree._ElementTree]) -> list[Problem]:
    """Every DMN file readable with one decision table per decision in a supported policy, and every
    businessRuleTask calling a decision that exists."""
    problems: list[Problem] = []
    defined: dict[str, str] = {}
    for name, text in dmn_files.items():
        try:
            found, own = _decisions(name, parse_xml(text, name))
        except OnewindowError as exc:
            problems.append((exc.message, said("修正 DMN 文件的 XML 后重新保存"), None, name))
            continue
        defined.update(found)
        problems += own
    for name, tree in trees.items():
        for task in tree.getroot().iterfind(".//bpmn:businessRuleTask", NS):
            label = task.get("name") or task.get("id")
            called = task.find("./bpmn:extensionElements/spiffworkflow:calledDecisionId", NS)
            decision = (called.text or "").strip() if called is not None else ""
            if not decision:
                problems.append((said("业务规则任务“%(label)s”没有指定要调用的决策（calledDecisionId）", label=label),
                                 said("在任务的扩展属性中填写 DMN 决策的 id"), task.get("id"), name))
            elif decision not in defined:
                there = listed(sorted(defined), ENUMERATION_COMMA) or said("（事项文件夹中没有 .dmn 文件）")
                problems.append((said("业务规则任务“%(label)s”调用的决策“%(decision)s”不存在；已有的决策：%(there)s",
                                      label=label, decision=decision, there=there),
                                 said("把定义该决策的 .dmn 文件放进事项文件夹，或更正 calledDecisionId"),
                                 task.get("id"), name))
    return problems
