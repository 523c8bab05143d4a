"""The JSON API under /api/v1: bearer tokens, the joint-review item end to end, error shapes, OpenAPI."""

from __future__ import annotations

import re

import pytest
from conftest import ACCEPT_DATA, make_actor

from engine.org import accounts
from engine.reads import queries

REVIEWS = {"review_housing", "review_fire", "review_env"}



def bearer(db, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_token(db, username, 'test')}"}


@pytest.fixture
def clerk_auth(db, clerk) -> dict[str, str]:
    return bearer(db, "clerk")


@pytest.fixture
def applicant_auth(db) -> dict[str, str]:
    make_actor(db, "zhangsan", [], ["applicant"])
    return bearer(db, "zhangsan")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert body["error"] == code and body["message"], body
    return body


def start_case(client, auth, data=None) -> str:
    response = client.post("/api/v1/cases", json={"item": "DEMO-001", "data": data or {}}, headers=auth)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"].endswith(response.get_json()["case_no"])
    return response.get_json()["case_no"]


def tasks_of(client, auth, case_no: str) -> dict[str, str]:
    response = client.get(f"/api/v1/tasks?case={case_no}", headers=auth)
    assert response.status_code == 200
    return {t["element_id"]: t["task_id"] for t in response.get_json()["tasks"]}


# --- authentication --------------------------------------------------------------------------------

def test_missing_token_is_401_json(client, joint):
    body = assert_error(client.get("/api/v1/items"), 401, "unauthorized")
    assert "Authorization: Bearer" in body["message"]
    assert client.get("/api/v1/items").headers["WWW-Authenticate"].startswith("Bearer")


def test_invalid_token_is_401_json(client, joint, clerk):
    assert_error(client.get("/api/v1/items", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    assert_error(client.get("/api/v1/items", headers={"Authorization": "Basic abc"}), 401, "unauthorized")


def test_items_with_a_token(client, joint, clerk_auth):
    response = client.get("/api/v1/items", headers=clerk_auth)
    assert response.status_code == 200
    assert [i["code"] for i in response.get_json()["items"]] == ["DEMO-001"]


# --- the joint-review item end to end --------------------------------------------------------------

def test_full_path_through_the_joint_review_item(client, db, joint, clerk_auth, applicant_auth):
    case_no = start_case(client, applicant_auth, {"applicant_name": "张三"})
    tasks = tasks_of(client, clerk_auth, case_no)
    assert set(tasks) == {"accept"}

    detail = client.get(f"/api/v1/tasks/{tasks['accept']}", headers=clerk_auth).get_json()
    assert detail["schema"]["required"] == ["applicant_name", "id_number", "decision"]

    claimed = client.post(f"/api/v1/tasks/{tasks['accept']}/claim", headers=clerk_auth)
    assert claimed.get_json() == {"task_id": tasks["accept"], "case_no": case_no, "assignee": "clerk"}
    bad = client.post(f"/api/v1/tasks/{tasks['accept']}/complete", json={"data": {"id_number": "1"}},
                      headers=clerk_auth)
    body = assert_error(bad, 422, "invalid_form")
    assert body["field_errors"]["id_number"] == ["格式不正确"] and body["field_errors"]["applicant_name"] == ["必填"]

    done = client.post(f"/api/v1/tasks/{tasks['accept']}/complete", json={"data": ACCEPT_DATA}, headers=clerk_auth)
    assert done.status_code == 200 and done.get_json()["case_no"] == case_no

    reviews = tasks_of(client, clerk_auth, case_no)
    assert set(reviews) == REVIEWS
    for task_id in reviews.values():
        response = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"opinion": "同意"}},
                               headers=clerk_auth)
        assert response.status_code == 200
    issue = tasks_of(client, clerk_auth, case_no)["issue"]
    client.post(f"/api/v1/tasks/{issue}/complete", json={"data": {"certificate_no": "JY-1"}}, headers=clerk_auth)

    case = client.get(f"/api/v1/cases/{case_no}", headers=applicant_auth).get_json()
    assert case["status"] == "completed" and case["open_tasks"] == [] and case["closed_at"]
    history = client.get(f"/api/v1/cases/{case_no}/history", headers=clerk_auth).get_json()["events"]
    types = [e["type"] for e in history]
    assert types[0] == "case_started" and types[-1] == "case_closed" and types.count("task_completed") == 5
    assert history[0]["actor"] == "zhangsan"
    own = client.get(f"/api/v1/cases/{case_no}/history", headers=applicant_auth).get_json()["events"]
    assert len(own) == len(history) and all("data" not in e for e in own)  # steps yes, internal data no


