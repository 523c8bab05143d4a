"""Lint's "a refusal needs a reason" rule holds for every decision field of a form, whatever it is called
(issue 15, item 12; S-6 rule 5 and S-7: 不予办理的应说明理由).

A decision field is one whose answers — its `enum`, or the `const` of each `oneOf` choice — include a
refusal (不予…, 不同意, 驳回, 拒绝, 退回…). Until this rule, only a field called `decision` was checked, so a
department's `opinion` of 不同意, or a town's `acceptance` of 不予受理, could be submitted without a reason
and nobody noticed. The forms are linted in a real package (the joint-review demo, whose three review
tasks share `review.json`) so each finding is the one an analyst would see.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine import settings
from engine.diagrams import lint_routing
from engine.diagrams.lint import Finding, lint_package
from engine.diagrams.package import load_package

REVIEWS = {"review_housing", "review_fire", "review_env"}  # the tasks of the demo that use review.json
TEXT = {"type": "string", "minLength": 2}


def _enum(answers: list[str]) -> dict[str, Any]:
    return {"type": "string", "title": "审查结论", "enum": answers}


def _one_of(answers: list[str]) -> dict[str, Any]:
    """The same answers as titled choices, the other way a form offers options."""
    return {"type": "string", "title": "审查结论", "oneOf": [{"const": a, "title": a} for a in answers]}


def _form(properties: dict[str, Any], *rules: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {"type": "object", "properties": properties}
    if rules:
        form["allOf"] = list(rules)
    return form


def _reason_for(field: str, answers: list[str], reason: str = "reason") -> dict[str, Any]:
    """The fix lint asks for: if `field` is one of `answers`, then the reason is required."""
    return {"if": {"properties": {field: {"enum": answers}}, "required": [field]}, "then": {"required": [reason]}}


def _errors(form: dict[str, Any]) -> list[Finding]:
    """Lint the joint-review demo with `form` as its review form."""
    package = load_package(settings.PROCESSES_DIR / "demo-joint-review")
    package.files["forms/review.json"] = json.dumps(form, ensure_ascii=False)
    return lint_package(package).errors


@pytest.mark.parametrize("offer", [_enum, _one_of], ids=["enum", "oneOf"])
@pytest.mark.parametrize("field", ["opinion", "审查意见"])
def test_a_refusing_field_of_any_name_needs_a_required_reason(field, offer):
    form = _form({field: offer(["同意", "不同意"]), "reason": TEXT})
    errors = _errors(form)
    assert {e.element_id for e in errors} == REVIEWS and len(errors) == len(REVIEWS)
    assert all(e.file == "joint-review.bpmn" for e in errors)
    message, fix = errors[0].message, errors[0].fix
    assert f"“审查结论”（{field}）" in message and "“不同意”是拒绝" in message and "不写理由" in message
    assert f"if {field} 为“不同意” then required 含 reason" in fix

    form["allOf"] = [_reason_for(field, ["不同意"])]
    assert _errors(form) == []


def test_with_two_decision_fields_only_the_one_lacking_a_reason_is_flagged():
    form = _form({"acceptance": _enum(["受理", "补正", "不予受理"]), "opinion": _one_of(["同意", "驳回", "不同意"]),
                  "refusal_reason": TEXT, "reason": TEXT},
                 _reason_for("acceptance", ["不予受理"], "refusal_reason"), _reason_for("opinion", ["不同意"]))
    assert lint_routing.refusals_without_reason_by_field(form) == {"opinion": ["驳回"]}
    errors = _errors(form)
    assert len(errors) == len(REVIEWS)
    assert all("（opinion）" in e.message and "“驳回”" in e.message and "acceptance" not in e.message for e in errors)


def test_a_reason_the_form_always_requires_answers_every_refusal():
    form = _form({"opinion": _enum(["同意", "不同意"]), "verdict": _enum(["准予", "退回重办"]), "reason": TEXT})
    assert set(lint_routing.refusals_without_reason_by_field(form)) == {"opinion", "verdict"}
    form["required"] = ["reason"]
    assert lint_routing.refusals_without_reason_by_field(form) == {} and _errors(form) == []


def test_an_enum_that_cannot_refuse_is_not_a_decision():
    form = _form({"性别": _enum(["男", "女"]), "delivery_method": _one_of(["窗口领取", "邮寄"]),
                  "approval": _enum(["准予许可", "需补正"]), "count": {"type": "integer", "enum": [1, 2]}})
    assert lint_routing.decision_fields(form) == {}
    assert _errors(form) == []


def test_every_form_shipped_requires_a_reason_for_each_of_its_refusals():
    """Whatever its fields are called: the town's `acceptance`, the district's `approval`, a department's
    `opinion`, the examiner's `proposal`."""
    checked = 0
    for path in sorted(settings.FORMS_DIR.glob("*.json")):
        form = json.loads(path.read_text(encoding="utf-8"))
        checked += bool(lint_routing.decision_fields(form))
        assert lint_routing.refusals_without_reason_by_field(form) == {}, path.name
    assert checked >= 15
