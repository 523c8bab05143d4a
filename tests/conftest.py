"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL when DATABASE_URL says so),
the demo catalogue deployed, and demo people.

The same suite runs twice in CI: once on SQLite, once with
DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import db_templates as templates
import pytest
from sqlalchemy import select, update

from engine.audit.replay import replay_case
from engine.catalogue import demo
from engine.catalogue.deployment import deploy_package
from engine.desk import casework
from engine.diagrams.package import load_package
from engine.diagrams.specs import spec_cache
from engine.org import accounts, orgtree
from engine.org.assignment import Actor
from engine.store import files
from engine.store.db import Database
from engine.store.tables import cases, stored_files

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(__file__).resolve().parent / "data"
PROCESSES = ROOT / "processes"
POSTGRES_URL = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgresql") \
    else ""


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2 at its smallest cost: the suite creates hundreds of users, and a login test checks the
    verify path, not the cost parameters. Yields production's hasher (argon2's defaults), which
    tests/test_password_cost.py checks once."""
    from argon2 import PasswordHasher

    default, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield default
    accounts._hasher = default


@pytest.fixture(autouse=True)
def _files_in_tmp(tmp_path, monkeypatch):
    """Files a test stores go to its own folder on SQLite, never to instance/ (on PostgreSQL, to the test's
    own schema: the database backend, as a PostgreSQL installation runs)."""
    monkeypatch.setenv("ONEWINDOW_FILES_DIR", str(tmp_path / "files"))
    for name in ("ONEWINDOW_FILE_STORE", "ONEWINDOW_S3_BUCKET", "ONEWINDOW_ATTACHMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def _postgres_schema():
    """On PostgreSQL: a schema of this run's own (of this xdist worker's own), migrated from scratch, dropped
    at the end. A schema per run (through `search_path`) lets several runs share the one `test` database."""
    if not POSTGRES_URL:
        yield None
        return
    admin = Database(POSTGRES_URL)
    name = f"ow_test_{os.getpid()}"
    url, _ = templates.postgres_schema(admin, POSTGRES_URL, name)
    yield url
    templates.drop_schema(admin, name)
    admin.dispose()


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory, _postgres_schema) -> Path | None:
    """On SQLite: one database migrated from scratch for the run, which each test's database copies."""
    if _postgres_schema:
        return None
    path = tmp_path_factory.mktemp("migrated") / "onewindow.db"
    templates.build_then(templates.sqlite_url(path))
    return path


@pytest.fixture
def db(tmp_path, _postgres_schema, _migrated_sqlite) -> Database:
    """An empty, migrated database for one test."""
    if _postgres_schema:
        database = Database(_postgres_schema)
        templates.postgres_fill(database, None)
    else:
        path = tmp_path / "onewindow.db"
        templates.sqlite_copy(_migrated_sqlite, path)
        database = Database(templates.sqlite_url(path))
    yield database
    database.dispose()


@dataclass
class DemoInstallation:
    """What `onewindow init --demo` leaves: the org tree's units and what seeding the demo did."""

    units: list[orgtree.Unit]
    seed: demo.DemoSeed


def _install_demo(database: Database) -> DemoInstallation:
    units = orgtree.install(database)
    seed = demo.seed(database)
    assert seed.failed == [], seed.failed
    return DemoInstallation(units, seed)


@pytest.fixture(scope="session")
def _snapshots(tmp_path_factory, _cheap_password_hashing, _postgres_schema):
    snapshots = templates.Snapshots(tmp_path_factory.mktemp("states"), POSTGRES_URL or None)
    yield snapshots
    snapshots.close()


@pytest.fixture
def snapshot(db, _snapshots):
    """`snapshot(build)`: the test's database and stored files as `build(database)` leaves a new database, and
    a copy of what it returned — built once per run by the real code, then copied (tests/db_templates.py).
    For a costly state that many tests start from; `build` must depend on nothing but its database."""
    return lambda build: _snapshots.restore(db, build)


@pytest.fixture
def demo_installation(snapshot) -> DemoInstallation:
    """The test's database as `onewindow init --demo` leaves it (org tree, the printed logins, every item
    under processes/ deployed)."""
    return snapshot(_install_demo)


