"""The English UI (issue 16, item 11): every text a person reads has an English translation.

(a) every message extracted from the sources now — by babel, in this process, with the project's
    babel.cfg, so a new `_("…")` without an English entry fails here — is translated in the English
    catalogue, not fuzzy, with the same placeholders and no Chinese left in it;
(b) no template shows Chinese outside `_()` (tools/untranslated.py finds it; notices are exempt, each
    exemption with its reason);
(c) the key pages rendered with `?lang=en` hold no Chinese but the district's own data (item names,
    departments, groups, people);
(d) the committed .mo says what the .po says; and the language switch keeps the page and stays on the site.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import csrf, deploy, log_in, make_actor

from engine.desk import casework
from engine.org import orgtree
from engine.reads import queries

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "webapp"
CATALOGUE = WEBAPP / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

_spec = importlib.util.spec_from_file_location("untranslated", ROOT / "tools" / "untranslated.py")
untranslated = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(untranslated)
CJK = untranslated.CJK

# Templates whose owners are still wrapping their Chinese in `_()` (issue 16, item 3). Strict: once a
# file is clean, its entry must go, so the list only shrinks.
PENDING: dict[str, str] = {}


def _extracted() -> dict[str | tuple[str, str], list[str]]:
    """Every message id in the web app's and the engine's sources (with its context, if it has one: `said_in`),
    with where it is, as `make translations` extracts them (`-k _l -k said -k said_in:1c,2 -k to_say`:
    `lazy_gettext as _l` in web tables, `engine.messages` in engine/)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str | tuple[str, str], list[str]] = {}
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "said": None, "said_in": ((1, "c"), 2), "to_say": None}
    for folder in ("webapp", "engine"):
        for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT / folder), method_map,
                                                                             options_map, keywords=keywords):
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault((context, msgid) if context else msgid, []).append(f"{folder}/{filename}:{lineno}")
    return found


def _english() -> dict[str | tuple[str, str], object]:
    with open(CATALOGUE / "messages.po", "rb") as po:
        return {(m.context, m.id) if m.context else m.id: m for m in read_po(po) if m.id}


def test_extraction_finds_the_web_apps_messages_and_leaves_notices_out():
    found = _extracted()
    assert "办事大厅" in found and "请先登录。" in found  # a template's and a module's (`N_`)
    assert "办件 %(case_no)s 不存在；请核对办件编号。" in found  # the engine's (`said`)
    assert ("action", "转办") in found and "转办" in found  # the verb in a sentence, and the button
    assert len(found) > 500
    assert not any("notices/" in where for places in found.values() for where in places)


def test_every_extracted_message_has_an_english_translation():
    english = _english()
    problems = []
    for msgid, places in sorted(_extracted().items(), key=str):
        entry = english.get(msgid)
        if entry is None or not str(entry.string).strip():
            problems.append(f"untranslated: {msgid!r} ({places[0]})")
        elif entry.fuzzy:
            problems.append(f"fuzzy (check, then drop the flag): {msgid!r} ({places[0]})")
        elif sorted(PLACEHOLDER.findall(entry.id)) != sorted(PLACEHOLDER.findall(entry.string)):
            problems.append(f"placeholders differ: {msgid!r} -> {entry.string!r}")
        elif CJK.search(entry.string):
            problems.append(f"Chinese left in the English: {msgid!r} -> {entry.string!r}")
    assert problems == [], "run `make translations` and translate in webapp/translations/en/…/messages.po:\n" + \
        "\n".join(problems)


def test_the_compiled_catalogue_says_what_the_po_says():
    """The .mo is committed (docs/architecture.md, "The English UI"); after editing the .po, `make translations`."""
    with open(CATALOGUE / "messages.mo", "rb") as mo:
        compiled = {(m.context, m.id) if m.context else m.id: m.string for m in read_mo(mo) if m.id}
    wanted = {msgid: m.string for msgid, m in _english().items() if m.string and not m.fuzzy}
    assert compiled == wanted, "the .mo is stale: run `make translations` (or `pybabel compile -d webapp/translations`)"


def _template_params():
    for path in sorted(untranslated.TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(untranslated.TEMPLATES))
        if untranslated.exempt(path):
            continue
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[name])] if name in PENDING else []
        yield pytest.param(path, id=name, marks=marks)


@pytest.mark.parametrize("template", list(_template_params()))
def test_no_template_shows_chinese_outside_gettext(template):
    assert untranslated.template_findings(template) == []


