"""The OpenAPI 3.1 description of /api/v1, written by hand next to the routes it describes.

Hand-written because it is small and its Chinese descriptions are part of the product; a test walks
the blueprint's URL rules and fails if a route or method is missing here, so it cannot drift.
"""

from __future__ import annotations

from typing import Any


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
            "item": {"type": "string", "description": "事项编码"},
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
                      "404": _error("事项不存在"), **_AUTH_ERRORS},
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
