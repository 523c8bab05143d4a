"""Every catalogue item through every path its diagram allows (issue: catalogue, item 7; S-5, S-6, S-7).

Paths are found from the diagrams (tests/catalogue_walk.py): accepted and approved, refused at
acceptance, supplemented then approved, refused with reason, a joint review with one department
refusing, the report-up round trip and the village agency round trip. Each case must end as its
answers imply, every task must sit with a group of the org tree, and every case must re-execute
identically from its audit trail.
"""

from __future__ import annotations

import json

import pytest
from catalogue_walk import (
    Path,
    diagram_class,
    diagram_classes,
    element_lanes,
    fronts_for,
    paths_of,
    resolved_groups,
    walk,
)
from conftest import POSTGRES_URL, deploy, make_actor
from sqlalchemy import select

from engine import settings
from engine.audit.replay import replay_case
from engine.catalogue.demo import item_folders
from engine.diagrams.package import load_package
from engine.org import orgtree
from engine.reads import queries
from engine.runtime.receipts import AT_THE_WINDOW
from engine.store.tables import cases, receipts

CATALOGUE = sorted(item_folders(settings.PROCESSES_DIR / "catalogue"), key=lambda p: p.name)
# One item of each diagram class walks every path from every front; the others of its class get the cheap
# checks (tests/catalogue_walk.py, issue 18 item 6).
CLASSES = list(diagram_classes(CATALOGUE).values())


def _kind(folder) -> tuple:
    meta = _meta(folder)
    return meta["handling_mode"], meta["level"], tuple(sorted(meta.get("accept_levels") or []))


def _walked_here() -> list:
    """(the class walked, the items of other classes only deployed). SQLite walks every class. On PostgreSQL
    the suite checks the database, not the diagrams again: one class per kind of item (handling mode, level,
    accepting levels: what decides the statements a case runs) walks there, the other classes of the kind
    deploy (the eight joint reviews differ in their departments, not in what they ask of the database)."""
    if not POSTGRES_URL:
        walked = [(members, []) for members in CLASSES]
    else:
        kinds: dict[tuple, list[list]] = {}
        for members in CLASSES:
            kinds.setdefault(_kind(members[0]), []).append(members)
        by_size = (sorted(classes, key=len, reverse=True) for classes in kinds.values())  # the most common walks
        walked = [(first, [folder for other in rest for folder in other]) for first, *rest in by_size]
    return [pytest.param(members, deployed, id=f"{members[0].name}+{len(members) - 1}" + (
        f",{len(deployed)}-deployed" if deployed else "")) for members, deployed in walked]


MANDATE = {"principal": "李四", "principal_id_number": "42070419800101123X", "signed_on": "2026-11-27"}


def _meta(folder) -> dict:
    return json.loads((folder / "item.json").read_text(encoding="utf-8"))


@pytest.fixture
def units(db):
    return orgtree.install(db)


@pytest.fixture
def admin(db, units):
    return make_actor(db, "walker", [], ["admin"])


def test_the_catalogue_has_a_diagram_for_every_item():
    assert len(CATALOGUE) >= 63  # S-2's items; an analyst may add more without touching a test (§16)
    shapes = {_meta(folder)["handling_mode"] for folder in CATALOGUE}
    assert shapes == {"direct", "committed", "joint", "report-up", "restricted"}
    assert sum(len(members) for members in CLASSES) == len(CATALOGUE) and len(CLASSES) < len(CATALOGUE)


def _package(folder, edit=lambda text: text):
    package = load_package(folder)
    [name] = package.main_bpmn_files()
    package.files[name] = edit(package.files[name])
    return package


def test_a_diagram_class_is_what_a_walk_depends_on():
    """Names, documentation and the drawing leave an item in its class; a condition, a lane, a form, the
    accepting levels or another item's process id made neutral do not."""
    folder = CATALOGUE[0]
    same = diagram_class(_package(folder))
    renamed = _package(folder, lambda text: text.replace('name="受理结果"', 'name="受理的结果"')
                       .replace("<bpmn:documentation>", "<bpmn:documentation>又及。")
                       .replace('<dc:Bounds x="', '<dc:Bounds x="1'))
    assert diagram_class(renamed) == same
    for edit in (lambda text: text.replace("【批准】", "【审核】"), lambda text: text.replace("==", "!=", 1)):
        assert diagram_class(_package(folder, edit)) != same
    other = _package(folder)
    other.metadata["accept_levels"] = ["district", "town"]
    assert diagram_class(other) != same
    first_form = next(name for name in other.files if name.endswith(".json"))
    other = _package(folder)
    other.files[first_form] = other.files[first_form].replace("}", ', "x": 1}', 1)
    assert diagram_class(other) != same