# Web modules whose Chinese stays Chinese on purpose, each with why (docs/architecture.md §11a)…
MODULES_EXEMPT = {
    "api.py": "the JSON API answers in Chinese: a bearer token has no session and so no language",
    "openapi.py": "the API's description documents answers that are Chinese; it is JSON for tools, not a page",
    "notices.py": "notices are legal documents issued in Chinese; they stay Chinese in both UIs",
    "sessions.py": "an operator's configuration error raised at start-up, like the command line's messages",
}
# … single texts, each with why …
TEXTS_EXEMPT = {
    ("extensions.py", "'中文'"): "the switch names Chinese in Chinese, so a reader of it recognises it",
    ("admin.py", "'管理员 '"): "the reason written into the token's record, which keeps the words it was said in",
    ("admin.py", "' 吊销'"): "the reason written into the token's record, which keeps the words it was said in",
    **{("studio.py", text): "a material's form as item.json records it (the guide's data); the page shows its _l label"
       for text in ("'原件'", "'复印件'", "'原件及复印件'", "'电子件'")},
    ("studio.py", "'新表单'"): "the title written into a new form file: the item's own data, as in the forms",
}
# … and the modules another helper is still wrapping (strict: the entry goes once the module is clean).
MODULES_PENDING: dict[str, str] = {}


def _module_params():
    for path in sorted(untranslated.WEB_MODULES.glob("*.py")):
        if path.name not in MODULES_EXEMPT:
            marks = [pytest.mark.xfail(strict=True, reason=MODULES_PENDING[path.name])] \
                if path.name in MODULES_PENDING else []
            yield pytest.param(path, id=path.name, marks=marks)


@pytest.mark.parametrize("module", list(_module_params()))
def test_no_web_module_shows_chinese_outside_gettext(module):
    """Flashes, refusals, labels and tables in webapp/*.py reach the catalogue (`_()` at request time, `_l()`
    for module-level tables); what is left is exempt above, each with its reason."""
    found = [(line, text) for line, text in untranslated.python_findings(module)
             if (module.name, text) not in TEXTS_EXEMPT]
    assert found == []


def test_only_notices_and_the_brand_mark_are_exempt_and_each_exemption_says_why():
    assert set(untranslated.EXEMPT) == {"notices"}
    assert set(untranslated.EXEMPT_TEXT) == {("base.html", "一窗")}
    assert all(len(why) > 20 for why in [*untranslated.EXEMPT.values(), *untranslated.EXEMPT_TEXT.values()])
    assert set(PENDING) <= {str(p.relative_to(untranslated.TEMPLATES)) for p in untranslated.TEMPLATES.rglob("*.html")}
    assert all(len(why) > 20 for why in [*MODULES_EXEMPT.values(), *TEXTS_EXEMPT.values(), *MODULES_PENDING.values()])
    assert set(MODULES_EXEMPT) | set(MODULES_PENDING) | {m for m, _text in TEXTS_EXEMPT} <= \
        {p.name for p in untranslated.WEB_MODULES.glob("*.py")}


def test_the_finder_catches_what_it_should_and_only_that(tmp_path):
    """The hostile version of (b): Chinese hidden in an attribute, an `or` default and a `set`."""
    page = tmp_path / "page.html"
    page.write_text('{# 注释 #}<p title="标题">{{ x or "无" }}</p>{% set t = "名称" %}\n'
                    '{% if a == "受理" %}{{ _("好") }}{% endif %}<!-- 注 --><input value="同意">'
                    '{{ _("a %(n)s", n="不") }}')
    found = sorted(text for _, text in untranslated.template_findings(page))
    assert found == ["'不'", "'名称'", "'无'", 'p title="标题"']
    module = tmp_path / "mod.py"
    module.write_text('"""文档。"""\nfrom flask import flash\nflash(f"已保存 {x}")\nflash(_("好"))\nN_("标记")\n'
                      'T = {"听证": _l("听证"), "检验": "检验"}\n')
    assert [text for _, text in untranslated.python_findings(module)] == ["'已保存 '", "'检验'", "'检验'"]


# --- (c) pages in English ------------------------------------------------------------------------

def _data_words(db) -> set[str]:
    """The district's own words a page may show in Chinese in any UI: items, their steps, departments, units."""
    words = set(queries.unit_names(db).values()) | {task.name for task in queries.open_tasks(db)}
    for item in queries.list_items(db):
        words.update((item["name"], item["department"]))
    return {w for w in words if w}


