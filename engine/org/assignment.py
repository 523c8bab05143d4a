"""Who may act on a task, once its lane is resolved to a group.

A lane resolves to a candidate group through the org tree, relative to where the case was accepted
(`engine.org.orgtree.Routing`, reached as `CaseContext.group_of(task)`); this module only decides whether
an actor belongs to that group and whether someone else holds the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import PermissionDenied, StaleTaskError
from engine.messages import said


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user with roles and group codes, or the platform itself (`system`)."""

    username: str
    display_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    unit: str | None = None  # the org unit whose window the user works at (cases they start come in there)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


SYSTEM = Actor("system", "系统", frozenset({"system"}))


def check_may_handle(actor: Actor, group: str | None, assignee: str | None, action: str) -> None:
    """Refuse `action` unless `actor` is in the task's group and the task is not claimed by someone else."""
    if group is not None and group not in actor.groups and not actor.is_admin:
        raise PermissionDenied(said("您不属于“%(group)s”组，不能%(action)s此任务；请由该组成员办理。",
                                    group=group, action=action))
    if group is None and "clerk" not in actor.roles and not actor.is_admin:
        raise PermissionDenied(said("只有窗口人员可以%(action)s此任务。", action=action))
    if assignee is not None and assignee != actor.username:
        raise StaleTaskError(said("此任务已由 %(assignee)s 签收，您不能%(action)s；请刷新任务列表。",
                                  assignee=assignee, action=action))
