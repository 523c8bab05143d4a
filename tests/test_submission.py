"""Submitting a task is one engine call (issue 14, item 3): the form exactly as the browser sent it goes in,
the result or every message comes out, from one read of the case — the route holds no rule of its own."""

from __future__ import annotations

import pytest
import test_taskops
from test_taskops import open_elements, start, task

from engine.desk import submission, taskops
from engine.errors import FormValidationError, PermissionDenied, StaleTaskError
from engine.reads import queries

people = test_taskops.people  # the desk-ops package and its clerks, as the task operations' tests use them


def test_the_browser_strings_are_typed_per_the_form_and_the_step_completes(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    sent = {"applicant_name": ["张三"], "decision": ["补正"], "missing_materials": ["身份证"],
            "missing_materials__more": ["户口簿\n\n身份证"]}
    done = submission.submit_task(db, accept, sent, people["a"])
    assert (done.case_no, done.step, done.returned_to) == (case_no, "受理", None)
    assert open_elements(db, case_no) == ["supplement"]
    completed = [e for e in queries.case_history(db, case_no) if e["type"] == "task_completed"][-1]
    assert completed["data"]["data"]["missing_materials"] == ["身份证", "户口簿"]  # ticked, then typed, no repeats


def test_every_message_at_once_and_nothing_changes(db, people):
    """A value that cannot convert and a rule the schema breaks are both reported, on the fields they concern."""
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    before = len(queries.case_history(db, case_no))
    with pytest.raises(FormValidationError) as refused:
        submission.submit_task(db, accept, {"applicant_name": ["张"], "decision": ["不予受理"]}, people["a"])
    assert {"applicant_name", "reason", "legal_basis"} <= set(refused.value.field_errors)
    assert len(queries.case_history(db, case_no)) == before and open_elements(db, case_no) == ["accept"]


def test_hostile_submissions_are_refused_not_crashed(db, people):
    """Fields the form does not have, an option that is not on the list, empty lists, absurd lengths."""
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    for sent in ({"applicant_name": ["张三"], "decision": ["批准<script>"]},
                 {"applicant_name": ["张三" * 50_000], "decision": []},
                 {"decision": ["补正"], "missing_materials": [" ", ""], "status": ["closed"]}):
        with pytest.raises(FormValidationError):
            submission.submit_task(db, accept, sent, people["a"])
    assert open_elements(db, case_no) == ["accept"]


def test_a_delegates_submission_goes_back_to_the_delegator(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    taskops.delegate_task(db, accept, "zhao", people["a"], "请协助核对")
    done = submission.submit_task(db, accept, {"applicant_name": ["张三"], "decision": ["受理"]}, people["r"])
    assert done.returned_to == "wang" and open_elements(db, case_no) == ["accept"]


def test_outsiders_and_stale_pages(db, people):
    case_no = start(db, people)
    accept = task(db, case_no, "accept").task_id
    with pytest.raises(PermissionDenied):  # a reviewer is not in the window's group
        submission.submit_task(db, accept, {"applicant_name": ["张三"], "decision": ["受理"]}, people["r"])
    submission.submit_task(db, accept, {"applicant_name": ["张三"], "decision": ["受理"]}, people["a"])
    with pytest.raises(StaleTaskError):  # the same page sent again
        submission.submit_task(db, accept, {"applicant_name": ["张三"], "decision": ["受理"]}, people["b"])
