"""Sessions, logins and API tokens (issue 13, items 7, 8 and 9).

Item 7: the session cookie is SameSite=Lax and HttpOnly, Secure over HTTPS or when configured, and a session
ends on the server's word (logout, password change, disabling) — a copied cookie included.
Item 8: logins are throttled per account and per client, also under concurrency; an unknown user costs one
password verification like a known one; registrations and `user add` keep to a minimum password policy.
Item 9: tokens expire, are listed and revoked (command line and admin page); a password change or a disabled
user revokes them.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from cli_helpers import one_error_line, run, run_json
from conftest import POSTGRES_URL, make_actor
from sqlalchemy import text as sql
from test_web import csrf_token, post_form, text

from engine.errors import NotFound, OnewindowError, PermissionDenied
from engine.org import accounts, password_policy
from engine.org.ratelimit import TooManyAttempts
from engine.store import schema
from engine.store.db import Database
from engine.time import clock
from webapp import create_app

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class CountingHasher(PasswordHasher):
    """argon2 at the suite's cost, counting verifications (thread-safe: logins run in parallel below)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0
        self._lock = threading.Lock()

    def verify(self, hash, password):
        with self._lock:
            self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


@pytest.fixture
def clerk(db):
    return make_actor(db, "clerk", ["受理窗口"])


def log_in(client, username: str = "clerk", password: str = "secret-pw", address: str = "127.0.0.1", **kwargs):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(client)},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


def session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- item 7: the session cookie, and sessions ended on the server's side ------------------------------


def test_session_cookie_is_lax_httponly_and_secure_over_https(client, clerk):
    """issue 13, item 7: SameSite=Lax (Flask's own default config made the old `setdefault` a no-op)."""
    over_http = session_cookie(log_in(client))
    assert "SameSite=Lax" in over_http and "HttpOnly" in over_http and "Secure" not in over_http
    over_https = session_cookie(client.get("/login", base_url="https://localhost"))
    assert "SameSite=Lax" in over_https and "Secure" in over_https


@pytest.mark.parametrize(("setting", "http", "https"), [(True, True, True), (False, False, False),
                                                         ("auto", False, True)])
def test_secure_cookies_setting(db, setting, http, https):
    """issue 13, item 7: ONEWINDOW_SECURE_COOKIES — true, false, or auto (on over HTTPS)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": db.url, "SECURE_COOKIES": setting}, db=db)
    client = app.test_client()
    assert ("Secure" in session_cookie(client.get("/login"))) is http
    assert ("Secure" in session_cookie(client.get("/login", base_url="https://localhost"))) is https


def test_secure_cookies_from_the_environment(db, monkeypatch):
    """issue 13, item 7: the setting is read from ONEWINDOW_SECURE_COOKIES; a wrong value stops the start."""
    monkeypatch.setenv("ONEWINDOW_SECURE_COOKIES", "true")
    client = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": db.url}, db=db).test_client()
    assert "Secure" in session_cookie(client.get("/login"))
    monkeypatch.setenv("ONEWINDOW_SECURE_COOKIES", "sometimes")
    with pytest.raises(ValueError, match="ONEWINDOW_SECURE_COOKIES"):
        create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": db.url}, db=db)


def test_logout_ends_a_copied_cookie(app, clerk):
    """issue 13, item 7: after logout, a copy of the session cookie taken before it no longer works."""
    browser, thief = app.test_client(), app.test_client()
    assert log_in(browser).status_code == 302
    thief.set_cookie("session", browser.get_cookie("session").value)
    assert thief.get("/desk").status_code == 200
    assert post_form(browser, "/logout", {}, "/desk").status_code == 302
    assert thief.get("/desk").status_code == 302  # to the login page
    assert log_in(browser).status_code == 302 and browser.get("/desk").status_code == 200


def test_a_password_change_ends_sessions_and_the_same_password_does_not(client, db, clerk):
    """issue 13, item 7: `user add` with a new password ends the user's sessions; repeating the old one not."""
    log_in(client)
    accounts.create_user(db, "clerk", "secret-pw", "clerk", ["clerk"], ["受理窗口"])
    assert client.get("/desk").status_code == 200
    accounts.create_user(db, "clerk", "another-pw", "clerk", ["clerk"], ["受理窗口"])
    assert client.get("/desk").status_code == 302


def test_a_session_without_a_generation_is_not_a_login(client, clerk):
    """issue 13, item 7: a session made before sessions carried a generation (or without one) logs nobody in."""
    with client.session_transaction() as session:
        session["_user_id"] = "clerk"
    assert client.get("/desk").status_code == 302


