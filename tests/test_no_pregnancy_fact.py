"""In pregnancy, a TNF, IL-17 or JAK inhibitor (or a csDMARD a row recommends) that no label fact
about pregnancy concerns carries a caution saying the source tables are silent
(queries/rules/no-pregnancy-fact.rq); while breastfeeding, the same for breastfeeding
(queries/rules/no-breastfeeding-fact.rq).

safety.tsv has pregnancy rows for adalimumab, infliximab, certolizumab pegol, upadacitinib and
tofacitinib, and none for etanercept, golimumab, the IL-17 inhibitors or filgotinib: those were
offered to a pregnant patient without a word (session-12 clinical probe). The caution blocks nothing.
"""

from __future__ import annotations

import pytest

from reasoner.namespaces import DRUG

from .patients import condition, course, nsaid_failure, patient, principle_items

# (filgotinib too, but lbl:jaki_us_tnf_ir holds the JAK inhibitors back in these TNF-naive patients,
# and a drug the record holds back gets no caution: session-29 review 2)
SILENT = {str(DRUG[d]) for d in ("etanercept", "golimumab", "secukinumab", "ixekizumab", "bimekizumab")}



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



# The breastfeeding twin (session-29 probe F6): safety.tsv speaks of breastfeeding for tofacitinib
# and methotrexate only, and R12 offered upadacitinib and the biologics with nothing said.
# Not adalimumab, which failed (an earlier course bars it), nor filgotinib, which no row offers
# (ax:mayBeOffered; session-29 and session-32).
SILENT_BREASTFEEDING = {str(DRUG[d]) for d in (
    "infliximab", "certolizumab_pegol", "etanercept", "golimumab", "secukinumab", "ixekizumab",
    "bimekizumab", "upadacitinib")}


def test_while_breastfeeding_the_drugs_without_a_breastfeeding_fact_carry_a_caution(run) -> None:
    result = run(patient("breastfeeding-after-tnfi", sex="female", age=31, treatments=[
        *nsaid_failure(), course("Humira", outcome="primary_nonresponse", start="2023-01-01", end="2023-07-01")],
        conditions=[condition("breastfeeding"), condition("ibd", "absent")]))
    flagged = principle_items(result, "no-breastfeeding-fact", "iri")
    assert set(flagged) == SILENT_BREASTFEEDING
    for items in flagged.values():
        [item] = items
        assert item.kind == "caution" and "no breastfeeding fact" in (item.note or "")
        assert [f.text for f in item.because] == ["breastfeeding: present"]
    # the two drugs the tables speak of get their own facts instead
    assert str(DRUG.tofacitinib) not in flagged and str(DRUG.methotrexate) not in flagged
    assert {a.recommendation.id for a in result.advice if a.therapy.iri == str(DRUG.methotrexate)} >= {
        "mtx_breastfeeding"}
    # it blocks nothing: upadacitinib is still offered after the TNF inhibitor failed (R12)
    assert any(a.therapy.iri == str(DRUG.upadacitinib) and a.kind == "recommended" for a in result.advice)
    assert not principle_items(result, "no-pregnancy-fact", "iri")


@pytest.mark.parametrize("status", ["absent", "unknown"])
def test_no_breastfeeding_caution_unless_breastfeeding_is_stated(run, status) -> None:
    result = run(patient(f"breastfeeding-{status}", sex="female", age=31, treatments=nsaid_failure(),
                         conditions=[condition("breastfeeding", status), condition("ibd", "absent")]))
    assert not principle_items(result, "no-breastfeeding-fact", "iri")


@pytest.mark.parametrize(("label", "conditions", "treatments", "flagged"), [
    # sulfasalazine (session-29 probe F8): where a row that offers it can apply, or it is taken
    ("peripheral arthritis, NSAIDs failed", [condition("peripheral_arthritis")], nsaid_failure(), True),
    ("taking sulfasalazine, stable", [], [course("sulfasalazine", "ongoing", "ongoing_response")], True),
    # ... and not otherwise (session-29 review 2: a stable patient on Cimzia got the caution)
    ("stable on certolizumab pegol", [], [course("Cimzia", "ongoing", "ongoing_response")], False),
    ("NSAIDs failed, no peripheral arthritis", [condition("peripheral_arthritis", "absent")], nsaid_failure(),
     False),
])
def test_sulfasalazine_is_cautioned_in_pregnancy_only_where_it_is_in_play(run, label, conditions, treatments,
                                                                         flagged) -> None:
    state = "stable" if "stable" in label else "active"
    result = run(patient(f"ssz-pregnancy-{len(label)}", sex="female", age=30, state=state, treatments=treatments,
                         conditions=[condition("pregnancy"), condition("ibd", "absent"), *conditions]))
    assert (str(DRUG.sulfasalazine) in principle_items(result, "no-pregnancy-fact", "iri")) == flagged, label


