"""Write the catalogue's diagrams: the three shared call activities and one diagram per item, each
item in the shape of its handling mode (S-6: direct, committed, joint, report-up, restricted).

Run once to create the diagrams (`python tools/generate_catalogue.py`); afterwards they are data
that analysts change in the studio, and this script is the record of how the shapes were drawn.
Running it again overwrites every generated diagram (it writes nothing else).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bpmnwriter import Diagram

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ROOT / "processes"

FRONT, ACCEPT, DESK, TOWN = "【收件窗口】", "【受理窗口】", "【办理窗口】", "【镇中心】"
HANDLE, REVIEW, APPROVE, JOINT = "【承办】", "【审核】", "【批准】", "【会审部门】"


def form(name: str, **extra: str) -> dict[str, str]:
    return {"formJsonSchemaFilename": f"{name}.json", **extra}


# ---- shared call activities ------------------------------------------------------------------


def acceptance() -> Diagram:
    d = Diagram("acceptance", "受理（含一次性告知补正）", [ACCEPT],
                documentation="受理是每个事项独立的一步：受理、不予受理（须说明理由）或一次性告知需补正的全部材料；"
                              "申请人补齐后再次受理审查。每个决定出具一份有日期的回执。")
    d.node("acc_start", "start", "收到申请", ACCEPT, 0)
    d.node("accept_review", "user", "受理审查", ACCEPT, 1, props=form("catalogue-accept", receipt="acceptance"))
    d.node("accept_gw", "xor", "受理意见", ACCEPT, 2)
    d.node("accepted", "throw", "已受理（开始计时）", ACCEPT, 3, props={"clock": "start", "caseStatus": "accepted"})
    d.node("acc_end", "end", "受理完成", ACCEPT, 4)
    d.node("supplement_notice", "throw", "一次性告知补正", ACCEPT, 2.6, slot=1,
           props={"caseStatus": "awaiting_supplement"})
    d.node("supplement_wait", "user", "接收补正材料", ACCEPT, 3.6, slot=1,
           props=form("catalogue-supplement", clock="pause", caseStatus="submitted", answeredBy="applicant"))
    d.node("not_accepted", "end", "不予受理", ACCEPT, 4.6, slot=1, props={"caseStatus": "not_accepted"})
    d.flow("acc_start", "accept_review")
    d.flow("accept_review", "accept_gw")
    d.flow("accept_gw", "accepted", 'decision == "受理"', "受理")
    d.flow("accept_gw", "supplement_notice", 'decision == "补正"', "补正")
    d.flow("accept_gw", "not_accepted", 'decision == "不予受理"', "不予受理")
    d.flow("accepted", "acc_end")
    d.flow("supplement_notice", "supplement_wait")
    d.flow("supplement_wait", "accept_review")
    return d


def relay_up() -> Diagram:
    d = Diagram("relay_up", "村—镇—区逐级报送", [FRONT, TOWN],
                documentation="收件的村便民服务室或镇便民服务中心次一工作日内逐级报送到办理层级"
                              "（S-5 上下联运，S-7 次日送达）。")
    d.node("relay_start", "start", "开始报送", FRONT, 0)
    d.node("relay_from", "xor", "从哪一级报送", FRONT, 1)
    d.node("village_forward", "user", "村代办员报送镇中心", FRONT, 2,
           props=form("catalogue-relay", stepLimitDays="1", handover=TOWN))
    d.node("relay_town_gw", "xor", "是否报区级", FRONT, 3)
    d.node("town_forward", "user", "镇中心报送区级", TOWN, 4,
           props=form("catalogue-relay", stepLimitDays="1", handover="【区窗口】"))
    d.node("relay_end", "end", "已送达办理层级", TOWN, 5)
    d.flow("relay_start", "relay_from")
    d.flow("relay_from", "village_forward", 'front_level == "village"', "村收件")
    d.flow("relay_from", "town_forward", name="镇收件", default=True)
    d.flow("village_forward", "relay_town_gw")
    d.flow("relay_town_gw", "town_forward", 'handling_level == "district"', "报区级")
    d.flow("relay_town_gw", "relay_end", name="镇级办理", default=True)
    d.flow("town_forward", "relay_end")
    return d


def joint_review() -> Diagram:
    d = Diagram("joint_review", "联合审查（会签）", [HANDLE, JOINT],
                documentation="牵头部门受理后，各会审部门在各自泳道并联审查（多实例，每个部门一个任务）；全部同意才算同意，"
                              "任何一个部门不同意即转联合不予许可。每个部门的审查限 5 个工作日（stepLimitDays），"
                              "逾期的部门由办理时限预警催办并报电子监察；调用本流程的事项另有定时器催办，绝不视为同意。")
    d.node("joint_start", "start", "发起会审", HANDLE, 0)
    d.node("joint_opinion", "user", "部门并联审查", JOINT, 1,
           props=form("catalogue-joint-opinion", stepLimitDays="5"),
           multi=("joint_departments", "department", "joint_opinions", "opinion"),
           post_script='opinion = {"department": department, "decision": decision, "comment": comment}')
    d.node("joint_tally", "script", "统计会签结果", HANDLE, 2.5,
           script='joint_agreed = all(o["decision"] == "同意" for o in joint_opinions)\n'
                  'joint_refusals = [o for o in joint_opinions if o["decision"] != "同意"]')
    d.node("joint_end", "end", "会审完成", HANDLE, 3.5)
    d.flow("joint_start", "joint_opinion")
    d.flow("joint_opinion", "joint_tally")
    d.flow("joint_tally", "joint_end")
    return d


# ---- item shapes -----------------------------------------------------------------------------


class ItemDiagram:
    """The parts every shape shares: apply, relay up on agency, accept, report up, deliver the result."""

    def __init__(self, meta: dict, lanes: list[str]) -> None:
        self.meta = meta
        self.d = Diagram(meta["process_id"], f"{meta['code']} {meta['name']}", lanes,
                         documentation=f"办理方式：{MODES[meta['handling_mode']]}。由 tools/generate_catalogue.py 按"
                                       "五种形态之一生成，可在流程设计器中修改。")
        self.reports_up = any(level != meta["level"] for level in meta.get("accept_levels", []))

    def prefix(self) -> float:
        """start → (agency relay) → acceptance → (report up); returns the next free column."""
        d = self.d
        d.node("start", "start", "提交申请", FRONT, 0)
        d.node("route_gw", "xor", "是否代办上报", FRONT, 1)
        d.node("agency_relay", "call", "代办报送", FRONT, 2, called="relay_up")
        d.node("acceptance", "call", "受理", ACCEPT, 3, called="acceptance")
        d.node("accept_result", "xor", "受理结果", ACCEPT, 4)
        d.node("end_not_accepted", "end", "不予受理（已出具通知书）", ACCEPT, 5, slot=1)
        d.flow("start", "route_gw")
        d.flow("route_gw", "agency_relay", "route_agency", "村、镇代办")
        d.flow("route_gw", "acceptance", name="本级受理", default=True)
        d.flow("agency_relay", "acceptance")
        d.flow("acceptance", "accept_result")
        d.flow("accept_result", "end_not_accepted", 'decision == "不予受理"', "不予受理")
        col = 5.0
        last = "accept_result"
        if self.meta["handling_mode"] == "report-up":
            d.node("precheck", "user", "初审", ACCEPT, col, props=form("catalogue-precheck"))
            d.flow(last, "precheck", name="已受理", default=True)
            last, col = "precheck", col + 1
        if self.reports_up:
            d.node("report_gw", "xor", "是否报上级办理", ACCEPT, col)
            d.node("report_relay", "call", "报送上级", ACCEPT, col + 1, called="relay_up")
            if last == "accept_result":
                d.flow(last, "report_gw", name="已受理", default=True)
            else:
                d.flow(last, "report_gw")
            d.flow("report_gw", "report_relay", "route_report_up", "上报")
            self.merge_from = [("report_gw", True), ("report_relay", False)]
            return col + 2
        self.merge_from = [(last, last == "accept_result")]
        return col

    def enter(self, target: str) -> None:
        """Connect the end of the prefix to the shape's first node."""
        for source, is_default in self.merge_from:
            name = "已受理" if source == "accept_result" else ("本级办理" if source == "report_gw" else "")
            self.d.flow(source, target, name=name, default=is_default)

    def suffix(self, approved_from: str, refused_from: str, col: float) -> None:
        """Deliver the result back to the window the applicant came to (S-5), then end approved/refused."""
        d = self.d
        d.node("deliver_gw", "xor", "是否由收件窗口送达", DESK, col)
        d.node("deliver", "user", "送达办理结果", FRONT, col + 1, props=form("catalogue-deliver", receipt="delivery"))
        d.node("end_approved", "end", "办结", DESK, col + 2, props={"caseStatus": "approved"})
        d.flow(approved_from, "deliver_gw")
        d.flow("deliver_gw", "deliver", "route_agency or route_report_up", "代办/上报件")
        d.flow("deliver_gw", "end_approved", name="本窗口已送达", default=True)
        d.flow("deliver", "end_approved")
        d.node("refuse_gw", "xor", "是否由收件窗口送达", DESK, col, slot=1)
        d.node("deliver_refusal", "user", "送达不予许可决定", FRONT, col + 1, slot=1,
               props=form("catalogue-deliver", receipt="delivery"))
        d.node("end_refused", "end", "不予许可（已说明理由）", DESK, col + 2, slot=1, props={"caseStatus": "refused"})
        d.flow(refused_from, "refuse_gw")
        d.flow("refuse_gw", "deliver_refusal", "route_agency or route_report_up", "代办/上报件")
        d.flow("refuse_gw", "end_refused", name="本窗口已送达", default=True)
        d.flow("deliver_refusal", "end_refused")


