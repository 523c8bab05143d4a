"""The OpenAPI 3.1 description of /api/v1, written by hand next to the routes it describes.

Hand-written because it is small and its Chinese descriptions are part of the product; a test walks
the blueprint's URL rules and fails if a route or method is missing here, so it cannot drift.
"""

from __future__ import annotations

from typing import Any

from .inputs import DB_INT_MAX


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str, schema: str = "Error") -> dict[str, Any]:
    return _json(_ref(schema), description)


_AUTH_ERRORS = {
    "401": _error("缺少或无效的 API 令牌"),
    "403": _error("没有所需角色，或不属于任务所在的组"),
}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"},
            "description": "任务编号（见 GET /tasks）"}
_CASE_NO = {"name": "case_no", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "办件编号，如 20250101000001"}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "机器可读的错误代码，如 not_found、stale_task"},
            "message": {"type": "string", "description": "中文说明：哪里有误、如何改正"},
        },
        "additionalProperties": True,
    },
    "FormError": {
        "allOf": [_ref("Error")],
        "type": "object", "required": ["field_errors"],
        "properties": {"field_errors": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "字段名 → 该字段的中文错误信息列表",
        }},
    },
    "Item": {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "department": {"type": "string"},
            "handling_mode": {"type": "string"}, "latest_version": {"type": "integer"},
            "guide": {"type": "object", "description": "办事指南（六公开）"},
        },
    },
    "StartCase": {
        "type": "object", "required": ["item"],
        "properties": {
            "item": {"type": "string", "minLength": 1, "description": "事项编码"},
            "data": {"type": "object", "description": "申请数据（成为办件的初始数据）", "default": {}},
        },
    },
    "StartedCase": {
        "type": "object",
        "properties": {"case_no": {"type": "string"}, "status": {"type": "string"}, "version": {"type": "integer"},
                       "url": {"type": "string"}},
    },
    "Task": {
        "type": "object",
        "properties": {
            "task_id": {"type": "string"}, "case_no": {"type": "string"}, "item_code": {"type": "string"},
            "item_name": {"type": "string"}, "element_id": {"type": "string"}, "name": {"type": "string"},
            "lane": {"type": ["string", "null"]}, "candidate_group": {"type": ["string", "null"]},
            "assignee": {"type": ["string", "null"]}, "form": {"type": ["string", "null"]},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "TaskDetail": {
        "type": "object",
        "properties": {
            "task_id": {"type": "string"}, "case_no": {"type": "string"}, "item_name": {"type": "string"},
            "element_id": {"type": "string"}, "name": {"type": "string"}, "lane": {"type": ["string", "null"]},
            "candidate_group": {"type": ["string", "null"]}, "assignee": {"type": ["string", "null"]},
            "form": {"type": ["string", "null"]},
            "schema": {"type": "object", "description": "该任务表单的 JSON Schema（提交 data 须符合它）"},
            "ui_schema": {"type": "object"},
        },
    },
    "Assignment": {
        "type": "object",
        "properties": {"task_id": {"type": "string"}, "case_no": {"type": "string"},
                       "assignee": {"type": ["string", "null"]}},
    },
    "CompleteTask": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "object", "description": "表单数据，须符合任务表单的 JSON Schema"}},
    },
    "Completed": {
        "type": "object",
        "properties": {"task_id": {"type": "string"}, "case_no": {"type": "string"}, "case_url": {"type": "string"}},
    },
    "Case": {
        "type": "object",
        "properties": {
            "case_no": {"type": "string"}, "item_code": {"type": "string"}, "item_name": {"type": "string"},
            "version": {"type": "integer"},
            "status": {"type": "string", "description": "submitted, accepted, in_progress, awaiting_supplement, "
                                                        "approved, refused, withdrawn, completed"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
            "open_tasks": {"type": "array", "items": _ref("Task")},
            "timers": {"type": "array", "items": {"type": "object", "properties": {
                "element_id": {"type": "string"}, "due_at": {"type": "string", "format": "date-time"}}}},
            "clock": _ref("Clock"),
        },
    },
    "Clock": {
        "type": "object",
        "description": "办理时限：自受理起按工作日计算，补正等暂停环节不计",
        "properties": {
            "started_at": {"type": ["string", "null"], "format": "date-time"},
            "stopped_at": {"type": ["string", "null"], "format": "date-time"},
            "committed_days": {"type": ["integer", "null"]}, "statutory_days": {"type": ["integer", "null"]},
            "extension_days": {"type": "integer"},
            "committed_deadline": {"type": ["string", "null"], "format": "date-time"},
            "statutory_deadline": {"type": ["string", "null"], "format": "date-time"},
            "working_days_used": {"type": ["integer", "null"]},
            "working_days_remaining": {"type": ["integer", "null"]},
            "paused": {"type": "boolean"}, "paused_working_days": {"type": "integer"},
            "pauses": {"type": "array", "items": {"type": "object"}},
            "warning_level": {"type": "string", "enum": ["none", "yellow", "red", "statutory"]},
            "warnings": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Event": {
        "type": "object",
        "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"}, "type": {"type": "string"},
            "element_id": {"type": ["string", "null"]},
            "data": {"type": "object", "description": "仅工作人员可见"},
            "hash": {"type": "string"}, "prev_hash": {"type": "string"},
        },
    },
}

