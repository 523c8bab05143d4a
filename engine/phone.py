"""Applicant accounts by phone number (S-13): a one-time code proves the phone, then a password is set.

The code is six digits, stored only as a hash, valid for ten minutes and for five tries, and a new one
can be asked for once a minute per phone. Sending is the SMS gateway's job; this installation has
none, so `send` appends the message to an outbox file (instance/sms-outbox.log) that an operator —
or a test — reads, and a deployment replaces it with its provider. The flow is real either way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

from . import accounts, clock, settings
from .caseclock import as_utc
from .db import Database
from .errors import ConflictError, OnewindowError, PermissionDenied
from .tables import users, verification_codes

PHONE = re.compile(r"^1[3-9][0-9]{9}$")
VALID_FOR = timedelta(minutes=10)
RESEND_AFTER = timedelta(minutes=1)
MAX_TRIES = 5
MIN_PASSWORD = 8


def outbox_path() -> Path:
    return settings.INSTANCE_DIR / "sms-outbox.log"


def send(phone: str, message: str) -> None:
    """The SMS gateway of this installation: one line per message in the outbox file."""
    path = outbox_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(f"{clock.now().isoformat()}\t{phone}\t{message}\n")


def _hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def request_code(db: Database, phone: str, purpose: str = "register") -> None:
    """Make and send a code for `phone`; refuses a malformed number and a second request within a minute."""
    phone = phone.strip()
    if not PHONE.match(phone):
        raise OnewindowError("请输入 11 位手机号码（1 开头）。")
    now = clock.now()
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    with db.transaction() as conn:
        recent = conn.execute(select(verification_codes.c.id).where(
            verification_codes.c.phone == phone, verification_codes.c.created_at > now - RESEND_AFTER)).first()
        if recent is not None:
            raise ConflictError("验证码已发送，请 1 分钟后再重新获取。")
        conn.execute(insert(verification_codes).values(
            phone=phone, purpose=purpose, code_hash=_hash(phone, code), created_at=now,
            expires_at=now + VALID_FOR, attempts=0))
    send(phone, f"【区政务服务】您的验证码是 {code}，10 分钟内有效。如非本人操作，请忽略。")


def register(db: Database, phone: str, code: str, password: str, name: str) -> None:
    """Create the applicant account `phone` once its latest code checks out; the code is used up."""
    phone, code, name = phone.strip(), code.strip(), name.strip()
    if len(password) < MIN_PASSWORD:
        raise OnewindowError(f"密码至少 {MIN_PASSWORD} 位。")
    if not name:
        raise OnewindowError("请填写姓名。")
    _use_code(db, phone, code)
    with db.reading() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == phone)).first() is not None:
            raise ConflictError("该手机号已注册；请直接登录。")
    accounts.create_user(db, phone, password, name, ["applicant"])


def _use_code(db: Database, phone: str, code: str) -> None:
    now = clock.now()
    with db.transaction() as conn:
        latest = conn.execute(select(verification_codes).where(verification_codes.c.phone == phone)
                              .order_by(verification_codes.c.id.desc())).first()
        usable = latest is not None and latest.used_at is None and as_utc(latest.expires_at) > now \
            and latest.attempts < MAX_TRIES
        if not usable:
            raise PermissionDenied("验证码已失效；请重新获取验证码。")
        ok = hmac.compare_digest(latest.code_hash, _hash(phone, code))
        conn.execute(update(verification_codes).where(verification_codes.c.id == latest.id).values(
            attempts=latest.attempts + 1, used_at=now if ok else None))
    if not ok:
        raise PermissionDenied(f"验证码不正确；还可以再试 {MAX_TRIES - latest.attempts - 1} 次。")
