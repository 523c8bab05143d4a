"""Deployment and lint: immutable numbered versions, no-op redeploys, errors that name the element.

Serves S-9 (catalogue changes are recorded) and S-17 (flows change without a programmer, safely).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.catalogue.deployment import deploy_package
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.errors import LintFailed, PackageError
from engine.store.tables import process_versions

ROOT = Path(__file__).resolve().parent.parent
JOINT = ROOT / "processes" / "demo-joint-review"


@pytest.fixture
def package_dir(tmp_path) -> Path:
    """A private copy of the joint-review item (with its forms) to break in each test."""
    folder = tmp_path / "item"
    shutil.copytree(JOINT, folder)
    for form in ("accept.json", "accept-uischema.json", "review.json", "issue.json"):
        shutil.copy(ROOT / "forms" / form, folder / form)
    return folder


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "joint-review.bpmn"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _findings(folder: Path):
    return lint_package(load_package(folder)).findings


def test_deploy_stores_an_immutable_numbered_version_and_identical_content_is_a_no_op(db, package_dir):
    first = deploy_package(db, load_package(package_dir), "analyst-a")
    again = deploy_package(db, load_package(package_dir), "analyst-b")
    assert (first.created, first.version) == (True, 1)
    assert (again.created, again.version) == (False, 1)
    assert "与第 1 版内容相同" in again.message
    _edit(package_dir, 'name="办结发证"', 'name="办结并发证"')
    second = deploy_package(db, load_package(package_dir), "analyst-b")
    assert (second.created, second.version) == (True, 2)
    assert second.content_hash != first.content_hash
    with db.reading() as conn:
        rows = conn.execute(select(process_versions).order_by(process_versions.c.number)).all()
    assert [(r.number, r.deployed_by, r.content_hash) for r in rows] == [
        (1, "analyst-a", first.content_hash), (2, "analyst-b", second.content_hash)]
    assert all(r.deployed_at is not None and "joint-review.bpmn" in r.files for r in rows)
    assert "办结并发证" not in rows[0].files["joint-review.bpmn"]


def test_the_demo_item_lints_clean(package_dir):
    assert _findings(package_dir) == []


def test_a_user_task_without_a_form_is_an_error_naming_the_element(package_dir):
    _edit(package_dir, '<spiffworkflow:property name="formJsonSchemaFilename" value="issue.json" />', "")
    errors = [f for f in _findings(package_dir) if f.severity == "error"]
    assert [(f.element_id, f.file) for f in errors] == [("issue", "joint-review.bpmn")]
    assert "formJsonSchemaFilename" in errors[0].fix


def test_a_missing_form_file_is_an_error(package_dir):
    _edit(package_dir, 'value="issue.json"', 'value="no-such-form.json"')
    errors = _findings(package_dir)
    assert [(f.element_id, "no-such-form.json" in f.message) for f in errors] == [("issue", True)]


def test_a_form_that_is_not_a_valid_json_schema_is_an_error(package_dir):
    (package_dir / "issue.json").write_text('{"type": "object", "properties": {"x": {"type": "strnig"}}}')
    errors = _findings(package_dir)
    assert [f.element_id for f in errors] == ["issue"]
    assert "JSON Schema" in errors[0].message


def test_a_user_task_outside_every_lane_is_an_error(package_dir):
    _edit(package_dir, "<bpmn:flowNodeRef>issue</bpmn:flowNodeRef>", "")
    errors = _findings(package_dir)
    assert [f.element_id for f in errors] == ["issue"]
    assert "泳道" in errors[0].message


def test_a_gateway_flow_without_condition_is_an_error_naming_the_flow(package_dir):
    _edit(package_dir, '<bpmn:parallelGateway id="join"', '<bpmn:exclusiveGateway id="join"')
    _edit(package_dir, "</bpmn:parallelGateway>\n    <bpmn:userTask id=\"issue\"",
          "</bpmn:exclusiveGateway>\n    <bpmn:userTask id=\"issue\"")
    _edit(package_dir, '<bpmn:outgoing>f_join_issue</bpmn:outgoing>',
          '<bpmn:outgoing>f_join_issue</bpmn:outgoing><bpmn:outgoing>f_join_end</bpmn:outgoing>')
    _edit(package_dir, '<bpmn:sequenceFlow id="f_issue_end"',
          '<bpmn:sequenceFlow id="f_join_end" sourceRef="join" targetRef="end" />\n'
          '    <bpmn:sequenceFlow id="f_issue_end"')
    errors = _findings(package_dir)
    assert sorted(f.element_id for f in errors) == ["f_join_end", "f_join_issue"]


def test_an_escaping_condition_is_refused_at_lint(package_dir):
    _edit(package_dir, '<bpmn:sequenceFlow id="f_join_issue" sourceRef="join" targetRef="issue" />',
          '<bpmn:sequenceFlow id="f_join_issue" sourceRef="join" targetRef="issue">'
          '<bpmn:conditionExpression>().__class__.__bases__[0].__subclasses__()</bpmn:conditionExpression>'
          '</bpmn:sequenceFlow>')
    errors = _findings(package_dir)
    assert [f.element_id for f in errors] == ["f_join_issue"]
    assert "__class__" in errors[0].message


def test_malformed_xml_is_refused_with_the_file_name(package_dir):
    _edit(package_dir, "</bpmn:process>", "</bpmn:proces>")
    errors = _findings(package_dir)
    assert errors and errors[0].file == "joint-review.bpmn" and "not well-formed" in errors[0].message


def test_malformed_xml_without_process_id_is_still_a_finding(package_dir):
    (package_dir / "item.json").write_text(
        '{"code": "X-2", "name": "测试", "department": "测试部门", "handling_mode": "direct"}', encoding="utf-8")
    _edit(package_dir, "</bpmn:process>", "</bpmn:proces>")
    files = {f.file for f in _findings(package_dir)}
    assert "joint-review.bpmn" in files


def test_xml_entities_are_refused_before_parsing(db, package_dir):
    path = package_dir / "joint-review.bpmn"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('<?xml version="1.0" encoding="UTF-8"?>',
                                 '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
                    .replace('name="受理"', 'name="&e;"'))
    errors = _findings(package_dir)
    assert [f.file for f in errors] == ["joint-review.bpmn"] and "DOCTYPE" in errors[0].message
    with pytest.raises(LintFailed):
        deploy_package(db, load_package(package_dir), "analyst")


def test_an_oversized_file_is_refused_with_the_limit(package_dir):
    (package_dir / "huge.bpmn").write_text("<x>" + " " * (3 * 1024 * 1024) + "</x>")
    with pytest.raises(PackageError, match="limit"):
        load_package(package_dir)


def test_an_unknown_bpmn_element_is_reported_by_schema_validation(package_dir):
    _edit(package_dir, '<bpmn:endEvent id="end" name="办结">', '<bpmn:endEvent id="end" name="办结" bogus="1">')
    errors = _findings(package_dir)
    assert errors and "bogus" in errors[0].message


def test_missing_item_metadata_blocks_the_deploy(db, package_dir):
    (package_dir / "item.json").write_text('{"code": "X-1", "name": "无部门事项"}', encoding="utf-8")
    with pytest.raises(LintFailed) as err:
        deploy_package(db, load_package(package_dir), "analyst")
    assert any("department" in f["message"] for f in err.value.findings)
    with db.reading() as conn:
        assert conn.execute(select(process_versions)).all() == []


def test_a_call_to_an_undefined_process_is_an_error(package_dir):
    _edit(package_dir, '<bpmn:userTask id="issue" name="办结发证">',
          '<bpmn:callActivity id="relay" calledElement="no_such_process" />\n'
          '    <bpmn:userTask id="issue" name="办结发证">')
    errors = _findings(package_dir)
    assert any("no_such_process" in f.message for f in errors)


def test_an_unquoted_timer_value_is_an_error_naming_the_event(package_dir):
    _edit(package_dir, '<bpmn:userTask id="issue" name="办结发证">',
          '<bpmn:boundaryEvent id="remind" attachedToRef="issue" cancelActivity="false">'
          '<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition>'
          '</bpmn:boundaryEvent>\n    <bpmn:userTask id="issue" name="办结发证">')
    errors = [f for f in _findings(package_dir) if "定时器" in f.message]
    assert [f.element_id for f in errors] == ["remind"]
    assert '"P1D"' in errors[0].fix


def test_an_untyped_task_that_would_wait_for_nobody_is_an_error(package_dir):
    _edit(package_dir, '<bpmn:userTask id="issue" name="办结发证">',
          '<bpmn:task id="note" name="备注" />\n    <bpmn:userTask id="issue" name="办结发证">')
    errors = [f for f in _findings(package_dir) if "userTask" in f.fix]
    assert [f.element_id for f in errors] == ["note"] and "scriptTask" in errors[0].fix


def test_a_timer_path_that_approves_without_a_person_is_an_error(package_dir):
    _edit(package_dir, '<bpmn:userTask id="issue" name="办结发证">',
          '<bpmn:boundaryEvent id="auto" name="三日未办" attachedToRef="issue">'
          '<bpmn:outgoing>f_auto</bpmn:outgoing><bpmn:timerEventDefinition id="ta">'
          '<bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
          '<bpmn:scriptTask id="stamp" name="自动盖章"><bpmn:incoming>f_auto</bpmn:incoming>'
          '<bpmn:outgoing>f_stamp</bpmn:outgoing><bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>'
          '<bpmn:endEvent id="auto_ok"><bpmn:extensionElements><spiffworkflow:properties>'
          '<spiffworkflow:property name="caseStatus" value="approved" /></spiffworkflow:properties>'
          '</bpmn:extensionElements><bpmn:incoming>f_stamp</bpmn:incoming></bpmn:endEvent>'
          '<bpmn:sequenceFlow id="f_auto" sourceRef="auto" targetRef="stamp" />'
          '<bpmn:sequenceFlow id="f_stamp" sourceRef="stamp" targetRef="auto_ok" />'
          '\n    <bpmn:userTask id="issue" name="办结发证">')
    errors = _findings(package_dir)
    assert [f.element_id for f in errors] == ["auto"] and "用户任务" in errors[0].fix


def _set_metadata(package_dir: Path, edit) -> None:
    path = package_dir / "item.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    edit(metadata)
    path.write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("field", ["legal_basis", "materials", "procedure", "statutory_limit_days",
                                   "committed_limit_days", "fees", "place", "hours", "visits"])
def test_an_item_whose_guide_misses_a_field_does_not_deploy(db, package_dir, field):
    """S-10: the six publics and the fields of a real 办事指南 are published for every item."""
    _set_metadata(package_dir, lambda m: m["guide"].pop(field))
    with pytest.raises(LintFailed) as err:
        deploy_package(db, load_package(package_dir), "analyst")
    assert any(field in f["message"] and f["file"] == "item.json" for f in err.value.findings)


def test_a_committed_limit_beyond_the_statutory_one_is_refused(package_dir):
    _set_metadata(package_dir, lambda m: m["guide"].update(committed_limit_days=30, statutory_limit_days=20))
    assert any("超过了法定时限" in f.message for f in _findings(package_dir))


def test_an_on_the_spot_item_promises_zero_days(package_dir):
    _set_metadata(package_dir, lambda m: m.update(handling_mode="direct"))
    assert any("即办件" in f.message for f in _findings(package_dir))


def test_a_material_must_say_original_or_copy(package_dir):
    _set_metadata(package_dir, lambda m: m["guide"]["materials"][0].update(form="随便"))
    errors = _findings(package_dir)
    assert any("原件" in f.fix and "申请材料" in f.message for f in errors)


def test_an_orphan_element_is_an_error_naming_it(package_dir):
    _edit(package_dir, '<bpmn:userTask id="issue" name="办结发证">',
          '<bpmn:scriptTask id="lost" name="孤立脚本"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>\n'
          '    <bpmn:userTask id="issue" name="办结发证">')
    errors = _findings(package_dir)
    assert [(f.element_id, "进入" in f.message or "离开" in f.message) for f in errors] == [("lost", True)] * 2
