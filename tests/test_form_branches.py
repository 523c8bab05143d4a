"""Fields of an answer not chosen are neither shown, nor sent, nor kept (issue 16, item 4).

The rule is read off the form's JSON Schema (engine/diagrams/branches.py): a field the `then` (or `else`) of
an answer requires or declares belongs to that answer. The desk's page marks such fields with the answer
they belong to (desk.js hides and disables them), and the engine drops them from a submission whose answer
is another — so a 受理 never carries the missing-materials list a clerk ticked before changing their mind,
with or without JavaScript.
"""

from __future__ import annotations

import re

import joint_cases
from conftest import csrf, log_in

from engine.desk import submission
from engine.diagrams import branches
from engine.reads import queries

ACCEPT_FORM = {
    "type": "object", "required": ["decision"],
    "properties": {"decision": {"type": "string", "enum": ["受理", "补正", "不予受理"]},
                   "missing_materials": {"type": "array", "items": {"type": "string"}},
                   "reason": {"type": "string"}, "legal_basis": {"type": "string"}, "remark": {"type": "string"}},
    "allOf": [{"if": {"properties": {"decision": {"const": "补正"}}}, "then": {"required": ["missing_materials"]}},
              {"if": {"properties": {"decision": {"const": "不予受理"}}},
               "then": {"required": ["reason"], "properties": {"legal_basis": {"minLength": 4}}}}],
}
ELSE_FORM = {  # forms/district-review.json's shape: an else branch owns what every other answer needs
    "type": "object", "required": ["approval"],
    "properties": {"approval": {"enum": ["批准", "不予批准"]}, "approved_amount": {"type": "number"},
                   "refusal_reason": {"type": "string"}, "approval_opinion": {"type": "string"}},
    "if": {"properties": {"approval": {"const": "不予批准"}}},
    "then": {"required": ["refusal_reason"]}, "else": {"required": ["approved_amount"]},
}


def test_a_field_belongs_to_the_answers_whose_then_requires_or_declares_it():
    owners = branches.owners(ACCEPT_FORM)
    assert owners == {"missing_materials": {"decision": {"补正"}}, "reason": {"decision": {"不予受理"}},
                      "legal_basis": {"decision": {"不予受理"}}}
    assert "remark" not in owners and "decision" not in owners  # named by no rule / the controller: always shown


def test_else_belongs_to_every_other_answer():
    assert branches.owners(ELSE_FORM) == {"refusal_reason": {"approval": {"不予批准"}},
                                          "approved_amount": {"approval": {"批准"}}}
    kept = branches.chosen_only(ELSE_FORM, {"approval": "批准", "approved_amount": 500, "refusal_reason": "x"})
    assert kept == {"approval": "批准", "approved_amount": 500}


def test_chosen_only_drops_the_other_answers_fields_and_keeps_the_rest():
    sent = {"decision": "受理", "missing_materials": ["身份证"], "reason": "不符合", "legal_basis": "第三十八条",
            "remark": "现场核验原件"}
    assert branches.chosen_only(ACCEPT_FORM, sent) == {"decision": "受理", "remark": "现场核验原件"}
    assert branches.chosen_only(ACCEPT_FORM, {**sent, "decision": "补正"})["missing_materials"] == ["身份证"]
    assert set(branches.chosen_only(ACCEPT_FORM, {**sent, "decision": "不予受理"})) == {
        "decision", "reason", "legal_basis", "remark"}


def test_no_answer_at_all_keeps_no_answers_fields():
    """Hostile: the decision left out, every branch's fields sent — none of them belongs to anything chosen."""
    sent = {"missing_materials": ["x"], "reason": "y", "remark": "z"}
    assert branches.chosen_only(ACCEPT_FORM, sent) == {"remark": "z"}


def _completed(db, case_no: str, element: str) -> dict:
    return [e for e in queries.case_history(db, case_no)
            if e["type"] == "task_completed" and e["element_id"] == element][-1]["data"]["data"]


