"""The desk's task list: one page of the open tasks a clerk may see, filtered and sorted, from the task index alone.

Pages continue by key, not by offset (issue 18, item 3): a page link carries the sort key of the last row shown
(`after`) or of the first (`before`, going back), so the next page starts right after it in the index, as cheap
at page 50 as at page 1, and a task arriving meanwhile neither repeats nor hides a row. Every order ends in the
task id, and every index the list reads ends in it too (migration 0020), so no page sorts. A page number
without a key (typed in, or an old bookmark) still works, by offset.

A clerk's visible rows are cut into disjoint parts (one per group, the tasks with no group, the clerk's own
claims elsewhere); each part reads its own index in the page's order and stops after one page, and the parts are
merged: OR-ing the groups would make the database read and sort every visible row. The count is exact, summed
per part from the same indexes (index only, never the table's rows). A part of the applicant's name is looked
up in the name index (FTS5 on SQLite, GIN on PostgreSQL: `engine.runtime.indexes.name_grams`) and every
candidate is checked with LIKE, so the index only narrows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, false, func, or_, select, text, true, union_all
from sqlalchemy.dialects import postgresql

from engine.org.assignment import Actor
from engine.runtime.indexes import name_grams
from engine.store.db import Database
from engine.store.tables import cases, task_index
from engine.time import clock
from engine.time.clock import iso_utc


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    case_no: str
    item_code: str
    item_name: str
    element_id: str
    name: str
    lane: str | None
    candidate_group: str | None
    assignee: str | None
    form: str | None
    created_at: str | None
    applicant_name: str | None = None
    case_status: str | None = None
    warning_level: str | None = None
    case_deadline: str | None = None
    due_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def deadline_day(self) -> date | None:
        """The day the case's committed limit closes, as the desk shows it."""
        return clock.deadline_day(datetime.fromisoformat(self.case_deadline) if self.case_deadline else None)


@dataclass(frozen=True)
class TaskFilter:
    """The desk's filters; every one reads a column of the task index (no join, no workflow)."""

    item_code: str | None = None
    case_status: str | None = None
    warning_level: str | None = None
    case_no: str | None = None
    applicant: str | None = None  # a part of the applicant's name
    due_before: datetime | None = None  # the case's committed deadline before this moment
    claimed: str | None = None  # "mine" (claimed by the actor), "unclaimed", "others" (claimed by someone else)


@dataclass(frozen=True)
class TaskPage:
    rows: list[TaskRow]
    total: int
    page: int
    per_page: int
    next_key: str | None = None  # `after` for the page after this one (None: this is the last)
    prev_key: str | None = None  # `before` for the page before this one (None: this is the first)


# Each order as (column name, descending), the task id last. "deadline" puts the tasks with no deadline yet last.
ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    "newest": (("created_at", True), ("task_id", True)),
    "oldest": (("created_at", False), ("task_id", False)),
    "deadline": (("case_deadline", False), ("task_id", False)),
    "case": (("case_no", False), ("task_id", False)),
}
SORTS = tuple(ORDERS)
_TIMES = {"created_at", "case_deadline"}


def _order_by(c, sort: str, backwards: bool = False) -> list:
    """ORDER BY over a column collection (the table, or the merged parts); `backwards` reverses every key."""
    keys = [c.case_deadline.is_(None).desc() if backwards else c.case_deadline.is_(None)] if sort == "deadline" else []
    for name, descending in ORDERS[sort]:
        keys.append(c[name].desc() if descending != backwards else c[name].asc())
    return keys


