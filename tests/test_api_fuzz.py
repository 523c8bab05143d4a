"""Property-based fuzzing of /api/v1 from its own OpenAPI document: no operation answers with a 5xx
(issue 13, fuzzing).

Schemathesis generates, from the document /api/v1/openapi.json serves, inputs every operation allows and
many it does not, and sends each through the app's WSGI interface (no server), as an administrator who is
also a clerk of every group, against real data: the demo items deployed and cases started, whose numbers,
open tasks and item codes are mixed into the generated paths and bodies so the fuzzer reaches past "not
found". Besides the random examples (bounded, derandomized: a run is reproducible), schemathesis's coverage
phase sends each parameter's boundaries and wrong types (`after=2147483648` for the feed); the whole run
stays under a minute on either database.

The schema is built when the module loads, from the same dict the route answers with (the first test holds
them equal): schemathesis's fixture-loaded schemas rename pytest's test nodes through a private attribute
that pytest 9 no longer has.
"""

from __future__ import annotations

import zlib
from typing import Any

import hypothesis
import pytest
import schemathesis
from conftest import ALL_GROUPS, deploy, make_actor
from schemathesis.checks import not_a_server_error

from engine.desk import casework
from engine.org import accounts
from engine.reads import queries
from webapp.openapi import openapi_document

FUZZ_SETTINGS = hypothesis.settings(max_examples=50, deadline=None, derandomize=True, database=None,
                                    suppress_health_check=list(hypothesis.HealthCheck))

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def world(db, joint) -> dict:
    """The fuzzer's user and token, with cases to find: a deployed item each kind, open tasks, a claimed one."""
    deploy(db, "demo-direct")
    fuzzer = make_actor(db, "fuzzer", ALL_GROUPS, ["admin", "clerk"])
    case_nos = [casework.start_case(db, code, {}, fuzzer).case_no for code in ("DEMO-001", "DEMO-001", "DEMO-002")]
    task_ids = [t.task_id for t in queries.open_tasks(db, fuzzer)]
    casework.claim_task(db, task_ids[0], fuzzer)
    return {"auth": {"Authorization": f"Bearer {accounts.issue_token(db, 'fuzzer', 'fuzz')}"},
            "case_no": case_nos, "task_id": task_ids, "item": ["DEMO-001", "DEMO-002"]}


def test_the_fuzzed_document_is_the_one_the_app_serves(client):
    """issue 13, fuzzing: the fuzzer reads what /api/v1/openapi.json answers, not a copy that could drift."""
    assert client.get("/api/v1/openapi.json").get_json() == openapi_document()


def _with_real_data(case, world: dict) -> None:
    """Swap about half the generated case numbers, task ids and item codes for ones that exist.

    Chosen by a checksum of the generated value, not by drawing from Hypothesis: the coverage phase's cases
    (boundaries, wrong types) cannot draw, and a checksum keeps the run reproducible.
    """
    for name, value in list((case.path_parameters or {}).items()):
        if name in world:
            case.path_parameters[name] = _maybe_real(value, world[name])
    if isinstance(case.body, dict) and "item" in case.body:
        case.body["item"] = _maybe_real(case.body["item"], world["item"])


def _maybe_real(value: Any, real: list[str]) -> Any:
    pick = zlib.crc32(repr(value).encode("utf-8", "surrogatepass")) % (2 * len(real))
    return real[pick] if pick < len(real) else value


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_operation_answers_with_a_server_error(case, app, world):
    """issue 13, fuzzing: every operation, valid and invalid input, boundaries, on SQLite and on PostgreSQL."""
    _with_real_data(case, world)
    case.call_and_validate(app=app, headers=world["auth"], checks=[not_a_server_error])
