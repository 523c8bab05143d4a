"""The engine's refusals in the listener's language (issue 16, item 11; docs/architecture.md §11a).

The engine says every refusal with `said("…%(name)s…", name=value)` (engine/messages.py): Chinese for the
command line and the logs, and a message id with its values that the web app looks up in the English
catalogue. Checked here:
(a) by reading the source: every Chinese text inside a refusal the engine raises or builds is the literal
    template of a `said()`, never an f-string or a bare literal (which no catalogue can look up), and every
    `said()` names exactly the placeholders its template has (a missing one would fail at the refusal);
(b) `speak`: values that are themselves said are translated, lists item by item with the language's
    separator, data stays as written; a `Said` survives pickling and copying with its template;
(c) on the web, as a person meets them: a clerk's refused transfer and a missing case read in English on an
    English page and in Chinese on a Chinese one, and the JSON API stays Chinese;
(d) the hostile side: a message id a catalogue translates with other placeholders, or a template full of
    `%`, cannot break the page — the test of the catalogue (tests/test_translations.py) refuses the first,
    and `said` formats the second only when it has values.
That every extracted `said()` has an English translation is tests/test_translations.py's job (it extracts
engine/ with `-k said`).
"""

from __future__ import annotations

import ast
import copy
import json
import pickle
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from conftest import csrf, desk_ops_case, log_in, make_actor
from markupsafe import escape
from sqlalchemy import insert, select
from test_translations import untranslated

from engine.audit.auditor import dossier
from engine.desk import casework, taskops
from engine.diagrams import guide, lint_routing
from engine.errors import NotFound, OnewindowError
from engine.messages import (
    COMMA,
    SEMICOLON,
    Listed,
    Said,
    kept,
    listed,
    said,
    said_in,
    speak,
    translate_with,
    unkept,
)
from engine.org import accounts
from engine.reads import queries
from engine.store.tables import cases, notifications
from engine.time import clock

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)")
# An exception's class by the ending of its name: every error class the engine defines ends in one of these.
ERROR_ENDINGS = ("Error", "Refused", "Denied", "NotFound", "Failed", "Damaged", "Required", "Decided", "Definition",
                 "Missing", "Attempts")
CATALOGUE = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def _is_said(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("said", "said_in")


def _template(call: ast.Call) -> ast.AST | None:
    """The template argument of a said (the first) or a said_in (the second: the first is its context)."""
    index = 1 if call.func.id == "said_in" else 0
    return call.args[index] if len(call.args) > index else None


def _sources(*folders: str):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))


def _refusals(tree: ast.AST):
    """The calls that make a refusal: `raise X(…)` and any call of an error class (`return PackageError(…)`)."""
    calls = [node.exc for node in ast.walk(tree) if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)]
    calls += [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id.endswith(ERROR_ENDINGS) and node not in calls]
    return calls


def test_every_chinese_text_in_an_engine_refusal_is_a_said_template():
    problems = []
    for path, tree in _sources("engine"):
        for call in _refusals(tree):
            templates = {id(_template(n)) for n in ast.walk(call) if _is_said(n)}
            for node in ast.walk(call):
                if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.Constant) and CJK.search(v.value)
                                                           for v in node.values):
                    problems.append(f"{path}:{node.lineno}: an f-string cannot be translated; write said(…, name=…)")
                elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
                      and id(node) not in templates):
                    problems.append(f"{path}:{node.lineno}: {node.value[:30]!r} is not inside said(…)")
    assert problems == []


# Lint's modules say findings (problem, fix) that the analyst reads in the studio: all their Chinese is said, but
# for docstrings and the words they look for in a form's answers (data, matched in its enum). Read by the same
# reader as the web's modules (tools/untranslated.py, which knows `said` and `to_say` as gettext).
LINT_MODULES = ("lint", "lint_flows", "lint_dmn", "lint_routing", "guide", "parser_words")
DATA_WORDS = {repr(word) for word in (*guide.REFUSING, *lint_routing.REFUSAL_WORDS)}


def _chinese_outside_said(path: Path) -> list[tuple[int, str]]:
    return [(line, text) for line, text in untranslated.python_findings(path) if text not in DATA_WORDS]