def key_of(row: TaskRow, sort: str) -> str:
    """A row's place in `sort`, as a page link carries it (URL-safe, opaque to the person)."""
    values = [getattr(row, name) for name, _ in ORDERS[sort]]
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _parse_key(token: str | None, sort: str) -> tuple[Any, str] | None:
    """The (first key, task id) a link carried, or None for anything that is not one (a tampered link reads as
    no key: the page falls back to its number; the visibility rule never depends on the key)."""
    if not token or len(token) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        first, task_id = values
        if not isinstance(task_id, str) or len(task_id) > 64:
            return None
        name = ORDERS[sort][0][0]
        if name in _TIMES:
            first = None if first is None else clock.as_utc(datetime.fromisoformat(first))
        elif not isinstance(first, str):
            return None
        if first is None and name != "case_deadline":
            return None
        return first, task_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _beyond(sort: str, first_is_none: bool, backwards: bool, nulls: bool | None = None):
    """Rows after the key (`b_first`, `b_tid`) in the page's order (before it, `backwards`). `nulls`: the part
    holds only rows with (True) or without (False) a deadline — the deadline order's halves, each read from its
    index. `first_is_none`: the key is among the tasks with no deadline yet, which come last."""
    name, descending = ORDERS[sort][0]
    column, tid = task_index.c[name], task_index.c.task_id
    first, task_id = bindparam("b_first", type_=column.type), bindparam("b_tid", type_=tid.type)
    later = descending == backwards  # True: "after" means greater values
    if sort == "deadline":
        if first_is_none:
            if nulls is False:
                return true() if backwards else false()
            beyond = tid < task_id if backwards else tid > task_id
            if nulls:
                return beyond
            return or_(column.is_not(None), and_(column.is_(None), beyond)) if backwards else \
                and_(column.is_(None), beyond)
        if nulls:
            return false() if backwards else true()
    strict = (column > first) if later else (column < first)
    equal_or = (column >= first) if later else (column <= first)
    within = and_(equal_or, or_(strict, (tid > task_id) if later else (tid < task_id)))
    if sort == "deadline" and nulls is None and not backwards:
        return or_(and_(column.is_not(None), within), column.is_(None))
    return within


@dataclass(frozen=True)
class _Shape:
    """Everything that decides a page's SQL apart from the values: statements are built once per shape, with bind
    parameters, so a page costs SQLAlchemy no statement building (measured: most of a page's time before)."""

    dialect: str
    sort: str
    groups: int  # how many groups the actor is in (one part each)
    scope: str  # "clerk", "member" (no clerk role), "all" (an administrator, or no actor)
    parts: bool  # read part by part (else one query: one case, a name part, everything)
    filters: tuple[bool, ...]  # which of item, status, warning, case number, due before are given
    names: str | None  # how a name part is looked up: "fts", "grams", "like", or None
    claimed: str | None
    key: str | None  # None, "after", "before"
    first_is_none: bool


_FILTER_COLUMNS = ("item_code", "case_status", "warning_level", "case_no")
_COLUMNS = list(task_index.c)


def _visibility(shape: _Shape):
    assignee, group = task_index.c.assignee, task_index.c.candidate_group
    if shape.names == "fts":  # let SQLite (no statistics) start from the name index, not from the groups' rows
        assignee, group = func.coalesce(assignee, ""), func.coalesce(group, "")
    visible = [assignee == bindparam("b_user")]
    if shape.groups:
        visible.append(group.in_(bindparam("b_groups", expanding=True)))
    if shape.scope == "clerk":
        visible.append(group == "" if shape.names == "fts" else group.is_(None))
    return or_(*visible)


def _parts(shape: _Shape) -> list:
    """The visible rows cut into disjoint parts that an index can each read in order: one per group, the tasks
    with no group (clerks), and the actor's claims outside those."""
    parts = [task_index.c.candidate_group == bindparam(f"b_g{i}") for i in range(shape.groups)]
    mine = task_index.c.assignee == bindparam("b_user")
    outside = task_index.c.candidate_group.not_in(bindparam("b_groups", expanding=True)) if shape.groups else true()
    if shape.scope == "clerk":
        parts.append(task_index.c.candidate_group.is_(None))
        parts.append(and_(mine, task_index.c.candidate_group.is_not(None), outside))
    else:
        parts.append(and_(mine, or_(task_index.c.candidate_group.is_(None), outside)))
    return parts