def test_accept_after_ticking_a_missing_material_records_no_missing_list(db):
    """The engine's submission (the desk's one call): 受理 with a ticked material and a refusal reason sent."""
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    task = joint_cases.open_task(db, case_no, "accept_review")
    submission.submit_task(db, task.task_id, {
        "decision": ["受理"], "missing_materials": ["项目可行性研究报告"], "missing_materials__more": ["印章不清"],
        "reason": ["不属于本机关职权范围"], "remark": ["材料齐全"]}, people["window"])
    recorded = _completed(db, case_no, "accept_review")
    assert recorded == {"decision": "受理", "remark": "材料齐全"}


def test_a_hidden_field_that_cannot_even_convert_does_not_block_the_chosen_answer(db):
    """Hostile: garbage in another answer's field is not the chosen answer's business, so it is no error."""
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    task = joint_cases.open_task(db, case_no, "accept_review")
    submission.submit_task(db, task.task_id, {"decision": ["受理"], "reason": ["x"], "legal_basis": ["<script>"]},
                           people["window"])
    assert _completed(db, case_no, "accept_review") == {"decision": "受理"}


def test_the_desk_page_marks_each_answers_fields_and_the_server_drops_them_without_javascript(db, client):
    """The page (no JavaScript needed): the missing list and the refusal's reason are tied to their answers;
    a post of the hidden list beside 受理 (as a browser without the script sends it) records no list."""
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    task = joint_cases.open_task(db, case_no, "accept_review")
    log_in(client, "window")
    page = client.get(f"/desk/tasks/{task.task_id}").get_data(as_text=True)
    assert re.search(r'data-when-field="decision" data-when="补正" data-required="true"', page)
    assert re.search(r'data-when-field="decision" data-when="不予受理" data-required="true"', page)
    assert "选择“补正”时必填" in page and "选择“不予受理”时必填" in page
    token = csrf(client, f"/desk/tasks/{task.task_id}")
    answer = client.post(f"/desk/tasks/{task.task_id}", data={
        "csrf_token": token, "_case": case_no, "decision": "受理", "missing_materials": ["项目可行性研究报告"],
        "missing_materials__more": "建设资金来源证明", "reason": "理由四个字以上"})
    assert answer.status_code == 302
    recorded = _completed(db, case_no, "accept_review")
    assert "missing_materials" not in recorded and "reason" not in recorded and recorded["decision"] == "受理"


def test_the_chosen_answers_fields_are_still_checked(db, client):
    """补正 without a list is refused beside the list: dropping belongs to the other answers only."""
    people = joint_cases.set_up(db)
    case_no = joint_cases.start(db, people)
    task = joint_cases.open_task(db, case_no, "accept_review")
    log_in(client, "window")
    token = csrf(client, f"/desk/tasks/{task.task_id}")
    refused = client.post(f"/desk/tasks/{task.task_id}", data={"csrf_token": token, "_case": case_no,
                                                              "decision": "补正", "reason": "无关的理由"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "必填" in page and joint_cases.open_task(db, case_no, "accept_review")


def test_the_json_api_and_the_command_line_keep_only_the_chosen_answers_fields_too(db, client, env_db, capsys):
    """The API and `onewindow complete` send typed data, not the page's strings: the same rule applies, so
    no door records a missing-materials list or a refusal reason beside a 受理."""
    import json

    from engine.org import accounts
    from onewindow.cli import main

    people = joint_cases.set_up(db)
    extra = {"missing_materials": ["项目可行性研究报告"], "reason": "不属于本机关职权范围", "remark": "材料齐全"}
    through_api = joint_cases.start(db, people)
    task = joint_cases.open_task(db, through_api, "accept_review")
    auth = {"Authorization": f"Bearer {accounts.issue_token(db, people['window'].username, 'test')}"}
    response = client.post(f"/api/v1/tasks/{task.task_id}/complete", json={"data": {"decision": "受理", **extra}},
                           headers=auth)
    assert response.status_code == 200, response.get_json()
    assert _completed(db, through_api, "accept_review") == {"decision": "受理", "remark": "材料齐全"}

    through_cli = joint_cases.start(db, people)
    task = joint_cases.open_task(db, through_cli, "accept_review")
    status = main(["--json", "complete", task.task_id, "--as", people["window"].username,
                   "--data", json.dumps({"decision": "受理", **extra}, ensure_ascii=False)])
    assert status == 0, capsys.readouterr()
    assert _completed(db, through_cli, "accept_review") == {"decision": "受理", "remark": "材料齐全"}
