"""bench/http_load.py runs as `onewindow bench` runs it: a tiny load (1 worker, 1 client) ends with 0 errors.

No figure is asserted (timings belong to the bench's output); what is checked is that the real server took
whole approvals through the JSON API from start to closed case, that the bench counted them and the CPU they
took, and that it refuses arguments and databases it must not run with.
"""

from __future__ import annotations

import json
import sys

import pytest
from conftest import POSTGRES_URL, ROOT

from onewindow import benchmarks

sys.path.insert(0, str(ROOT / "bench"))
import http_load  # bench/ is not a package: onewindow bench puts it on the path the same way


@pytest.mark.skipif(not POSTGRES_URL, reason="the load bench serves from PostgreSQL (DATABASE_URL=…)")
def test_a_tiny_run_takes_whole_approvals_with_no_error():
    argv = ["--postgres", POSTGRES_URL, "--workers", "1", "--clients", "1", "--seconds", "60", "--approvals", "2",
            "--pairs", "1", "--json"]
    result = benchmarks.run("http_load", ROOT / "bench" / "http_load.py", argv, capture=True)
    assert result.status == 0
    figures = json.loads(result.output)
    assert figures["targets"]["errors"]["value"] == 0, figures
    (load,) = figures["load"]
    assert load["approvals"] == 2 and load["errors"] == []
    assert {kind: f["count"] for kind, f in load["kinds"].items()} == {"start": 2, "list": 10, "claim": 10,
                                                                         "complete": 10, "case": 2}
    assert load["cpu_ms_per_approval"]["workers"] > 0 and load["cpu_ms_per_approval"]["postgres"] > 0
    assert set(figures["serial"]["kinds"]) == set(http_load.KINDS)


@pytest.mark.parametrize("argv", [["--clients", "0"], ["--workers", "1", "0"], ["--seconds", "-1"]])
def test_arguments_that_cannot_run_are_refused(argv):
    with pytest.raises(SystemExit):
        http_load.parse_args(argv)


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:5432/onewindow",
                                 "sqlite:///tmp/test.db"])
def test_only_a_postgresql_test_database_is_used(url):
    with pytest.raises(SystemExit, match="test database"):
        http_load.check_test_database(url)


def test_the_two_worker_ceiling_follows_the_cpu_an_approval_takes():
    # PostgreSQL and the clients taking half a worker's CPU leave 2 cores / 1.5 = 1.33 for the second worker.
    assert http_load.two_vs_one_ceiling({"workers": 80, "postgres": 30, "clients": 10}, cores=2) \
        == pytest.approx(2 * 80 / 120)
    assert http_load.two_vs_one_ceiling({"workers": 80, "postgres": 0, "clients": 0}, cores=2) == pytest.approx(2)
    assert http_load.two_vs_one_ceiling({"workers": 80, "postgres": 0, "clients": 0}, cores=1) == pytest.approx(1)
