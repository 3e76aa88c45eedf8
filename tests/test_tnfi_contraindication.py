"""A TNF-inhibitor contraindication the record states holds back every TNF inhibitor
(queries/rules/tnfi-contraindication.rq, ax:principle_tnfi_contraindication).

Before this rule a record stating a chronic or recurrent infection, or a TNF-inhibitor
contraindication as such, got AS-11's alternatives and still every TNF inhibitor recommended by
AS-06, AS-09 and R9: only conditions with a label fact (heart failure, active tuberculosis ...)
were blocked (ninth-session review)."""

from __future__ import annotations

import pytest

from reasoner.namespaces import DRUG

from .patients import condition, nsaid_failure, patient

TNFI = {str(DRUG[d]) for d in ("adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab")}
RECOMMENDING = ("recommended", "preferred-over", "no-preference")


def stated(*extra: dict) -> list[dict]:
    return [condition("ibd", "absent"), condition("recurrent_anterior_uveitis", "absent"), *extra]


def recommended(result) -> set[str]:
    return {a.therapy.iri for a in result.advice if a.kind in RECOMMENDING}


def principle_items(result) -> list:
    """The principle's contraindicated items (its caution on a drug taken is tested on its own)."""
    return [a for a in result.advice if a.recommendation.id == "tnfi-contraindicated" and a.kind == "contraindicated"]


@pytest.mark.parametrize("diagnosis", ["AS", "nr-axSpA", "axSpA"])
@pytest.mark.parametrize("stated_condition", [
    "chronic_or_recurrent_infection", "tnfi_contraindication", "tnfi_contraindication_infection",
    "tnfi_contraindication_cardiac_neurologic"])
def test_a_stated_contraindication_holds_back_every_tnf_inhibitor(run, diagnosis, stated_condition) -> None:
    result = run(patient(f"tnfi-ci-{diagnosis}-{stated_condition}", diagnosis=diagnosis,
                         conditions=stated(condition(stated_condition)), treatments=nsaid_failure()))
    assert not recommended(result) & TNFI
    blocked = principle_items(result)
    assert {a.therapy.iri for a in blocked} == TNFI and {a.kind for a in blocked} == {"contraindicated"}
    assert all(a.recommendation.guideline == "axspa-kg" for a in blocked)
    assert all([f.text.endswith(": present") for f in a.because] == [True] for a in blocked)  # the statement
    # what a rule would have recommended is shown as a conflict naming the principle
    overridden = {c.advice.therapy.iri for c in result.conflicts
                  if c.overridden_by.recommendation.id == "tnfi-contraindicated"}
    assert overridden == TNFI
    # the alternatives are still given: an IL-17 inhibitor is recommended
    assert {str(DRUG.secukinumab), str(DRUG.ixekizumab)} & recommended(result)


def test_a_contraindication_stated_twice_gives_one_item_a_drug(run) -> None:
    """Session-23 review F6: heart failure stated present twice gave every TNF inhibitor two
    identical contraindicated items, one a statement; now one item a drug, naming both."""
    result = run(patient("tnfi-ci-twice", conditions=stated(condition("congestive_heart_failure"),
                                                             condition("congestive_heart_failure")),
                         treatments=nsaid_failure()))
    blocked = principle_items(result)
    assert sorted(a.therapy.iri for a in blocked) == sorted(TNFI)
    for item in blocked:
        assert [f.text for f in item.because] == ["congestive heart failure: present"] * 2
        assert len({f.fact for f in item.because}) == 2


def test_a_chronic_infection_keeps_as11s_sulfasalazine(run) -> None:
    result = run(patient("tnfi-ci-as11", conditions=stated(condition("chronic_or_recurrent_infection")),
                         treatments=nsaid_failure()))
    as11 = [a for a in result.advice if a.recommendation.id == "AS-11"]
    assert {a.therapy.iri for a in as11} == {str(DRUG.sulfasalazine)}
    assert all(a.therapy.iri not in TNFI for a in result.advice if a.recommendation.id == "R9")


def test_a_label_fact_for_the_same_condition_is_cited_instead(run) -> None:
    """Moderate to severe heart failure: lbl:tnfi_severe_heart_failure already rules TNF inhibitors
    out; one reason is shown."""
    result = run(patient("tnfi-ci-heart-failure", conditions=stated(condition("severe_heart_failure")),
                         treatments=nsaid_failure()))
    assert not recommended(result) & TNFI
    assert not principle_items(result)
    assert {a.therapy.iri for a in result.advice if a.recommendation.id == "tnfi_severe_heart_failure"} == TNFI


def test_heart_failure_of_unstated_degree_is_held_back_by_the_principle(run) -> None:
    """Heart failure of unstated degree: the label fact is a caution only (avoid in NYHA III/IV), so
    ACR 2019's count of heart failure as a TNF-inhibitor contraindication is what holds them back."""
    result = run(patient("tnfi-ci-heart-failure-mild", conditions=stated(condition("congestive_heart_failure")),
                         treatments=nsaid_failure()))
    assert not recommended(result) & TNFI
    assert {a.therapy.iri for a in principle_items(result)} == TNFI
    assert {a.kind for a in result.advice if a.recommendation.id == "tnfi_heart_failure"} == {"caution"}


