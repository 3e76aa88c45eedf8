"""The report's advice order does not depend on the order the store returns rows in: two items alike
in kind, grading, source and therapy label (one caution per condition stated, say) are ordered by
their IRIs. Virtuoso and Oxigraph returned such a pair in different orders (session 14)."""

from __future__ import annotations

import itertools

from reasoner.report import AdviceItem, Fact, NeedsInformation, Ref, Source, _needs_key, _sort_key


def _caution(therapy_iri: str, iri: str) -> AdviceItem:
    return AdviceItem(kind="caution", therapy=Ref(therapy_iri, "etanercept"), strength="not graded",
                      evidence="", recommendation=Source("no-pregnancy-fact", "axspa-kg", "urn:p", "p"), iri=iri)


def test_items_alike_in_all_else_sort_by_iri_whatever_the_input_order() -> None:
    items = [_caution("urn:drug:b", "urn:a/2"), _caution("urn:drug:a", "urn:a/3"), _caution("urn:drug:a", "urn:a/1")]
    orders = {tuple(i.iri for i in sorted(p, key=_sort_key)) for p in itertools.permutations(items)}
    assert orders == {("urn:a/1", "urn:a/3", "urn:a/2")}


def test_questions_on_one_fact_sort_by_note_whatever_the_input_order() -> None:
    """Two trimester questions, one per drug taken, came back in store order (Virtuoso differed)."""
    items = [NeedsInformation("trimester", "infliximab is being taken", because=[Fact("urn:c/2", "c2")]),
             NeedsInformation("trimester", "adalimumab is being taken", because=[Fact("urn:c/1", "c1")])]
    orders = {tuple(i.why for i in sorted(p, key=_needs_key)) for p in itertools.permutations(items)}
    assert orders == {("adalimumab is being taken", "infliximab is being taken")}


def test_facts_alike_in_text_sort_by_iri(advise) -> None:
    """Two identical ASDAS-CRP scores on one date read the same ("ASDAS-CRP 2.6 on 2026-11-20"): the
    facts were sorted by text alone, so their order followed set iteration and differed between the
    embedded store and Virtuoso (session-21 probe f05). The IRI breaks the tie."""
    from .patients import measurement, nsaid_failure, patient

    scores = [measurement("asdas_crp", 2.6, "2026-11-20") for _ in range(2)]
    result = advise(patient("two-identical-asdas", treatments=nsaid_failure(),
                            measurements=[measurement("crp", 12.0), *scores]))
    tied = [[f.fact for f in item.because if f.text == "ASDAS-CRP 2.6 on 2026-11-20"] for item in result.advice]
    tied = [t for t in tied if len(t) == 2]
    assert tied and all(t == sorted(t) for t in tied)


def test_label_facts_are_listed_strongest_first(advise) -> None:
    """Session-32 probe 2, F5: every label fact ranked alike, so within a kind they came by id, and
    tofacitinib's relative pregnancy fact was listed before upadacitinib's absolute one. Severity
    orders them now (absolute, relative, caution), as strength orders the guideline rows."""
    from pathlib import Path

    record = Path(__file__).parent / "data" / "valid" / "as-pregnant-16-weeks-nsaids-failed.json"
    result = advise(record)
    severities = [a.strength for a in result.by_kind("contraindicated") if a.recommendation.guideline == "label"]
    assert "absolute" in severities and "relative" in severities
    order = {"absolute": 1, "relative": 2, "caution": 3}
    assert [order[s] for s in severities] == sorted(order[s] for s in severities), severities
    cautions = [a.strength for a in result.by_kind("caution") if a.recommendation.guideline == "label"]
    assert [order.get(s, 0) for s in cautions] == sorted(order.get(s, 0) for s in cautions), cautions
    # a preferred-in fact has no severity and stays first (session-32 review F6)
    pregnant = Path(__file__).parent / "data" / "valid" / "as-pregnant-32-weeks-cimzia-naproxen.json"
    preferred = advise(pregnant).by_kind("preferred-over")
    assert preferred and preferred[0].recommendation.id == "certolizumab_pregnancy_preferred", [
        a.recommendation.id for a in preferred]