@pytest.mark.parametrize("module", LINT_MODULES)
def test_every_chinese_text_of_a_lint_finding_is_said(module):
    assert _chinese_outside_said(ROOT / "engine" / "diagrams" / f"{module}.py") == []


def test_the_check_above_finds_what_it_is_for(tmp_path):
    """The AST check must fail on the two shapes it exists to refuse (otherwise it could pass on anything)."""
    bad = ast.parse('raise NotFound(f"办件 {x} 不存在")\nraise PermissionDenied("不能查看")\n'
                    'return PackageError(said("%(f)s 有误", f=f), hint="请修正")')
    calls = list(_refusals(bad))
    assert len(calls) == 3
    found = [node for call in calls for node in ast.walk(call)
             if isinstance(node, ast.JoinedStr | ast.Constant) and isinstance(getattr(node, "value", ""), str)]
    assert any(isinstance(n, ast.JoinedStr) for n in found) and any(getattr(n, "value", "") == "请修正" for n in found)
    lint_like = tmp_path / "lint_like.py"
    lint_like.write_text('"""说明。"""\nREFUSING = ("不予",)\ny = (said("未说"), to_say("%(a)s 未说"), "漏了")\n',
                         encoding="utf-8")
    assert _chinese_outside_said(lint_like) == [(3, "'漏了'")]


def test_every_said_names_exactly_the_placeholders_of_its_template():
    problems = []
    for path, tree in _sources("engine", "webapp"):
        for node in ast.walk(tree):
            if not _is_said(node):
                continue
            where = f"{path}:{node.lineno}"
            template = _template(node)
            if not isinstance(template, ast.Constant) or not isinstance(template.value, str):
                problems.append(f"{where}: the template must be one literal text (babel extracts it)")
                continue
            wanted = set(PLACEHOLDER.findall(template.value))
            if any(k.arg is None for k in node.keywords):  # said(…, **when): the caller's values, checked at run time
                continue
            given = {k.arg for k in node.keywords}
            if wanted != given:
                problems.append(f"{where}: template wants {sorted(wanted)}, said gives {sorted(given)}")
    assert problems == []


@pytest.fixture
def english():
    words = {"办件 %(case_no)s 不能迁移：%(reasons)s": "Case %(case_no)s cannot be moved: %(reasons)s",
             "办件已办结": "the case is closed", "版本不同": "the versions differ", "；": "; ", "，": ", ",
             "%(action)s必须填写理由。": "A reason is required to %(action)s.", "转办": "Transfer",
             ("action", "转办"): "transfer"}
    translate_with(lambda template, context: words.get((context, template) if context else template, template))
    yield words
    translate_with(None)


def test_speak_translates_said_values_and_lists_and_keeps_data(english):
    reasons = listed([said("办件已办结"), "张三的材料", said("版本不同")])
    message = said("办件 %(case_no)s 不能迁移：%(reasons)s", case_no="20261204000001", reasons=reasons)
    assert str(message) == "办件 20261204000001 不能迁移：办件已办结；张三的材料；版本不同"
    assert speak(message) == "Case 20261204000001 cannot be moved: the case is closed; 张三的材料; the versions differ"
    reason = said("%(action)s必须填写理由。", action=said_in("action", "转办"))
    assert speak(reason) == "A reason is required to transfer."
    assert speak({"reason": [said("转办"), "外出"]}) == {"reason": ["Transfer", "外出"]}  # the button's word
    assert speak(listed(["甲", "乙"], COMMA)) == "甲, 乙" and speak(42) == 42


def test_an_error_reads_in_the_listeners_language_and_keeps_what_it_said(english):
    exc = OnewindowError(said("%(action)s必须填写理由。", action=said_in("action", "转办")),
                         field_errors={"reason": [said_in("action", "转办")]})
    assert exc.message == "A reason is required to transfer."
    assert exc.details == {"field_errors": {"reason": ["transfer"]}}
    assert str(exc) == "转办必须填写理由。" and exc.said.template == "%(action)s必须填写理由。"
    translate_with(None)
    assert exc.message == "转办必须填写理由。" and exc.to_dict()["field_errors"] == {"reason": ["转办"]}


