"""The catalogue walk copes with an item whose gateways read the application's own answers (issue 17,
item 8): an analyst's new item routes 餐饮 applications through a hygiene check, and the walk applies with
every field the item's application form defines, so the gateway has what it reads."""

from __future__ import annotations

import json

import catalogue_walk
from conftest import item_metadata, make_actor

from engine.catalogue.deployment import deploy_package
from engine.diagrams.package import load_package

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://x">
  <bpmn:process id="shop_licence" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="kind" name="经营类别？" default="to_decide"/>
    <bpmn:userTask id="hygiene" name="卫生核查">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="check.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="decide" name="决定">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="check.json"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="kind"/>
    <bpmn:sequenceFlow id="to_hygiene" sourceRef="kind" targetRef="hygiene">
      <bpmn:conditionExpression>business_type == "餐饮"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_decide" sourceRef="kind" targetRef="decide"/>
    <bpmn:sequenceFlow id="f2" sourceRef="hygiene" targetRef="decide"/>
    <bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
APPLICATION = {"type": "object", "required": ["business_type"],
               "properties": {"business_type": {"type": "string", "title": "经营类别", "enum": ["餐饮", "零售"]}}}
CHECK = {"type": "object", "properties": {"note": {"type": "string", "title": "说明"}}}


def test_a_new_item_whose_gateway_reads_the_application_walks_to_its_end(db, tmp_path):
    folder = tmp_path / "SHOP-001"
    folder.mkdir()
    (folder / "shop.bpmn").write_text(BPMN, encoding="utf-8")
    (folder / "application-shop.json").write_text(json.dumps(APPLICATION, ensure_ascii=False), encoding="utf-8")
    (folder / "check.json").write_text(json.dumps(CHECK, ensure_ascii=False), encoding="utf-8")
    meta = item_metadata("SHOP-001", name="食品经营许可（测试）", application_form="application-shop.json",
                         process_id="shop_licence")
    (folder / "item.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    deploy_package(db, load_package(folder), "analyst")
    assert catalogue_walk.application(db, "SHOP-001")["business_type"] == "餐饮"  # the form's first answer
    done = catalogue_walk.walk(db, "SHOP-001", make_actor(db, "walker", [], ["admin"]),
                               catalogue_walk.Path("全部通过", None))
    assert done.status == "completed" and [step for step, _, _ in done.steps] == ["hygiene", "decide"]