@pytest.mark.parametrize(("stated", "principle"), [("pregnancy", "no-pregnancy-fact"),
                                                   ("breastfeeding", "no-breastfeeding-fact")])
@pytest.mark.parametrize(("setting", "flagged"), [("acr_only", True), ("eular_only", False)])
def test_sulfasalazine_for_a_tnfi_contraindication_is_cautioned_only_under_acr(
        request, stated, principle, setting, flagged) -> None:
    """Session-30 review R1: a TNF-inhibitor contraindication (multiple sclerosis) in purely axial
    disease brings sulfasalazine into play under ACR 2019 (AS-04's notes), not under ASAS-EULAR 2022
    alone, whose R8-a advises against csDMARDs there: no caution about a drug no loaded row offers.
    In pregnancy and while breastfeeding alike (session-31 review F5)."""
    reasoner = request.getfixturevalue(setting)
    result = reasoner.recommend(patient(f"ssz-{stated}-ms-{setting}", sex="female", age=30,
                                        treatments=nsaid_failure(),
                                        conditions=[condition(stated), condition("ibd", "absent"),
                                                    condition("peripheral_arthritis", "absent"),
                                                    condition("multiple_sclerosis")]))
    assert result.conforms
    assert (str(DRUG.sulfasalazine) in principle_items(result, principle, "iri")) == flagged, setting


def test_no_caution_on_a_drug_the_record_already_holds_back(run) -> None:
    """Session-29 review 2: with NYHA III heart failure every TNF inhibitor is contraindicated, and the
    breastfeeding caution told the clinician to check the label before offering them."""
    result = run(patient("breastfeeding-severe-hf", sex="female", age=41, treatments=nsaid_failure(),
                         conditions=[condition("breastfeeding"), condition("severe_heart_failure"),
                                     condition("ibd", "absent")]))
    flagged = set(principle_items(result, "no-breastfeeding-fact", "iri"))
    held = {str(DRUG[d]) for d in ("adalimumab", "infliximab", "certolizumab_pegol", "etanercept", "golimumab")}
    assert held <= {a.therapy.iri for a in result.advice if a.kind == "contraindicated"}
    assert flagged and not flagged & held
    assert str(DRUG.secukinumab) in flagged


@pytest.mark.parametrize(("setting", "expected"), [
    ("acr_only", SILENT - {str(DRUG.bimekizumab)}), ("eular_only", SILENT), ("reasoner", SILENT)])
def test_only_drugs_taken_or_a_loaded_row_may_offer_are_cautioned(request, setting, expected) -> None:
    """A caution on a drug no loaded row offers spoke of a choice the report never gives: under ACR 2019
    alone no row offers bimekizumab (ax:mayBeOffered)."""
    result = request.getfixturevalue(setting).recommend(patient(
        f"pregnant-offered-{setting}", sex="female", age=32, treatments=nsaid_failure(),
        conditions=[condition("pregnancy"), condition("ibd", "absent")]))
    assert set(principle_items(result, "no-pregnancy-fact", "iri")) == expected


def test_in_stable_disease_only_the_drug_taken_is_cautioned(run) -> None:
    """Stable on Enbrel, pregnant: no row offers another drug, and the cautions on golimumab and the
    IL-17 inhibitors were noise; the one on etanercept, taken now, stays."""
    result = run(patient("pregnant-stable-enbrel", sex="female", age=31, state="stable",
                         treatments=[course("Enbrel", "ongoing", "ongoing_response", start="2021-03-01")],
                         conditions=[condition("pregnancy"), condition("ibd", "absent")]))
    assert set(principle_items(result, "no-pregnancy-fact", "iri")) == {str(DRUG.etanercept)}


def test_a_drug_an_earlier_course_bars_is_not_cautioned(run) -> None:
    """Etanercept never worked: it is not offered again (do-not-repeat), so there is nothing to check
    before offering it; the other drugs keep their cautions."""
    result = run(patient("pregnant-etanercept-failed", sex="female", age=32, treatments=[
        *nsaid_failure(), course("etanercept", outcome="primary_nonresponse", start="2023-01-01", end="2023-06-01")],
        conditions=[condition("pregnancy"), condition("ibd", "absent")]))
    flagged = set(principle_items(result, "no-pregnancy-fact", "iri"))
    assert str(DRUG.etanercept) not in flagged
    assert {str(DRUG.golimumab), str(DRUG.secukinumab)} <= flagged