def test_a_disabled_user_is_logged_out_and_cannot_log_in(client, db, clerk, capsys, env_db):
    """issue 13, items 7 and 9: `onewindow user disable` ends sessions and refuses logins; enable undoes it."""
    log_in(client)
    status, out, _ = run(capsys, "user", "disable", "clerk")
    assert status == 0 and "disabled" in out
    assert client.get("/desk").status_code == 302
    refused = log_in(client)
    assert refused.status_code == 401 and "已停用" in text(refused)
    wrong = log_in(client, password="wrong-pw")
    assert "已停用" not in text(wrong) and "用户名或密码错误" in text(wrong)  # told only with the right password
    assert {u["username"]: u for u in run_json(capsys, "user", "list")}["clerk"]["disabled"] is True
    assert run_json(capsys, "user", "enable", "clerk") == {"username": "clerk", "disabled": False}
    assert log_in(client).status_code == 302
    status, _, err = run(capsys, "user", "disable", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)


# --- item 8: throttled logins, the same cost for unknown users, the password policy -------------------


def test_failed_logins_pause_the_account_and_say_until_when(client, clerk):
    """issue 13, item 8: five failures in 15 minutes pause the account, the right password included."""
    with clock.frozen_at(T0):
        for _ in range(5):
            assert log_in(client, password="wrong-pw").status_code == 401
        paused = log_in(client)
        assert paused.status_code == 429
        assert "该账户登录失败次数过多" in text(paused) and "09:15" in text(paused)  # Beijing time
        assert log_in(client, address="10.9.9.9").status_code == 429  # from another address too
    with clock.frozen_at(T0 + timedelta(minutes=15)):
        assert log_in(client).status_code == 302


def test_failed_logins_pause_the_client_across_usernames(client, clerk, monkeypatch):
    """issue 13, item 8: per client address, whatever the usernames tried (limit set by the environment)."""
    monkeypatch.setenv("ONEWINDOW_LOGIN_FAILURES_PER_CLIENT", "3")
    for name in ("a1", "a2", "a3"):
        assert log_in(client, name, address="10.0.0.7").status_code == 401
    paused = log_in(client, "a4", address="10.0.0.7")
    assert paused.status_code == 429 and "本机登录失败次数过多" in text(paused)
    assert log_in(client, "a4", address="10.0.0.8").status_code == 401


def test_successful_logins_do_not_count(db, clerk):
    """issue 13, item 8: only failures fill the account's allowance."""
    for _ in range(8):
        accounts.log_in(db, "clerk", "secret-pw", "10.0.0.1")
    for _ in range(5):
        with pytest.raises(PermissionDenied, match="用户名或密码错误"):
            accounts.log_in(db, "clerk", "wrong-pw", "10.0.0.1")
    with pytest.raises(TooManyAttempts):
        accounts.log_in(db, "clerk", "secret-pw", "10.0.0.1")


def test_parallel_guesses_get_no_more_tries_than_the_limit(db, clerk, hasher):
    """issue 13, item 8: twelve wrong passwords sent at once — five are checked, seven refused unchecked."""
    guessers = 12
    barrier, outcomes, lock = threading.Barrier(guessers), Counter(), threading.Lock()

    def guess(i: int) -> None:
        barrier.wait()
        try:
            accounts.log_in(db, "clerk", f"guess-{i}", f"10.0.1.{i}")
        except OnewindowError as exc:
            with lock:
                outcomes[type(exc).__name__] += 1

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guessers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"PermissionDenied": 5, "TooManyAttempts": 7}
    assert hasher.verified == 5


@pytest.mark.parametrize("who", ["ghost", "replayed", "clerk"])
def test_every_failed_login_costs_one_password_verification(db, clerk, hasher, who):
    """issue 13, item 8: an unknown user, a user nobody may log in as and a wrong password alike run argon2
    once and get one message, so neither the time nor the answer tells which usernames exist."""
    accounts.create_user(db, "replayed", None, "replayed", ["clerk"])
    hasher.verified = 0
    with pytest.raises(PermissionDenied) as refused:
        accounts.log_in(db, who, "wrong-pw", "10.0.0.1")
    assert refused.value.message == accounts.WRONG_CREDENTIALS
    assert hasher.verified == 1


