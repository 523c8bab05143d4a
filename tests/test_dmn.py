"""DMN decision tables are packaged, hashed and versioned with the item, and linted by name (issue 17, item 4).

The running of a table is in tests/test_corpus.py (dmn-fee: FIRST policy, bare SpiffWorkflow's answer).
"""

from __future__ import annotations

import json
import shutil

import catalogue_walk
import pytest
from conftest import DATA_DIR, PROCESSES, item_metadata, make_actor

from engine.catalogue.deployment import deploy_package
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.org import orgtree
from engine.runtime.change import load_workflow

MODEL = DATA_DIR / "corpus" / "dmn-fee"


@pytest.fixture
def folder(tmp_path):
    item = tmp_path / "DMN-001"
    shutil.copytree(MODEL, item, ignore=shutil.ignore_patterns("expected.json"))
    (item / "item.json").write_text(json.dumps(item_metadata("DMN-001"), ensure_ascii=False), encoding="utf-8")
    return item


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def errors(folder):
    return [f for f in lint_package(load_package(folder)).findings if f.severity == "error"]


def test_the_table_travels_with_the_item_and_changing_a_row_is_a_new_version(db, folder):
    package = load_package(folder)
    assert "fee_rules.dmn" in package.files and errors(folder) == []
    first = deploy_package(db, package, "analyst")
    edit(folder / "fee_rules.dmn", "<text>300</text>", "<text>350</text>")
    second = deploy_package(db, load_package(folder), "analyst")
    assert (first.version, second.version) == (1, 2) and first.content_hash != second.content_hash


def test_a_task_calling_a_decision_no_file_defines_names_it_and_the_ones_there_are(folder):
    edit(folder / "dmn_fee.bpmn", ">fee_rule<", ">fee_rules_2026<")
    [finding] = errors(folder)
    assert finding.element_id == "decide_fee" and finding.file == "dmn_fee.bpmn"
    assert "“fee_rules_2026”不存在" in finding.message and "fee_rule" in finding.message


def test_a_decision_table_file_missing_from_the_folder_is_said_in_words(folder):
    (folder / "fee_rules.dmn").unlink()
    [finding] = errors(folder)
    assert "没有 .dmn 文件" in finding.message and "Available DMN ids" not in finding.message


def test_a_business_rule_task_without_a_decision_id_is_refused(folder):
    edit(folder / "dmn_fee.bpmn", "<spiffworkflow:calledDecisionId>fee_rule</spiffworkflow:calledDecisionId>", "")
    assert [(f.element_id, "calledDecisionId" in f.message) for f in errors(folder)] == [("decide_fee", True)]


@pytest.mark.parametrize("policy", ["ANY", "PRIORITY", "RULE ORDER", "OUTPUT ORDER"])
def test_a_hit_policy_spiffworkflow_would_run_as_another_is_refused_by_name(folder, policy):
    edit(folder / "fee_rules.dmn", 'hitPolicy="FIRST"', f'hitPolicy="{policy}"')
    [finding] = errors(folder)
    assert finding.element_id == "fee_rule" and finding.file == "fee_rules.dmn" and policy in finding.message


def test_a_collect_aggregation_is_refused_with_what_to_do_instead(folder):
    edit(folder / "fee_rules.dmn", 'hitPolicy="FIRST"', 'hitPolicy="COLLECT" aggregation="SUM"')
    [finding] = errors(folder)
    assert "SUM" in finding.message and "脚本任务" in finding.fix


@pytest.mark.parametrize("text", ["<definitions", '<!DOCTYPE x [<!ENTITY e "boom">]><definitions'])
def test_an_unreadable_or_hostile_table_file_is_refused_naming_the_file(folder, text):
    edit(folder / "fee_rules.dmn", "<definitions", text if text != "<definitions" else "<definitions><broken")
    found = errors(folder)
    assert found and all(f.file == "fee_rules.dmn" or f.element_id == "decide_fee" for f in found)
    assert any(f.file == "fee_rules.dmn" for f in found)


@pytest.mark.parametrize("kind, use, fee", [
    ("个人", "住宅", 80),  # 发改价格规〔2016〕2559号: residential, 80 yuan a registration
    ("企业或其他组织", "商业服务", 550),  # the same: non-residential, 550 yuan
    ("小微企业（含个体工商户）", "商业服务", 0),  # 财税〔2016〕79号: small businesses pay none
])
def test_gt_003_fixes_the_registration_fee_by_its_decision_table(db, monkeypatch, kind, use, fee):
    """The catalogue's real rule (issue 17, item 4): 国有建设用地使用权登记 decides its fee from the
    applicant's answers with registration_fee.dmn, after approval and before the certificate."""
    units = orgtree.install(db)
    deploy_package(db, load_package(PROCESSES / "catalogue" / "guotu" / "GT-003"), "analyst")
    sampled = catalogue_walk.application
    monkeypatch.setattr(catalogue_walk, "application",
                        lambda db, code: {**sampled(db, code), "applicant_kind": kind, "land_use": use})
    front = catalogue_walk.fronts_for({"department": "市国土资源局本区分局", "level": "district"}, units)["区级窗口"]
    walker = make_actor(db, "walker", [], ["admin"])
    done = catalogue_walk.walk(db, "GT-003", walker, catalogue_walk.Path("批准", front))
    data = load_workflow(db, done.case_no).data
    assert done.status == "approved"
    assert data["registration_fee"] == fee and "号" in data["registration_fee_basis"]
