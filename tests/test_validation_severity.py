"""Warnings are shown with the advice; they never block it (regression: severity must sit on the
property shape that reports the result, not on its node shape)."""

from __future__ import annotations

from reasoner.namespaces import DRUG

from .patients import course, patient


def test_missing_crp_and_activity_score_are_warnings_not_violations(reasoner) -> None:
    record = patient("no-measures", treatments=[course("naproxen", outcome="primary_nonresponse")], measurements=[])
    result = reasoner.recommend(record)
    assert result.conforms, result.validation
    severities = {(v["severity"], v["message"].split(";")[0]) for v in result.validation}
    assert ("warning", "measurements: no CRP is recorded") in severities
    assert result.advice


def test_stopped_course_without_outcome_is_a_warning(reasoner) -> None:
    record = patient("no-outcome", treatments=[course("etanercept", start="2024-01-01", end="2024-03-01")])
    result = reasoner.recommend(record)
    assert result.conforms
    assert any(v["severity"] == "warning" and "treatments[1]" in v["path"] for v in result.validation)
    assert str(DRUG.etanercept) not in result.therapies("do-not-repeat")
