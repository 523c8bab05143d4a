"""Lint reports every finding of a diagram in one run, in Chinese, on the element at fault (issue 17, item 5),
accepts what spiff-arena's modeler writes (empty pre/post scripts, item 2) and what events start (event
subprocesses, compensation handlers, item 3), and lints a folder of items at once."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, item_metadata, make_actor

from engine.catalogue import demo
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.diagrams.parser_words import in_words
from engine.reads import queries

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs" targetNamespace="http://x">
  <bpmn:process id="{pid}" isExecutable="{executable}">
{body}
  </bpmn:process>
</bpmn:definitions>"""
ENGLISH = re.compile(r"[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}")  # a phrase of English words, not a name or id


def item(tmp_path: Path, body: str, code: str = "LINT-001", executable: str = "true", guide: bool = True) -> Path:
    folder = tmp_path / code
    folder.mkdir()
    (folder / "p.bpmn").write_text(BPMN.format(pid="p", executable=executable, body=body), encoding="utf-8")
    if guide:
        (folder / "item.json").write_text(json.dumps(item_metadata(code), ensure_ascii=False), encoding="utf-8")
    return folder


def findings(folder: Path):
    return lint_package(load_package(folder)).findings


def script(element_id: str, source: str = "x = 1", extra: str = "") -> str:
    return f'<bpmn:scriptTask id="{element_id}" name="脚本{element_id}">{extra}<bpmn:script>{source}</bpmn:script>' \
           "</bpmn:scriptTask>"


def chain(*elements: str) -> str:
    """start → each element → end, wired in order."""
    ids = ["start", *(re.search(r'id="([^"]+)"', e).group(1) for e in elements), "end"]
    flows = [f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}"/>'
             for n, (a, b) in enumerate(itertools.pairwise(ids))]
    return "\n".join(['<bpmn:startEvent id="start"/>', *elements, '<bpmn:endEvent id="end"/>', *flows])


def test_a_task_without_a_form_and_a_flow_to_nowhere_are_both_reported_each_on_its_element(tmp_path):
    folder = item(tmp_path, chain('<bpmn:userTask id="review" name="审查"/>').replace(
        'sourceRef="review" targetRef="end"', 'sourceRef="review" targetRef="ghost"'))
    found = {(f.element_id, f.message) for f in findings(folder)}
    assert ("review", "用户任务“审查”没有指定表单") in found
    assert ("f1", "连线“f1”指向不存在的元素“ghost”") in found
    assert all(not ENGLISH.search(m) for _, m in found), found  # no SpiffWorkflow English


def test_a_chain_of_five_hundred_steps_lints_deploys_and_runs_to_its_end(db, tmp_path):
    folder = item(tmp_path, chain(*(script(f"t{n}", f"x = {n}") for n in range(500))), code="LINT-500")
    assert [f.message for f in findings(folder) if f.severity == "error"] == []
    deploy_package(db, load_package(folder), "analyst")
    case = casework.start_case(db, "LINT-500", {"applicant_name": "张三"}, make_actor(db, "zs", [], ["applicant"]))
    assert queries.case_detail(db, case.case_no)["status"] == "completed"


def test_a_file_without_an_executable_process_says_so_in_words(tmp_path):
    folder = item(tmp_path, chain(), executable="false", guide=False)
    messages = [f.message for f in findings(folder) if f.file != "item.json"]  # no item.json: a sketch
    assert messages == ["文件中没有可执行的流程，办件无从开始"]


@pytest.mark.parametrize("condition, language", [
    ("<bpmn:conditionExpression>${approved}</bpmn:conditionExpression>", "JUEL/EL"),
    ('<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="http://www.omg.org/spec/FEEL/20140401">'
     "approved = true"
      "</bpmn:conditionExpression>", "FEEL"),
])
def test_a_condition_in_another_language_names_the_language_this_platform_expects(tmp_path, condition, language):
    body = chain('<bpmn:exclusiveGateway id="g" default="f1"/>').replace(
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g"/>',
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="g"/>'
        f'<bpmn:sequenceFlow id="yes" sourceRef="g" targetRef="end">{condition}</bpmn:sequenceFlow>')
    [finding] = [f for f in findings(item(tmp_path, body)) if f.severity == "error"]
    assert finding.element_id == "yes" and language in finding.message and "Python" in finding.message


def test_a_script_language_other_than_python_is_refused_by_name(tmp_path):
    body = chain(script("t").replace("<bpmn:scriptTask ", '<bpmn:scriptTask scriptFormat="groovy" '))
    [finding] = [f for f in findings(item(tmp_path, body)) if f.severity == "error"]
    assert finding.element_id == "t" and "groovy" in finding.message


