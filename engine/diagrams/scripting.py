"""The restricted evaluator for gateway conditions, scripts and timer expressions in diagrams.

SpiffWorkflow's default environment is plain `eval`/`exec`: anything in a diagram could import
`subprocess`. Here every expression and script is compiled by RestrictedPython (`compile_restricted`)
and run with its guards: names and attributes starting with `_` are refused at compile time,
`import` does not exist, and only a whitelist of builtins is present. Each run is bounded in time and
size (`engine.diagrams.script_bounds`): a diagram runs inside its case's transaction, and must not hold it.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from types import CodeType
from typing import Any
from uuid import UUID

from RestrictedPython import compile_restricted, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.diagrams.script_bounds import BoundedTransformer, Budget, Operations, ScriptLimits
from engine.errors import ScriptError
from engine.messages import said

_BUILTINS: dict[str, Any] = {  # `math`, `pow`, `range`, `round` and `sum` come bounded (`Operations.builtins`)
    **safe_builtins,
    **limited_builtins,
    "dict": dict, "list": list, "set": set, "frozenset": frozenset, "min": min, "max": max,
    "any": any, "all": all, "enumerate": enumerate, "sorted": sorted, "reversed": reversed, "map": map,
    "filter": filter, "zip": zip, "len": len, "abs": abs,
}
# No randomness (a case must re-execute to the same outcome), no attribute writes by name, and no
# exception that passes SpiffWorkflow's `except Exception` to stop the worker or the scheduler.
for _name in ("__import__", "setattr", "delattr", "random", "string",
              "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"):
    _BUILTINS.pop(_name, None)

_GUARDS: dict[str, Any] = {
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_write_": full_write_guard,
}


@functools.lru_cache(maxsize=4096)
def compile_expression(expression: str):
    """Compile a condition or timer expression; refused constructs raise `ScriptError`."""
    return _compile(expression, "eval")


@functools.lru_cache(maxsize=1024)
def compile_script(script: str):
    """Compile a script task's body; refused constructs raise `ScriptError`."""
    return _compile(script, "exec")


