"""After the first TNF inhibitor failed and the patient was switched: the switching rows wait on the
drug switched to (state-switch-after-first-tnfi.rq), never list a drug being taken
(state-tnfi-taken.rq), and a drug the record shows working now is no do-not-repeat item. Findings
of the session-14 clinical probe of later-line patients, each with its near miss."""

from __future__ import annotations

import pytest

from reasoner.report import Result

from .patients import condition, course, facts, listed, local, measurement, nsaid_failure, patient, stated_absent

STATED = [*stated_absent(), condition("pregnancy", "absent")]
RESPONSE_TYPE = "response type of a TNF inhibitor course"
CURRENT_RESPONSE = "response to the TNF, IL-17 or JAK inhibitor being taken"
STABLE_SCORES = [measurement("basdai", 1.5), measurement("crp", 2.0)]


def rows(result: Result) -> set[str]:
    return {a.recommendation.id for a in result.advice if a.kind != "needs-information"}


def blocked(result: Result) -> set[str]:
    return {local(a.therapy.iri) for a in result.advice if a.kind == "do-not-repeat"}


def working_again_notes(result: Result) -> set[str]:
    """The drugs whose do-not-repeat item says the course taken again now is not advised against."""
    return {local(a.therapy.iri) for a in result.advice
            if a.kind == "do-not-repeat" and a.note and "working now" in a.note}


@pytest.mark.parametrize(("diagnosis", "row"), [("AS", "AS-13"), ("nr-axSpA", "NRAXSPA-13")])
def test_the_switch_rows_wait_while_the_tnfi_switched_to_is_taken(advise, diagnosis, row) -> None:
    """Etanercept since 2024 after adalimumab lost its effect, no outcome yet: AS-13 listed
    'certolizumab pegol, etanercept, golimumab, infliximab over the IL-17 inhibitors', the drug
    being taken among them. The switch it advises was made; how etanercept works decides."""
    first = course("adalimumab", outcome="secondary_nonresponse", start="2022-01-10", end="2024-02-01")
    result = advise(patient(f"switched-{diagnosis}", diagnosis=diagnosis, conditions=STATED, treatments=[
        *nsaid_failure(), first, course("etanercept", status="ongoing", start="2024-03-01")]))
    assert row not in rows(result)
    assert RESPONSE_TYPE not in facts(result)  # how adalimumab failed decides nothing meanwhile
    assert CURRENT_RESPONSE in facts(result)
    # near miss: etanercept stopped for another reason, the switch is to be made again
    stopped = advise(patient(f"switch-stopped-{diagnosis}", diagnosis=diagnosis, conditions=STATED, treatments=[
        *nsaid_failure(), first,
        course("etanercept", outcome="stopped_other_reason", start="2024-03-01", end="2024-05-01")]))
    assert listed(stopped, row) == {"certolizumab_pegol", "etanercept", "golimumab", "infliximab"}


@pytest.mark.parametrize(("diagnosis", "row"), [("AS", "AS-13"), ("nr-axSpA", "NRAXSPA-13")])
def test_an_undated_switch_counts_once_the_first_tnfi_is_stopped(advise, diagnosis, row) -> None:
    """Adalimumab lost its effect and secukinumab is taken now, neither course dated (session 16):
    AS-13 offered another TNF inhibitor over secukinumab, the drug being taken, and nothing asked how
    secukinumab works. With every adalimumab course stopped, the drug taken now replaced it
    (state-switch-after-first-tnfi-undated.rq); the answer equals that for the dated record."""
    def treatments(first_status: str = "stopped", later_start: str | None = None,
                   later_outcome: str | None = None) -> list:
        return [*nsaid_failure(),
                course("adalimumab", status=first_status, outcome="secondary_nonresponse", start=None),
                course("secukinumab", status="ongoing", outcome=later_outcome, start=later_start)]

    undated = advise(patient(f"undated-switch-{diagnosis}", diagnosis=diagnosis, conditions=STATED,
                             treatments=treatments()))
    assert row not in rows(undated)
    assert RESPONSE_TYPE not in facts(undated)
    assert CURRENT_RESPONSE in facts(undated)
    # a dated course of the drug taken now, the first one undated: nothing to compare it with
    dated_later = advise(patient(f"half-dated-switch-{diagnosis}", diagnosis=diagnosis, conditions=STATED,
                                 treatments=treatments(later_start="2024-03-01")))
    assert row not in rows(dated_later)
    assert CURRENT_RESPONSE in facts(dated_later)
    # near misses: adalimumab still recorded as taken (no switch was made), or secukinumab with a
    # partial response: the row stands, never listing a drug being taken
    for name, kinds in (("first-still-taken", treatments(first_status="ongoing")),
                        ("later-partial", treatments(later_outcome="partial_response"))):
        standing = advise(patient(f"undated-{name}-{diagnosis}", diagnosis=diagnosis, conditions=STATED,
                                  treatments=kinds))
        assert listed(standing, row) == {"certolizumab_pegol", "etanercept", "golimumab", "infliximab"}, name