def _chinese_left(page: str, allowed: set[str]) -> list[str]:
    """The Chinese on `page` once data, the brand mark (a logo), the switch's 中文 and form values (`value="…"`,
    what a form sends back to the engine; the person reads the label beside it) are taken out, in context."""
    page = re.sub(r'<span class="brand-mark"[^>]*>[^<]*</span>|<a [^>]*id="lang-switch"[^>]*>[^<]*</a>', "", page)
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.DOTALL)
    page = untranslated.VALUE_ATTRIBUTE.sub("", page)  # what a form sends back (a radio's 同意), as the finder does
    text = html.unescape(page)
    for word in sorted(allowed, key=len, reverse=True):
        text = text.replace(word, "")
    return sorted({re.sub(r"\s+", " ", text[max(m.start() - 30, 0): m.end() + 30]) for m in CJK.finditer(text)})


@pytest.fixture
def english_client(client):
    assert client.get("/login?lang=en").status_code == 200
    return client


def test_the_login_page_is_english(english_client):
    page = english_client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    assert _chinese_left(page, set()) == []


def test_the_register_page_is_english(english_client):
    page = english_client.get("/register").get_data(as_text=True)
    assert "Applicant registration" in page
    assert _chinese_left(page, set()) == []


def test_the_hall_is_english_but_for_the_items(english_client, db):
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-001")
    page = english_client.get("/hall").get_data(as_text=True)
    assert "Service hall" in page and "MZ-001" in page
    item = json.loads((ROOT / "processes" / "catalogue" / "minzheng" / "MZ-001" / "item.json").read_text())
    assert _chinese_left(page, {*_data_words(db), *item["life_events"]}) == []


def log_in_english(client, username: str) -> None:
    """Log in from the English login page, as a person who chose English first (the session keeps the language
    across the login, webapp/sessions.py), so the welcome flash is English too."""
    with client.session_transaction() as session:
        session.clear()
    assert '<html lang="en">' in client.get("/login?lang=en").get_data(as_text=True)
    client.post("/login", data={"username": username, "password": "secret-pw", "csrf_token": csrf(client)})


def test_a_clerks_desk_list_is_english_but_for_cases_and_groups(client, db, joint):
    """Logged in from the English login page: the welcome flash, the tabs, statuses, warning levels and sort
    orders in English; the case's applicant, the item, its steps and the clerk's groups are data."""
    clerk = make_actor(db, "clerk", ["受理窗口", "住建审查"])
    casework.start_case(db, "DEMO-001", {"applicant_name": "张三"}, clerk)
    log_in_english(client, "clerk")
    page = client.get("/desk").get_data(as_text=True)
    assert "My tasks" in page and 'lang="en"' in page and "Welcome, clerk." in page
    assert ">Claimed by others</a>" in page and ">Committed deadline (soonest first)</option>" in page
    assert _chinese_left(page, {"张三", "受理窗口", "住建审查", *_data_words(db)}) == []


# --- the switch ----------------------------------------------------------------------------------

def test_the_switch_keeps_the_page_and_the_query_and_the_choice_lasts(client):
    page = client.get("/hall?q=%E4%BD%8F%E6%89%80&level=town").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    link = html.unescape(re.search(r'id="lang-switch" href="([^"]+)"', page).group(1))
    assert link.startswith("/hall?") and "lang=en" in link and "level=town" in link and "q=%E4%BD%8F%E6%89%80" in link
    english = client.get(link).get_data(as_text=True)
    assert '<html lang="en">' in english and ">中文</a>" in english
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)  # remembered in the session
    back = html.unescape(re.search(r'id="lang-switch" href="([^"]+)"', english).group(1))
    assert "lang=zh" in back and "lang=en" not in back
    assert '<html lang="zh-CN">' in client.get(back).get_data(as_text=True)


@pytest.mark.parametrize("path", ["//evil.example/login", "/login?lang=en&next=//evil.example",
                                  "/login?lang=fr", "/login?lang=<script>"])
def test_the_switch_never_leads_off_the_site_nor_takes_a_language_it_has_not(client, path):
    response = client.get(path)
    page = response.get_data(as_text=True)
    if response.status_code == 200 or 'id="lang-switch"' in page:
        link = html.unescape(re.search(r'id="lang-switch" href="([^"]+)"', page).group(1))
        assert link.startswith("/") and not link.startswith("//"), link
        assert "<script>" not in page.split('id="lang-switch"')[1][:300]
    with client.session_transaction() as session:
        assert session.get("lang") in (None, "zh", "en")


