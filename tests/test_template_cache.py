"""Templates are compiled once per process, not once per app (webapp/extensions.py `_CompiledTemplates`):
the command line and the suite make many apps, and each used to compile every page it rendered anew."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from webapp import create_app
from webapp.extensions import _CompiledTemplates


def _app(db):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db.url}, db=db)


def test_a_second_app_renders_a_page_without_compiling_its_template(db, monkeypatch):
    assert _app(db).test_client().get("/login").status_code == 200
    second = _app(db)

    def compile_again(*args, **kwargs):
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(second.jinja_env, "compile", compile_again)
    page = second.test_client().get("/login")
    assert page.status_code == 200 and "登录" in page.get_data(as_text=True)


def test_a_changed_template_is_compiled_anew():
    """The cache is keyed by the template's name and its source's checksum: an edit is never served stale."""
    cache = _CompiledTemplates()
    first = Environment(loader=DictLoader({"page.html": "第一版"}), bytecode_cache=cache)
    assert first.get_template("page.html").render() == "第一版"
    edited = Environment(loader=DictLoader({"page.html": "第二版"}), bytecode_cache=cache)
    assert edited.get_template("page.html").render() == "第二版"
    again = Environment(loader=DictLoader({"page.html": "第二版"}), bytecode_cache=cache)
    again.compile = None  # the same source: served from the cache, compiling would fail
    assert again.get_template("page.html").render() == "第二版"
