"""Browser fixtures: the app served on a free local port against the test's database, and Debian's
Chromium driven by Playwright (never a downloaded browser: `playwright install` is not used).

CSRF stays on: the browser fills and submits the real forms. Without /usr/bin/chromium the browser
tests are skipped — unless `CI` is set, where a missing browser is a failure, not a silent skip.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from engine.time import clock
from webapp import create_app

CHROMIUM = Path(os.environ.get("ONEWINDOW_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LAUNCH_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium (and fonts-noto-cjk for Chinese text)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output (failures show the page's state, which says more)."""

    def log_request(self, *args, **kwargs) -> None:
        pass


def browser_app(db):
    return create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": db.url}, db=db)


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """`app` on 127.0.0.1:<free port>, in a background thread, until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live_server(db) -> Iterator[str]:
    """The web app in a background thread, sharing the test's database."""
    with serving(browser_app(db)) as url:
        yield url


@pytest.fixture
def page(browser, live_server):
    """A fresh Chinese-locale browser context per test (own cookies), with the base URL set."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """`screenshot("name")` saves test-artifacts/<name>.png (full page) for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def demo_seeded(demo_installation):
    """The test's database as `onewindow init --demo` leaves it (tests/conftest.py's `demo_installation`):
    the walks of each person's day use the real catalogue and logins; what seeding did."""
    return demo_installation.seed


@pytest.fixture
def axe(page):
    """`axe("where")` runs axe-core (from npm, injected into the page) and fails on a serious or
    critical violation, naming the rule and the elements — the accessibility check of every walk."""

    def check(where: str) -> None:
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the driver: the page's CSP stays on
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        found = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not found, f"accessibility violations on {where}:\n" + "\n".join(found)

    return check


class ClockAt:
    """WSGI middleware: every request of a served app runs at `moment` (a test may move it on)."""

    def __init__(self, app, moment) -> None:
        self.app, self.moment = app, moment

    def __call__(self, environ, start_response):
        with clock.frozen_at(self.moment):
            return self.app(environ, start_response)

