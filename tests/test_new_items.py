"""新建事项 (issue 17, item 7): a brand-new item from the studio's guide form, in each of the five shapes or
blank, lints clean and deploys as version 1; a committed one is walked to the end. Every problem of the
guide is kept beside its field, in Chinese; an existing, malformed or hostile code is refused; only
analysts and administrators may create one."""

from __future__ import annotations

import json

import catalogue_walk
import pytest
from conftest import deploy, make_actor
from test_studio import log_in

from engine.catalogue import drafts, new_items
from engine.org import orgtree

GUIDE = {
    "code": "ZJ-101", "name": "城市道路临时占用许可", "department": "区住房城乡建设和交通运输局", "level": "district",
    "content": "因工程建设等需要临时占用城市道路的，向区住房城乡建设和交通运输局申请许可。",
    "legal_basis": "《城市道路管理条例》第三十一条", "conditions": "确需临时占用城市道路\n有占道施工方案",
    "procedure": "申请\n受理\n审查\n决定", "statutory_limit_days": "20", "committed_limit_days": "10",
    "fees": "不收费", "place": "区行政服务中心 住建窗口", "hours": "周一至周五 9:00—17:00", "visits": "1",
    "review_body": "区人民政府", "court": "区人民法院",
    "material_name_0": "临时占用城市道路申请书", "material_form_0": "原件", "material_count_0": "1",
    "material_name_1": "占道施工方案", "material_form_1": "原件及复印件", "material_count_1": "1",
    "material_required_1": "no",
}


@pytest.fixture
def world(db):
    units = orgtree.install(db)
    return units, make_actor(db, "ana", [], ["analyst"])


def guide_for(shape: str, **changes) -> dict:
    fields = {**GUIDE, **changes}
    if shape == "direct":
        fields["committed_limit_days"] = "0"
    if shape == "blank":
        fields["handling_mode"] = "committed"
    if shape == "joint":
        fields["joint_departments"] = "区环境保护局\n区公安消防大队"
    return fields


@pytest.mark.parametrize("shape", list(new_items.SHAPES))
def test_each_shape_makes_a_laid_out_draft_that_lints_clean_and_deploys_as_version_1(db, world, shape):
    _, analyst = world
    metadata = new_items.metadata_from_form(guide_for(shape), shape)
    draft = new_items.create_item_draft(db, shape, metadata, analyst)
    assert draft.base_version is None and draft.item_code == "ZJ-101"
    [diagram] = draft.diagram_names()
    assert diagram == "item_zj_101.bpmn" and "bpmndi:BPMNShape" in draft.files[diagram]
    assert 'id="item_zj_101"' in draft.files[diagram] and "ZJ-101 城市道路临时占用许可" in draft.files[diagram]
    assert draft.form_names()  # the diagram's forms travel with the draft
    report = drafts.lint_draft(draft)
    assert [f.message for f in report.findings if f.severity == "error"] == []
    result = drafts.deploy_draft(db, draft, analyst, warnings_acknowledged=True)
    assert (result.version, result.created) == (1, True)
    stored = json.loads(drafts.version_files(db, "ZJ-101", 1)["item.json"])
    assert stored["handling_mode"] == ("committed" if shape == "blank" else shape)


def test_a_committed_item_made_in_the_studio_is_walked_to_the_end(db, world):
    units, analyst = world
    draft = new_items.create_item_draft(db, "committed", new_items.metadata_from_form(GUIDE, "committed"), analyst)
    drafts.deploy_draft(db, draft, analyst, warnings_acknowledged=True)
    front = catalogue_walk.fronts_for({"department": GUIDE["department"], "level": "district"}, units)["区级窗口"]
    walker = make_actor(db, "walker", [], ["admin"])
    done = catalogue_walk.walk(db, "ZJ-101", walker, catalogue_walk.Path("批准", front))
    assert done.status == "approved"


