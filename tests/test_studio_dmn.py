"""Decision tables in the studio and in the version diff (issue 17, item 4): the rules that changed are
named by their description or their input values, never as raw XML; the decision-table page opens only
a .dmn the draft has, for analysts only; a save that is not DMN is refused; and a draft of an item with
its own application form and a table (GT-003), or an application form alone (MZ-001), lints clean and
deploys with its files unchanged."""

from __future__ import annotations

import json
import re

import pytest
from conftest import PROCESSES, deploy, make_actor
from test_studio import log_in, post_json

from engine.catalogue import drafts
from engine.catalogue.deployment import deploy_package
from engine.diagrams.dmndiff import rule_changes
from engine.diagrams.package import ProcessPackage, load_package
from engine.diagrams.versiondiff import diff_files
from engine.org import orgtree

TABLE = (PROCESSES / "catalogue" / "guotu" / "GT-003" / "registration_fee.dmn").read_text(encoding="utf-8")
NAME = "registration_fee.dmn"
NEW_RULE = """<rule id="rule_new">
        <inputEntry id="n1"><text>"个人"</text></inputEntry>
        <inputEntry id="n2"><text>"车库"</text></inputEntry>
        <outputEntry id="n3"><text>80</text></outputEntry>
        <outputEntry id="n4"><text>"示例"</text></outputEntry>
      </rule>
    </decisionTable>"""


def test_a_changed_cell_is_named_by_the_rules_description_and_its_column():
    changed = TABLE.replace("<text>80</text>", "<text>90</text>")
    [change] = rule_changes({NAME: TABLE}, {NAME: changed})
    assert (change.status, change.label, change.decision) == ("changed", "住宅类不动产登记", "核定登记费")
    assert [(c.column, c.old, c.new) for c in change.cells] == [("登记费（元/件）", "80", "90")]
    assert "住宅类不动产登记" in change.summary and "80 → 90" in change.summary


def test_an_added_rule_without_a_description_is_named_by_its_input_values_and_a_removed_one_by_its_own():
    added = TABLE.replace("</decisionTable>", NEW_RULE)
    [change] = rule_changes({NAME: TABLE}, {NAME: added})
    assert (change.status, change.label) == ("added", '申请人类别 = "个人"，土地用途 = "车库"')
    [removed] = rule_changes({NAME: added}, {NAME: TABLE})
    assert removed.status == "removed" and "车库" in removed.label


def test_reformatting_alone_changes_no_rule_and_the_file_diff_says_so():
    reformatted = TABLE.replace("\n", "\n  ")
    elements, files = diff_files({NAME: TABLE}, {NAME: reformatted})
    assert elements == [] and files[0].rules == () and "规则未变" in files[0].notes[0]
    _, files = diff_files({NAME: TABLE}, {NAME: TABLE.replace("<text>550</text>", "<text>600</text>")})
    assert [r.label for r in files[0].rules] == ["非住宅类不动产登记"]


@pytest.mark.parametrize("hostile", [
    "not xml at all <",
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><definitions>&x;</definitions>',
    '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"><decision id="d"/></definitions>',
])
def test_a_hostile_or_empty_table_gives_no_rules_and_no_crash(hostile):
    assert rule_changes({NAME: TABLE}, {NAME: hostile})[0].status == "removed"
    assert rule_changes({NAME: hostile}, {NAME: hostile}) == []


@pytest.fixture
def gt003(db):
    orgtree.install(db)
    deploy(db, "catalogue/guotu/GT-003")


