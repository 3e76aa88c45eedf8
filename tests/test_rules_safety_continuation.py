"""Advice to keep a drug the patient takes never stands when the record contraindicates that drug
(queries/rules/suppress-unsafe-continuation.rq).

Stable AS on a TNF inhibitor draws AS-28 (keep the originator), AS-26 and AS-27 (against stopping
or tapering the biologic) and ASAS-EULAR R13 (tapering in remission). With heart failure, which the
TNF inhibitor labels warn against, each of these becomes a conflict the clinician sees, and none is
listed as advice. A contraindicated drug the same advice would withdraw (the NSAID of AS-24) does
not suppress it.
"""

from __future__ import annotations

from reasoner.namespaces import AX
from reasoner.report import render_text

from .patients import condition, course, measurement, patient

KEEPING = {"AS-28", "AS-26", "AS-27", "R13"}  # advice whose favoured option keeps the biologic


def _stable_on(drug: str, *conditions: dict, pid: str, extra: tuple[dict, ...] = ()) -> dict:
    return patient(f"continuation-{pid}", state="stable", age=63, sex="male", conditions=list(conditions),
                   treatments=[course(drug, status="ongoing", outcome="ongoing_response", start="2019-04-01"),
                               *extra],
                   measurements=[measurement("basdai", 1.4), measurement("crp", 2.0)])  # stable: R13 applies


def _keeping(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {a.recommendation.id for a in result.advice if a.recommendation.id in KEEPING}


def _conflicts(result) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(c.advice.recommendation.id, c.advice.kind, c.overridden_by.recommendation.id) for c in result.conflicts}


def test_without_a_contraindication_the_biologic_is_kept(run) -> None:
    result = run(_stable_on("infliximab", condition("congestive_heart_failure", "absent"), pid="plain"))
    assert _keeping(result) == KEEPING
    kinds = {a.recommendation.id: (a.kind, a.therapy.iri) for a in result.advice if a.recommendation.id in KEEPING}
    assert kinds["AS-28"] == ("preferred-over", str(AX.originator_tnfi_continuation))
    assert kinds["AS-26"] == ("against", str(AX.biologic_discontinuation))
    assert not result.conflicts


def test_heart_failure_turns_advice_to_keep_infliximab_into_conflicts(run) -> None:
    # (adalimumab: for infliximab a second fact, infliximab_hf_high_dose, blocks it as well)
    result = run(_stable_on("adalimumab", condition("severe_heart_failure"), pid="chf"))
    assert _keeping(result) == set()  # never shown as advice
    assert _conflicts(result) == {("AS-28", "preferred-over", "tnfi_severe_heart_failure"),
                                  ("AS-26", "against", "tnfi_severe_heart_failure"),
                                  ("AS-27", "against", "tnfi_severe_heart_failure"),
                                  ("R13", "preferred-over", "tnfi_severe_heart_failure")}
    contraindicated = {a.therapy.label for a in result.advice if a.kind == "contraindicated"}
    assert "adalimumab" in contraindicated  # the reason stays in view
    # the IL-17 inhibitors the label prefers when a TNF inhibitor is contraindicated are still offered
    assert any(a.recommendation.id == "tnfi_contraindicated_prefer_il17i" for a in result.advice)



def test_the_text_report_says_the_conflict_is_the_drug_kept(run) -> None:
    """'biologic discontinuation …: against by AS-26, but contraindicated by …' read as if stopping
    were contraindicated; the line names the drug that advice keeps."""
    text = render_text(run(_stable_on("adalimumab", condition("severe_heart_failure"), pid="chf-text")))
    lines = text[text.index("CONFLICTS"):].splitlines()
    as26 = [line for line in lines if "by AS-26" in line]
    assert len(as26) == 1
    assert "but it keeps adalimumab, which is contraindicated by tnfi_severe_heart_failure" in as26[0]


