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

from engine import settings
from engine.errors import OnewindowError
from engine.messages import ENUMERATION_COMMA, Said, listed, said
from engine.org.accounts import ensure_group
from engine.store.db import Database
from engine.store.tables import org_units

TREE_FILE = "org.json"
DISTRICT = "区中心"
SEPARATOR = "·"
LEVELS = ("village", "town", "district")
KINDS = ("centre", "department", "town", "village")

# 【role】 → (which unit, which function). "front": the window the applicant (or a village agent)
# came to; "accepting": where the case is formally accepted (the front when the item may be accepted
# at its level, else the deciding unit after a relay up); "town": the town centre above the front;
# "district": the item's department window at the district; "deciding": the unit at the item's level
# (its district department, or the town of the front for a town item); "department": the department
# named by the task's own `department` data (one instance of a joint review).
ROLES: dict[str, tuple[str, str]] = {
    "收件窗口": ("front", "窗口"),
    "受理窗口": ("accepting", "窗口"),
    "镇中心": ("town", "窗口"),
    "区窗口": ("district", "窗口"),
    "办理窗口": ("deciding", "窗口"),
    "承办": ("deciding", "承办"),
    "审核": ("deciding", "审核"),
    "批准": ("deciding", "批准"),
    "会审部门": ("department", "审核"),
}
DEPARTMENT_KEY = "department"


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
    front: str | None = None
    accept_levels: tuple[str, ...] = ()

    @property
    def front_unit(self) -> str | None:
        return self.front or (department_unit(self.department) if self.department else None)

    @property
    def front_accepts(self) -> bool:
        """Whether the window the applicant came to accepts the case itself (else it relays it up first)."""
        front = self.front_unit
        if front is None:
            return True
        level = level_of(front)
        return level in (self.accept_levels or (self.level,)) or LEVELS.index(level) >= LEVELS.index(self.level)

    @property
    def reports_up(self) -> bool:
        """Accepted below the level that decides: the accepting window reports it up (上报)."""
        front = self.front_unit
        return front is not None and self.front_accepts and level_of(front) != self.level

    def flags(self) -> dict[str, object]:
        """What the diagram's gateways test: where the case came in and whether it travels up."""
        front = self.front_unit
        return {"front_unit": front, "front_level": level_of(front) if front else self.level,
                "handling_level": self.level, "route_agency": not self.front_accepts,
                "route_report_up": self.reports_up}

    def unit(self, which: str, data: dict | None = None) -> str:
        front = self.front_unit
        district = department_unit(self.department) if self.department else None
        town = town_of(front) if front else None
        deciding = town if self.level == "town" else district
        chosen = {"front": front, "town": town, "district": district, "deciding": deciding,
                  "accepting": front if self.front_accepts else deciding}.get(which)
        if which == "department":
            named = (data or {}).get(DEPARTMENT_KEY)
            chosen = department_unit(named) if isinstance(named, str) and named else None
        if chosen is None:
            raise RoutingError(_unresolvable(which, self))
        return chosen

    def group(self, lane: str | None, data: dict | None = None) -> str | None:
        """The candidate group of a task in `lane` (None: no lane, any clerk); `data` is the task's data."""
        if not lane:
            return None
        role = role_of(lane)
        if role is None:
            return lane
        if role not in ROLES:
            raise RoutingError(said("泳道“%(lane)s”不是已知角色；可用角色：%(ROLES)s",
                                    lane=lane, ROLES=listed((f'【{r}】' for r in ROLES), ENUMERATION_COMMA)))
        which, function = ROLES[role]
        return group_code(self.unit(which, data), function)


def _unresolvable(which: str, routing: Routing) -> Said:
    where = routing.front or said("（未记录收件单位）")
    if which == "town":
        return said("办件在“%(where)s”收件，没有上级镇便民服务中心；【镇中心】泳道只用于村、镇收件的事项。",
                    where=where)
    if which == "department":
        return said("会审任务缺少 %(key)s（会审部门名称）；请把多实例的输入项命名为 %(key)s。", key=DEPARTMENT_KEY)
    if which == "deciding" and routing.level == "town":
        return said("镇级事项必须在镇便民服务中心或其下的村收件，本件收件单位为“%(where)s”。", where=where)
    return said("事项没有所属部门，无法确定办理单位；请在事项 item.json 中填写 department。")


# ---- the tree as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    parent: str | None
    functions: tuple[str, ...]
    login: str = ""  # the short ASCII name demo logins are made from

    @property
    def groups(self) -> list[str]:
        return [group_code(self.code, f) for f in self.functions]


def read_tree(path: Path) -> list[Unit]:
    """The units of `org.json`, parents before children; a malformed file is refused with the fix."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OnewindowError(said("%(path)s: 无法读取组织机构文件：%(exc)s", path=path, exc=exc)) from exc
    units: list[Unit] = []
    for department in data.get("departments", []):
        units.append(_unit(department_unit(department["name"]), department, "department", DISTRICT))
    for town in data.get("towns", []):
        units.append(_unit(town["name"], town, "town", None))
        for village in town.get("villages", []):
            units.append(_unit(f"{town['name']}/{village['name']}", village, "village", town["name"]))
    centre_data = data.get("centre", {})
    centre = Unit(DISTRICT, centre_data.get("name", "区行政服务中心"), "centre", None,
                  tuple(centre_data.get("functions", [])), centre_data.get("id", "centre"))
    return [centre, *units]


def _unit(code: str, data: dict[str, Any], kind: str, parent: str | None) -> Unit:
    functions = data.get("functions")
    if not isinstance(functions, list) or not functions:
        raise OnewindowError(said("组织机构“%(code)s”缺少 functions（如 [\"窗口\"]）；每个单位至少有一个岗位。",
                                  code=code))
    return Unit(code, data.get("title") or data["name"], kind, parent, tuple(functions), data.get("id", ""))


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


def install(db: Database, processes_dir: Path | None = None) -> list[Unit]:
    """Load processes/org.json into the database (init does it; `onewindow org load` after an edit)."""
    path = (processes_dir or settings.PROCESSES_DIR) / TREE_FILE
    if not path.is_file():
        return []
    units = read_tree(path)
    with db.transaction() as conn:
        load_tree(conn, units)
        for group in sorted(all_groups(units, extra_groups(path))):
            ensure_group(conn, group)
    return units


def unit_names(conn: Connection) -> dict[str, str]:
    return {r.code: r.name for r in conn.execute(select(org_units.c.code, org_units.c.name))}


def split_group(group: str) -> tuple[str, str]:
    """'梁子镇·窗口' → ('梁子镇', '窗口'); a group of no unit (a working group) → ('', its name)."""
    unit, _, function = group.rpartition(SEPARATOR)
    return unit, function


def describe_group(group: str | None, names: dict[str, str]) -> str:
    """'区中心/区民政局·审核' → '区民政局 审核' for people (the code stays what is stored)."""
    if not group:
        return "任意窗口人员"
    unit, function = split_group(group)
    if not unit:
        return group
    return f"{names.get(unit, unit.rsplit('/', 1)[-1])} {function}"


def units_with_groups(db: Database) -> list[dict[str, Any]]:
    """Every unit of the tree in its order, with the group codes its posts make (the operator's view)."""
    with db.reading() as conn:
        return [{"code": r.code, "name": r.name, "kind": r.kind, "groups": [group_code(r.code, f) for f in r.functions]}
                for r in conn.execute(select(org_units).order_by(org_units.c.position))]
