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