_PATHS: dict[str, Any] = {
    "/openapi.json": {"get": {
        "summary": "本文档（OpenAPI 3.1）", "security": [], "operationId": "openapi",
        "responses": {"200": {"description": "OpenAPI 文档", "content": {"application/json": {}}}},
    }},
    "/items": {"get": {
        "summary": "事项列表", "operationId": "listItems",
        "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array",
                                                                             "items": _ref("Item")}}}, "已部署的事项"),
                      **_AUTH_ERRORS},
    }},
    "/cases": {"post": {
        "summary": "申请：按事项最新版本新建办件", "operationId": "startCase",
        "description": "需要申请人或窗口人员角色。",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("StartCase")}}},
        "responses": {"201": _json(_ref("StartedCase"), "已创建；Location 头指向办件"),
                      "400": _error("请求体不是 JSON 对象，或缺少 item"),
                      "404": _error("事项不存在"),
                      "422": _error("申请数据不符合事项申请表的 JSON Schema", "FormError"), **_AUTH_ERRORS},
    }},
    "/cases/{case_no}": {"get": {
        "summary": "办件状态：状态、待办任务、计时器", "operationId": "getCase", "parameters": [_CASE_NO],
        "responses": {"200": _json(_ref("Case"), "办件"), "404": _error("办件不存在"), **_AUTH_ERRORS},
    }},
    "/cases/{case_no}/history": {"get": {
        "summary": "办件历史（审计事件，按顺序）", "operationId": "getCaseHistory", "parameters": [_CASE_NO],
        "responses": {"200": _json({"type": "object", "properties": {
            "case_no": {"type": "string"}, "events": {"type": "array", "items": _ref("Event")}}}, "历史"),
            "404": _error("办件不存在"), **_AUTH_ERRORS},
    }},
    "/tasks": {"get": {
        "summary": "我的待办：本人所在组的任务及本人已签收的任务", "operationId": "listTasks",
        "parameters": [{"name": "case", "in": "query", "required": False, "schema": {"type": "string"},
                        "description": "只列出此办件的任务"}],
        "responses": {"200": _json({"type": "object", "properties": {"tasks": {"type": "array",
                                                                             "items": _ref("Task")}}}, "任务"),
                      **_AUTH_ERRORS},
    }},
    "/tasks/{task_id}": {"get": {
        "summary": "任务详情，含表单的 JSON Schema", "operationId": "getTask", "parameters": [_TASK_ID],
        "responses": {"200": _json(_ref("TaskDetail"), "任务"),
                      "409": _error("任务已办理完毕或不存在"), **_AUTH_ERRORS},
    }},
    "/tasks/{task_id}/claim": {"post": {
        "summary": "签收任务", "operationId": "claimTask", "parameters": [_TASK_ID],
        "responses": {"200": _json(_ref("Assignment"), "已签收"),
                      "409": _error("任务已由他人签收、已办结，或办件刚被他人修改"), **_AUTH_ERRORS},
    }},
    "/tasks/{task_id}/release": {"post": {
        "summary": "退回组内（取消签收）", "operationId": "releaseTask", "parameters": [_TASK_ID],
        "responses": {"200": _json(_ref("Assignment"), "已退回组内"),
                      "409": _error("任务已由他人签收或已办结"), **_AUTH_ERRORS},
    }},
    "/tasks/{task_id}/complete": {"post": {
        "summary": "办理：提交表单并推进流程", "operationId": "completeTask", "parameters": [_TASK_ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CompleteTask")}}},
        "responses": {"200": _json(_ref("Completed"), "已办理"),
                      "400": _error("请求体不是 JSON 对象"),
                      "409": _error("任务已办理完毕（重复提交或页面过期），或办件刚被他人修改"),
                      "422": _error("表单数据不符合表单的 JSON Schema", "FormError"), **_AUTH_ERRORS},
    }},
}


