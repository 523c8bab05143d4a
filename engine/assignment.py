"""Who may act on a task: lanes to candidate groups, in one place.

A lane in a diagram names the group of people who handle its tasks (e.g. the lane "受理窗口" is the
group "受理窗口"). Later the org tree refines this (the window of a department at the level where the
case now is); every caller goes through `candidate_group` so that change happens here only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PermissionDenied, StaleTaskError


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with roles and group codes, or the platform itself (`system`)."""

    username: str
    display_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


SYSTEM = Actor("system", "系统", frozenset({"system"}))


def candidate_group(lane: str | None) -> str | None:
    """The group whose members may claim and complete a task in `lane` (None: anyone with the clerk role)."""
    return lane or None


def check_may_handle(actor: Actor, group: str | None, assignee: str | None, action: str) -> None:
    """Refuse `action` unless `actor` is in the task's group and the task is not claimed by someone else."""
    if group is not None and group not in actor.groups and not actor.is_admin:
        raise PermissionDenied(f"您不属于“{group}”组，不能{action}此任务；请由该组成员办理。")
    if group is None and "clerk" not in actor.roles and not actor.is_admin:
        raise PermissionDenied(f"只有窗口人员可以{action}此任务。")
    if assignee is not None and assignee != actor.username:
        raise StaleTaskError(f"此任务已由 {assignee} 签收，您不能{action}；请刷新任务列表。")
