"""URL rules compile their builders when first used (webapp/routing.py), and build exactly what Werkzeug's own do.

The app's rules are made with `LazyBuilderRule` so that making an app does not generate and compile ~260 builder
functions (issue 18, item 6: most of `create_app`, paid by each of several hundred tests and every worker).
"""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter, Map, PathConverter, Rule

import webapp
from webapp import routing
from webapp.routing import LazyBuilderRule

SAMPLES = {IntegerConverter: 7, PathConverter: "文件/a b&c.pdf"}
TEXT_SAMPLE = "办件 20261205/x?y#z"


def _built(app, rule: Rule, extra: dict) -> tuple[str, str]:
    values = {name: SAMPLES.get(type(converter), TEXT_SAMPLE) for name, converter in rule._converters.items()}
    adapter = app.url_map.bind("onewindow.test", url_scheme="https")
    return adapter.build(rule.endpoint, {**values, **extra}, method=sorted(rule.methods or {"GET"})[0],
                         force_external=True), rule.rule


@pytest.fixture
def apps(db, monkeypatch):
    lazy = webapp.create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": db.url}, db=db)
    monkeypatch.setattr(webapp, "LazyBuilderRule", Rule)
    eager = webapp.create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": db.url}, db=db)
    return lazy, eager


def test_every_rule_builds_the_same_url_as_werkzeugs_own(apps):
    lazy, eager = apps
    lazy_rules = [r for r in lazy.url_map.iter_rules() if r.endpoint != "static"]
    assert len(lazy_rules) > 100 and all(isinstance(r, LazyBuilderRule) for r in lazy_rules)
    assert not any(isinstance(r, LazyBuilderRule) for r in eager.url_map.iter_rules())
    eager_rules = {(r.endpoint, r.rule): r for r in eager.url_map.iter_rules()}
    for rule in lazy_rules:
        twin = eager_rules[(rule.endpoint, rule.rule)]
        for extra in ({}, {"q": "一 &=", "page": 2}):  # without, then with values the rule does not take
            assert _built(lazy, rule, extra) == _built(eager, twin, extra), (rule.rule, extra)


def test_making_an_app_compiles_no_builder_and_a_url_is_compiled_once_for_every_app(db, monkeypatch):
    compiled: list[str] = []
    werkzeugs = Rule._compile_builder

    def counting(rule: Rule, append_unknown: bool = True):
        compiled.append(rule.rule)
        return werkzeugs(rule, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    monkeypatch.setattr(routing, "_COMPILED", {})  # nothing an earlier test of this process built
    config = {"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": db.url}
    first_app, second_app = webapp.create_app(config, db=db), webapp.create_app(config, db=db)
    assert set(compiled) <= {"/static/<path:filename>"}, compiled  # Flask adds its static rule before ours are in use
    compiled.clear()
    with first_app.test_request_context():
        assert url_for("desk.tasks") == "/desk" and compiled == ["/desk"]
        assert url_for("desk.tasks") == "/desk" and url_for("desk.tasks", q="x") == "/desk?q=x"
    with second_app.test_request_context():
        assert url_for("desk.tasks", q="y") == "/desk?q=y" and url_for("cases.case", case_no="2026") \
            == "/cases/2026"
    assert compiled == ["/desk", "/cases/<case_no>"]  # the second app reused the first app's /desk


def test_a_rule_with_a_default_builds_as_werkzeugs_own():
    def urls(rule_class) -> list[str]:
        adapter = Map([rule_class("/page/<int:n>", endpoint="page", defaults={"n": 1}),
                       rule_class("/page/<int:n>/<word>", endpoint="page")]).bind("onewindow.test")
        return [adapter.build("page", values) for values in ({}, {"n": 1}, {"n": 3, "word": "一"}, {"q": "x"})]

    assert urls(LazyBuilderRule) == urls(Rule) == ["/page/1", "/page/1", "/page/3/%E4%B8%80", "/page/1?q=x"]
