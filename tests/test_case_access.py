"""Who sees which case, and what may widen it (issue 13, items 2, 3, 6 and 12; S-5, S-16).

Tried as an attacker would: every clerk, village rooms included, read every case; any clerk could copy
a case to themselves (or mark one of its materials) and so download its ID papers; an applicant account
could be a copy recipient; the API and the command line stored any application; a village clerk could
skip the mandate by filing at the town. The rule is one function (`engine.runtime.caseaccess.concerns`), stated
in docs/operators.md, and tested here as a matrix on a real relayed case (RS-006, accepted by a village
room with a mandate, relayed to the town and the district) with people of the demo org tree.
"""

from __future__ import annotations

import json

import pytest
from catalogue_walk import sample
from cli_helpers import run
from conftest import deploy
from test_web import login

from engine.catalogue import demo
from engine.desk.attachments import add_attachment, open_attachment
from engine.desk.caseops import copy_case
from engine.desk.casework import complete_task, start_case
from engine.desk.materials import mark_materials
from engine.desk.taskops import TaskOperationError
from engine.errors import FormValidationError, OnewindowError, PermissionDenied
from engine.org import accounts, orgtree
from engine.reads import queries

VILLAGE, OTHER_VILLAGE, TOWN, OTHER_TOWN = "梁子镇/子坛村", "梁子镇/高塘村", "梁子镇", "东沟镇"
MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def people(snapshot):
    """The demo's people, RS-006 deployed and two applicants: built once per run, copied per test."""
    return snapshot(_people)


def _people(db):
    orgtree.install(db)
    demo.seed_users(db)
    deploy(db, "catalogue/renshe/RS-006")
    accounts.create_user(db, "lisi", "secret-pw", "李四", ["applicant"])
    accounts.create_user(db, "wangwu", "secret-pw", "王五", ["applicant"])
    return {name: accounts.actor_for(db, name) for name in (
        "liangzi-zitan-window", "liangzi-gaotang-window", "liangzi-window", "donggou-window", "rs-handle",
        "jg-window", "analyst", "supervisor", "auditor", "admin", "lisi", "wangwu")}


@pytest.fixture
def relayed(db, people):
    """RS-006 accepted at a village room for 李四 (mandate), with his ID card attached, now at the district."""
    case_no = start_case(db, "RS-006", {"applicant_name": "李四", "id_number": "42070419800101123X"},
                         people["liangzi-zitan-window"], unit=VILLAGE, mandate=MANDATE).case_no
    add_attachment(db, case_no, "身份证.pdf", PDF, people["liangzi-zitan-window"])
    for _ in range(10):
        [task] = queries.open_tasks(db, case_no=case_no)
        if task.candidate_group.startswith("区中心/"):
            break
        detail = queries.task_detail(db, task.task_id)
        offered = ((detail["schema"].get("properties") or {}).get("decision") or {}).get("enum")
        complete_task(db, task.task_id, sample(detail["schema"], offered[0] if offered else None), people["admin"])
    assert task.candidate_group == "区中心/区人力资源和社会保障局·承办", task
    return case_no


SEES = {"liangzi-zitan-window": True,  # accepted it for 李四 (acted on it)
        "liangzi-window": True,  # the town above the village room it came in at (S-5: relays up)
        "rs-handle": True,  # the district group that holds it now
        "supervisor": True, "auditor": True, "admin": True,
        "liangzi-gaotang-window": False,  # another village room of the same town
        "donggou-window": False,  # another town
        "jg-window": False,  # another department's window
        "analyst": False,  # draws diagrams, reads no case
        "wangwu": False}  # another applicant


@pytest.mark.parametrize("who", sorted(SEES))
def test_who_sees_a_relayed_case_page_and_its_files(app, db, people, relayed, who):
    client = app.test_client()
    login(client, who, "secret-pw" if who in ("lisi", "wangwu") else demo.DEMO_PASSWORD)
    assert client.get(f"/cases/{relayed}").status_code == (200 if SEES[who] else 403), who
    if SEES[who]:
        assert open_attachment(db, relayed, 1, people[who])[1] == PDF
    else:
        with pytest.raises(PermissionDenied):
            open_attachment(db, relayed, 1, people[who])