def _operation(summary: str, operation_id: str, parameter: dict[str, Any], body: dict[str, Any],
               refusals: dict[str, str]) -> dict[str, Any]:
    """A desk operation (engine/desk/taskops.py): a JSON body in, the case number out, Chinese errors."""
    return {"post": {
        "summary": summary, "operationId": operation_id, "parameters": [parameter],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": _json(_ref("OperationDone"), "已完成（写入办件的审计记录）"),
                      "400": _error("请求体不是 JSON 对象，或字段类型不对"),
                      **{code: _error(text) for code, text in refusals.items()}, **_AUTH_ERRORS},
    }}


_SCHEMAS["OperationDone"] = {"type": "object", "required": ["case_no"],
                             "properties": {"case_no": {"type": "string"}, "case_url": {"type": "string"}}}
_TO_AND_REASON = {"type": "object", "required": ["to"], "properties": {
    "to": {"type": "string", "description": "用户名"}, "reason": {"type": "string", "description": "说明（选填）"}}}
_PATHS.update({
    "/tasks/{task_id}/transfer": _operation(
        "转办：交给本组其他人员", "transferTask", _TASK_ID, _TO_AND_REASON,
        {"404": "用户不存在", "409": "任务已办结或已由他人签收", "422": "对方不在本组，或不能转办给自己"}),
    "/tasks/{task_id}/delegate": _operation(
        "委派：请他人代办，办理后交回确认", "delegateTask", _TASK_ID, _TO_AND_REASON,
        {"404": "用户不存在", "409": "任务已办结或已由他人签收", "422": "已在委派中，或对方不是窗口人员"}),
    "/tasks/{task_id}/return": _operation(
        "退回：退回到之前同一路径上已办理的环节（须填理由）", "returnTask", _TASK_ID,
        {"type": "object", "required": ["target_task_id", "reason"], "properties": {
            "target_task_id": {"type": "string", "description": "要退回到的已办理任务编号"},
            "reason": {"type": "string", "description": "退回理由（必填）"}}},
        {"409": "任务已办结", "422": "没有理由，或目标不是可退回的环节"}),
    "/cases/{case_no}/withdraw": _operation(
        "撤回：撤回本人刚办理、后续尚未签收的环节", "withdrawTask", _CASE_NO,
        {"type": "object", "required": ["task_id"], "properties": {
            "task_id": {"type": "string", "description": "本人办理的任务编号"},
            "reason": {"type": "string", "description": "说明（选填）"}}},
        {"404": "办件或任务不存在", "409": "后续环节已签收或已办理，或不是本人办理"}),
    "/cases/{case_no}/copy": _operation(
        "抄送：通知他人知悉", "copyCase", _CASE_NO,
        {"type": "object", "required": ["to"], "properties": {
            "to": {"type": "array", "items": {"type": "string"}, "description": "用户名列表"},
            "note": {"type": "string", "description": "附言（选填）"}}},
        {"404": "办件或用户不存在", "422": "没有抄送对象"}),
    "/cases/{case_no}/urge": _operation(
        "催办：提醒当前办理人（办理过本办件的人员，每环节每小时一次）", "urgeCase", _CASE_NO,
        {"type": "object", "properties": {"note": {"type": "string", "description": "附言（选填）"}}},
        {"404": "办件不存在", "409": "一小时内已催办过", "422": "没有待办环节"}),
})


