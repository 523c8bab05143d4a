"""Guessing limits hold under concurrency and behind a proxy (issue 13, item 4)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import deploy, make_actor
from test_web import csrf_token, text

from engine.desk import casework
from engine.errors import NotFound, OnewindowError
from engine.hall import follow, phone
from engine.org import orgtree
from engine.org.ratelimit import TooManyAttempts
from engine.time import clock
from webapp import create_app

GUESSERS = 12
NUMBER = "13912345678"
PROXY = "10.0.0.2"  # the reverse proxy's own address, as the app sees the connection


@pytest.fixture
def case(db):
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    return start_case(db)


def start_case(db, applicant: str = "wangwu"):
    return casework.start_case(db, "AJ-003", {"applicant_name": "王五"}, make_actor(db, applicant, [], ["applicant"]))


def at_once(work: Callable[[int], object]) -> Counter[str]:
    """Run `work(i)` in GUESSERS threads released together; count what each got back (its error's message)."""
    barrier, outcomes, lock = threading.Barrier(GUESSERS), Counter(), threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
            outcome = "ok"
        except OnewindowError as exc:
            outcome = exc.message
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(GUESSERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_follow_up_codes_guessed_at_once_are_evaluated_at_most_the_limit(db, case):
    """issue 13, item 4: twelve wrong guesses sent at once from one client — 5 are compared with the code, the
    rest are refused unanswered (the code before counted by reading first and answered all twelve on PostgreSQL)."""
    outcomes = at_once(lambda _: follow.follow(db, case.case_no, wrong(case.query_code), "198.51.100.7"))
    answered = sum(n for message, n in outcomes.items() if "不正确" in message)
    refused = sum(n for message, n in outcomes.items() if "已暂停" in message)
    assert (answered, refused) == (follow.MAX_FAILURES_PER_CASE, GUESSERS - follow.MAX_FAILURES_PER_CASE), outcomes


def test_sms_codes_guessed_at_once_are_evaluated_at_most_the_limit(db):
    """issue 13, item 4: twelve wrong SMS codes at once — 5 are compared, the rest refused, and the code is then
    used up (the code before answered all twelve on PostgreSQL)."""
    phone.request_code(db, NUMBER, "198.51.100.7")
    code = re.search(r"验证码是 (\d{6})", phone.outbox(db)[0]["message"]).group(1)
    outcomes = at_once(lambda _: phone.register(db, NUMBER, wrong(code), "goodpass1", "赵六"))
    answered = sum(n for message, n in outcomes.items() if "验证码不正确" in message)
    assert (answered, outcomes["验证码已失效；请重新获取验证码。"]) == (phone.MAX_TRIES, GUESSERS - phone.MAX_TRIES), \
        outcomes
    with pytest.raises(OnewindowError, match="验证码已失效"):
        phone.register(db, NUMBER, code, "goodpass1", "赵六")


def test_sms_codes_asked_for_at_once_are_sent_at_most_the_limit(db, monkeypatch):
    """issue 13, item 4: one client asking for codes to twelve numbers at once gets as many as its hourly
    limit, no more."""
    monkeypatch.setenv("ONEWINDOW_SMS_PER_CLIENT_PER_HOUR", "5")
    outcomes = at_once(lambda i: phone.request_code(db, f"1391234{i:04d}", "198.51.100.7"))
    assert outcomes["ok"] == 5 and len(phone.outbox(db)) == 5, outcomes


def test_one_clients_failures_do_not_lock_out_others(db, case):
    """issue 13, item 4: a stranger who used up their tries on a case, and on cases in general, is paused; the
    applicant following that case from another address, and another applicant following their own, are not."""
    stranger = "203.0.113.9"
    for _ in range(follow.MAX_FAILURES_PER_CASE):
        with pytest.raises(NotFound):
            follow.follow(db, case.case_no, wrong(case.query_code), stranger)
    with pytest.raises(TooManyAttempts, match="本机已暂停"):
        follow.follow(db, case.case_no, case.query_code, stranger)
    for number in range(follow.MAX_FAILURES_PER_CLIENT - follow.MAX_FAILURES_PER_CASE):
        with pytest.raises(NotFound):
            follow.follow(db, f"2099010100000{number}", "123456", stranger)
    other = start_case(db, "lisi")
    with pytest.raises(TooManyAttempts):
        follow.follow(db, other.case_no, other.query_code, stranger)
    assert follow.follow(db, case.case_no, case.query_code, "198.51.100.20")["case_no"] == case.case_no
    assert follow.follow(db, other.case_no, other.query_code, "198.51.100.21")["case_no"] == other.case_no


def test_a_pause_ends_and_guesses_spread_over_many_addresses_stay_few(db, case):
    """issue 13, item 4: a client's pause ends after its window; a case guessed from many addresses pauses for
    everyone, the applicant included, once the case's own limit is reached — and that pause ends too."""
    start = clock.now()
    with clock.frozen_at(start):
        for guess in range(follow.MAX_FAILURES_PER_CASE_ALL_CLIENTS):
            with pytest.raises(NotFound):
                follow.follow(db, case.case_no, wrong(case.query_code), f"203.0.113.{guess // 5}")
        with pytest.raises(TooManyAttempts, match="多处反复查询"):
            follow.follow(db, case.case_no, case.query_code, "198.51.100.20")
        with pytest.raises(TooManyAttempts, match="本机已暂停"):
            follow.follow(db, case.case_no, case.query_code, "203.0.113.0")
    with clock.frozen_at(start + follow.WINDOW + timedelta(seconds=1)):
        assert follow.follow(db, case.case_no, case.query_code, "203.0.113.0")["case_no"] == case.case_no


def proxied_app(db, monkeypatch, proxies: str):
    monkeypatch.setenv("ONEWINDOW_TRUSTED_PROXIES", proxies)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url}, db=db)


