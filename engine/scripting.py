"""The restricted evaluator for gateway conditions, scripts and timer expressions in diagrams.

SpiffWorkflow's default environment is plain `eval`/`exec`: anything in a diagram could import
`subprocess`. Here every expression and script is compiled by RestrictedPython (`compile_restricted`)
and run with its guards: names and attributes starting with `_` are refused at compile time,
`import` does not exist, and only a whitelist of builtins is present.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from RestrictedPython import compile_restricted, limited_builtins, safe_builtins, utility_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ScriptError

_BUILTINS: dict[str, Any] = {
    **safe_builtins,
    **limited_builtins,
    "math": utility_builtins["math"],
    "dict": dict, "list": list, "set": set, "frozenset": frozenset, "sum": sum, "min": min, "max": max,
    "any": any, "all": all, "enumerate": enumerate, "sorted": sorted, "reversed": reversed, "map": map,
    "filter": filter, "zip": zip, "len": len, "round": round, "abs": abs,
}
# No randomness (a case must re-execute to the same outcome), no attribute writes by name.
for _name in ("__import__", "setattr", "delattr", "random", "string"):
    _BUILTINS.pop(_name, None)

_INPLACE = {"+=": operator.add, "-=": operator.sub, "*=": operator.mul, "/=": operator.truediv,
            "//=": operator.floordiv, "%=": operator.mod, "**=": operator.pow}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    """`x += 1` compiles to `x = _inplacevar_("+=", x, 1)`: arithmetic only, no in-place mutation."""
    if op not in _INPLACE:
        raise ScriptError(f"不支持的复合赋值 {op}；请写成 x = x ... y 的形式")
    return _INPLACE[op](target, value)


_GUARDS: dict[str, Any] = {
    "__builtins__": _BUILTINS,
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
}


@functools.lru_cache(maxsize=4096)
def compile_expression(expression: str):
    """Compile a condition or timer expression; refused constructs raise `ScriptError`."""
    return _compile(expression, "eval")


@functools.lru_cache(maxsize=1024)
def compile_script(script: str):
    """Compile a script task's body; refused constructs raise `ScriptError`."""
    return _compile(script, "exec")


def _compile(source: str, mode: str):
    """Refuse what can only fail at run time (import, print) here, so lint reports it before deploy."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptError(f"语法错误（syntax error）：第 {exc.lineno} 行 {exc.msg}") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(f"第 {node.lineno} 行：流程图中的脚本不能使用 import（no imports）")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            raise ScriptError(f"第 {node.lineno} 行：流程图中的脚本不能使用 print；把结果赋给一个变量")
    try:
        return compile_restricted(source, filename="<diagram>", mode=mode)
    except SyntaxError as exc:
        reasons = exc.msg if isinstance(exc.msg, tuple) else (exc.msg,)
        reason = "; ".join(map(str, reasons))
        raise ScriptError(f"受限求值器拒绝（refused by the restricted evaluator）：{reason}") from exc


MAX_INT_BITS = 13_000  # about 3,900 decimal digits: below Python's 4,300-digit limit on int → str
MAX_NESTING = 64


def storable(value: Any, depth: int = 0) -> Any:
    """`value` as the case data will hold it once stored, or `ScriptError` saying why it cannot be.

    A case's data must read back the same in a fresh process (the state is JSON): only JSON's kinds,
    plus the times and ids SpiffWorkflow's serializer knows. A tuple becomes the list it would come back
    as; a set, a range, a generator, a complex number, an exception, a huge integer or a NaN would
    either fail to save or come back as something else, so a script may not leave one.
    """
    if depth > MAX_NESTING:
        raise ScriptError(f"数据嵌套超过 {MAX_NESTING} 层，无法保存")
    if value is None or isinstance(value, bool | str | datetime | timedelta | UUID):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise ScriptError("整数过大（超过约 3900 位），无法保存")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ScriptError("数值不是有限数（NaN 或无穷大），无法保存")
        return value
    if isinstance(value, list | tuple):
        return [storable(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ScriptError("字典的键必须是文字（str），否则保存后会变样")
        return {key: storable(item, depth + 1) for key, item in value.items()}
    raise ScriptError(f"{type(value).__name__} 类型的值不能保存在办件数据中；请转换为列表、数值或文字")


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates in a fresh namespace built from the task data plus the guards, never the real builtins.

    `functions` are the platform's own helpers offered to diagrams (e.g. `workdays`); like the guards
    they come last, so task data cannot shadow them.
    """

    def __init__(self, functions: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.fixed = {**(functions or {}), **_GUARDS}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        namespace = {**(external_context or {}), **context, **self.fixed}
        return eval(compile_expression(expression), namespace)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        namespace = {**(external_context or {}), **context, **self.fixed}
        exec(compile_script(script), namespace)
        for name, value in namespace.items():
            if name in self.fixed or (external_context and name in external_context) or callable(value):
                continue
            try:
                context[name] = storable(value)
            except ScriptError as exc:
                raise ScriptError(f"脚本给变量 {name} 留下的值无法保存：{exc.message}") from exc
        for name in [n for n in context if n not in namespace]:
            del context[name]
        return True

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise ScriptError("onewindow 的流程图中不能使用服务任务（service task）")


def make_script_engine(functions: dict[str, Any] | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment(functions))
