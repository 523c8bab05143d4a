"""Running the `onewindow` command line in-process, for the CLI tests."""

from __future__ import annotations

import json

from onewindow import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys, *argv: str):
    status, out, err = run(capsys, "--json", *argv)
    assert status == 0, err
    return json.loads(out)


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]
