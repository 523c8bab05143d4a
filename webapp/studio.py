"""工作室 (studio): where analysts edit an item's diagram and forms, lint them and deploy a new version.

Only analysts and administrators reach it. The modeler (bpmn-js, from /vendor) and our own
properties panel run in the browser; every file the browser sends back is checked on the server like
any untrusted upload (`engine.catalogue.drafts.check_file`: safe XML parse, size cap, JSON Schema meta-check)
before it is stored in the analyst's draft. Lint and deploy are the engine's own (`engine.diagrams.lint`,
`engine.catalogue.deployment`), so the studio can never deploy what `onewindow deploy` would refuse.

The modeler's calls are JSON (fetch with the CSRF token in `X-CSRFToken`); the engine's refusals come
back as `{"error", "message", …}` with the engine's status code, for the page to show as they are.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.catalogue import drafts, new_items
from engine.diagrams.filenames import name_problem, plain_name
from engine.diagrams.lint import LintReport
from engine.diagrams.package import SHARED_PREFIX
from engine.diagrams.safexml import MAX_XML_BYTES
from engine.errors import NotFound, OnewindowError, PackageError
from engine.messages import speak
from engine.reads import queries

from .access import roles_required
from .db import get_db
from .formatting import STATUS_NAMES
from .formrender import build_fields
from .inputs import db_int
from .vendor import dmn_js_available

bp = Blueprint("studio", __name__, url_prefix="/studio")

ANALYST = ("analyst",)


def _json_error(exc: OnewindowError) -> tuple[Response, int]:
    return jsonify(exc.to_dict()), exc.status


def answers_json(view: Callable[..., Any]) -> Callable[..., Any]:
    """The modeler's fetch calls get the engine's refusals as JSON (`error`, `message`, …), never a page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except OnewindowError as exc:
            return _json_error(exc)

    return wrapper


def _draft(draft_id: int) -> drafts.Draft:
    return drafts.get_draft(get_db(), draft_id, current_user.actor)


def _report(report: LintReport) -> dict[str, Any]:
    """The findings in the analyst's language (`engine.messages`): the studio reads them in its own page."""
    return {"ok": report.ok, "findings": speak(report.to_list())}


@bp.route("/", methods=["GET"])
@roles_required(*ANALYST)
def index():
    db = get_db()
    mine = {d.item_code: d for d in drafts.drafts_of(db, current_user.actor.username)}
    return render_template("studio/index.html", items=queries.list_items(db), drafts=mine)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ANALYST)
def new_item():
    """新建事项: pick a shape, fill the guide; a draft with a laid-out diagram, or each problem by its field."""
    form = request.form.to_dict(flat=True) | {"accept_levels": request.form.getlist("accept_levels")}
    shape = request.form.get("shape", "committed")
    problems: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            draft = new_items.create_item_draft(get_db(), shape, new_items.metadata_from_form(form, shape),
                                                current_user.actor)
        except new_items.NewItemRefused as exc:
            problems = exc.details.get("fields", {})
            flash(exc.message, "error")
        else:
            flash(_("已创建新事项 %(code)s 的草稿；修改流程图后检查并部署为第 1 版。", code=draft.item_code), "success")
            return redirect(url_for("studio.modeler", draft_id=draft.id))
    return render_template("studio/new.html", shapes=new_items.SHAPES, shape=shape, form=form, problems=problems,
                           departments=new_items.department_choices(), rows=range(new_items.MATERIAL_ROWS),
                           material_forms=MATERIAL_FORMS), \
        400 if problems else 200


@bp.route("/items/<code>/drafts", methods=["POST"])
@roles_required(*ANALYST)
def open_draft_form(code: str):
    """A fresh draft of mine from the chosen version (a POST: it replaces any draft I had of this item)."""
    try:
        number = db_int(int(request.form.get("version", "")), _("版本号"))
    except ValueError as exc:
        raise OnewindowError(_("请填写要打开的版本号（整数）。")) from exc
    draft = drafts.open_draft(get_db(), code, number, current_user.actor)
    flash(_("已基于 %(code)s 第 %(n)s 版创建草稿；保存后再部署。", code=code, n=number), "success")
    return redirect(url_for("studio.modeler", draft_id=draft.id))


@bp.route("/items/<code>/versions/<int:number>/files/<path:name>", methods=["GET"])
@roles_required(*ANALYST)
def version_file(code: str, number: int, name: str):
    """Download one file of a deployed version (its BPMN XML, a form, item.json) as it was deployed."""
    files = drafts.version_files(get_db(), code, number)
    if name not in files:
        raise NotFound(_("第 %(n)s 版没有文件 %(name)s。", n=number, name=name))
    return _download(files[name], f"{code}-v{number}-{name.replace('/', '-')}")


