"""Bounds on one diagram script or expression: its time, the size of what it builds, the memory it takes.

A script runs inside its case's transaction — on SQLite while holding the database's write lock — so an
endless loop there stops every other write of the district. Nothing outside can stop it: SpiffWorkflow
runs scripts in the worker's own thread, which no signal reaches and nothing can kill. So a script stops
itself:

- `BoundedTransformer` compiles a *tick* into every loop body, function body, lambda and comprehension.
  The tick reads the clock every `TICKS_PER_CHECK` calls and stops the script past its deadline; once
  stopped, every later tick stops it again, so a script that catches the error cannot loop on. While a
  script runs longer than `MEMORY_CHECK_SECONDS`, the tick also watches the worker's resident memory.
- One operation cannot be stopped half-way (`9 ** 9 ** 9`, `'a' * 10 ** 8`), so every operation whose
  result size is set by a number in the script — a repeat count, an exponent, a shift, a width, a range,
  a factorial — checks that size before computing: a single text or list may not exceed the case-data
  cap (it could never be stored), an integer `MAX_COMPUTED_INT_BITS` bits.

What is left is C code amplifying *shared* values (`''.join([s] * 1000)` with `s` near the cap, `str()`
of a list holding one big list many times): single calls no tick interrupts. They are bounded only by the
worker's memory limit (docs/operators.md) — a hard bound needs a separate process per script.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from RestrictedPython.Guards import safer_getattr
from RestrictedPython.transformer import RestrictingNodeTransformer

from engine import settings
from engine.errors import ScriptError
from engine.messages import Said, said

TICKS_PER_CHECK = 256  # a clock read every 256 loop turns: a few µs apart, a few % of a bare loop's cost
MEMORY_CHECK_SECONDS = 0.01  # short scripts never pay for reading the worker's memory
MAX_COMPUTED_INT_BITS = 1 << 16  # about 19,700 decimal digits; a product of two such integers takes milliseconds


@dataclass(frozen=True)
class ScriptLimits:
    """What one script or expression may use; an installation sets them in the environment (operators.md §2)."""

    seconds: float = 1.0
    data_bytes: int = 1 << 20  # the case data a script leaves, roughly as stored; also one text or list
    memory_bytes: int = 256 << 20  # growth of the worker's resident memory while one script runs

    @classmethod
    def from_environment(cls) -> ScriptLimits:
        return cls(seconds=settings.whole_number("SCRIPT_SECONDS", 1, minimum=1),
                   data_bytes=settings.whole_number("CASE_DATA_BYTES", cls.data_bytes, minimum=1024),
                   memory_bytes=settings.whole_number("SCRIPT_MEMORY_MB", cls.memory_bytes >> 20, minimum=16) << 20)


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_bytes() -> int | None:
    """The worker's resident memory (Linux), or None where `/proc` does not say."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None


class Budget:
    """One run of one script: its deadline, and the state its ticks (`ticker`) check."""

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        start = time.monotonic()
        self.deadline = start + limits.seconds
        self.next_memory_check = start + MEMORY_CHECK_SECONDS
        self.memory_at_start: int | None = None
        self.stopped: Said | None = None

    def ticker(self) -> Callable[[], bool]:
        """A tick for compiled code (`_tick_`). A closure rather than a method, for it runs at every loop turn
        and a closure is the cheaper call; the budget does not keep it, so no reference cycle is made."""
        check = self.check
        countdown = TICKS_PER_CHECK

        def tick() -> bool:
            nonlocal countdown
            countdown -= 1
            if countdown:
                return True
            countdown = 1  # until the check passes: a stopped script is stopped again at its next tick
            check()
            countdown = TICKS_PER_CHECK
            return True

        return tick

    def check(self) -> None:
        """Stop the script if it is past its deadline or its memory (by its ticks, and once it has ended)."""
        if self.stopped is None:
            now = time.monotonic()
            if now > self.deadline:
                self.stopped = said("脚本或表达式运行超过 %(seconds)s 秒，已被停止：可能是死循环或计算量过大；"
                                    "请修正循环的结束条件或减少计算（上限由 ONEWINDOW_SCRIPT_SECONDS 设定）",
                                    seconds=format(self.limits.seconds, "g"))
            elif now >= self.next_memory_check:
                self.stopped = self._memory_grown(now)
        if self.stopped is not None:
            raise ScriptError(self.stopped)

    def _memory_grown(self, now: float) -> Said | None:
        self.next_memory_check = now + MEMORY_CHECK_SECONDS
        resident = resident_bytes()
        if resident is None:
            self.next_memory_check = math.inf
        elif self.memory_at_start is None:
            self.memory_at_start = resident
        elif resident - self.memory_at_start > self.limits.memory_bytes:
            return said("脚本运行中占用的内存增加了 %(grown)s MB，超过上限 %(limit)s MB，已被停止；"
                        "请不要在脚本中构造大量数据（上限由 ONEWINDOW_SCRIPT_MEMORY_MB 设定）",
                        grown=(resident - self.memory_at_start) >> 20, limit=self.limits.memory_bytes >> 20)
        return None


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _located(new: ast.AST, old: ast.AST) -> Any:
    ast.copy_location(new, old)
    return ast.fix_missing_locations(new)


