"""Users, groups and API tokens; passwords hashed with argon2, tokens stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Connection, delete, insert, select, update

from . import clock
from .assignment import Actor
from .db import Database
from .errors import NotFound, OnewindowError, PermissionDenied
from .tables import api_tokens, groups, memberships, users

ROLES = ("applicant", "clerk", "chief", "supervisor", "analyst", "auditor", "admin")
_hasher = PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def ensure_group(conn: Connection, code: str, name: str | None = None) -> int:
    group_id = conn.execute(select(groups.c.id).where(groups.c.code == code)).scalar_one_or_none()
    if group_id is None:
        group_id = conn.execute(insert(groups).values(code=code, name=name or code)
                                .returning(groups.c.id)).scalar_one()
    return group_id


NO_LOGIN = "!"  # a stored hash that no password matches: people who exist only to be acted as (re-execution)


def create_user(db: Database, username: str, password: str | None, display_name: str, roles: list[str],
                group_codes: list[str] = (), unit: str | None = None) -> None:
    """Create or update a user (idempotent, so `onewindow init --demo` can run twice); `password` None makes a
    user nobody can log in as (and skips argon2's deliberate cost)."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise OnewindowError(f"unknown role(s) {unknown}; roles are: {', '.join(ROLES)}")
    with db.transaction() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one_or_none()
        password_hash = NO_LOGIN if password is None else _hasher.hash(password)
        values = {"display_name": display_name, "password_hash": password_hash, "roles": list(roles),
                  "unit_code": unit}
        if user_id is None:
            user_id = conn.execute(insert(users).values(username=username, created_at=clock.now(), **values)
                                   .returning(users.c.id)).scalar_one()
        else:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
        conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
        for code in group_codes:
            conn.execute(insert(memberships).values(user_id=user_id, group_id=ensure_group(conn, code)))


def actor_for(db: Database, username: str) -> Actor:
    with db.reading() as conn:
        return _actor(conn, username)


def _actor(conn: Connection, username: str) -> Actor:
    user = conn.execute(select(users).where(users.c.username == username)).one_or_none()
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    codes = conn.execute(select(groups.c.code).join(memberships, memberships.c.group_id == groups.c.id)
                         .where(memberships.c.user_id == user.id)).scalars().all()
    return Actor(user.username, user.display_name, frozenset(user.roles), frozenset(codes), user.unit_code)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The actor for valid credentials; one message for unknown user and wrong password alike."""
    with db.reading() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == username)
                              ).scalar_one_or_none()
        try:
            if stored is None or not _hasher.verify(stored, password):
                raise PermissionDenied("用户名或密码错误")
        except (VerifyMismatchError, InvalidHashError) as exc:
            raise PermissionDenied("用户名或密码错误") from exc
        return _actor(conn, username)


def issue_token(db: Database, username: str, label: str = "api") -> str:
    """A new API token for `username`; only its hash is stored, so it is shown once."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar_one_or_none()
        if user_id is None:
            raise NotFound(f"用户 {username} 不存在")
        conn.execute(insert(api_tokens).values(user_id=user_id, token_hash=_token_hash(token), label=label,
                                               created_at=clock.now()))
    return token


def actor_for_token(db: Database, token: str) -> Actor:
    with db.reading() as conn:
        username = conn.execute(select(users.c.username).join(api_tokens, api_tokens.c.user_id == users.c.id)
                                .where(api_tokens.c.token_hash == _token_hash(token))).scalar_one_or_none()
        if username is None:
            raise PermissionDenied("API 令牌无效；请使用 onewindow token 重新签发。")
        return _actor(conn, username)