MODES = {"direct": "即办件（一般事项直接办理）", "committed": "承诺件（特殊事项承诺办理）",
         "joint": "联办件（重大事项联合办理）", "report-up": "上报件（上报事项负责办理）",
         "restricted": "控制事项（明确答复，不予许可须说明理由和依据）"}


def direct(meta: dict) -> Diagram:
    item = ItemDiagram(meta, [FRONT, ACCEPT, DESK])
    d = item.d
    col = item.prefix()
    d.node("decide", "user", "当场办结", DESK, col, props=form("catalogue-direct", receipt="decision"))
    item.enter("decide")
    d.node("decide_gw", "xor", "办理结果", DESK, col + 1)
    d.flow("decide", "decide_gw")
    item.suffix("decide_gw", "decide_gw", col + 2)
    _branch(d, "decide_gw", "deliver_gw", "refuse_gw", 'decision == "办结"', "办结", "不予办理")
    return d


def committed(meta: dict) -> Diagram:
    item = ItemDiagram(meta, [FRONT, ACCEPT, HANDLE, REVIEW, APPROVE, DESK])
    d = item.d
    col = item.prefix()
    d.node("handle", "user", "承办", HANDLE, col, props=form("catalogue-handle"))
    item.enter("handle")
    d.node("review", "user", "审核", REVIEW, col + 1, props=form("catalogue-review"))
    d.node("approve", "user", "批准", APPROVE, col + 2, props=form("catalogue-approve", receipt="decision"))
    d.node("approve_gw", "xor", "批准意见", APPROVE, col + 3)
    d.node("issue", "user", "办结出证", DESK, col + 4, props=form("catalogue-issue"))
    d.flow("handle", "review")
    d.flow("review", "approve")
    d.flow("approve", "approve_gw")
    d.flow("approve_gw", "issue", 'decision == "批准"', "批准")
    item.suffix("issue", "approve_gw", col + 5)
    _retarget_refusal(d, "approve_gw", 'decision == "不予批准"', "不予批准")
    return d


