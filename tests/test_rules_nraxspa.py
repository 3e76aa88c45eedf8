"""ACR 2019 nr-axSpA rules (NRAXSPA-01 .. NRAXSPA-35) on realistic patients.

Every rule has a patient for whom it fires (recommendation id, advice kind and therapies checked)
and a near miss just outside its population: the same record with an AS diagnosis, another
disease state, a condition stated absent, or the closed-world condition broken (not the first TNF
inhibitor, not biologic-naive, a biosimilar instead of the originator, a drug still taken ...).
"""

from __future__ import annotations

from typing import Any

import pytest

from reasoner.namespaces import AX, DRUG

from .patients import (
    ADALIMUMAB_BIOSIMILARS,
    INFLIXIMAB_BIOSIMILARS,
    advice_from,
    check_fires_and_near_miss,
    condition,
    course,
    nsaid_failure,
    patient,
    us_held_back,
)

NSAIDS = {str(DRUG[d]) for d in ("celecoxib", "diclofenac", "etodolac", "etoricoxib", "ibuprofen",
                                 "indomethacin", "meloxicam", "naproxen")}
TNFI = {str(DRUG[d]) for d in ("adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab")}
IL17I_ACR = {str(DRUG.secukinumab), str(DRUG.ixekizumab)}
SYSTEMIC_GC = {str(DRUG[d]) for d in ("prednisone", "prednisolone", "methylprednisolone")}
LOCAL_GC = {str(DRUG.triamcinolone_acetonide), str(DRUG.methylprednisolone_acetate)}


def nr(pid: str, **kwargs: Any) -> dict[str, Any]:
    """A valid adult record with nr-axSpA (active unless `state` says otherwise)."""
    return patient(pid, diagnosis="nr-axSpA", **kwargs)


def as_(record: dict[str, Any]) -> dict[str, Any]:
    """The same record with an AS diagnosis: the near miss for every NRAXSPA rule."""
    return {**record, "id": record["id"] + "-as", "diagnosis": "AS"}


