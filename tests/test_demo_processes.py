"""The demo items in processes/, end to end through the engine, on every path their diagrams draw.

- demo-direct (即办件, S-6 rule 1): one window accepts and decides in one task; a refusal states its
  reason (S-6 rule 5, S-7).
- demo-report-up (上报事项, S-6 rule 4, S-5): a town window accepts, a script computes the household's
  income per head, a call activity relays the case to the district (only the district's group sees
  that task), a boundary timer reminds the district after five working days (催办, S-15), and the
  accepting window delivers the result.
- demo-committed (承诺件, S-6 rule 2, S-7): acceptance, a seven-day publicity period (an intermediate
  timer whose duration a script computed), a review that an interrupting boundary timer takes away
  from the planning section after three working days and hands to the chief (督办), a supplement
  loop (补正) back to the review, then the certificate.
- demo-joint-review (联办件, S-6 rule 3): three parallel department reviews, each chased (催办) by a
  non-interrupting working-day timer that decides nothing.

Time limits (S-7, S-15 自动预警, docs/modeling.md "时限"): the case clock starts at acceptance, not at
application; the publicity period and the supplement pause stop it; working-day timers and step limits
fall on the right working day across the 2026 Spring Festival and National Day (the calendar is
tests/data/cn-calendar-2025-2026.csv).

Every diagram (shared call activities included) must also carry complete BPMN DI, so bpmn-js can draw
it wherever a case or an item is shown.

And every case these paths leave behind re-executes identically from its recorded inputs (S-14, the
audit issue's "replay on every item path"): an autouse fixture replays them after each test.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from conftest import ACCEPT_DATA, PROCESSES, deploy, make_actor
from lxml import etree
from sqlalchemy import select

from engine.audit.replay import replay_case
from engine.desk.casework import claim_task, complete_task, start_case
from engine.diagrams.lint import lint_package
from engine.diagrams.package import load_package
from engine.errors import FormValidationError, PermissionDenied, StaleTaskError
from engine.reads import queries
from engine.runtime import receipts
from engine.runtime.change import load_workflow
from engine.runtime.scheduler import tick
from engine.store.tables import cases, notifications
from engine.time import clock

# Each step of every demo path runs cold, as after a restart or in another worker.
pytestmark = pytest.mark.usefixtures("cold")


@pytest.fixture(autouse=True)
def every_path_re_executes_identically(request):
    """After each test, re-execute every case it made; any divergence fails the test that made it."""
    db = request.getfixturevalue("db") if "db" in request.fixturenames else None
    yield
    if db is None:
        return
    with db.reading() as conn:
        case_nos = conn.execute(select(cases.c.case_no).order_by(cases.c.id)).scalars().all()
    for case_no in case_nos:
        report = replay_case(db, case_no)
        assert report.identical, report.divergence


T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 3 March 2025, 09:00 Beijing time
REMINDER_DUE = T0 + timedelta(days=7)  # workdays(5): Monday 10 March, 09:00 (a weekend in between)

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
REVIEW_OK = {"opinion": "同意"}
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


def _notified(db):
    """(recipient, kind, element) of every notification written so far."""
    with db.reading() as conn:
        rows = conn.execute(select(notifications.c.recipient, notifications.c.kind, notifications.c.element_id))
        return sorted((n.recipient, n.kind, n.element_id) for n in rows)


def _notices(db, case_no) -> list[tuple[str, str]]:
    """(kind, organ) of each notice the case gave the applicant (issue 15, item 8), oldest first."""
    with db.reading() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()
        return [(n["kind"], n["organ_name"]) for n in receipts.of_case(conn, case_id)]


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
    # decided on the spot (行政许可法第三十四条): the decision is a document, not only a status
    assert [kind for kind, _ in _notices(db, case.case_no)] == ["licence_granted"]


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
    assert [kind for kind, _ in _notices(db, case.case_no)] == ["refusal_of_acceptance"]  # 不予受理决定书, art 32


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
    assert [kind for kind, _ in _notices(db, case.case_no)] == ["refusal_of_acceptance"]


def test_report_up_approved_by_the_district_before_the_reminder(db, report_up):
    _, town, district = report_up
    case_no = _accept_at_town(db, town)

    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "accepted"
    assert _timers(db, case_no) == [("review_overdue", REMINDER_DUE)]
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


def test_report_up_reminder_fires_after_five_working_days_then_the_district_refuses(db, report_up):
    _, town, district = report_up
    case_no = _accept_at_town(db, town, annual_income=30000)
    due = REMINDER_DUE
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
    # 催办: the district's group and its chief are told, once.
    assert _notified(db) == [("chief:区民政局审批", "chase", "reminded"), ("group:区民政局审批", "chase", "reminded")]
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
    assert tick(db, REMINDER_DUE + timedelta(minutes=1)).fired == [{"case_no": case_no, "element_id": "review_overdue"}]
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
    assert _timers(db, case_no) == [("review_overdue", opened + timedelta(days=3))]  # workdays(3): Mon → Thu
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


# ---------------------------------------------------------------------------------------------------
# Time limits (时限): each demo's clock, on the 2026 calendar (Spring Festival 15–23 February with
# make-up Saturdays on 14 and 28 February; Mid-autumn 25–27 September and National Day 1–7 October
# with a make-up Saturday on 10 October).


def local(text: str) -> datetime:
    """A district-time moment ("2026-02-12 10:00") as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def _clock(db, case_no, at: str):
    with clock.frozen_at(local(at)):
        return queries.case_detail(db, case_no)["clock"]