def report_up(meta: dict) -> Diagram:
    return committed(meta)  # the prefix adds 初审 and the relay; the district then decides as a committed item


def restricted(meta: dict) -> Diagram:
    item = ItemDiagram(meta, [FRONT, ACCEPT, HANDLE, APPROVE, DESK])
    d = item.d
    col = item.prefix()
    d.node("examine", "user", "审查", HANDLE, col, props=form("catalogue-examine"))
    item.enter("examine")
    d.node("approve", "user", "作出决定", APPROVE, col + 1, props=form("catalogue-decide", receipt="decision"))
    d.node("approve_gw", "xor", "许可决定", APPROVE, col + 2)
    d.node("issue", "user", "办结出证", DESK, col + 3, props=form("catalogue-issue"))
    d.node("refusal_letter", "user", "出具不予许可决定书", HANDLE, col + 3, slot=1,
           props=form("catalogue-refusal-letter"))
    d.flow("examine", "approve")
    d.flow("approve", "approve_gw")
    d.flow("approve_gw", "issue", 'decision == "准予许可"', "准予许可")
    d.flow("approve_gw", "refusal_letter", 'decision == "不予许可"', "不予许可")
    item.suffix("issue", "refusal_letter", col + 4)
    return d


def joint(meta: dict) -> Diagram:
    item = ItemDiagram(meta, [FRONT, ACCEPT, HANDLE, APPROVE, DESK])
    d = item.d
    col = item.prefix()
    departments = meta["joint_departments"]
    d.node("set_joint", "script", "确定会审部门", HANDLE, col,
           script=f"joint_departments = {json.dumps(departments, ensure_ascii=False)}")
    item.enter("set_joint")
    d.node("joint", "call", "联合审查（会签）", HANDLE, col + 1, called="joint_review")
    d.node("joint_overdue", "boundary", "5个工作日未出具全部意见", HANDLE, col + 1, attached_to="joint",
           timer="workdays(5)")
    d.node("joint_chase", "script", "催办并报电子监察", HANDLE, col + 1.9, slot=1,
           props={"notify": "group, chief, supervisor"}, script="joint_chased = True")
    d.node("joint_chased", "end", "已催办（不视为同意）", HANDLE, col + 2.6, slot=1)
    d.node("joint_gw", "xor", "会签结果", HANDLE, col + 3)
    d.node("collate", "user", "汇总会签意见", HANDLE, col + 4, props=form("catalogue-collate"))
    d.node("joint_refusal", "user", "出具联合不予许可决定", HANDLE, col + 4, slot=1,
           props=form("catalogue-refusal-letter", receipt="refusal"))
    d.node("approve", "user", "批准", APPROVE, col + 5, props=form("catalogue-approve", receipt="decision"))
    d.node("approve_gw", "xor", "批准意见", APPROVE, col + 6)
    d.node("issue", "user", "办结出证", DESK, col + 7, props=form("catalogue-issue"))
    d.flow("set_joint", "joint")
    d.flow("joint", "joint_gw")
    d.flow("joint_overdue", "joint_chase")
    d.flow("joint_chase", "joint_chased")
    d.flow("joint_gw", "collate", "joint_agreed", "全部同意")
    d.flow("joint_gw", "joint_refusal", name="有部门不同意", default=True)
    d.flow("collate", "approve")
    d.flow("approve", "approve_gw")
    d.flow("approve_gw", "issue", 'decision == "批准"', "批准")
    item.suffix("issue", "joint_refusal", col + 8)
    d.flow("approve_gw", "refuse_gw", 'decision == "不予批准"', "不予批准")
    return d


