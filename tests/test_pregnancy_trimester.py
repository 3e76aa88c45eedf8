"""A pregnancy recorded without its trimester while adalimumab or infliximab is being taken:
the placental-transfer fact (tnfi_mab_pregnancy_transfer, second and third trimesters) cannot apply,
so queries/rules/ni-pregnancy-trimester.rq asks (session-14 clinical probe)."""

from __future__ import annotations

import pytest

from .patients import condition, course, facts, listed, patient, stated_absent

TRIMESTER = "whether the pregnancy is past the first trimester"
ADALIMUMAB_ONGOING = {"drug": "Humira", "status": "ongoing", "outcome": "ongoing_response", "start": "2023-04-01"}


def _pregnant_on(pid: str, conditions: list[dict], treatments: list[dict]) -> dict:
    return patient(pid, sex="female", age=31, state="stable", treatments=treatments,
                   conditions=[*conditions, condition("ibd", "absent")])


def test_a_pregnancy_of_unstated_stage_on_adalimumab_asks_for_the_trimester(run) -> None:
    """Pregnant, taking adalimumab, stage not recorded: the placental-transfer fact could not apply
    and nothing said so (session-14 clinical probe p17). Once the trimester is stated, the caution
    appears instead."""
    unstaged = run(_pregnant_on("trimester-unstated", [condition("pregnancy")], [ADALIMUMAB_ONGOING]))
    [item] = [n for n in unstaged.needs_information if n.fact == TRIMESTER]
    assert {o.id for o in item.options} == {"tnfi_mab_pregnancy_transfer", "certolizumab_pregnancy_preferred"}
    assert "adalimumab is being taken" in item.why
    assert not [a for a in unstaged.advice
                if a.recommendation.id == "tnfi_mab_pregnancy_transfer" and a.kind != "needs-information"]
    staged = run(_pregnant_on("trimester-stated", [condition("pregnancy"),
                                                   condition("pregnancy_second_or_third_trimester")],
                              [ADALIMUMAB_ONGOING]))
    assert not [n for n in staged.needs_information if n.fact == TRIMESTER]
    assert [a for a in staged.advice if a.recommendation.id == "tnfi_mab_pregnancy_transfer" and a.kind == "caution"]


@pytest.mark.parametrize(("label", "conditions", "treatments"), [
    ("first trimester stated", [condition("pregnancy"), condition("pregnancy_second_or_third_trimester", "absent")],
     [ADALIMUMAB_ONGOING]),
    ("a later stage stated", [condition("pregnancy"), condition("pregnancy_30_weeks_or_more")], [ADALIMUMAB_ONGOING]),
    ("etanercept, which the fact does not concern", [condition("pregnancy")],
     [{"drug": "etanercept", "status": "ongoing", "start": "2023-04-01"}]),
    ("adalimumab stopped", [condition("pregnancy")],
     [{"drug": "adalimumab", "status": "stopped", "outcome": "stopped_other_reason", "start": "2022-01-01",
       "end": "2023-01-01"}]),
    ("not pregnant", [condition("pregnancy", "absent")], [ADALIMUMAB_ONGOING]),
])
def test_the_trimester_question_is_silent_on_near_misses(run, label, conditions, treatments) -> None:
    result = run(_pregnant_on(f"trimester-{len(label)}", conditions, treatments))
    assert not [n for n in result.needs_information if n.fact == TRIMESTER], label


def test_two_drugs_taken_give_one_question_each(run) -> None:
    """Infliximab and Humira both taken: one item per patient held two therapies and two notes, and
    the report named one of them at random from run to run (review). Now one item per drug."""
    result = run(_pregnant_on("trimester-two-drugs", [condition("pregnancy")], [
        ADALIMUMAB_ONGOING, {"drug": "infliximab", "status": "ongoing", "start": "2023-05-01"}]))
    items = [n for n in result.needs_information if n.fact == TRIMESTER]
    assert sorted("adalimumab is being taken" in n.why for n in items) == [False, True]
    assert sorted("infliximab is being taken" in n.why for n in items) == [False, True]


# A pregnancy under 20 weeks (both NSAID stages stated absent) after two NSAIDs failed: AS-06,
# NRAXSPA-05 and R9 offer adalimumab and infliximab, and weeks 13 to 19 are the second trimester,
# where tnfi_mab_pregnancy_transfer applies (session-28 review R5). ni-gestational-age.rq is silent
# once the NSAID stage is known, so ni-pregnancy-trimester-offered.rq asks.
UNDER_20_WEEKS = [condition("pregnancy"), condition("pregnancy_20_to_under_30_weeks", "absent"),
                  condition("pregnancy_30_weeks_or_more", "absent")]
NSAIDS_FAILED = [course("celecoxib", outcome="partial_response", start="2026-03-02", end="2026-04-13",
                        maximalDose=True),
                 course("naproxen", outcome="partial_response", start="2026-04-20", end="2026-06-22",
                        maximalDose=True)]


def _under_20_weeks(pid: str, extra_conditions: list[dict] = (), treatments: list[dict] = NSAIDS_FAILED,
                    state: str = "active") -> dict:
    return patient(pid, sex="female", age=33, state=state, treatments=list(treatments),
                   conditions=[*UNDER_20_WEEKS, *extra_conditions, *stated_absent()])