def test_direct_item_is_on_the_spot_its_clock_starts_and_stops_at_acceptance(db, direct):
    clerk = make_actor(db, "hrss", [WINDOW])
    with clock.frozen_at(local("2026-02-13 16:30")):  # the Friday before the Spring Festival
        case = start_case(db, "DEMO-002", {}, clerk)
        assert queries.case_detail(db, case.case_no)["clock"]["started_at"] is None  # not at application
        complete_task(db, _task(db, case.case_no, "accept_and_decide").task_id,
                      {**INSURANCE, "decision": "受理并办结"}, clerk)
    view = _clock(db, case.case_no, "2026-03-02 09:00")
    assert view["started_at"] == view["stopped_at"] == local("2026-02-13 16:30").isoformat()
    # 即办: 0 committed days ends with the day of acceptance; the statutory 5 are 14 (make-up), 24–27 Feb.
    assert view["committed_days"] == 0 and view["committed_deadline"] == local("2026-02-14 00:00").isoformat()
    assert view["statutory_deadline"] == local("2026-02-28 00:00").isoformat()
    assert view["working_days_used"] == 0 and view["warning_level"] == "none" and view["warnings"] == []


def test_joint_review_clock_starts_at_acceptance_and_chases_open_reviews_two_working_days_later(db, joint, clerk):
    with clock.frozen_at(local("2026-09-28 10:00")):
        case_no = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
    assert _clock(db, case_no, "2026-09-29 14:00")["started_at"] is None  # applied on Monday: not counted
    with clock.frozen_at(local("2026-09-29 15:00")):
        complete_task(db, _task(db, case_no, "accept").task_id, ACCEPT_DATA, clerk)
    view = _clock(db, case_no, "2026-09-29 15:00")
    assert view["started_at"] == local("2026-09-29 15:00").isoformat()
    # 7 working days after Tue 29 Sep: 30 Sep, (National Day) 8, 9, 10 (make-up Saturday), 12, 13, 14 Oct.
    assert view["committed_deadline"] == local("2026-10-15 00:00").isoformat()
    assert view["statutory_deadline"] == local("2026-10-20 00:00").isoformat()  # 10: … 15, 16, 19 Oct
    # workdays(2): 30 Sep, then 8 Oct at the same time of day — the holiday week does not count.
    due = local("2026-10-08 15:00")
    assert sorted(_timers(db, case_no)) == [("remind_env", due), ("remind_fire", due), ("remind_housing", due)]

    with clock.frozen_at(local("2026-09-30 11:00")):
        complete_task(db, _task(db, case_no, "review_fire").task_id, REVIEW_OK, clerk)
    assert sorted(e for e, _ in _timers(db, case_no)) == ["remind_env", "remind_housing"]  # done: not chased
    assert tick(db, local("2026-10-05 15:00")).fired == []
    assert tick(db, local("2026-10-08 14:59")).fired == []
    fired = tick(db, local("2026-10-08 15:01")).fired
    assert sorted(f["element_id"] for f in fired) == ["remind_env", "remind_housing"]
    assert tick(db, local("2026-10-09 15:01")).fired == []  # each chase fires once
    assert len(_notified(db)) == 4

    # Chasing decides nothing: both reviews stay open for their departments; nothing is approved.
    assert _elements(db, case_no=case_no) == ["review_env", "review_housing"]
    detail = queries.case_detail(db, case_no)
    assert detail["status"] == "in_progress" and detail["closed_at"] is None and detail["timers"] == []
    history = _history(db, case_no)
    steps = [e["element_id"] for e in history if e["type"] == "step_completed"]
    assert {"chase_housing", "chased_housing", "chase_env", "chased_env"} <= set(steps)
    assert "chase_fire" not in steps
    assert [e["element_id"] for e in history if e["type"] == "task_completed"] == ["accept", "review_fire"]
    assert [t.data["chased_housing"] for t in load_workflow(db, case_no).get_tasks(spec_name="chase_housing")] \
        == [True]
    assert _notified(db) == [("chief:住建审查", "chase", "chase_housing"), ("chief:环保审查", "chase", "chase_env"),
                             ("group:住建审查", "chase", "chase_housing"), ("group:环保审查", "chase", "chase_env")]

    # Each review's own limit (3 working days: 30 Sep, 8, 9 Oct) ran out — overdue steps, yellow cards (issue 15,
    # item 10); the case as a whole is on time.
    tick(db, local("2026-10-10 00:30"))
    view = _clock(db, case_no, "2026-10-10 00:30")
    assert sorted((w["level"], w["kind"], w["element_id"]) for w in view["warnings"]) == [
        ("yellow", "step", "review_env"), ("yellow", "step", "review_housing")]
    assert view["warning_level"] == "none"
    tick(db, local("2026-10-12 00:30"))  # warning_days 2: a reminder (no card) once two working days are left
    view = _clock(db, case_no, "2026-10-12 09:00")
    assert view["warning_level"] == "reminder" and view["working_days_remaining"] == 2

    with clock.frozen_at(local("2026-10-12 10:00")):
        for element in ("review_env", "review_housing"):
            complete_task(db, _task(db, case_no, element).task_id, REVIEW_OK, clerk)
        complete_task(db, _task(db, case_no, "issue").task_id, {"certificate_no": "JY-2026-0101"}, clerk)
    view = _clock(db, case_no, "2026-11-02 09:00")
    assert view["stopped_at"] == local("2026-10-12 10:00").isoformat() and view["working_days_used"] == 5
    assert queries.case_detail(db, case_no)["status"] == "completed"
    assert tick(db, local("2026-11-02 09:00")).fired == []


