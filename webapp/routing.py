"""URL rules that write their URL-building code when a URL is first built, not when the app is made.

Werkzeug generates and compiles two small Python functions per rule as the rule is added (the builders
`url_for` calls), whether or not anything ever builds that URL. With ~130 rules that was nine tenths of
`create_app` (76 of 85 ms here): paid by every gunicorn worker and CLI command that makes an app, and by each of
the several hundred tests that make one (issue 18, item 6). A rule of this class hands Werkzeug a builder
that compiles Werkzeug's own on its first call and keeps it, so what gets built, and how, is unchanged
(tests/test_url_rules.py builds every endpoint both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

Builder = Callable[..., tuple[str, str]]


class LazyBuilderRule(Rule):
    """A Werkzeug `Rule` whose builders are compiled on first use (each at most once per `compile()`)."""

    def _compile_builder(self, append_unknown: bool = True) -> Builder:
        compiled: Builder | None = None

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:  # two threads may both compile: the same function, either one is kept
                compiled = Rule._compile_builder(rule, append_unknown)
            return compiled(rule, **values)

        return build
