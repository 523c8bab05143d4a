"""Lint rules about who acts and how they answer: lanes resolve to groups, refusals carry a reason.

Kept beside `engine.diagrams.lint` (which calls them) because they read the org tree and the forms' meaning
rather than the diagram's shape: a lane must be a known 【role】 or a group of processes/org.json, and
a form that can refuse (不予受理, 不予批准, 不同意 …) must make its reason required for that answer (S-7).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from engine import settings
from engine.org.orgtree import ROLES, TREE_FILE, all_groups, extra_groups, read_tree, role_of

REFUSAL_WORDS = ("不予", "不同意", "驳回", "拒绝")
REASON_FIELD = "reason"


@lru_cache(maxsize=4)
def _known_groups(path: Path, mtime: float) -> frozenset[str]:
    return frozenset(all_groups(read_tree(path), extra_groups(path)))


def known_groups() -> frozenset[str] | None:
    """Every group of the org tree (None when there is no org.json: literal lanes are then not checked)."""
    path = settings.PROCESSES_DIR / TREE_FILE
    if not path.is_file():
        return None
    return _known_groups(path, path.stat().st_mtime)


def lane_problem(lane: str) -> tuple[str, str] | None:
    """(problem, fix) when a user task's lane names no role and no group of the org tree."""
    role = role_of(lane)
    if role is not None:
        if role in ROLES:
            return None
        return (f"泳道“{lane}”不是已知角色", f"改为以下角色之一：{'、'.join(f'【{r}】' for r in ROLES)}")
    groups = known_groups()
    if groups is None or lane in groups:
        return None
    return (f"泳道“{lane}”既不是【角色】，也不是组织机构中的岗位组，没有人能办理其中的任务",
            "用【受理窗口】等角色命名泳道，或写成 processes/org.json 中的组，如“区中心/区民政局·审核”")


def refusals_without_reason(schema: dict[str, Any]) -> list[str]:
    """The refusal answers of a form's `decision` that can be submitted without a reason."""
    decision = (schema.get("properties") or {}).get("decision") or {}
    refusals = [v for v in decision.get("enum", []) if isinstance(v, str) and any(w in v for w in REFUSAL_WORDS)]
    if not refusals or _names_reason(schema.get("required")):
        return []
    required_for = set()
    for rule in [schema, *schema.get("allOf", [])]:
        condition = ((rule.get("if") or {}).get("properties") or {}).get("decision") or {}
        answers = [condition["const"]] if "const" in condition else list(condition.get("enum", []))
        if _names_reason((rule.get("then") or {}).get("required")):
            required_for.update(answers)
    return [v for v in refusals if v not in required_for]


def _names_reason(required: list[str] | None) -> bool:
    """A required field that is a reason: `reason`, or a named one such as `refusal_reason`."""
    return any(name == REASON_FIELD or name.endswith("_" + REASON_FIELD) for name in required or [])
