"""docs/architecture.md's map of the engine's rooms stays true (issue 14, item 7): every module is on it with
its room, nothing on it is gone, and the engine's top keeps no more than a few loose modules."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
ROW = re.compile(r"^\| `(\w+)` \| `([\w.]+)` \| (.+) \|$", re.MULTILINE)


def _modules() -> set[tuple[str, str]]:
    found = set()
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).parts
        if path.name == "__init__.py" or "migrations" in parts:
            continue
        found.add(("engine", path.stem) if len(parts) == 1 else (parts[0], ".".join([*parts[1:-1], path.stem])))
    return found


def test_every_engine_module_is_on_the_map_and_the_map_names_only_modules():
    mapped = {(room, module) for room, module, _ in ROW.findall((ROOT / "docs" / "architecture.md").read_text())}
    modules = _modules()
    assert modules - mapped == set(), "add these modules to the map in docs/architecture.md §1"
    assert mapped - modules == set(), "the map in docs/architecture.md §1 names modules that are gone"


def test_the_engine_keeps_few_loose_modules_and_every_room_says_what_it_owns():
    loose = [p.stem for p in ENGINE.glob("*.py") if p.name != "__init__.py"]
    assert len(loose) <= 8, loose
    for room in (p for p in ENGINE.iterdir() if p.is_dir() and (p / "__init__.py").exists()):
        assert (room / "__init__.py").read_text().startswith('"""'), f"{room.name}/__init__.py needs a docstring"


def test_only_the_task_adapter_touches_spiffworkflow_task_internals():
    """Issue 14, item 1: one module owns `internal_data`, so a SpiffWorkflow upgrade that moves it is one edit."""
    internals = re.compile(r"\binternal_data\b|_[gs]et_internal_data\b")
    users = sorted(str(path.relative_to(ROOT)) for folder in ("engine", "webapp", "onewindow")
                   for path in (ROOT / folder).rglob("*.py") if internals.search(path.read_text()))
    assert users == ["engine/runtime/taskdata.py"]


def test_the_web_and_the_command_line_hold_no_connection_of_their_own():
    """Issue 14, item 3: the routes and commands make engine calls; units of work and reads are the engine's."""
    opens = re.compile(r"\.(reading|transaction)\(|\.engine\.(connect|begin)\(")
    users = sorted(str(path.relative_to(ROOT)) for folder in ("webapp", "onewindow")
                   for path in (ROOT / folder).rglob("*.py") if opens.search(path.read_text()))
    assert users == []


def test_no_module_is_over_400_lines():
    """Issue 14, item 5: a module that grows past 400 lines is split along its seams, not left to sprawl."""
    long = {str(path.relative_to(ROOT)): n for folder in ("engine", "webapp", "onewindow")
            for path in (ROOT / folder).rglob("*.py") if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}
