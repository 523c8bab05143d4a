"""The wording of notices (文书): what each kind says to the applicant, its legal basis and appeal rights.

Only the procedural articles of the Administrative Licensing Law (行政许可法) and the periods of the review
and litigation laws are written here, each with its article; everything that differs by item — the
item's own legal basis (设定依据), the review body (行政复议机关) and the court (行政诉讼法院) — comes from
the item's guide, and an item that is not an administrative licence replaces the procedural articles
with its own (`guide.notice_basis`). Where the law leaves a point open, the notice says so (`note`)
instead of inventing a rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.time import clock

KINDS = {
    "acceptance": "受理通知书",
    "supplement": "补正材料通知书",
    "refusal_of_acceptance": "不予受理决定书",
    "extension": "延期告知书",
    "special_procedure": "特别程序告知书",
    "licence_granted": "准予行政许可决定书",
    "licence_refused": "不予行政许可决定书",
    "service_receipt": "送达回证",
    # issue 15, items 2 and 7 (engine/runtime/supplement.py, engine/runtime/ending.py)
    "supplement_reminder": "补正催告通知书",
    "deemed_withdrawn": "视为撤回申请告知书",
    "withdrawal": "撤回申请确认书",
    "termination": "终止办理告知书",
}
REFUSALS = frozenset({"refusal_of_acceptance", "licence_refused"})

LAW = "《中华人民共和国行政许可法》"
# The procedural article each kind rests on (行政许可法); an item's guide may replace them (notice_basis).
PROCEDURE_BASIS = {
    "acceptance": [f"{LAW}第三十二条第一款第（五）项、第二款"],
    "supplement": [f"{LAW}第三十二条第一款第（四）项、第二款"],
    "refusal_of_acceptance": [f"{LAW}第三十二条第一款、第二款"],
    "extension": [f"{LAW}第四十二条"],
    "special_procedure": [f"{LAW}第四十五条"],
    "licence_granted": [f"{LAW}第三十八条第一款"],
    "licence_refused": [f"{LAW}第三十八条第二款"],
    "service_receipt": [f"{LAW}第四十四条"],
    # 行政许可法 fixes no period for a 补正, no consequence of missing it, no withdrawal and no termination of a
    # licensing procedure: these notices rest on art 32(4) and the item's guide, and say so in their `note`.
    "supplement_reminder": [f"{LAW}第三十二条第一款第（四）项"],
    "deemed_withdrawn": [f"{LAW}第三十二条第一款第（四）项"],
    "withdrawal": [],
    "termination": [],
}
APPEAL_BASIS = ["《中华人民共和国行政复议法》第二十条第一款（六十日）",
                "《中华人民共和国行政诉讼法》第四十六条第一款（六个月）"]
REVIEW_DAYS, LITIGATION_MONTHS = 60, 6
SERVICE_NOTE = ("行政许可法对送达回证的格式未作规定；本回证只记载送达的文书、方式、日期和签收人，"
                "送达方式以实际采用的为准。")


def compose(kind: str, facts: dict[str, Any], guide: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """The content of a notice: its title and body, the legal basis, and for a refusal the appeal rights."""
    own = str(facts.get("legal_basis") or "").strip()
    replaced = guide.get("notice_basis") if isinstance(guide.get("notice_basis"), dict) else {}
    procedure = _strings(replaced.get(kind)) or PROCEDURE_BASIS[kind]
    basis = [*([own] if own else []), *_strings(guide.get("legal_basis")), *procedure]
    notice: dict[str, Any] = {
        **{k: v for k, v in facts.items() if _storable(v)},
        "title": KINDS[kind], "kind": kind, "case_no": case["case_no"], "item": case["item"],
        "item_code": case["item_code"], "applicant": case["applicant"] or "申请人", "organ": case["organ"],
        "date": _day(case["issued_at"]), "legal_basis": list(dict.fromkeys(basis)),
    }
    notice["body"] = _BODIES[kind](facts, case, notice)
    if kind in REFUSALS:
        notice["appeal"] = appeal_rights(guide)
    if kind == "service_receipt":
        notice["note"] = SERVICE_NOTE
    return notice


def appeal_rights(guide: dict[str, Any]) -> dict[str, Any]:
    """行政复议 within 60 days to the review body, 行政诉讼 within 6 months to the court, both from the guide."""
    body, court = str(guide.get("review_body") or "").strip(), str(guide.get("court") or "").strip()
    text = (f"如不服本决定，可以自收到本决定书之日起{_cn(REVIEW_DAYS)}日内向{body}申请行政复议，"
            f"或者自收到本决定书之日起{_cn(LITIGATION_MONTHS)}个月内向{court}提起行政诉讼。") if body and court else ""
    rights = {"review_body": body, "court": court, "review_days": REVIEW_DAYS,
              "litigation_months": LITIGATION_MONTHS, "text": text, "basis": APPEAL_BASIS}
    if guide.get("appeal_note"):
        rights["note"] = str(guide["appeal_note"])
    return rights


def _acceptance(facts: dict, case: dict, notice: dict) -> list[str]:
    limits = case["limits"]
    text = (f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，申请材料齐全、符合法定形式，"
            "本机关决定予以受理。")
    if limits.committed_days:
        text += f"本机关将自受理之日起{limits.committed_days}个工作日内作出决定"
        text += f"（法定期限{limits.statutory_days}个工作日）。" if limits.statutory_days else "。"
    return [text, "依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，所需时间不计算在上述期限内，"
                  "本机关将书面告知所需时间。"]


def _supplement(facts: dict, case: dict, notice: dict) -> list[str]:
    notice["list_title"] = "需要补正的全部材料"
    notice["list"] = [str(m) for m in facts.get("missing_materials") or []]
    return [f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，申请材料不齐全或者不符合法定形式。"
            "现一次性告知需要补正的全部内容如下，请补正后提交；补正材料齐全、符合法定形式的，本机关予以受理。"]


def _refusal_of_acceptance(facts: dict, case: dict, notice: dict) -> list[str]:
    return [f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，经审查，本机关决定不予受理。",
            f"理由：{facts.get('reason') or ''}"]


def _granted(facts: dict, case: dict, notice: dict) -> list[str]:
    text = [f"你（单位）申请的{case['item']}，经审查，符合法定条件、标准，本机关决定准予行政许可。"]
    note = facts.get("approval_note") or facts.get("result_note")
    if note:
        text.append(f"说明：{note}")
    text.append("行政许可证件将依法自本决定作出之日起十日内颁发、送达。")
    return text


def _refused(facts: dict, case: dict, notice: dict) -> list[str]:
    return [f"你（单位）申请的{case['item']}，经审查，本机关决定不予行政许可。", f"理由：{facts.get('reason') or ''}"]


def _extension(facts: dict, case: dict, notice: dict) -> list[str]:
    text = f"你（单位）申请的{case['item']}，因{facts.get('reason') or '情况复杂'}，不能在规定期限内作出决定。"
    text += f"经本机关负责人批准，办理期限延长{facts.get('days', '')}个工作日"
    text += f"，延长后的期限至{facts['until']}。" if facts.get("until") else "。"
    return [text]


def _special(facts: dict, case: dict, notice: dict) -> list[str]:
    text = (f"你（单位）申请的{case['item']}，依法需要进行{facts.get('procedure') or '特别程序'}，"
            f"预计需要{facts.get('days', '')}个工作日。")
    if facts.get("reason"):
        text += f"理由：{facts['reason']}。"
    return [text, "依照法律规定，该程序所需时间不计算在作出行政许可决定的期限内；程序结束后继续计算。"]


def _service(facts: dict, case: dict, notice: dict) -> list[str]:
    delivered = facts.get("delivered_notice") or {}
    what = f"{delivered.get('title', '办理结果')}（{delivered['number']}）" if delivered.get("number") else "办理结果"
    lines = [f"送达文书：{what}", f"受送达人：{case['applicant'] or '申请人'}"]
    if facts.get("delivery_method"):
        lines.append(f"送达方式：{facts['delivery_method']}")
    if facts.get("delivered_on"):
        lines.append(f"送达日期：{facts['delivered_on']}")
    if facts.get("served_by"):
        lines.append(f"送达人：{facts['served_by']}")
    receiver = facts.get("receiver") or facts.get("recipient")
    lines.append(f"签收人：{receiver}" if receiver else "签收人：＿＿＿＿＿＿（签名）")
    return lines


def _reminder(facts: dict, case: dict, notice: dict) -> list[str]:
    notice["list_title"] = "尚未补正的材料"
    notice["list"] = [str(m) for m in facts.get("missing_materials") or []]
    asked = (f"本机关于{facts.get('asked_on', '')}向你（单位）出具补正材料通知书"
             f"（{facts.get('supplement_notice', '')}），")
    return [asked +
            f"补正期限已届满，至今未收到补正材料。请于{facts.get('lapse_on', '')}前补正；"
            "逾期仍未补正的，视为撤回申请，本机关不再办理，你（单位）可以重新申请。"]


def _deemed_withdrawn(facts: dict, case: dict, notice: dict) -> list[str]:
    return [f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，本机关于{facts.get('asked_on', '')}"
            f"一次性告知需要补正的全部材料（{facts.get('supplement_notice', '')}），并于{facts.get('reminded_on', '')}"
            "催告，你（单位）逾期未补正。依照本事项办事指南，该申请视为撤回，本机关不再办理。",
            "你（单位）可以在材料齐全后重新提出申请。"]


def _withdrawal(facts: dict, case: dict, notice: dict) -> list[str]:
    how = "在受理窗口" if facts.get("channel") == "window" else "通过网上办事大厅"
    text = [f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，"
            f"已于{_day(case['issued_at'])}{how}申请撤回。",
            "本机关确认该申请已撤回，终止办理；已提交的材料可以到受理窗口领回。"]
    if facts.get("statement"):
        text.append(f"撤回说明：{facts['statement']}")
    return text


def _termination(facts: dict, case: dict, notice: dict) -> list[str]:
    return [f"你（单位）于{_day(case['received_at'])}提交的{case['item']}申请，经本机关负责人批准，终止办理。",
            f"理由：{facts.get('reason') or ''}"]


_BODIES = {"acceptance": _acceptance, "supplement": _supplement, "refusal_of_acceptance": _refusal_of_acceptance,
           "licence_granted": _granted, "licence_refused": _refused, "extension": _extension,
           "special_procedure": _special, "service_receipt": _service,
           "supplement_reminder": _reminder, "deemed_withdrawn": _deemed_withdrawn, "withdrawal": _withdrawal,
           "termination": _termination}


def _day(moment: datetime | None) -> str:
    day = clock.local_date(moment) if moment else clock.local_date()
    return f"{day.year}年{day.month}月{day.day}日"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    return [str(v) for v in value or [] if str(v).strip()]


def _storable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict)) or value is None


_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """60 → 六十, 6 → 六: the periods as a notice writes them."""
    tens, ones = divmod(n, 10)
    return (f"{_DIGITS[tens] if tens > 1 else ''}十" if tens else "") + (_DIGITS[ones] if ones or not tens else "")
