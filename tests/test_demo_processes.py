"""The demo items in processes/, end to end through the engine, on every path their diagrams draw.

- demo-direct (即办件, S-6 rule 1): one window accepts and decides in one task; a refusal states its
  reason (S-6 rule 5, S-7).
- demo-report-up (上报事项, S-6 rule 4, S-5): a town window accepts, a script computes the household's
  income per head, a call activity relays the case to the district (only the district's group sees
  that task), a boundary timer reminds the district after one day (催办, S-15), and the accepting
  window delivers the result.
- demo-committed (承诺件, S-6 rule 2, S-7): acceptance, a seven-day publicity period (an intermediate
  timer whose duration a script computed), a review that an interrupting boundary timer takes away
  from the planning section after three days and hands to the chief (督办), then the certificate.

Every diagram (shared call activities included) must also carry complete BPMN DI, so bpmn-js can draw
it wherever a case or an item is shown.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from conftest import PROCESSES, deploy, make_actor
from lxml import etree

from engine import clock, queries
from engine.casework import claim_task, complete_task, start_case
from engine.errors import FormValidationError, PermissionDenied, StaleTaskError
from engine.lint import lint_package
from engine.package import load_package
from engine.runtime import load_workflow
from engine.scheduler import tick

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 3 March 2025, 09:00 Beijing time

WINDOW = "人社局窗口"
TOWN = "镇便民服务中心窗口"
DISTRICT = "区民政局审批"
HOUSING_WINDOW = "住建局窗口"
PLANNING = "住建局规划股"
CHIEF = "住建局分管领导"

INSURANCE = {"applicant_name": "王秀英", "id_number": "42011519650304122X", "phone": "13800000000",
             "insured_category": "农村居民", "residence": "梁子镇高桥村", "coverage_year": 2025}
DIBAO = {"applicant_name": "李长林", "id_number": "420115197001011234", "village": "东沟镇桃园村",
         "household_size": 3, "annual_income": 9000, "hardship": "因病", "home_visit_note": "户主长期患病"}
DELIVERY = {"delivery_method": "村级代办员送达", "delivered_on": "2025-03-06", "recipient": "李长林"}
HOUSE = {"applicant_name": "陈国平", "id_number": "420115198203154321", "village": "涂家垴镇新桥村三组",
         "site_area": 120, "floors": 2, "building_height": 7.5, "homestead_approval_no": "江宅批〔2025〕017号"}


def _task(db, case_no, element_id):
    return next(t for t in queries.open_tasks(db, case_no=case_no) if t.element_id == element_id)


def _elements(db, actor=None, case_no=None):
    return sorted(t.element_id for t in queries.open_tasks(db, actor, case_no=case_no))


def _history(db, case_no):
    return queries.case_history(db, case_no)


def _timers(db, case_no):
    return [(t["element_id"], datetime.fromisoformat(t["due_at"]))
            for t in queries.case_detail(db, case_no)["timers"]]


def _task_data(db, case_no, task_id):
    """The data an open task carries (what the script task computed), read without changing the case."""
    return load_workflow(db, case_no).get_task_from_id(UUID(task_id)).data


# ---------------------------------------------------------------------------------------------------
# Every item folder lints clean and every diagram can be drawn


ITEM_FOLDERS = sorted(p.parent.name for p in PROCESSES.glob("*/item.json"))


@pytest.mark.parametrize("folder", ITEM_FOLDERS)
def test_every_item_folder_lints_clean(folder):
    report = lint_package(load_package(PROCESSES / folder))
    assert report.findings == [], [str(f) for f in report.findings]


def test_demo_items_deploy_once_and_redeploy_as_a_no_op(db):
    for folder in ("demo-direct", "demo-report-up", "demo-committed"):
        first = deploy(db, folder)
        again = deploy(db, folder)
        assert first.created and first.version == 1
        assert not again.created and again.version == 1
    codes = {item["code"]: item for item in queries.list_items(db)}
    assert codes["DEMO-002"]["handling_mode"] == "direct"
    assert codes["DEMO-003"]["handling_mode"] == "report-up"
    assert codes["DEMO-004"]["handling_mode"] == "committed"
    assert codes["DEMO-003"]["guide"]["materials"][0]["form"] in ("原件", "复印件")


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DI = "{http://www.omg.org/spec/DD/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
NODE_TAGS = {"startEvent", "endEvent", "userTask", "scriptTask", "callActivity", "exclusiveGateway",
             "parallelGateway", "inclusiveGateway", "boundaryEvent", "intermediateCatchEvent",
             "intermediateThrowEvent", "manualTask", "task", "subProcess", "eventBasedGateway"}


def _bounds(shape):
    b = shape.find(f"{DC}Bounds")
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _inside(inner, outer):
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _overlap(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


ALL_DIAGRAMS = sorted(str(p.relative_to(PROCESSES)) for p in PROCESSES.glob("**/*.bpmn"))


@pytest.mark.parametrize("diagram", ALL_DIAGRAMS)
def test_every_diagram_has_complete_tidy_di(diagram):
    """Every node, flow, lane and pool has DI; nodes sit inside their lane; no two nodes overlap."""
    root = etree.parse(str(PROCESSES / diagram)).getroot()
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{BPMNDI}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{BPMNDI}BPMNEdge")}
    nodes = [el for el in root.iter() if isinstance(el.tag, str) and el.tag.removeprefix(BPMN) in NODE_TAGS]
    drawable = [*nodes, *root.iter(f"{BPMN}lane"), *root.iter(f"{BPMN}participant")]
    missing = [el.get("id") for el in drawable if el.get("id") not in shapes]
    missing += [f.get("id") for f in root.iter(f"{BPMN}sequenceFlow") if f.get("id") not in edges]
    assert missing == [], f"{diagram}: no DI for {missing}"
    for edge in edges.values():
        assert len(edge.findall(f"{DI}waypoint")) >= 2

    lane_of = {ref.text.strip(): lane.get("id") for lane in root.iter(f"{BPMN}lane")
               for ref in lane.iter(f"{BPMN}flowNodeRef")}
    for node in nodes:
        node_id = node.get("id")
        if node_id in lane_of:
            assert _inside(_bounds(shapes[node_id]), _bounds(shapes[lane_of[node_id]])), \
                f"{diagram}: {node_id} is drawn outside its lane {lane_of[node_id]}"
    attached = {n.get("id"): n.get("attachedToRef") for n in nodes if n.tag == f"{BPMN}boundaryEvent"}
    boxes = {n.get("id"): _bounds(shapes[n.get("id")]) for n in nodes}
    ids = sorted(boxes)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if attached.get(a) == b or attached.get(b) == a:
                assert _overlap(boxes[a], boxes[b]), f"{diagram}: boundary event {a}/{b} is not on its task"
                continue
            assert not _overlap(boxes[a], boxes[b]), f"{diagram}: {a} and {b} overlap"


# ---------------------------------------------------------------------------------------------------
# demo-direct: 城乡居民基本医疗保险参保登记 (即办件)


@pytest.fixture
def direct(db):
    return deploy(db, "demo-direct")


def test_direct_item_is_accepted_and_decided_in_one_task(db, direct):
    clerk = make_actor(db, "hrss", [WINDOW])
    other = make_actor(db, "town", [TOWN])
    case = start_case(db, "DEMO-002", {}, clerk)
    assert _elements(db, case_no=case.case_no) == ["accept_and_decide"]
    assert _elements(db, other) == []
    task = _task(db, case.case_no, "accept_and_decide")
    assert task.candidate_group == WINDOW and task.form == "insurance-register.json"
    assert queries.task_detail(db, task.task_id)["ui_schema"]["decision"] == {"ui:widget": "radio"}

    claim_task(db, task.task_id, clerk)
    complete_task(db, task.task_id, {**INSURANCE, "decision": "受理并办结"}, clerk)

    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "approved"
    assert detail["closed_at"] is not None and detail["open_tasks"] == [] and detail["timers"] == []
    changes = [(e["element_id"], e["data"]["new"]) for e in _history(db, case.case_no)
               if e["type"] == "status_changed"]
    assert changes[-1] == ("end_registered", "approved")


def test_direct_item_refusal_requires_a_reason(db, direct):
    clerk = make_actor(db, "hrss", [WINDOW])
    case = start_case(db, "DEMO-002", {}, clerk)
    task = _task(db, case.case_no, "accept_and_decide")
    with pytest.raises(FormValidationError) as err:
        complete_task(db, task.task_id, {**INSURANCE, "decision": "不予受理"}, clerk)
    assert set(err.value.field_errors) == {"refusal_reason"}
    assert queries.case_detail(db, case.case_no)["status"] == "submitted"

    complete_task(db, task.task_id, {**INSURANCE, "decision": "不予受理",
                                     "refusal_reason": "已参加职工基本医疗保险，不能重复参保"}, clerk)
    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "refused" and detail["closed_at"] is not None
    assert [e["element_id"] for e in _history(db, case.case_no) if e["type"] == "status_changed"][-1] \
        == "end_refused"


# ---------------------------------------------------------------------------------------------------
# demo-report-up: 农村居民最低生活保障申请 (上报事项) with the shared call activity relay_to_district


@pytest.fixture
def report_up(db):
    result = deploy(db, "demo-report-up")
    town = make_actor(db, "town", [TOWN])
    district = make_actor(db, "civil", [DISTRICT])
    return result, town, district


def _accept_at_town(db, town, **overrides):
    with clock.frozen_at(T0):
        case = start_case(db, "DEMO-003", {}, town)
        task = _task(db, case.case_no, "accept")
        assert task.candidate_group == TOWN
        complete_task(db, task.task_id, {**DIBAO, "acceptance": "受理", **overrides}, town)
    return case.case_no


def test_report_up_package_pulls_in_the_shared_call_activity():
    package = load_package(PROCESSES / "demo-report-up")
    assert "shared/relay-to-district.bpmn" in package.files
    assert {"forms/district-review.json", "forms/dibao-accept.json", "forms/result-delivery.json"} <= set(package.files)


def test_report_up_not_accepted_at_town_never_reaches_the_district(db, report_up):
    _, town, district = report_up
    case = start_case(db, "DEMO-003", {}, town)
    task = _task(db, case.case_no, "accept")
    with pytest.raises(FormValidationError):
        complete_task(db, task.task_id, {**DIBAO, "acceptance": "不予受理"}, town)
    complete_task(db, task.task_id, {**DIBAO, "acceptance": "不予受理",
                                     "refusal_reason": "申请人户籍不在本镇，请向户籍所在地申请"}, town)
    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "refused" and detail["timers"] == []
    assert _elements(db, district) == []
    assert "relay_start" not in {e["element_id"] for e in _history(db, case.case_no)}


def test_report_up_approved_by_the_district_before_the_reminder(db, report_up):
    _, town, district = report_up
    case_no = _accept_at_town(db, town)

    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "accepted"
    assert _timers(db, case_no) == [("review_overdue", T0 + timedelta(days=1))]
    # The relayed task belongs to the district's group only.
    assert _elements(db, district) == ["district_review"]
    assert _elements(db, town) == []
    review = _task(db, case_no, "district_review")
    assert review.lane == DISTRICT and review.candidate_group == DISTRICT
    with pytest.raises(PermissionDenied):
        claim_task(db, review.task_id, town)
    with pytest.raises(PermissionDenied):
        complete_task(db, review.task_id, {"approval": "批准", "approved_amount": 430}, town)
    # The script task computed the income per head per month and the gap to the standard.
    data = _task_data(db, case_no, review.task_id)
    assert data["per_capita_monthly_income"] == 250.0
    assert data["below_standard"] is True
    assert data["allowance_estimate"] == 930.0

    with clock.frozen_at(T0 + timedelta(hours=5)):
        with pytest.raises(FormValidationError) as err:
            complete_task(db, review.task_id, {"approval": "批准"}, district)
        assert set(err.value.field_errors) == {"approved_amount"}
        claim_task(db, review.task_id, district)
        complete_task(db, review.task_id, {"approval": "批准", "approved_amount": 930}, district)
    # Completing the review cancels its reminder: the timer index row goes with it.
    assert _timers(db, case_no) == []
    assert tick(db, T0 + timedelta(days=2)).fired == []
    assert _elements(db, case_no=case_no) == ["deliver"]
    deliver = _task(db, case_no, "deliver")
    assert deliver.candidate_group == TOWN and _elements(db, district) == []
    assert _task_data(db, case_no, deliver.task_id)["district_decision"] == "approved"

    complete_task(db, deliver.task_id, DELIVERY, town)
    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "approved" and detail["closed_at"] is not None
    history = _history(db, case_no)
    assert "timer_fired" not in {e["type"] for e in history}
    steps = [e["element_id"] for e in history if e["type"] in ("step_completed", "task_completed")]
    assert steps.index("relay_start") < steps.index("district_review") < steps.index("record_approved") \
        < steps.index("relay") < steps.index("deliver") < steps.index("end_approved")


def test_report_up_reminder_fires_after_one_day_then_the_district_refuses(db, report_up):
    _, town, district = report_up
    case_no = _accept_at_town(db, town, annual_income=30000)
    due = T0 + timedelta(days=1)
    assert _timers(db, case_no) == [("review_overdue", due)]

    early = tick(db, due - timedelta(minutes=1))
    assert early.fired == [] and _timers(db, case_no) == [("review_overdue", due)]

    report = tick(db, due + timedelta(minutes=1))
    assert report.fired == [{"case_no": case_no, "element_id": "review_overdue"}]
    assert report.conflicts == [] and report.errors == []
    assert _timers(db, case_no) == []
    history = _history(db, case_no)
    fired = [e for e in history if e["type"] == "timer_fired"]
    assert [(e["element_id"], e["actor"]) for e in fired] == [("review_overdue", "system")]
    assert "reminded" in {e["element_id"] for e in history if e["type"] == "step_completed"}
    # Non-interrupting: the review is still open, for the district only; a second tick fires nothing.
    assert _elements(db, case_no=case_no) == ["district_review"]
    assert _elements(db, district) == ["district_review"]
    assert tick(db, due + timedelta(days=3)).fired == []

    review = _task(db, case_no, "district_review")
    with pytest.raises(FormValidationError) as err:
        complete_task(db, review.task_id, {"approval": "不予批准"}, district)
    assert set(err.value.field_errors) == {"refusal_reason"}
    complete_task(db, review.task_id, {"approval": "不予批准",
                                       "refusal_reason": "家庭月人均收入833.33元，高于本区农村低保标准"}, district)
    deliver = _task(db, case_no, "deliver")
    assert _task_data(db, case_no, deliver.task_id)["district_decision"] == "refused"
    complete_task(db, deliver.task_id, DELIVERY, town)

    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "refused" and detail["closed_at"] is not None
    assert [e["element_id"] for e in _history(db, case_no) if e["type"] == "status_changed"][-1] == "end_refused"


def test_report_up_audit_chain_links_every_event(db, report_up):
    _, town, district = report_up
    case_no = _accept_at_town(db, town)
    tick(db, T0 + timedelta(days=1, minutes=1))
    review = _task(db, case_no, "district_review")
    complete_task(db, review.task_id, {"approval": "批准", "approved_amount": 930}, district)
    complete_task(db, _task(db, case_no, "deliver").task_id, DELIVERY, town)
    history = _history(db, case_no)
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    for previous, event in itertools.pairwise(history):
        assert event["prev_hash"] == previous["hash"]
    assert json.dumps(history, ensure_ascii=False)  # JSON-clean: what `onewindow history --json` prints


# ---------------------------------------------------------------------------------------------------
# demo-committed: 乡村建设规划许可证核发 (承诺件): publicity period, review, escalation to the chief


@pytest.fixture
def committed(db):
    deploy(db, "demo-committed")
    return (make_actor(db, "housing-window", [HOUSING_WINDOW]), make_actor(db, "planner", [PLANNING]),
            make_actor(db, "chief", [CHIEF]))


def _accept_planning_case(db, window):
    with clock.frozen_at(T0):
        case = start_case(db, "DEMO-004", {}, window)
        task = _task(db, case.case_no, "accept")
        assert task.candidate_group == HOUSING_WINDOW
        complete_task(db, task.task_id, {**HOUSE, "acceptance": "受理"}, window)
    return case.case_no


def _end_publicity(db, case_no):
    """Tick past the seven days of publicity; returns the moment the review task was opened."""
    due = T0 + timedelta(days=7)
    assert tick(db, due - timedelta(minutes=1)).fired == []
    opened = due + timedelta(minutes=1)
    assert tick(db, opened).fired == [{"case_no": case_no, "element_id": "publicity"}]
    return opened


def test_committed_item_refused_at_the_window(db, committed):
    window, planner, _ = committed
    case = start_case(db, "DEMO-004", {}, window)
    task = _task(db, case.case_no, "accept")
    complete_task(db, task.task_id, {**HOUSE, "acceptance": "不予受理", "refusal_reason": "宅基地尚未批准"}, window)
    detail = queries.case_detail(db, case.case_no)
    assert detail["status"] == "refused" and detail["timers"] == [] and _elements(db, planner) == []


def test_committed_item_publicity_then_review_then_certificate(db, committed):
    window, planner, chief = committed
    case_no = _accept_planning_case(db, window)
    detail = queries.case_detail(db, case_no)
    # The script computed the notice and the publicity period; the case waits with no task open.
    assert detail["status"] == "accepted" and detail["open_tasks"] == []
    assert _timers(db, case_no) == [("publicity", T0 + timedelta(days=7))]

    opened = _end_publicity(db, case_no)
    review = _task(db, case_no, "review")
    assert review.candidate_group == PLANNING
    assert _elements(db, window) == [] and _elements(db, chief) == []
    assert _timers(db, case_no) == [("review_overdue", opened + timedelta(days=3))]
    notice = _task_data(db, case_no, review.task_id)["publicity_notice"]
    assert "陈国平" in notice and "120" in notice and "公示期7日" in notice

    with clock.frozen_at(opened + timedelta(days=1)):
        complete_task(db, review.task_id, {"approval": "准予许可", "objections": "无"}, planner)
    assert _timers(db, case_no) == []
    issue = _task(db, case_no, "issue")
    assert issue.candidate_group == HOUSING_WINDOW
    complete_task(db, issue.task_id, {"certificate_no": "乡字第420115202500017号"}, window)
    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "approved" and detail["closed_at"] is not None
    fired = [e["element_id"] for e in _history(db, case_no) if e["type"] == "timer_fired"]
    assert fired == ["publicity"]


def test_committed_item_overdue_review_is_taken_to_the_chief(db, committed):
    window, planner, chief = committed
    case_no = _accept_planning_case(db, window)
    opened = _end_publicity(db, case_no)
    review = _task(db, case_no, "review")

    report = tick(db, opened + timedelta(days=3, minutes=1))
    assert report.fired == [{"case_no": case_no, "element_id": "review_overdue"}]
    # Interrupting: the planning section's task is gone; the chief's group alone sees the new one.
    assert _elements(db, case_no=case_no) == ["escalated_review"]
    assert _elements(db, planner) == [] and _elements(db, chief) == ["escalated_review"]
    assert _timers(db, case_no) == []
    with pytest.raises(StaleTaskError):
        complete_task(db, review.task_id, {"approval": "准予许可"}, planner)

    escalated = _task(db, case_no, "escalated_review")
    with pytest.raises(PermissionDenied):
        claim_task(db, escalated.task_id, planner)
    with pytest.raises(FormValidationError) as err:
        complete_task(db, escalated.task_id, {"approval": "不予许可"}, chief)
    assert set(err.value.field_errors) == {"refusal_reason"}
    complete_task(db, escalated.task_id, {"approval": "不予许可", "refusal_reason": "建筑高度超过村庄规划控制要求"},
                  chief)

    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "refused" and detail["closed_at"] is not None
    history = _history(db, case_no)
    assert [e["element_id"] for e in history if e["type"] == "timer_fired"] == ["publicity", "review_overdue"]
    assert [e["element_id"] for e in history if e["type"] == "status_changed"][-1] == "end_refused"