@pytest.fixture
def cold(monkeypatch):
    """Every change runs as in a worker that has just started: no spec object is kept between steps, so each
    one builds its version's specs afresh (restored by SpiffWorkflow's loader from the parsed form, as a
    new worker builds them after parsing: `engine.diagrams.specs`), and (as always) the workflow is rebuilt
    from the state in the database. Parsing itself, from the files in a new OS process, is what
    tests/test_cold_restore.py's per-process steps do.

    A construct that only works because an earlier step in the same process wired something up (the
    joint review that stalled after any restart) fails under this fixture the way it fails in the field.
    """
    monkeypatch.setattr(spec_cache, "capacity", 0)
    monkeypatch.setattr(spec_cache, "_entries", OrderedDict())  # nor what an earlier test left there


def deploy(db: Database, folder: str, deployer: str = "analyst"):
    return deploy_package(db, load_package(PROCESSES / folder), deployer)


@pytest.fixture
def env_db(db, monkeypatch):
    """The test's database, as the command line finds it: through DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    return db


@pytest.fixture
def app(db):
    """The web app on the test's database (CSRF on: tests post the token each form carries)."""
    from webapp import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url}, db=db)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def joint(db):
    """The demo joint-review item (accept → three parallel reviews → join → issue) deployed."""
    return deploy(db, "demo-joint-review")


ALL_GROUPS = ["受理窗口", "住建审查", "消防审查", "环保审查"]


def tamper(db: Database, sha256: str, content: bytes) -> None:
    """Change a stored file behind the platform's back, wherever the configured backend keeps it."""
    store = files.open_store(db)
    if isinstance(store, files.LocalStore):
        store._path(sha256).write_bytes(content)
    else:
        with db.transaction() as conn:
            conn.execute(update(stored_files).where(stored_files.c.sha256 == sha256).values(content=content))


@pytest.fixture
def every_case_replays(db):
    """After the test, re-execute every case it left; a divergence fails the test that made the case
    (`pytestmark = pytest.mark.usefixtures("every_case_replays")` in a module that wants it)."""
    yield
    with db.reading() as conn:
        numbers = conn.execute(select(cases.c.case_no).order_by(cases.c.id)).scalars().all()
    for case_no in numbers:
        report = replay_case(db, case_no)
        assert report.identical, (case_no, report.divergence)


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client, path: str = "/login") -> str:
    """The CSRF token of the form on `path`, as a browser would post it back."""
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, username: str, password: str = "secret-pw"):
    """Log `username` in on the test client, after whoever was logged in before has gone."""
    with client.session_transaction() as session:
        session.clear()
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client)})


def desk_ops_case(db: Database, applicant: str = "zhangsan") -> str:
    """The desk-ops test item deployed and one case started by `applicant` (made here, role applicant)."""
    deploy_package(db, load_package(DATA_DIR / "desk-ops"), "analyst")
    starter = make_actor(db, applicant, [], ["applicant"])
    return casework.start_case(db, "TEST-DESK", {"applicant_name": "张三"}, starter).case_no


def make_actor(db: Database, username: str, groups: list[str], roles: list[str] | None = None) -> Actor:
    accounts.create_user(db, username, "secret-pw", username, roles or ["clerk"], groups)
    return accounts.actor_for(db, username)


@pytest.fixture
def clerk(db) -> Actor:
    """A clerk in every group of the joint-review demo."""
    return make_actor(db, "clerk", ALL_GROUPS)


ACCEPT_DATA = {"applicant_name": "张三", "id_number": "11010119900101123X", "decision": "受理"}


def item_metadata(code: str, name: str = "测试事项", handling_mode: str = "direct", **extra) -> dict:
    """A complete item.json (the guide every item needs to deploy), for tests that write their own items."""
    committed = 0 if handling_mode == "direct" else 5
    return {
        "code": code, "name": name, "department": "测试局", "handling_mode": handling_mode, "level": "district",
        "guide": {
            "content": f"{name}：测试用事项，验证平台行为。", "legal_basis": ["《中华人民共和国行政许可法》"],
            "conditions": ["测试申请人"],
            "materials": [{"name": "申请书", "form": "原件", "count": 1, "required": True}],
            "procedure": ["受理", "办结"], "statutory_limit_days": 10, "committed_limit_days": committed,
            "fees": "不收费", "place": "区行政服务中心测试窗口", "hours": "周一至周五 9:00—17:00", "visits": 1,
        },
        **extra,
    }