def _branch(d: Diagram, gateway: str, yes: str, no: str, condition: str, yes_name: str, no_value: str) -> None:
    """Turn the two flows `suffix` drew from `gateway` into a condition and its refusal alternative."""
    for flow in d.flows:
        if flow.source == gateway and flow.target == yes:
            flow.condition, flow.name = condition, yes_name
        elif flow.source == gateway and flow.target == no:
            flow.condition, flow.name = f'decision == "{no_value}"', no_value


def _retarget_refusal(d: Diagram, gateway: str, condition: str, name: str) -> None:
    for flow in d.flows:
        if flow.source == gateway and flow.target == "refuse_gw":
            flow.condition, flow.name = condition, name


SHAPES = {"direct": direct, "committed": committed, "report-up": report_up, "restricted": restricted, "joint": joint}


def main() -> None:
    shared = PROCESSES / "shared"
    for diagram, name in ((acceptance(), "acceptance.bpmn"), (relay_up(), "relay-up.bpmn"),
                          (joint_review(), "joint-review.bpmn")):
        (shared / name).write_text(diagram.to_xml(), encoding="utf-8")
    count = 0
    for item_json in sorted((PROCESSES / "catalogue").glob("*/*/item.json")):
        meta = json.loads(item_json.read_text(encoding="utf-8"))
        for old in item_json.parent.glob("*.bpmn"):
            old.unlink()
        diagram = SHAPES[meta["handling_mode"]](meta)
        (item_json.parent / f"{meta['process_id']}.bpmn").write_text(diagram.to_xml(), encoding="utf-8")
        count += 1
    print(f"wrote 3 shared diagrams and {count} item diagrams")


if __name__ == "__main__":
    main()
