"""Every route of the app × every role, with the answer each must get (issue 13, "checked in CI from now on").

The routes come from the app's own URL map: a route added without a line in `EXPECTED` fails this test, so
nobody adds a page without saying who may open it. The world is real: 李四 applied for RS-006 at 梁子镇 with
his ID card attached, the town accepted and the case now waits at the district's 人社局 承办 group; beside
it a second case with an incident, a warning, a studio draft, an API token to revoke.

The roles: anonymous; an applicant; the case's own applicant; a clerk of the group handling the case; a
clerk of another department; a clerk of a village room; the analyst; a supervisor; an auditor; the
administrator. A role outside a route's set must be refused (pages: 403, or the login page for anonymous;
API: 403, or 401 without a token) and nothing may answer 500. A role inside the set must get through
(not 401/403, not the login page) — for a POST sent without its form that is usually a 4xx saying what is
missing, which proves the role check passed.
"""

from __future__ import annotations

import pytest
from catalogue_walk import sample
from conftest import deploy
from sqlalchemy import insert, select

from engine.catalogue import demo
from engine.catalogue.drafts import open_draft
from engine.desk.attachments import add_attachment
from engine.desk.caseops import copy_case
from engine.desk.casework import complete_task, start_case
from engine.org import accounts, orgtree
from engine.reads import queries
from engine.store.tables import api_tokens, case_warnings, cases, incidents, notifications
from engine.time import clock

ROLES = {  # role → login (None: anonymous)
    "anonymous": None, "applicant": "wangwu", "case_applicant": "lisi", "clerk_handling": "rs-handle",
    "clerk_other_dept": "jg-window", "clerk_village": "liangzi-gaotang-window", "analyst": "analyst",
    "supervisor": "supervisor", "auditor": "auditor", "admin": "admin",
}
ALL = frozenset(ROLES)
LOGGED_IN = ALL - {"anonymous"}
APPLICANTS = frozenset({"applicant", "case_applicant"})
CLERKS = frozenset({"clerk_handling", "clerk_other_dept", "clerk_village"})
CONCERNED = frozenset({"case_applicant", "clerk_handling", "supervisor", "auditor", "admin"})
CONCERNED_STAFF = frozenset({"clerk_handling", "supervisor", "auditor", "admin"})
HANDLER = frozenset({"clerk_handling", "admin"})  # may act on the case's open task
ADMIN = frozenset({"admin"})
STUDIO = frozenset({"analyst", "admin"})
WATCH = frozenset({"supervisor", "admin"})
AUDIT = frozenset({"auditor", "admin"})
FEED = frozenset({"supervisor", "auditor", "admin"})
NOBODY: frozenset[str] = frozenset()
# public routes that answer 403 until the code is proven
OPEN_BUT_PROVEN = {"follow.case", "follow.answer", "follow.notice", "follow.notice_pdf", "follow.withdraw"}

