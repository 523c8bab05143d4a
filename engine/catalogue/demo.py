"""Demo data for `onewindow init --demo` (and `make run`): people to log in as, and every item deployed.

The fixed people cover each role and the lanes of the joint-review demo. Any other lane drawn in
a diagram under processes/ gets a demo clerk automatically, so an analyst who adds a demo item with
a new window can log in and handle its tasks without anyone editing this list. Everything here is
idempotent: seeding twice updates the same users and deploys nothing new.

A login or a group is defined once: seeding writes users one after the other, so a second definition
of a login silently replaced the first, and its group was left with nobody to handle its tasks (the
DEMO-004 window, when the fixed `zj-window` met the org tree's `zj-window`; issue 15, item 13). The
seed refuses such a twin instead (`DuplicateDefinition`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import settings
from engine.catalogue.deployment import DeployResult, deploy_package
from engine.diagrams.bpmn import lane_of
from engine.diagrams.package import load_package
from engine.diagrams.safexml import parse_xml
from engine.errors import OnewindowError
from engine.messages import said
from engine.org import accounts, orgtree
from engine.store import installation
from engine.store.db import Database

DEMO_PASSWORD = "demo1234"
SHARED_FOLDER = "shared"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    groups: tuple[str, ...] = ()
    unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"username": self.username, "password": DEMO_PASSWORD, "display_name": self.display_name,
                "roles": list(self.roles), "groups": list(self.groups), "unit": self.unit}


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "系统管理员", ("admin",)),
    DemoUser("analyst", "流程管理员 刘洋", ("analyst",), ("流程管理员",)),
    DemoUser("supervisor", "电子监察 周敏", ("supervisor",), ("区中心·电子监察",)),
    DemoUser("auditor", "审计员 吴刚", ("auditor",)),
    DemoUser("window", "受理窗口 王芳", ("clerk",), ("受理窗口",)),
    DemoUser("housing", "住建审查 李强", ("clerk",), ("住建审查",)),
    DemoUser("fire", "消防审查 赵磊", ("clerk",), ("消防审查",)),
    DemoUser("env", "环保审查 陈静", ("clerk",), ("环保审查",)),
    DemoUser("hrss", "人社局窗口 孙丽", ("clerk",), ("人社局窗口",)),
    DemoUser("town", "梁子镇便民服务中心 何平", ("clerk",), ("镇便民服务中心窗口",)),
    DemoUser("civil", "区民政局 郑伟", ("clerk",), ("区民政局审批",)),
    DemoUser("zj-counter", "住建局窗口 钱进", ("clerk",), ("住建局窗口",)),  # zj-window is the org tree's
    DemoUser("zj-planning", "住建局规划股 冯涛", ("clerk",), ("住建局规划股",)),
    DemoUser("zj-leader", "住建局分管领导 韩梅", ("clerk",), ("住建局分管领导",)),
    DemoUser("chief", "区政务服务中心负责人 罗军", ("chief",), ("受理窗口", "住建审查", "消防审查", "环保审查")),
    DemoUser("applicant", "申请人 张三", ("applicant",)),
)


@dataclass
class DemoSeed:
    """What seeding did: the logins created, the versions deployed, and items that failed to deploy."""

    users: list[DemoUser]
    deployed: list[DeployResult] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)


def item_folders(processes_dir: Path | None = None) -> list[Path]:
    """Every item folder under processes/, at any depth (catalogue/<department>/<code>): a folder with an
    item.json and a .bpmn file; the shared call activities are not items."""
    root = processes_dir or settings.PROCESSES_DIR
    if not root.is_dir():
        return []
    return [p.parent for p in sorted(root.glob("**/item.json"))
            if SHARED_FOLDER not in p.relative_to(root).parts and any(p.parent.glob("*.bpmn"))]


def diagram_lanes(processes_dir: Path | None = None) -> list[str]:
    """The names of all lanes drawn in the diagrams under processes/ (shared ones included).

    A diagram that does not parse is skipped here: deploying it reports the problem properly.
    """
    root = processes_dir or settings.PROCESSES_DIR
    names: set[str] = set()
    for path in sorted(root.glob("**/*.bpmn")) if root.is_dir() else []:
        try:
            names.update(lane_of(parse_xml(path.read_bytes(), path.name)).values())
        except (OnewindowError, OSError):
            continue
    return sorted(names)


def lane_clerk(group: str) -> DemoUser:
    """A demo clerk for a lane no fixed user covers; the username is stable so seeding stays idempotent."""
    suffix = hashlib.sha256(group.encode("utf-8")).hexdigest()[:6]
    return DemoUser(f"clerk-{suffix}", f"{group} 办事员", ("clerk",), (group,))


class DuplicateDefinition(OnewindowError):
    """A demo login or group defined twice: the later definition would silently replace the earlier one."""


def _refuse_twins(kind: str, names: Iterable[str], why_and_fix: str) -> None:
    """Raise when a name occurs more than once, naming each twin, what goes wrong and where to rename it."""
    twins = sorted(name for name, count in Counter(names).items() if count > 1)
    if twins:
        named = "、".join(f"“{name}”" for name in twins)
        raise DuplicateDefinition(said("演示数据中%(kind)s%(named)s定义了不止一次：%(why_and_fix)s",
                                       kind=kind, named=named, why_and_fix=why_and_fix), twins=twins)


def demo_users(processes_dir: Path | None = None) -> list[DemoUser]:
    """The fixed demo users plus one clerk for every diagram lane they do not already cover; a login or an
    org-tree group defined twice is refused (`DuplicateDefinition`) before anything is written."""
    refuse_duplicate_groups(processes_dir)
    users = list(DEMO_USERS) + org_users(processes_dir)
    covered = {group for user in users for group in user.groups}
    users += [lane_clerk(lane) for lane in diagram_lanes(processes_dir)
              if lane not in covered and orgtree.role_of(lane) is None]
    _refuse_twins("的登录名", (user.username for user in users),
                  "后写入的会覆盖先写入的，先前那个人的岗位组就没有人办理任务了；请在 engine/catalogue/demo.py 的 "
                  "DEMO_USERS 中给其中一个改名，或改 processes/org.json 中单位的 id（组织机构的演示登录名由它生成）")
    return users


def refuse_duplicate_groups(processes_dir: Path | None = None) -> None:
    """The groups of org.json, each unit's posts and the extra `groups`, are each defined once: a group
    listed twice (or listed in `groups` although a unit's post already makes it) is an editing slip."""
    path = (processes_dir or settings.PROCESSES_DIR) / orgtree.TREE_FILE
    if not path.is_file():
        return
    defined = [group for unit in orgtree.read_tree(path) for group in unit.groups] + orgtree.extra_groups(path)
    _refuse_twins("的岗位组", defined, f"请删去 {path} 中重复的 functions 或 groups 条目（每个组只定义一次）")


FUNCTION_LOGINS = {"窗口": "window", "承办": "handle", "审核": "review", "批准": "approve", "电子监察": "watch"}
FUNCTION_ROLES = {"批准": ("clerk", "chief"), "电子监察": ("supervisor",)}


def org_users(processes_dir: Path | None = None) -> list[DemoUser]:
    """One demo person per function of every unit in the org tree (e.g. mz-window, liangzi-zitan-window)."""
    path = (processes_dir or settings.PROCESSES_DIR) / orgtree.TREE_FILE
    if not path.is_file():
        return []
    return [DemoUser(f"{unit.login}-{FUNCTION_LOGINS.get(function, 'staff')}",
                     f"{unit.name} {function}", FUNCTION_ROLES.get(function, ("clerk",)),
                     (orgtree.group_code(unit.code, function),), unit.code)
            for unit in orgtree.read_tree(path) for function in unit.functions]


def seed_users(db: Database, processes_dir: Path | None = None) -> list[DemoUser]:
    users = demo_users(processes_dir)
    for user in users:
        accounts.create_user(db, user.username, DEMO_PASSWORD, user.display_name, list(user.roles),
                             list(user.groups), user.unit)
    return users


def deploy_all(db: Database, deployer: str, processes_dir: Path | None = None) -> DemoSeed:
    """Deploy every item folder; one broken item is reported and does not stop the others."""
    seed = DemoSeed(users=[])
    for folder in item_folders(processes_dir):
        try:
            seed.deployed.append(deploy_package(db, load_package(folder, processes_dir=processes_dir), deployer))
        except OnewindowError as exc:
            seed.failed.append({"path": str(folder), **exc.to_dict()})
    return seed


def seed(db: Database, processes_dir: Path | None = None) -> DemoSeed:
    """Demo users, then every item under processes/ deployed by the demo analyst (after `onewindow init`
    has loaded the org tree, which the users' units and the items' lanes refer to); the installation is
    marked a demo, so the registration page says where its SMS codes go (the outbox, `onewindow sms`)."""
    installation.put(db, installation.DEMO, True)
    users = seed_users(db, processes_dir)
    result = deploy_all(db, "analyst", processes_dir)
    result.users = users
    return result
