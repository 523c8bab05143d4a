"""The public catalogue (S-10): every deployed item with what its latest version says about it, for the
hall to browse by department, level and life event, and to search.

The item's level, accepting levels and life events live in the item.json of its latest version (kept
with the version, so the hall shows what is actually running); 63 items read in one query.

The demonstration items (codes `DEMO-*`, deployed by `onewindow init --demo` beside the real catalogue) are
not listed unless the installation opts in (`ONEWINDOW_HALL_DEMO_ITEMS=true`, docs/operators.md): a citizen
browsing the hall sees the district's items only. Their guides stay reachable by their own address (the
walks and the API use them). The list comes a page at a time (`PER_PAGE`), filters kept across pages.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from engine import settings
from engine.catalogue import governance
from engine.diagrams.specs import FORMS_PREFIX
from engine.store.db import Database
from engine.store.tables import items, latest_versions, process_versions

LEVEL_NAMES = {"district": "区级", "town": "镇级", "village": "村级"}
DEMO_PREFIX = "DEMO-"
PER_PAGE = 15


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    department: str
    handling_mode: str
    level: str
    accept_levels: tuple[str, ...]
    life_events: tuple[str, ...]
    guide: dict[str, Any]

    def matches(self, text: str) -> bool:
        haystack = " ".join([self.code, self.name, self.department, *self.life_events,
                             str(self.guide.get("content", ""))])
        return all(word in haystack for word in text.split())

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "department": self.department,
                "handling_mode": self.handling_mode, "level": self.level, "accept_levels": list(self.accept_levels),
                "life_events": list(self.life_events), "guide": self.guide}


def entries(db: Database) -> list[Entry]:
    """What the hall offers: public items (not the platform's own governance processes), not withdrawn (S-9)."""
    with db.reading() as conn:
        rows = conn.execute(
            latest_versions(items.c.code, items.c.name, items.c.department, items.c.handling_mode, items.c.guide,
                            process_versions.c.metadata)
            .order_by(items.c.department, items.c.code)).all()
    withdrawn = governance.withdrawn_codes(db)
    return [Entry(r.code, r.name, r.department, r.handling_mode, (r.metadata or {}).get("level", "district"),
                  tuple((r.metadata or {}).get("accept_levels") or ()),
                  tuple((r.metadata or {}).get("life_events") or ()), r.guide or {}) for r in rows
            if (r.metadata or {}).get("public", True) and r.code not in withdrawn]


@dataclass(frozen=True)
class Listing:
    """One page of the hall's list: its entries, how many passed the filters, the page, and the choices
    each filter offers (from every listed entry, so a choice never leads to an empty list by itself)."""

    items: list[Entry]
    total: int
    page: int
    pages: int
    facets: dict[str, list[str]]


def listed(db: Database) -> list[Entry]:
    """The entries the hall lists: without the demonstration items unless the installation opts in."""
    every = entries(db)
    if settings.switch("HALL_DEMO_ITEMS"):
        return every
    return [e for e in every if not e.code.startswith(DEMO_PREFIX)]


def browse(db: Database, department: str = "", level: str = "", life_event: str = "", q: str = "",
           page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """The `page`-th page of the listed entries that pass every filter given.

    A level filter matches where an item can be applied for: a town-level filter lists what a town
    centre accepts, including district items it takes in and reports up. A page past the last shows the
    last (a stale link after a filter narrowed the list)."""
    every = listed(db)
    chosen = [e for e in every
              if (not department or e.department == department)
              and (not level or level == e.level or level in e.accept_levels)
              and (not life_event or life_event in e.life_events)
              and (not q.strip() or e.matches(q.strip()))]
    facets = {"departments": sorted({e.department for e in every}),
              "levels": [lv for lv in LEVEL_NAMES if any(lv == e.level or lv in e.accept_levels for e in every)],
              "life_events": sorted({ev for e in every for ev in e.life_events})}
    pages = max(1, math.ceil(len(chosen) / per_page))
    page = min(max(1, page), pages)
    return Listing(chosen[(page - 1) * per_page:page * per_page], len(chosen), page, pages, facets)


def entry(db: Database, code: str) -> Entry | None:
    return next((e for e in entries(db) if e.code == code), None)


def application_form(db: Database, code: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The item's own application form (item.json `application_form`, kept with its latest version) as
    (JSON Schema, UI schema), or None when the item uses the hall's common form."""
    with db.reading() as conn:
        row = conn.execute(latest_versions(process_versions.c.metadata, process_versions.c.files)
                           .where(items.c.code == code)).one_or_none()
    if row is None or not (row.metadata or {}).get("application_form"):
        return None
    ui_name = row.metadata.get("application_ui_form")
    return (json.loads(row.files[FORMS_PREFIX + row.metadata["application_form"]]),
            json.loads(row.files[FORMS_PREFIX + ui_name]) if ui_name else {})


def guide_materials(db: Database, code: str) -> list[str]:
    """The names of the materials the item's guide asks for."""
    found = entry(db, code)
    return [m["name"] for m in (found.guide.get("materials", []) if found else [])]

