"""The minimum password policy for passwords people choose (registration, `onewindow user add`).

It is deliberately short: length, not only digits (a birthday or a phone number), not the username, and not
one of the passwords every guessing list starts with. argon2 makes each guess slow and the login throttle
makes them few; this policy keeps the first guesses from being right.
"""

from __future__ import annotations

from engine.errors import OnewindowError
from engine.messages import said

MIN_LENGTH = 8

# The head of every leaked-password list that `check`'s other rules let through, plus the Chinese favourites
# (拼音, 1314); compared case-insensitively.
COMMON = frozenset({
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "iloveyou", "qwertyui", "qwerty123",
    "qwertyuiop", "1qaz2wsx", "1q2w3e4r", "1qaz@wsx", "zaq12wsx", "abc12345", "abcd1234", "a1234567",
    "aa123456", "abc123456", "a123456789", "admin123", "admin888", "administrator", "letmein1", "welcome1",
    "woaini1314", "woaini520", "wodemima", "mima1234", "zhangwei", "changeme", "test1234",
})


def check(password: str, username: str) -> None:
    """Refuse a password anyone would guess first, saying which rule it breaks and what to choose instead."""
    advice = said("请换一个至少 8 位、含字母或符号、别人猜不到的密码。")
    if len(password) < MIN_LENGTH:
        raise OnewindowError(said("密码至少 %(min_length)s 位；%(advice)s", min_length=MIN_LENGTH, advice=advice))
    if password.isdigit():
        raise OnewindowError(said("密码不能全是数字（生日、手机号最容易被猜中）；%(advice)s", advice=advice))
    if password.casefold() == username.strip().casefold():
        raise OnewindowError(said("密码不能与用户名相同；%(advice)s", advice=advice))
    if password.casefold() in COMMON:
        raise OnewindowError(said("这个密码过于常见，是猜密码时最先尝试的；%(advice)s", advice=advice))