def test_anonymous_is_sent_to_log_in(client, relayed):
    response = client.get(f"/cases/{relayed}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_applicant_account_sees_its_own_case_and_not_another(app, db, people):
    own = start_case(db, "RS-006", {"applicant_name": "王五"}, people["wangwu"], unit=TOWN).case_no
    other = start_case(db, "RS-006", {"applicant_name": "李四"}, people["lisi"], unit=TOWN).case_no
    client = app.test_client()
    login(client, "wangwu")
    assert client.get(f"/cases/{own}").status_code == 200
    assert client.get(f"/cases/{other}").status_code == 403
    token = accounts.issue_token(db, "wangwu", "test")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{own}", headers=auth).status_code == 200
    assert client.get(f"/api/v1/cases/{other}", headers=auth).status_code == 403
    assert client.get(f"/api/v1/cases/{other}/history", headers=auth).status_code == 403


def test_copying_needs_the_case_to_concern_the_sender_and_goes_to_staff_only(db, people, relayed):
    """Item 2: before, any clerk could 抄送 any case to a colleague (or an applicant account) and so open its files."""
    with pytest.raises(PermissionDenied):
        copy_case(db, relayed, ["donggou-window"], people["jg-window"], "看看")
    with pytest.raises(PermissionDenied):
        open_attachment(db, relayed, 1, people["donggou-window"])
    with pytest.raises(TaskOperationError, match="工作人员"):
        copy_case(db, relayed, ["wangwu"], people["rs-handle"], "给申请人看")
    copy_case(db, relayed, ["jg-window"], people["rs-handle"], "请经改局知悉")  # entitled sender, staff recipient
    row, content = open_attachment(db, relayed, 1, people["jg-window"])
    assert content == PDF and row["filename"] == "身份证.pdf"


def test_marking_materials_needs_the_case_to_concern_the_clerk(db, people, relayed):
    with pytest.raises(PermissionDenied):
        mark_materials(db, relayed, {}, people["donggou-window"])
    with pytest.raises(PermissionDenied):
        open_attachment(db, relayed, 1, people["donggou-window"])  # the attempt widened nothing
    assert not any(e["actor"] == "donggou-window" for e in queries.case_history(db, relayed))


def test_a_village_clerk_files_at_their_own_room_with_a_mandate_only(db, people):
    """Item 12: neither the town as the place (to skip the mandate) nor another town's village room."""
    clerk = people["liangzi-zitan-window"]
    for elsewhere in (TOWN, "东沟镇/花贺村", OTHER_VILLAGE):
        with pytest.raises(PermissionDenied, match=VILLAGE):
            start_case(db, "RS-006", {"applicant_name": "李四"}, clerk, unit=elsewhere, mandate=MANDATE)
    with pytest.raises(OnewindowError, match="委托"):
        start_case(db, "RS-006", {"applicant_name": "李四"}, clerk)  # own room, no mandate
    assert start_case(db, "RS-006", {"applicant_name": "李四"}, clerk, mandate=MANDATE).case_no


def test_an_application_is_checked_by_the_engine_for_the_hall_the_api_and_the_cli(app, db, people, env_db,
                                                                                  capsys):
    """Item 6: keys the item's form does not define (a `decision`, an `id_number` of any shape), absurd sizes."""
    town = people["liangzi-window"]
    for data, field in (({"applicant_name": "李四", "decision": "受理"}, "decision"),
                        ({"applicant_name": "李四", "id_number": "not-an-id"}, "id_number"),
                        ({"applicant_name": "李" * 65}, "applicant_name"),
                        ({"applicant_name": "李四", "application_note": "长" * 501}, "application_note")):
        with pytest.raises(FormValidationError) as refused:
            start_case(db, "RS-006", data, town)
        assert field in refused.value.message or field in refused.value.field_errors, refused.value.message
    with pytest.raises(FormValidationError, match="超过上限"):
        start_case(db, "RS-006", {"applicant_name": "李四", "application_note": "长" * 70_000}, town)

    token = accounts.issue_token(db, "liangzi-window", "test")
    response = app.test_client().post("/api/v1/cases", json={"item": "RS-006", "data": {"decision": "受理"}},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and "decision" in response.get_json()["message"]
    status, _, err = run(capsys, "start", "RS-006", "--as", "liangzi-window",
                         "--data", json.dumps({"applicant_name": "李四", "decision": "受理"}))
    assert status == 1 and "decision" in err
    assert queries.open_tasks(db) == []  # nothing was started by any of them


def test_the_clerks_form_is_prefilled_with_facts_never_with_a_choice():
    """Application data fills in what the applicant told (names, numbers, text), never a choice the clerk makes."""
    from engine.desk.prefill import _a_fact

    assert _a_fact({"type": "string", "title": "申请人姓名"}) and _a_fact({"type": "integer"})
    assert not _a_fact({"type": "string", "enum": ["受理", "不予受理"]})
    assert not _a_fact({"type": "boolean"}) and not _a_fact({"oneOf": [{"const": "a"}]})