def _where(query, shape: _Shape, scoped: bool):
    if scoped and shape.scope != "all":
        query = query.where(_visibility(shape))
    for name, given in zip(_FILTER_COLUMNS, shape.filters, strict=False):
        if given:
            query = query.where(task_index.c[name] == bindparam(f"b_{name}"))
    if shape.filters[-1]:
        query = query.where(task_index.c.case_deadline < bindparam("b_due_before"))
    if shape.names:
        # case-blind on both databases, as SQLite's LIKE is (PostgreSQL: ILIKE, which its trigram index serves too)
        name = task_index.c.applicant_name
        query = query.where(name.ilike(bindparam("b_like"), escape="/") if shape.dialect == "postgresql"
                            else name.like(bindparam("b_like"), escape="/"))
        if shape.names == "fts":
            query = query.where(text("task_index.case_id IN (SELECT rowid FROM case_names "
                                     "WHERE case_names MATCH :b_names)"))
        elif shape.names == "grams":
            query = query.where(task_index.c.case_id.in_(select(cases.c.id).where(cases.c.applicant_grams.op("@>")(
                bindparam("b_grams", type_=postgresql.ARRAY(String(8)))))))
        elif shape.dialect == "postgresql":  # three characters or more: the trigram index on the case's name
            query = query.where(task_index.c.case_id.in_(select(cases.c.id).where(
                cases.c.applicant_name.ilike(bindparam("b_like"), escape="/"))))
    if shape.claimed == "unclaimed":
        query = query.where(task_index.c.assignee.is_(None))
    elif shape.claimed in ("mine", "others"):
        mine = task_index.c.assignee == bindparam("b_user")
        query = query.where(mine if shape.claimed == "mine" else (task_index.c.assignee.is_not(None) & ~mine))
    return query


@functools.lru_cache(maxsize=512)
def _statements(shape: _Shape) -> tuple[Any, Any]:
    """(count, page) for a shape; the page fetches one row more than a page, to know whether another follows."""
    backwards = shape.key == "before"
    counting = select(func.count()).select_from(task_index)
    if not shape.parts:
        query = _where(select(*_COLUMNS), shape, True)
        if shape.key:
            query = query.where(_beyond(shape.sort, shape.first_is_none, backwards))
        page = (query.order_by(*_order_by(task_index.c, shape.sort, backwards))
                .limit(bindparam("b_limit")).offset(bindparam("b_offset")))
        return select(_where(counting, shape, True).scalar_subquery()), page
    parts = _parts(shape)
    halves = [(p, None) for p in parts]
    if shape.sort == "deadline":  # `deadline IS NULL` first in the key hides the index order: split at the NULLs
        halves = [(and_(p, task_index.c.case_deadline.is_not(None)), False) for p in parts] + \
                 [(and_(p, task_index.c.case_deadline.is_(None)), True) for p in parts]
    within = _order_by(task_index.c, shape.sort, backwards)[1 if shape.sort == "deadline" else 0:]
    branches = []
    for part, nulls in halves:
        branch = _where(select(*_COLUMNS), shape, False).where(part)
        if shape.key:
            branch = branch.where(_beyond(shape.sort, shape.first_is_none, backwards, nulls))
        branches.append(select(branch.order_by(*within).limit(bindparam("b_reach")).subquery()))
    merged = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    page = (select(merged).order_by(*_order_by(merged.c, shape.sort, backwards))
            .limit(bindparam("b_limit")).offset(bindparam("b_offset")))
    counted = select(*(_where(counting, shape, False).where(p).scalar_subquery() for p in parts))
    return counted, page


def _name_lookup(dialect: str, part: str) -> tuple[str, dict[str, Any]]:
    """How a name part is looked up, and its values: the name index narrows, LIKE decides."""
    pattern = "%" + part.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    grams = [g for g in name_grams(part) if len(g) == min(2, len(part))]
    if dialect == "postgresql":
        return ("like", {"b_like": pattern}) if len(part) >= 3 else ("grams", {"b_like": pattern, "b_grams": grams})
    words = [g for g in grams if any(not ch.isascii() or ch.isalnum() for ch in g)]
    if not words:  # nothing the index holds (spaces, punctuation): LIKE alone
        return "like", {"b_like": pattern}
    return "fts", {"b_like": pattern, "b_names": " AND ".join('"' + g.replace('"', '""') + '"' for g in words)}