def _compile(source: str, mode: str) -> CodeType:
    """Refuse what can only fail at run time (import, print) here, so lint reports it before deploy."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise ScriptError(said("语法错误（syntax error）：第 %(lineno)s 行 %(msg)s",
                               lineno=exc.lineno, msg=exc.msg)) from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptError(said("第 %(lineno)s 行：流程图中的脚本不能使用 import（no imports）", lineno=node.lineno))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            raise ScriptError(said("第 %(lineno)s 行：流程图中的脚本不能使用 print；把结果赋给一个变量",
                                   lineno=node.lineno))
    try:
        return compile_restricted(tree, filename="<diagram>", mode=mode, policy=BoundedTransformer)
    except SyntaxError as exc:
        reasons = exc.msg if isinstance(exc.msg, tuple) else (exc.msg,)
        reason = "; ".join(map(str, reasons))
        raise ScriptError(said("受限求值器拒绝（refused by the restricted evaluator）：%(reason)s",
                               reason=reason)) from exc


MAX_INT_BITS = 13_000  # about 3,900 decimal digits: below Python's 4,300-digit limit on int → str
MAX_NESTING = 64


class CaseData:
    """The values a script leaves, converted as the case data will hold them, and the size they come to.

    A case's data must read back the same in a fresh process (the state is JSON): only JSON's kinds,
    plus the times and ids SpiffWorkflow's serializer knows. A tuple becomes the list it would come back
    as; a set, a range, a generator, a complex number, an exception, a huge integer or a NaN would
    either fail to save or come back as something else, so a script may not leave one.

    Every task of a case carries its own copy of the data, so data of tens of megabytes becomes a state
    of hundreds. The size — roughly the stored JSON's, a Chinese character counted as 3 bytes — is added
    up while converting, so a list holding one big text a million times is refused once the cap is
    passed, not after a million copies. Converting is part of the script's run: `tick` is its budget's.
    """

    def __init__(self, limit: int, tick: Callable[[], bool]) -> None:
        self.limit = limit
        self.tick = tick
        self.size = 0

    def storable(self, value: Any, depth: int = 0) -> Any:
        """`value` as the case data will hold it once stored, or `ScriptError` saying why it cannot be."""
        if depth > MAX_NESTING:
            raise ScriptError(said("数据嵌套超过 %(max_nesting)s 层，无法保存", max_nesting=MAX_NESTING))
        if isinstance(value, str):
            self.grow((len(value) if value.isascii() else 3 * len(value)) + 2)
            return value
        if value is None or isinstance(value, bool):
            self.grow(5)
            return value
        if isinstance(value, datetime | timedelta | UUID):
            self.grow(64)  # SpiffWorkflow stores them as {"typename": …, "value": …}
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise ScriptError(said("整数过大（超过约 3900 位），无法保存"))
            self.grow(value.bit_length() // 3 + 1)
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ScriptError(said("数值不是有限数（NaN 或无穷大），无法保存"))
            self.grow(24)
            return value
        if isinstance(value, list | tuple):
            self.tick()
            self.grow(len(value) + 2)
            return [self.storable(item, depth + 1) for item in value]
        if isinstance(value, dict):
            self.tick()
            if not all(isinstance(key, str) for key in value):
                raise ScriptError(said("字典的键必须是文字（str），否则保存后会变样"))
            return {self.storable(key, depth + 1): self.storable(item, depth + 1) for key, item in value.items()}
        raise ScriptError(said("%(__name__)s 类型的值不能保存在办件数据中；请转换为列表、数值或文字",
                               __name__=type(value).__name__))

    def grow(self, size: int) -> None:
        self.size += size
        if self.size > self.limit:
            raise ScriptError(said("办件数据超过上限 %(limit)s 字节（由 ONEWINDOW_CASE_DATA_BYTES 设定）；"
                              "请只保留需要的数据，大的中间结果用 del 删去", limit=format(self.limit, ',')))


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates in a fresh namespace built from the task data plus the guards, never the real builtins.

    `functions` are the platform's own helpers offered to diagrams (e.g. `workdays`); like the guards
    they come last, so task data cannot shadow them. `limits` default to the installation's (from the
    environment, read once when the engine is made).
    """

    def __init__(self, functions: dict[str, Any] | None = None, limits: ScriptLimits | None = None) -> None:
        super().__init__()
        self.limits = limits or ScriptLimits.from_environment()
        operations = Operations(self.limits.data_bytes)
        self.fixed = {**(functions or {}), **_GUARDS, **operations.names(),
                      "__builtins__": {**_BUILTINS, **operations.builtins()}}

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        budget = Budget(self.limits)
        return self._run(compile_expression(expression), self._namespace(context, external_context, budget), budget)

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        budget = Budget(self.limits)
        namespace = self._namespace(context, external_context, budget)
        self._run(compile_script(script), namespace, budget)
        data = CaseData(self.limits.data_bytes, budget.ticker())
        for name, value in namespace.items():
            if name in self.fixed or (external_context and name in external_context) or callable(value):
                continue
            try:
                context[name] = data.storable(value)
                data.grow(len(name) + 4)
            except ScriptError as exc:
                raise ScriptError(said("脚本给变量 %(name)s 留下的值无法保存：%(message)s",
                                       name=name, message=exc.message)) from exc
        for name in [n for n in context if n not in namespace]:
            del context[name]
        return True

    def _namespace(self, context: dict, external_context: dict | None, budget: Budget) -> dict[str, Any]:
        return {**(external_context or {}), **context, **self.fixed, "_tick_": budget.ticker()}

    @staticmethod
    def _run(code: CodeType, namespace: dict[str, Any], budget: Budget) -> Any:
        """Run `code` within `budget`; a script that caught its stop is stopped all the same."""
        try:
            result = eval(code, namespace)  # exec-mode code too: it runs, and the result is None
        except RecursionError as exc:
            raise ScriptError(said("脚本递归过深（函数调用自身的层数太多）；请改用循环，或检查递归的结束条件")) from exc
        except MemoryError as exc:
            raise ScriptError(said("脚本运行时内存不足；请不要在脚本中构造大量数据")) from exc
        except Exception:
            budget.check()
            raise
        budget.check()
        return result

    def call_service(self, context: dict, **kwargs: Any) -> Any:
        raise ScriptError(said("onewindow 的流程图中不能使用服务任务（service task）"))


def make_script_engine(functions: dict[str, Any] | None = None, limits: ScriptLimits | None = None
                       ) -> PythonScriptEngine:
    return PythonScriptEngine(environment=RestrictedEnvironment(functions, limits))