def test_a_said_survives_pickling_and_copying_with_its_template():
    message = said("办件 %(case_no)s 不存在；请核对办件编号。", case_no="20261204000001")
    joined = listed([message, said("办件已办结")], SEMICOLON)
    for again in (pickle.loads(pickle.dumps(message)), copy.deepcopy(message)):
        assert isinstance(again, Said) and again == message and again.values == {"case_no": "20261204000001"}
    again = pickle.loads(pickle.dumps(joined))
    assert isinstance(again, Listed) and again == joined and again.items[0].template == message.template


def test_percent_signs_in_a_template_without_values_are_kept_as_written():
    """`said("上限 100%")` has no values, so nothing formats it: no `%%` needed and no ValueError."""
    assert said("完成率应在 0%—100% 之间。") == "完成率应在 0%—100% 之间。"
    with pytest.raises(KeyError):  # with values, one the template names and the call forgot fails where it is written
        said("办件 %(case_no)s 不存在，%(why)s", case_no="1")


def _english_for(msgid: str, context: str | None = None) -> str:
    with open(CATALOGUE, "rb") as po:
        entry = next(m for m in read_po(po) if m.id == msgid and m.context == context)
    assert entry.string and not entry.fuzzy, msgid
    return entry.string


@pytest.fixture
def case_no(db):
    for name, groups in (("wang", ["受理窗口"]), ("li", ["受理窗口"]), ("zhao", ["审查组"])):
        make_actor(db, name, groups)
    return desk_ops_case(db)


def test_a_clerks_refused_transfer_reads_in_english_on_an_english_page(client, db, case_no):
    accept = next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")
    log_in(client, "wang")
    client.get("/desk?lang=en")
    token = csrf(client, f"/desk/tasks/{accept}")
    refused = client.post(f"/desk/tasks/{accept}/transfer", data={"csrf_token": token, "to": "zhao", "reason": "外出"})
    page = refused.get_data(as_text=True)
    sentence = _english_for("%(username)s 不在“%(group)s”组，不能%(action)s给他；只能%(action)s给本组其他人员。") % {
        "username": "zhao", "group": "受理窗口", "action": _english_for("转办", "action")}
    assert refused.status_code == 422 and str(escape(sentence)) in page
    assert "不能转办给他" not in page
    client.get("/desk?lang=zh")
    page = client.post(f"/desk/tasks/{accept}/transfer",
                       data={"csrf_token": token, "to": "zhao", "reason": "外出"}).get_data(as_text=True)
    assert "zhao 不在“受理窗口”组，不能转办给他；只能转办给本组其他人员。" in page  # “” are not escaped