def test_a_tnfi_taken_despite_harm_leaves_the_row_standing_without_itself(advise) -> None:
    """Etanercept continued despite injection-site reactions, in heart failure (probe p16 kin): AS-13
    stands, as after a stopped course, but never lists the drug already taken."""
    result = advise(patient("switched-despite-reaction", conditions=STATED, treatments=[
        *nsaid_failure(),
        course("adalimumab", outcome="secondary_nonresponse", start="2022-01-10", end="2024-02-01"),
        course("etanercept", status="ongoing", outcome="injection_site_reaction", start="2024-03-01")]))
    assert listed(result, "AS-13") == {"certolizumab_pegol", "golimumab", "infliximab"}


def test_the_il17_inhibitor_switched_to_makes_as12_wait(advise) -> None:
    """Secukinumab since 2023 after adalimumab never worked: AS-12 listed 'ixekizumab, secukinumab
    over the TNF inhibitors' to a patient on secukinumab."""
    first = course("adalimumab", outcome="primary_nonresponse", start="2022-01-10", end="2022-08-01")
    taking = advise(patient("on-secukinumab-after-pnr", conditions=STATED, treatments=[
        *nsaid_failure(), first, course("secukinumab", status="ongoing", start="2022-09-01")]))
    assert "AS-12" not in rows(taking)
    # an upadacitinib course after it, ongoing, is the switch pending too (probe p04)
    after_both = advise(patient("on-upadacitinib-after-secukinumab", conditions=STATED, treatments=[
        *nsaid_failure(), first,
        course("secukinumab", outcome="primary_nonresponse", start="2022-09-01", end="2023-06-01"),
        course("upadacitinib", status="ongoing", start="2023-07-01")]))
    assert "AS-12" not in rows(after_both)
    # near miss: secukinumab failed and nothing is taken now: AS-12 applies again, with the other
    # IL-17 inhibitor (same-class-failure marks the switch within the class)
    failed = advise(patient("secukinumab-failed-after-pnr", conditions=STATED, treatments=[
        *nsaid_failure(), first,
        course("secukinumab", outcome="primary_nonresponse", start="2022-09-01", end="2023-06-01")]))
    assert listed(failed, "AS-12") == {"ixekizumab"}


def test_a_drug_taken_before_the_first_tnfi_is_no_switch(advise) -> None:
    """Ixekizumab started before adalimumab (and still recorded as ongoing) is no switch after it:
    AS-12 stands, without the drug being taken."""
    result = advise(patient("ixekizumab-before-tnfi", conditions=STATED, treatments=[
        *nsaid_failure(), course("ixekizumab", status="ongoing", start="2021-06-01"),
        course("adalimumab", outcome="primary_nonresponse", start="2022-01-10", end="2022-08-01")]))
    assert listed(result, "AS-12") == {"secukinumab"}


def test_worked_case_2_a_failed_jak_inhibitor_leaves_the_response_type_open(advise) -> None:
    """Upadacitinib (no ACR 2019 row chose it) failed after etanercept's injection-site reaction:
    how etanercept failed still decides AS-12 against AS-13 (shared/CASES.md)."""
    result = advise(patient("case-2-kin", conditions=STATED, treatments=[
        *nsaid_failure(),
        course("etanercept", outcome="injection_site_reaction", start="2024-01-10", end="2024-04-02"),
        course("upadacitinib", outcome="primary_nonresponse", start="2024-06-01", end="2025-01-15")]))
    assert RESPONSE_TYPE in facts(result)


@pytest.mark.parametrize(("label", "treatments", "blocked_too"), [
    ("Humira restarted after a loss of effect, holding stable disease",
     [course("adalimumab", outcome="secondary_nonresponse", start="2019-06-01", end="2023-03-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2025-03-01")],
     {"adalimumab", "adalimumab_atto"}),
    ("Inflectra working since 2020 after Remicade never did in 2019",
     [course("infliximab", outcome="primary_nonresponse", start="2019-06-01", end="2020-01-01"),
      course("Inflectra", status="ongoing", outcome="ongoing_response", start="2020-02-01")],
     {"infliximab", "infliximab_dyyb"}),
])
def test_a_drug_working_now_keeps_the_advice_to_keep_it(advise, label, treatments, blocked_too) -> None:
    """Stable disease on a drug that failed before and that the record shows working now: the advice
    to keep the biologic (AS-26, AS-27, R13) was dropped without a word (probe). It stands now; the
    do-not-repeat item stays, since starting the drug afresh is still no option (review: sparing the
    item itself let AS-08 or AS-41 offer a drug that had failed)."""
    result = advise(patient(f"working-{len(label)}", state="stable", conditions=STATED,
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), *treatments]))
    assert blocked_too <= blocked(result), label
    assert {"AS-26", "AS-27", "R13"} <= rows(result), label
    assert not result.conflicts, label
    # the item of the drug taken now (Humira is adalimumab; Inflectra, infliximab-dyyb) says that
    # the course kept is not advised against (probe p33); its other versions' items say nothing of it
    taken_now = "adalimumab" if "Humira" in label else "infliximab_dyyb"
    assert working_again_notes(result) == {taken_now}, label


