"""The auditor's dossier shows the case's files and its real applicant (issue 16, item 9): each attachment with
its name, size, SHA-256, uploader and time, its bytes re-checked against the file store (完好 / 已损坏 / 缺失);
the applicant named, the ID number showing only its last four, the phone masked — in the page and the JSON
export. Nobody but an auditor (or an administrator) opens it; the view log reads in Chinese.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import deploy, log_in, make_actor, tamper
from sqlalchemy import delete, update

from engine.desk import attachments, casework
from engine.org import orgtree
from engine.store import files
from engine.store.tables import stored_files, users
from engine.time import clock

WINDOW = "区中心/区安全生产监督管理局·窗口"
ID_NUMBER = "11010119900101123X"
PHONE = "13812345678"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


def _pdf(mark: str) -> bytes:
    return PDF + mark.encode()


def _remove(db, sha256: str) -> None:
    """Lose a stored file behind the platform's back, wherever the backend keeps it."""
    store = files.open_store(db)
    if isinstance(store, files.LocalStore):
        store._path(sha256).unlink()
    else:
        with db.transaction() as conn:
            conn.execute(delete(stored_files).where(stored_files.c.sha256 == sha256))


@pytest.fixture
def case(db):
    """AJ-003 (a real catalogue item) applied for online by a registered applicant whose account is their phone
    number, with three PDFs: one intact, one changed in the store, one lost from it."""
    orgtree.install(db)
    deploy(db, "catalogue/anjian/AJ-003")
    make_actor(db, "aj", [WINDOW])
    applicant = make_actor(db, PHONE, [], ["applicant"])
    with db.transaction() as conn:  # as the hall's registration names the account: the person's name
        conn.execute(update(users).where(users.c.username == PHONE).values(display_name="王五"))
    make_actor(db, "shenji", [], ["auditor"])
    with clock.frozen_at(clock.now()):
        case_no = casework.start_case(db, "AJ-003", {"applicant_name": "王五", "id_number": ID_NUMBER},
                                      applicant).case_no
    for name in ("营业执照.pdf", "应急预案.pdf", "安全评价报告.pdf"):
        attachments.add_attachment(db, case_no, name, _pdf(name), applicant)
    tamper(db, hashlib.sha256(_pdf("应急预案.pdf")).hexdigest(), _pdf("改过的"))
    _remove(db, hashlib.sha256(_pdf("安全评价报告.pdf")).hexdigest())
    return case_no


def test_the_dossier_lists_every_attachment_with_its_hash_rechecked(client, db, case):
    log_in(client, "shenji")
    d = json.loads(client.get(f"/audit/cases/{case}.json").get_data(as_text=True))
    found = {a["filename"]: a for a in d["attachments"]}
    assert list(found) == ["营业执照.pdf", "应急预案.pdf", "安全评价报告.pdf"]
    intact = found["营业执照.pdf"]
    assert intact["sha256"] == hashlib.sha256(_pdf("营业执照.pdf")).hexdigest()
    assert intact["size"] == len(_pdf("营业执照.pdf")) and intact["uploaded_at"]
    assert intact["uploaded_by"] == "王五"  # the uploader by name
    assert [(a["state"], a["state_name"]) for a in found.values()] == \
        [("intact", "完好"), ("damaged", "已损坏"), ("missing", "缺失")]
    page = client.get(f"/audit/cases/{case}").get_data(as_text=True)
    table = page[page.index('id="attachments"'):]
    for name, state in (("营业执照.pdf", "完好"), ("应急预案.pdf", "已损坏"), ("安全评价报告.pdf", "缺失")):
        assert name in table and state in table
    assert intact["sha256"] in table and f"{len(_pdf('营业执照.pdf'))} 字节" in table


def test_the_dossier_names_the_real_applicant_with_numbers_masked(client, db, case):
    log_in(client, "shenji")
    d = json.loads(client.get(f"/audit/cases/{case}.json").get_data(as_text=True))
    assert d["applicant"] == {"name": "王五", "id_number": "**************123X", "phone": "138****5678",
                              "registered": True}
    assert d["case"]["applicant"] == "王五"  # not the account's username (here: the phone number)
    page = client.get(f"/audit/cases/{case}").get_data(as_text=True)
    assert "王五" in page and "**************123X" in page and "138****5678" in page
    assert ID_NUMBER not in page and PHONE not in page.replace("138****5678", "")  # nowhere on the page, events too


def test_an_application_without_numbers_shows_none_and_absurd_values_stay_masked(db, case):
    from engine.audit.casefiles import mask_id_number, mask_phone

    assert mask_id_number("") == "" and mask_phone("") == ""
    assert mask_id_number("123") == "***" and mask_phone("12") == "**"
    hostile = mask_phone("<script>alert(1)</script>")
    assert hostile.endswith("ipt>") and "alert" not in hostile


@pytest.mark.parametrize("who", ["clerk", "applicant", "supervisor", "anonymous"])
def test_nobody_but_an_auditor_opens_the_dossier(client, db, case, who):
    if who == "clerk":
        log_in(client, "aj")
    elif who == "applicant":
        log_in(client, PHONE)
    elif who == "supervisor":
        make_actor(db, "watcher", [], ["supervisor"])
        log_in(client, "watcher")
    for path in (f"/audit/cases/{case}", f"/audit/cases/{case}.json", "/audit/views"):
        answer = client.get(path)
        if who == "anonymous":
            assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
        else:
            assert answer.status_code == 403, (who, path)
            body = answer.get_data(as_text=True)
            assert "营业执照.pdf" not in body and "123X" not in body and "审计案卷" not in body


def test_unknown_and_hostile_case_numbers_are_404_without_echoing_markup(client, db, case):
    log_in(client, "shenji")
    for number in ("20990101999999", "<script>alert(1)</script>", "' OR 1=1 --"):
        answer = client.get(f"/audit/cases/{number}")
        assert answer.status_code == 404, number
        assert "<script>alert(1)</script>" not in answer.get_data(as_text=True)


def test_the_view_log_reads_in_chinese_with_people_by_name(client, db, case):
    with db.transaction() as conn:
        conn.execute(update(users).where(users.c.username == "shenji").values(display_name="沈审计"))
    log_in(client, "shenji")
    client.get(f"/audit/cases/{case}")
    client.get(f"/audit/cases/{case}.json")
    client.get(f"/audit/verify?case={case}")
    client.get("/audit?item=AJ-003&status=submitted&warning=yellow")
    page = client.get("/audit/views").get_data(as_text=True)
    log = page[page.index('id="views"'):]
    for words in ("查阅案卷", "下载案卷（JSON）", "校验办件记录", "查询：事项 AJ-003", "预警 黄牌", "沈审计"):
        assert words in log, words
    for code in (">dossier<", ">verify<", "search:", "item=", ">shenji<"):
        assert code not in log, code
