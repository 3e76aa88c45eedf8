"""In pregnancy, a TNF, IL-17 or JAK inhibitor that no label fact about pregnancy concerns carries a
caution saying the source tables are silent (queries/rules/no-pregnancy-fact.rq).

safety.tsv has pregnancy rows for adalimumab, infliximab, certolizumab pegol, upadacitinib and
tofacitinib, and none for etanercept, golimumab, the IL-17 inhibitors or filgotinib: those were
offered to a pregnant patient without a word (session-12 clinical probe). The caution blocks nothing.
"""

from __future__ import annotations

import pytest

from reasoner.namespaces import DRUG

from .patients import condition, nsaid_failure, patient, principle_items

SILENT = {str(DRUG[d]) for d in ("etanercept", "golimumab", "secukinumab", "ixekizumab", "bimekizumab",
                                 "filgotinib")}



@pytest.mark.parametrize("stage", ["pregnancy", "pregnancy_20_to_under_30_weeks", "pregnancy_30_weeks_or_more"])
def test_in_pregnancy_the_drugs_without_a_pregnancy_fact_carry_a_caution(run, stage) -> None:
    result = run(patient(f"pregnant-{stage}", sex="female", age=32, treatments=nsaid_failure(),
                         conditions=[condition(stage), condition("ibd", "absent")]))
    flagged = principle_items(result, "no-pregnancy-fact", "iri")
    assert set(flagged) == SILENT
    for items in flagged.values():
        [item] = items
        assert item.kind == "caution" and item.recommendation.guideline == "axspa-kg"
        assert "no pregnancy fact" in (item.note or "")
        [fact] = item.because  # the pregnancy statement
        assert fact.text.endswith(": present") and "pregnan" in fact.text
    # it blocks nothing: the IL-17 inhibitors are still recommended (AS-08)
    assert any(a.therapy.iri == str(DRUG.secukinumab) and a.kind == "recommended" for a in result.advice)
    # the drugs the tables do speak of are not flagged
    assert not {str(DRUG[d]) for d in ("adalimumab", "infliximab", "certolizumab_pegol", "upadacitinib",
                                       "tofacitinib")} & set(flagged)


@pytest.mark.parametrize("conditions", [
    [condition("pregnancy", "absent")],
    [condition("pregnancy", "unknown")],
    [condition("planning_pregnancy")],
    [],
])
def test_no_caution_without_a_stated_pregnancy(run, conditions) -> None:
    result = run(patient("not-pregnant", sex="female", age=32, treatments=nsaid_failure(), conditions=conditions))
    assert not principle_items(result, "no-pregnancy-fact", "iri")


def test_pregnancy_and_its_stage_both_stated_give_one_caution_per_drug(run) -> None:
    """Both `pregnancy` and its stage stated: each caution was given twice, once per statement
    (session-14 clinical probe). Now one item per drug names both."""
    result = run(patient("pregnant-stage-too", sex="female", age=32, treatments=nsaid_failure(),
                         conditions=[condition("pregnancy"), condition("pregnancy_20_to_under_30_weeks"),
                                     condition("ibd", "absent")]))
    flagged = principle_items(result, "no-pregnancy-fact", "iri")
    assert set(flagged) == SILENT
    for items in flagged.values():
        [item] = items
        assert len(item.because) == 2 and all("pregnan" in f.text for f in item.because)