def _feed_schemas() -> dict[str, Any]:
    """实时报送: every field of a fed case record, described from the engine's own list (engine.watch.reports)."""
    from engine.watch.reports import FEED_FIELDS

    types = {"seq": "integer", "committed_days": ["integer", "null"], "statutory_days": ["integer", "null"],
             "town": ["string", "null"], "applicant_name": ["string", "null"]}
    times = {"created_at", "accepted_at", "closed_at", "committed_deadline", "statutory_deadline", "updated_at"}
    record = {name: {"type": types.get(name, ["string", "null"] if name in times else "string"),
                     **({"format": "date-time"} if name in times else {}), "description": text}
              for name, text in FEED_FIELDS.items()}
    return {
        "FeedRecord": {"type": "object", "required": list(FEED_FIELDS), "properties": record,
                       "additionalProperties": False},
        "Feed": {"type": "object", "required": ["records", "next_after", "more"], "properties": {
            "records": {"type": "array", "items": _ref("FeedRecord"), "description": "按 seq 升序的办件记录"},
            "next_after": {"type": "integer", "description": "下次请求的 after 值（已反映到此序号为止的全部变更）"},
            "more": {"type": "boolean", "description": "是否还有更新的变更（true 时可立即续取）"}}},
    }


_SCHEMAS.update(_feed_schemas())
_PATHS["/feed/cases"] = {"get": {
    "summary": "实时报送：增量获取办件记录（上级平台用；需电子监察或审计角色的令牌）",
    "operationId": "feedCases",
    "description": "按序号增量返回自 after 之后有变更的办件（每件一条，反映其最新状态）。上级平台保存 next_after，"
                   "下次以 ?after=<next_after> 续取；同一办件再次变更时会再次出现，请按 case_no 更新。"
                   "最近几秒内的变更留待下次返回，以免漏掉尚未提交的事务。",
    "parameters": [
        {"name": "after", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX, "default": 0},
         "description": "上次返回的 next_after；首次取全部用 0"},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
         "description": "本次最多返回的办件数"}],
    "responses": {"200": _json(_ref("Feed"), "办件记录"), "400": _error("after 或 limit 不合法"), **_AUTH_ERRORS},
}}


def _document_input_refusals() -> None:
    """Every operation may answer 400 `invalid_input` (webapp/inputs.py), before its own checks run."""
    refusal = _error("参数中含有空字符（NUL），或数值超出数据库能保存的范围（error 为 invalid_input）")
    for operations in _PATHS.values():
        for operation in operations.values():
            operation["responses"].setdefault("400", refusal)


_document_input_refusals()


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "一窗 onewindow API",
            "version": "1.0.0",
            "description": "区政务服务审批平台的 JSON 接口：事项、申请、待办、签收、办理、办件状态与历史。"
                           "认证：Authorization: Bearer <令牌>（用 `onewindow token` 签发）。"
                           "所有错误均为 JSON：{\"error\": 代码, \"message\": 中文说明}。",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": _PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
    }
