"""A TNF inhibitor being taken that the patient is to come off is no drug in use.

The rules that wait while a biologic or JAK inhibitor is taken (EULAR22-R9, EULAR22-R12, AS-05/06/07
through state-tnfi-taken.rq, AS-12/13 through state-switch-after-first-tnfi.rq) and the question
about how it works (ni-current-response, ni-switch-response) used to wait on it too. With
etanercept taken in NYHA class III or IV heart failure after adalimumab lost its effect, ASAS-EULAR
2022 alone then offered no switch and asked how etanercept works, though the label row says to
avoid TNF inhibitors in such heart failure and to stop one when heart failure appears or worsens.
Such facts carry ax:stopsDrugTaken in the knowledge base; their contraindicated items, and a stated
contraindication to TNF inhibitors, write `?patient ax:contraindicatedMolecule ?drug`, which those
rules read. Facts about starting a drug only (latent tuberculosis, the US line of therapy, a
combination of biologics) change nothing for a drug already taken. Each case has its near miss.
"""

from __future__ import annotations

import pytest

from reasoner.report import AdviceItem, Result

from .patients import condition, course, facts, listed, local, measurement, nsaid_failure, patient, stated_absent

CURRENT_RESPONSE = "response to the TNF, IL-17 or JAK inhibitor being taken"
RESPONSE_TYPE = "response type of a TNF inhibitor course"
SEVERE_HF = condition("severe_heart_failure", "present")


def overridden(result: Result, row: str) -> set[str]:
    return {local(c.advice.therapy.iri) for c in result.conflicts if c.advice.recommendation.id == row}


def etanercept_after_adalimumab(pid: str, *extra: dict, diagnosis: str = "AS") -> dict:
    """Adalimumab lost its effect in 2022; etanercept since, no outcome recorded; active disease."""
    return patient(pid, diagnosis=diagnosis, age=58, sex="male", conditions=[*stated_absent(), *extra],
                   treatments=[*nsaid_failure(),
                               course("adalimumab", outcome="secondary_nonresponse", start="2018-09-01",
                                      end="2022-03-01"),
                               course("etanercept", status="ongoing", start="2022-04-01")])


def test_a_biosimilar_taken_is_its_molecule(eular_only) -> None:
    """Erelzi (etanercept-szzs) in NYHA class III or IV heart failure: the label fact names the
    originator, and the biosimilar taken is to be stopped all the same; R12's note names the drug
    (second review). The course is not among R12's reasons: Virtuoso left that link out over a
    batch (tests/test_store_parity.py)."""
    record = etanercept_after_adalimumab("erelzi-severe-hf", SEVERE_HF)
    record["treatments"][-1]["drug"] = "Erelzi"
    result = eular_only.recommend(record)
    assert result.conforms
    assert listed(result, "R12") == {"bimekizumab", "ixekizumab", "secukinumab", "tofacitinib", "upadacitinib"}
    r12 = next(a for a in result.advice if a.recommendation.id == "R12")
    assert [b.text for b in r12.because if "course" in b.text] == [
        "adalimumab course (stopped, 2018-09-01–2022-03-01): secondary nonresponse"]
    assert "The etanercept-szzs being taken" in (r12.note or "")
    assert CURRENT_RESPONSE not in facts(result)