def first_tnfi(drug: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return course(drug, outcome=outcome, start="2023-01-01", end="2023-06-01", **extra)




def items(result, rid: str) -> list:
    return advice_from(result, "acr2019", rid)


def therapies(result, rid: str) -> set[str]:
    return {a.therapy.iri for a in items(result, rid)}


# --------------------------------------------------------------------------------------------
# Shared patients
ACTIVE = nr("nr-active")
STABLE = nr("nr-stable", state="stable")
UNCLEAR = nr("nr-unclear", state="unclear")
DESPITE_NSAIDS = nr("nr-nsaid-failure", treatments=nsaid_failure())
NSAID_WORKS = nr("nr-nsaid-works", treatments=[course("naproxen", status="ongoing", outcome="ongoing_response")])
STABLE_AFTER_NSAIDS = nr("nr-stable-nsaid-failure", state="stable", treatments=nsaid_failure())
PRIMARY = nr("nr-primary", treatments=[*nsaid_failure(), first_tnfi("adalimumab", "primary_nonresponse")])
SECONDARY = nr("nr-secondary", treatments=[*nsaid_failure(), first_tnfi("golimumab", "secondary_nonresponse")])
SECONDARY_INFLIXIMAB = nr("nr-secondary-infliximab", treatments=[
    *nsaid_failure(), first_tnfi("infliximab", "secondary_nonresponse")])
SECOND_TNFI = nr("nr-second-tnfi", treatments=[
    *nsaid_failure(),
    course("etanercept", outcome="injection_site_reaction", start="2022-01-01", end="2022-03-01"),
    first_tnfi("adalimumab", "primary_nonresponse"),
])
ADVERSE_ONLY = nr("nr-adverse", treatments=[*nsaid_failure(), first_tnfi("etanercept", "injection_site_reaction")])
PARTIAL = nr("nr-partial", treatments=[
    *nsaid_failure(), course("infliximab", status="ongoing", outcome="partial_response", start="2023-01-01")])
TNFI_WORKS = nr("nr-tnfi-works", treatments=[
    *nsaid_failure(), course("infliximab", status="ongoing", outcome="ongoing_response", start="2023-01-01")])


def ongoing(drug: str) -> dict[str, Any]:
    return course(drug, status="ongoing", outcome="ongoing_response", start="2023-01-01")


def stopped(drug: str) -> dict[str, Any]:
    return course(drug, outcome="stopped_other_reason", start="2023-01-01", end="2024-01-01")


S = str  # IRIs as strings

# (rule, kind, therapies expected, fires for, near miss)
CASES = [
    ("NRAXSPA-01", "recommended", NSAIDS, ACTIVE, as_(ACTIVE)),
    ("NRAXSPA-01", "recommended", NSAIDS, ACTIVE, STABLE),
    ("NRAXSPA-02", "preferred-over", {S(AX.continuous_nsaid_use)}, ACTIVE, STABLE),
    ("NRAXSPA-03", "no-preference", NSAIDS, ACTIVE, as_(ACTIVE)),
    ("NRAXSPA-05", "recommended", TNFI, DESPITE_NSAIDS, NSAID_WORKS),
    ("NRAXSPA-05", "recommended", TNFI, DESPITE_NSAIDS, as_(DESPITE_NSAIDS)),
    ("NRAXSPA-06", "no-preference", TNFI, DESPITE_NSAIDS,
     nr("nr-ibd-nsaid-failure", conditions=[condition("crohns_disease")], treatments=nsaid_failure())),
    ("NRAXSPA-07", "preferred-over", TNFI, DESPITE_NSAIDS, as_(DESPITE_NSAIDS)),
    ("NRAXSPA-08", "recommended", IL17I_ACR, DESPITE_NSAIDS, STABLE_AFTER_NSAIDS),
    ("NRAXSPA-09", "preferred-over", TNFI, DESPITE_NSAIDS,
     nr("nr-not-naive", treatments=[*nsaid_failure(), stopped("etanercept")])),
    ("NRAXSPA-10", "preferred-over", IL17I_ACR, DESPITE_NSAIDS, as_(DESPITE_NSAIDS)),
    ("NRAXSPA-12", "preferred-over", IL17I_ACR, PRIMARY, SECONDARY),
    ("NRAXSPA-12", "preferred-over", IL17I_ACR, PRIMARY, SECOND_TNFI),
    ("NRAXSPA-13", "preferred-over", TNFI - {S(DRUG.golimumab)}, SECONDARY, PRIMARY),
    ("NRAXSPA-13", "preferred-over", TNFI - {S(DRUG.golimumab)}, SECONDARY, as_(SECONDARY)),
    ("NRAXSPA-14", "against", {S(DRUG[d]) for d in ADALIMUMAB_BIOSIMILARS}, PRIMARY, ADVERSE_ONLY),
    ("NRAXSPA-14", "against", {S(DRUG[d]) for d in INFLIXIMAB_BIOSIMILARS}, SECONDARY_INFLIXIMAB, SECOND_TNFI),
    # golimumab has no biosimilar: nothing to advise against
    ("NRAXSPA-14", "against", {S(DRUG[d]) for d in INFLIXIMAB_BIOSIMILARS}, SECONDARY_INFLIXIMAB, SECONDARY),
    ("NRAXSPA-15", "against", {S(AX.add_csdmard_to_tnfi)}, PARTIAL, TNFI_WORKS),
    ("NRAXSPA-16", "against", SYSTEMIC_GC, ACTIVE, STABLE),
    ("NRAXSPA-17", "recommended", LOCAL_GC,
     nr("nr-si", conditions=[condition("isolated_active_sacroiliitis")], treatments=nsaid_failure()),
     nr("nr-si-plain", conditions=[condition("sacroiliitis")], treatments=nsaid_failure())),
    ("NRAXSPA-18", "recommended", LOCAL_GC,
     nr("nr-enthesitis", conditions=[condition("enthesitis")], treatments=nsaid_failure()),
     nr("nr-no-enthesitis", conditions=[condition("enthesitis", "absent")], treatments=nsaid_failure())),
    ("NRAXSPA-19", "recommended", LOCAL_GC,
     nr("nr-arthritis", conditions=[condition("peripheral_arthritis")], treatments=nsaid_failure()),
     nr("nr-arthritis-unknown", conditions=[condition("peripheral_arthritis", "unknown")],
        treatments=nsaid_failure())),
    ("NRAXSPA-20", "recommended", {S(AX.physical_therapy)}, ACTIVE, as_(ACTIVE)),
    ("NRAXSPA-21", "preferred-over", {S(AX.active_physical_therapy)}, ACTIVE, UNCLEAR),
    ("NRAXSPA-22", "preferred-over", {S(AX.land_based_physical_therapy)}, ACTIVE, STABLE),
    ("NRAXSPA-23", "preferred-over", {S(AX.on_demand_nsaid_use)}, STABLE,
     nr("nr-stable-on-nsaid", state="stable", treatments=[ongoing("naproxen")])),
    ("NRAXSPA-23", "preferred-over", {S(AX.on_demand_nsaid_use)}, STABLE, as_(STABLE)),
    ("NRAXSPA-24", "preferred-over", {S(AX.tnfi_alone_after_nsaid_withdrawal)},
     nr("nr-tnfi-nsaid", state="stable", treatments=[ongoing("Humira"), ongoing("diclofenac")]),
     nr("nr-tnfi-nsaid-stopped", state="stable", treatments=[ongoing("Humira"), stopped("diclofenac")])),
    ("NRAXSPA-25", "preferred-over", {S(AX.tnfi_alone_after_csdmard_withdrawal)},
     nr("nr-tnfi-mtx", state="stable", treatments=[ongoing("adalimumab"), ongoing("methotrexate")]),
     nr("nr-tnfi-mtx-stopped", state="stable", treatments=[ongoing("adalimumab"), stopped("methotrexate")])),
    ("NRAXSPA-26", "against", {S(AX.biologic_discontinuation)},
     nr("nr-stable-il17", state="stable", treatments=[ongoing("secukinumab")]),
     nr("nr-stable-jak", state="stable", treatments=[ongoing("tofacitinib")])),
    ("NRAXSPA-27", "against", {S(AX.biologic_tapering)},
     nr("nr-stable-il17", state="stable", treatments=[ongoing("secukinumab")]),
     nr("nr-active-il17", treatments=[ongoing("secukinumab")])),
    ("NRAXSPA-28", "preferred-over", {S(AX.originator_tnfi_continuation)},
     nr("nr-originator", state="stable", treatments=[ongoing("Humira")]),
     nr("nr-biosimilar", state="stable", treatments=[ongoing("adalimumab_atto")])),
    ("NRAXSPA-29", "against", {S(AX.low_dose_mtx_cotreatment)},
     nr("nr-on-etanercept", state="unclear", treatments=[ongoing("etanercept")]),
     nr("nr-off-etanercept", state="unclear", treatments=[stopped("etanercept")])),
    ("NRAXSPA-30", "recommended", {S(AX.validated_activity_instrument_monitoring)}, STABLE, as_(STABLE)),
    ("NRAXSPA-31", "recommended", {S(AX.crp_esr_monitoring)}, UNCLEAR, as_(UNCLEAR)),
    ("NRAXSPA-32", "against", {S(AX.treat_to_target_asdas)}, ACTIVE, STABLE),
    ("NRAXSPA-33", "recommended", {S(AX.pelvis_mri)},
     nr("nr-unclear-on-il17", state="unclear", treatments=[ongoing("ixekizumab")]), UNCLEAR),
    ("NRAXSPA-34", "against", {S(AX.spine_or_pelvis_mri)}, STABLE, ACTIVE),
    ("NRAXSPA-35", "against", {S(AX.scheduled_spine_radiographs)}, ACTIVE, as_(ACTIVE)),
]


@pytest.mark.parametrize(("rid", "kind", "expected", "fires", "near_miss"), CASES,
                         ids=[f"{c[0]}-vs-{c[4]['id']}" for c in CASES])
def test_rule_fires_for_its_population_and_not_for_the_near_miss(run, rid, kind, expected, fires,
                                                                 near_miss) -> None:
    check_fires_and_near_miss(run, "acr2019", rid, kind, expected, fires, near_miss)


def test_nraxspa_rules_never_fire_for_as(run) -> None:
    for record in (ACTIVE, STABLE, DESPITE_NSAIDS, PRIMARY, SECONDARY, PARTIAL):
        result = run(as_(record))
        assert not [a for a in result.advice if a.recommendation.id.startswith("NRAXSPA-")
                    and a.kind != "needs-information"]


def test_nraxspa04_keeps_sulfasalazine_and_methotrexate_for_peripheral_arthritis(run) -> None:
    arthritis = nr("nr-04-arthritis", conditions=[condition("peripheral_arthritis")], treatments=nsaid_failure())
    with_arthritis = run(arthritis)
    assert therapies(with_arthritis, "NRAXSPA-04") | us_held_back(with_arthritis, "NRAXSPA-04") == {
        S(DRUG.sulfasalazine), S(DRUG.methotrexate), S(DRUG.tofacitinib)}
    assert {a.kind for a in items(with_arthritis, "NRAXSPA-04")} == {"recommended"}
    note = next(a.note for a in items(with_arthritis, "NRAXSPA-04") if a.therapy.iri == S(DRUG.sulfasalazine))
    assert "does not repeat AS-04" in note
    # A TNF-inhibitor contraindication stands in for "TNF inhibitors unavailable".
    with_hf = run(nr("nr-04-hf", conditions=[condition("congestive_heart_failure"),
                                             condition("peripheral_arthritis", "absent")],
                     treatments=nsaid_failure()))
    assert S(DRUG.sulfasalazine) in therapies(with_hf, "NRAXSPA-04")
    # Near miss: purely axial disease gets tofacitinib only.
    axial = run(nr("nr-04-axial", conditions=[condition("peripheral_arthritis", "absent")],
                   treatments=nsaid_failure()))
    assert therapies(axial, "NRAXSPA-04") | us_held_back(axial, "NRAXSPA-04") == {S(DRUG.tofacitinib)}
    assert not items(run(as_(arthritis)), "NRAXSPA-04")


def test_nraxspa08_points_to_asas_eular_r10_with_recurrent_uveitis(run) -> None:
    uveitis = run(nr("nr-08-uveitis", conditions=[condition("recurrent_anterior_uveitis")], treatments=nsaid_failure()))
    notes = {a.note for a in items(uveitis, "NRAXSPA-08")}
    assert len(notes) == 1 and "R10 (a) prefers a TNF monoclonal antibody" in notes.pop()
    plain = run(DESPITE_NSAIDS)
    assert all("R10" not in a.note for a in items(plain, "NRAXSPA-08"))


def test_nraxspa04_is_the_step_before_a_biologic(run) -> None:
    """Sulfasalazine and methotrexate belong before a biologic: once a TNF inhibitor failed for lack of
    effect NRAXSPA-12 to -15 answer instead, and while one is taken they would be an add-on, which
    NRAXSPA-15 and -29 advise against. Tofacitinib stays (after a TNF inhibitor failed the US label
    allows it). Peripheral arthritis is present in every record, so only the TNF inhibitor differs."""
    arthritis = [condition("peripheral_arthritis")]
    partial = run(nr("nr-04-partial", conditions=arthritis, treatments=[
        *nsaid_failure(), course("adalimumab", status="ongoing", outcome="partial_response", start="2023-01-01")]))
    assert therapies(partial, "NRAXSPA-04") == {S(DRUG.tofacitinib)}
    assert therapies(partial, "NRAXSPA-15") == {S(AX.add_csdmard_to_tnfi)}  # advised against, not for
    primary = run(nr("nr-04-primary", conditions=arthritis, treatments=[
        *nsaid_failure(), first_tnfi("adalimumab", "primary_nonresponse")]))
    assert therapies(primary, "NRAXSPA-04") == {S(DRUG.tofacitinib)}
    assert not [n for n in partial.needs_information + primary.needs_information
                if n.fact == "peripheral arthritis status"]
    responding = run(nr("nr-04-on-tnfi", conditions=arthritis, treatments=[
        *nsaid_failure(), course("adalimumab", status="ongoing", outcome="ongoing_response", start="2023-01-01")]))
    assert therapies(responding, "NRAXSPA-04") | us_held_back(responding, "NRAXSPA-04") == {S(DRUG.tofacitinib)}


def test_nraxspa11_follows_the_kind_of_tnfi_contraindication(run) -> None:
    heart_failure = nr("nr-11-hf", conditions=[condition("congestive_heart_failure")], treatments=nsaid_failure())
    fired = items(run(heart_failure), "NRAXSPA-11")
    assert {a.therapy.iri for a in fired} == IL17I_ACR
    assert {a.kind for a in fired} == {"preferred-over"}
    assert {o.iri for a in fired for o in a.over} == {S(DRUG.sulfasalazine), S(DRUG.methotrexate),
                                                     S(DRUG.tofacitinib)}
    infection = run(nr("nr-11-tb", conditions=[condition("active_tuberculosis")], treatments=nsaid_failure()))
    fired = items(infection, "NRAXSPA-11")
    assert {a.therapy.iri for a in fired} == {S(DRUG.sulfasalazine)}
    assert {o.iri for a in fired for o in a.over} == IL17I_ACR | {S(DRUG.tofacitinib)}
    both = run(nr("nr-11-both", treatments=nsaid_failure(),
                  conditions=[condition("multiple_sclerosis"), condition("chronic_or_recurrent_infection")]))
    # both preferences, each item saying the notes do not rank them, as AS-11 gives them (the
    # nr-axSpA rule dropped the IL-17-inhibitor items; session-33 audit F3)
    assert therapies(both, "NRAXSPA-11") == {S(DRUG.sulfasalazine)} | IL17I_ACR
    assert therapies(run(as_(nr("as-11-both", treatments=nsaid_failure(), conditions=[
        condition("multiple_sclerosis"), condition("chronic_or_recurrent_infection")]))), "AS-11") == \
        {S(DRUG.sulfasalazine)} | IL17I_ACR
    # Near misses: the contraindication stated absent; the same patient with AS.
    absent = run(nr("nr-11-absent", conditions=[condition("congestive_heart_failure", "absent")],
                    treatments=nsaid_failure()))
    assert not items(absent, "NRAXSPA-11")
    assert not items(run(as_(heart_failure)), "NRAXSPA-11")


def test_the_failed_tnfi_and_its_biosimilars_are_not_offered_again(run) -> None:
    result = run(SECONDARY)
    assert S(DRUG.golimumab) not in therapies(result, "NRAXSPA-13")
    assert S(DRUG.golimumab) in result.therapies("do-not-repeat")
    assert {o.iri for a in items(result, "NRAXSPA-13") for o in a.over} >= IL17I_ACR


def test_nraxspa_advice_names_the_record_facts_it_rests_on(run) -> None:
    result = run(PRIMARY)
    primary_course = f"{result.patient}/treatment/3"
    for rid in ("NRAXSPA-12", "NRAXSPA-14", "NRAXSPA-15"):
        facts = {f.fact for a in items(result, rid) for f in a.because}
        assert primary_course in facts, rid


def test_nraxspa_14_names_the_biosimilars_of_the_failed_drug_as_as_14_does(run) -> None:
    # adalimumab failed first: each adalimumab biosimilar by name, not an abstract action
    assert therapies(run(PRIMARY), "NRAXSPA-14") == {S(DRUG[d]) for d in ADALIMUMAB_BIOSIMILARS}
    # a failed biosimilar: its originator and the other biosimilars of it
    failed_biosimilar = nr("nr-primary-biosimilar", treatments=[
        *nsaid_failure(), first_tnfi("infliximab_dyyb", "primary_nonresponse")])
    assert therapies(run(failed_biosimilar), "NRAXSPA-14") == (
        {S(DRUG.infliximab)} | {S(DRUG[d]) for d in INFLIXIMAB_BIOSIMILARS - {"infliximab_dyyb"}})
    # golimumab has no biosimilar, so there is nothing to advise against
    assert not items(run(SECONDARY), "NRAXSPA-14")


def test_nraxspa16_and_r7b_cite_the_glucocorticoid_taken(run) -> None:
    """Session-18 probe s14: prednisolone as a bridge in active nr-axSpA. AS-16 cites a systemic
    glucocorticoid course on record; its twin NRAXSPA-16 and R7-b did not, so the report never said the
    patient takes one of the drugs advised against."""
    result = run(patient("nrax-prednisolone", diagnosis="nr-axSpA", treatments=[
        course("prednisolone", status="ongoing", start="2026-10-01")]))
    for row in ("NRAXSPA-16", "R7-b"):
        cited = {b.text for a in result.advice if a.recommendation.id == row for b in a.because}
        assert "prednisolone course (ongoing, 2026-10-01)" in cited, row
    plain = run(patient("nrax-no-glucocorticoid", diagnosis="nr-axSpA"))
    assert not {b.text for a in plain.advice if a.recommendation.id == "NRAXSPA-16" for b in a.because
                if " course" in b.text}