def test_report_up_clock_reminder_and_district_step_limit_across_the_spring_festival(db, report_up):
    _, town, district = report_up
    with clock.frozen_at(local("2026-02-12 10:00")):
        case = start_case(db, "DEMO-003", {}, town)
        complete_task(db, _task(db, case.case_no, "accept").task_id, {**DIBAO, "acceptance": "受理"}, town)
    case_no = case.case_no
    view = _clock(db, case_no, "2026-02-12 10:00")
    assert (view["committed_days"], view["statutory_days"]) == (30, 40)
    assert view["committed_deadline"] == local("2026-04-02 00:00").isoformat()
    assert view["statutory_deadline"] == local("2026-04-17 00:00").isoformat()  # Qingming 4–6 April off
    # workdays(5) from Thu 12 Feb: 13, 14 (make-up Saturday), 24, 25, 26 Feb.
    assert _timers(db, case_no) == [("review_overdue", local("2026-02-26 10:00"))]
    assert tick(db, local("2026-02-20 10:01")).fired == []
    assert tick(db, local("2026-02-26 10:01")).fired == [{"case_no": case_no, "element_id": "review_overdue"}]
    assert _elements(db, district) == ["district_review"]
    # The district's own limit of 10 working days (in the shared call activity) ends with 4 March.
    tick(db, local("2026-03-04 23:59"))
    assert _clock(db, case_no, "2026-03-04 23:59")["warnings"] == []
    tick(db, local("2026-03-05 00:01"))
    warnings = _clock(db, case_no, "2026-03-05 00:01")["warnings"]
    assert [(w["kind"], w["element_id"]) for w in warnings] == [("step", "district_review")]
    assert DISTRICT in warnings[0]["notified"] and "role:supervisor" in warnings[0]["notified"]
    assert _elements(db, district) == ["district_review"]  # flagged, still the district's to decide


SUPPLEMENT_LIST = "1. 住宅设计图（须有设计单位盖章）；2. 村民委员会意见原件（现为复印件）"