# --- errors ----------------------------------------------------------------------------------------

def test_stale_completion_is_409(client, db, joint, clerk_auth):
    case_no = start_case(client, clerk_auth)
    task_id = tasks_of(client, clerk_auth, case_no)["accept"]
    first = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": ACCEPT_DATA}, headers=clerk_auth)
    assert first.status_code == 200
    again = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": ACCEPT_DATA}, headers=clerk_auth)
    assert_error(again, 409, "stale_task")


def test_claimed_by_someone_else_is_409(client, db, joint, clerk_auth):
    make_actor(db, "window2", ["受理窗口"])
    case_no = start_case(client, clerk_auth)
    task_id = tasks_of(client, clerk_auth, case_no)["accept"]
    client.post(f"/api/v1/tasks/{task_id}/claim", headers=clerk_auth)
    body = assert_error(client.post(f"/api/v1/tasks/{task_id}/claim", headers=bearer(db, "window2")),
                        409, "stale_task")
    assert "clerk" in body["message"]


def test_role_and_group_checks_are_403(client, db, joint, clerk_auth, applicant_auth):
    assert_error(client.get("/api/v1/tasks", headers=applicant_auth), 403, "forbidden")
    make_actor(db, "fire", ["消防审查"])
    case_no = start_case(client, clerk_auth)
    task_id = tasks_of(client, clerk_auth, case_no)["accept"]
    fire = bearer(db, "fire")
    assert tasks_of(client, fire, case_no) == {}
    assert_error(client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": ACCEPT_DATA}, headers=fire),
                 403, "forbidden")
    assert_error(client.get(f"/api/v1/cases/{case_no}", headers=applicant_auth), 403, "forbidden")


def test_bad_requests_say_how_to_fix_them(client, joint, clerk_auth):
    body = assert_error(client.post("/api/v1/cases", data="not json", headers=clerk_auth), 400, "bad_request")
    assert "JSON" in body["message"]
    assert_error(client.post("/api/v1/cases", json={"data": {}}, headers=clerk_auth), 400, "bad_request")
    assert_error(client.post("/api/v1/cases", json={"item": "DEMO-001", "data": [1]}, headers=clerk_auth),
                 400, "bad_request")
    assert_error(client.post("/api/v1/cases", json={"item": "NOPE"}, headers=clerk_auth), 404, "not_found")
    assert_error(client.get("/api/v1/cases/19990101000001", headers=clerk_auth), 404, "not_found")
    assert_error(client.get("/api/v1/tasks/not-a-task", headers=clerk_auth), 409, "stale_task")


def test_http_errors_under_api_are_json(client, joint, clerk_auth):
    assert_error(client.get("/api/v1/nothing-here", headers=clerk_auth), 404, "not_found")
    response = client.delete("/api/v1/items", headers=clerk_auth)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_under_api_is_json_without_traceback(client, joint, clerk_auth, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(queries, "list_items", boom)
    body = assert_error(client.get("/api/v1/items", headers=clerk_auth), 500, "internal_error")
    assert "secret internals" not in str(body)


def test_api_needs_no_csrf_token_but_pages_do(client, joint, clerk_auth):
    assert client.post("/api/v1/cases", json={"item": "DEMO-001"}, headers=clerk_auth).status_code == 201


# --- OpenAPI ---------------------------------------------------------------------------------------

def test_openapi_describes_every_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_openapi_references_resolve(client):
    document = client.get("/api/v1/openapi.json").get_json()
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(document).replace("'", '"')))
    assert refs and refs <= set(document["components"]["schemas"])
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert operation["summary"] and operation["responses"], path
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