def _tick_first(node: ast.For | ast.While | ast.FunctionDef) -> ast.AST:
    node.body.insert(0, _located(ast.Expr(_call("_tick_")), node.body[0]))
    return node


_GUARDED_OPERATORS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Add: "_add_", ast.Mod: "_mod_"}


class BoundedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's checks and rewrites, then the ticks and the guarded operations (module docstring).

    Nodes are added after RestrictedPython has visited a node, so its refusal of names starting with `_`
    applies to the script's own names only.
    """

    def visit_For(self, node: ast.For) -> ast.AST:
        return _tick_first(super().visit_For(node))

    def visit_While(self, node: ast.While) -> ast.AST:
        return _tick_first(super().visit_While(node))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return _tick_first(super().visit_FunctionDef(node))

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = _located(ast.BoolOp(ast.And(), [_call("_tick_"), node.body]), node.body)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _located(_call("_tick_"), node.iter))
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = super().visit_BinOp(node)
        name = _GUARDED_OPERATORS.get(type(node.op))
        return node if name is None else _located(_call(name, node.left, node.right), node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        """`f"{x:>{w}}"`: the width is only known at run time, so the formatting goes through `_format_`."""
        node = super().visit_FormattedValue(node)
        if node.format_spec is not None:
            node.value = _located(_call("_format_", node.value, ast.Constant(node.conversion), node.format_spec),
                                  node.value)
            node.conversion, node.format_spec = -1, None
        return node


def _int_bits(bits: int) -> None:
    if bits > MAX_COMPUTED_INT_BITS:
        raise ScriptError(said("脚本要算出的整数过大（约 %(bits)s 位二进制，上限 %(MAX_COMPUTED_INT_BITS)s）；"
                          "请检查乘方、乘法、移位或阶乘的数值",
                          bits=format(bits, ','), MAX_COMPUTED_INT_BITS=format(MAX_COMPUTED_INT_BITS, ',')))


def power(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """`**` and `pow()`: the result's size (or, modulo, the work) is estimated from the bit lengths first."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if isinstance(modulus, int):
            _int_bits(exponent.bit_length() * modulus.bit_length())
        else:
            _int_bits(base.bit_length() * exponent)
    return base ** exponent if modulus is None else pow(base, exponent, modulus)


def lshift(value: Any, shift: Any) -> Any:
    if isinstance(value, int) and isinstance(shift, int) and value and shift > 0:
        _int_bits(value.bit_length() + shift)
    return value << shift


