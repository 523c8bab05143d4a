"""The studio's diff between two versions: elements added, removed and changed, and what changed —
names, lanes, forms, timers, conditions, our properties — plus form files and the governed guide."""

from __future__ import annotations

import copy
import json

from conftest import PROCESSES

from engine.catalogue.deployment import deploy_package
from engine.catalogue.versions import diff_versions
from engine.diagrams.package import ProcessPackage, load_package
from engine.diagrams.versiondiff import diff_files, guide_changes, main_diagram

JOINT = "joint-review.bpmn"
DIRECT = "insurance-registration.bpmn"


def _files(folder: str) -> dict[str, str]:
    return dict(load_package(PROCESSES / folder).files)


def _changes(element) -> dict[str, tuple[str | None, str | None]]:
    return {c.aspect: (c.old, c.new) for c in element.changes}


def test_names_lanes_forms_timers_and_new_ids_are_told_apart():
    old = _files("demo-joint-review")
    new = dict(old)
    text = new[JOINT].replace('name="办结发证"', 'name="办结并发证"')
    text = text.replace("<bpmn:flowNodeRef>review_fire</bpmn:flowNodeRef>", "")
    text = text.replace("<bpmn:flowNodeRef>review_housing</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>review_housing</bpmn:flowNodeRef><bpmn:flowNodeRef>review_fire</bpmn:flowNodeRef>")
    text = text.replace('value="issue.json"', 'value="review.json"', 1)
    timer = text.index("TimerDef_remind_env")
    text = text[:timer] + text[timer:].replace("workdays(2)", "workdays(3)", 1)
    new[JOINT] = text.replace("chase_env", "chase_environment")
    accept = json.loads(new["forms/accept.json"])
    accept["properties"]["address"] = {"type": "string", "title": "经营地址"}
    accept["required"] = [*accept["required"], "address"]
    new["forms/accept.json"] = json.dumps(accept, ensure_ascii=False)

    elements, files = diff_files(old, new)
    by_id = {(e.element_id, e.status): e for e in elements}
    assert _changes(by_id["issue", "changed"]) == {"name": ("办结发证", "办结并发证"),
                                                   "form": ("issue.json", "review.json")}
    assert _changes(by_id["review_fire", "changed"]) == {"lane": ("消防审查", "住建审查")}
    assert _changes(by_id["remind_env", "changed"]) == {"timer": ("timeDuration=workdays(2)",
                                                                  "timeDuration=workdays(3)")}
    assert ("chase_environment", "added") in by_id and ("chase_env", "removed") in by_id
    flows = {e.element_id for e in elements if e.kind == "sequenceFlow" and e.status == "changed"}
    assert flows == {"f_remind_env"}  # rewired to the new element (the flow out of it got a new id too)
    assert ("f_chase_environment_end", "added") in by_id
    assert not any(e.element_id == "review_housing" for e in elements)
    [form] = files
    assert form.name == "forms/accept.json" and form.status == "changed"
    assert form.notes == ("新增字段 “经营地址”（address）", "字段 “经营地址”（address） 改为必填")  # title first


def test_conditions_and_our_properties():
    old = _files("demo-direct")
    new = dict(old)
    new[DIRECT] = old[DIRECT].replace('decision == "不予受理"', 'decision in ("不予受理", "退回")').replace(
        '<spiffworkflow:property name="caseStatus" value="refused" />',
        '<spiffworkflow:property name="caseStatus" value="withdrawn" />'
        '<spiffworkflow:property name="notify" value="supervisor" />')
    elements, files = diff_files(old, new)
    by_id = {e.element_id: e for e in elements}
    assert set(by_id) == {"f_gw_refused", "end_refused"} and files == []
    assert _changes(by_id["f_gw_refused"]) == {"condition": ('decision == "不予受理"',
                                                             'decision in ("不予受理", "退回")')}
    refused = by_id["end_refused"]
    assert _changes(refused) == {"property:caseStatus": ("refused", "withdrawn"),
                                 "property:notify": (None, "supervisor")}
    assert [c.label for c in refused.changes] == ["办件状态（caseStatus）", "通知（notify）"]


