"""`onewindow bench`: find and run the scripts in the project's bench/ folder.

A benchmark is any bench/*.py that defines `main(argv) -> int`. Scripts are found by reading
their source (no import), so listing them never runs anyone's setup code, and a new script needs
no registration here.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from engine import settings
from engine.errors import NotFound


def bench_dir() -> Path:
    return settings.PROJECT_ROOT / "bench"


def _defines_main(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return True  # let running it report the problem rather than silently skipping the script
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def discover(folder: Path | None = None) -> dict[str, Path]:
    """name → path of every benchmark script, in name order."""
    folder = folder or bench_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_") and _defines_main(p)}


def select(name: str | None, folder: Path | None = None) -> dict[str, Path]:
    found = discover(folder)
    if name is None:
        if not found:
            raise NotFound(f"no benchmark in {folder or bench_dir()}: add a bench/*.py that defines main(argv) -> int")
        return found
    key = name.removesuffix(".py")
    if key not in found:
        known = ", ".join(found) or "none"
        raise NotFound(f"no benchmark named {name}; available: {known}")
    return {key: found[key]}


@dataclass
class BenchResult:
    name: str
    status: int
    seconds: float
    output: str | None = None


def run(name: str, path: Path, argv: list[str], capture: bool) -> BenchResult:
    """Import the script as a module and call its `main(argv)`; with `capture`, keep what it prints."""
    started = time.perf_counter()
    buffer = io.StringIO()
    sys.path.insert(0, str(path.parent))
    try:
        redirect = contextlib.redirect_stdout(buffer) if capture else contextlib.nullcontext()
        with redirect:
            status = _call_main(name, path, argv)
    finally:
        sys.path.remove(str(path.parent))
    return BenchResult(name, status, round(time.perf_counter() - started, 3),
                       buffer.getvalue() if capture else None)


def _call_main(name: str, path: Path, argv: list[str]) -> int:
    spec = importlib.util.spec_from_file_location(f"onewindow_bench_{name}", path)
    if spec is None or spec.loader is None:
        raise NotFound(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = getattr(module, "main", None)
    if not callable(main):
        raise NotFound(f"{path} defines no main(argv) function")
    try:
        status = main(list(argv))
    except SystemExit as exc:  # a script written for the shell may sys.exit() instead of returning
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return int(status or 0)