def rounded(number: Any, ndigits: Any = None) -> Any:
    """`round(5, -10**9)` computes 10 ** 10**9 on the way: an integer rounded to -n digits costs a power of ten."""
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0:
        _int_bits(-ndigits * 10 // 3)
    return round(number, ndigits)


def total(values: Iterable[Any], start: Any = 0) -> Any:
    """`sum(lists, [])` copies every list into every next one, in C: only numbers and durations are summed."""
    if not isinstance(start, int | float | timedelta):
        raise ScriptError(said("sum() 只能对数值或时长求和；合并列表请用推导式，连接文字请用 ''.join(...)"))
    return sum(values, start)


def _factorial(n: Any) -> Any:
    if isinstance(n, int) and n > 0:
        _int_bits(n * n.bit_length())
    return math.factorial(n)


def _perm(n: Any, k: Any = None) -> Any:
    if isinstance(n, int) and n > 0:
        _int_bits((n if k is None else min(k, n)) * n.bit_length())
    return math.perm(n, k)


def _comb(n: Any, k: Any) -> Any:
    if isinstance(n, int) and isinstance(k, int) and 0 <= k <= n:
        _int_bits(min(k, n - k) * n.bit_length())
    return math.comb(n, k)


def _product(values: Iterable[Any], *, start: Any = 1) -> Any:
    values = list(values)
    _int_bits(sum(v.bit_length() for v in [start, *values] if isinstance(v, int)))
    return math.prod(values, start=start)


def _lcm(*values: Any) -> Any:
    _int_bits(sum(v.bit_length() for v in values if isinstance(v, int)))
    return math.lcm(*values)


MATH = SimpleNamespace(**{**{name: getattr(math, name) for name in dir(math) if not name.startswith("_")},
                          "factorial": _factorial, "perm": _perm, "comb": _comb, "prod": _product, "lcm": _lcm})

_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_DIGITS = re.compile(r"\d+")
_CONVERSIONS: dict[int, Callable[[Any], str]] = {ord("s"): str, ord("r"): repr, ord("a"): ascii}
_PADDING = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_TEXTS = (str, bytes)
_SEQUENCES = (str, bytes, list, tuple)


class Operations:
    """The guarded operations compiled scripts call, for one cap on the length of a text or list."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.augmented = {"+=": self.add, "-=": operator.sub, "*=": self.mul, "/=": operator.truediv,
                          "//=": operator.floordiv, "%=": self.mod, "**=": power}

    def names(self) -> dict[str, Any]:
        """What the compiled code calls (`BoundedTransformer`, RestrictedPython's `_getattr_`/`_inplacevar_`)."""
        return {"_mul_": self.mul, "_pow_": power, "_lshift_": lshift, "_add_": self.add, "_mod_": self.mod,
                "_format_": self.format, "_inplacevar_": self.inplace, "_getattr_": self.getattr}

    def builtins(self) -> dict[str, Any]:
        """The builtins whose result size is set by a number, in their guarded form."""
        return {"range": self.range, "pow": power, "round": rounded, "sum": total, "math": MATH}

    def length(self, length: float) -> None:
        if length > self.max_length:
            raise ScriptError(said("脚本要生成的文字或列表过长（%(length)s 个字符或元素，上限 %(max_length)s）："
                              "这么大的值办件数据放不下；请检查重复（*）、拼接、宽度或 range 的数值",
                              length=format(length, ','), max_length=format(self.max_length, ',')))

    def mul(self, a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int):
            _int_bits(a.bit_length() + b.bit_length())
        elif isinstance(b, int) and isinstance(a, _SEQUENCES):
            self.length(len(a) * b)
        elif isinstance(a, int) and isinstance(b, _SEQUENCES):
            self.length(len(b) * a)
        return a * b

    def add(self, a: Any, b: Any) -> Any:
        """Concatenation doubles a text in one line (`s = s + s`); numbers pass straight through."""
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self.length(len(a) + len(b))
        return a + b

    def mod(self, a: Any, b: Any) -> Any:
        """`'%0999999999d' % 1`: each field's width and precision are checked before formatting."""
        if isinstance(a, _TEXTS):
            text = a if isinstance(a, str) else a.decode("latin-1")
            for field in _PERCENT_FIELD.finditer(text):
                numbers = [number for number in field.group(1, 2) if number]
                if "*" in numbers:
                    raise ScriptError(said("% 格式中不能用 * 指定宽度或精度；请直接写出数字"))
                self.widths(*numbers)
        return a % b

    def format(self, value: Any, conversion: int, spec: str) -> str:
        """An f-string field with a format spec (`f"{x!r:>10}"`)."""
        if conversion in _CONVERSIONS:
            value = _CONVERSIONS[conversion](value)
        self.widths(*_DIGITS.findall(spec))
        return format(value, spec)

    def widths(self, *numbers: str) -> None:
        for number in numbers:
            self.length(int(number) if len(number) <= 18 else math.inf)

    def range(self, *args: Any) -> range:
        span = range(*args)
        try:
            self.length(len(span))
        except OverflowError:
            self.length(math.inf)
        return span

    def inplace(self, op: str, target: Any, value: Any) -> Any:
        """`x += 1` compiles to `x = _inplacevar_("+=", x, 1)`: arithmetic only, no in-place mutation."""
        operation = self.augmented.get(op)
        if operation is None:
            raise ScriptError(said("不支持的复合赋值 %(op)s；请写成 x = x ... y 的形式", op=op))
        return operation(target, value)

    def getattr(self, obj: Any, name: str, default: Any = None) -> Any:
        """RestrictedPython's attribute guard, and the text methods whose width argument sets their size."""
        attribute = safer_getattr(obj, name, default)
        if name in _PADDING and (isinstance(obj, _TEXTS) or obj is str or obj is bytes):
            return functools.partial(self._padded, attribute, isinstance(obj, _TEXTS))
        return attribute

    def _padded(self, method: Callable[..., Any], bound: bool, *args: Any, **kwargs: Any) -> Any:
        text, rest = (method.__self__, args) if bound else (args[0] if args else None, args[1:])
        width = rest[0] if rest else kwargs.get("tabsize", 8)  # only expandtabs has a default (and a keyword)
        if isinstance(width, int) and isinstance(text, _TEXTS):
            if method.__name__ == "expandtabs":
                self.length(len(text) + text.count("\t" if isinstance(text, str) else b"\t") * width)
            else:
                self.length(width)
        return method(*args, **kwargs)
