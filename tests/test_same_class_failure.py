"""A drug of a class that already failed for lack of effect carries a caution that the guidelines
do not cover switching within the class (queries/rules/same-class-failure.rq).

ACR 2019 chooses the next drug by how the first TNF inhibitor failed; nothing in the source tables
covers a failed IL-17 or JAK inhibitor, and ASAS-EULAR R12 does not separate classes. The session-12
clinical probe found ixekizumab recommended (AS-08, strong) after secukinumab gave no response,
and tofacitinib after upadacitinib, without a word. The caution blocks nothing.
"""

from __future__ import annotations

import pytest

from .patients import condition, course, nsaid_failure, patient, principle_items, stated_absent

STATED = stated_absent()



@pytest.mark.parametrize(("failed", "others", "state"), [
    ("secukinumab", {"ixekizumab", "bimekizumab"}, "active"),
    ("Taltz", {"secukinumab", "bimekizumab"}, "active"),
    # filgotinib: no row offers it (no axSpA approval; kept out of class advice), so no caution
    ("upadacitinib", {"tofacitinib"}, "active"),
])
def test_the_other_drugs_of_a_failed_class_carry_a_caution(run, failed, others, state) -> None:
    result = run(patient(f"same-class-{failed.lower()}", state=state, conditions=STATED, treatments=[
        *nsaid_failure(), course(failed, outcome="primary_nonresponse", start="2025-01-01", end="2025-07-01")]))
    flagged = principle_items(result, "same-class-failure")
    assert set(flagged) == others
    for items in flagged.values():
        assert {a.kind for a in items} == {"caution"}
        assert any(f.text.startswith(f"{'Taltz (ixekizumab)' if failed == 'Taltz' else failed} course") for a in items
                   for f in a.because)
        assert all("clinician's call" in (a.note or "") for a in items)
    # a caution, not a block: the rules that recommend them still do (AS-08 the IL-17 inhibitors; a
    # JAK inhibitor here is held back by its US label, as no TNF inhibitor has failed)
    recommended = {a.therapy.label for a in result.advice if a.kind in ("recommended", "preferred-over")}
    assert recommended & others or failed == "upadacitinib"


@pytest.mark.parametrize(("failed", "outcome", "state"), [
    ("secukinumab", "adverse_event", "active"),      # harm, not lack of effect
    ("secukinumab", "partial_response", "active"),   # partly helped: not a failure of the class
    ("etanercept", "primary_nonresponse", "active"),  # TNF inhibitors: AS-12 to AS-14 cover them
    ("secukinumab", "primary_nonresponse", "stable"),  # no new drug is being chosen
])
def test_near_misses_carry_no_caution(run, failed, outcome, state) -> None:
    result = run(patient(f"same-class-miss-{failed}-{outcome}-{state}", state=state, conditions=STATED, treatments=[
        *nsaid_failure(), course(failed, outcome=outcome, start="2025-01-01", end="2025-07-01")]))
    assert not principle_items(result, "same-class-failure")


@pytest.mark.parametrize(("setting", "acr", "eular"), [("acr_only", True, False), ("eular_only", False, True),
                                                       ("reasoner", True, True)])
def test_the_caution_names_only_the_guidelines_loaded(request, setting, acr, eular) -> None:
    """Session-31 probe F5: under ACR 2019 alone the note named ASAS-EULAR 2022's R12, and under
    ASAS-EULAR 2022 alone it spoke for ACR 2019."""
    result = request.getfixturevalue(setting).recommend(patient(
        f"same-class-note-{setting}", conditions=STATED, treatments=[
            *nsaid_failure(), course("secukinumab", outcome="primary_nonresponse", start="2025-01-01",
                                     end="2025-07-01")]))
    notes = {a.note for items in principle_items(result, "same-class-failure").values() for a in items}
    assert notes, setting
    for note in notes:
        assert ("ACR 2019 says how to choose after a TNF inhibitor fails, not after an IL-17 inhibitor fails"
                in note) is acr, note
        assert ("ASAS-EULAR 2022 (R12) does not separate classes" in note) is eular, note
        assert note.endswith("whether to try another drug of the same class is the clinician's call.")


@pytest.mark.parametrize(("setting", "failed", "others"), [
    ("acr_only", "secukinumab", {"ixekizumab"}),
    ("eular_only", "secukinumab", {"ixekizumab", "bimekizumab"}),
    ("reasoner", "secukinumab", {"ixekizumab", "bimekizumab"}),
    ("acr_only", "tofacitinib", set()),
    ("eular_only", "tofacitinib", {"upadacitinib"}),
    ("reasoner", "tofacitinib", {"upadacitinib"}),
])
def test_only_drugs_a_loaded_row_offers_are_flagged(request, setting, failed, others) -> None:
    """Session-31 review F3: under ACR 2019 alone, after tofacitinib failed (here after a TNF
    inhibitor, so the US label holds no JAK inhibitor back), upadacitinib and filgotinib were
    flagged, and bimekizumab after secukinumab: no ACR 2019 row offers them (filgotinib no row at
    all), so the caution spoke of drugs the report never offers (ax:mayBeOffered)."""
    result = request.getfixturevalue(setting).recommend(patient(
        f"same-class-offered-{setting}-{failed}", conditions=STATED, treatments=[
            *nsaid_failure(),
            course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-07-01"),
            course(failed, outcome="primary_nonresponse", start="2025-01-01", end="2025-07-01")]))
    assert set(principle_items(result, "same-class-failure")) == others


def test_a_drug_ruled_out_by_a_stated_condition_is_not_flagged(run) -> None:
    """A stated condition that rules a drug out (severe hepatic impairment and tofacitinib) already
    gives a contraindicated item; a same-class caution beside it said nothing more."""
    result = run(patient("same-class-ruled-out", conditions=[
        *STATED, condition("severe_hepatic_impairment", "present")], treatments=[
            *nsaid_failure(),
            course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-07-01"),
            course("upadacitinib", outcome="primary_nonresponse", start="2025-01-01", end="2025-07-01")]))
    assert "tofacitinib" in {a.therapy.label for a in result.advice if a.kind == "contraindicated"}
    assert not principle_items(result, "same-class-failure")


@pytest.mark.parametrize("setting", ["acr_only", "reasoner"])
@pytest.mark.parametrize("taken", ["upadacitinib", "filgotinib"])
def test_a_drug_of_the_class_being_taken_keeps_its_caution(request, setting, taken) -> None:
    """Session-32 review F1: with the caution limited to drugs a loaded row may offer, upadacitinib
    taken after tofacitinib failed lost it under ACR 2019 alone, and filgotinib (offered by no row)
    in every setting; a drug being taken keeps it whatever the rows offer."""
    result = request.getfixturevalue(setting).recommend(patient(
        f"same-class-taken-{setting}-{taken}", conditions=STATED, treatments=[
            *nsaid_failure(),
            course("adalimumab", outcome="primary_nonresponse", start="2023-01-01", end="2023-07-01"),
            course("tofacitinib", outcome="primary_nonresponse", start="2024-01-01", end="2024-07-01"),
            course(taken, status="ongoing", start="2025-01-01")]))
    assert taken in principle_items(result, "same-class-failure")
