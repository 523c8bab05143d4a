"""Users, groups, sessions and API tokens; passwords hashed with argon2, tokens stored only as SHA-256.

Why a session generation: the web session is a signed cookie the server cannot take back, so each user row
keeps a counter that every session carries from its login. Logging out, changing the password or disabling
the user bumps it, and every cookie still carrying the old value — a copy included — stops working.

Why logins are counted before the password is checked: see engine/org/ratelimit.py. Each attempt takes a place
per account (the name typed, whether or not such a user exists, so a pause tells nothing about which names
are real) and per client address; a successful login gives its places back.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from engine import settings
from engine.errors import ConflictError, NotFound, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org import ratelimit
from engine.org.assignment import Actor
from engine.org.ratelimit import Limit
from engine.store.aggregates import json_list
from engine.store.db import Database
from engine.store.tables import api_tokens, groups, memberships, users
from engine.time import clock
from engine.time.clock import local_text

ROLES = ("applicant", "clerk", "chief", "supervisor", "analyst", "auditor", "admin")
_hasher = PasswordHasher()
TOKEN_DAYS = 90  # a token's life unless its issuer or ONEWINDOW_TOKEN_DAYS says otherwise
MAX_TOKEN_DAYS = 365
WRONG_CREDENTIALS = said("用户名或密码错误；请检查后重试。")
LOGIN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Login:
    """Who logged in, and the session generation their session must carry (`session_actor` checks it)."""

    actor: Actor
    generation: int


@dataclass(frozen=True)
class TokenInfo:
    """An API token as operators see it: never the token itself, which only its holder has."""

    id: int
    username: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= (now or clock.now()) else "active"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "label": self.label,
                "created_at": self.created_at.isoformat(), "expires_at": self.expires_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "revoked_reason": self.revoked_reason, "state": self.state()}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def ensure_group(conn: Connection, code: str, name: str | None = None) -> int:
    group_id = conn.execute(select(groups.c.id).where(groups.c.code == code)).scalar_one_or_none()
    if group_id is None:
        group_id = conn.execute(insert(groups).values(code=code, name=name or code)
                                .returning(groups.c.id)).scalar_one()
    return group_id


NO_LOGIN = "!"  # a stored hash that no password matches: people who exist only to be acted as (re-execution)


# --- users -----------------------------------------------------------------------------------------


def create_user(db: Database, username: str, password: str | None, display_name: str, roles: list[str],
                group_codes: list[str] = (), unit: str | None = None) -> None:
    """Create or update a user (idempotent, so `onewindow init --demo` can run twice); `password` None makes a
    user nobody can log in as (and skips argon2's deliberate cost). Giving an existing user a different
    password ends their sessions and revokes their API tokens; giving the same one again changes nothing."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise OnewindowError(f"unknown role(s) {unknown}; roles are: {', '.join(ROLES)}")
    with db.transaction() as conn:
        user = conn.execute(select(users.c.id, users.c.password_hash).where(users.c.username == username)
                            ).one_or_none()
        values: dict[str, Any] = {"display_name": display_name, "roles": list(roles), "unit_code": unit}
        if user is None or _password_differs(user.password_hash, password):
            values["password_hash"] = NO_LOGIN if password is None else _hasher.hash(password)
        if user is None:
            user_id = conn.execute(insert(users).values(username=username, created_at=clock.now(), **values)
                                   .returning(users.c.id)).scalar_one()
        else:
            user_id = user.id
            if "password_hash" in values:
                values["session_generation"] = users.c.session_generation + 1
                _revoke_all(conn, user_id, "密码已更改")
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
        conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
        for code in group_codes:
            conn.execute(insert(memberships).values(user_id=user_id, group_id=ensure_group(conn, code)))


def _password_differs(stored: str, password: str | None) -> bool:
    if password is None:
        return stored != NO_LOGIN
    return stored == NO_LOGIN or not _verifies(stored, password)


def set_disabled(db: Database, username: str, disabled: bool) -> None:
    """Disable a user (no login, every session ended, every token revoked) or enable them again; tokens
    revoked stay revoked."""
    with db.transaction() as conn:
        user_id = _user(conn, username).id
        if disabled:
            conn.execute(update(users).where(users.c.id == user_id).values(
                disabled_at=clock.now(), session_generation=users.c.session_generation + 1))
            _revoke_all(conn, user_id, "用户已停用")
        else:
            conn.execute(update(users).where(users.c.id == user_id).values(disabled_at=None))


# Built once: every request rebuilds its actor (a session's user, an API token's) from these, and composing a
# statement costs more than running it (about 0.45 ms of a request's 3 ms of HTTP overhead, bench/http_load.py).
# The user's group codes come in the same row (a JSON array, `store.aggregates`): one round trip, not two.
_GROUP_CODES = select(json_list(groups.c.code)).select_from(memberships).join(
    groups, groups.c.id == memberships.c.group_id).where(memberships.c.user_id == users.c.id) \
    .scalar_subquery().label("group_codes")
_USER_BY_NAME = select(users, _GROUP_CODES).where(users.c.username == bindparam("b_username"))
_SESSION_USER = _USER_BY_NAME.where(users.c.disabled_at.is_(None),
                                   users.c.session_generation == bindparam("b_generation"))
_USER_BY_TOKEN = select(users, _GROUP_CODES, api_tokens.c.expires_at, api_tokens.c.revoked_at,
                        api_tokens.c.revoked_reason) \
    .join(api_tokens, api_tokens.c.user_id == users.c.id).where(api_tokens.c.token_hash == bindparam("b_hash"))


def _user(conn: Connection, username: str) -> Row:
    user = conn.execute(_USER_BY_NAME, {"b_username": username}).one_or_none()
    if user is None:
        raise NotFound(said("用户 %(username)s 不存在；用 onewindow user list 查看已有用户。", username=username))
    return user


def actor_for(db: Database, username: str) -> Actor:
    with db.reading() as conn:
        return _actor(_user(conn, username))


def _actor(user: Row) -> Actor:
    """The actor of a row read by one of the statements above (which carry the group codes)."""
    return Actor(user.username, user.display_name, frozenset(user.roles), frozenset(user.group_codes or ()),
                 user.unit_code)


# --- logins and sessions ---------------------------------------------------------------------------


def log_in(db: Database, username: str, password: str, client: str | None) -> Login:
    """Check a password, throttled per account and per `client` address (`login_limits`).

    Unknown users, users nobody may log in as and wrong passwords all cost one argon2 verification and get
    one message, so neither the answer nor its time tells which usernames exist. A disabled user hears
    so only after giving the right password.
    """
    attempts = login_limits(username, client)
    with db.transaction() as conn:
        ratelimit.count(conn, attempts)
    with db.reading() as conn:
        user = conn.execute(_USER_BY_NAME, {"b_username": username}).one_or_none()
    usable = user is not None and user.password_hash != NO_LOGIN
    matches = _verifies(user.password_hash if usable else _dummy_hash(_hasher), password)
    if not (usable and matches):
        raise PermissionDenied(WRONG_CREDENTIALS)
    if user.disabled_at is not None:
        raise PermissionDenied(said("该账户已停用，不能登录；如需恢复，请联系本单位系统管理员。"))
    with db.transaction() as conn:
        ratelimit.uncount(conn, attempts)
        return Login(_actor(user), user.session_generation)


def login_limits(username: str, client: str | None) -> list[tuple[Limit, str]]:
    """Failed logins allowed per account and per client in 15 minutes; read at each login, so that an
    operator's change (a whole office behind one address) needs no code change."""
    per_account = settings.whole_number("LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1)
    per_client = settings.whole_number("LOGIN_FAILURES_PER_CLIENT", 20, minimum=1)
    attempts = [(Limit("login-account", per_account, LOGIN_WINDOW,
                       lambda **when: said("该账户登录失败次数过多，已暂停登录；"
                                           "请在 %(until)s（约 %(minutes)s 分钟）后再试。"
                                           "如忘记密码，请联系本单位系统管理员重置。", **when)),
                 username.strip().casefold())]
    if client:
        attempts.append((Limit("login-client", per_client, LOGIN_WINDOW,
                               lambda **when: said("本机登录失败次数过多，已暂停登录；"
                                                   "请在 %(until)s（约 %(minutes)s 分钟）后再试。", **when)), client))
    return attempts


def authenticate(db: Database, username: str, password: str) -> Actor:
    """The actor for valid credentials, for callers with no client address (scripts): throttled per account."""
    return log_in(db, username, password, None).actor


def login_for(db: Database, username: str) -> Login:
    """A login for someone who proved who they are another way: a registration's phone code."""
    with db.reading() as conn:
        user = _user(conn, username)
        return Login(_actor(user), user.session_generation)


def session_actor(db: Database, username: str, generation: int | None) -> Actor | None:
    """The actor behind a session, or None when the session is over (logged out, password changed, user
    disabled or deleted) — checked on every request."""
    if generation is None:
        return None
    user = db.read_row(_SESSION_USER, {"b_username": username, "b_generation": generation})
    return None if user is None else _actor(user)


def end_sessions(db: Database, username: str) -> None:
    """Log `username` out everywhere: every session they hold, and any copy of its cookie, stops working."""
    with db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == username)
                     .values(session_generation=users.c.session_generation + 1))


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.lru_cache(maxsize=2)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash with the hasher's own cost, verified in place of a user who is not there or has no password."""
    return hasher.hash(secrets.token_urlsafe(16))


