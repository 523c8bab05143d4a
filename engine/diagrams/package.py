"""Process packages: what an analyst deploys.

A package is one item's metadata (`item.json`), its BPMN file(s), its DMN decision tables (`*.dmn`:
fees, routing and eligibility rules, hashed and versioned with the diagram), the BPMN of the shared call
activities it calls (from `processes/shared/`), and the JSON Schema form files its user tasks name
(from the package folder or `forms/`). It is read into memory as `files` (name → text) so that the
same object can come from a folder, an upload or the studio, and be hashed and stored as it is.

Every file is read by a plain name inside its own folder (`engine.diagrams.filenames`): a form name is typed by
an analyst, and a path in it must never reach a file the operator did not put there for the item.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import settings
from engine.diagrams.bpmn import called_elements, form_names, process_ids
from engine.diagrams.filenames import file_in, name_problem
from engine.diagrams.safexml import parse_xml
from engine.diagrams.specs import FORMS_PREFIX
from engine.errors import PackageError
from engine.messages import said

MAX_FILE_BYTES = 2 * 1024 * 1024
SHARED_PREFIX = "shared/"


@dataclass
class ProcessPackage:
    """An item's deployable content; `files` keys are `main.bpmn`-style names, `shared/…`, `forms/…`."""

    metadata: dict[str, Any]
    files: dict[str, str]
    source: str = "<memory>"
    missing: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return str(self.metadata.get("code", ""))

    def bpmn_files(self) -> dict[str, str]:
        return {name: text for name, text in self.files.items() if name.endswith(".bpmn")}

    def dmn_files(self) -> dict[str, str]:
        return {name: text for name, text in self.files.items() if name.endswith(".dmn")}

    def main_bpmn_files(self) -> dict[str, str]:
        return {n: t for n, t in self.bpmn_files().items() if not n.startswith(SHARED_PREFIX)}

    def content_hash(self) -> str:
        """SHA-256 over metadata and files in a canonical form: equal content, equal hash."""
        canonical = json.dumps({"metadata": self.metadata, "files": self.files}, sort_keys=True,
                               ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_package(path: str | Path, processes_dir: Path | None = None,
                 forms_dir: Path | None = None) -> ProcessPackage:
    """Read an item folder (or a single BPMN file) plus the shared processes and forms it refers to."""
    path = Path(path)
    processes_dir = processes_dir or settings.PROCESSES_DIR
    forms_dir = forms_dir or settings.FORMS_DIR
    if path.is_file():
        folder, bpmn_paths = path.parent, [path]
    elif path.is_dir():
        folder, bpmn_paths = path, sorted(path.glob("*.bpmn"))
    else:
        raise PackageError(said("%(path)s: 文件或文件夹不存在；请给出事项文件夹或 .bpmn 文件。", path=path))
    if not bpmn_paths:
        raise PackageError(said("%(path)s: 文件夹中没有 .bpmn 文件；事项文件夹应包含 item.json 和流程图。", path=path))

    metadata = _read_metadata(folder)
    files = {p.name: _read_in(folder, p.name) for p in [*bpmn_paths, *sorted(folder.glob("*.dmn"))]}
    package = ProcessPackage(metadata=metadata, files=files, source=str(path))
    add_shared_processes(package, processes_dir / "shared")
    add_forms(package, [folder, forms_dir])
    return package


def _read_in(folder: Path, name: str) -> str:
    """A file the folder lists, refused if a symlink takes it out of the folder."""
    path = file_in(folder, name)
    if path is None:
        raise PackageError(said("%(folder)s: 不是文件夹中的普通文件（符号链接指向文件夹之外，或文件名不可用）；"
                           "请把文件本身放进文件夹。", folder=folder / name))
    return _read_text(path)


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PackageError(said("%(path)s: %(size)s 字节，超过单个文件 %(MAX_FILE_BYTES)s 字节的上限（size limit）。",
                                path=path, size=size, MAX_FILE_BYTES=MAX_FILE_BYTES))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(said("%(path)s: 不是 UTF-8 文本；请以 UTF-8 编码保存。", path=path)) from exc


def _read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / "item.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(_read_in(folder, path.name))
    except json.JSONDecodeError as exc:
        raise PackageError(said("%(path)s: 不是有效的 JSON（第 %(lineno)s 行：%(msg)s）。",
                                path=path, lineno=exc.lineno, msg=exc.msg)) from exc
    if not isinstance(data, dict):
        raise PackageError(said("%(path)s: 必须是一个 JSON 对象，包含事项的 code、name、department。", path=path))
    return data


def _tree_or_none(text: str, name: str):
    """A parsed tree, or None for a file lint will report as unreadable (so lint can list every problem)."""
    try:
        return parse_xml(text, name)
    except PackageError:
        return None


def add_shared_processes(package: ProcessPackage, shared_dir: Path) -> None:
    """Pull in every shared BPMN file that defines a process the package calls, transitively."""
    available: dict[str, Path] = {}
    if shared_dir.is_dir():
        for bpmn_path in sorted(shared_dir.glob("*.bpmn")):
            for process_id in process_ids(parse_xml(_read_in(shared_dir, bpmn_path.name), bpmn_path.name)):
                available[process_id] = bpmn_path
    pending = [(name, tree) for name, text in package.bpmn_files().items()
               if (tree := _tree_or_none(text, name)) is not None]
    defined = {pid for _name, tree in pending for pid in process_ids(tree)}
    while pending:
        _name, tree = pending.pop()
        for called in called_elements(tree):
            if called in defined:
                continue
            if called not in available:
                package.missing.append(called)
                defined.add(called)
                continue
            shared_path = available[called]
            shared_name = SHARED_PREFIX + shared_path.name
            if shared_name not in package.files:
                shared_text = _read_in(shared_dir, shared_path.name)
                package.files[shared_name] = shared_text
                shared_tree = parse_xml(shared_text, shared_name)
                pending.append((shared_name, shared_tree))
                defined.update(process_ids(shared_tree))


APPLICATION_FORM_KEYS = ("application_form", "application_ui_form")


def named_forms(package: ProcessPackage) -> list[str]:
    """The plain form names the package asks for: its user tasks' and its own application form (item.json).

    A name that is not plain is left out here and reported by lint against its element.
    """
    wanted = [package.metadata.get(key) for key in APPLICATION_FORM_KEYS if package.metadata.get(key)]
    for name, text in list(package.bpmn_files().items()):
        tree = _tree_or_none(text, name)
        wanted += form_names(tree) if tree is not None else []
    return [form for form in wanted if name_problem(form) is None]


def add_forms(package: ProcessPackage, search_dirs: list[Path]) -> None:
    """Each named form the package does not hold yet, from the first folder that has it."""
    for form in named_forms(package):
        key = FORMS_PREFIX + form
        if key in package.files:
            continue
        path = next(filter(None, (file_in(directory, form) for directory in search_dirs)), None)
        if path is not None:
            package.files[key] = _read_text(path)

