"""The report's advice order does not depend on the order the store returns rows in: two items alike
in kind, grading, source and therapy label (one caution per condition stated, say) are ordered by
their IRIs. Virtuoso and Oxigraph returned such a pair in different orders (session 14)."""

from __future__ import annotations

import itertools

from reasoner.report import AdviceItem, Ref, Source, _sort_key


def _caution(therapy_iri: str, iri: str) -> AdviceItem:
    return AdviceItem(kind="caution", therapy=Ref(therapy_iri, "etanercept"), strength="not graded",
                      evidence="", recommendation=Source("no-pregnancy-fact", "axspa-kg", "urn:p", "p"), iri=iri)


def test_items_alike_in_all_else_sort_by_iri_whatever_the_input_order() -> None:
    items = [_caution("urn:drug:b", "urn:a/2"), _caution("urn:drug:a", "urn:a/3"), _caution("urn:drug:a", "urn:a/1")]
    orders = {tuple(i.iri for i in sorted(p, key=_sort_key)) for p in itertools.permutations(items)}
    assert orders == {("urn:a/1", "urn:a/3", "urn:a/2")}