def test_r12_offers_the_switch_away_from_a_contraindicated_drug(eular_only) -> None:
    """ASAS-EULAR 2022 alone: R12 lists the IL-17 and JAK inhibitors, the TNF inhibitors are held
    back by the heart failure, and nobody is asked how etanercept works."""
    result = eular_only.recommend(etanercept_after_adalimumab("eta-severe-hf-eular", SEVERE_HF))
    assert result.conforms
    assert listed(result, "R12") == {"bimekizumab", "ixekizumab", "secukinumab", "tofacitinib",
                                             "upadacitinib"}
    assert "etanercept" not in listed(result, "R12")
    assert CURRENT_RESPONSE not in facts(result)
    contraindicated = {local(a.therapy.iri) for a in result.advice if a.kind == "contraindicated"}
    assert "etanercept" in contraindicated
    # the item behind R12 is the failed adalimumab course, and R11's work-up comes with it
    r12 = next(a for a in result.advice if a.recommendation.id == "R12")
    assert any("adalimumab" in b.text for b in r12.because)
    assert listed(result, "R11")
    # near miss: no heart failure, etanercept is the switch made: R12 waits, the question is asked
    plain = eular_only.recommend(etanercept_after_adalimumab("eta-no-hf-eular"))
    assert not listed(plain, "R12")
    assert CURRENT_RESPONSE in facts(plain)


def test_a_caution_alone_does_not_end_the_wait(eular_only) -> None:
    """Heart failure of unstated degree is only a caution for TNF inhibitors: etanercept is still
    the drug in use, so R12 waits and its response is asked for."""
    result = eular_only.recommend(etanercept_after_adalimumab(
        "eta-hf-unstated", condition("congestive_heart_failure", "present")))
    assert result.conforms
    assert not listed(result, "R12")
    assert CURRENT_RESPONSE in facts(result)


@pytest.mark.parametrize(("diagnosis", "row"), [("AS", "AS-13"), ("nr-axSpA", "NRAXSPA-13")])
def test_acr_switch_rows_stand_when_the_drug_switched_to_is_contraindicated(acr_only, diagnosis, row) -> None:
    """ACR 2019 alone: AS-13 no longer waits on etanercept (it shows as a conflict, every TNF
    inhibitor being held back), AS-11's IL-17 inhibitor stands, and the question is gone."""
    result = acr_only.recommend(etanercept_after_adalimumab(f"eta-severe-hf-{diagnosis}", SEVERE_HF,
                                                            diagnosis=diagnosis))
    assert result.conforms
    assert CURRENT_RESPONSE not in facts(result)
    assert overridden(result, row) >= {"certolizumab_pegol", "golimumab", "infliximab"}
    assert "etanercept" not in overridden(result, row)  # never the drug taken
    # near miss: without the heart failure the row waits on etanercept and the question is asked
    plain = acr_only.recommend(etanercept_after_adalimumab(f"eta-no-hf-{diagnosis}", diagnosis=diagnosis))
    assert not overridden(plain, row) and not listed(plain, row)
    assert CURRENT_RESPONSE in facts(plain)


def test_r9_and_as06_stand_while_a_first_tnfi_to_come_off_is_taken(reasoner) -> None:
    """Etanercept as first biologic, no outcome yet, and demyelinating disease now on record
    (lbl:tnfi_demyelinating: avoid, and stop if demyelination appears): R9 offers the IL-17
    inhibitors instead of waiting, names etanercept in its note, never lists etanercept;
    AS-06 stands with every TNF inhibitor held back."""
    record = patient("eta-first-demyelinating", conditions=[
        *stated_absent(), condition("demyelinating_disease"), condition("pregnancy", "absent")],
        treatments=[*nsaid_failure(), course("etanercept", status="ongoing", start="2024-03-01")])
    result = reasoner.recommend(record)
    assert result.conforms
    assert {"bimekizumab", "ixekizumab", "secukinumab"} <= listed(result, "R9")
    assert "etanercept" not in listed(result, "R9") | overridden(result, "R9")
    r9 = next(a for a in result.advice if a.recommendation.id == "R9")
    assert "The etanercept being taken is a drug the patient is to come off" in (r9.note or "")
    assert overridden(result, "AS-06") == {"adalimumab", "certolizumab_pegol", "golimumab", "infliximab"}
    assert CURRENT_RESPONSE not in facts(result)
    # near miss: recurrent uveitis instead (lbl:etanercept_ibd_uveitis: do not pick etanercept, a
    # choice between drugs, not an instruction to stop one): etanercept stays the drug in use
    record["conditions"] = [*stated_absent()[:1], condition("recurrent_anterior_uveitis"),
                            condition("peripheral_arthritis", "absent"), condition("pregnancy", "absent")]
    record["id"] = "eta-first-uveitis"
    uveitis = reasoner.recommend(record)
    assert "etanercept" in {local(a.therapy.iri) for a in uveitis.advice if a.kind == "contraindicated"}
    assert not listed(uveitis, "AS-06") and not listed(uveitis, "R9")
    assert RESPONSE_TYPE in facts(uveitis)


