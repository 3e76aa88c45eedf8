"""The generic safety rules and the first recommendation rules, on realistic patients."""

from __future__ import annotations

from reasoner.namespaces import DRUG

from .patients import condition, course, nsaid_failure, patient


def test_do_not_repeat_covers_adverse_event_and_nonresponse(advise) -> None:
    result = advise(patient(treatments=[
        *nsaid_failure(),
        course("etanercept", outcome="injection_site_reaction", start="2023-01-01", end="2023-03-01"),
    ]))
    assert str(DRUG.etanercept) in result.therapies("do-not-repeat")
    assert str(DRUG.naproxen) in result.therapies("do-not-repeat")
    assert str(DRUG.etanercept) not in result.therapies("recommended")


def test_partial_response_is_not_do_not_repeat(advise) -> None:
    result = advise(patient(treatments=[course("naproxen", status="ongoing", outcome="partial_response")]))
    assert str(DRUG.naproxen) not in result.therapies("do-not-repeat")


def test_biosimilars_of_a_failed_tnfi_are_not_repeated(advise) -> None:
    result = advise(patient(treatments=[
        *nsaid_failure(),
        course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-06-01"),
    ]))
    blocked = result.therapies("do-not-repeat")
    assert {str(DRUG.adalimumab), str(DRUG.adalimumab_atto), str(DRUG.adalimumab_adbm)} <= blocked


def test_label_contraindication_overrides_a_guideline_recommendation(advise) -> None:
    result = advise(patient(
        conditions=[condition("severe_heart_failure")],
        treatments=nsaid_failure(),
    ))
    assert str(DRUG.infliximab) in result.therapies("contraindicated")
    assert str(DRUG.infliximab) not in result.therapies("recommended")
    conflicts = {(c.advice.therapy.iri, c.overridden_by.recommendation.id) for c in result.conflicts}
    assert (str(DRUG.infliximab), "tnfi_severe_heart_failure") in conflicts


def test_condition_stated_absent_does_not_contraindicate(advise) -> None:
    result = advise(patient(conditions=[condition("congestive_heart_failure", "absent")],
                            treatments=nsaid_failure()))
    assert str(DRUG.infliximab) not in result.therapies("contraindicated")
    assert str(DRUG.infliximab) in result.therapies("recommended")


def test_as06_fires_after_nsaid_failure_and_not_before(advise) -> None:
    fired = advise(patient(treatments=nsaid_failure()))
    assert any(a.recommendation.id == "AS-06" for a in fired.advice)
    near_miss = advise(patient(treatments=[course("naproxen", status="ongoing", outcome="ongoing_response")]))
    assert not any(a.recommendation.id == "AS-06" for a in near_miss.advice)
    stable = advise(patient(state="stable", treatments=nsaid_failure()))
    assert not any(a.recommendation.id == "AS-06" for a in stable.advice)


def test_as12_needs_primary_nonresponse_to_the_first_tnfi(advise) -> None:
    fired = advise(patient(treatments=[
        *nsaid_failure(), course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-06-01")
    ]))
    as12 = {a.therapy.iri for a in fired.advice if a.recommendation.id == "AS-12"}
    assert as12 == {str(DRUG.secukinumab), str(DRUG.ixekizumab)}
    adverse_only = advise(patient(treatments=[
        *nsaid_failure(), course("etanercept", outcome="injection_site_reaction", start="2023-01-01")
    ]))
    assert not any(a.recommendation.id == "AS-12" and a.kind != "needs-information" for a in adverse_only.advice)
    second_tnfi = advise(patient(treatments=[
        *nsaid_failure(),
        course("etanercept", outcome="secondary_nonresponse", start="2022-01-01", end="2022-12-01"),
        course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-06-01"),
    ]))
    assert not any(a.recommendation.id == "AS-12" and a.kind != "needs-information" for a in second_tnfi.advice)


def test_every_advice_item_names_its_source_and_facts(advise) -> None:
    result = advise(patient(conditions=[condition("congestive_heart_failure")], treatments=nsaid_failure()))
    assert result.advice
    for item in result.advice:
        assert item.recommendation.id and item.recommendation.guideline in {
            "acr2019", "asas-eular2022", "label", "axspa-kg"}
        assert item.strength and item.evidence
        assert item.because, f"{item.recommendation.id} {item.therapy.label} has no triggering facts"