def test_empty_pre_and_post_scripts_as_spiff_arenas_modeler_writes_them_are_ignored(db, tmp_path):
    hooks = "<bpmn:extensionElements><spiffworkflow:preScript /><spiffworkflow:postScript></spiffworkflow:postScript>" \
            "</bpmn:extensionElements>"
    folder = item(tmp_path, chain(script("t", extra=hooks)), code="LINT-EMPTY")
    assert [f for f in findings(folder) if f.severity == "error"] == []
    deploy_package(db, load_package(folder), "analyst")
    case = casework.start_case(db, "LINT-EMPTY", {"applicant_name": "张三"}, make_actor(db, "zs", [], ["applicant"]))
    assert queries.case_detail(db, case.case_no)["status"] == "completed"


def test_an_empty_script_task_is_still_an_error(tmp_path):
    [finding] = [f for f in findings(item(tmp_path, chain(script("t", "")))) if f.severity == "error"]
    assert (finding.element_id, finding.message) == ("t", "表达式或脚本为空")


def test_elements_started_by_events_are_not_orphans_and_compensation_is_refused_for_what_it_is(tmp_path):
    """The event subprocess runs (SpiffWorkflow starts it); compensation is standard BPMN that SpiffWorkflow 3.2
    does not execute: the handler is not called an orphan, the event is refused with that reason."""
    event_sub = """<bpmn:subProcess id="on_timer" triggeredByEvent="true">
      <bpmn:startEvent id="timer_start"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition></bpmn:startEvent>
      <bpmn:scriptTask id="remind"><bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
      <bpmn:endEvent id="timer_end"/>
      <bpmn:sequenceFlow id="e1" sourceRef="timer_start" targetRef="remind"/>
      <bpmn:sequenceFlow id="e2" sourceRef="remind" targetRef="timer_end"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="undo_hook" attachedToRef="pay"><bpmn:compensateEventDefinition/></bpmn:boundaryEvent>
    <bpmn:scriptTask id="refund" isForCompensation="true"><bpmn:script>paid = False</bpmn:script></bpmn:scriptTask>
    <bpmn:association id="a1" associationDirection="One" sourceRef="undo_hook" targetRef="refund"/>"""
    body = chain(script("pay", "paid = True")) + event_sub
    [finding] = [f for f in findings(item(tmp_path, body)) if f.severity == "error"]
    assert finding.element_id == "undo_hook" and "补偿" in finding.message and "SpiffWorkflow" in finding.message


def test_a_lane_named_neither_a_role_nor_a_group_of_the_org_tree_is_found_on_its_task(tmp_path):
    """Lanes say who handles a step (S-1, S-3: the org tree's windows and groups): a lane naming an unknown role,
    or a group the org tree does not have, leaves its task to nobody — found on the task, with the fix."""
    form = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property ' \
           'name="formJsonSchemaFilename" value="review.json"/></spiffworkflow:properties></bpmn:extensionElements>'
    lanes = """<bpmn:laneSet id="lanes">
      <bpmn:lane id="l1" name="【受理窗口】"><bpmn:flowNodeRef>fine</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="【科长】"><bpmn:flowNodeRef>by_role</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l3" name="民政审批股"><bpmn:flowNodeRef>by_group</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>"""
    body = lanes + chain(*(f'<bpmn:userTask id="{element}" name="{name}">{form}</bpmn:userTask>'
                           for element, name in (("fine", "受理"), ("by_role", "审核"), ("by_group", "审批"))))
    found = {f.element_id: f for f in findings(item(tmp_path, body)) if "泳道" in f.message}
    assert set(found) == {"by_role", "by_group"}
    assert found["by_role"].message == "泳道“【科长】”不是已知角色" and "【受理窗口】" in found["by_role"].fix
    assert "既不是【角色】，也不是组织机构中的岗位组" in found["by_group"].message
    assert "processes/org.json" in found["by_group"].fix and all(f.severity == "error" for f in found.values())


def test_a_parser_finding_our_rules_do_not_cover_arrives_in_chinese_on_its_element(tmp_path):
    wait = '<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:timerEventDefinition/>' \
           "</bpmn:intermediateCatchEvent>"
    [finding] = [f for f in findings(item(tmp_path, chain(wait))) if f.severity == "error"]
    assert finding.element_id == "wait" and finding.message == "定时器的时间写法无法识别" and "P3D" in finding.fix


def test_a_parser_message_we_have_not_met_keeps_its_text_behind_a_chinese_lead():
    message, fix = in_words("Something new went wrong\nwith details")
    assert message == "流程解析器报告：Something new went wrong" and "维护人员" in fix


def test_onewindow_lint_of_a_folder_of_items_lints_every_item_under_it(tmp_path):
    done = subprocess.run([sys.executable, "-m", "onewindow", "--json", "lint", str(ROOT / "processes")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    results = json.loads(done.stdout)
    assert done.returncode == 0, [r for r in results if not r["ok"]]
    linted = {Path(r["path"]).resolve() for r in results}
    assert linted == {p.resolve() for p in demo.item_folders(ROOT / "processes")} | {ROOT / "processes" / "shared"}
    assert len(linted) > 60  # the catalogue, not one "folder without a diagram" finding
