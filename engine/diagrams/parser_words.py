"""SpiffWorkflow's parser messages, in the analyst's words.

The parser speaks English to programmers ("When looking for a task spec, we found two items…" for a
flow whose target is missing). Lint shows what it says only where our own rules have not already
named the problem, and then in Chinese with a fix; a message we have not met keeps its original text
behind a Chinese lead, so nothing the parser knows is hidden.
"""

from __future__ import annotations

import re

from engine.messages import Said, said, to_say

# (pattern on the parser's first line, message, fix); `%(first)s`, `%(second)s` are the pattern's groups.
_KNOWN: tuple[tuple[re.Pattern[str], str, Said], ...] = tuple((re.compile(p, re.S), m, f) for p, m, f in (
    (r"When looking for a task spec, we found two items.*\((.*)\)",
     to_say("连线指向的元素“%(first)s”不存在"), said("把连线接到流程中已有的元素上，或删除这条连线")),
    (r"The process '(.*)' was not found",
     to_say("找不到要启动的流程“%(first)s”"),
     said("在 item.json 的 process_id 中填写一个 isExecutable=\"true\" 的流程 id")),
    (r"Process (\S+) is not executable",
     to_say("流程“%(first)s”没有标记为可执行"), said("在该流程上设置 isExecutable=\"true\"")),
    (r"No start event found", to_say("流程没有开始事件"), said("添加一个开始事件（startEvent）并连到第一个环节")),
    (r"Multiple outgoing flows are not supported for tasks of type",
     to_say("该元素有多条流出的连线，但它的类型不能分支"),
     said("在它后面加一个网关（排他或并行），由网关分出多条连线")),
    (r"Non-default exclusive outgoing sequence flow without condition",
     to_say("排他网关流出的连线没有条件"), said("为它写条件，或把它设为该网关的默认流")),
    (r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
     to_say("子流程必须恰好有一个开始事件（现有 %(first)s 个）"), said("在子流程中只保留一个开始事件")),
    (r'No "calledElement" attribute for Call Activity',
     to_say("调用活动没有指定要调用的流程（calledElement）"), said("填写被调用流程的 id")),
    (r"Invalid Script Task\.\s+No Script Provided",
     to_say("脚本任务没有脚本"), said("填写脚本，或把它改为其他类型的任务")),
    (r"Duplicate process ID: (\S+)",
     to_say("流程 id“%(first)s”重复"), said("给每个流程一个不同的 id（包括 processes/shared/ 中的流程）")),
    (r"Could not find messageRef from message event definition: (\S+)",
     to_say("消息事件引用的消息“%(first)s”未定义"), said("在流程图中定义该消息（bpmn:message），或更正 messageRef")),
    (r"(?:Unknown Time Specification|Time Specification Error)",
     to_say("定时器的时间写法无法识别"),
     said("写成带引号的 ISO 8601 时间，如 \"P3D\"、\"PT2H\" 或 \"2026-12-31T09:00:00+08:00\"")),
    (r"Conditional event definition with missing condition",
     to_say("条件事件没有条件"), said("为条件事件写一个表达式")),
    (r"Sequential ordering for ad hoc subprocesses not supported",
     to_say("临时子流程（ad hoc）不支持顺序执行"), said("把 ordering 设为 Parallel，或改用普通子流程")),
    (r"Ad hoc subprocesses may not contain start or end events",
     to_say("临时子流程（ad hoc）中不能有开始或结束事件"), said("删除其中的开始和结束事件")),
    (r"A SubWorkflow Must contain an End event", to_say("子流程没有结束事件"), said("在子流程中添加结束事件")),
    (r"Cannot resolve (dataInputAssociation|dataOutputAssociation) (\S+)",
     to_say("数据关联“%(second)s”引用的数据对象不存在"), said("在流程中定义该数据对象（dataObject），或删除这条关联")),
    (r"There is no support implemented for this task type",
     to_say("平台不支持这种元素类型"), said("改用用户任务、人工任务、脚本任务、网关、事件、子流程或调用活动")),
    (r"Element '([^']+)', attribute '([^']+)': The attribute .* is not allowed",
     to_say("元素 %(first)s 不允许有属性 %(second)s（BPMN 2.0 的 XML Schema）"),
     said("删除该属性，或改用 BPMN 2.0 规定的写法")),
    (r"Element '([^']+)': This element is not expected",
     to_say("元素 %(first)s 不应出现在这里（BPMN 2.0 的 XML Schema）"), said("按 BPMN 2.0 的结构移动或删除该元素")),
    (r"Unsupported Catch Event", to_say("平台不支持这种捕获事件"),
     said("改用定时器、消息、信号、错误或升级（escalation）事件")),
    (r'No DMN Diagram available with id "([^"]*)"',
     to_say("调用的决策“%(first)s”不存在"), said("把定义该决策的 .dmn 文件放进事项文件夹，或更正 calledDecisionId")),
    (r"Multiple decision tables are not current supported",
     to_say("一个 DMN 决策中有多张决策表"), said("每个决策只放一张决策表")),
    (r"RecursionError", to_say("流程图的环节链过长，解析时超出了嵌套深度"),
     said("把流程拆成几个调用活动（callActivity），每段不超过数千个环节")),
))


def in_words(message: str) -> tuple[str, str]:
    """(message, fix) in Chinese for a parser message; the original stays readable when we do not know it."""
    first = message.strip().splitlines()[0] if message.strip() else message
    for pattern, words, fix in _KNOWN:
        if match := pattern.search(first):
            return Said(words, dict(zip(("first", "second"), match.groups(), strict=False))), fix
    return (said("流程解析器报告：%(first)s", first=first),
            said("按提示更正该元素；看不懂时把这句原文交给平台维护人员"))
