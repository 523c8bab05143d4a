"""The restricted evaluator: diagrams compute with form data and nothing else.

Known sandbox escapes are each refused with a clear error (DESIGN.md, Safety).
"""

from __future__ import annotations

import time

import pytest

from engine.diagrams.script_bounds import ScriptLimits, resident_bytes
from engine.diagrams.scripting import RestrictedEnvironment, compile_script
from engine.errors import ScriptError

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


# Bounds (issue 13, item 5): every script and expression stops by itself, whatever it does.

SAFETY_SECONDS = 10  # a bound on a stopped script, far above the half second it is given: never a speed target
BOUNDED = ScriptLimits(seconds=0.5)

RUN_AWAY = [
    "while True:\n    pass",
    "for i in range(10 ** 6):\n    for j in range(10 ** 6):\n        pass",
    "x = [j for i in range(10 ** 6) for j in range(10 ** 6) if j < 0]",
    "x = sum(1 for i in range(10 ** 6) for j in range(10 ** 6))",
    "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(60)",
    "f = lambda n: f(n - 1) + f(n - 1) if n else 1\nx = f(60)",
    "try:\n    while True:\n        pass\nexcept Exception:\n    pass\nx = 1",
    "def f():\n    try:\n        while True:\n            pass\n    except:\n        return f()\nf()",
]

GIANT = [
    "x = 9 ** 9 ** 9", "x = pow(9, 9 ** 9)", "x = 1 << 10 ** 9", "x = math.factorial(10 ** 7)",
    "x = math.prod([10 ** 4000] * 1000)", "x = round(5, -10 ** 9)",
    "x = 'a' * 10 ** 8", "x = [0] * 10 ** 8", "x = 'a' * 10 ** 6\nx += x", "x = 'a'.ljust(10 ** 9)",
    "x = str.ljust('a', 10 ** 9)", "x = '\\t'.expandtabs(tabsize=10 ** 9)", "x = '%0999999999d' % 1",
    "x = f'{1:>999999999}'", "x = f'{1!r:>{10 ** 9}}'", "x = sum(range(10 ** 12))",
]


def _stopped(script: str, limits: ScriptLimits = BOUNDED) -> str:
    started = time.monotonic()
    with pytest.raises(ScriptError) as stopped:
        RestrictedEnvironment(limits=limits).execute(script, {})
    assert time.monotonic() - started < SAFETY_SECONDS
    return stopped.value.message


@pytest.mark.parametrize("script", RUN_AWAY)
def test_a_script_that_runs_on_is_stopped_at_its_deadline_even_if_it_catches_the_stop(script):
    assert "运行超过 0.5 秒" in _stopped(script)


@pytest.mark.parametrize("script", GIANT)
def test_a_single_giant_operation_is_refused_before_it_is_computed(script):
    message = _stopped(script)
    assert "整数过大" in message or "文字或列表过长" in message


def test_summing_lists_is_refused_and_deep_recursion_is_a_script_error():
    assert "sum() 只能对数值" in _stopped("x = sum([[0] * 1000] * 1000, [])")
    assert "递归过深" in _stopped("def f(n):\n    return f(n + 1)\nf(0)")


@pytest.mark.parametrize("name", ["BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"])
def test_a_script_cannot_raise_what_would_stop_the_worker(name):
    """Only `Exception`s become script errors: a `SystemExit` raised by a diagram ended `onewindow tick` with 0."""
    with pytest.raises(NameError):
        RestrictedEnvironment().execute(f"raise {name}()", {})


@pytest.mark.skipif(resident_bytes() is None, reason="the worker's memory is read from /proc")
def test_a_script_that_keeps_taking_memory_is_stopped():
    script = "kept = []\nwhile True:\n    kept.append('a' * 100000)"
    assert "内存" in _stopped(script, ScriptLimits(seconds=SAFETY_SECONDS / 2, memory_bytes=32 << 20))


def test_the_data_a_script_leaves_is_capped_as_a_whole():
    small = ScriptLimits(data_bytes=10_000)
    data = {"kept": "a" * 6000}
    RestrictedEnvironment(limits=small).execute("note = 'b' * 3000", data)
    assert len(data["note"]) == 3000
    message = _stopped("first, second = 'a' * 6000, 'b' * 6000", small)
    assert "变量 second" in message and "上限 10,000 字节" in message


def test_data_that_repeats_one_value_exponentially_is_refused_without_walking_all_of_it():
    doubling = "a = [0]\nfor i in range(60):\n    a = [a, a]"
    message = _stopped(doubling, ScriptLimits(seconds=SAFETY_SECONDS / 2, data_bytes=100_000))
    assert "办件数据超过上限 100,000 字节" in message


def test_what_the_guards_compute_is_what_python_computes():
    data: dict = {}
    RestrictedEnvironment().execute(
        "p = 2 ** 10\nq = pow(3, 4, 5)\nr = 'ab' * 3 + 'c'\ns = [1] * 2 + [3]\nt = f'{p:>6}|{p!r}'\n"
        "u = '%03d|%5.1f%%' % (7, 2.5)\nv = 'a'.ljust(3, '-') + 'b'.zfill(3)\nw = sum(i for i in range(5))\n"
        "x = round(1234, -2)\ny = math.factorial(5) + (1 << 4)\nz = 7\nz *= 6", data)
    assert data == {"p": 1024, "q": 1, "r": "abababc", "s": [1, 1, 3], "t": "  1024|1024", "u": "007|  2.5%",
                    "v": "a--00b", "w": 10, "x": 1200, "y": 136, "z": 42}


def test_an_installation_sets_the_limits_in_its_environment(monkeypatch):
    monkeypatch.setenv("ONEWINDOW_SCRIPT_SECONDS", "3")
    monkeypatch.setenv("ONEWINDOW_CASE_DATA_BYTES", "4096")
    monkeypatch.setenv("ONEWINDOW_SCRIPT_MEMORY_MB", "64")
    assert RestrictedEnvironment().limits == ScriptLimits(seconds=3, data_bytes=4096, memory_bytes=64 << 20)
    monkeypatch.setenv("ONEWINDOW_SCRIPT_SECONDS", "0.5")
    with pytest.raises(ValueError, match="ONEWINDOW_SCRIPT_SECONDS"):
        RestrictedEnvironment()