@pytest.mark.parametrize(("label", "treatments"), [
    ("no response recorded on the restart",
     [course("adalimumab", outcome="secondary_nonresponse", start="2019-06-01", end="2023-03-01"),
      course("Humira", status="ongoing", start="2025-03-01")]),
    ("a partial response beside the response",
     [course("adalimumab", outcome="secondary_nonresponse", start="2019-06-01", end="2023-03-01"),
      course("Humira", status="ongoing", outcome=["ongoing_response", "partial_response"], start="2025-03-01")]),
    ("harm on the course kept (a tolerated injection-site reaction counts)",
     [course("etanercept", status="ongoing", outcome=["injection_site_reaction", "ongoing_response"],
             start="2025-01-01")]),
    ("the failed course is still recorded as ongoing beside the one kept (session-17 review)",
     [course("adalimumab", status="ongoing", outcome="secondary_nonresponse", start="2019-06-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")]),
    ("the failed course ended after the course kept began (dated overlap, session-17 review)",
     [course("adalimumab", outcome="secondary_nonresponse", start="2019-01-10", end="2024-06-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")]),
    ("the failure came after the course kept began (overlapping courses)",
     [course("Humira", status="ongoing", outcome="ongoing_response", start="2018-01-01"),
      course("adalimumab", outcome="secondary_nonresponse", start="2022-01-01", end="2023-01-01")]),
])
def test_the_advice_to_keep_a_failed_drug_stays_suppressed_otherwise(advise, label, treatments) -> None:
    """Near misses (review): only a course that began after the failure and records a response with
    no shortfall and no harm keeps the advice to keep the drug."""
    result = advise(patient(f"kept-suppressed-{len(label)}", state="stable", conditions=STATED,
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), *treatments]))
    assert "AS-26" not in rows(result), label
    assert not working_again_notes(result), label


