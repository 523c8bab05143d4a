"""A new case is written once (issue 18, item 2): its id and applicant are read first, its first change runs on
the row it will have, and one INSERT writes it with the state that change left — no placeholder row updated
a moment later. What the change saw must be what the database then holds, column for column."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, insert, select

from engine.desk.casework import new_case_row, start_case
from engine.reads import queries
from engine.runtime import change
from engine.store.tables import audit_events, cases, items, process_versions, task_index
from engine.time import clock


def test_a_new_case_is_one_insert_and_its_first_change_saw_the_row_the_database_holds(db, joint, clerk,
                                                                                    monkeypatch):
    seen = {}
    apply_change = change.apply_change

    def watched(conn, row, *args, **kwargs):
        seen.update({column.name: getattr(row, column.name) for column in cases.c})
        return apply_change(conn, row, *args, **kwargs)

    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    monkeypatch.setattr("engine.desk.casework.apply_change", watched)
    started = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    writes = [s.split("(")[0].split(" SET")[0].strip() for s in statements
              if s.lstrip().upper().startswith(("INSERT INTO CASES", "UPDATE CASES"))]
    assert writes == ["INSERT INTO cases"]  # not an INSERT of a placeholder and an UPDATE of it
    with db.reading() as conn:
        stored = conn.execute(select(cases).where(cases.c.case_no == started.case_no)).one()._asdict()
    changed_by_the_save = {"state", "status", "lock_version", "audit_seq", "audit_head", "updated_at",
                           "stalled_since", "closed_at", "warning_level", "next_check_at"}
    for name in (column.name for column in cases.c):
        if name not in changed_by_the_save and not name.startswith(("clock_", "committed_", "statutory_",
                                                                     "acceptance_", "warning_")):
            assert _same(stored[name], seen[name]), name
    assert started.case_no == f"{clock.local_date(stored['created_at']):%Y%m%d}{stored['id']:06d}"
    assert (seen["lock_version"], stored["lock_version"]) == (0, 1)
    assert stored["applicant_id"] == seen["applicant_id"] is not None  # the clerk's own account


def test_what_a_new_case_leaves_out_is_what_the_database_puts_there(db, joint, clerk):
    """`new_case_row` says what the server defaults would give; an INSERT that leaves every defaulted or
    nullable column out is read back and compared, so a new default the helper misreads fails here."""
    with db.transaction() as conn:
        version = conn.execute(select(process_versions.c.id, process_versions.c.item_id)
                               .join(items, items.c.id == process_versions.c.item_id)
                               .where(items.c.code == "DEMO-001")).one()
        given = {"id": 4242, "case_no": "TEST-DEFAULTS", "item_id": version.item_id, "version_id": version.id,
                 "status": "submitted", "state": "{}", "serializer_version": "1", "lock_version": 0,
                 "audit_seq": 0, "audit_head": "0" * 64, "created_at": clock.now(), "updated_at": clock.now()}
        conn.execute(insert(cases).values(**given))
        stored = conn.execute(select(cases).where(cases.c.id == 4242)).one()._asdict()
    expected = new_case_row(**given)
    assert {name: _plain(value) for name, value in stored.items()} == {n: _plain(v) for n, v in expected.items()}
    with pytest.raises(TypeError, match="not columns of cases"):
        new_case_row(case_number="x")


def test_cases_opened_at_once_get_distinct_consecutive_numbers(db, joint, clerk):
    def open_four(_: int) -> list[str]:
        return [start_case(db, "DEMO-001", {}, clerk).case_no for _ in range(4)]

    with ThreadPoolExecutor(max_workers=3) as pool:  # an error in a thread is raised here by map
        numbers = [number for opened in pool.map(open_four, range(3)) for number in opened]
    assert len(set(numbers)) == 12
    ids = sorted(int(number[-6:]) for number in numbers)
    assert ids == list(range(ids[0], ids[0] + 12))


def _same(stored, seen) -> bool:
    return _plain(stored) == _plain(seen)


def _plain(value):
    """A datetime as the instant it is (SQLite gives it back without its zone), anything else as is."""
    return clock.as_utc(value) if hasattr(value, "tzinfo") else value


def test_a_crash_while_a_case_opens_leaves_no_case_and_the_next_opens_normally(db, joint, clerk, monkeypatch):
    """The id is taken before the INSERT: a failure in between (here the audit events' write) must leave
    nothing of the case — no row, no task, no event — and the next application opens as usual."""
    def crash(conn, rows):
        raise RuntimeError("power cut while writing audit events")

    monkeypatch.setattr(change, "insert_events", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    with db.reading() as conn:
        assert [conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (cases, task_index, audit_events)] == [0, 0, 0]
    monkeypatch.undo()
    started = start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    assert [t.element_id for t in queries.open_tasks(db, case_no=started.case_no)] == ["accept"]
