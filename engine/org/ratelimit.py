"""Limits on attempts per time window (guessing a code, asking for SMS), counted so that they hold under load.

Reading "4 failures so far" and then writing the fifth lets every request that arrives at once read 4: twelve
guesses sent together all got an answer against a limit of five on PostgreSQL. Here an attempt is counted
*first*, by one upsert that adds one and returns the new count, and the caller decides on that count. The
upsert takes the row lock on PostgreSQL (held to the end of the transaction, so attempts on one key queue)
and runs under the writer's lock on SQLite (`BEGIN IMMEDIATE`). A refused attempt raises inside the
caller's transaction, so its counts roll back with it and a refusal never lengthens a pause.

A window starts with the first attempt counted in it and the count starts over once it has passed: a
pause always ends by itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.errors import OnewindowError, PermissionDenied
from engine.messages import Said
from engine.store.tables import attempt_counters
from engine.time import clock

KEY_LENGTH = 200


class TooManyAttempts(PermissionDenied):
    status = 429
    code = "too_many_requests"


@dataclass(frozen=True)
class Limit:
    """At most `tries` attempts per `window` for each subject (a client, a case, a phone number).

    `refusal` says what the person refused reads: what happened and what to do, given the end of the pause as
    `until` (Beijing time, 14:30) and `minutes` from now — a function, so that its sentence is one `said`
    message with both as values.
    """

    name: str
    tries: int
    window: timedelta
    refusal: Callable[..., Said]
    error: type[OnewindowError] = TooManyAttempts


def count(conn: Connection, attempts: Sequence[tuple[Limit, str]]) -> None:
    """Count one attempt against each (limit, subject); the first limit found full raises its refusal.

    Callers list their limits in one fixed order, so two transactions never wait for each other's rows.
    """
    now = clock.now()
    for limit, subject in attempts:
        tries, window_start = _add_one(conn, _key(limit, subject), limit.window, now)
        if tries > limit.tries:
            until = clock.as_utc(window_start) + limit.window
            minutes = max(1, math.ceil((until - now).total_seconds() / 60))
            raise limit.error(limit.refusal(until=clock.local_text(until, "%H:%M"), minutes=minutes))


def uncount(conn: Connection, attempts: Sequence[tuple[Limit, str]]) -> None:
    """Give back an attempt `count` took, when it turned out not to be one that counts (the right code is not a
    failed guess)."""
    keys = [_key(limit, subject) for limit, subject in attempts]
    conn.execute(update(attempt_counters).where(attempt_counters.c.key.in_(keys), attempt_counters.c.tries > 0)
                 .values(tries=attempt_counters.c.tries - 1))


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"[:KEY_LENGTH]


def _add_one(conn: Connection, key: str, window: timedelta, now: datetime) -> tuple[int, datetime]:
    """One statement: the key's first attempt, or one more in its window, or the first of a new window."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(attempt_counters).values(key=key, tries=1, window_start=now)
    passed = attempt_counters.c.window_start <= now - window
    statement = statement.on_conflict_do_update(index_elements=[attempt_counters.c.key], set_={
        "tries": case((passed, 1), else_=attempt_counters.c.tries + 1),
        "window_start": case((passed, now), else_=attempt_counters.c.window_start)})
    row = conn.execute(statement.returning(attempt_counters.c.tries, attempt_counters.c.window_start)).one()
    return row.tries, row.window_start