def test_a_notice_stays_chinese_in_the_english_ui(app):
    from webapp import notices

    notice = {"receipt_no": "N-1", "kind": "acceptance", "organ_name": "区民政局",
              "content": {"title": "受理通知书", "applicant": "张三", "body": ["经审查，予以受理。"],
                          "case_no": "1", "item": "事项", "date": "2026年1月5日", "legal_basis": ["某法"]}}
    with app.test_request_context("/hall/notices/N-1?lang=en"):
        from flask import session

        session["lang"] = "en"
        page = notices.page(notice, pdf_url="/x.pdf", back_url="/back")
    assert "返回办件" in page and "依据：" in page and "Print" not in page


# --- messages from Python, in English --------------------------------------------------------------

def test_the_calendar_speaks_english_in_its_grid_flashes_and_refusals(client, db):
    """An administrator's day in English: weekday headers, the flash after a change, the refusals of
    absurd input — a month that is no month, a day that is no day — name the input in English."""
    make_actor(db, "chief", [], ["admin"])
    log_in(client, "chief")
    page = client.get("/admin/calendar?month=2026-10&lang=en").get_data(as_text=True)
    assert all(f'<th scope="col">{day}</th>' in page for day in ("Mon", "Wed", "Sun"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/admin/calendar/overrides", data={"day": "2026-10-08", "working": "0", "reason": "搬迁",
                                                   "csrf_token": token})
    assert "2026-10-08 is now a day off." in client.get("/admin/calendar?month=2026-10").get_data(as_text=True)
    refused = client.post("/admin/calendar/overrides", data={"day": "../../etc", "working": "2", "reason": "x",
                                                             "csrf_token": token})
    assert refused.status_code == 400 and "Please choose the day to adjust" in refused.get_data(as_text=True)
    absurd = client.get("/admin/calendar?month=9999-99%3Cb%3E").get_data(as_text=True)
    assert 'The month "9999-99<b>" is not valid' in html.unescape(absurd) and "9999-99<b>" not in absurd
    client.get("/admin/calendar?lang=zh")
    assert "<th scope=\"col\">周一</th>" in client.get("/admin/calendar?month=2026-10").get_data(as_text=True)


# --- sentences: one message each, the Chinese page unchanged ---------------------------------------

def test_the_webs_level_names_say_in_chinese_what_the_engines_say(app):
    """The engine names an item's level in Chinese (engine/catalogue/entries.py) and never imports Flask; the
    web translates at its edge with its own lazy table, which must stay the engine's table in Chinese."""
    from engine.catalogue import entries
    from webapp import formatting

    with app.test_request_context("/"):
        assert {code: str(name) for code, name in formatting.LEVEL_NAMES.items()} == entries.LEVEL_NAMES
        assert formatting.level_name("district") == "区级" and formatting.level_name("<b>") == "<b>"


def test_the_hall_reads_in_chinese_exactly_as_before_its_sentences_became_one_message(client, db):
    """hall/items.html and hall/_guide.html used to glue a sentence from several `_()` calls (a level's name,
    then 可办; 可在 … 受理; the 。 after a link); as one message each, the Chinese page reads the same."""
    orgtree.install(db)
    deploy(db, "catalogue/minzheng/MZ-001")
    hall = client.get("/hall").get_data(as_text=True)
    assert '<option value="district">区级可办</option><option value="town">镇级可办</option>' in hall
    assert '已申请的可凭办件编号和查询码 <a href="/hall/follow">查询办理进度</a>。</p>' in hall
    assert "<td>区级</td>" in hall and "<td>20 个工作日</td>" in hall and "<td>上报件</td>" in hall
    guide = client.get("/hall/items/MZ-001").get_data(as_text=True)
    assert "<dd>区级（可在村级、镇级受理）</dd>" in guide
    assert "<dd>30 个工作日</dd>" in guide and "<dd>1 次</dd>" in guide
    link = '<a href="/register?next=/hall/items/MZ-001" id="register-link">用手机号码注册</a>'
    assert f'<p class="muted">还没有账号？{link}</p>' in guide
    english = client.get("/hall/items/MZ-001?lang=en").get_data(as_text=True)
    assert "<dd>District level (can also be accepted at Village level, Town level)</dd>" in english
    assert "<dd>30 working day(s)</dd>" in english and '<a href="/hall/follow">Check progress</a> with' in \
        client.get("/hall").get_data(as_text=True)