def post_from(client, address: str, path: str, data: dict, token_from: str):
    """A browser at `address` posting through the proxy, which appends the address it saw to X-Forwarded-For
    (after whatever the browser claimed itself)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)},
                       headers={"X-Forwarded-For": f"192.0.2.66, {address}"}, environ_base={"REMOTE_ADDR": PROXY})


def test_behind_a_trusted_proxy_two_applicants_are_two_clients(db, case, monkeypatch):
    """issue 13, item 4: with ONEWINDOW_TRUSTED_PROXIES=1 the limits count the address the proxy saw: one
    applicant's failures pause them, not the other applicant behind the same proxy."""
    app = proxied_app(db, monkeypatch, "1")
    stranger, applicant = app.test_client(), app.test_client()
    form = {"case_no": case.case_no, "code": wrong(case.query_code)}
    for _ in range(follow.MAX_FAILURES_PER_CASE):
        assert post_from(stranger, "203.0.113.9", "/hall/follow", form, "/hall/follow").status_code == 404
    paused = post_from(stranger, "203.0.113.9", "/hall/follow", {**form, "code": case.query_code}, "/hall/follow")
    assert paused.status_code == 429 and "本机已暂停" in text(paused)
    followed = post_from(applicant, "198.51.100.20", "/hall/follow", {**form, "code": case.query_code},
                         "/hall/follow")
    assert followed.status_code == 302


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(db, case, monkeypatch):
    """issue 13, item 4: by default no proxy is trusted, so a client cannot dodge its limit by claiming a new
    address in X-Forwarded-For each time."""
    client = proxied_app(db, monkeypatch, "0").test_client()
    form = {"case_no": case.case_no, "code": wrong(case.query_code)}
    for guess in range(follow.MAX_FAILURES_PER_CASE):
        assert post_from(client, f"203.0.113.{guess}", "/hall/follow", form, "/hall/follow").status_code == 404
    again = post_from(client, "203.0.113.99", "/hall/follow", {**form, "code": case.query_code}, "/hall/follow")
    assert again.status_code == 429


def test_sms_codes_are_limited_per_client_across_numbers(db, monkeypatch):
    """issue 13, item 4: one address gets a few codes an hour whatever the numbers; another address still gets
    theirs; the hour over, the first may ask again."""
    monkeypatch.setenv("ONEWINDOW_SMS_PER_CLIENT_PER_HOUR", "3")
    start = clock.now()
    with clock.frozen_at(start):
        for number in range(3):
            phone.request_code(db, f"1390000000{number}", "203.0.113.9")
        with pytest.raises(TooManyAttempts, match="每小时最多 3 条"):
            phone.request_code(db, "13900000003", "203.0.113.9")
        phone.request_code(db, "13900000003", "198.51.100.20")
    with clock.frozen_at(start + timedelta(hours=1, seconds=1)):
        phone.request_code(db, "13900000004", "203.0.113.9")
    assert len(phone.outbox(db)) == 5


def test_sms_codes_are_limited_for_everyone_a_minute(db, monkeypatch):
    """issue 13, item 4: the installation sends at most ONEWINDOW_SMS_PER_MINUTE codes a minute, from all
    addresses together."""
    monkeypatch.setenv("ONEWINDOW_SMS_PER_MINUTE", "2")
    start = clock.now()
    with clock.frozen_at(start):
        phone.request_code(db, "13900000001", "203.0.113.1")
        phone.request_code(db, "13900000002", "203.0.113.2")
        with pytest.raises(TooManyAttempts, match="人数过多"):
            phone.request_code(db, "13900000003", "203.0.113.3")
    with clock.frozen_at(start + timedelta(minutes=1, seconds=1)):
        phone.request_code(db, "13900000003", "203.0.113.3")


def test_the_sms_limit_counts_the_address_the_trusted_proxy_saw(db, monkeypatch):
    """issue 13, item 4: registration behind a trusted proxy limits each applicant's address, not the proxy's."""
    monkeypatch.setenv("ONEWINDOW_SMS_PER_CLIENT_PER_HOUR", "1")
    app = proxied_app(db, monkeypatch, "1")
    first, second = app.test_client(), app.test_client()
    assert post_from(first, "203.0.113.9", "/register/code", {"phone": "13900000001"}, "/register").status_code == 200
    refused = post_from(first, "203.0.113.9", "/register/code", {"phone": "13900000002"}, "/register")
    assert refused.status_code == 429 and "每小时最多 1 条" in text(refused)
    assert post_from(second, "198.51.100.20", "/register/code", {"phone": "13900000002"}, "/register").status_code \
        == 200


def test_a_limit_setting_that_is_not_a_number_stops_the_start(db, monkeypatch):
    """issue 13, item 4: a mistyped setting names itself instead of leaving the proxy untrusted or a limit off."""
    with pytest.raises(ValueError, match="ONEWINDOW_TRUSTED_PROXIES"):
        proxied_app(db, monkeypatch, "one")
    monkeypatch.setenv("ONEWINDOW_SMS_PER_MINUTE", "0")
    with pytest.raises(ValueError, match="ONEWINDOW_SMS_PER_MINUTE"):
        phone.request_code(db, NUMBER, "203.0.113.9")