def test_the_decision_table_page_opens_only_the_drafts_own_tables_for_analysts(client, db, gt003):
    make_actor(db, "ana", [], ["analyst"])
    make_actor(db, "clerk1", [], ["clerk"])
    token = log_in(client, "ana")
    response = client.post("/studio/items/GT-003/drafts", data={"version": "1", "csrf_token": token})
    draft = int(response.headers["Location"].rstrip("/").split("/")[-1])
    modeler = client.get(f"/studio/drafts/{draft}").get_data(as_text=True)
    assert f'href="/studio/drafts/{draft}/decisions/{NAME}"' in modeler
    page = client.get(f"/studio/drafts/{draft}/decisions/{NAME}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/dmn-js/dmn-modeler.production.min.js" in html and "<script>" not in html
    xml = client.get(f"/studio/drafts/{draft}/files/{NAME}")
    assert xml.mimetype == "application/xml" and "核定登记费" in xml.get_data(as_text=True)
    for other in ("item.json", "state_land_use_registration.bpmn", "../registration_fee.dmn", "nope.dmn"):
        assert client.get(f"/studio/drafts/{draft}/decisions/{other}").status_code == 404, other

    refused = post_json(client, token, f"/studio/drafts/{draft}/files/{NAME}",
                        {"text": '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'})
    assert refused.status_code == 400 and "不是 DMN 决策表" in refused.get_json()["message"]
    saved = post_json(client, token, f"/studio/drafts/{draft}/files/{NAME}",
                      {"text": TABLE.replace("<text>80</text>", "<text>90</text>")})
    assert saved.status_code == 200 and saved.get_json()["ok"] is True

    client.post("/logout", data={"csrf_token": token})
    log_in(client, "clerk1")
    assert client.get(f"/studio/drafts/{draft}/decisions/{NAME}").status_code == 403


def test_the_version_diff_page_lists_the_changed_rule_cell_by_cell_and_the_file(client, db, gt003):
    """What the analyst reads after deploying a changed fee (S-17: the flow changes without a programmer, and
    the change is shown in the table's own words): the rule by its description, the column, old → new; and the
    .dmn file among the changed files, with how many of its rules changed."""
    package = load_package(PROCESSES / "catalogue" / "guotu" / "GT-003")
    files = {**package.files, NAME: TABLE.replace("<text>80</text>", "<text>90</text>")}
    deploy_package(db, ProcessPackage(package.metadata, files), "ana")
    make_actor(db, "ana", [], ["analyst"])
    log_in(client, "ana")
    page = client.get("/studio/items/GT-003/diff?from=1&to=2").get_data(as_text=True)
    rules = page[page.index('id="rule-changes"'):page.index("</table>", page.index('id="rule-changes"'))]
    assert rules.count("<tr class=\"sv-") == 1 and 'data-status="changed"' in rules
    assert "住宅类不动产登记" in rules and "核定登记费" in rules and NAME in rules
    assert re.search(r'<th>登记费（元/件）</th>\s*<td class="old">80</td><td class="arrow">→</td>\s*'
                     r'<td class="new">90</td>', rules)
    assert "<rule" not in rules and "inputEntry" not in rules  # never the raw XML
    changed = page[page.index('id="file-changes"'):page.index("</table>", page.index('id="file-changes"'))]
    assert re.search(rf'<td class="mono">{NAME}</td><td><span class="sv-badge sv-badge-changed">修改</span></td>'
                     r"<td>规则变更 1 条</td>", changed)


@pytest.mark.parametrize("folder, code", [("catalogue/guotu/GT-003", "GT-003"),
                                          ("catalogue/minzheng/MZ-001", "MZ-001")])
def test_a_draft_keeps_the_items_application_form_and_tables_lints_clean_and_deploys_unchanged(db, folder, code):
    orgtree.install(db)
    deploy(db, folder)
    analyst = make_actor(db, "ana", [], ["analyst"])
    before = drafts.version_files(db, code, 1)
    assert json.loads(before["item.json"]).get("application_form")
    draft = drafts.open_draft(db, code, 1, analyst)
    report = drafts.lint_draft(draft)
    assert report.ok and [f for f in report.findings if f.severity == "error"] == []
    result = drafts.deploy_draft(db, draft, analyst, warnings_acknowledged=True)
    # unchanged: the same content hash, so the deploy is version 1 itself, not a version 2 missing a file
    assert (result.version, result.created) == (1, False)
    application_form = "forms/" + json.loads(before["item.json"])["application_form"]
    assert application_form in drafts.draft_package(draft).files