@bp.route("/items/<code>/versions/<int:number>/diagram.bpmn", methods=["GET"])
@roles_required(*ANALYST)
def version_diagram(code: str, number: int):
    """Download the item's own diagram of a version (the first, when an item has several)."""
    files = drafts.version_files(get_db(), code, number)
    name = next((n for n in sorted(files) if n.endswith(".bpmn") and not n.startswith(SHARED_PREFIX)), None)
    if name is None:
        raise NotFound(_("第 %(n)s 版没有流程图文件。", n=number))
    return _download(files[name], f"{code}-v{number}-{name}")


def _download(text: str, filename: str) -> Response:
    kind = "application/xml" if filename.endswith((".bpmn", ".dmn")) else "application/json"
    response = Response(text, mimetype=kind)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    return response


@bp.route("/drafts/<int:draft_id>", methods=["GET"])
@roles_required(*ANALYST)
def modeler(draft_id: int):
    draft = _draft(draft_id)
    diagrams = draft.diagram_names()
    current = request.args.get("file") if request.args.get("file") in diagrams else (diagrams or [None])[0]
    return render_template("studio/modeler.html", draft=draft, diagram=current, diagrams=diagrams,
                           metadata=draft.metadata(), lanes=drafts.lane_choices(get_db()), statuses=STATUS_NAMES,
                           report=drafts.lint_draft(draft))


@bp.route("/drafts/<int:draft_id>/files/<path:name>", methods=["GET"])
@roles_required(*ANALYST)
def draft_file(draft_id: int, name: str):
    draft = _draft(draft_id)
    if name not in draft.files:
        raise NotFound(_("草稿中没有文件 %(name)s。", name=name))
    if request.args.get("download"):
        return _download(draft.files[name], f"{draft.item_code}-draft-{name.replace('/', '-')}")
    kind = "application/xml" if name.endswith((".bpmn", ".dmn")) else "application/json"
    return Response(draft.files[name], mimetype=kind)


@bp.route("/drafts/<int:draft_id>/files/<path:name>", methods=["POST"])
@roles_required(*ANALYST)
@answers_json
def save_draft_file(draft_id: int, name: str):
    """Store one file of the draft (checked first) and answer with the draft's lint report."""
    draft = drafts.save_file(get_db(), _draft(draft_id), name, _posted_text())
    return jsonify({"saved": name, "updated_at": draft.updated_at.isoformat(), **_report(drafts.lint_draft(draft))})


def _posted_text() -> str:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise PackageError(_("请求中没有文件内容（JSON 对象的 text 字段）。"))
    return body["text"]


@bp.route("/drafts/<int:draft_id>/lint", methods=["POST"])
@roles_required(*ANALYST)
@answers_json
def lint(draft_id: int):
    """Lint the draft as it would be with the posted (unsaved) text of one file — the modeler's live check."""
    draft = _draft(draft_id)
    body = request.get_json(silent=True) or {}
    name, text = body.get("name"), body.get("text")
    overrides = {}
    if isinstance(name, str) and isinstance(text, str):
        drafts.check_file(draft, name, text)
        overrides[name] = text
    return jsonify(_report(drafts.lint_draft(draft, overrides)))


@bp.route("/drafts/<int:draft_id>/upload", methods=["POST"])
@roles_required(*ANALYST)
def upload(draft_id: int):
    """Replace one of the draft's diagrams with an uploaded .bpmn file (made in another modeler)."""
    draft = _draft(draft_id)
    target = request.form.get("diagram") or (draft.diagram_names() or [""])[0]
    upload_file = request.files.get("bpmn")
    try:
        if target not in draft.diagram_names():
            raise PackageError(_("草稿中没有流程图 %(name)s；只能替换草稿已有的流程图。", name=target))
        if upload_file is None or not upload_file.filename:
            raise PackageError(_("请选择要上传的 .bpmn 文件。"))
        raw = upload_file.stream.read(MAX_XML_BYTES + 1)
        if len(raw) > MAX_XML_BYTES:
            raise PackageError(_("%(file)s：超过流程图 %(n)s 字节的上限。", file=upload_file.filename, n=MAX_XML_BYTES))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PackageError(_("%(file)s：不是 UTF-8 文本；请以 UTF-8 编码保存。",
                                 file=upload_file.filename)) from exc
        drafts.save_file(get_db(), draft, target, text)
    except OnewindowError as exc:
        flash(_("上传未保存：%(why)s", why=exc.message), "error")
    else:
        flash(_("已用 %(file)s 替换草稿中的 %(name)s。", file=plain_name(upload_file.filename), name=target), "success")
    return redirect(url_for("studio.modeler", draft_id=draft.id, file=target))


