"""docs/modeling.md §2 lists item.json's fields as lint requires them (issue 17, item 9): the tables are read
back from the page and compared with the schema lint uses, so the guide cannot drift from the check."""

from __future__ import annotations

import json
import re

from conftest import ROOT

from engine.diagrams.guide import guide_problems

SCHEMA = json.loads((ROOT / "engine" / "diagrams" / "schemas" / "item.schema.json").read_text(encoding="utf-8"))
DOC = (ROOT / "docs" / "modeling.md").read_text(encoding="utf-8")
SECTION = DOC[DOC.index("## 2. item.json"):DOC.index("## 3. The diagram")]
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \|", re.M)


def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(item fields, guide fields) → the doc's 'required' column, from the section's first two tables."""
    tables = [dict(ROW.findall(table)) for table in re.split(r"\n\n(?=\| field)", SECTION)[1:3]]
    return tables[0], tables[1]


def test_the_item_table_names_every_field_and_marks_exactly_the_required_ones():
    items, _ = _tables()
    assert set(items) == set(SCHEMA["properties"])
    assert {name for name, required in items.items() if required.strip() == "yes"} == set(SCHEMA["required"])


def test_the_guide_table_names_every_field_and_marks_exactly_the_required_ones():
    _, guide = _tables()
    schema = SCHEMA["properties"]["guide"]
    assert set(guide) == set(schema["properties"])
    assert {name for name, required in guide.items() if required.strip() == "yes"} == set(schema["required"])


def test_the_sections_example_is_a_complete_guide_and_the_item_it_abridges_exists():
    example = json.loads(re.search(r"```json\n(.*?)```", SECTION, re.S).group(1))
    assert guide_problems(example) == []
    real = json.loads((ROOT / "processes" / "catalogue" / "minzheng" / example["code"] / "item.json").read_text())
    assert {k: real[k] for k in ("name", "department", "handling_mode", "level", "process_id")} == \
        {k: example[k] for k in ("name", "department", "handling_mode", "level", "process_id")}