@pytest.mark.parametrize(("password", "rule"), [
    ("short1", "至少 8 位"), ("1234567890", "全是数字"), ("Zhang.San", "与用户名相同"), ("Password1", "过于常见"),
])
def test_password_policy_refuses_and_says_why(password, rule):
    """issue 13, item 8: each rule of the minimum policy, with a message that says what to choose instead."""
    with pytest.raises(OnewindowError, match=rule) as refused:
        password_policy.check(password, "zhang.san")
    assert "请换一个" in refused.value.message
    password_policy.check("窗口-2026-春", "zhang.san")


def test_registration_and_user_add_keep_the_policy(client, db, env_db, capsys):
    """issue 13, item 8: the registration page and `onewindow user add` both refuse a weak password."""
    form = {"phone": "13912345678", "name": "赵六", "code": "123456", "password": "password1",
            "password2": "password1"}
    refused = post_form(client, "/register", form, "/register")
    assert refused.status_code == 400 and "过于常见" in text(refused)
    with pytest.raises(NotFound):
        accounts.actor_for(db, "13912345678")
    status, _, err = run(capsys, "user", "add", "wangfang", "--password", "20260302", "--role", "clerk")
    assert status == 1 and "全是数字" in one_error_line(err)
    assert run_json(capsys, "user", "add", "wangfang", "--password", "wf-window-7", "--role", "clerk")["created"]


# --- item 9: token expiry, listing and revocation -----------------------------------------------------


def test_tokens_expire(client, db, clerk, monkeypatch):
    """issue 13, item 9: 90 days unless told otherwise (per token, or ONEWINDOW_TOKEN_DAYS); then 401 JSON."""
    with clock.frozen_at(T0):
        default = accounts.issue_token(db, "clerk")
        short = accounts.issue_token(db, "clerk", "ci", days=1)
        monkeypatch.setenv("ONEWINDOW_TOKEN_DAYS", "7")
        accounts.issue_token(db, "clerk", "week")
    lives = [t.expires_at - t.created_at for t in accounts.list_tokens(db, "clerk")]
    assert lives == [timedelta(days=90), timedelta(days=1), timedelta(days=7)]
    with clock.frozen_at(T0 + timedelta(hours=23)):
        assert client.get("/api/v1/items", headers=bearer(short)).status_code == 200
    with clock.frozen_at(T0 + timedelta(days=1)):
        expired = client.get("/api/v1/items", headers=bearer(short))
        assert expired.status_code == 401 and expired.json["error"] == "unauthorized"
        assert "已于 2026-03-03 09:00 过期" in expired.json["message"]
        assert client.get("/api/v1/items", headers=bearer(default)).status_code == 200
    for days in (0, 366):
        with pytest.raises(OnewindowError, match="1 至 365 天"):
            accounts.issue_token(db, "clerk", days=days)


def test_token_command_issues_lists_and_revokes(env_db, clerk, capsys, app):
    """issue 13, item 9: `onewindow token USERNAME --days N`, `token list [USERNAME]`, `token revoke ID`."""
    issued = run_json(capsys, "token", "clerk", "--days", "30", "--label", "ci")
    assert issued["days"] == 30
    status, other, err = run(capsys, "token", "clerk")
    assert status == 0 and "valid for 90 days" in err and "only this once" in err
    listed = run_json(capsys, "token", "list", "clerk")
    assert [(t["label"], t["state"]) for t in listed] == [("ci", "active"), ("api", "active")]
    status, out, _ = run(capsys, "token", "list")
    assert status == 0 and "ci" in out and "active" in out

    api = app.test_client()
    assert api.get("/api/v1/items", headers=bearer(issued["token"])).status_code == 200
    revoked = run_json(capsys, "token", "revoke", str(listed[0]["id"]))
    assert revoked["state"] == "revoked" and revoked["revoked_reason"] == "命令行吊销"
    refused = api.get("/api/v1/items", headers=bearer(issued["token"]))
    assert refused.status_code == 401 and "吊销（命令行吊销）" in refused.json["message"]
    assert api.get("/api/v1/items", headers=bearer(other.strip())).status_code == 200  # the other one works

    status, _, err = run(capsys, "token", "revoke", str(listed[0]["id"]))
    assert status == 1 and "无需再次吊销" in one_error_line(err)
    status, _, err = run(capsys, "token", "revoke", "999")
    assert status == 1 and "999" in one_error_line(err)
    status, _, err = run(capsys, "token", "list", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)
    for words in (["revoke", "x"], ["list", "a", "b"], ["clerk", "extra"]):
        status, _, err = run(capsys, "token", *words)
        assert status == 2 and "token revoke ID" in one_error_line(err)