@pytest.mark.parametrize(("pid", "extra", "treatments"), [
    # latent tuberculosis: test and treat first (lbl:jaki_serious_infection), about starting
    ("upadacitinib-latent-tb", [condition("latent_tuberculosis")],
     [course("adalimumab", outcome="primary_nonresponse", start="2019-09-01", end="2022-03-01"),
      course("upadacitinib", status="ongoing", start="2023-06-01")]),
    # a TNF inhibitor beside ustekinumab for Crohn's disease (lbl:tnfi_biologic_combination)
    ("adalimumab-with-ustekinumab", [condition("concurrent_biologic")],
     [course("adalimumab", status="ongoing", start="2023-02-01"),
      course("ustekinumab", status="ongoing", start="2023-06-01")]),
    # ACR 2019's infection grouping stated as such (tnfi-contraindication.rq): about starting a TNF
    # inhibitor, AS-11 preferring sulfasalazine while the infection risk is brought down
    ("adalimumab-infection-grouping", [condition("tnfi_contraindication_infection")],
     [course("adalimumab", status="ongoing", start="2023-02-01")]),
])
def test_a_fact_about_starting_a_drug_leaves_the_drug_taken_in_use(eular_only, pid, extra, treatments) -> None:
    """Blocking facts about starting a drug (an infection to treat first, a combination of
    biologics) are no reason to switch away from one already taken: R9 and R12 wait, the response
    is asked for, as before (second review of this change)."""
    named = {c["condition"] for c in extra}
    stated = [c for c in stated_absent() if c["condition"] not in named]  # latent TB: present here
    result = eular_only.recommend(patient(pid, conditions=[*stated, *extra],
                                          treatments=[*nsaid_failure(), *treatments]))
    assert result.conforms
    assert any(a.kind == "contraindicated" for a in result.advice)
    assert not listed(result, "R9") and not listed(result, "R12")
    assert CURRENT_RESPONSE in facts(result)


def test_the_question_stays_where_neither_r9_nor_r12_offers_a_next_step(eular_only) -> None:
    """Etanercept in NYHA class III or IV heart failure, NSAIDs never tried (they are held back by
    the same heart failure): neither R9 nor R12 applies, so the question about etanercept stays
    rather than the report falling silent about it (second review of this change)."""
    result = eular_only.recommend(patient("eta-severe-hf-no-nsaid", age=66, sex="male", conditions=[
        *stated_absent(), SEVERE_HF], treatments=[course("etanercept", status="ongoing", start="2024-02-01")]))
    assert result.conforms
    assert not listed(result, "R9") and not listed(result, "R12")
    assert CURRENT_RESPONSE in facts(result)


def test_the_state_is_written_for_contraindications_only(reasoner) -> None:
    """ax:contraindicatedMolecule names the drugs of items whose fact says to stop the drug
    (ax:stopsDrugTaken), never those of another caution nor of another blocking fact."""
    from rdflib import URIRef

    from reasoner.namespaces import AX

    record = etanercept_after_adalimumab("state-check", SEVERE_HF, condition("congestive_heart_failure"))
    derived = reasoner.derive(reasoner.load(record).graph)
    who = URIRef("https://w3id.org/axspa-kg/record/state-check")
    marked = {local(str(o)) for o in derived.objects(who, AX.contraindicatedMolecule)}
    # tnfi_severe_heart_failure: the five TNF inhibitors, and nothing else. nsaid_severe_heart_failure
    # and infliximab_hf_high_dose block too but say nothing of stopping a drug taken (the dose
    # fact is about infliximab above 5 mg/kg); tnfi_heart_failure is a caution
    assert marked == {"adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab"}