def test_a_missing_case_reads_in_english_and_the_api_stays_chinese(client, db, case_no):
    log_in(client, "wang")
    client.get("/desk?lang=en")
    missing = client.get("/cases/99999999999999")
    english = _english_for("办件 %(case_no)s 不存在；请核对办件编号。") % {"case_no": "99999999999999"}
    assert missing.status_code == 404 and english in missing.get_data(as_text=True)
    make_actor(db, "apiwang", ["受理窗口"])
    token = accounts.issue_token(db, "apiwang", "test")
    answer = client.get("/api/v1/cases/99999999999999", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404 and answer.get_json()["message"] == "办件 99999999999999 不存在；请核对办件编号。"


def test_the_engine_speaks_chinese_outside_a_request(app):
    """The scheduler and the command line run without a request: the installed translator keeps Chinese."""
    with pytest.raises(NotFound) as refused:
        raise NotFound(said("办件 %(case_no)s 不存在；请核对办件编号。", case_no="1"))
    assert refused.value.message == "办件 1 不存在；请核对办件编号。"



def test_a_batch_claims_refusals_are_named_in_english(client, db, case_no):
    """批量签收 names each task it could not claim, and why: both said by the engine, both in the page's language."""
    accept = next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")
    log_in(client, "zhao")  # not in the accepting group
    client.get("/desk?lang=en")
    token = csrf(client, "/desk")
    page = client.post("/desk/claim", data={"csrf_token": token, "task": [accept, "no-such-task"]},
                       follow_redirects=True).get_data(as_text=True)
    refusal = _english_for("您不属于“%(group)s”组，不能%(action)s此任务；请由该组成员办理。") % {
        "group": "受理窗口", "action": _english_for("签收", "action")}
    assert str(escape(refusal)) in page and _english_for("一项已办结或不存在的任务") in page
    assert "不能签收此任务" not in page


def test_a_kept_sentence_comes_back_the_same_with_its_template():
    """`notifications.said`: a sentence stored now is said later, in the reader's language, from its template."""
    sentence = said("%(who)s 将“%(step)s”转办给您%(why)s", who="王五", step="受理",
                    why=said("：%(text)s", text="外出"))
    sentence = said("办件 %(case_no)s：%(message)s", case_no="2026", message=sentence)
    joined = listed([said("转办"), "材料A"], COMMA)
    for message in (sentence, joined, said("转办"), said_in("action", "转办")):
        again = unkept(json.loads(json.dumps(kept(message))))
        assert again == message and type(again) is type(message)
        assert getattr(again, "context", None) == getattr(message, "context", None)
        assert kept(again) == kept(message)
    assert unkept(kept("写好的一句话")) == "写好的一句话"
    assert unkept({"said": "%(x)s", "values": {"x": {"data": {"said": "不是模板"}}}}).values == {
        "x": {"said": "不是模板"}}  # data that looks like a record stays data


def test_a_transfer_message_reads_in_the_readers_language_and_an_old_row_as_written(client, db, case_no):
    """The message is written when wang transfers, read later by li: li's English inbox says it in English,
    the Chinese inbox and the auditor's dossier keep the Chinese sentence, a row sent before `said` existed
    is shown as it was written."""
    accept = next(t.task_id for t in queries.open_tasks(db, case_no=case_no) if t.element_id == "accept")
    casework.claim_task(db, accept, accounts.actor_for(db, "wang"))
    taskops.transfer_task(db, accept, "li", accounts.actor_for(db, "wang"), "外出办事")
    with db.transaction() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()
        conn.execute(insert(notifications).values(case_id=case_id, recipient="user:li", kind="urge",
                                                  element_id=None, message="旧消息原样显示", created_at=clock.now()))
    log_in(client, "li")
    english = client.get("/desk/messages?lang=en").get_data(as_text=True)
    expected = _english_for("办件 %(case_no)s：%(message)s") % {"case_no": case_no, "message": _english_for(
        "%(who)s 将“%(step)s”转办给您%(why)s") % {"who": "wang", "step": "受理", "why": _english_for("：%(text)s") % {
            "text": "外出办事"}}}
    assert str(escape(expected)) in english and "转办给您" not in english
    assert "旧消息原样显示" in english
    chinese = client.get("/desk/messages?lang=zh").get_data(as_text=True)
    assert f"办件 {case_no}：wang 将“受理”转办给您：外出办事" in chinese
    with db.reading() as conn:
        stored = conn.execute(select(notifications.c.message).where(notifications.c.kind == "transfer")).scalar_one()
    assert stored == f"办件 {case_no}：wang 将“受理”转办给您：外出办事"  # the dossier's text, unchanged


@pytest.mark.parametrize("record", [
    {"said": "办件 %(case_no)s：%(message)s", "values": {}},  # its values gone
    {"said": "办件 %(case_no)s：%(message)s"},  # no values at all
    {"said": "共 %(n)d 件", "values": {"n": "many"}},  # a value of the wrong kind
    {"listed": ["甲", "乙"]},  # no separator
    {"said": None, "values": None},
    None,  # no record at all: a message from before records were kept
], ids=["values-gone", "no-values", "wrong-kind", "no-separator", "nulls", "none"])
def test_a_damaged_message_record_shows_as_sent_and_breaks_no_page(client, db, case_no, record):
    """A `said` record `kept` did not write — edited by hand, damaged — must not make the inbox or the auditor's
    dossier fail for every message in it: the reader sees the sentence as it was sent."""
    with db.transaction() as conn:
        case_id = conn.execute(select(cases.c.id).where(cases.c.case_no == case_no)).scalar_one()
        conn.execute(insert(notifications).values(case_id=case_id, recipient="user:li", kind="urge", element_id=None,
                                                  message="原样发送的催办", said=record, created_at=clock.now()))
    log_in(client, "li")
    for lang in ("zh", "en"):
        page = client.get(f"/desk/messages?lang={lang}")
        assert page.status_code == 200 and "原样发送的催办" in page.get_data(as_text=True), lang
    kept_messages = [n["message"] for n in dossier(db, case_no)["notifications"]]
    assert "原样发送的催办" in kept_messages
