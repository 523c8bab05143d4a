"""Applicant accounts by phone number (S-13): a one-time code proves the phone, then a password is set.

The code is six digits, stored only as a hash, valid for ten minutes and for five tries, and a new one
can be asked for once a minute per phone. Sending is limited across numbers too — per client an hour and
for everyone a minute (settings `SMS_PER_CLIENT_PER_HOUR`, `SMS_PER_MINUTE`) — so the hall cannot be used
to flood phones or run up the SMS bill. Sending is the SMS gateway's job: a message is queued in the
`sms_outbox` table in the same transaction as the code it carries, and a gateway adapter for the
district's provider drains it (`pending`, then `mark_sent`). Without one, an operator reads the queue with
`onewindow sms` (demo installations). A table, not a file: every web replica queues into the same outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from engine import settings
from engine.errors import ConflictError, OnewindowError, PermissionDenied
from engine.messages import said
from engine.org import accounts, password_policy, ratelimit
from engine.org.ratelimit import Limit
from engine.store.db import Database
from engine.store.tables import sms_outbox, users, verification_codes
from engine.time import clock

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
VALID_FOR = timedelta(minutes=10)
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5

BY_PHONE = Limit("sms-phone", 1, RESEND_AFTER, lambda **_when: said("验证码已发送，请 1 分钟后再重新获取。"),
                 ConflictError)


def number_of(username: str) -> str | None:
    """The phone number of an account registered here (its login is the number), None for any other login:
    the application form is filled with it, the applicant need not type it again."""
    return username if PHONE.match(username or "") else None


def queue(conn: Connection, phone: str, message: str) -> None:
    """Put a message in the outbox, inside the caller's transaction (it goes only if what it says is kept)."""
    conn.execute(insert(sms_outbox).values(phone=phone, message=message, queued_at=clock.now()))


def outbox(db: Database, pending_only: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """The latest messages first (only those not yet sent, for a gateway adapter, with `pending_only`)."""
    query = select(sms_outbox).order_by(sms_outbox.c.id.desc()).limit(limit)
    if pending_only:
        query = query.where(sms_outbox.c.sent_at.is_(None))
    with db.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def mark_sent(db: Database, ids: list[int]) -> int:
    """The gateway adapter's acknowledgement: these messages left for the provider. Returns how many."""
    with db.transaction() as conn:
        return conn.execute(update(sms_outbox).where(sms_outbox.c.id.in_(ids), sms_outbox.c.sent_at.is_(None))
                            .values(sent_at=clock.now())).rowcount


def _hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def sending_limits() -> tuple[Limit, Limit]:
    """Codes sent per client an hour, whatever the numbers, and by everyone a minute; read at each request
    so that an operator's change needs no code change."""
    per_client = settings.whole_number("SMS_PER_CLIENT_PER_HOUR", 10, minimum=1)
    per_minute = settings.whole_number("SMS_PER_MINUTE", 30, minimum=1)
    return (Limit("sms-client", per_client, timedelta(hours=1),
                  lambda **when: said("本机获取验证码过于频繁（每小时最多 %(per_client)s 条）；"
                                      "请在 %(until)s（约 %(minutes)s 分钟）后再试，或到服务窗口办理。",
                                      per_client=per_client, **when)),
            Limit("sms-all", per_minute, timedelta(minutes=1),
                  lambda **when: said("当前获取验证码的人数过多；请在 %(minutes)s 分钟后再试。",
                                      minutes=when["minutes"])))


def request_code(db: Database, phone: str, client: str, purpose: str = "register") -> None:
    """Make and send a code for `phone` asked for from `client` (its address); refuses a malformed number, a
    second request for the number within a minute and a request over the sending limits."""
    phone = phone.strip()
    if not PHONE.match(phone):
        raise OnewindowError(said("请输入 11 位手机号码（1 开头）。"))
    now = clock.now()
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    by_client, by_everyone = sending_limits()
    with db.transaction() as conn:
        ratelimit.count(conn, [(BY_PHONE, phone), (by_client, client), (by_everyone, "")])
        conn.execute(insert(verification_codes).values(
            phone=phone, purpose=purpose, code_hash=_hash(phone, code), created_at=now,
            expires_at=now + VALID_FOR, attempts=0))
        queue(conn, phone, f"【区政务服务】您的验证码是 {code}，10 分钟内有效。如非本人操作，请忽略。")


def register(db: Database, phone: str, code: str, password: str, name: str) -> None:
    """Create the applicant account `phone` once its latest code checks out; the code is used up."""
    phone, code, name = phone.strip(), code.strip(), name.strip()
    password_policy.check(password, phone)  # the one policy, as for `onewindow user add`
    if not name:
        raise OnewindowError(said("请填写姓名。"))
    _use_code(db, phone, code)
    with db.reading() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == phone)).first() is not None:
            raise ConflictError(said("该手机号已注册；请直接登录。"))
    accounts.create_user(db, phone, password, name, ["applicant"])


def _use_code(db: Database, phone: str, code: str) -> None:
    """Compare `code` with the phone's latest code, the try counted first.

    The try is one UPDATE on the code's row that counts it only while the code is unused, unexpired and
    under its tries, and the comparison runs only if that UPDATE matched: tries sent at once queue on the
    row (PostgreSQL's row lock, SQLite's write lock) instead of all reading the same count. The tries
    belong to the code, not to a time window, so they live on its row rather than in engine/org/ratelimit.py;
    a new code (a minute later) brings new tries.
    """
    now = clock.now()
    codes = verification_codes.c
    latest = select(func.max(codes.id)).where(codes.phone == phone).scalar_subquery()
    with db.transaction() as conn:
        tried = conn.execute(update(verification_codes)
                             .where(codes.id == latest, codes.used_at.is_(None), codes.expires_at > now,
                                    codes.attempts < MAX_TRIES)
                             .values(attempts=codes.attempts + 1)
                             .returning(codes.id, codes.attempts, codes.code_hash)).one_or_none()
        if tried is None:
            raise PermissionDenied(said("验证码已失效；请重新获取验证码。"))
        ok = hmac.compare_digest(tried.code_hash, _hash(phone, code))
        if ok:
            conn.execute(update(verification_codes).where(codes.id == tried.id).values(used_at=now))
    if not ok:
        raise PermissionDenied(said("验证码不正确；还可以再试 %(MAX_TRIES)s 次。",
                                    MAX_TRIES=MAX_TRIES - tried.attempts))
