"""List the Chinese a person reads that the English catalogue cannot reach: text outside `_()`.

    python tools/untranslated.py            # every template and web module, grouped by file
    python tools/untranslated.py webapp/templates/desk/tasks.html webapp/desk.py

A template is parsed by Jinja itself, so `{# comments #}` are gone and the rest is either text
(every CJK character in it is unwrapped, but for a form's `value="…"`, which is data sent back) or an
expression, where a Chinese string literal counts unless it is the message of a `_()`/`gettext()`
call or only compared against (`x == "受理"` reads data, it shows nothing). A Python module is parsed
by `ast`: a Chinese string literal counts unless it is a docstring, the message of `_()`, `_l()`,
`gettext()`, `lazy_gettext()`, `N_()` or the engine's `said()`, or the key of a dict entry whose value
is one of those (an engine's Chinese value looked up for its translation, `{"听证": _l("听证")}`).

tests/test_translations.py uses `template_findings` so that the test and this list never disagree.
Notices (webapp/templates/notices/) are legal documents issued in Chinese and are left out on purpose
(docs/architecture.md, "The English UI").
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "webapp" / "templates"
WEB_MODULES = ROOT / "webapp"
EXEMPT = {"notices": "legal documents issued in Chinese; they stay Chinese in both UIs"}
# Single texts left as drawn, each with its reason: (template, text) → why.
EXEMPT_TEXT = {("base.html", "一窗"): "the brand mark: a logo drawn in characters, hidden from screen readers"}

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# What a form sends back (`<input type="radio" value="同意">`) is data the engine reads; the person reads
# the label beside it. Buttons here show their content, never a value.
VALUE_ATTRIBUTE = re.compile(r"""\bvalue=("[^"]*"|'[^']*')""")
GETTEXT_NAMES = {"_", "_l", "gettext", "ngettext", "lazy_gettext", "N_", "pgettext", "npgettext", "said", "said_in",
                 "to_say"}


def template_findings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each piece of Chinese in the template that no `_()` wraps."""
    tree = Environment().parse(path.read_text(encoding="utf-8"))
    wrapped: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_NAMES:
            wrapped.update(id(arg) for arg in call.args)
    for compare in tree.find_all(nodes.Compare):
        wrapped.update(id(const) for const in compare.find_all(nodes.Const))
    found = []
    for data in tree.find_all(nodes.TemplateData):
        text = VALUE_ATTRIBUTE.sub("", HTML_COMMENT.sub("", data.data))
        found += [(data.lineno + text[: m.start()].count("\n"), m.group().strip())
                  for m in re.finditer(r"[^<>\n]*" + CJK.pattern + r"[^<>\n]*", text)]
    for const in tree.find_all(nodes.Const):
        if isinstance(const.value, str) and CJK.search(const.value) and id(const) not in wrapped:
            found.append((const.lineno, repr(const.value)))
    name = str(path.relative_to(TEMPLATES)) if path.is_relative_to(TEMPLATES) else path.name
    return sorted(f for f in found if (name, f[1]) not in EXEMPT_TEXT)


def python_findings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each Chinese string literal in the module that is neither a docstring nor wrapped."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.Call) and _called_name(node.func) in GETTEXT_NAMES:
            skip.update(id(sub) for arg in node.args for sub in ast.walk(arg))
        if isinstance(node, ast.Dict):  # {"听证": _l("听证")}: the key looks an engine value up, the value is shown
            skip.update(id(key) for key, value in zip(node.keys, node.values, strict=True)
                        if isinstance(key, ast.Constant) and isinstance(value, ast.Call)
                        and _called_name(value.func) in GETTEXT_NAMES)
    return sorted((node.lineno, repr(node.value)) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and CJK.search(node.value) and id(node) not in skip)


def _called_name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def exempt(path: Path) -> bool:
    return path.is_relative_to(TEMPLATES) and path.relative_to(TEMPLATES).parts[0] in EXEMPT


def every_file() -> list[Path]:
    """Every template and web module, notices left out."""
    return [p for p in sorted(TEMPLATES.rglob("*.html")) if not exempt(p)] + sorted(WEB_MODULES.glob("*.py"))


def findings(path: Path) -> list[tuple[int, str]]:
    return template_findings(path) if path.suffix == ".html" else python_findings(path)


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or every_file()
    total = 0
    for path in paths:
        if found := findings(path):
            total += len(found)
            print(f"{path.relative_to(ROOT)}  ({len(found)})")
            for line, text in found:
                print(f"  {line:>4}  {text}")
    print(f"{total} unwrapped", file=sys.stderr)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