def test_the_us_jaki_indication_restriction_is_no_reason_to_switch(eular_only) -> None:
    """Upadacitinib as first b/tsDMARD (no TNF inhibitor failed): lbl:jaki_us_tnf_ir lists it as
    contraindicated (the US indication), but that restriction is about starting it (no
    ax:stopsDrugTaken). The drug taken stays the drug in use: R9 waits and its response is asked
    for, as before."""
    result = eular_only.recommend(patient("upadacitinib-first-line", conditions=stated_absent(), treatments=[
        *nsaid_failure(), course("upadacitinib", status="ongoing", start="2024-05-01")]))
    assert result.conforms
    contraindicated = {local(a.therapy.iri) for a in result.advice if a.kind == "contraindicated"}
    assert "upadacitinib" in contraindicated
    assert not listed(result, "R9")
    assert CURRENT_RESPONSE in facts(result)
    # near miss: with a stated TNF-inhibitor contraindication, a TNF inhibitor taken is no drug in
    # use (demyelinating disease, golimumab taken): R9 offers the IL-17 inhibitors
    golimumab = eular_only.recommend(patient("golimumab-demyelinating", conditions=[
        *stated_absent(), condition("demyelinating_disease")], treatments=[
        *nsaid_failure(), course("golimumab", status="ongoing", start="2024-05-01")]))
    assert {"bimekizumab", "ixekizumab", "secukinumab"} <= listed(golimumab, "R9")
    assert CURRENT_RESPONSE not in facts(golimumab)
    # and so with a contraindication to TNF inhibitors the record states as such
    stated = eular_only.recommend(patient("golimumab-tnfi-contraindicated", conditions=[
        *stated_absent(), condition("tnfi_contraindication")], treatments=[
        *nsaid_failure(), course("golimumab", status="ongoing", start="2024-05-01")]))
    assert {"bimekizumab", "ixekizumab", "secukinumab"} <= listed(stated, "R9")


STOP_NOTE = "Being taken now (the course named)"


def contraindicated_items(result: Result, drug: str) -> list:
    return [a for a in result.advice if a.kind == "contraindicated" and local(a.therapy.iri) == drug]


def stopped_item(result: Result, drug: str, fact: str, course_shown: str,
                 kind: str = "contraindicated") -> AdviceItem:
    """The record conforms, and its one item of this kind for the drug rests on the fact, names the
    course being taken and says the drug is to be stopped (label-drug-taken.rq)."""
    assert result.conforms
    [item] = [a for a in result.advice if a.kind == kind and local(a.therapy.iri) == drug]
    assert item.recommendation.id == fact
    assert any(b.text.startswith(course_shown) for b in item.because)
    assert item.note and STOP_NOTE in item.note and "to be stopped" in item.note
    return item


