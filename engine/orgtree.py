"""The org tree (S-1, S-3) and how a lane finds its people relative to where a case is.

The tree is data in `processes/org.json`: the district centre with one unit per department window,
the town centres, and their village service rooms. A unit's code is its path from the top
("区中心/区民政局", "梁子镇", "梁子镇/红星村"), so the town above a village, or the district window of a
department, follows from the codes alone; resolving a lane never needs a query. Each unit lists its
functions (窗口, 承办, 审核, 批准 …); the people of one function in one unit are the group
"<unit code>·<function>".

A lane written in 【】 is a role relative to the case (see `ROLES`); any other lane name is a group
code as it stands (older diagrams and ad-hoc working groups such as a joint review panel).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from .errors import OnewindowError
from .tables import org_units

DISTRICT = "区中心"
SEPARATOR = "·"
LEVELS = ("village", "town", "district")
KINDS = ("centre", "department", "town", "village")

# 【role】 → (which unit, which function). "accepting": the unit where the case was accepted;
# "town": the town centre above it (itself if accepted at a town); "district": the item's department
# window at the district; "deciding": the unit at the item's level (district department or town).
ROLES: dict[str, tuple[str, str]] = {
    "受理窗口": ("accepting", "窗口"),
    "镇中心": ("town", "窗口"),
    "区窗口": ("district", "窗口"),
    "承办": ("deciding", "承办"),
    "审核": ("deciding", "审核"),
    "批准": ("deciding", "批准"),
}


class RoutingError(OnewindowError):
    """A relative lane that cannot be resolved for this case (e.g. 【镇中心】 of a case accepted at the district)."""


def group_code(unit: str, function: str) -> str:
    return f"{unit}{SEPARATOR}{function}"


def department_unit(department: str) -> str:
    """The unit of a department's window in the district centre."""
    return f"{DISTRICT}/{department}"


def town_of(unit: str) -> str | None:
    """The town centre a unit belongs to (itself for a town), or None for a district unit."""
    head = unit.split("/", 1)[0]
    return None if head == DISTRICT else head


def level_of(unit: str) -> str:
    """village, town or district, from the code's shape."""
    if town_of(unit) is None:
        return "district"
    return "village" if "/" in unit else "town"


def role_of(lane: str | None) -> str | None:
    """The role name of a 【relative】 lane, or None for a literal group lane."""
    if lane and lane.startswith("【") and lane.endswith("】"):
        return lane[1:-1].strip()
    return None


@dataclass(frozen=True)
class Routing:
    """What a relative lane is resolved against: where the case was accepted, and the item's department
    and level. `accepting` None (a case started before units existed, or by an applicant without one)
    means the department's own district window accepted it."""

    department: str | None = None
    level: str = "district"
    accepting: str | None = None

    def unit(self, which: str) -> str:
        district = department_unit(self.department) if self.department else None
        accepting = self.accepting or district
        if which == "accepting" and accepting:
            return accepting
        if which == "district" and district:
            return district
        if which == "town" and accepting and town_of(accepting):
            return town_of(accepting)
        if which == "deciding":
            if self.level == "town" and accepting and town_of(accepting):
                return town_of(accepting)
            if district:
                return district
        raise RoutingError(_unresolvable(which, self))

    def group(self, lane: str | None) -> str | None:
        """The candidate group of a task in `lane` (None: no lane, any clerk)."""
        if not lane:
            return None
        role = role_of(lane)
        if role is None:
            return lane
        if role not in ROLES:
            raise RoutingError(f"泳道“{lane}”不是已知角色；可用角色：{'、'.join(f'【{r}】' for r in ROLES)}")
        which, function = ROLES[role]
        return group_code(self.unit(which), function)


def _unresolvable(which: str, routing: Routing) -> str:
    where = routing.accepting or "（未记录受理单位）"
    if which == "town":
        return f"办件在“{where}”受理，没有上级镇便民服务中心；【镇中心】泳道只用于村、镇受理的事项。"
    return f"事项没有所属部门，无法确定{which}单位；请在事项 item.json 中填写 department。"


# ---- the tree as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    parent: str | None
    functions: tuple[str, ...]

    @property
    def groups(self) -> list[str]:
        return [group_code(self.code, f) for f in self.functions]


def read_tree(path: Path) -> list[Unit]:
    """The units of `org.json`, parents before children; a malformed file is refused with the fix."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OnewindowError(f"{path}: 无法读取组织机构文件：{exc}") from exc
    units: list[Unit] = []
    for department in data.get("departments", []):
        units.append(_unit(department_unit(department["name"]), department, "department", DISTRICT))
    for town in data.get("towns", []):
        units.append(_unit(town["name"], town, "town", None))
        for village in town.get("villages", []):
            units.append(_unit(f"{town['name']}/{village['name']}", village, "village", town["name"]))
    centre = Unit(DISTRICT, data.get("centre", {}).get("name", "区行政服务中心"), "centre", None,
                  tuple(data.get("centre", {}).get("functions", [])))
    return [centre, *units]


def _unit(code: str, data: dict[str, Any], kind: str, parent: str | None) -> Unit:
    functions = data.get("functions")
    if not isinstance(functions, list) or not functions:
        raise OnewindowError(f"组织机构“{code}”缺少 functions（如 [\"窗口\"]）；每个单位至少有一个岗位。")
    return Unit(code, data.get("title") or data["name"], kind, parent, tuple(functions))


def all_groups(units: list[Unit], extra: list[str] = ()) -> set[str]:
    return {g for u in units for g in u.groups} | set(extra)


def extra_groups(path: Path) -> list[str]:
    """Working groups that belong to no unit (a standing panel, the demo items' windows)."""
    return list(json.loads(path.read_text(encoding="utf-8")).get("groups", []))


def load_tree(conn: Connection, units: list[Unit]) -> None:
    """Replace the org_units table with `units` (the file is the source; the table serves lookups)."""
    conn.execute(delete(org_units))
    conn.execute(insert(org_units), [
        {"code": u.code, "name": u.name, "kind": u.kind, "parent_code": u.parent, "functions": list(u.functions),
         "position": i} for i, u in enumerate(units)])


def unit_names(conn: Connection) -> dict[str, str]:
    return {r.code: r.name for r in conn.execute(select(org_units.c.code, org_units.c.name))}


def describe_group(group: str | None, names: dict[str, str]) -> str:
    """'区中心/区民政局·审核' → '区民政局 审核' for people (the code stays what is stored)."""
    if not group:
        return "任意窗口人员"
    unit, _, function = group.rpartition(SEPARATOR)
    if not unit:
        return group
    return f"{names.get(unit, unit.rsplit('/', 1)[-1])} {function}"
