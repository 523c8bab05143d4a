"""A notice (文书) as the applicant gets it: the printable A4 page and the PDF of the same content.

The routes live with their audiences — the case's people in `hall` (`/hall/notices/<no>`, after the
case-access rule), the applicant without an account in `follow` (after the follow-up code) — and both
answer through `page` and `pdf` here, so the two ways in show one document.

The PDF is drawn with fpdf2 (pure Python, embeds a subset of the font) in the Noto CJK font Debian's
fonts-noto-cjk installs; `ONEWINDOW_CJK_FONT` names another OpenType/TrueType file or collection.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from flask import Response, render_template
from flask_babel import force_locale

from engine.errors import OnewindowError
from engine.time import clock

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)


def page(notice: dict[str, Any], pdf_url: str, back_url: str) -> str:
    """The notice in Chinese whatever the UI's language: it is the legal document the organ issued
    (docs/architecture.md, "The English UI"), so its template is not in the English catalogue either."""
    with force_locale("zh"):
        return render_template("notices/notice.html", n=notice, c=notice["content"], pdf_url=pdf_url,
                               back_url=back_url)


def pdf(notice: dict[str, Any]) -> Response:
    body = render_pdf(notice)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="notice-{notice["receipt_no"]}.pdf"'})


@functools.cache
def _font() -> tuple[str, int]:
    """(file, face number) of a Simplified Chinese face: in a collection, the face whose name ends in SC."""
    chosen = os.environ.get("ONEWINDOW_CJK_FONT") or next((f for f in FONT_CANDIDATES if Path(f).is_file()), None)
    if chosen is None:
        missing = OnewindowError("服务器没有安装中文字体（Debian: apt-get install fonts-noto-cjk），暂不能生成 PDF；"
                                 "请使用打印页面。")
        missing.status = 503
        raise missing
    if not chosen.endswith(".ttc"):
        return chosen, 0
    from fontTools.ttLib import TTCollection

    with TTCollection(chosen, lazy=True) as collection:
        for number, face in enumerate(collection.fonts):
            if str(face["name"].getDebugName(1) or "").endswith(" SC"):
                return chosen, number
    return chosen, 0


def render_pdf(notice: dict[str, Any]) -> bytes:
    """The notice as an A4 PDF: issuer, title, number, addressee, body, legal basis, appeal, organ and date."""
    from fpdf import FPDF

    c = notice["content"]
    organ = notice.get("organ_name") or c.get("organ") or ""
    doc = FPDF(format="A4", unit="mm")
    doc.set_margins(25, 25, 20)
    doc.set_auto_page_break(True, 20)
    doc.set_title(f"{c.get('title', '')} {notice['receipt_no']}")
    doc.set_author(organ)
    path, number = _font()
    doc.add_font("cjk", fname=path, collection_font_number=number)
    doc.add_page()
    width = doc.epw

    def para(text: str, size: float = 12, align: str = "J", gap: float = 2) -> None:
        doc.set_font("cjk", size=size)
        doc.multi_cell(width, size * 0.6, text, align=align, new_x="LMARGIN", new_y="NEXT")
        doc.ln(gap)

    para(organ, 18, "C", 1)
    para(c.get("title", ""), 20, "C", 2)
    para(f"编号：{notice['receipt_no']}", 11, "R", 4)
    para(f"{c.get('applicant', '申请人')}：", 12, "L", 1)
    for line in c.get("body", []):
        para(line)
    if c.get("list"):
        para(f"{c.get('list_title', '')}：", 12, "L", 1)
        for i, entry in enumerate(c["list"], 1):
            para(f"{i}. {entry}", 12, "L", 1)
        doc.ln(1)
    if c.get("legal_basis"):
        para("依据：" + "；".join(c["legal_basis"]) + "。", 11)
    appeal = c.get("appeal") or {}
    if appeal.get("text"):
        para(appeal["text"], 12)
        if appeal.get("note"):
            para(appeal["note"], 10)
    if c.get("note"):
        para(c["note"], 10)
    doc.ln(10)
    para(organ, 12, "R", 1)
    para(c.get("date") or clock.local_text(notice["issued_at"], "%Y-%m-%d"), 12, "R", 6)
    para(f"办件编号：{c.get('case_no', '')}　事项：{c.get('item', '')}", 9, "L", 0)
    return bytes(doc.output())
