"""The hall's public list (issue 16, item 3): the district's items only (the DEMO-* items when an installation
opts in), one name per department and per life event, a page of items at a time with the filters kept.

The duplicates came from the data: the demo's 住建 item named the bureau by an old name, and the catalogue
spelt the same life events two ways (开办企业 / 企业开办, 创业 / 投资创业, 工程建设 / 投资建设).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import deploy

from engine import settings
from engine.catalogue import entries as catalogue
from engine.org import orgtree

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "processes" / "catalogue"


@pytest.fixture(scope="module")
def items_json() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CATALOGUE.glob("*/*/item.json"))]


def test_every_item_names_its_department_as_the_org_tree_does(items_json):
    departments = {unit.name for unit in orgtree.read_tree(ROOT / "processes" / orgtree.TREE_FILE)}
    assert {item["department"] for item in items_json} <= departments


def test_a_life_event_has_one_name(items_json):
    events = {event for item in items_json for event in item.get("life_events", [])}
    twins = {("开办企业", "企业开办"), ("创业", "投资创业"), ("工程建设", "投资建设")}
    assert not [pair for pair in twins if set(pair) <= events or pair[0] in events]
    reordered = {frozenset(e) for e in events if len(e) == 4}  # the same four characters in another order
    assert len(reordered) == len([e for e in events if len(e) == 4])


@pytest.fixture
def seeded(demo_installation):
    return demo_installation.seed


def test_the_hall_lists_real_items_once_each_a_page_at_a_time(client, db, seeded, monkeypatch):
    monkeypatch.delenv("ONEWINDOW_HALL_DEMO_ITEMS", raising=False)
    first = client.get("/hall").get_data(as_text=True)
    listed = catalogue.browse(db, per_page=1000)
    assert listed.total == len(catalogue.entries(db)) - 4 and not any(e.code.startswith("DEMO-") for e in listed.items)
    assert "DEMO-" not in first and f"共 {listed.total} 个事项" in first and "第 1 / " in first
    rows = re.findall(r'<td class="mono">([A-Z]{2}-\d{3})</td>', first)
    assert len(rows) == catalogue.PER_PAGE
    options = re.findall(r'<option value="([^"]+)"', first.split('name="department"')[1].split("</select>")[0])
    assert len(options) == len(set(options)) and "区住房和城乡建设局" not in options
    events = re.findall(r'<option value="([^"]+)"', first.split('name="life_event"')[1].split("</select>")[0])
    assert "企业开办" in events and "开办企业" not in events and len(events) == len(set(events))
    second = client.get("/hall?page=2").get_data(as_text=True)
    assert set(re.findall(r'<td class="mono">([A-Z]{2}-\d{3})</td>', second)).isdisjoint(rows)


def test_filters_survive_paging(client, db, seeded):
    page = client.get("/hall", query_string={"department": "区文化体育局"}).get_data(as_text=True)
    assert "共 15 个事项" in page and 'id="pager"' not in page  # 15: one page
    page = client.get("/hall", query_string={"q": "许可", "page": "2"}).get_data(as_text=True)
    links = re.findall(r'href="(/hall\?[^"]+)"', page)
    assert links and all("q=%E8%AE%B8%E5%8F%AF" in link for link in links if "page=" in link)
    assert 'aria-current="page" class="current">2<' in page


def test_an_odd_page_number_shows_a_page(client, db, seeded):
    for odd in ("abc", "-1", "0", "99999", "1e9", "２", "%00", "1" * 12):
        response = client.get("/hall", query_string={"page": odd})
        assert response.status_code == 200 and "共 " in response.get_data(as_text=True), odd
    assert client.get("/hall", query_string={"page": "9" * 40}).status_code == 400  # refused before the hall


def test_an_installation_may_opt_in_to_the_demo_items(client, db, seeded, monkeypatch):
    monkeypatch.setenv("ONEWINDOW_HALL_DEMO_ITEMS", "true")
    listed = catalogue.browse(db, per_page=1000)
    assert {e.code for e in listed.items} >= {"DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"}
    assert "餐饮服务许可（联合审查演示）" in client.get("/hall", query_string={"q": "演示"}).get_data(as_text=True)


def test_a_demo_item_keeps_its_own_address(client, db, monkeypatch):
    """Off the list, not gone: its guide still opens for whoever has the link (the walks, the API)."""
    monkeypatch.delenv("ONEWINDOW_HALL_DEMO_ITEMS", raising=False)
    deploy(db, "demo-joint-review")
    assert catalogue.browse(db).total == 0
    assert client.get("/hall/items/DEMO-001").status_code == 200


@pytest.mark.parametrize("raw, expected", [("true", True), ("1", True), ("ON", True), ("false", False),
                                           ("0", False), ("", False)])
def test_the_switch_reads_on_and_off(monkeypatch, raw, expected):
    monkeypatch.setenv("ONEWINDOW_HALL_DEMO_ITEMS", raw)
    assert settings.switch("HALL_DEMO_ITEMS") is expected


def test_a_mistyped_switch_names_itself(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_HALL_DEMO_ITEMS", "maybe")
    with pytest.raises(ValueError, match="ONEWINDOW_HALL_DEMO_ITEMS"):
        settings.switch("HALL_DEMO_ITEMS")


def test_operators_find_the_setting():
    assert "ONEWINDOW_HALL_DEMO_ITEMS" in (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
