"""An analyst walks a migration in a real browser: the version list, the diff drawn on both diagrams
(added green, changed amber, removed red), the list of open cases with can / cannot and why, and the
move itself — the safe case moves, the unsafe one is refused and stays where it was.

Screenshots in test-artifacts/: studio-versions.png, studio-diff.png, studio-migrate-check.png,
studio-migrate-done.png, and the new version's diagram alone: studio-diff-diagram.png.
"""

from __future__ import annotations

import copy

import pytest
from conftest import ACCEPT_DATA, ALL_GROUPS, PROCESSES, make_actor
from playwright.sync_api import Page, expect

from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import ProcessPackage, load_package
from engine.reads import queries

from .conftest import ARTIFACTS
from .test_walkthrough import log_in

pytestmark = pytest.mark.browser

JOINT = "joint-review.bpmn"


def _version_two() -> ProcessPackage:
    """Renames 受理 and gives the environmental chase a new id: cases at the chase's review cannot move."""
    package = load_package(PROCESSES / "demo-joint-review")
    files = dict(package.files)
    files[JOINT] = files[JOINT].replace('name="受理"', 'name="受理（核验原件）"', 1).replace("review_env",
                                                                                        "review_environment")
    return ProcessPackage(copy.deepcopy(package.metadata), files)


def _markers(page: Page, selector: str) -> dict[str, list[str]]:
    pairs = page.eval_on_selector_all(
        f"{selector} g.djs-element[data-element-id]",
        "els => els.map(e => [e.getAttribute('data-element-id'), Array.from(e.classList)])")
    found: dict[str, list[str]] = {}
    for element_id, classes in pairs:
        for marker in ("sv-added", "sv-changed", "sv-removed"):
            if marker in classes:
                found.setdefault(marker, []).append(element_id)
    return {k: sorted(v) for k, v in found.items()}


def test_an_analyst_walks_a_migration(db, page: Page, screenshot):
    deploy_package(db, load_package(PROCESSES / "demo-joint-review"), "analyst")
    clerk = make_actor(db, "clerk", ALL_GROUPS)
    make_actor(db, "liu", [], ["analyst"])
    waiting = casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk).case_no
    reviewing = casework.start_case(db, "DEMO-001", {"applicant_name": "李四"}, clerk).case_no
    accept = queries.open_tasks(db, case_no=reviewing)[0].task_id
    casework.complete_task(db, accept, ACCEPT_DATA, clerk)
    deploy_package(db, _version_two(), "liu")

    log_in(page, "liu")
    page.goto("/studio/items/DEMO-001/versions")
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("第 2 版")
    expect(rows.first).to_contain_text("liu")
    expect(rows.nth(1)).to_contain_text("2 / 2")  # version 1: two open cases of two
    screenshot("studio-versions")

    rows.first.get_by_role("link", name="与上一版比较").click()
    expect(page.locator("#diagram-new")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#diagram-old")).to_have_attribute("data-rendered", "1")
    new_marks = _markers(page, "#diagram-new")
    assert new_marks == {"sv-added": ["review_environment"],
                         "sv-changed": ["accept", "f_env_join", "f_split_env", "remind_env"]}
    assert _markers(page, "#diagram-old") == {"sv-removed": ["review_env"],
                                              "sv-changed": ["accept", "f_env_join", "f_split_env", "remind_env"]}
    page.locator("#diagram-new g.djs-element[data-element-id=accept]").click()
    expect(page.locator("#el-accept")).to_have_class("sv-changed is-picked")
    expect(page.locator("#el-accept")).to_contain_text("受理（核验原件）")
    screenshot("studio-diff")
    page.locator("#diagram-new").screenshot(path=str(ARTIFACTS / "studio-diff-diagram.png"))

    page.goto("/studio/items/DEMO-001/versions")
    page.get_by_role("link", name="迁移未结办件到第 2 版").click()
    can = page.locator(f"#verdicts tr[data-case='{waiting}']")
    cannot = page.locator(f"#verdicts tr[data-case='{reviewing}']")
    expect(can).to_contain_text("可以迁移")
    expect(can).to_contain_text("受理")
    expect(can).not_to_contain_text("核验原件")  # where it is now: version 1's words
    expect(cannot).to_contain_text("办件停在环节「环保部门审查」（review_env），第 2 版中没有这个环节")
    expect(cannot.locator("input[type=checkbox]")).to_have_count(0)
    screenshot("studio-migrate-check")

    page.click("#migrate-button")
    expect(page.locator("#migration-result")).to_contain_text(f"已迁移 1 个办件到第 2 版：{waiting}")
    expect(page.locator("#verdicts tbody tr")).to_have_count(1)  # only the unsafe case is left on version 1
    screenshot("studio-migrate-done")
    assert queries.case_detail(db, waiting)["version"] == 2
    assert queries.case_detail(db, reviewing)["version"] == 1
    assert queries.case_history(db, waiting)[-1]["type"] == "case_migrated"