@pytest.mark.parametrize(("label", "failed_end", "working"), [
    ("the failed course ended before the restart", "2019-01-01", True),
    ("the failed course ended after the restart began", "2024-06-01", False),
])
def test_an_end_date_alone_orders_the_failed_course(advise, label, failed_end, working) -> None:
    """Probe q46 (session 17): adalimumab lost its effect, with only an end date (2019) recorded;
    Humira since 2024, working, in stable disease. The failed course could not be ordered against
    the restart, so the advice to keep the drug was dropped and nothing said why. A course that
    ended before the kept one began also began before it; one that ended after still leaves the
    two courses overlapping (near miss). The report shows such a course as "ended <date>"."""
    failed = course("adalimumab", outcome="secondary_nonresponse", start=None, end=failed_end)
    result = advise(patient(f"end-only-{failed_end}", state="stable", conditions=STATED,
                            measurements=STABLE_SCORES, treatments=[
                                *nsaid_failure(), failed,
                                course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")]))
    assert ("AS-26" in rows(result)) is working, label
    assert (working_again_notes(result) == {"adalimumab"}) is working, label
    texts = {b.text for a in result.advice if a.kind == "do-not-repeat" for b in a.because}
    assert f"adalimumab course (stopped, ended {failed_end}): secondary nonresponse" in texts, label


def test_no_working_again_note_when_a_label_fact_says_to_stop_the_drug(advise) -> None:
    """Probe q43 (session 17): Enbrel working again after etanercept lost its effect, and multiple
    sclerosis is new. The do-not-repeat item said the course taken now is not advised against,
    beside the label fact that says to stop etanercept (tnfi_demyelinating). The note is left out
    then; the contraindicated item names the course and says to stop it."""
    lost = course("etanercept", outcome="secondary_nonresponse", start="2018-02-01", end="2021-05-01")
    again = course("Enbrel", status="ongoing", outcome="ongoing_response", start="2023-03-01")
    result = advise(patient("enbrel-again-new-ms", state="stable",
                            conditions=[*STATED, condition("multiple_sclerosis")],
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), lost, again]))
    assert "etanercept" in blocked(result)
    assert not working_again_notes(result)
    # control: without the multiple sclerosis the note is there
    control = advise(patient("enbrel-again-no-ms", state="stable", conditions=STATED,
                             measurements=STABLE_SCORES, treatments=[*nsaid_failure(), lost, again]))
    assert working_again_notes(control) == {"etanercept"}
    assert any(a.kind == "contraindicated" and local(a.therapy.iri) == "etanercept" and a.note
               and "to be stopped" in a.note for a in result.advice)


def test_a_failed_nsaid_taken_again_and_working_is_not_advised_against(advise) -> None:
    """Probe p33: naproxen did nothing in 2019 and is taken again, working, since 2024. Its
    do-not-repeat item stays (starting it afresh is no option) and now says that the course
    taken again is not advised against; celecoxib, failed and not taken again, gets no such note."""
    result = advise(patient("naproxen-again", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                            treatments=[*nsaid_failure(),
                                        course("naproxen", status="ongoing", outcome="ongoing_response",
                                               start="2024-01-01")]))
    assert {"naproxen", "celecoxib"} <= blocked(result)
    assert working_again_notes(result) == {"naproxen"}
    # a course of a drug that failed, still recorded as ongoing, keeps do-not-repeat's own note
    # (one note an item), even beside a later course that works
    both = advise(patient("naproxen-twice-ongoing", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                          treatments=[course("naproxen", status="ongoing", outcome="primary_nonresponse",
                                             start="2019-01-01"),
                                      course("naproxen", status="ongoing", outcome="ongoing_response",
                                             start="2024-01-01")]))
    assert not working_again_notes(both)
    assert any(a.kind == "do-not-repeat" and a.note and "Being taken now" in a.note for a in both.advice)


def test_a_failed_drug_working_again_in_active_disease_is_offered_by_no_row(advise) -> None:
    """Active disease with Crohn's disease; Humira never worked, then restarted and recorded as
    working: AS-41 (a TNF antibody with IBD) must not prefer adalimumab (review)."""
    result = advise(patient("active-crohns-humira-again", conditions=[*STATED[1:], condition("crohns_disease")],
                            treatments=[*nsaid_failure(),
                                        course("Humira", outcome="primary_nonresponse", start="2022-01-10",
                                               end="2022-08-01"),
                                        course("Humira", status="ongoing", outcome="ongoing_response",
                                               start="2024-01-01")]))
    assert "adalimumab" in blocked(result)
    assert "adalimumab" not in listed(result, "AS-41")


TNFI = {"adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab"}


@pytest.mark.parametrize(("diagnosis", "row"), [("AS", "AS-06"), ("nr-axSpA", "NRAXSPA-05")])
@pytest.mark.parametrize("taken", [
    course("naproxen", status="ongoing", outcome="partial_response", start="2021-05-01"),
    course("methotrexate", status="ongoing", start="2021-05-01"),
])
def test_only_a_tnfi_being_taken_makes_the_start_a_tnfi_rows_wait(advise, diagnosis, row, taken) -> None:
    """state-tnfi-taken.rq: ax:takesTNFiWithoutHarm is written for a TNF inhibitor only. An NSAID or
    a csDMARD being taken leaves the rows listing every TNF inhibitor (session-14 review: dropping
    the class test passed every test before)."""
    result = advise(patient(f"taking-{taken['drug']}-{diagnosis}", diagnosis=diagnosis, conditions=STATED,
                            treatments=[*nsaid_failure(), taken]))
    assert listed(result, row) == TNFI


def test_a_harmed_tnfi_beside_a_clean_one_still_makes_the_rows_wait(advise) -> None:
    """Adalimumab taken despite an adverse event and etanercept taken with nothing recorded: the
    clean one is the course ax:takesTNFiWithoutHarm names, so AS-06 waits."""
    result = advise(patient("two-tnfi-one-harmed", conditions=STATED, treatments=[
        *nsaid_failure(), course("adalimumab", status="ongoing", outcome="adverse_event", start="2022-01-10"),
        course("etanercept", status="ongoing", start="2022-06-01")]))
    assert "AS-06" not in rows(result)
    harmed_only = advise(patient("one-tnfi-harmed", conditions=STATED, treatments=[
        *nsaid_failure(), course("adalimumab", status="ongoing", outcome="adverse_event", start="2022-01-10")]))
    assert listed(harmed_only, "AS-06") == TNFI - {"adalimumab"}


def test_the_state_rule_names_the_molecules_taken_and_the_clean_tnfi_course(reasoner) -> None:
    """ax:takesMolecule and ax:takesTNFiWithoutHarm, read straight from the store after the rules:
    a biosimilar is named by its reference product."""
    from reasoner.namespaces import AX, DRUG

    record = patient("state-taken", conditions=STATED, treatments=[
        *nsaid_failure(), course("Amjevita", status="ongoing", start="2022-01-10"),
        course("secukinumab", status="ongoing", outcome="adverse_event", start="2022-06-01")])
    result = reasoner.recommend(record)
    assert result.conforms
    _, rows_ = reasoner.store.select_tuples(
        "PREFIX ax: <https://w3id.org/axspa-kg/ontology#> SELECT ?p ?o WHERE { "
        f"<{result.patient}> ?p ?o . FILTER (?p IN (ax:takesMolecule, ax:takesTNFiWithoutHarm)) }}")
    got = {(str(p), str(o)) for p, o in rows_}
    assert got == {(str(AX.takesMolecule), str(DRUG.adalimumab)), (str(AX.takesMolecule), str(DRUG.secukinumab)),
                   (str(AX.takesTNFiWithoutHarm), f"{result.patient}/treatment/3")}


def test_r11_work_up_is_for_the_switch_still_to_make(advise) -> None:
    """R11 ('before switching, re-check the diagnosis') fired on a 2022 failure years after the switch
    to secukinumab was made (probe). In active disease it now fires where R12 does."""
    first = course("adalimumab", outcome="primary_nonresponse", start="2022-01-10", end="2022-08-01")
    switched = advise(patient("r11-switched", diagnosis="axSpA", conditions=STATED, treatments=[
        *nsaid_failure(), first, course("secukinumab", status="ongoing", start="2022-09-01")]))
    assert not {"R11", "R12"} & rows(switched)
    failing = advise(patient("r11-failing-again", diagnosis="axSpA", conditions=STATED, treatments=[
        *nsaid_failure(), first, course("secukinumab", status="ongoing", outcome="secondary_nonresponse",
                                        start="2022-09-01")]))
    assert {"R11", "R12"} <= rows(failing)
    unclear = advise(patient("r11-unclear", diagnosis="axSpA", state="unclear", conditions=STATED, treatments=[
        *nsaid_failure(), first, course("secukinumab", status="ongoing", start="2022-09-01")]))
    assert "R11" in rows(unclear)


def test_a_tnfi_taken_despite_harm_is_asked_how_it_works(advise) -> None:
    """Etanercept kept despite injection-site reactions in active disease, its effect not recorded:
    AS-06 lists the other TNF inhibitors, while a primary non-response would favour an IL-17
    inhibitor (AS-12); the response-type question now asks (probe p09). A response still holding
    answers it."""
    record = patient("kept-despite-reactions", conditions=STATED, treatments=[
        *nsaid_failure(), course("etanercept", status="ongoing", outcome="injection_site_reaction",
                                 start="2024-03-01")])
    assert RESPONSE_TYPE in facts(advise(record))
    record["treatments"][-1]["outcome"] = ["injection_site_reaction", "ongoing_response"]
    record["id"] = "kept-despite-reactions-working"
    assert RESPONSE_TYPE not in facts(advise(record))


def test_a_do_not_repeat_item_for_a_drug_being_taken_says_so(advise) -> None:
    """Upadacitinib taken with only a partial response in active disease is do-not-repeat; the
    heading alone read as 'do not start again' for a drug still taken (probe). Its item now says it
    is no option to go on with; the stopped drug's item has no such note."""
    result = advise(patient("upa-partial-being-taken", conditions=STATED, treatments=[
        *nsaid_failure(), course("upadacitinib", status="ongoing", outcome="partial_response", start="2024-06-01")]))
    notes = {local(a.therapy.iri): a.note for a in result.advice if a.kind == "do-not-repeat"}
    assert "no option to go on with" in (notes["upadacitinib"] or "")
    assert notes["naproxen"] is None


def test_a_pending_switch_is_asked_about_under_acr_2019_alone_too(advise, acr_only, eular_only) -> None:
    """AS-13 waits on etanercept taken after adalimumab lost its effect; with ACR 2019 alone nothing
    asked how etanercept works (review). ni-switch-response asks; with both guidelines the item is
    one (its ASAS-EULAR twin mints the same IRI and reads the marker)."""
    record = patient("pending-switch-acr", conditions=STATED, treatments=[
        *nsaid_failure(),
        course("adalimumab", outcome="secondary_nonresponse", start="2022-01-10", end="2024-02-01"),
        course("etanercept", status="ongoing", start="2024-03-01")])
    for engine in (acr_only, eular_only):
        result = engine.recommend(record)
        assert result.conforms
        [item] = [n for n in result.needs_information if n.fact == CURRENT_RESPONSE]
        assert "etanercept" in item.why
    acr = acr_only.recommend(record)
    [item] = [n for n in acr.needs_information if n.fact == CURRENT_RESPONSE]
    assert {o.id for o in item.options} == {"AS-12", "AS-13"}
    both = advise(record)
    assert len([n for n in both.needs_information if n.fact == CURRENT_RESPONSE]) == 1


COURSE_ORDER = "whether a course that works began after the failed ones ended"
LOST_2016 = course("adalimumab", outcome="secondary_nonresponse", start="2016-01-01", end="2019-01-01")


@pytest.mark.parametrize(("label", "treatments"), [
    ("Humira restarted, no start date (probe q12)",
     [LOST_2016, course("Humira", status="ongoing", outcome="ongoing_response", start=None)]),
    ("the failed course has no date at all",
     [course("adalimumab", outcome="secondary_nonresponse", start=None),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")]),
    ("the failed course is still recorded as ongoing beside the one that works",
     [course("adalimumab", status="ongoing", outcome="secondary_nonresponse", start="2019-06-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")]),
    ("the failed course ended on the day Humira was restarted (session-18 probe s21)",
     [course("adalimumab", outcome="secondary_nonresponse", start="2016-01-01", end="2024-03-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-03-01")]),
])
def test_a_restart_the_dates_cannot_order_asks_for_them(advise, label, treatments) -> None:
    """Session-17 probe q12: stable AS, adalimumab lost its effect 2016-2019 and Humira was
    'restarted' (no start date in the letter), working. The advice to keep the biologic (AS-26 to
    AS-28, R13) was dropped, as it must be while the order is unknown, and nothing said so. Now a
    question names the course kept and the failed course, and asks for the dates."""
    result = advise(patient(f"unordered-{len(label)}", state="stable", conditions=STATED,
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), *treatments]))
    assert "adalimumab" in blocked(result), label
    assert "AS-26" not in rows(result) and not working_again_notes(result), label
    [item] = [n for n in result.needs_information if n.fact == COURSE_ORDER]
    shown = " | ".join(f.text for f in item.because)
    assert "ongoing response" in shown and "secondary nonresponse" in shown, label
    assert "start date" in item.why and "ended" in item.why, label
    [source] = [a.recommendation.id for a in result.advice
                if a.kind == "needs-information" and a.note == item.why]
    assert source == "do-not-repeat", label


@pytest.mark.parametrize(("label", "treatments", "conditions"), [
    ("the dates answer: the failed course ended before the restart (keep advice, note)",
     [LOST_2016, course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")], []),
    ("the dates answer the other way: the failed course ended after the restart began",
     [course("adalimumab", outcome="secondary_nonresponse", start="2019-01-10", end="2024-06-01"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-01-01")], []),
    ("the dates answer: the failed course ended the day before the restart (keep advice, note)",
     [course("adalimumab", outcome="secondary_nonresponse", start="2016-01-01", end="2024-02-29"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-03-01")], []),
    ("the dates answer the other way: the failed course ended the day after the restart began",
     [course("adalimumab", outcome="secondary_nonresponse", start="2016-01-01", end="2024-03-02"),
      course("Humira", status="ongoing", outcome="ongoing_response", start="2024-03-01")], []),
    ("harm on the course kept (an injection-site reaction), undated",
     [LOST_2016, course("Humira", status="ongoing", outcome=["ongoing_response", "injection_site_reaction"],
                        start=None)], []),
    ("no response recorded on the undated restart",
     [LOST_2016, course("Humira", status="ongoing", start=None)], []),
    ("a label fact says to stop the drug anyway (multiple sclerosis)",
     [LOST_2016, course("Humira", status="ongoing", outcome="ongoing_response", start=None)],
     [condition("multiple_sclerosis")]),
])
def test_no_order_question_when_the_answer_is_known_or_changes_nothing(advise, label, treatments,
                                                                        conditions) -> None:
    """Near misses: the question is asked only where the dates are what is missing."""
    result = advise(patient(f"ordered-{len(label)}", state="stable", conditions=[*STATED, *conditions],
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), *treatments]))
    assert COURSE_ORDER not in facts(result), label


def test_the_day_before_the_restart_orders_the_courses(advise) -> None:
    """The boundary of session-19's same-day change: a failed course that ended the day before the
    restart is ordered, so the keep advice and the working-again note stand (review: the near miss
    above only checked that nothing was asked)."""
    result = advise(patient("day-before", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                            treatments=[*nsaid_failure(),
                                        course("adalimumab", outcome="secondary_nonresponse", start="2016-01-01",
                                               end="2024-02-29"),
                                        course("Humira", status="ongoing", outcome="ongoing_response",
                                               start="2024-03-01")]))
    assert {"AS-26", "R13"} <= rows(result)
    assert working_again_notes(result) == {"adalimumab"}
    assert COURSE_ORDER not in facts(result)


def test_answering_the_order_question_restores_the_advice_to_keep_the_drug(advise) -> None:
    """The same patient once the restart's start date is recorded: no question, AS-26 and R13 back,
    and the do-not-repeat item says the course kept is not advised against."""
    undated = advise(patient("q12-like", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                             treatments=[*nsaid_failure(), LOST_2016,
                                         course("Humira", status="ongoing", outcome="ongoing_response",
                                                start=None)]))
    dated = advise(patient("q12-like", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                           treatments=[*nsaid_failure(), LOST_2016,
                                       course("Humira", status="ongoing", outcome="ongoing_response",
                                              start="2023-05-01")]))
    assert COURSE_ORDER in facts(undated) and COURSE_ORDER not in facts(dated)
    assert not {"AS-26", "R13"} & rows(undated)
    assert {"AS-26", "R13"} <= rows(dated)
    assert working_again_notes(dated) == {"adalimumab"}


def test_a_dated_overlap_settles_the_order_whatever_the_undated_course(advise) -> None:
    """Session-18 review: one failed course plainly overlaps the restart (ended 2024-06, Humira since
    2024-01) and another is undated. No date for the undated one can lift the item, so nothing is
    asked. Two working courses of one drug, both undated, give one question."""
    overlap = advise(patient("overlap-plus-undated", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                             treatments=[*nsaid_failure(),
                                         course("adalimumab", outcome="secondary_nonresponse", start="2019-01-10",
                                                end="2024-06-01"),
                                         course("adalimumab", outcome="primary_nonresponse", start=None),
                                         course("Humira", status="ongoing", outcome="ongoing_response",
                                                start="2024-01-01")]))
    assert COURSE_ORDER not in facts(overlap)
    two = advise(patient("two-kept-undated", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                         treatments=[*nsaid_failure(), LOST_2016,
                                     course("Humira", status="ongoing", outcome="ongoing_response", start=None),
                                     course("adalimumab", status="ongoing", outcome="ongoing_response",
                                            start=None)]))
    assert len([n for n in two.needs_information if n.fact == COURSE_ORDER]) == 1


def test_no_order_question_for_a_drug_a_label_fact_rules_out(advise) -> None:
    """Session-18 probe s25: Enbrel restarted (no start date) after etanercept lost its effect, and
    ulcerative colitis is new. etanercept_ibd_uveitis rules etanercept out, so the advice to keep it
    is a conflict whatever the dates; the order question was asked all the same."""
    lost = course("etanercept", outcome="secondary_nonresponse", start="2016-01-01", end="2019-01-01")
    again = course("Enbrel", status="ongoing", outcome="ongoing_response", start=None)
    colitis = advise(patient("enbrel-undated-new-uc", state="stable", measurements=STABLE_SCORES,
                             conditions=[c for c in STATED if c["condition"] != "ibd"]
                             + [condition("ulcerative_colitis")],
                             treatments=[*nsaid_failure(), lost, again]))
    assert COURSE_ORDER not in facts(colitis)
    control = advise(patient("enbrel-undated", state="stable", measurements=STABLE_SCORES, conditions=STATED,
                             treatments=[*nsaid_failure(), lost, again]))
    assert COURSE_ORDER in facts(control)


RESTART_RESPONSE = "response to a drug taken again after a course of it failed"


def test_a_drug_taken_again_with_no_outcome_asks_how_it_works(advise) -> None:
    """Session-18 probe s23: stable AS, adalimumab lost its effect 2016-2019, Humira taken now with
    no outcome and no start date. The advice to keep the biologic (AS-26 to AS-28, R13) was dropped
    and nothing was asked: the order question waits for a response. Now the report asks how the
    course taken now works, naming it and the failed course; once the response and a start date
    after the failure are recorded, the advice to keep the drug is back."""
    silent = advise(patient("s23-like", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                            treatments=[*nsaid_failure(), LOST_2016,
                                        course("Humira", status="ongoing", start=None)]))
    assert "AS-26" not in rows(silent) and "adalimumab" in blocked(silent)
    [item] = [n for n in silent.needs_information if n.fact == RESTART_RESPONSE]
    shown = " | ".join(f.text for f in item.because)
    assert "Humira (adalimumab) course (ongoing)" in shown and "secondary nonresponse" in shown
    assert "outcome of the course taken now" in item.why
    [source] = [a.recommendation.id for a in silent.advice
                if a.kind == "needs-information" and a.note == item.why]
    assert source == "do-not-repeat"
    assert COURSE_ORDER not in facts(silent)
    answered = advise(patient("s23-like", state="stable", conditions=STATED, measurements=STABLE_SCORES,
                              treatments=[*nsaid_failure(), LOST_2016,
                                          course("Humira", status="ongoing", outcome="ongoing_response",
                                                 start="2023-05-01")]))
    assert RESTART_RESPONSE not in facts(answered)
    assert {"AS-26", "R13"} <= rows(answered)


@pytest.mark.parametrize(("label", "state", "treatments", "conditions"), [
    ("a response is recorded (the dates are asked for instead)", "stable",
     [LOST_2016, course("Humira", status="ongoing", outcome="ongoing_response", start=None)], []),
    ("active disease: no row keeps the drug", "active",
     [LOST_2016, course("Humira", status="ongoing", start=None)], []),
    ("no course of the drug failed (the keep advice stands)", "stable",
     [course("Humira", status="ongoing", start="2023-01-01")], []),
    ("a drug no continuation strategy keeps (upadacitinib)", "stable",
     [course("upadacitinib", outcome="secondary_nonresponse", start="2020-01-01", end="2022-01-01"),
      course("Rinvoq", status="ongoing", start=None)], []),
    ("a label fact says to stop the drug anyway (multiple sclerosis)", "stable",
     [LOST_2016, course("Humira", status="ongoing", start=None)], [condition("multiple_sclerosis")]),
    ("a label fact rules the drug out for a stated condition (active tuberculosis)", "stable",
     [LOST_2016, course("Humira", status="ongoing", start=None)], [condition("active_tuberculosis")]),
    ("the record states a contraindication to TNF inhibitors", "stable",
     [LOST_2016, course("Humira", status="ongoing", start=None)], [condition("tnfi_contraindication")]),
    ("the dates keep the item: the failed course ended after Humira began (session-19 review)", "stable",
     [LOST_2016, course("Humira", status="ongoing", start="2017-06-01")], []),
    ("the dates keep the item: a failed course began after Humira did", "stable",
     [course("adalimumab", outcome="secondary_nonresponse", start="2020-01-01", end="2021-01-01"),
      course("Humira", status="ongoing", start="2017-06-01")], []),
])
def test_no_restart_question_where_it_changes_nothing(advise, label, state, treatments, conditions) -> None:
    """Near misses of the question above: it is asked only where the outcome of the course taken
    again decides whether a row keeps the drug."""
    result = advise(patient(f"restart-near-{len(label)}", state=state, conditions=[*STATED, *conditions],
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), *treatments]))
    assert result.conforms, label
    assert RESTART_RESPONSE not in facts(result), label


TAKEN_AGAIN = "Being taken now (the ongoing course named, with no outcome recorded)"


def _do_not_repeat(result: Result, drug: str):  # type: ignore[no-untyped-def]
    [item] = [a for a in result.advice if a.kind == "do-not-repeat" and local(a.therapy.iri) == drug]
    return item


@pytest.mark.parametrize("state", ["active", "stable"])
def test_a_do_not_repeat_item_names_the_same_drug_taken_again(advise, state) -> None:
    """Session-21 probe 2: Humira lost its effect, then Humira again, no outcome yet. The
    do-not-repeat item cited only the old course, so the report nowhere said the patient is on the
    drug again; in active disease nothing asked how it works. The item now names the course taken
    and asks for its outcome."""
    result = advise(patient(f"humira-again-{state}", state=state, conditions=STATED,
                            measurements=STABLE_SCORES if state == "stable" else [],
                            treatments=[*nsaid_failure(), LOST_2016,
                                        course("Humira", status="ongoing", start="2026-09-01")]))
    item = _do_not_repeat(result, "adalimumab")
    texts = [f.text for f in item.because]
    assert "Humira (adalimumab) course (ongoing, 2026-09-01)" in texts
    assert any("secondary nonresponse" in t for t in texts)
    assert item.note.startswith(TAKEN_AGAIN) and "Record its outcome" in item.note
    # the other versions' items are not about the course taken
    other = _do_not_repeat(result, "adalimumab_atto")
    assert not other.note or TAKEN_AGAIN not in other.note


@pytest.mark.parametrize(("label", "taken"), [
    ("an outcome is recorded: working again", course("Humira", status="ongoing", outcome="ongoing_response",
                                                     start="2026-09-01")),
    ("the failing course is itself the one taken", course("Humira", status="ongoing",
                                                          outcome="secondary_nonresponse", start="2026-09-01")),
])
def test_the_taken_again_note_is_not_written_for_these(advise, label, taken) -> None:
    result = advise(patient(f"humira-again-near-{len(label)}", state="active", conditions=STATED,
                            treatments=[*nsaid_failure(), LOST_2016, taken]))
    item = _do_not_repeat(result, "adalimumab")
    assert not item.note or TAKEN_AGAIN not in item.note, label


def test_a_course_taken_again_beside_one_working_leaves_the_working_again_state_alone(advise) -> None:
    """Naming an ongoing course among the item's courses would end state-working-again.rq's state
    (it reads them) for another course of the drug that works: with one course of Humira working
    again and a second recorded with no outcome, the working one keeps the advice to continue."""
    working = course("Humira", status="ongoing", outcome="ongoing_response", start="2023-05-01")
    alone = advise(patient("humira-again-working-alone", state="stable", conditions=STATED,
                           measurements=STABLE_SCORES, treatments=[*nsaid_failure(), LOST_2016, working]))
    beside = advise(patient("humira-again-working-beside", state="stable", conditions=STATED,
                            measurements=STABLE_SCORES, treatments=[*nsaid_failure(), LOST_2016, working,
                                                                    course("Humira", status="ongoing",
                                                                           start="2026-09-01")]))
    assert "AS-26" in rows(alone)
    item = _do_not_repeat(beside, "adalimumab")
    assert not item.note or TAKEN_AGAIN not in item.note
    assert not any("2026-09-01" in f.text for f in item.because)