@bp.route("/drafts/<int:draft_id>/deploy", methods=["POST"])
@roles_required(*ANALYST)
@answers_json
def deploy(draft_id: int):
    """Deploy the saved draft as the item's next version; refusals (lint, warnings, governance) come back as JSON."""
    body = request.get_json(silent=True) or {}
    result = drafts.deploy_draft(get_db(), _draft(draft_id), current_user.actor,
                                 warnings_acknowledged=bool(body.get("acknowledge_warnings")),
                                 approval=str(body.get("approval") or "").strip() or None)
    flash(result.message, "success")
    return jsonify({"message": result.message, "version": result.version, "created": result.created,
                    "next": url_for("studio.index")})


@bp.route("/drafts/<int:draft_id>/decisions/<path:name>", methods=["GET"])
@roles_required(*ANALYST)
def decision_editor(draft_id: int, name: str):
    """Edit one of the draft's decision tables (.dmn) in dmn-js; saving goes through `save_draft_file`."""
    draft = _draft(draft_id)
    if name not in draft.decision_names():
        raise NotFound(_("草稿中没有决策表 %(name)s。", name=name))
    return render_template("studio/decision.html", draft=draft, name=name, editor=dmn_js_available(),
                           decision=request.args.get("decision"), report=drafts.lint_draft(draft))


@bp.route("/drafts/<int:draft_id>/forms/<path:name>", methods=["GET"])
@roles_required(*ANALYST)
def form_editor(draft_id: int, name: str):
    """Edit a form (JSON Schema) and its UI schema side by side, with the desk's own rendering as preview."""
    draft = _draft(draft_id)
    ui_name = request.args.get("ui") or ""
    for form in filter(None, (name, ui_name)):
        if problem := name_problem(form):
            raise PackageError(_("表单%(problem)s；只能打开 forms/ 中的表单文件名本身，如 accept.json。",
                                 problem=speak(problem)))
    return render_template("studio/form.html", draft=draft, name=name, ui_name=ui_name,
                           schema_text=_form_text(draft, name, _NEW_FORM),
                           ui_text=_form_text(draft, ui_name, "{}") if ui_name else "")


# A material's form as item.json records it (the guide's data, Chinese), and as the page names it.
MATERIAL_FORMS = (("原件", _l("原件")), ("复印件", _l("复印件")), ("原件及复印件", _l("原件及复印件")),
                  ("电子件", _l("电子件")))
_NEW_FORM = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "新表单",
                        "type": "object", "required": [], "properties": {}}, ensure_ascii=False, indent=2)


def _form_text(draft: drafts.Draft, name: str, default: str) -> str:
    """The draft's copy of a form, else the shared one in forms/ (what a deploy would take), else `default`."""
    text = draft.files.get(f"forms/{name}")
    if text is not None:
        return text
    return drafts.draft_package(draft).files.get(f"forms/{name}", default)


@bp.route("/drafts/<int:draft_id>/item", methods=["GET"])
@roles_required(*ANALYST)
def item_editor(draft_id: int):
    """Edit the draft's item.json (the guide: time limits, materials …) as JSON text, checked on save."""
    draft = _draft(draft_id)
    return render_template("studio/item.html", draft=draft, item_text=draft.files.get(drafts.ITEM_FILE, "{}"))


@bp.route("/forms/preview", methods=["POST"])
@roles_required(*ANALYST)
@answers_json
def form_preview():
    """The posted schema (+ UI schema) rendered by the desk's renderer: exactly what the clerk will see."""
    body = request.get_json(silent=True) or {}
    schema = drafts.check_form(_("表单"), str(body.get("schema", "")))
    ui_text = str(body.get("ui_schema") or "").strip()
    ui_schema = drafts.check_form(_("界面配置"), ui_text) if ui_text else {}
    try:
        fields = build_fields(schema, ui_schema)
    except (AttributeError, TypeError) as exc:  # a property that is not an object, a ui entry that is a list…
        return _json_error(PackageError(_("表单结构无法显示：%(why)s；每个字段（properties 下）都应是一个对象。",
                                          why=exc)))
    return jsonify({"html": render_template("studio/_preview.html", schema=schema, fields=fields)})
