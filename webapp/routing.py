"""URL rules that write their URL-building code when a URL is first built, once per process, not once per app.

Werkzeug generates and compiles two small Python functions per rule as the rule is added (the builders
`url_for` calls), whether or not anything ever builds that URL. With ~130 rules that was nine tenths of
`create_app` (76 of 85 ms here): paid by every gunicorn worker and CLI command that makes an app, and by each of
the several hundred tests that make one (issue 18, item 6). A rule of this class hands Werkzeug a builder that
compiles Werkzeug's own on its first call, and keeps it for every app of the process: a builder is a function
of the rule's parsed parts and of which way it builds (with or without unknown values as a query string); the
values and their converters reach it at call time through the rule it is called on. What gets built, and how,
is unchanged (tests/test_url_rules.py builds every endpoint both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]

# (rule, its parsed parts, append_unknown) → Werkzeug's builder. One entry per rule and way: the app's rules are
# fixed in the code, so this holds a few hundred functions at most.
_COMPILED: dict[tuple[str, tuple[tuple[bool, str], ...], bool], Builder] = {}


class LazyBuilderRule(Rule):
    """A Werkzeug `Rule` whose builders are compiled on first use and shared by the process's apps."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        if self.defaults:  # a default folded into the code by its converter: compiled here, as Werkzeug does
            return Rule._compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            compiled = _COMPILED.get(key)
            if compiled is None:  # two threads may both compile: the same function, either one is kept
                compiled = _COMPILED.setdefault(key, Rule._compile_builder(rule, append_unknown))
            return compiled(rule, **values)

        return build
