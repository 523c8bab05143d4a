"""The one test that hashes at production's cost: every other test logs in through a cheap argon2
(tests/conftest.py's `_cheap_password_hashing`, which keeps the suite fast), so this one checks that
production's hasher is argon2's recommended one and that an account made with it logs in."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from engine.org import accounts


def test_production_hashes_at_argon2s_default_cost_and_logs_in(db, monkeypatch, _cheap_password_hashing):
    production = _cheap_password_hashing
    assert accounts._hasher is not production  # the suite runs on the cheap one
    expected = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
    for name in ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len"):
        assert getattr(production, name) == getattr(expected, name), name
    monkeypatch.setattr(accounts, "_hasher", production)
    accounts.create_user(db, "clerk", "secret-pw", "窗口", ["clerk"], [])
    assert accounts.authenticate(db, "clerk", "secret-pw").username == "clerk"
    with db.reading() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM users WHERE username = 'clerk'").scalar_one()
    assert extract_parameters(stored).memory_cost == expected.memory_cost
