"""Several workers, one of them killed (issue 12, item 2; DESIGN "a worker is disposable").

The real server — `onewindow serve` with gunicorn and three workers on PostgreSQL — takes a joint-review case
(JG-002, S-6 rule 3) and a report-up case (RS-006 from a town, S-5/S-6 rule 4) over the JSON API. Right
after the acceptance, the worker that served it is killed: with SIGTERM for the joint case, with SIGKILL
(kill -9) for the report-up case. Every later step lands on whichever worker gunicorn picks, each loading
the case from the database; both cases must end as their answers imply, and verify and replay are clean.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from catalogue_walk import sample
from conftest import POSTGRES_URL, deploy
from test_cli import free_port

from engine.audit.replay import replay_case
from engine.audit.verify import verify_case
from engine.org import accounts, orgtree

CONSOLE_SCRIPT = Path(sys.executable).parent / "onewindow"
pytestmark = [pytest.mark.skipif(not POSTGRES_URL, reason="several workers need PostgreSQL (DATABASE_URL=…)"),
              pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")]
PID = re.compile(r'"POST (/api/v1/\S+) HTTP/[\d.]+" (\d+) .* pid=<?(\d+)>?')


class Server:
    """`onewindow serve --workers 3` in the background, its access log read line by line."""

    def __init__(self, db_url: str, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--port", str(port), "--workers", "3",
                                      "--threads", "2", "--no-scheduler"], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env={**os.environ, "DATABASE_URL": db_url})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def worker_of(self, path: str) -> int:
        """The pid of the worker that answered the last POST to `path`."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in reversed(self.lines):
                found = PID.search(line)
                if found and found.group(1) == path:
                    return int(found.group(3))
            time.sleep(0.1)
        raise AssertionError(f"no access log line for POST {path}: {self.lines[-5:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _call(server: Server, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(server.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()}") from exc
        except OSError:  # the server still starting
            if method != "GET" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _walk(server: Server, token: str, item: str, kill: signal.Signals) -> tuple[str, list[str], int]:
    """Apply, then answer every open task with its form's first answer; kill the acceptance's worker."""
    application = {"item": item, "data": {"applicant_name": "李四"}}
    case_no = _call(server, "POST", "/api/v1/cases", token, application)["case_no"]
    elements, killed = [], 0
    for _ in range(30):
        tasks = _call(server, "GET", f"/api/v1/tasks?case={case_no}", token)["tasks"]
        if not tasks:
            break
        task = tasks[-1]
        detail = _call(server, "GET", f"/api/v1/tasks/{task['task_id']}", token)
        schema = detail["schema"] if isinstance(detail["schema"], dict) else json.loads(detail["schema"])
        offered = ((schema.get("properties") or {}).get("decision") or {}).get("enum")
        path = f"/api/v1/tasks/{task['task_id']}/complete"
        _call(server, "POST", path, token, {"data": sample(schema, offered[0] if offered else None)})
        elements.append(task["element_id"])
        if task["element_id"] == "accept_review" and not killed:
            killed = server.worker_of(path)
            os.kill(killed, kill)
    return case_no, elements, killed


def test_joint_and_report_up_cases_survive_the_accepting_worker_being_killed(db):
    units = orgtree.install(db)
    deploy(db, "catalogue/jinggai/JG-002")
    deploy(db, "catalogue/renshe/RS-006")
    town = next(u.code for u in units if u.kind == "town")
    accounts.create_user(db, "walker", "secret-pw", "窗口", ["admin", "clerk"], [],
                         unit=orgtree.department_unit("区经济改革局"))
    accounts.create_user(db, "town-walker", "secret-pw", "镇窗口", ["admin", "clerk"], [], unit=town)
    district, at_town = accounts.issue_token(db, "walker", "test"), accounts.issue_token(db, "town-walker", "test")
    server = Server(db.url, free_port())
    try:
        _call(server, "GET", "/api/v1/items", district)  # up
        joint, joint_steps, joint_killed = _walk(server, district, "JG-002", signal.SIGTERM)
        relayed, relayed_steps, relayed_killed = _walk(server, at_town, "RS-006", signal.SIGKILL)
        joint_case = _call(server, "GET", f"/api/v1/cases/{joint}", district)
        relayed_case = _call(server, "GET", f"/api/v1/cases/{relayed}", at_town)
    finally:
        server.stop()
    assert joint_killed and relayed_killed and joint_killed != relayed_killed
    assert joint_steps.count("joint_opinion") >= 2 and "collate" in joint_steps, joint_steps
    assert "town_forward" in relayed_steps and relayed_steps[-1] == "deliver", relayed_steps
    for case in (joint_case, relayed_case):
        assert case["status"] == "approved" and case["closed_at"] and case["open_tasks"] == [], case
    served_by = {int(m.group(3)) for m in map(PID.search, server.lines) if m}
    assert len(served_by) >= 3, "the walk should have been served by several workers"
    for case_no in (joint, relayed):
        assert verify_case(db, case_no).ok
        assert replay_case(db, case_no).identical