# --- API tokens ------------------------------------------------------------------------------------


def token_days(days: int | None = None) -> int:
    """How long a new token lives: `days`, else ONEWINDOW_TOKEN_DAYS, else 90; never more than a year, so a
    forgotten token does not outlive the integration it was for by long."""
    if days is None:
        days = settings.whole_number("TOKEN_DAYS", TOKEN_DAYS, minimum=1)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise OnewindowError(said("令牌有效期须为 1 至 %(MAX_TOKEN_DAYS)s 天（现为 %(days)s 天）；"
                                  "到期前再签发新令牌即可。", MAX_TOKEN_DAYS=MAX_TOKEN_DAYS, days=days))
    return days


def issue_token(db: Database, username: str, label: str = "api", days: int | None = None) -> str:
    """A new API token for `username`, valid for `token_days(days)`; only its hash is stored, so it is shown
    once."""
    days = token_days(days)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with db.transaction() as conn:
        user = _user(conn, username)
        if user.disabled_at is not None:
            raise PermissionDenied(said("用户 %(username)s 已停用，不能签发令牌；"
                                   "请先用 onewindow user enable %(username)s 恢复。", username=username))
        conn.execute(insert(api_tokens).values(user_id=user.id, token_hash=_token_hash(token), label=label,
                                               created_at=now, expires_at=now + timedelta(days=days)))
    return token