@pytest.mark.parametrize("members, deployed", _walked_here())
def test_every_path_of_each_diagram_class(db, units, admin, cold, members, deployed):
    """Each step cold (the `cold` fixture): the class's first item walks every path from every front as it
    would across restarts; every other item of the class deploys (lint) and each step of those walks,
    routed for its department and fronts, reaches a group of the org tree."""
    folder, *others = members
    meta = _meta(folder)
    deploy(db, str(folder.relative_to(settings.PROCESSES_DIR)))
    groups = orgtree.all_groups(units)
    fronts = fronts_for(meta, units)
    explored, paths = paths_of(db, meta["code"], admin, fronts)
    kinds = {p.name.split("=")[-1] for p in paths}
    assert {"补正", "不予受理"} <= kinds, f"{meta['code']}: acceptance must offer 补正 and 不予受理"
    assert any((k.startswith("不予") and k != "不予受理") or k == "不同意" for k in kinds), \
        f"{meta['code']}: no refusal after acceptance was found on the diagram"
    first = Path(f"{next(iter(fronts))}：全部通过", next(iter(fronts.values())))
    walks = []
    for path in [first, *paths]:
        mandate = MANDATE if path.front and orgtree.level_of(path.front) == "village" else None
        done = explored if path is first else walk(db, meta["code"], admin, path, mandate)
        assert done.status == path.expected_status(), f"{meta['code']} {path.name}: {done.status} {done.steps}"
        for element, group, _ in done.steps:
            assert group in groups, f"{meta['code']} {path.name}: {element} went to unknown group {group}"
        _check_receipts(db, done.case_no, path)
        _check_round_trip(db, meta, done, path)
        report = replay_case(db, done.case_no)
        assert report.identical, f"{meta['code']} {path.name}: {report.divergence}"
        walks.append((path, done))
    lanes = element_lanes(load_package(folder))
    for path, done in walks:  # the resolution below gives what the engine gave
        assert resolved_groups(done, lanes, _routing(meta, path.front)) == [g for _, g, _ in done.steps], path.name
    for other in others:
        _check_sibling(db, other, units, fronts, walks, lanes)
    for other in deployed:
        deploy(db, str(other.relative_to(settings.PROCESSES_DIR)))


def _routing(meta: dict, front: str | None) -> orgtree.Routing:
    return orgtree.Routing(meta["department"], meta["level"], front, tuple(meta.get("accept_levels") or ()))


def _check_sibling(db, folder, units: list, fronts: dict, walks: list, lanes: dict) -> None:
    """An item of the walked item's class: it deploys, and each walked step, routed for its department at
    the same kind of front, goes to a group of the org tree."""
    meta = _meta(folder)
    deploy(db, str(folder.relative_to(settings.PROCESSES_DIR)))
    own = fronts_for(meta, units)
    front_of = {fronts[label]: own[label] for label in fronts}
    groups = orgtree.all_groups(units)
    for path, done in walks:
        routed = resolved_groups(done, lanes, _routing(meta, front_of[path.front]))
        for (element, _, _), group in zip(done.steps, routed, strict=True):
            assert group in groups, f"{meta['code']} {path.name}: {element} would go to unknown group {group}"


ACCEPTANCE_KINDS = {"受理": "acceptance", "补正": "supplement", "不予受理": "refusal_of_acceptance"}


def _check_receipts(db, case_no: str, path: Path) -> None:
    with db.reading() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()
        kinds = [r.kind for r in conn.execute(select(receipts.c.kind).where(
            receipts.c.case_id == case_id, receipts.c.kind.in_(AT_THE_WINDOW)).order_by(receipts.c.id))]
    planned = [ACCEPTANCE_KINDS[a] for a in path.answers.get("accept_review") or ["受理"]]
    assert kinds == planned, f"{path.name}: receipts {kinds}, answers {planned}"


def _check_round_trip(db, meta: dict, done, path: Path) -> None:
    """A case that came in below the deciding level went up through each level and came back down."""
    front_level = orgtree.level_of(path.front) if path.front else meta["level"]
    if front_level == meta["level"] or done.status == "not_accepted":
        return
    elements = [element for element, _, _ in done.steps]
    groups = [group for _, group, _ in done.steps]
    if front_level == "village":
        assert "village_forward" in elements, f"{path.name}: a village application was not relayed up"
    if meta["level"] == "district":
        assert "town_forward" in elements, f"{path.name}: not forwarded to the district"
    delivery = "deliver" if done.status == "approved" else "deliver_refusal"
    assert elements[-1] == delivery and groups[-1] == orgtree.group_code(path.front, "窗口"), \
        f"{path.name}: the result did not come back to the window it came in at ({done.steps[-1]})"
    handovers = [e for e in queries.case_history(db, done.case_no) if e["type"] == "handed_over"]
    assert handovers and handovers[0]["data"]["source"] == orgtree.group_code(path.front, "窗口")
