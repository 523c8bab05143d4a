"""What the dossier (案卷) says of a case's files and its applicant: each attachment re-checked against the
file store, and the applicant as an auditor may read them — named, their numbers masked.

Why re-check: the dossier is the evidence an auditor signs off. An attachment row says which bytes were
handed in (its SHA-256); the store may since have lost or changed them. Each view re-reads the bytes
through `store.files.fetch`, which re-hashes them, and says 完好 (intact), 已损坏 (the bytes no longer match)
or 缺失 (gone) — never a green tick the store has not just earned.

Why masked: the auditor checks who applied, not the person's papers. The name is shown; the ID number
only by its last four characters (enough to tell two 张三 apart against the paper file), the phone as
138****5678 — in the page and in the JSON export alike, so a downloaded dossier leaks no more than the page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.desk.attachments import list_attachments
from engine.hall.phone import number_of
from engine.store import files
from engine.store.db import Database
from engine.store.tables import users
from engine.time.clock import iso_utc
from engine.watch.watchlist import display_names

INTACT, DAMAGED, MISSING = "intact", "damaged", "missing"
STATE_NAMES = {INTACT: "完好", DAMAGED: "已损坏", MISSING: "缺失"}


def checked_attachments(db: Database, case_no: str) -> list[dict[str, Any]]:
    """Every attachment of the case, oldest first: name, size, SHA-256, who uploaded it (by name) and when,
    the material it answers, and the state of its bytes in the store now."""
    rows = list_attachments(db, case_no)
    with db.reading() as conn:
        people = display_names(conn, {r["uploaded_by"] for r in rows})
    out = []
    for row in rows:
        state = _state(db, row["sha256"])
        out.append({"filename": row["filename"], "size": row["size"], "sha256": row["sha256"],
                    "content_type": row["content_type"], "material": row["material"],
                    "uploaded_by": person_shown(people.get(row["uploaded_by"], _uploader(row["uploaded_by"]))),
                    "uploaded_at": iso_utc(row["uploaded_at"]), "state": state, "state_name": STATE_NAMES[state]})
    return out


def _state(db: Database, sha256: str) -> str:
    try:
        files.fetch(db, sha256)
    except files.FileMissing:
        return MISSING
    except files.FileDamaged:
        return DAMAGED
    return INTACT


def _uploader(username: str) -> str:
    """Someone with no account: the applicant who proved the follow-up code (`applicant:<no>`), or the system."""
    return "申请人" if username.startswith("applicant:") else ("系统" if username == "system" else username)


def applicant(db: Database, application: dict[str, Any], account_id: int | None,
              name_on_case: str | None) -> dict[str, Any]:
    """The applicant as the dossier shows them: name, ID number and phone masked, and whether they applied
    with an account (whose name and phone count when the application left them out)."""
    account = None
    if account_id is not None:
        with db.reading() as conn:
            account = conn.execute(select(users.c.username, users.c.display_name)
                                   .where(users.c.id == account_id)).one_or_none()
    name = _text(application.get("applicant_name")) or name_on_case or (account.display_name if account else "")
    phone = _text(application.get("phone")) or (number_of(account.username) if account else None) or ""
    return {"name": name or "", "id_number": mask_id_number(_text(application.get("id_number"))),
            "phone": mask_phone(phone), "registered": account is not None}


def person_shown(display_name: str) -> str:
    """A person's display name as the dossier shows it: an account named by its phone number (the
    username an applicant registered with) is 申请人, never the unmasked number."""
    return "申请人" if number_of(display_name) else display_name


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def mask_id_number(number: str) -> str:
    """'11010119900101123X' → '**************123X': only the last four show; nothing when there is none."""
    return _last_four(number)


def mask_phone(number: str) -> str:
    """'13812345678' → '138****5678' (how a phone number is masked on Chinese receipts); others as an ID."""
    if len(number) == 11 and number.isdigit():
        return number[:3] + "****" + number[-4:]
    return _last_four(number)


def _last_four(number: str) -> str:
    if not number:
        return ""
    return "*" * max(len(number) - 4, 4) + number[-4:] if len(number) > 4 else "*" * len(number)