def actor_for_token(db: Database, token: str) -> Actor:
    """The actor a bearer token stands for; refused when it is unknown, revoked, expired or its user disabled."""
    reissue = said("请联系系统管理员用 onewindow token 重新签发。")
    user = db.read_row(_USER_BY_TOKEN, {"b_hash": _token_hash(token)})
    if user is None:
        raise PermissionDenied(said("API 令牌无效；%(reissue)s", reissue=reissue))
    if user.revoked_at is not None:
        revoked = local_text(user.revoked_at)
        raise PermissionDenied(said("API 令牌已于 %(revoked)s 吊销（%(revoked_reason)s）；%(reissue)s",
                                    revoked=revoked, revoked_reason=user.revoked_reason, reissue=reissue))
    if clock.as_utc(user.expires_at) <= clock.now():
        raise PermissionDenied(said("API 令牌已于 %(expires_at)s 过期；%(reissue)s",
                                    expires_at=local_text(user.expires_at), reissue=reissue))
    if user.disabled_at is not None:
        raise PermissionDenied(said("该用户已停用，其 API 令牌不再有效；如需恢复，请联系系统管理员。"))
    return _actor(user)


def list_tokens(db: Database, username: str | None = None) -> list[TokenInfo]:
    """Every token (or `username`'s), oldest first, whatever its state."""
    query = select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id) \
        .order_by(api_tokens.c.id)
    with db.reading() as conn:
        if username is not None:
            query = query.where(api_tokens.c.user_id == _user(conn, username).id)
        return [_token_info(row) for row in conn.execute(query)]


def revoke_token(db: Database, token_id: int, reason: str) -> TokenInfo:
    """Revoke one token for good, recording who did it (`reason`, e.g. 管理员 admin 吊销)."""
    with db.transaction() as conn:
        revoked = conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                               .values(revoked_at=clock.now(), revoked_reason=reason[:128])
                               .returning(api_tokens.c.id)).one_or_none()
        row = conn.execute(select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)
                           .where(api_tokens.c.id == token_id)).one_or_none()
    if row is None:
        raise NotFound(said("令牌 %(token_id)s 不存在；用 onewindow token list 查看令牌编号。", token_id=token_id))
    if revoked is None:
        raise ConflictError(said("令牌 %(token_id)s 已于 %(revoked_at)s 吊销（%(revoked_reason)s），"
                            "无需再次吊销。",
                            token_id=token_id, revoked_at=local_text(row.revoked_at),
                            revoked_reason=row.revoked_reason))
    return _token_info(row)


def _revoke_all(conn: Connection, user_id: int, reason: str) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
                 .values(revoked_at=clock.now(), revoked_reason=reason))


def _token_info(row: Row) -> TokenInfo:
    return TokenInfo(row.id, row.username, row.label, clock.as_utc(row.created_at), clock.as_utc(row.expires_at),
                     clock.as_utc(row.revoked_at) if row.revoked_at else None, row.revoked_reason)


def list_users(db: Database) -> list[dict[str, Any]]:
    """Users with roles and group codes, by username (a read of the accounts tables, nothing else)."""
    with db.reading() as conn:
        people = conn.execute(select(users.c.id, users.c.username, users.c.display_name, users.c.roles,
                                     users.c.disabled_at).order_by(users.c.username)).all()
        pairs = conn.execute(select(memberships.c.user_id, groups.c.code)
                             .join(groups, groups.c.id == memberships.c.group_id).order_by(groups.c.code)).all()
    by_user: dict[int, list[str]] = {}
    for user_id, code in pairs:
        by_user.setdefault(user_id, []).append(code)
    return [{"username": p.username, "display_name": p.display_name, "roles": list(p.roles),
             "groups": by_user.get(p.id, []), "disabled": p.disabled_at is not None} for p in people]