def test_upadacitinib_taken_in_pregnancy_is_to_be_stopped(eular_only) -> None:
    """Probe q47 (session 17): pregnant, active disease, upadacitinib since 2024 after adalimumab
    lost its effect. The EU label rules upadacitinib out in pregnancy (safety.tsv
    upadacitinib_pregnancy), yet its item cited only the pregnancy, its instruction spoke of
    starting, and R12 waited on the drug. The fact now says to stop a drug taken
    (ax:stopsDrugTaken): the item names the course and says it is to be stopped, and R12 answers
    as if upadacitinib were not taken (no question about how it works)."""
    record = patient("pregnant-on-upadacitinib", age=31, sex="female", conditions=[
        *stated_absent(), condition("pregnancy")], treatments=[
        *nsaid_failure(),
        course("adalimumab", outcome="secondary_nonresponse", start="2019-01-10", end="2023-11-01"),
        course("upadacitinib", status="ongoing", start="2024-01-15")])
    result = eular_only.recommend(record)
    item = stopped_item(result, "upadacitinib", "upadacitinib_pregnancy", "upadacitinib course (ongoing, 2024-01-15)")
    assert item.note.startswith("EU: do not use in pregnancy.")
    assert CURRENT_RESPONSE not in facts(result)
    r12 = next(a for a in result.advice if a.recommendation.id == "R12")
    assert "The upadacitinib being taken is a drug the patient is to come off" in (r12.note or "")
    # near miss: pregnancy stated absent, upadacitinib is the drug in use again and nothing says stop
    absent = eular_only.recommend({**record, "id": "not-pregnant-on-upadacitinib", "conditions": [
        *stated_absent(), condition("pregnancy", "absent")]})
    assert not contraindicated_items(absent, "upadacitinib")
    assert CURRENT_RESPONSE in facts(absent)


def test_only_the_drug_taken_gets_the_stop_note(reasoner) -> None:
    """NYHA class III or IV heart failure with adalimumab (Amjevita, adalimumab-atto) taken: the item
    of adalimumab names the course and says to stop it; the items of the other TNF inhibitors,
    not taken, keep the fact's instruction alone; a contraindication that says nothing of stopping
    (infliximab above 5 mg/kg) and a caution (tnfi_heart_failure) never say to stop. Session 19:
    every label item about the drug taken names its course (the caution: it applies to the course
    taken); the items of drugs not taken name none."""
    result = reasoner.recommend(patient("amjevita-severe-hf", state="stable", age=67, conditions=[
        *stated_absent(), SEVERE_HF, condition("congestive_heart_failure")], treatments=[
        *nsaid_failure(), course("Amjevita", status="ongoing", outcome="ongoing_response", start="2016-03-01")]))
    assert result.conforms
    stop = {(a.recommendation.id, local(a.therapy.iri)) for a in result.advice
            if a.note and STOP_NOTE in a.note and "to be stopped" in a.note}
    assert stop == {("tnfi_severe_heart_failure", "adalimumab")}
    taken = {(a.recommendation.id, local(a.therapy.iri)) for a in result.advice if a.note and STOP_NOTE in a.note}
    assert ("tnfi_heart_failure", "adalimumab") in taken
    assert {drug for _, drug in taken} == {"adalimumab"}
    [caution] = [a for a in result.advice if a.recommendation.id == "tnfi_heart_failure"
                 and local(a.therapy.iri) == "adalimumab"]
    assert caution.note and caution.note.endswith("the caution applies to the course taken.")
    [item] = [a for a in contraindicated_items(result, "adalimumab")
              if a.recommendation.id == "tnfi_severe_heart_failure"]
    assert any(b.text.startswith("Amjevita (adalimumab-atto) course (ongoing, 2016-03-01)") for b in item.because)


OTHER_STATED = [c for c in stated_absent() if c["condition"] != "peripheral_arthritis"]


def test_methotrexate_taken_in_pregnancy_is_to_be_stopped(reasoner) -> None:
    """Session-18 probe s35: about six weeks pregnant, methotrexate taken for knee synovitis and
    working. mtx_pregnancy cited only the pregnancy and said to rule pregnancy out before starting.
    It now carries ax:stopsDrugTaken, as upadacitinib_pregnancy does: the item names the course and
    says the drug is to be stopped. Near miss: pregnancy stated absent, nothing to stop."""
    record = patient("pregnant-on-methotrexate", age=30, sex="female", state="stable",
                     measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                     conditions=[*OTHER_STATED, condition("pregnancy"), condition("peripheral_arthritis")],
                     treatments=[*nsaid_failure(),
                                 course("methotrexate", status="ongoing", outcome="ongoing_response",
                                        start="2024-01-01")])
    stopped_item(reasoner.recommend(record), "methotrexate", "mtx_pregnancy",
                 "methotrexate course (ongoing, 2024-01-01)")
    absent = reasoner.recommend({**record, "id": "not-pregnant-on-methotrexate", "conditions": [
        *OTHER_STATED, condition("pregnancy", "absent"), condition("peripheral_arthritis")]})
    assert absent.conforms and not contraindicated_items(absent, "methotrexate")


