"""The operator command line: every command in-process through `onewindow.cli.main`, plus the console
script in a subprocess (bad input must give one line and a non-zero status, never a traceback).

Each test points DATABASE_URL at the `db` fixture, so the suite runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import one_error_line, run, run_json
from conftest import ACCEPT_DATA, PROCESSES, item_metadata, make_actor

from engine.catalogue import demo
from engine.org import accounts
from onewindow import benchmarks, cli, output, serving

CONSOLE_SCRIPT = Path(sys.executable).parent / "onewindow"


# --- output ---------------------------------------------------------------------------------------


def test_tables_align_chinese_by_display_width():
    assert output.display_width("受理窗口") == 8
    assert output.display_width("ab受") == 4
    table = output.render_table([{"a": "受理窗口", "b": 1}, {"a": "x", "b": 22}], [("a", "group"), ("b", "n")])
    lines = table.splitlines()
    starts = {output.display_width(line[: line.rindex("  ") + 2]) for line in lines}
    assert starts == {10}, table  # "n", its rule and both values start at the same terminal column


def test_cells_are_single_line_and_truncated():
    assert output.cell(None) == "-"
    assert output.cell(["a", "b"]) == "a, b"
    assert output.cell("one\ntwo") == "one two"
    long = output.cell("审" * 100, limit=11)
    assert long.endswith("…") and output.display_width(long) <= 11
    assert output.cell("2025-03-01T01:02:03.456+00:00").count(":") >= 2  # a time, to the second
    assert "." not in output.cell("2025-03-01T01:02:03.456+00:00").split("+")[0]


# --- init, lint, deploy ---------------------------------------------------------------------------


def test_init_demo_twice_is_idempotent(env_db, capsys):
    status, out, err = run(capsys, "init", "--demo")
    assert status == 0, err
    assert "demo1234" in out and "受理窗口" in out and "window" in out
    second = run_json(capsys, "init", "--demo")
    users = {u["username"]: u for u in second["demo"]["users"]}
    assert {"admin", "analyst", "supervisor", "auditor", "window", "housing", "fire", "env", "applicant"} <= set(users)
    assert users["housing"]["groups"] == ["住建审查"]
    assert second["demo"]["deployed"] and not any(d["created"] for d in second["demo"]["deployed"])
    assert second["demo"]["failed"] == []
    actor = accounts.authenticate(env_db, "window", demo.DEMO_PASSWORD)
    assert actor.groups == {"受理窗口"}
    codes = {i["code"] for i in run_json(capsys, "items")}
    assert "DEMO-001" in codes


def test_every_lane_gets_a_demo_clerk(tmp_path):
    item = tmp_path / "demo-x"
    item.mkdir()
    (item / "x.bpmn").write_text(TIMER_BPMN.replace('name="受理窗口"', 'name="测试专窗"'), encoding="utf-8")
    users = demo.demo_users(tmp_path)
    clerks = [u for u in users if "测试专窗" in u.groups]
    assert len(clerks) == 1 and clerks[0].username.startswith("clerk-")
    assert demo.demo_users(tmp_path) == users  # stable: seeding twice updates the same user


def test_lint_good_item(capsys):
    status, out, _ = run(capsys, "lint", str(PROCESSES / "demo-joint-review"))
    assert status == 0
    assert "ok" in out and "0 error(s)" in out


def write_item(folder: Path, bpmn: str, form: str | None = '{"type": "object"}') -> Path:
    folder.mkdir(parents=True)
    (folder / "item.json").write_text(json.dumps(item_metadata("T-" + folder.name.upper())), encoding="utf-8")
    (folder / "main.bpmn").write_text(bpmn, encoding="utf-8")
    if form is not None:
        (folder / "wait.json").write_text(form, encoding="utf-8")
    return folder


def test_lint_bad_items_name_the_element(tmp_path, capsys):
    missing_form = write_item(tmp_path / "missing-form",
                              TIMER_BPMN.replace('value="wait.json"', 'value="nope.json"'))
    unknown = write_item(tmp_path / "unknown", TIMER_BPMN.replace(
        '<bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>',
        '<bpmn:doneEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:doneEvent>'))
    malformed = write_item(tmp_path / "malformed",
                           TIMER_BPMN.replace('<bpmn:userTask id="wait"', '<bpmn:userTask id="wait'))

    status, out, _ = run(capsys, "lint", str(missing_form), str(unknown), str(malformed))
    assert status == 1
    assert "main.bpmn:wait:" in out and "nope.json" in out  # file:element: message — fix
    assert "main.bpmn:done:" in out and "bpmn:doneEvent" in out
    assert "main.bpmn" in out.split(str(malformed))[1] and "line" in out.split(str(malformed))[1]
    assert "—" in out and "3 error(s)" in out

    report = run_json_status(capsys, 1, "lint", str(missing_form))
    assert report[0]["ok"] is False
    assert report[0]["findings"][0]["element_id"] == "wait"


def run_json_status(capsys, expected: int, *argv: str):
    status, out, err = run(capsys, "--json", *argv)
    assert status == expected, err
    return json.loads(out)


def test_lint_a_lone_diagram_skips_item_metadata(tmp_path, capsys):
    bpmn = tmp_path / "sketch.bpmn"
    bpmn.write_text(TIMER_BPMN, encoding="utf-8")
    (tmp_path / "wait.json").write_text('{"type": "object"}', encoding="utf-8")
    status, out, _ = run(capsys, "lint", str(bpmn))
    assert status == 0, out
    status, out, _ = run(capsys, "lint", str(tmp_path))
    assert status == 0 and "item.json" in out  # a folder as a sketch: deploying it would need item.json
    status, out, _ = run(capsys, "lint", str(PROCESSES / "shared"))
    assert status == 0 and "item.json" not in out, out  # call activities are never items: nothing to warn


def test_lint_missing_path(capsys, tmp_path):
    status, out, _ = run(capsys, "lint", str(tmp_path / "nowhere"))
    assert status == 1 and "FAILED" in out


def test_deploy_then_identical_redeploy_is_a_noop(env_db, capsys):
    first = run_json(capsys, "deploy", str(PROCESSES / "demo-joint-review"))
    assert first["created"] is True and first["version"] == 1 and first["item_code"] == "DEMO-001"
    status, out, _ = run(capsys, "deploy", str(PROCESSES / "demo-joint-review"))
    assert status == 0 and "DEMO-001" in out
    again = run_json(capsys, "deploy", str(PROCESSES / "demo-joint-review"))
    assert again["created"] is False and again["version"] == 1


def test_deploy_all_and_bad_deploys(env_db, tmp_path, capsys):
    result = run_json(capsys, "deploy", "--all")
    assert result["failed"] == [] and any(d["item_code"] == "DEMO-001" for d in result["deployed"])
    status, _, err = run(capsys, "deploy")
    assert status == 2 and "--all" in one_error_line(err)
    bad = write_item(tmp_path / "bad", TIMER_BPMN.replace('value="wait.json"', 'value="nope.json"'))
    status, _, err = run(capsys, "deploy", str(bad))
    assert status == 1 and "wait" in one_error_line(err)
    status, _, err = run(capsys, "deploy", str(PROCESSES / "demo-joint-review"), "--as", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)


# --- casework -------------------------------------------------------------------------------------


def test_case_lifecycle_with_json_and_tables(env_db, joint, clerk, capsys, tmp_path):
    started = run_json(capsys, "start", "DEMO-001", "--data", json.dumps({"applicant_name": "张三"}), "--as", "clerk")
    case_no = started["case_no"]
    assert started["version"] == 1 and len(started["open_tasks"]) == 1

    status, out, _ = run(capsys, "tasks", "--as", "clerk")
    assert status == 0 and case_no in out and "受理窗口" in out
    tasks = run_json(capsys, "tasks", "--case", case_no)
    accept = tasks[0]["task_id"]

    status, out, _ = run(capsys, "claim", accept, "--as", "clerk")
    assert status == 0 and "claimed by clerk" in out
    assert run_json(capsys, "tasks", "--case", case_no)[0]["assignee"] == "clerk"
    assert run_json(capsys, "release", accept, "--as", "clerk")["assignee"] is None
    run(capsys, "claim", accept, "--as", "clerk")

    data_file = tmp_path / "accept.json"
    data_file.write_text(json.dumps(ACCEPT_DATA, ensure_ascii=False), encoding="utf-8")
    done = run_json(capsys, "complete", accept, "--data", f"@{data_file}", "--as", "clerk")
    assert done["case_no"] == case_no and len(done["open_tasks"]) == 3

    for task in done["open_tasks"]:
        status, out, _ = run(capsys, "complete", task["task_id"], "--data", '{"opinion": "同意"}', "--as", "clerk")
        assert status == 0 and case_no in out
    issue = run_json(capsys, "tasks", "--case", case_no)[0]["task_id"]
    finished = run_json(capsys, "complete", issue, "--data", '{"certificate_no": "JY-001"}', "--as", "clerk")
    assert finished["open_tasks"] == [] and finished["closed_at"]

    detail = run_json(capsys, "case", case_no)
    assert detail["status"] == "completed" and detail["item_code"] == "DEMO-001"
    status, out, _ = run(capsys, "case", case_no)
    assert status == 0 and "completed" in out and "餐饮服务许可" in out

    history = run_json(capsys, "history", case_no)
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert history[0]["type"] == "case_started" and history[-1]["type"] == "case_closed"
    status, out, _ = run(capsys, "history", case_no)
    assert status == 0 and "task_completed" in out and "review_fire" in out


def test_casework_refusals_are_one_line(env_db, joint, clerk, capsys):
    make_other = accounts.create_user(env_db, "outsider", "pw-12345", "局外人", ["clerk"], ["环保审查"])
    assert make_other is None
    case_no = run_json(capsys, "start", "DEMO-001", "--as", "clerk")["case_no"]
    task = run_json(capsys, "tasks", "--case", case_no)[0]["task_id"]

    status, _, err = run(capsys, "claim", task, "--as", "outsider")
    assert status == 1 and "受理窗口" in one_error_line(err)
    status, out, err = run(capsys, "--json", "complete", task, "--data", '{"decision": "受理"}', "--as", "clerk")
    assert status == 1
    assert json.loads(out)["error"] == "invalid_form" and "id_number" in json.loads(out)["field_errors"]
    one_error_line(err)
    status, _, err = run(capsys, "complete", "no-such-task", "--as", "clerk")
    assert status == 1 and "no-such-task" in one_error_line(err)
    status, _, err = run(capsys, "case", "19700101000000")
    assert status == 1 and "19700101000000" in one_error_line(err)
    status, _, err = run(capsys, "start", "NOPE", "--as", "clerk")
    assert status == 1 and "NOPE" in one_error_line(err)
    status, _, err = run(capsys, "tasks", "--as", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)


@pytest.mark.parametrize(("argv", "needle"), [
    (["start", "DEMO-001", "--data", "{bad", "--as", "clerk"], "not valid JSON"),
    (["start", "DEMO-001", "--data", "[1, 2]", "--as", "clerk"], "JSON object"),
    (["start", "DEMO-001", "--data", "@/no/such/file.json", "--as", "clerk"], "no such file"),
    (["start", "DEMO-001"], "--as"),
    (["tick", "--now", "next tuesday"], "ISO 8601"),
    (["frobnicate"], "invalid choice"),
    (["scheduler", "--interval", "0"], "seconds"),
    (["user"], "user add"),
])
def test_bad_input_exits_2_with_one_line(env_db, capsys, argv, needle):
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert needle in one_error_line(err)


def test_errors_as_json_with_the_json_flag(env_db, capsys):
    status, out, err = run(capsys, "--json", "tick", "--now", "soon")
    assert status == 2 and json.loads(out)["error"] == "usage"
    status, out, err = run(capsys, "case", "nope", "--json")  # --json after the command works too
    assert status == 1 and json.loads(out)["error"] == "not_found"
    one_error_line(err)


def test_unexpected_errors_exit_3_without_traceback(env_db, capsys, monkeypatch):
    from engine.reads import queries

    def broken(db):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "list_items", broken)
    status, _, err = run(capsys, "items")
    assert status == 3 and "--debug" in one_error_line(err) and "boom" in err
    with pytest.raises(RuntimeError):
        cli.main(["items", "--debug"])


def test_database_errors_are_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")  # never initialised
    status, _, err = run(capsys, "tasks")
    assert status == 1 and "onewindow init" in one_error_line(err)
    status, _, err = run(capsys, "scheduler", "--count", "1")
    assert status == 1 and "onewindow init" in one_error_line(err)


# --- tick and the scheduler -----------------------------------------------------------------------

TIMER_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_t" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="timer_item" isExecutable="true">
    <bpmn:laneSet id="LaneSet_t">
      <bpmn:lane id="Lane_t" name="受理窗口">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>wait</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>overdue</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>expired</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="wait" name="等待补正">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="wait.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="overdue" name="超时" attachedToRef="wait">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerDef_t">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1H"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="expired"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="overdue" targetRef="expired" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_tick_now_in_the_future(env_db, joint, clerk, capsys):
    empty = run_json(capsys, "tick", "--now", "2099-01-01T00:00:00")
    assert empty == {"now": "2099-01-01T00:00:00+00:00", "fired": [], "conflicts": [], "errors": [], "stalled": []}
    status, out, _ = run(capsys, "tick")
    assert status == 0 and "0 timer(s) fired" in out


def test_tick_fires_a_due_timer(env_db, clerk, tmp_path, capsys):
    item = write_item(tmp_path / "timer", TIMER_BPMN)
    assert run_json(capsys, "deploy", str(item))["created"] is True
    case_no = run_json(capsys, "start", "T-TIMER", "--as", "clerk")["case_no"]
    due = run_json(capsys, "case", case_no)["timers"]
    assert [t["element_id"] for t in due] == ["overdue"]

    now = datetime.now(UTC)
    early = run_json(capsys, "tick", "--now", (now + timedelta(minutes=30)).isoformat())
    assert early["fired"] == []
    status, out, _ = run(capsys, "tick", "--now", (now + timedelta(hours=2)).isoformat())
    assert status == 0 and "1 timer(s) fired" in out and case_no in out and "overdue" in out
    assert run_json(capsys, "case", case_no)["status"] == "completed"
    assert any(e["type"] == "timer_fired" for e in run_json(capsys, "history", case_no))


def test_scheduler_runs_counted_ticks(env_db, capsys):
    status, out, _ = run(capsys, "scheduler", "--interval", "0.05", "--count", "2")
    assert status == 0 and "stopped after 2 tick(s)" in out
    status, out, _ = run(capsys, "scheduler", "--interval", "0.05", "--count", "1", "--json")
    assert status == 0 and json.loads(out.splitlines()[-1]) == {"stopped": True, "ticks": 1, "fired": 0,
                                                                  "failed_ticks": 0}


# --- people ---------------------------------------------------------------------------------------


def test_user_add_list_and_token(env_db, capsys):
    status, out, _ = run(capsys, "user", "add", "wangfang", "--password", "pw-123456", "--name", "王芳",
                         "--role", "clerk", "--group", "受理窗口,住建审查")
    assert status == 0 and "created" in out
    updated = run_json(capsys, "user", "add", "wangfang", "--password", "pw-654321", "--role", "clerk,supervisor")
    assert updated["created"] is False and updated["display_name"] == "王芳"
    assert updated["groups"] == sorted(["受理窗口", "住建审查"])  # omitted options keep what the user had
    assert accounts.authenticate(env_db, "wangfang", "pw-654321").roles == {"clerk", "supervisor"}

    listed = {u["username"]: u for u in run_json(capsys, "user", "list")}
    assert listed["wangfang"]["roles"] == ["clerk", "supervisor"]
    status, out, _ = run(capsys, "user", "list")
    assert "王芳" in out

    status, out, err = run(capsys, "token", "wangfang")
    token = out.strip()
    assert status == 0 and "only this once" in err and len(token) > 20
    assert accounts.actor_for_token(env_db, token).username == "wangfang"
    issued = run_json(capsys, "token", "wangfang", "--label", "ci")
    assert issued["label"] == "ci" and issued["token"] != token

    status, _, err = run(capsys, "user", "add", "bob", "--password", "pw-123456", "--role", "wizard")
    assert status == 1 and "wizard" in one_error_line(err)
    status, _, err = run(capsys, "token", "ghost")
    assert status == 1 and "ghost" in one_error_line(err)


def test_user_add_without_password_outside_a_terminal(env_db, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    status, _, err = run(capsys, "user", "add", "bob", "--role", "clerk")
    assert status == 2 and "--password" in one_error_line(err)


# --- bench ----------------------------------------------------------------------------------------


def test_bench_discovers_and_passes_arguments(tmp_path, capsys, monkeypatch):
    (tmp_path / "echo_args.py").write_text(
        "def main(argv):\n    print('ARGS', argv)\n    return 3 if '--fail' in argv else 0\n", encoding="utf-8")
    (tmp_path / "helpers.py").write_text("VALUE = 1\n", encoding="utf-8")  # no main: not a benchmark
    monkeypatch.setattr(benchmarks, "bench_dir", lambda: tmp_path)

    assert [b["name"] for b in run_json(capsys, "bench", "--list")] == ["echo_args"]
    status, out, _ = run(capsys, "bench", "echo_args", "--rounds", "3")
    assert status == 0 and "ARGS ['--rounds', '3']" in out
    results = run_json_status(capsys, 1, "bench", "echo_args", "--fail")
    assert results[0]["status"] == 3 and "--fail" in results[0]["output"]
    status, _, err = run(capsys, "bench", "nope")
    assert status == 1 and "echo_args" in one_error_line(err)


def test_project_benchmarks_are_discoverable():
    for name, path in benchmarks.discover().items():
        assert path.suffix == ".py" and name == path.stem


# --- serve ----------------------------------------------------------------------------------------


def test_gunicorn_settings():
    options = serving.ServeOptions("::1", 8000, 2, 4, True, 5.0, "sqlite:///x.db")
    settings = serving.gunicorn_settings(options)
    assert settings["bind"] == ["[::1]:8000"] and settings["threads"] == 4 and settings["workers"] == 2
    assert callable(settings["post_worker_init"]) and callable(settings["worker_exit"])
    quiet = serving.gunicorn_settings(serving.ServeOptions("127.0.0.1", 5000, 1, 4, False, 5.0, "sqlite:///x.db"))
    assert "post_worker_init" not in quiet
    assert serving.masked("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_serve_port_in_use_is_one_line(env_db, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        status, _, err = run(capsys, "serve", "--port", str(busy.getsockname()[1]))
    assert status == 1 and "--port" in one_error_line(err)


# --- the console script ---------------------------------------------------------------------------

needs_script = pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")


def script(*argv: str, db_url: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run([str(CONSOLE_SCRIPT), *argv], capture_output=True, text=True, env=env, timeout=timeout)


@needs_script
def test_console_script(db):
    ok = script("--json", "init", db_url=db.url)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["schema"] == "head"
    for argv, status in ((["start", "DEMO-001", "--data", "{oops", "--as", "x"], 2),
                         (["tick", "--now", "not-a-time"], 2),
                         (["case", "nope"], 1),
                         (["no-such-command"], 2)):
        bad = script(*argv, db_url=db.url)
        assert bad.returncode == status, (argv, bad.stderr)
        assert "Traceback" not in bad.stderr and bad.stdout == ""
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("error: ")


@needs_script
def test_scheduler_stops_on_sigterm(db):
    env = {**os.environ, "DATABASE_URL": db.url}
    proc = subprocess.Popen([str(CONSOLE_SCRIPT), "scheduler", "--interval", "0.2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "ticking every" in proc.stdout.readline()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "scheduler stopped" in out and "Traceback" not in err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_script
def test_serve_answers_and_stops_on_sigterm(db):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db.url}
    proc = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--port", str(port), "--tick-seconds", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner, proc.stderr.read() if proc.poll() is not None else banner
        status = _get_status(f"http://127.0.0.1:{port}/", deadline=time.monotonic() + 20)
        assert status < 500
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "embedded scheduler" in err


def _get_status(url: str, deadline: float) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    while True:
        try:
            with opener.open(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_replay_says_identical_and_extend_needs_a_chief(env_db, joint, clerk, capsys):
    from engine.desk.casework import complete_task, start_case
    from engine.reads.queries import open_tasks

    make_actor(env_db, "chief", ["受理窗口", "住建审查", "消防审查", "环保审查"], ["chief"])  # as the demo's
    case = start_case(env_db, "DEMO-001", {}, clerk)
    complete_task(env_db, open_tasks(env_db, case_no=case.case_no)[0].task_id, ACCEPT_DATA, clerk)
    status, out, _ = run(capsys, "replay", case.case_no)
    assert status == 0 and "identical" in out and "task_completed" in out
    payload = run_json(capsys, "replay", case.case_no)
    assert payload["identical"] and len(payload["steps"]) == 2
    status, _, err = run(capsys, "extend", case.case_no, "--days", "2", "--reason", "现场核查", "--as", "clerk")
    assert status == 1 and "负责人" in one_error_line(err)
    payload = run_json(capsys, "extend", case.case_no, "--days", "2", "--reason", "现场核查", "--as", "chief")
    assert payload["extension_days"] == 2