def test_committed_item_clock_pauses_for_publicity_and_for_the_supplement(db, committed):
    window, planner, _ = committed
    with clock.frozen_at(local("2026-02-09 15:00")):
        case_no = start_case(db, "DEMO-004", {}, window).case_no
    with clock.frozen_at(local("2026-02-10 10:00")):
        assert queries.case_detail(db, case_no)["clock"]["started_at"] is None  # applied yesterday: not counted
        complete_task(db, _task(db, case_no, "accept").task_id, {**HOUSE, "acceptance": "受理"}, window)
    view = _clock(db, case_no, "2026-02-12 09:00")
    assert view["started_at"] == local("2026-02-10 10:00").isoformat()
    assert view["paused"] and view["working_days_used"] == 0
    assert [p["reason"] for p in view["pauses"]] == ["批前公示"]
    # Seven calendar days of publicity end on Tue 17 Feb, in the Spring Festival.
    assert _timers(db, case_no) == [("publicity", local("2026-02-17 10:00"))]
    assert tick(db, local("2026-02-17 10:01")).fired == [{"case_no": case_no, "element_id": "publicity"}]
    view = _clock(db, case_no, "2026-02-17 10:01")
    # 11, 12, 13 and 14 Feb (a make-up Saturday) went to publicity: 10 working days now run 24 Feb – 6 Mar.
    assert not view["paused"] and view["paused_working_days"] == 4
    assert view["committed_deadline"] == local("2026-03-07 00:00").isoformat()
    assert _timers(db, case_no) == [("review_overdue", local("2026-02-26 10:01"))]  # workdays(3): 24, 25, 26

    review = _task(db, case_no, "review")
    with clock.frozen_at(local("2026-02-24 11:00")):
        with pytest.raises(FormValidationError) as err:
            complete_task(db, review.task_id, {"approval": "需补正"}, planner)
        assert set(err.value.field_errors) == {"supplement_request"}  # one complete list, or nothing
        complete_task(db, review.task_id, {"approval": "需补正", "supplement_request": SUPPLEMENT_LIST}, planner)
    # The window tells the applicant and waits; the clock stands still; the escalation timer is gone.
    supplement = _task(db, case_no, "supplement")
    assert _elements(db, case_no=case_no) == ["supplement"] and _timers(db, case_no) == []
    assert supplement.candidate_group == HOUSING_WINDOW and _elements(db, planner) == []
    assert supplement.form == "supplement-received.json"
    assert _task_data(db, case_no, supplement.task_id)["supplement_request"] == SUPPLEMENT_LIST  # in the history
    assert tick(db, local("2026-02-26 10:02")).fired == []
    view = _clock(db, case_no, "2026-02-27 09:00")
    assert view["paused"] and view["working_days_used"] == 1  # 24 Feb, the day of the review, counts
    assert view["committed_deadline"] == local("2026-03-07 00:00").isoformat()  # moved only on resuming

    with clock.frozen_at(local("2026-03-02 16:00")):
        with pytest.raises(FormValidationError) as err:
            complete_task(db, supplement.task_id, {"supplement_received_on": "2026-03-02"}, window)
        assert set(err.value.field_errors) == {"supplement_received"}
        complete_task(db, supplement.task_id, {"supplement_received": "住宅设计图1份（盖章）；村委会意见原件1份",
                                               "supplement_received_on": "2026-03-02"}, window)
    view = _clock(db, case_no, "2026-03-02 16:00")
    # Paused 24 Feb – 2 Mar: 25, 26, 27, 28 Feb (make-up) and 2 March are added to both deadlines.
    assert [(p["reason"], p["working_days"]) for p in view["pauses"]] == [("批前公示", 4), ("等待补正材料", 5)]
    assert view["paused_working_days"] == 9 and view["working_days_used"] == 1
    assert view["committed_deadline"] == local("2026-03-14 00:00").isoformat()  # 6 March + 5 working days
    assert view["statutory_deadline"] == local("2026-03-28 00:00").isoformat()
    # Back to the planning section with the new materials, and a fresh escalation timer.
    assert _elements(db, case_no=case_no) == ["review"]
    assert _timers(db, case_no) == [("review_overdue", local("2026-03-05 16:00"))]

    with clock.frozen_at(local("2026-03-03 10:00")):
        complete_task(db, _task(db, case_no, "review").task_id, {"approval": "准予许可", "objections": "无"}, planner)
        complete_task(db, _task(db, case_no, "issue").task_id, {"certificate_no": "乡字第420115202600021号"}, window)
    view = _clock(db, case_no, "2026-04-01 09:00")
    assert view["stopped_at"] == local("2026-03-03 10:00").isoformat()
    assert view["working_days_used"] == 2 and view["warning_level"] == "none" and view["warnings"] == []
    assert queries.case_detail(db, case_no)["status"] == "approved"
    types = [e["type"] for e in _history(db, case_no)]
    assert (types.count("clock_started"), types.count("clock_paused"), types.count("clock_resumed")) == (1, 2, 2)