def test_a_tnfi_taken_with_a_lupus_like_syndrome_is_to_be_stopped_but_none_is_held_back(reasoner) -> None:
    """Session-18 probe s05: a new lupus-like syndrome on adalimumab, stable AS. The label row is a
    caution whose instruction is to discontinue; the report advised keeping the originator (AS-28,
    strong), not stopping it (AS-26) and tapering (R13), beside a caution that did not name the drug
    taken. The caution now names the course and says to stop it, and the advice to keep adalimumab
    is a conflict. Second review: a patient who never took a TNF inhibitor keeps AS-06's TNF
    inhibitors, each with the caution (a first fix made the fact blocking and held them back)."""
    record = patient("lupus-like-on-adalimumab", state="stable",
                     measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                     conditions=[*stated_absent(), condition("lupus_like_syndrome")],
                     treatments=[*nsaid_failure(),
                                 course("adalimumab", status="ongoing", outcome="ongoing_response",
                                        start="2020-02-01")])
    result = reasoner.recommend(record)
    stopped_item(result, "adalimumab", "tnfi_lupus_like", "adalimumab course (ongoing, 2020-02-01)", kind="caution")
    kept = {a.recommendation.id for a in result.advice if a.kind != "needs-information"}
    assert not {"AS-26", "AS-27", "AS-28", "R13"} & kept
    assert {c.advice.recommendation.id for c in result.conflicts} >= {"AS-26", "AS-28", "R13"}
    from reasoner.report import render_text

    assert "which is to be stopped under tnfi_lupus_like" in render_text(result)
    naive = reasoner.recommend(patient("lupus-like-tnfi-naive", conditions=[*stated_absent(),
                                                                             condition("lupus_like_syndrome")],
                                       treatments=nsaid_failure()))
    assert naive.conforms
    assert {"adalimumab", "etanercept"} <= {local(a.therapy.iri) for a in naive.advice
                                            if a.recommendation.id == "AS-06"}
    assert all(a.kind == "caution" for a in naive.advice if a.recommendation.id == "tnfi_lupus_like")


@pytest.mark.parametrize(("label", "diagnosis", "row", "extra"), [
    ("a lupus-like syndrome (a caution that says to stop the drug)", "AS", "AS-30", condition("lupus_like_syndrome")),
    ("heart failure of NYHA class III or IV", "AS", "AS-30", SEVERE_HF),
    ("a contraindication to TNF inhibitors stated", "nr-axSpA", "NRAXSPA-29", condition("tnfi_contraindication")),
])
def test_no_advice_on_methotrexate_beside_a_tnfi_to_be_stopped(reasoner, label, diagnosis, row, extra) -> None:
    """Session-18 second review: AS-30 (against methotrexate co-treatment, TNF inhibitor without it
    preferred) still cited the adalimumab course that the same report says to stop. The rows about
    what to take with a TNF inhibitor now skip one the patient is to come off
    (ax:contraindicatedMolecule); without the condition, they stand (near miss)."""
    def record(conditions: list[dict]) -> dict:
        return patient(f"mtx-beside-{row}-{len(conditions)}-{len(label)}", diagnosis=diagnosis, state="stable",
                       measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                       conditions=conditions,
                       treatments=[*nsaid_failure(),
                                   course("adalimumab", status="ongoing", outcome="ongoing_response",
                                          start="2020-02-01")])
    stopped = reasoner.recommend(record([*stated_absent(), extra]))
    kept = reasoner.recommend(record(stated_absent()))
    assert stopped.conforms, label
    assert row not in {a.recommendation.id for a in stopped.advice}, label
    assert row in {a.recommendation.id for a in kept.advice}, label