# endpoint → (method, path template, who may); `{case}`, `{task}`… are filled in from the world below.
EXPECTED: dict[str, list[tuple]] = {  # (method, path, who may[, form or JSON fields])
    "auth.index": [("GET", "/", ALL)],
    "auth.login": [("GET", "/login", ALL)],
    "auth.logout": [("POST", "/logout", LOGGED_IN)],
    "static": [("GET", "/static/css/onewindow.css", ALL)],
    "vendor.bpmn_js": [("GET", "/vendor/bpmn-js/bpmn-viewer.production.min.js", ALL)],
    "vendor.echarts": [("GET", "/vendor/echarts/echarts.min.js", ALL)],
    "vendor.dmn_js": [("GET", "/vendor/dmn-js/dmn-modeler.production.min.js", ALL)],
    "register.start": [("GET", "/register", ALL)],
    "register.create": [("POST", "/register", ALL)],
    "register.send_code": [("POST", "/register/code", ALL)],
    # the hall: open to all; applying needs an applicant or a clerk; a receipt is the case's
    "hall.items": [("GET", "/hall", ALL)],
    "hall.item": [("GET", "/hall/items/RS-006", ALL)],
    "hall.print_guide": [("GET", "/hall/items/RS-006/print", ALL)],
    "hall.apply": [("POST", "/hall/items/RS-006/apply", APPLICANTS | CLERKS | ADMIN)],
    "hall.receipt": [("GET", "/hall/receipts/{case}", CONCERNED)],
    "hall.notice": [("GET", "/hall/notices/{document}", CONCERNED)],  # a notice (文书): the case's people only
    "hall.notice_pdf": [("GET", "/hall/notices/{document}/pdf", CONCERNED)],
    "follow.lookup": [("GET", "/hall/follow", ALL), ("POST", "/hall/follow", ALL)],
    "follow.case": [("GET", "/hall/follow/{case}", NOBODY)],  # only after the follow-up code: nobody here
    "follow.answer": [("POST", "/hall/follow/{case}/answer", NOBODY)],
    "follow.withdraw": [("POST", "/hall/follow/{case}/withdraw", NOBODY)],  # only after the follow-up code
    "follow.notice": [("GET", "/hall/follow/{case}/notices/{document}", NOBODY)],
    "follow.notice_pdf": [("GET", "/hall/follow/{case}/notices/{document}/pdf", NOBODY)],
    # 撤回申请 from the hall: the case's own applicant (the engine decides; admin too is refused). The statement is
    # over 500 characters, so the engine refuses it after the applicant check and nothing is withdrawn here
    "hall.withdraw": [("POST", "/hall/cases/{case}/withdraw", {"case_applicant"},
                       {"confirm": "yes", "statement": "撤" * 501})],
    # 我的办件: an applicant's own list; one case and its 补正 online for the case's own applicant only
    "hall.mine": [("GET", "/hall/mine", APPLICANTS | ADMIN)],
    "hall.my_case": [("GET", "/hall/mine/{case}", {"case_applicant"})],
    "hall.answer_supplement": [("POST", "/hall/mine/{case}/supplement", {"case_applicant"})],
    "ratings.rate_page": [("GET", "/hall/cases/{case}/rate", {"case_applicant"})],  # the applicant's own act
    "ratings.rate": [("POST", "/hall/cases/{case}/rate", {"case_applicant"})],
    # a case and its diagram: those it concerns
    "cases.lookup": [("GET", "/cases", LOGGED_IN)],
    "cases.case": [("GET", "/cases/{case}", CONCERNED)],
    "cases.diagram": [("GET", "/cases/{case}/diagram.bpmn", CONCERNED)],
    # the desk: clerks; the case's task: its group; the case's files and notes: clerks it concerns
    "desk.tasks": [("GET", "/desk", CLERKS | ADMIN)],
    "desk.copies": [("GET", "/desk/copies", CLERKS | ADMIN)],
    "desk.delegated": [("GET", "/desk/delegated", CLERKS | ADMIN)],
    # messages: each person reads what is addressed to them (own, group, chief, role rows), whatever their role
    "desk.messages": [("GET", "/desk/messages", LOGGED_IN)],
    "desk.mark_read": [("POST", "/desk/notices/{notice}/read", {"clerk_handling"})],  # one's own messages only
    "desk.task": [("GET", "/desk/tasks/{task}", HANDLER)],
    "desk.complete": [("POST", "/desk/tasks/{task}", HANDLER)],
    "desk.claim": [("POST", "/desk/tasks/{task}/claim", HANDLER)],
    "desk.claim_many": [("POST", "/desk/claim", CLERKS | ADMIN)],  # 批量签收: the engine refuses each task it must
    "desk.release": [("POST", "/desk/tasks/{task}/release", HANDLER)],
    "desk.transfer": [("POST", "/desk/tasks/{task}/transfer", HANDLER)],
    "desk.delegate": [("POST", "/desk/tasks/{task}/delegate", HANDLER)],
    "desk.recall": [("POST", "/desk/tasks/{task}/recall", HANDLER)],
    "desk.send_back": [("POST", "/desk/tasks/{task}/send-back", HANDLER)],
    "desk.send_to_earlier": [("POST", "/desk/tasks/{task}/return", HANDLER)],
    "desk.upload": [("POST", "/desk/cases/{case}/attachments", {"case_applicant", "clerk_handling", "admin"})],
    "desk.download": [("GET", "/desk/cases/{case}/attachments/{attachment}", CONCERNED)],
    "desk.comment": [("POST", "/desk/cases/{case}/comments", HANDLER | {"supervisor"})],  # a supervisor's note
    "desk.copy": [("POST", "/desk/cases/{case}/copy", HANDLER)],
    "desk.check_materials": [("POST", "/desk/cases/{case}/materials", HANDLER)],
    "desk.urge": [("POST", "/desk/cases/{case}/urge", NOBODY)],  # only who handled a step (here: the town)
    # 撤回申请 at the window: a clerk the case concerns (the statement is required, so nothing is withdrawn here);
    # 终止: a chief of a group handling the case — admin passes the role check, and the empty reason is refused
    "desk.withdraw_application": [("POST", "/desk/cases/{case}/withdraw-application", HANDLER)],
    "desk.terminate": [("POST", "/desk/cases/{case}/terminate", ADMIN)],
    # 加签: the task's handler names a reviewer (no mode sent: the engine refuses, nothing is added); the answer:
    # a clerk or chief the case concerns gets through to the engine (no 加签 here: refused with its message)
    "desk.add_countersign": [("POST", "/desk/tasks/{task}/countersign", HANDLER)],
    "desk.answer_countersign": [("POST", "/desk/tasks/{task}/countersign/answer", HANDLER)],
    # 延期: only the head (chief) of the organ handling the case — nobody of these logins (admin included: the
    # platform's administrator is not the organ's head, 行政许可法第四十二条); 特别程序: a handler of the open step
    "desk.extend": [("POST", "/desk/cases/{case}/extend", NOBODY)],
    "desk.suspend": [("POST", "/desk/cases/{case}/suspend", HANDLER)],
    "desk.resume": [("POST", "/desk/cases/{case}/resume", HANDLER)],
    "desk.withdraw": [("POST", "/desk/cases/{case}/withdraw", NOBODY, {"task_id": "{completed}"})],  # the town did
    # the studio: analysts
    "studio.index": [("GET", "/studio/", STUDIO)],
    "studio.open_draft_form": [("POST", "/studio/items/RS-006/drafts", STUDIO)],
    "studio.modeler": [("GET", "/studio/drafts/{draft}", STUDIO)],
    "studio.item_editor": [("GET", "/studio/drafts/{draft}/item", STUDIO)],
    "studio.new_item": [("GET", "/studio/new", STUDIO), ("POST", "/studio/new", STUDIO)],
    "studio.decision_editor": [("GET", "/studio/drafts/{draft}/decisions/registration_fee.dmn", STUDIO)],
    "studio.form_editor": [("GET", "/studio/drafts/{draft}/forms/catalogue-accept.json", STUDIO)],
    "studio.draft_file": [("GET", "/studio/drafts/{draft}/files/item.json", STUDIO)],
    "studio.save_draft_file": [("POST", "/studio/drafts/{draft}/files/item.json", STUDIO)],
    "studio.lint": [("POST", "/studio/drafts/{draft}/lint", STUDIO)],
    "studio.upload": [("POST", "/studio/drafts/{draft}/upload", STUDIO)],
    "studio.deploy": [("POST", "/studio/drafts/{draft}/deploy", STUDIO)],
    "studio.form_preview": [("POST", "/studio/forms/preview", STUDIO)],
    "studio.version_diagram": [("GET", "/studio/items/RS-006/versions/1/diagram.bpmn", STUDIO)],
    "studio.version_file": [("GET", "/studio/items/RS-006/versions/1/files/item.json", STUDIO)],
    "studio_versions.versions": [("GET", "/studio/items/RS-006/versions", STUDIO)],
    "studio_versions.diff": [("GET", "/studio/items/RS-006/diff", STUDIO)],
    "studio_versions.diagram": [("GET", "/studio/items/RS-006/versions/1/process.bpmn", STUDIO)],
    "studio_versions.migrate": [("GET", "/studio/items/RS-006/migrate", STUDIO)],
    "studio_versions.migrate_post": [("POST", "/studio/items/RS-006/migrate", STUDIO)],
    "studio_versions.withdraw": [("POST", "/studio/items/RS-006/withdraw", STUDIO)],
    "studio_versions.request_withdrawal": [("POST", "/studio/items/RS-006/withdrawal-request", STUDIO)],
    # the watch: supervisors; incidents are acted on by operators
    "watch.index": [("GET", "/watch", WATCH)],
    "watch.dashboard_json": [("GET", "/watch/dashboard.json", WATCH)],
    "watch.warnings": [("GET", "/watch/warnings", WATCH)],
    "watch.acknowledge": [("POST", "/watch/warnings/{warning}/acknowledge", WATCH)],
    "watch.acknowledge_many": [("POST", "/watch/warnings/acknowledge", WATCH)],
    "watch.chase": [("POST", "/watch/cases/{case}/chase", WATCH)],
    "watch.exception": [("POST", "/watch/cases/{case}/exception", WATCH)],
    "watch.incidents_page": [("GET", "/watch/incidents", WATCH)],
    "watch.retry_incident": [("POST", "/watch/incidents/{incident}/retry", ADMIN)],
    "watch.resolve_incident": [("POST", "/watch/incidents/{incident}/resolve", ADMIN)],
    "watch.performance_page": [("GET", "/watch/performance", WATCH)],
    "watch.performance_csv": [("GET", "/watch/performance.csv", WATCH)],
    "watch.performance_xlsx": [("GET", "/watch/performance.xlsx", WATCH)],
    "watch.reports_page": [("GET", "/watch/reports", WATCH)],
    "watch.report_file": [("GET", "/watch/reports/daily/none.csv", WATCH)],
    "watch.weights": [("GET", "/watch/weights", ADMIN), ("POST", "/watch/weights", ADMIN)],
    "watch.rectify_days": [("POST", "/watch/rectify-days", ADMIN)],
    "watch.chase_days": [("POST", "/watch/chase-days", ADMIN)],
    # the auditor
    "audit.search": [("GET", "/audit", AUDIT)],
    "audit.export_csv": [("GET", "/audit/export.csv", AUDIT)],
    "audit.verify": [("GET", "/audit/verify", AUDIT)],
    "audit.views": [("GET", "/audit/views", AUDIT)],
    "audit.case": [("GET", "/audit/cases/{case}", AUDIT)],
    "audit.case_json": [("GET", "/audit/cases/{case}.json", AUDIT)],
    "audit.replay": [("GET", "/audit/cases/{case}/replay", AUDIT)],
    "audit.replay_json": [("GET", "/audit/cases/{case}/replay.json", AUDIT)],
    # the administrator
    "admin.calendar": [("GET", "/admin/calendar", ADMIN)],
    "admin.set_override": [("POST", "/admin/calendar/overrides", ADMIN)],
    "admin.remove_override": [("POST", "/admin/calendar/overrides/2026-10-01/delete", ADMIN)],
    "admin.tokens": [("GET", "/admin/tokens", ADMIN)],
    "admin.revoke_token": [("POST", "/admin/tokens/{token}/revoke", ADMIN)],
    # the API, with each role's bearer token
    "api.openapi": [("GET", "/api/v1/openapi.json", ALL)],
    "api.items": [("GET", "/api/v1/items", LOGGED_IN)],
    "api.start_case": [("POST", "/api/v1/cases", APPLICANTS | CLERKS | ADMIN)],
    "api.case": [("GET", "/api/v1/cases/{case}", CONCERNED)],
    "api.history": [("GET", "/api/v1/cases/{case}/history", CONCERNED)],
    "api.tasks": [("GET", "/api/v1/tasks", CLERKS | ADMIN)],
    "api.task": [("GET", "/api/v1/tasks/{task}", HANDLER)],
    "api.claim": [("POST", "/api/v1/tasks/{task}/claim", HANDLER)],
    "api.release": [("POST", "/api/v1/tasks/{task}/release", HANDLER)],
    "api.complete": [("POST", "/api/v1/tasks/{task}/complete", HANDLER)],
    "api.transfer": [("POST", "/api/v1/tasks/{task}/transfer", HANDLER)],
    "api.delegate": [("POST", "/api/v1/tasks/{task}/delegate", HANDLER)],
    "api.return_task": [("POST", "/api/v1/tasks/{task}/return", HANDLER)],
    "api.copy": [("POST", "/api/v1/cases/{case}/copy", HANDLER, {"to": ["supervisor"]})],
    "api.urge": [("POST", "/api/v1/cases/{case}/urge", NOBODY)],
    "api.withdraw": [("POST", "/api/v1/cases/{case}/withdraw", NOBODY, {"task_id": "{completed}"})],
    "api.feed_cases": [("GET", "/api/v1/feed/cases", FEED)],
}
LAST = {"auth.logout"}  # ends the session: run after everything else