def test_every_problem_of_the_guide_is_named_beside_its_field(db, world):
    fields = guide_for("committed", name="占", statutory_limit_days="五", committed_limit_days="30", place="",
                       department="不存在的局", legal_basis="")
    problems = new_items.field_problems(db, new_items.metadata_from_form(fields, "committed"), "committed")
    assert set(problems) >= {"name", "statutory_limit_days", "place", "department", "legal_basis"}
    assert any("事项名称" in p for p in problems["name"])
    assert any("办理地点" in p for p in problems["place"])
    with pytest.raises(new_items.NewItemRefused) as refused:
        new_items.create_item_draft(db, "committed", new_items.metadata_from_form(fields, "committed"), world[1])
    assert refused.value.to_dict()["fields"] == problems


def test_committed_longer_than_statutory_is_named_at_the_committed_limit(db, world):
    fields = guide_for("committed", committed_limit_days="30")
    problems = new_items.field_problems(db, new_items.metadata_from_form(fields, "committed"), "committed")
    assert list(problems) == ["committed_limit_days"] and "超过了法定时限" in problems["committed_limit_days"][0]


@pytest.mark.parametrize("code, why", [
    ("RS-006", "已被使用"),  # deployed
    ("GT-003", "已被使用"),  # a folder under processes/, not deployed here
    ("zj_101", "只能由大写字母"), ("-ZJ", "只能由大写字母"), ("ZJ/../../etc", "只能由大写字母"),
    ("<script>", "只能由大写字母"), ("Z" * 40, "只能由大写字母"), ("", "只能由大写字母"),
])
def test_an_existing_malformed_or_hostile_code_is_refused(db, world, code, why):
    deploy(db, "catalogue/renshe/RS-006")
    problems = new_items.field_problems(db, new_items.metadata_from_form(guide_for("committed", code=code),
                                                                         "committed"), "committed")
    assert why in " ".join(problems["code"])


def test_a_code_another_analyst_is_drafting_is_taken_and_an_unknown_shape_is_refused(db, world):
    other = make_actor(db, "bo", [], ["analyst"])
    new_items.create_item_draft(db, "blank", new_items.metadata_from_form(guide_for("blank"), "blank"), other)
    problems = new_items.field_problems(db, new_items.metadata_from_form(guide_for("blank"), "blank"), "blank")
    assert "已被使用" in problems["code"][0]
    assert "shape" in new_items.field_problems(db, new_items.metadata_from_form(GUIDE, "../x"), "../x")


def test_hostile_text_in_the_name_stays_text_in_the_diagram_and_the_guide(db, world):
    name = '占道"/><bpmn:scriptTask id="x"><bpmn:script>import os</bpmn:script>'
    metadata = new_items.metadata_from_form(guide_for("blank", name=name[:80]), "blank")
    draft = new_items.create_item_draft(db, "blank", metadata, world[1])
    assert "<bpmn:scriptTask" not in draft.files["item_zj_101.bpmn"]
    assert drafts.draft_package(draft).metadata["name"] == name[:80]
    assert drafts.lint_draft(draft).ok


def test_the_new_item_page_names_each_mistake_beside_its_field_then_creates_the_draft(client, db, world):
    make_actor(db, "clerk1", [], ["clerk"])
    token = log_in(client, "ana")
    assert "新建事项" in client.get("/studio/").get_data(as_text=True)
    page = client.get("/studio/new")
    assert page.status_code == 200 and 'value="committed" checked' in page.get_data(as_text=True)
    wrong = client.post("/studio/new", data={**GUIDE, "shape": "committed", "place": "", "csrf_token": token})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and 'data-field="place"' in html
    place = html.split('data-field="place"')[1].split('data-field="hours"')[0]
    assert "field-error" in place and "办理地点" in place and 'aria-invalid="true"' in place
    assert "临时占用城市道路申请书" in html  # what was typed stays
    made = client.post("/studio/new", data={**GUIDE, "shape": "committed", "csrf_token": token})
    assert made.status_code == 302 and "/studio/drafts/" in made.headers["Location"]
    modeler = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "新事项草稿" in modeler and "/versions" not in modeler
    assert "我的新建事项草稿" in client.get("/studio/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    log_in(client, "clerk1")
    assert client.get("/studio/new").status_code == 403
