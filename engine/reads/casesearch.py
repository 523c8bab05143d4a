"""Finding people and cases (issue 16, item 7): by the applicant's name (a part of it), ID number, phone,
case number, item, status and the date applied — the desk's 办件查询 and the auditor's search alike.

What is typed is never trusted: each criterion is cleaned to what it can be (an ID number is 18 digits or
X, a phone is digits, a name is at most 64 printable characters) and a value that cannot be one matches
nothing instead of raising; a name part is matched with LIKE escaped (`%` and `_` are letters). Who sees a
result is the one rule of `engine.runtime.caseaccess.concerns`, applied to every row before it is shown:
the search finds candidates, the rule decides, exactly as when the case page is opened.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select

from engine.org.assignment import Actor
from engine.runtime.caseaccess import OVERSEERS, concerns
from engine.store.db import Database
from engine.store.tables import cases, items, process_versions
from engine.time.clock import iso_utc, start_of_day

MAX_NAME = 64
SCAN_LIMIT = 2000  # candidates read for one page of a person who may see only some cases: a bound, said on the page
_ID_NUMBER = re.compile(r"^[0-9]{17}[0-9X]$")
_CASE_NO = re.compile(r"^[0-9]{8,32}$")


def clean_text(value: Any, most: int = MAX_NAME) -> str:
    """Printable text only (control and format characters dropped), trimmed, at most `most` characters."""
    text = value if isinstance(value, str) else ""
    text = "".join(ch for ch in text[: most * 4] if unicodedata.category(ch)[0] != "C")
    return text.strip()[:most]


def clean_id_number(value: Any) -> str:
    """An ID number as recorded: 18 characters, digits and an upper-case X; anything else is ''."""
    text = clean_text(value, 32).replace(" ", "").upper()
    return text if _ID_NUMBER.match(text) else ("?" if text else "")


def clean_digits(value: Any, most: int) -> str:
    """Digits only (a phone or a case number may be typed with spaces or dashes); '' when none."""
    text = clean_text(value, most * 2)
    digits = "".join(ch for ch in text if ch.isdigit() and ch.isascii())
    return digits[:most] if digits else ("?" if text else "")


@dataclass(frozen=True)
class CaseQuery:
    """What a person typed to find cases; every field optional. `?` marks a value that can match nothing."""

    case_no: str = ""
    name: str = ""  # a part of the applicant's name
    id_number: str = ""
    phone: str = ""
    item: str = ""  # item code
    status: str = ""
    date_from: date | None = None  # applied on or after (district date)
    date_to: date | None = None  # applied on or before

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseQuery:
        """From a query string, cleaned (see the module docstring); a bad date is left out, not an error."""
        return cls(case_no=clean_digits(args.get("no") or args.get("case_no"), 32),
                   name=clean_text(args.get("name")), id_number=clean_id_number(args.get("id_number")),
                   phone=clean_digits(args.get("phone"), 16), item=clean_text(args.get("item"), 64),
                   status=clean_text(args.get("status"), 32), date_from=_date(args.get("date_from")),
                   date_to=_date(args.get("date_to")))

    def to_args(self) -> dict[str, str]:
        """Back to a query string (empty fields left out), for the pages' links."""
        out = {key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(self).items()}
        out["no"] = out.pop("case_no")
        return {key: value for key, value in out.items() if value and value != "?"}

    @property
    def empty(self) -> bool:
        return not any(asdict(self).values())

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses on `cases` (and `items`) of this query; a `?` value makes one that is never true."""
        found: list[ColumnElement[bool]] = []
        exact = ((cases.c.applicant_id_number, self.id_number), (cases.c.applicant_phone, self.phone),
                 (items.c.code, self.item), (cases.c.status, self.status))
        for column, value in exact:
            if value:
                found.append(column == value)  # "?" matches no recorded value: nothing found, nothing leaked
        if self.case_no:
            found.append(cases.c.case_no == self.case_no if _CASE_NO.match(self.case_no)
                         else cases.c.case_no.startswith(self.case_no, autoescape=True))
        if self.name:
            found.append(cases.c.applicant_name.contains(self.name, autoescape=True))
        if self.date_from:
            found.append(cases.c.created_at >= start_of_day(self.date_from))
        if self.date_to:
            found.append(cases.c.created_at < start_of_day(self.date_to + timedelta(days=1)))
        return found


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) <= 10 and value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class FoundPage:
    """One page of cases found and shown; `more` says another page follows, `cut` that the scan bound was hit."""

    rows: list[dict[str, Any]]
    page: int
    more: bool
    cut: bool = False


def search_cases(db: Database, actor: Actor, query: CaseQuery, page: int = 1, per_page: int = 20) -> FoundPage:
    """One page of the cases matching `query` that concern `actor`, newest first (nothing for an empty query)."""
    page, per_page = min(max(page, 1), 10_000), max(per_page, 1)
    if query.empty:
        return FoundPage([], page, False)
    wanted = (page - 1) * per_page
    select_rows = (select(cases, items.c.code.label("item_code"), items.c.name.label("item_name"),
                          process_versions.c.content_hash)
                   .join(items, items.c.id == cases.c.item_id)
                   .join(process_versions, process_versions.c.id == cases.c.version_id)
                   .where(*query.conditions()).order_by(cases.c.created_at.desc(), cases.c.id.desc()))
    overseer = bool(actor.roles & OVERSEERS) or actor.is_admin
    shown: list[dict[str, Any]] = []
    with db.reading() as conn:
        if overseer:  # they see every case: the database pages for them
            rows = conn.execute(select_rows.limit(per_page + 1).offset(wanted)).all()
            return FoundPage([_row(r) for r in rows[:per_page]], page, len(rows) > per_page)
        skipped = scanned = 0
        for row in conn.execute(select_rows.limit(SCAN_LIMIT)):
            scanned += 1
            if not concerns(conn, row, actor):
                continue
            if skipped < wanted:
                skipped += 1
                continue
            if len(shown) == per_page:
                return FoundPage(shown, page, True)
            shown.append(_row(row))
    return FoundPage(shown, page, False, cut=scanned >= SCAN_LIMIT)


def _row(row) -> dict[str, Any]:
    return {"case_no": row.case_no, "item_code": row.item_code, "item_name": row.item_name,
            "applicant_name": row.applicant_name or "", "status": row.status,
            "created_at": iso_utc(row.created_at), "closed_at": iso_utc(row.closed_at),
            "committed_deadline": iso_utc(row.committed_deadline), "warning_level": row.warning_level}