def test_every_label_item_about_a_drug_taken_names_the_course(reasoner) -> None:
    """Session-19 probe: cautions and contraindications written for starting a drug never named the
    course being taken. A woman planning a pregnancy on Rinvoq (p20) got "check that the patient is
    not pregnant before starting"; upadacitinib taken as the first advanced drug, as EU labels allow
    (p29), got the US line-of-therapy contraindication with no word on the course; naproxen taken at
    32 weeks (p21) was shown only as not to be chosen. Each item now names the course: a caution
    applies to it; for a contraindication not marked as saying to stop, the note says that its
    instruction is for the course taken as well (not weakened: session-19 review); NSAIDs from 30
    weeks of pregnancy are to be stopped (ax:stopsDrugTaken)."""
    planning = reasoner.recommend(patient("p20-like", age=33, sex="female", state="stable",
                                          measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                                          conditions=[*stated_absent(), condition("pregnancy", "absent"),
                                                      condition("planning_pregnancy")],
                                          treatments=[*nsaid_failure(),
                                                      course("adalimumab", outcome="secondary_nonresponse",
                                                             start="2019-01-10", end="2023-01-01"),
                                                      course("Rinvoq", status="ongoing", outcome="ongoing_response",
                                                             start="2023-07-01")]))
    [item] = [a for a in planning.advice if a.recommendation.id == "upadacitinib_reproductive_potential"]
    assert any(b.text.startswith("Rinvoq (upadacitinib) course (ongoing, 2023-07-01)") for b in item.because)
    assert item.note and item.note.endswith("the caution applies to the course taken.")
    first_line = reasoner.recommend(patient("p29-like", state="stable",
                                            measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                                            conditions=stated_absent(),
                                            treatments=[*nsaid_failure(),
                                                        course("upadacitinib", status="ongoing",
                                                               outcome="ongoing_response", start="2024-02-01")]))
    [item] = [a for a in contraindicated_items(first_line, "upadacitinib")
              if a.recommendation.id == "jaki_us_tnf_ir"]
    assert any(b.text.startswith("upadacitinib course (ongoing, 2024-02-01)") for b in item.because)
    # the US line of therapy does not say to stop a course under way (session-30 probe F2: a
    # working first-line upadacitinib read as "stop it")
    assert item.note and "place in the US line of therapy" in item.note
    assert "does not say to stop a course under way" in item.note
    assert "to be stopped" not in item.note and "for the course taken as well" not in item.note
    # a contraindication about the patient's state keeps its instruction for the course taken
    infected = reasoner.recommend(patient("p29-infected", state="stable",
                                          measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                                          conditions=[*stated_absent(), condition("active_serious_infection")],
                                          treatments=[*nsaid_failure(),
                                                      course("upadacitinib", status="ongoing",
                                                             outcome="ongoing_response", start="2024-02-01")]))
    [item] = [a for a in contraindicated_items(infected, "upadacitinib")
              if a.recommendation.id == "jaki_serious_infection"]
    assert item.note and item.note.endswith("the instruction above is for the course taken as well.")
    [other] = [a for a in contraindicated_items(first_line, "tofacitinib") if a.recommendation.id == "jaki_us_tnf_ir"]
    assert not other.note or STOP_NOTE not in other.note
    late = reasoner.recommend(patient("p21-like", age=31, sex="female", state="stable",
                                      measurements=[measurement("basdai", 1.5), measurement("crp", 2.0)],
                                      conditions=[*stated_absent(), condition("pregnancy"),
                                                  condition("pregnancy_30_weeks_or_more")],
                                      treatments=[course("naproxen", status="ongoing", outcome="ongoing_response",
                                                         start="2021-01-01")]))
    stopped_item(late, "naproxen", "nsaid_pregnancy_30wk", "naproxen course (ongoing, 2021-01-01)")
