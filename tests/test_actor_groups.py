"""A person's groups come with the person in one statement (engine/org/accounts.py, engine/store/aggregates.py):
through a login, a session, an API token and by name, whatever the group codes hold."""

from __future__ import annotations

from sqlalchemy import event

from engine.org import accounts

ODD_CODES = ["受理窗口", "a,b", 'quote"d', "sep\x1fa", "[x]", "null"]


def test_every_way_to_an_actor_gives_exactly_its_groups_in_one_statement(db):
    accounts.create_user(db, "odd", "secret-pw-1", "奇", ["clerk"], ODD_CODES)
    accounts.create_user(db, "none", "secret-pw-1", "无", ["applicant"], [])
    login = accounts.log_in(db, "odd", "secret-pw-1", None)
    token = accounts.issue_token(db, "odd", "test")
    statements: list[str] = []
    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    found = [accounts.actor_for(db, "odd"), accounts.session_actor(db, "odd", login.generation),
             accounts.actor_for_token(db, token)]
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 3  # one a way
    assert all(actor.groups == frozenset(ODD_CODES) for actor in [login.actor, *found])
    assert accounts.actor_for(db, "none").groups == frozenset()
