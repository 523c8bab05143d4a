"""No English or internal identifier anywhere a person reads (issue 16, item 10).

Every role's pages are fetched on the demo installation with a joint-review case in progress and their
visible text (what a screen shows and a screen reader says: text, titles, placeholders, labels) is
searched for what a person should never have to read: the engine's own prefixes (`role:`, `group:`,
`applicant:`), snake_case ids of elements and form fields (`joint_opinion`, `missing_materials`) and
English words. What may stay is listed in ALLOWED, each with its reason.

The same crawl in English (issue 16, item 11) looks for the opposite: Chinese the UI wrote. Chinese that
is data stays — what the catalogue, the org tree and the demo people are named (items, steps, form
titles, departments, people) and what was typed into the case — so each run of Chinese on an English
page is looked up in that data, and a run found nowhere in it was written by our templates or the
engine and has no English. The legal documents (notices, receipts) are Chinese by law and are not
crawled in English (docs/operators.md §12).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import catalogue_walk
import pytest
from conftest import csrf, log_in
from lxml import html
from sqlalchemy import select

from engine.catalogue import demo
from engine.desk import casework
from engine.org import accounts
from engine.reads import queries
from engine.store.tables import audit_events, cases

PREFIXED = re.compile(r"\b(?:role|group|chief|applicant|user):\S+")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
WORD = re.compile(r"(?<![\w.-])[A-Za-z]{3,}(?![\w-])")
ALLOWED = {
    "English": "the language switch names the other language in that language",
    "PDF": "a file format people know by this name", "JPG": "a file format", "PNG": "a file format",
    "OFD": "China's own document format", "DOCX": "a file format", "XML": "what the analyst downloads",
    "CSV": "a download format", "HTML": "a download format", "JSON": "the dossier's download format",
    "Excel": "a program people open downloads with",
    "SHA": "SHA-256, the hash's standard name", "BPMN": "the diagram standard", "DMN": "the table standard",
    "JavaScript": "the browser setting a page asks to turn on",
}
# Not read as words: scripts and styles, and <code> — a command an operator is asked to type is typed as it is.
SKIP_TAGS = ("script", "style", "noscript", "template", "svg", "code")


def visible_text(page: str) -> str:
    tree = html.fromstring(page)
    for node in tree.iter(*SKIP_TAGS):
        node.drop_tree()
    attributes = [v for node in tree.iter() if isinstance(node.tag, str)
                  for name in ("title", "placeholder", "aria-label", "alt") if (v := node.get(name))]
    return " ".join([*tree.itertext(), *attributes])  # each text node apart: a table's cells are not one word


def offending(page: str) -> list[str]:
    text = visible_text(page)
    found = PREFIXED.findall(text) + SNAKE.findall(text)
    text = PREFIXED.sub(" ", SNAKE.sub(" ", text))
    found += [w for w in WORD.findall(text) if w not in ALLOWED]
    return sorted(set(found))


@pytest.fixture
def district(db, demo_installation):
    """The demo installation, a JG-002 joint case accepted with one department's opinion in."""
    applicant = accounts.actor_for(db, "applicant")
    case_no = casework.start_case(db, "JG-002", catalogue_walk.application(db, "JG-002"), applicant).case_no
    members = {group: user.username for user in reversed(demo.demo_users()) for group in user.groups}
    for _ in range(2):
        task = queries.open_tasks(db, case_no=case_no)[-1]
        detail = queries.task_detail(db, task.task_id)
        offered = ((detail["schema"].get("properties") or {}).get("decision") or {}).get("enum")
        handler = accounts.actor_for(db, members[task.candidate_group])
        casework.complete_task(db, task.task_id, catalogue_walk.sample(detail["schema"], offered[0] if offered
                                                                       else None), handler)
    return case_no


def pages_for(db, case_no: str) -> dict[str, list[str]]:
    open_tasks = queries.open_tasks(db, case_no=case_no)
    task = open_tasks[0].task_id
    return {
        "jg-window": ["/desk", f"/cases/{case_no}", "/cases", "/desk/messages", f"/desk/tasks/{task}"],
        "jg-approve": ["/desk", f"/cases/{case_no}"],
        "supervisor": ["/watch", "/watch/warnings", "/watch/incidents", "/watch/performance", "/watch/reports",
                       "/watch/weights", f"/cases/{case_no}"],
        "auditor": ["/audit", f"/audit/cases/{case_no}", f"/audit/cases/{case_no}/replay", "/audit/views",
                    "/audit/verify"],
        "applicant": ["/hall", "/hall/mine", f"/hall/mine/{case_no}", "/hall/items/JG-002",
                      f"/hall/receipts/{case_no}"],
        "": ["/hall", "/login", "/register", "/follow", "/hall/items/GT-003", "/no-such-page",
             f"/cases/{case_no}"],
    }


