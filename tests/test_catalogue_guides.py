"""The district's item catalogue (S-2, S-6, S-10): 63 items of the 9 departments, each with a complete
办事指南. This is the catalogue issue's first increment — the guides as data; the diagrams (one of the
five shapes per item) follow.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from engine.diagrams.guide import guide_problems

CATALOGUE = Path(__file__).resolve().parent.parent / "processes" / "catalogue"

# S-2: the departments in the district centre and how many approval items each brings.
DEPARTMENTS = {
    "jinggai": ("区经济改革局", 5),
    "renshe": ("区人力资源和社会保障局", 10),
    "guotu": ("市国土资源局本区分局", 8),
    "minzheng": ("区民政局", 11),
    "jisheng": ("区人口和计划生育局", 1),
    "weisheng": ("区卫生局", 4),
    "zhujian": ("区住房城乡建设和交通运输局", 5),
    "wenti": ("区文化体育局", 15),
    "anjian": ("区安全生产监督管理局", 4),
}


def _items() -> list[tuple[Path, dict]]:
    return [(path, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(CATALOGUE.glob("*/*/item.json"))]


def test_the_catalogue_has_at_least_the_63_items_of_the_nine_departments():
    """S-2 counts the items each department brought; an analyst may add more (docs/modeling.md §16)
    without touching a test, so the counts are a floor, not the catalogue's size."""
    items = _items()
    per_folder = Counter(path.parent.parent.name for path, _ in items)
    assert set(per_folder) == set(DEPARTMENTS)
    for slug, (_, count) in DEPARTMENTS.items():
        assert per_folder[slug] >= count, (slug, per_folder[slug], count)
    assert len(items) >= sum(count for _, count in DEPARTMENTS.values()) == 63
    for path, item in items:
        assert item["department"] == DEPARTMENTS[path.parent.parent.name][0], path


@pytest.mark.parametrize("path_item", _items(), ids=lambda pi: pi[1].get("code", "?"))
def test_every_guide_is_complete(path_item):
    path, item = path_item
    assert guide_problems(item) == [], path
    assert path.parent.name == item["code"]


def test_codes_and_names_are_unique_and_every_handling_mode_occurs():
    items = [item for _, item in _items()]
    assert len({i["code"] for i in items}) == len(items)
    assert len({i["name"] for i in items}) == len(items)
    modes = Counter(i["handling_mode"] for i in items)
    assert set(modes) == {"direct", "committed", "joint", "report-up", "restricted"}
    levels = Counter(i["level"] for i in items)
    assert {"town", "district"} <= set(levels)


def test_only_a_direct_item_may_promise_no_days():
    item = next(item for _, item in _items() if item["handling_mode"] == "committed")
    on_the_spot = {**item, "guide": {**item["guide"], "committed_limit_days": 0}}
    assert any("必须有承诺时限" in problem for problem, _ in guide_problems(on_the_spot))
    assert not guide_problems(item)