def _task_row(r) -> TaskRow:
    return TaskRow(r.task_id, r.case_no, r.item_code, r.item_name, r.element_id, r.name, r.lane, r.candidate_group,
                   r.assignee, r.form, iso_utc(r.created_at), r.applicant_name, r.case_status, r.warning_level,
                   iso_utc(r.case_deadline), iso_utc(r.due_at))


def task_page(db: Database, actor: Actor | None, filters: TaskFilter = TaskFilter(), sort: str = "newest",
              page: int = 1, per_page: int = 50, after: str | None = None, before: str | None = None) -> TaskPage:
    """One page of open tasks the actor may see, filtered and sorted — from the task index alone.

    `after` / `before`: the key a page link carried (`TaskPage.next_key` / `prev_key`); without one, `page`
    counts from the start (by offset)."""
    sort = sort if sort in ORDERS else "newest"
    page, per_page = max(page, 1), max(per_page, 1)  # callers choose the size: the desk 20, a case view all
    backwards = _parse_key(before, sort) is not None
    key = _parse_key(before, sort) if backwards else _parse_key(after, sort)
    offset = 0 if key is not None else (page - 1) * per_page
    dialect = db.engine.dialect.name
    scope = "all" if actor is None or actor.is_admin else "clerk" if "clerk" in actor.roles else "member"
    groups = sorted(actor.groups) if actor is not None and scope != "all" else []
    values: dict[str, Any] = {"b_user": actor.username if actor else "", "b_groups": groups,
                              **{f"b_g{i}": g for i, g in enumerate(groups)},
                              "b_limit": per_page + 1, "b_offset": offset, "b_reach": offset + per_page + 1}
    given = [getattr(filters, name) for name in _FILTER_COLUMNS]
    values.update({f"b_{name}": value for name, value in zip(_FILTER_COLUMNS, given, strict=True) if value})
    if filters.due_before is not None:
        values["b_due_before"] = filters.due_before
    names = None
    if filters.applicant and "\x00" in filters.applicant:  # no name holds one (and LIKE would stop at it)
        return TaskPage([], 0, page, per_page)
    if filters.applicant:
        names, found = _name_lookup(dialect, filters.applicant)
        values.update(found)
    if key is not None:
        values["b_first"], values["b_tid"] = key
    shape = _Shape(dialect, sort, len(groups), scope, scope != "all" and not filters.case_no and not names,
                   (*(bool(v) for v in given), filters.due_before is not None), names,
                   filters.claimed if filters.claimed == "unclaimed" or actor is not None else None,
                   None if key is None else "before" if backwards else "after",
                   key is not None and key[0] is None)
    counted, query = _statements(shape)
    with db.reading() as conn:
        total = sum(conn.execute(counted, values).one())
        found_rows = conn.execute(query, values).all()
    more = len(found_rows) > per_page
    rows = [_task_row(r) for r in found_rows[:per_page]]
    if backwards:
        rows.reverse()
    has_next = more or backwards
    has_prev = (key is not None and not backwards) or (backwards and more) or (key is None and page > 1)
    return TaskPage(rows, total, page, per_page,
                    next_key=key_of(rows[-1], sort) if rows and has_next else None,
                    prev_key=key_of(rows[0], sort) if rows and has_prev else None)


def open_tasks(db: Database, actor: Actor | None = None, case_no: str | None = None,
               limit: int = 200) -> list[TaskRow]:
    """Open tasks, newest first; with `actor`, only those of the actor's groups (or claimed by them)."""
    return task_page(db, actor, TaskFilter(case_no=case_no), "newest", 1, limit).rows
