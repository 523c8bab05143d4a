"""Third-party browser code served from this site (never a CDN): bpmn-js, dmn-js and ECharts from node_modules.

`make install` runs `npm ci`, which puts the exact bpmn-js and dmn-js versions from package-lock.json in
node_modules/; government networks often cannot reach public CDNs, and a CDN would be a third party
able to run script on every case page.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory

from .access import public

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

DEFAULT_BPMN_JS_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "bpmn-js" / "dist"


def bpmn_js_dir() -> Path:
    return Path(current_app.config.get("BPMN_JS_DIR") or DEFAULT_BPMN_JS_DIR)


def bpmn_js_available() -> bool:
    return (bpmn_js_dir() / "bpmn-navigated-viewer.production.min.js").is_file()


@bp.route("/bpmn-js/<path:filename>", methods=["GET"])
@public
def bpmn_js(filename: str):
    return send_from_directory(bpmn_js_dir(), filename, max_age=86400)


DEFAULT_ECHARTS_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "echarts" / "dist"


def echarts_dir() -> Path:
    return Path(current_app.config.get("ECHARTS_DIR") or DEFAULT_ECHARTS_DIR)


def echarts_available() -> bool:
    """The supervisors' charts (webapp/watch.py); without the file the pages show their tables only."""
    return (echarts_dir() / "echarts.min.js").is_file()


@bp.route("/echarts/<path:filename>", methods=["GET"])
@public
def echarts(filename: str):
    return send_from_directory(echarts_dir(), filename, max_age=86400)


DEFAULT_DMN_JS_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "dmn-js" / "dist"


def dmn_js_dir() -> Path:
    return Path(current_app.config.get("DMN_JS_DIR") or DEFAULT_DMN_JS_DIR)


def dmn_js_available() -> bool:
    """The studio's decision-table editor; without the file the page offers the table's XML only."""
    return (dmn_js_dir() / "dmn-modeler.production.min.js").is_file()


@bp.route("/dmn-js/<path:filename>", methods=["GET"])
@public
def dmn_js(filename: str):
    return send_from_directory(dmn_js_dir(), filename, max_age=86400)