@pytest.mark.parametrize(("setting", "names_acr_rows"), [("acr_only", True), ("eular_only", False)])
def test_the_principle_names_acrs_rows_only_where_acr_is_loaded(request, setting, names_acr_rows) -> None:
    """Session-31 probe F2: under ASAS-EULAR 2022 alone the note sent the user to AS-10, AS-11,
    NRAXSPA-10 and NRAXSPA-11, none of them loaded. The TNF inhibitors stay held back (the principle
    rests on ACR's text, and the note says so)."""
    result = request.getfixturevalue(setting).recommend(patient(
        f"tnfi-ci-note-{setting}", conditions=stated(condition("congestive_heart_failure")),
        treatments=nsaid_failure()))
    items = principle_items(result)
    assert {a.therapy.iri for a in items} == TNFI and not recommended(result) & TNFI
    assert all(("AS-10 and AS-11" in a.note) is names_acr_rows for a in items), setting
    assert all(("holds the TNF inhibitors back on ACR's text" in a.note) is not names_acr_rows for a in items)


@pytest.mark.parametrize("status", ["absent", "unknown"])
def test_a_contraindication_not_stated_present_blocks_nothing(run, status) -> None:
    result = run(patient(f"tnfi-ci-{status}", conditions=stated(condition("chronic_or_recurrent_infection", status)),
                         treatments=nsaid_failure()))
    assert not principle_items(result)
    assert recommended(result) >= TNFI


def test_a_tnf_inhibitor_already_taken_is_held_back_only_for_a_stated_contraindication(run) -> None:
    """Stable on adalimumab with a chronic infection: the grouping is about choosing the next drug,
    so adalimumab and the advice to keep it stay (AS-28, AS-26), while other TNF inhibitors are
    held back; a contraindication stated as such holds adalimumab back too (review)."""
    def on_adalimumab(pid: str, stated_condition: str):
        return run(patient(pid, state="stable", conditions=stated(condition(stated_condition)),
                           treatments=[{"drug": "adalimumab", "status": "ongoing", "outcome": "ongoing_response",
                                        "start": "2021-01-01"}]))

    inferred = on_adalimumab("tnfi-ci-on-ada-infection", "chronic_or_recurrent_infection")
    assert {a.therapy.iri for a in principle_items(inferred)} == TNFI - {str(DRUG.adalimumab)}
    assert {"AS-28", "AS-26"} <= {a.recommendation.id for a in inferred.advice}
    stated_ci = on_adalimumab("tnfi-ci-on-ada-stated", "tnfi_contraindication")
    assert {a.therapy.iri for a in principle_items(stated_ci)} == TNFI
    assert "AS-28" not in {a.recommendation.id for a in stated_ci.advice}


def _taken_cautions(result) -> list:
    return [a for a in result.advice if a.recommendation.id == "tnfi-contraindicated" and a.kind == "caution"]


@pytest.mark.parametrize(("stated_condition", "cautioned"), [
    # no label fact speaks to a TNF inhibitor taken with a recurrent infection: the principle does
    ("chronic_or_recurrent_infection", True),
    # heart failure of unstated degree: the label caution tnfi_heart_failure is shown instead
    ("congestive_heart_failure", False),
    # demyelinating disease: the label contraindication, which says to stop it
    ("multiple_sclerosis", False),
])
def test_a_tnf_inhibitor_taken_beside_a_grouped_contraindication_gets_one_reason(run, stated_condition,
                                                                                cautioned) -> None:
    """Session-27 probe u02: stable on Humira after three pneumonias in a year. The other TNF
    inhibitors were held back and Humira was advised kept (AS-26, AS-28) with no word on the
    infection; it now carries a caution naming the condition and the course, unless a label fact
    about the condition names the drug already."""
    humira = {"drug": "Humira", "status": "ongoing", "outcome": "ongoing_response", "start": "2019-01-01"}
    result = run(patient(f"tnfi-taken-{stated_condition}", state="stable",
                         conditions=stated(condition(stated_condition)), treatments=[humira]))
    items = _taken_cautions(result)
    assert bool(items) == cautioned
    if cautioned:
        (item,) = items
        assert item.therapy.iri == str(DRUG.adalimumab)
        assert {f.text.split(":")[0] for f in item.because} >= {"chronic or recurrent infection"}
        assert any(f.text.startswith("Humira (adalimumab) course") for f in item.because)
        assert "AS-28" in {a.recommendation.id for a in result.advice}  # the advice to keep it stands
    else:
        assert any(a.recommendation.guideline == "label" and a.therapy.iri == str(DRUG.adalimumab)
                   for a in result.advice if a.kind in ("caution", "contraindicated"))


@pytest.mark.parametrize(("presence", "expected"), [("present", True), ("absent", False), ("unknown", False)])
def test_the_state_rule_names_each_statement_of_a_tnfi_contraindication(reasoner, presence, expected) -> None:
    """ax:statesTNFiContraindication (state-tnfi-contraindication-stated.rq), which five questions
    read, read straight from the store: one link a statement stated present of a condition ACR 2019
    counts as a contraindication (heart failure, an infection grouping), none for one stated absent
    or unknown, none for a condition that is no TNF-inhibitor contraindication (psoriasis)."""
    from reasoner.namespaces import AX

    record = patient(f"state-tnfi-ci-{presence}", conditions=stated(
        condition("congestive_heart_failure", presence), condition("chronic_or_recurrent_infection", presence),
        condition("psoriasis")), treatments=nsaid_failure())
    result = reasoner.recommend(record)
    assert result.conforms
    _, rows = reasoner.store.select_tuples(
        f"SELECT ?statement WHERE {{ <{result.patient}> <{AX.statesTNFiContraindication}> ?statement }}")
    got = {str(statement) for (statement,) in rows}
    # conditions: ibd, uveitis (absent), heart failure, infection, psoriasis: the loader numbers them
    assert got == ({f"{result.patient}/condition/3", f"{result.patient}/condition/4"} if expected else set())
