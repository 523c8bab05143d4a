"""工作室·版本: an item's versions, the diff between two of them drawn on the diagram, moving open
cases to another version, and the governed acts of S-9 (asking to withdraw an item, withdrawing it).

Analysts (and administrators) only. Every rule lives in the engine — `engine.diagrams.versiondiff` (what
changed), `engine.catalogue.case_migration` (which cases may move, and moving them one transaction each),
`engine.catalogue.governance` (what needs a supervisor's approval) — so these routes only read the request,
call one engine function and show its answer.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.catalogue import case_migration, governance, governance_requests
from engine.catalogue import versions as catalogue_versions
from engine.diagrams.versiondiff import VersionDiff
from engine.errors import NotFound, OnewindowError
from engine.reads import queries

from .access import roles_required
from .db import get_db
from .extensions import N_
from .inputs import db_int
from .vendor import bpmn_js_available

bp = Blueprint("studio_versions", __name__, url_prefix="/studio/items/<code>")

ANALYST = ("analyst",)  # administrators pass every role check too
STATUS_NAMES = {"added": N_("新增"), "removed": N_("删除"), "changed": N_("修改")}  # translated in diff.html


def _item(code: str) -> dict[str, Any]:
    item = next((i for i in queries.list_items(get_db()) if i["code"] == code), None)
    if item is None:
        raise NotFound(_("事项 %(code)s 不存在；请从流程工作室的事项列表中选择。", code=code))
    return item


VERSION_FIELDS = {"from": N_("原版本"), "to": N_("目标版本")}  # the version pickers, as a refusal names them


def _version_label(name: str) -> str:
    return _(VERSION_FIELDS.get(name, N_("版本")))


def _number(name: str, default: int | None = None) -> int:
    try:
        return db_int(int(request.values.get(name, "")), _version_label(name))
    except ValueError as exc:
        if default is not None:
            return default
        raise OnewindowError(_("请选择%(which)s。", which=_version_label(name))) from exc


# --- the version list ------------------------------------------------------------------------------


@bp.route("/versions", methods=["GET"])
@roles_required(*ANALYST)
def versions(code: str):
    db = get_db()
    found = catalogue_versions.versions(db, code)
    return render_template("studio_versions/versions.html", item=_item(code), versions=found.rows,
                           history=governance.history(db, code), withdrawn=found.withdrawn)


@bp.route("/versions/<int:number>/process.bpmn", methods=["GET"])
@roles_required(*ANALYST)
def diagram(code: str, number: int):
    """The item's own diagram of version `number` (the one defining its process), for the viewer."""
    return Response(catalogue_versions.diagram(get_db(), code, number), mimetype="application/xml")


# --- the diff --------------------------------------------------------------------------------------


@bp.route("/diff", methods=["GET"])
@roles_required(*ANALYST)
def diff(code: str):
    """`?from=N&to=M`; without them, the latest version against the one before it."""
    item = _item(code)
    latest = item["latest_version"]
    new = _number("to", latest)
    old = _number("from", max(new - 1, 1))
    result = catalogue_versions.compare(get_db(), code, old, new)
    return render_template("studio_versions/diff.html", item=item, diff=result, marks=_marks(result),
                           status_names=STATUS_NAMES, show_diagram=bpmn_js_available(),
                           numbers=list(range(latest, 0, -1)))


def _marks(result: VersionDiff) -> dict[str, str]:
    """Ids to mark on each diagram (the item's own elements only; shared ones are listed)."""
    own = [e for e in result.elements if not e.shared]
    return {"added": " ".join(e.element_id for e in own if e.status == "added"),
            "changed": " ".join(e.element_id for e in own if e.status == "changed"),
            "removed": " ".join(e.element_id for e in own if e.status == "removed")}


# --- migration -------------------------------------------------------------------------------------


@bp.route("/migrate", methods=["GET"])
@roles_required(*ANALYST)
def migrate(code: str):
    """`?from=N&to=M` (default: to the latest): every open case of version N, can it move, and why not."""
    item = _item(code)
    to_number = _number("to", item["latest_version"])
    from_number = _number("from", max(to_number - 1, 1))
    return _migration_page(code, item, from_number, to_number, None)


def _migration_page(code: str, item: dict, from_number: int, to_number: int, result):
    """Every open case of version `from_number`, can it move to `to_number`, and what the last move did."""
    verdicts = case_migration.assess_version(get_db(), code, from_number, to_number)
    return render_template("studio_versions/migrate.html", item=item, verdicts=verdicts, from_number=from_number,
                           to_number=to_number, numbers=list(range(item["latest_version"], 0, -1)), result=result)


@bp.route("/migrate", methods=["POST"])
@roles_required(*ANALYST)
def migrate_post(code: str):
    """Move the ticked cases, each in its own transaction; show what moved and what was refused, and why."""
    item = _item(code)
    to_number, from_number = _number("to"), _number("from")
    case_nos = request.form.getlist("case_no")
    if not case_nos:
        flash(_("请至少勾选一个办件。"), "error")
        return redirect(url_for(".migrate", code=code, **{"from": from_number, "to": to_number}))
    result = case_migration.migrate_cases(get_db(), case_nos, to_number, current_user.actor)
    return _migration_page(code, item, from_number, to_number, result)


# --- governance (S-9) ------------------------------------------------------------------------------


@bp.route("/withdrawal-request", methods=["POST"])
@roles_required(*ANALYST)
def request_withdrawal(code: str):
    """Ask the supervisor to approve withdrawing the item from the centre (a governance case)."""
    try:
        case_no = governance_requests.request_change(get_db(), current_user.actor, code,
                                                     request.form.get("summary", ""), request.form.get("reason", ""),
                                                     withdraw=True)
    except OnewindowError as exc:
        flash(exc.message, "error")
    else:
        flash(_("撤出申请已提交电子监察审批，审批办件编号 %(no)s；批准后凭此编号撤出。", no=case_no), "success")
    return redirect(url_for(".versions", code=code))


@bp.route("/withdraw", methods=["POST"])
@roles_required(*ANALYST)
def withdraw(code: str):
    try:
        governance.withdraw_item(get_db(), code, current_user.actor, request.form.get("approval", "").strip())
    except OnewindowError as exc:
        flash(exc.message, "error")
    else:
        flash(_("事项 %(code)s 已撤出中心：不再受理新的申请，已受理的办件照常办理。", code=code), "success")
    return redirect(url_for(".versions", code=code))