@pytest.fixture
def world(snapshot):
    """Every role's people, a relayed RS-006 case with a file, a copy, a warning, an incident, a token and a
    draft to point routes at: built once per run, copied per role."""
    return snapshot(_world)


def _world(db) -> dict:
    orgtree.install(db)
    demo.seed_users(db)
    deploy(db, "catalogue/renshe/RS-006")
    accounts.create_user(db, "lisi", "secret-pw", "李四", ["applicant"])
    accounts.create_user(db, "wangwu", "secret-pw", "王五", ["applicant"])
    case_no = start_case(db, "RS-006", {"applicant_name": "李四", "id_number": "42070419800101123X"},
                         accounts.actor_for(db, "lisi"), unit="梁子镇").case_no
    add_attachment(db, case_no, "身份证.pdf", b"%PDF-1.4\n%%EOF\n", accounts.actor_for(db, "lisi"))
    for _ in range(10):
        [task] = queries.open_tasks(db, case_no=case_no)
        if task.candidate_group.startswith("区中心/"):
            break
        detail = queries.task_detail(db, task.task_id)
        offered = ((detail["schema"].get("properties") or {}).get("decision") or {}).get("enum")
        complete_task(db, task.task_id, sample(detail["schema"], offered[0] if offered else None),
                      accounts.actor_for(db, "liangzi-window"))
    copy_case(db, case_no, ["rs-handle"], accounts.actor_for(db, "liangzi-window"), "请知悉")
    done = [e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"]
    spare = start_case(db, "RS-006", {"applicant_name": "王五"}, accounts.actor_for(db, "wangwu"), unit="梁子镇")
    now = clock.now()
    with db.transaction() as conn:
        ids = dict(conn.execute(select(cases.c.case_no, cases.c.id)).all())
        incident = conn.execute(insert(incidents).values(
            case_id=ids[spare.case_no], kind="error", message="RuntimeError: 测试", first_at=now, last_at=now,
            attempts=5, next_retry_at=None).returning(incidents.c.id)).scalar_one()
        warning = conn.execute(insert(case_warnings).values(
            case_id=ids[case_no], level="yellow", kind="committed", task_id="", raised_at=now, due_at=now,
            notified=[]).returning(case_warnings.c.id)).scalar_one()
        notice = conn.execute(select(notifications.c.id).where(notifications.c.recipient == "user:rs-handle")
                              ).scalars().first()
    accounts.issue_token(db, "wangwu", "要吊销的令牌")
    with db.reading() as conn:
        token = conn.execute(select(api_tokens.c.id).where(api_tokens.c.label == "要吊销的令牌")).scalar_one()
    draft = open_draft(db, "RS-006", 1, accounts.actor_for(db, "analyst")).id
    return {"case": case_no, "task": task.task_id, "completed": done[-1]["data"]["task_id"], "attachment": 1,
            "notice": notice, "document": f"{case_no}-01", "draft": draft, "incident": incident, "warning": warning,
            "token": token}


def _client(app, db, role: str):
    client = app.test_client()
    login = ROLES[role]
    if login is not None:
        password = "secret-pw" if login in ("lisi", "wangwu") else demo.DEMO_PASSWORD
        response = client.post("/login", data={"username": login, "password": password})
        assert response.status_code == 302, f"{login} could not log in"
    token = accounts.issue_token(db, login, "matrix") if login else None
    return client, ({"Authorization": f"Bearer {token}"} if token else {})


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "a route without a line in EXPECTED: say who may use it"
    assert set(EXPECTED) - endpoints == set(), "EXPECTED names a route the app no longer has"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_route_answers_each_role_as_expected(db, world, role):
    from webapp import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "matrix", "DATABASE_URL": db.url,
                      "WTF_CSRF_ENABLED": False}, db=db)
    client, bearer = _client(app, db, role)
    wrong = []
    for endpoint in sorted(EXPECTED, key=lambda e: e in LAST):
        for method, template, allowed, *fields in EXPECTED[endpoint]:
            path = template.format(**world)
            api = path.startswith("/api/")
            given = {k: v.format(**world) if isinstance(v, str) else v for k, v in (fields or [{}])[0].items()}
            body = ({"json": given} if api else {"data": given}) if method == "POST" else {}  # past the body check
            response = client.open(path, method=method, headers=bearer if api else {}, **body)
            anonymous = role == "anonymous" and endpoint not in OPEN_BUT_PROVEN
            verdict = _judge(response, role in allowed, api, anonymous,
                             logs_out=endpoint == "auth.logout")
            if verdict:
                wrong.append(f"{method} {path} ({endpoint}): {verdict}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def _judge(response, allowed: bool, api: bool, anonymous: bool, logs_out: bool = False) -> str | None:
    """None when the answer is what the role should get, else what went wrong."""
    status = response.status_code
    to_login = status == 302 and "/login" in response.headers.get("Location", "")
    if status >= 500:
        return f"server error {status}"
    if allowed:
        if status in (401, 403) or (to_login and not logs_out):
            return f"refused ({status}) but should pass"
        return None
    if anonymous:
        return None if (status == 401 if api else to_login) else f"{status}, expected {'401' if api else 'login'}"
    return None if status == 403 else f"{status}, expected 403"