def test_a_pregnancy_under_20_weeks_asks_for_the_trimester_before_a_tnf_antibody_is_offered(run) -> None:
    result = run(_under_20_weeks("trimester-offered"))
    assert {"adalimumab", "infliximab"} <= listed(result, "AS-06")
    [item] = [n for n in result.needs_information if n.fact == TRIMESTER]
    assert {o.id for o in item.options} == {"tnfi_mab_pregnancy_transfer", "certolizumab_pregnancy_preferred"}
    assert "under 20 weeks" in item.why and "may be started" in item.why
    # the gestational-age question stays silent: the NSAID stage is known
    assert not [n for n in result.needs_information if "nsaid_pregnancy_30wk" in {o.id for o in n.options}]
    # once the first trimester is stated, nothing is asked and no transfer caution is given
    first = run(_under_20_weeks("trimester-offered-first", [condition("pregnancy_second_or_third_trimester",
                                                                       "absent")]))
    assert TRIMESTER not in facts(first)
    assert not [a for a in first.advice if a.recommendation.id == "tnfi_mab_pregnancy_transfer"]
    # ... and once the second trimester is stated, the caution is there instead of the question
    second = run(_under_20_weeks("trimester-offered-second", [condition("pregnancy_second_or_third_trimester")]))
    assert TRIMESTER not in facts(second)
    assert [a for a in second.advice if a.recommendation.id == "tnfi_mab_pregnancy_transfer" and a.kind == "caution"]


@pytest.mark.parametrize(("label", "record"), [
    ("stable on certolizumab pegol", _under_20_weeks(
        "offered-stable", treatments=[course("certolizumab_pegol", "ongoing", "ongoing_response")], state="stable")),
    ("NSAIDs not yet tried", _under_20_weeks("offered-naive", treatments=[])),
    ("adalimumab taken: the question names it once", _under_20_weeks(
        "offered-taken", treatments=[*NSAIDS_FAILED, course("adalimumab", "ongoing", start="2026-07-01")])),
    ("both antibodies held back by severe heart failure", _under_20_weeks(
        "offered-held", [condition("severe_heart_failure")])),
    # session-29 probe F1: every TNF inhibitor held back by a stated contraindication, or both
    # antibodies barred by earlier failures
    ("heart failure of unstated degree: a TNF-inhibitor contraindication", _under_20_weeks(
        "offered-chf", [condition("congestive_heart_failure")])),
    ("both antibodies failed before", _under_20_weeks("offered-both-failed", treatments=[
        *NSAIDS_FAILED, course("Humira", outcome="primary_nonresponse", start="2024-01-10", end="2024-07-01"),
        course("infliximab", outcome="secondary_nonresponse", start="2024-08-01", end="2025-06-01")])),
])
def test_the_offered_trimester_question_is_silent_where_nothing_is_offered_or_it_is_asked_already(
        run, label, record) -> None:
    result = run(record)
    items = [n for n in result.needs_information if n.fact == TRIMESTER]
    if "taken" in label:
        [item] = items
        assert "adalimumab is being taken" in item.why, label
    else:
        assert not items, label


def test_the_offered_trimester_question_stands_alone_when_the_trimester_is_given_as_unknown(run) -> None:
    """Session-29 probe F2: with the trimester stated unknown, ni-unknown-condition asked a second
    question about it, listing the NSAID facts that the stated stages had settled. The offered
    question marks the need as asked, so one item asks, and it keeps its transfer options."""
    result = run(_under_20_weeks("offered-trimester-unknown", [condition("pregnancy_second_or_third_trimester",
                                                                          "unknown")]))
    items = [n for n in result.needs_information if "trimester" in n.fact or "trimester" in n.why]
    assert [n.fact for n in items] == [TRIMESTER]
    assert {o.id for o in items[0].options} == {"tnfi_mab_pregnancy_transfer", "certolizumab_pregnancy_preferred"}
    # ... and the statement it replaces is among its reasons (session-29 review 5)
    assert any("unknown" in f.text for f in items[0].because)
    # the same with adalimumab taken: ni-pregnancy-trimester asks, and marks the need as asked
    # under 20 weeks (session-29 review 3)
    taken = run(_under_20_weeks("taken-trimester-unknown", [condition("pregnancy_second_or_third_trimester",
                                                                       "unknown")],
                                treatments=[*NSAIDS_FAILED, course("Humira", "ongoing", start="2026-07-01")]))
    items = [n for n in taken.needs_information if "trimester" in n.fact or "trimester" in n.why]
    assert [n.fact for n in items] == [TRIMESTER] and "adalimumab is being taken" in items[0].why


def test_the_gestational_age_question_names_the_transfer_caution_only_where_an_antibody_may_start(run) -> None:
    """Pregnancy of unstated stage after NSAID failure: ni-gestational-age names the placental
    transfer of adalimumab and infliximab, unless a TNF-inhibitor contraindication is stated (heart
    failure of any degree: every TNF inhibitor is held back; session-29 review 4) or both antibodies
    failed before (each barred by do-not-repeat; the second half of that finding)."""
    def options(conditions: list[dict], earlier: list[dict] = ()) -> set[str]:
        result = run(patient(f"gestational-{len(conditions)}-{len(earlier)}", sex="female", age=33,
                             treatments=[*NSAIDS_FAILED, *earlier],
                             conditions=[condition("pregnancy"), *conditions, *stated_absent()]))
        [item] = [n for n in result.needs_information if n.fact == "gestational age"]
        return {o.id for o in item.options}
    assert "tnfi_mab_pregnancy_transfer" in options([])
    assert "tnfi_mab_pregnancy_transfer" not in options([condition("congestive_heart_failure")])
    humira_failed = course("Humira", outcome="primary_nonresponse", start="2024-01-10", end="2024-07-01")
    infliximab_failed = course("infliximab", outcome="secondary_nonresponse", start="2024-08-01", end="2025-06-01")
    # one antibody failed: the other may still be offered, so the caution stays an option
    assert "tnfi_mab_pregnancy_transfer" in options([], [humira_failed])
    assert "tnfi_mab_pregnancy_transfer" not in options([], [humira_failed, infliximab_failed])
