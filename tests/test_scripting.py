"""The restricted evaluator: diagrams compute with form data and nothing else.

Known sandbox escapes are each refused with a clear error (DESIGN.md, Safety).
"""

from __future__ import annotations

import pytest

from engine.errors import ScriptError
from engine.scripting import RestrictedEnvironment, compile_script

ESCAPES = [
    "().__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]",
    "__import__('subprocess').run(['id'])",
    "getattr((), '__class__')",
    "type(())",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('x=1')",
    "compile('1', 'x', 'eval')",
    "globals()",
    "vars()",
    "(x for x in []).gi_frame.f_globals",
    "'{0.__class__}'.format(1)",
    "str.format('{0.__init__.__globals__}', 1)",
    "(lambda: 0).__code__",
    "setattr",
    "breakpoint()",
]


@pytest.mark.parametrize("expression", ESCAPES)
def test_known_escapes_are_refused(expression):
    env = RestrictedEnvironment()
    with pytest.raises((ScriptError, NameError, NotImplementedError)) as err:
        env.evaluate(expression, {})
    assert str(err.value)


@pytest.mark.parametrize("script", ["import os", "from subprocess import run", "import builtins as b"])
def test_imports_are_refused(script):
    with pytest.raises((ScriptError, ImportError)):
        RestrictedEnvironment().execute(script, {})


def test_compile_time_refusals_say_why():
    with pytest.raises(ScriptError, match="starts with \"_\""):
        RestrictedEnvironment().evaluate("().__class__", {})


def test_plain_computation_on_form_data_works_and_writes_back_only_data():
    env = RestrictedEnvironment()
    data = {"members": [{"income": 1200}, {"income": 800}], "old": 1}
    env.execute("total = sum(m['income'] for m in members)\nper_head = total / len(members)\ndel old", data)
    assert data == {"members": [{"income": 1200}, {"income": 800}], "total": 2000, "per_head": 1000.0}
    assert env.evaluate("per_head < 1100 and len(members) == 2", data) is True
    assert env.evaluate("math.floor(per_head / 3)", data) == 333


def test_augmented_assignment_is_plain_arithmetic():
    data = {"n": 1, "s": "a"}
    RestrictedEnvironment().execute("n += 2\nn *= 3\ns += 'b'", data)
    assert data == {"n": 9, "s": "ab"}


@pytest.mark.parametrize("script", ["import os", "x = 1\nprint(x)"])
def test_imports_and_print_are_refused_when_compiled_so_lint_sees_them(script):
    with pytest.raises(ScriptError, match=r"import|print"):
        compile_script(script)