def test_a_password_change_or_disabling_revokes_tokens(client, db, clerk):
    """issue 13, item 9: a new password revokes the user's tokens (the same one does not); so does disabling,
    and enabling does not bring them back nor let a disabled user get new ones."""
    kept = accounts.issue_token(db, "clerk")
    accounts.create_user(db, "clerk", "secret-pw", "clerk", ["clerk"], ["受理窗口"])
    assert client.get("/api/v1/items", headers=bearer(kept)).status_code == 200
    accounts.create_user(db, "clerk", "another-pw", "clerk", ["clerk"], ["受理窗口"])
    refused = client.get("/api/v1/items", headers=bearer(kept))
    assert refused.status_code == 401 and "密码已更改" in refused.json["message"]

    token = accounts.issue_token(db, "clerk")
    accounts.set_disabled(db, "clerk", True)
    assert "用户已停用" in client.get("/api/v1/items", headers=bearer(token)).json["message"]
    with pytest.raises(PermissionDenied, match="user enable clerk"):
        accounts.issue_token(db, "clerk")
    accounts.set_disabled(db, "clerk", False)
    assert client.get("/api/v1/items", headers=bearer(token)).status_code == 401
    assert [t.state() for t in accounts.list_tokens(db, "clerk")] == ["revoked", "revoked"]


def test_admin_lists_and_revokes_tokens(client, db, clerk):
    """issue 13, item 9: the admin page lists every token with its state and revokes one (POST with CSRF)."""
    make_actor(db, "boss", [], ["admin"])
    token = accounts.issue_token(db, "clerk", "对接系统")
    with clock.frozen_at(clock.now() - timedelta(days=2)):
        accounts.issue_token(db, "clerk", "old", days=1)
    token_id = accounts.list_tokens(db, "clerk")[0].id

    log_in(client)  # a clerk may neither see nor revoke
    assert client.get("/admin/tokens").status_code == 403
    assert post_form(client, f"/admin/tokens/{token_id}/revoke", {}, "/desk").status_code == 403
    post_form(client, "/logout", {}, "/desk")

    log_in(client, "boss")
    page = text(client.get("/admin/tokens?user=clerk"))
    assert "对接系统" in page and "有效" in page and "已过期" in page and "API 令牌" in page
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 400  # no CSRF token
    done = post_form(client, f"/admin/tokens/{token_id}/revoke", {"user": "clerk"}, "/admin/tokens")
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/tokens?user=clerk")
    assert "管理员 boss 吊销" in text(client.get("/admin/tokens"))
    assert client.get("/api/v1/items", headers=bearer(token)).status_code == 401


# --- the migration ------------------------------------------------------------------------------------


@pytest.fixture
def fresh_db(tmp_path):
    """An empty database of the suite's kind, for migrating step by step."""
    if not POSTGRES_URL:
        database = Database(f"sqlite:///{tmp_path / 'migrate.db'}")
        yield database
        database.dispose()
        return
    name = f"ow_migrate_{os.getpid()}"
    admin = Database(POSTGRES_URL)
    with admin.engine.begin() as conn:
        conn.execute(sql(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(sql(f"CREATE SCHEMA {name}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    database = Database(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{name}")
    yield database
    database.dispose()
    with admin.engine.begin() as conn:
        conn.execute(sql(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


def test_migration_gives_existing_tokens_90_days(fresh_db):
    """issue 13, item 9: tokens issued before 0012 keep working, now with an expiry 90 days out."""
    schema.upgrade(fresh_db, "0011")
    with fresh_db.transaction() as conn:
        conn.execute(sql("INSERT INTO users (id, username, display_name, password_hash, roles, created_at) "
                         "VALUES (1, 'old', 'old', '!', :roles, :at)"), {"roles": json.dumps(["clerk"]), "at": T0})
        conn.execute(sql("INSERT INTO api_tokens (user_id, token_hash, label, created_at) VALUES (1, :h, 'ci', :at)"),
                     {"h": accounts._token_hash("old-token"), "at": T0})
    schema.upgrade(fresh_db, "0012")
    assert accounts.actor_for_token(fresh_db, "old-token").username == "old"
    (token,) = accounts.list_tokens(fresh_db)
    assert timedelta(days=89) < token.expires_at - clock.now() <= timedelta(days=90)
    with fresh_db.reading() as conn:
        assert conn.execute(sql("SELECT session_generation FROM users")).scalar_one() == 0
