"""The org tree and lanes resolved against where a case came in (S-1, S-3, S-5; issue: catalogue, items 4–6)."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run, run_json
from conftest import deploy, make_actor
from sqlalchemy import select

from engine import settings
from engine.desk.casework import complete_task, start_case
from engine.diagrams.lint_routing import lane_problem, refusals_without_reason
from engine.errors import OnewindowError
from engine.org import orgtree
from engine.org.orgtree import Routing
from engine.reads import queries
from engine.store.tables import cases, receipts

MZ = "区中心/区民政局"
VILLAGE = "梁子镇/子坛村"
MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}


@pytest.fixture
def units(db):
    return orgtree.install(db)


def test_the_tree_has_the_district_its_towns_and_villages():
    units = orgtree.read_tree(settings.PROCESSES_DIR / orgtree.TREE_FILE)
    kinds = {kind: [u for u in units if u.kind == kind] for kind in orgtree.KINDS}
    assert {u.name for u in kinds["town"]} == {"东沟镇便民服务中心", "梁子镇便民服务中心", "沼山镇便民服务中心",
                                               "涂家垴镇便民服务中心", "太和镇便民服务中心"}
    departments = {u.name for u in kinds["department"] if "窗口" in u.functions}
    assert len(departments) == 9 and "区民政局" in departments  # the nine departments of S-2 have windows
    assert all(u.parent in {t.code for t in kinds["town"]} for u in kinds["village"])
    assert len(kinds["village"]) >= 5


@pytest.mark.parametrize(("lane", "front", "level", "expected"), [
    ("【收件窗口】", VILLAGE, "district", "梁子镇/子坛村·窗口"),
    ("【镇中心】", VILLAGE, "district", "梁子镇·窗口"),
    ("【区窗口】", VILLAGE, "district", "区中心/区民政局·窗口"),
    ("【承办】", VILLAGE, "district", "区中心/区民政局·承办"),
    ("【批准】", VILLAGE, "town", "梁子镇·批准"),  # a town item is decided by the town above the village
    ("【受理窗口】", VILLAGE, "district", "区中心/区民政局·窗口"),  # the village may not accept: relayed up
    ("【受理窗口】", "梁子镇", "district", "梁子镇·窗口"),  # the town may: it accepts and reports up
    ("【受理窗口】", None, "district", "区中心/区民政局·窗口"),  # no front recorded: the department's window
    ("区中心/区财政局·审核", VILLAGE, "district", "区中心/区财政局·审核"),  # a literal group stays itself
])
def test_relative_lanes_resolve_against_the_front(lane, front, level, expected):
    routing = Routing("区民政局", level, front, ("town", "district"))
    assert routing.group(lane) == expected


def test_a_joint_review_instance_goes_to_its_own_department():
    routing = Routing("区经济改革局", "district", None, ("district",))
    assert routing.group("【会审部门】", {"department": "区财政局"}) == "区中心/区财政局·审核"
    with pytest.raises(OnewindowError, match="department"):
        routing.group("【会审部门】", {})


def test_unresolvable_lanes_say_why():
    with pytest.raises(OnewindowError, match="镇中心"):
        Routing("区民政局", "district", MZ).group("【镇中心】")
    with pytest.raises(OnewindowError, match="不是已知角色"):
        Routing("区民政局").group("【科长】")


def test_lint_knows_roles_and_groups():
    assert lane_problem("【受理窗口】") is None
    assert lane_problem("区中心/区民政局·审核") is None
    problem = lane_problem("民政审批股")
    assert problem is not None and "org.json" in problem[1]
    assert "【收件窗口】" in lane_problem("【收发室】")[1]


def test_a_refusal_without_a_required_reason_is_found():
    schema = {"type": "object", "properties": {"decision": {"enum": ["批准", "不予批准"]}, "reason": {}}}
    assert refusals_without_reason(schema) == ["不予批准"]
    schema["allOf"] = [{"if": {"properties": {"decision": {"const": "不予批准"}}}, "then": {"required": ["reason"]}}]
    assert refusals_without_reason(schema) == []


def test_every_catalogue_refusal_form_requires_a_reason():
    forms = sorted(settings.FORMS_DIR.glob("catalogue-*.json"))
    assert len(forms) >= 10
    for path in forms:
        assert refusals_without_reason(json.loads(path.read_text(encoding="utf-8"))) == [], path.name


def test_a_village_agent_needs_a_mandate_and_the_chain_is_recorded(db, units):
    deploy(db, "catalogue/minzheng/MZ-008")
    agent = make_actor(db, "zitan", ["梁子镇/子坛村·窗口"])
    with pytest.raises(OnewindowError, match="委托"):
        start_case(db, "MZ-008", {"applicant_name": "李四"}, agent, unit=VILLAGE)
    with pytest.raises(OnewindowError, match="签署日期"):
        start_case(db, "MZ-008", {"applicant_name": "李四"}, agent, unit=VILLAGE,
                   mandate={"principal": "李四", "principal_id_number": "1"})
    started = start_case(db, "MZ-008", {"applicant_name": "李四"}, agent, unit=VILLAGE, mandate=MANDATE)
    with db.reading() as conn:
        row = conn.execute(select(cases.c.unit_code, cases.c.mandate).where(cases.c.case_no == started.case_no)).one()
    assert row.unit_code == VILLAGE and row.mandate["agent"] == "zitan" and row.mandate["principal"] == "李四"
    first = queries.case_history(db, started.case_no)[0]
    assert first["data"]["mandate"]["signed_on"] == "2026-11-27" and first["data"]["unit"] == VILLAGE
    # the village agent sees and forwards it; the district window does not see it yet
    district = make_actor(db, "mz", ["区中心/区民政局·窗口"])
    assert [t.element_id for t in queries.open_tasks(db, actor=district)] == []
    task = queries.open_tasks(db, actor=agent)[0]
    assert task.element_id == "village_forward"
    complete_task(db, task.task_id, {"relay_note": "申请书等 4 份"}, agent)
    handed = [e for e in queries.case_history(db, started.case_no) if e["type"] == "handed_over"]
    assert handed[-1]["data"] == {"source": "梁子镇/子坛村·窗口", "target": "梁子镇·窗口"}
    another_village = make_actor(db, "huahe", ["东沟镇/花贺村·窗口"])
    assert queries.open_tasks(db, actor=another_village) == []  # a village never sees another village's cases


def test_a_district_window_cannot_take_a_town_item(db, units):
    path = next(p for p in sorted((settings.PROCESSES_DIR / "catalogue").glob("*/*/item.json"))
                if json.loads(p.read_text(encoding="utf-8"))["level"] == "town")
    meta = json.loads(path.read_text(encoding="utf-8"))
    deploy(db, str(path.parent.relative_to(settings.PROCESSES_DIR)))
    department = orgtree.department_unit(meta["department"])
    clerk = make_actor(db, "window", [orgtree.group_code(department, "窗口")])
    with pytest.raises(OnewindowError, match="镇级事项"):
        start_case(db, meta["code"], {"applicant_name": "李四"}, clerk, unit=department)


def test_acceptance_decisions_give_dated_receipts(db, units):
    deploy(db, "catalogue/anjian/AJ-003")
    window = make_actor(db, "aj", ["区中心/区安全生产监督管理局·窗口"])
    started = start_case(db, "AJ-003", {"applicant_name": "王五"}, window)
    task = queries.open_tasks(db, actor=window)[0]
    with pytest.raises(OnewindowError, match="需补正的全部材料"):  # the field by its title
        complete_task(db, task.task_id, {"decision": "补正"}, window)
    missing = ["营业执照副本复印件", "法定代表人身份证"]
    complete_task(db, task.task_id, {"decision": "补正", "missing_materials": missing}, window)
    assert queries.case_detail(db, started.case_no)["status"] == "awaiting_supplement"
    wait = queries.open_tasks(db, actor=window)[0]
    complete_task(db, wait.task_id, {"supplement_received": "营业执照副本复印件、身份证",
                                     "supplement_received_on": "2026-11-30"}, window)
    again = queries.open_tasks(db, actor=window)[0]
    assert again.element_id == "accept_review"
    complete_task(db, again.task_id, {"decision": "受理"}, window)
    with db.reading() as conn:
        rows = conn.execute(select(receipts).order_by(receipts.c.id)).all()
    assert [r.kind for r in rows] == ["supplement", "acceptance"]
    assert rows[0].content["missing_materials"] == missing
    assert rows[0].receipt_no == f"{started.case_no}-01" and rows[1].receipt_no == f"{started.case_no}-02"
    assert rows[0].issued_by == "aj" and rows[0].issued_at is not None


def test_init_loads_the_tree_and_org_show_lists_groups(env_db, capsys):
    assert run(capsys, "init")[0] == 0
    rows = run_json(capsys, "org", "show")
    village = next(r for r in rows if r["code"] == VILLAGE)
    assert village["kind"] == "village" and village["groups"] == ["梁子镇/子坛村·窗口"]