def test_milder_heart_failure_keeps_the_working_tnfi_with_a_caution_and_a_question(run) -> None:
    """Heart failure of unstated degree: the label warns (use with care, stop if it worsens) and
    asks to avoid TNF inhibitors only in NYHA class III or IV. The working infliximab was held back
    as if contraindicated (probe and KB audit of session 12); now the advice to keep it stands, the
    caution is shown, and the record is asked for the degree. New TNF inhibitors stay ruled out
    (ACR 2019 counts heart failure as a contraindication when the next drug is chosen)."""
    result = run(_stable_on("infliximab", condition("congestive_heart_failure"), pid="chf-mild"))
    assert _keeping(result) == KEEPING and not result.conflicts
    cautions = {a.therapy.label for a in result.advice if a.recommendation.id == "tnfi_heart_failure"}
    assert "infliximab" in cautions
    assert {a.kind for a in result.advice if a.recommendation.id == "tnfi_heart_failure"} == {"caution"}
    [need] = [n for n in result.needs_information if n.fact == "degree of heart failure"] or [None]
    assert need is not None and {o.id for o in need.options} == {"tnfi_severe_heart_failure",
                                                                  "nsaid_severe_heart_failure"}
    assert any("infliximab" in f.text for f in need.because)
    held = {a.therapy.label for a in result.advice if a.recommendation.id == "tnfi-contraindicated"}
    assert held == {"adalimumab", "certolizumab pegol", "etanercept", "golimumab"}  # not the one taken
    # stated mild (severe absent): no question
    answered = run(_stable_on("infliximab", condition("congestive_heart_failure"),
                              condition("severe_heart_failure", "absent"), pid="chf-stated-mild"))
    assert not [n for n in answered.needs_information if n.fact == "degree of heart failure"]
    assert _keeping(answered) == KEEPING


def _degree_asked(result) -> bool:  # type: ignore[no-untyped-def]
    return any(n.fact == "degree of heart failure" for n in result.needs_information)


def test_the_heart_failure_degree_is_not_asked_when_the_answer_changes_nothing(run) -> None:
    """Session-21 probe 7: heart failure of unstated degree, a peptic ulcer that rules out every NSAID,
    and no TNF inhibitor taken (those not taken are held back by the heart failure itself): the
    degree would change nothing, yet it was asked. It is still asked while an NSAID is open, or while
    a TNF inhibitor is taken that no stated condition rules out."""
    hf = condition("congestive_heart_failure")
    ulcer = condition("peptic_ulcer")
    on_secukinumab = _stable_on("secukinumab", hf, ulcer, pid="chf-ulcer-il17i")
    assert not _degree_asked(run(on_secukinumab))
    # near misses: an NSAID open (no ulcer), or adalimumab taken
    assert _degree_asked(run(_stable_on("secukinumab", hf, pid="chf-il17i")))
    assert _degree_asked(run(_stable_on("adalimumab", hf, ulcer, pid="chf-ulcer-adalimumab")))
    # adalimumab taken, but an active serious infection rules out every TNF inhibitor as well
    infection = condition("active_serious_infection")
    assert not _degree_asked(run(_stable_on("Hyrimoz", hf, ulcer, infection, pid="chf-ulcer-infection")))


def test_a_biosimilar_is_caught_through_its_reference_product(run) -> None:
    # Inflectra is infliximab-dyyb: the heart-failure label fact names infliximab. AS-28 does not
    # apply to a biosimilar; the advice against stopping or tapering does, and must not stand.
    result = run(_stable_on("Inflectra", condition("severe_heart_failure"), pid="inflectra"))
    assert _keeping(result) == set()
    assert {rid for rid, _, _ in _conflicts(result)} == {"AS-26", "AS-27", "R13"}


def test_a_contraindicated_nsaid_does_not_suppress_keeping_the_tnfi(run) -> None:
    # AS-24 keeps etanercept and withdraws celecoxib; a peptic ulcer contraindicates the NSAID only.
    record = _stable_on("etanercept", condition("peptic_ulcer"), pid="ulcer",
                        extra=(course("celecoxib", status="ongoing", start="2019-04-01"),))
    result = run(record)
    assert {"AS-24", "AS-26", "AS-28"} <= {a.recommendation.id for a in result.advice}
    assert not any(c.advice.recommendation.id in KEEPING | {"AS-24"} for c in result.conflicts)
    assert "celecoxib" in {a.therapy.label for a in result.advice if a.kind == "contraindicated"}


def test_a_class_wide_block_is_not_worded_as_a_kept_drug(run) -> None:
    """NSAID-naive active AS with severe heart failure: AS-02 (continuous over on-demand NSAIDs)
    names no drug, and the label fact rules out every NSAID. The line once read 'it keeps
    diclofenac', as if the patient took it; it says the whole class is ruled out."""
    record = patient("continuation-class-wide", state="active", age=58, sex="male",
                     conditions=[condition("severe_heart_failure")])
    result = run(record)
    assert ("AS-02", "preferred-over", "nsaid_severe_heart_failure") in _conflicts(result)
    text = render_text(result)
    lines = [line for line in text[text.index("CONFLICTS"):].splitlines() if "by AS-02" in line]
    assert len(lines) == 1
    assert "but the whole drug class is contraindicated by nsaid_severe_heart_failure" in lines[0]
    assert "it keeps" not in text