def test_no_page_a_person_reads_carries_english_or_internal_ids(client, db, district):
    found: dict[str, list[str]] = {}
    for person, paths in pages_for(db, district).items():
        with client.session_transaction() as session:
            session.clear()
        if person:
            log_in(client, person, demo.DEMO_PASSWORD)
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code in (200, 403, 404), (person, path, response.status_code)
            if words := offending(response.get_data(as_text=True)):
                found[f"{person or '匿名'} {path}"] = words
    assert found == {}, "\n".join(f"{where}: {', '.join(words)}" for where, words in found.items())


def test_the_check_finds_what_it_looks_for():
    page = "<p>审查组 role:supervisor 的 joint_opinion：Pending <b title='missing_materials'>x</b> PDF</p>"
    assert offending(page) == ["Pending", "joint_opinion", "missing_materials", "role:supervisor"]
    assert offending("<p>住宅 80 元；PDF、English、20261204000001</p>") == []


ROOT = Path(__file__).resolve().parent.parent
CHINESE_RUN = re.compile(r"[\u4e00-\u9fff][\u3000-\u303f\u4e00-\u9fff\uff00-\uffef“”‘’…—·]*")
ALLOWED_CHINESE = {"中文": "the language switch names the other language in that language", "一窗": "the brand mark"}
DOCUMENTS = ("/hall/receipts/",)  # notices and receipts: legal documents, Chinese by law


def data_text(db, case_no: str) -> str:
    """Everything a page may show as data: the catalogue's and forms' files, the org tree, the demo people,
    the case's own values."""
    files = [p for folder in ("processes", "forms") for p in (ROOT / folder).rglob("*") if p.is_file()
             and p.suffix in (".json", ".bpmn", ".dmn", ".md", ".txt")]
    people = [f"{u.display_name} {u.username}" for u in demo.demo_users()]
    with db.reading() as conn:
        events = conn.execute(select(audit_events.c.data).join(cases, cases.c.id == audit_events.c.case_id)
                              .where(cases.c.case_no == case_no)).scalars().all()
    values = [json.dumps([queries.case_detail(db, case_no), events], ensure_ascii=False, default=str)]
    return "\n".join([*(p.read_text(encoding="utf-8") for p in files), *people, *values])


def _runs(text: str) -> set[str]:
    return {run.rstrip("，。；：、（）”") for run in CHINESE_RUN.findall(text)}


def chinese_not_data(page: str, data: str) -> list[str]:
    """Runs of Chinese on `page` that are not data: a short run must be a whole run of the data (so 系统 is not
    excused by 系统管理员), a long one may be part of one (a sentence of a guide shown in pieces)."""
    whole = _runs(data)
    return sorted(run for run in _runs(visible_text(page)) if run not in ALLOWED_CHINESE
                  and run not in whole and (len(run) < 8 or run not in data))


def english_pages(db, case_no: str) -> dict[str, list[str]]:
    """The crawl's pages, and the English reader's own: the analyst's studio, the administrator's, the
    chief's and the other desk tabs."""
    pages = pages_for(db, case_no)
    pages["jg-window"] += ["/desk/copies", "/desk/delegated", f"/cases?q={case_no}"]
    pages["analyst"] = ["/studio/", "/studio/new", "/studio/items/JG-002/versions", "/watch"]
    pages["admin"] = ["/admin/calendar", "/admin/tokens", "/watch/weights"]
    pages["chief"] = ["/desk", "/desk/messages", "/cases"]
    pages[""] += [f"/follow/{case_no}"]
    return pages


def test_no_page_in_english_carries_chinese_the_ui_wrote(client, db, district):
    data = data_text(db, district)
    found: dict[str, list[str]] = {}
    for person, paths in english_pages(db, district).items():
        with client.session_transaction() as session:
            session.clear()
            session["lang"] = "en"  # chosen before logging in: the login keeps it, and says welcome in it
        if person:
            client.post("/login", data={"username": person, "password": demo.DEMO_PASSWORD,
                                        "csrf_token": csrf(client)})
        for path in paths:
            if path.startswith(DOCUMENTS):
                continue
            response = client.get(path, follow_redirects=True)
            assert response.status_code in (200, 403, 404), (person, path, response.status_code)
            if runs := chinese_not_data(response.get_data(as_text=True), data):
                found[f"{person or 'anonymous'} {path}"] = runs
    assert found == {}, "\n".join(f"{where}: {' | '.join(runs)}" for where, runs in found.items())


def test_the_english_check_finds_chinese_that_is_not_data():
    data = "审核组 系统管理员 区民政局 张三\n《中华人民共和国行政许可法》第三十二条规定申请材料不齐全的应当一次性告知"
    page = ("<p>Handled by 系统 at 区民政局; applicant 张三 — 行政许可法》第三十二条规定申请材料不齐全 <b>已办结</b>"
            " English 中文</p>")
    assert chinese_not_data(page, data) == ["已办结", "系统"]
