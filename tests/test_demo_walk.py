"""Every item the demo seeds can be walked to its end with the logins `onewindow init --demo` prints
(issue 15, item 13; S-6: the demo shows the handling modes, S-1: people at every level).

`make run` seeds the demo and prints one login per person. A demonstration stalls in front of its
audience when a task sits in a group no printed login belongs to, as the DEMO-004 window did once
two users were both called `zj-window` and the later one won. So each test starts from a fresh
database seeded as `init --demo` seeds it, applies for every item the hall offers as the demo
applicant, and gives each task to a printed login that the engine's own rule (`check_may_handle`,
what `complete_task` enforces) lets handle it — never an administrator, who may handle anything.
The path is the one `catalogue_walk` walks by default: every decision answered positively.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from catalogue_walk import Path, walk
from sqlalchemy import func, select

from engine import settings
from engine.catalogue import demo
from engine.catalogue import entries as catalogue
from engine.catalogue.demo import DemoSeed, DemoUser
from engine.errors import OnewindowError, PermissionDenied, StaleTaskError
from engine.org import accounts, orgtree
from engine.org.assignment import Actor, check_may_handle
from engine.reads.queries import TaskRow
from engine.runtime import intake
from engine.runtime.change import COMPLETED
from engine.store.db import Database
from engine.store.tables import users

POSITIVE_ENDS = frozenset({"approved", COMPLETED})


@pytest.fixture
def seeded(demo_installation) -> tuple[list[orgtree.Unit], DemoSeed]:
    """A fresh database as `onewindow init --demo` leaves it: the org tree loaded, then the demo seeded."""
    return demo_installation.units, demo_installation.seed


def _logins(db: Database, seed: DemoSeed) -> list[Actor]:
    """The printed logins, each logged in with the printed password: the groups come back from the
    database, where a second definition of a login would have replaced the first one's."""
    return [accounts.authenticate(db, user.username, demo.DEMO_PASSWORD) for user in seed.users]


def _member_for(people: list[Actor]) -> Callable[[TaskRow], Actor]:
    """Who completes a task: the first printed login, not an administrator, that the engine lets handle it."""

    def member(task: TaskRow) -> Actor:
        for actor in people:
            if actor.is_admin:
                continue
            try:
                check_may_handle(actor, task.candidate_group, task.assignee, "办理")
            except (PermissionDenied, StaleTaskError):
                continue
            return actor
        raise AssertionError(f"{task.element_id}（{task.name}）: 组“{task.candidate_group}”中没有演示登录名")

    return member


def _where_to_apply(db: Database, entry: catalogue.Entry) -> str | None:
    """The first window the hall offers for the item (`intake.places`) at a level the item accepts."""
    accepting = entry.accept_levels or (entry.level,)
    return next((unit for unit, _ in intake.places(db, entry.code) if orgtree.level_of(unit) in accepting), None)


def test_every_demo_item_reaches_completion_with_the_printed_logins(db, seeded):
    _, seed = seeded
    people = _logins(db, seed)
    applicant = next(actor for actor in people if actor.roles == frozenset({"applicant"}))
    offered = catalogue.entries(db)  # what the hall offers: every public item (not the platform's own)
    public = {meta["code"] for meta in (json.loads((folder / "item.json").read_text(encoding="utf-8"))
                                        for folder in demo.item_folders()) if meta.get("public", True)}
    assert {entry.code for entry in offered} == public and {"DEMO-001", "DEMO-004"} <= public
    stuck: dict[str, str] = {}
    for entry in offered:
        front = _where_to_apply(db, entry)
        try:
            done = walk(db, entry.code, applicant, Path("演示：全部通过", front), handler=_member_for(people))
        except (AssertionError, OnewindowError) as exc:
            stuck[entry.code] = str(exc)
            continue
        if done.status not in POSITIVE_ENDS:
            stuck[entry.code] = f"在 {front} 申请，停在“{done.status}”：{done.steps}"
    assert stuck == {}, json.dumps(stuck, ensure_ascii=False, indent=1)


def test_every_group_a_demo_lane_resolves_to_has_a_printed_member(db, seeded):
    """Literal lanes name their group; 【role】 lanes resolve to a post of the org tree, so every post
    of the tree needs a member too (where a case comes in decides which one)."""
    units, seed = seeded
    members = {group for actor in _logins(db, seed) if not actor.is_admin for group in actor.groups}
    literal = {lane for lane in demo.diagram_lanes() if orgtree.role_of(lane) is None}
    assert literal and literal - members == set()
    assert orgtree.all_groups(units) - members == set()
    window = accounts.actor_for(db, "zj-counter")  # the DEMO-004 window, no longer overwritten
    assert window.groups == frozenset({"住建局窗口"})
    assert accounts.actor_for(db, "zj-window").unit == orgtree.department_unit("区住房城乡建设和交通运输局")


def test_seeding_refuses_a_login_defined_twice_before_writing_anyone(db, monkeypatch):
    twin = DemoUser("zj-window", "住建局窗口 钱进", ("clerk",), ("住建局窗口",))  # the slip issue 15 found
    monkeypatch.setattr(demo, "DEMO_USERS", (*demo.DEMO_USERS, twin))
    orgtree.install(db)
    with pytest.raises(demo.DuplicateDefinition, match="“zj-window”") as refused:
        demo.seed(db)
    assert "改名" in refused.value.message and refused.value.details["twins"] == ["zj-window"]
    with db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 0


def test_seeding_refuses_a_group_defined_twice_in_the_org_tree(tmp_path):
    tree = json.loads((settings.PROCESSES_DIR / orgtree.TREE_FILE).read_text(encoding="utf-8"))
    tree["groups"] += ["住建局窗口", "区中心·电子监察"]  # listed twice; a post the centre already has
    (tmp_path / orgtree.TREE_FILE).write_text(json.dumps(tree, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(demo.DuplicateDefinition, match="“住建局窗口”、“区中心·电子监察”"):
        demo.demo_users(tmp_path)