def test_the_governed_guide_fields():
    old = load_package(PROCESSES / "demo-joint-review").metadata
    new = copy.deepcopy(old)
    new["guide"]["committed_limit_days"] -= 1
    new["guide"]["materials"] = new["guide"]["materials"][:1]
    new["guide"]["fees"] = "不收费（已调整）"  # not governed
    changes = {c.field: c for c in guide_changes(old, new)}
    assert set(changes) == {"committed_limit_days", "materials"}
    assert changes["committed_limit_days"].summary.startswith("承诺时限（工作日）：")


def test_two_deployed_versions(db, joint):
    package = load_package(PROCESSES / "demo-joint-review")
    files = dict(package.files)
    files[JOINT] = files[JOINT].replace('name="受理"', 'name="受理审查"', 1)
    deploy_package(db, ProcessPackage(package.metadata, files), "analyst")
    with db.reading() as conn:
        diff = diff_versions(conn, "DEMO-001", 1, 2)
    assert [(e.element_id, e.status) for e in diff.elements] == [("accept", "changed")]
    assert diff.summary == "第 1 版 → 第 2 版：元素新增 0，删除 0，修改 1"
    assert 'id="demo_joint_review"' in main_diagram(files, "demo_joint_review")


def test_the_version_list_and_the_diff_page(db, joint, client):
    from conftest import make_actor
    from test_web import login, text

    package = load_package(PROCESSES / "demo-joint-review")
    files = dict(package.files)
    files[JOINT] = files[JOINT].replace('name="受理"', 'name="受理审查"', 1).replace("chase_env", "chase_environment")
    deploy_package(db, ProcessPackage(package.metadata, files), "liu")
    make_actor(db, "liu", [], ["analyst"])
    login(client, "liu")
    versions = text(client.get("/studio/items/DEMO-001/versions"))
    assert "第 2 版" in versions and "liu" in versions and "与上一版比较" in versions
    page = text(client.get("/studio/items/DEMO-001/diff?from=1&to=2"))
    assert 'data-changed="accept f_remind_env"' in page and 'data-added="chase_environment' in page
    assert 'data-removed="chase_env' in page
    assert "受理审查" in page and "新增" in page
    diagram = client.get("/studio/items/DEMO-001/versions/2/process.bpmn")
    assert diagram.mimetype == "application/xml" and b"chase_environment" in diagram.data
    assert client.get("/studio/items/NOPE/versions").status_code == 404


def test_the_diff_page_speaks_english_on_an_english_studio(db, joint, client):
    """The diff's summary and its aspects' names are the engine's words (`said`): English on an English page,
    with the elements' own names (data) as they are; the command line's summary stays Chinese."""
    from conftest import make_actor
    from test_engine_messages import _english_for
    from test_web import login, text

    package = load_package(PROCESSES / "demo-joint-review")
    files = dict(package.files)
    files[JOINT] = files[JOINT].replace('name="受理"', 'name="受理审查"', 1)
    deploy_package(db, ProcessPackage(package.metadata, files), "liu")
    make_actor(db, "liu", [], ["analyst"])
    login(client, "liu")
    page = text(client.get("/studio/items/DEMO-001/diff?from=1&to=2&lang=en"))
    counts = ", ".join(_english_for(f"{verb} %(n)s") % {"n": n} for verb, n in (("新增", 0), ("删除", 0), ("修改", 1)))
    summary = _english_for("第 %(old)s 版 → 第 %(new)s 版：元素%(counts)s%(extra)s") % {
        "old": 1, "new": 2, "counts": counts, "extra": ""}
    assert summary in page and _english_for("名称") in page and "受理审查" in page
    assert "版 → 第" not in page and "元素新增" not in page
    with db.reading() as conn:
        assert diff_versions(conn, "DEMO-001", 1, 2).summary == "第 1 版 → 第 2 版：元素新增 0，删除 0，修改 1"
