"""`select_tuples`, the row-free read the advice goes through, answers as `select` does on every
embedded store; and a cohort run leaves the caller's garbage-collector settings as it found them."""

from __future__ import annotations

import gc

import pytest
from rdflib import Graph, Literal, URIRef

from reasoner.cohort import GC_THRESHOLD, roomy_gc
from reasoner.store import OxigraphStore, RdflibStore, select_tuples

EX = "https://example.org/"
QUERY = f"""SELECT ?s ?label ?n WHERE {{
  ?s <{EX}kind> <{EX}Thing> .
  OPTIONAL {{ ?s <{EX}label> ?label }}
  OPTIONAL {{ ?s <{EX}n> ?n }}
}}"""


def _graph() -> Graph:
    graph = Graph()
    for i in range(3):
        graph.add((URIRef(f"{EX}t{i}"), URIRef(f"{EX}kind"), URIRef(f"{EX}Thing")))
    graph.add((URIRef(f"{EX}t0"), URIRef(f"{EX}label"), Literal("zero", lang="en")))
    graph.add((URIRef(f"{EX}t1"), URIRef(f"{EX}label"), Literal("one")))
    graph.add((URIRef(f"{EX}t1"), URIRef(f"{EX}n"), Literal(1)))
    return graph


@pytest.mark.parametrize("store_class", [OxigraphStore, RdflibStore])
@pytest.mark.parametrize("names", [("s", "label", "n"), ("n", "s", "label"), ("label", "s")])
def test_tuples_follow_the_names_asked_and_match_select(store_class, names) -> None:  # type: ignore[no-untyped-def]
    store = store_class()
    store.add(_graph(), EX + "g")
    tuples = select_tuples(store, QUERY, names)
    rows = store.select(QUERY)
    assert sorted(tuples, key=str) == sorted((tuple(row.get(n) for n in names) for row in rows), key=str)
    by_subject = {t[names.index("s")]: t for t in tuples}
    assert set(by_subject) == {URIRef(f"{EX}t{i}") for i in range(3)}
    zero, one, two = (by_subject[URIRef(f"{EX}t{i}")] for i in range(3))
    assert zero[names.index("label")] == Literal("zero", lang="en")
    assert one[names.index("label")] == Literal("one")
    assert two[names.index("label")] is None  # unbound stays None, never a missing column
    if "n" in names:
        assert one[names.index("n")] == Literal(1) and zero[names.index("n")] is None


def test_a_name_the_query_does_not_project_is_refused() -> None:
    store = OxigraphStore()
    store.add(_graph(), EX + "g")
    with pytest.raises(ValueError):
        select_tuples(store, QUERY, ("s", "nowhere"))


def test_cohort_gc_settings_are_undone() -> None:
    before = gc.get_threshold()
    with roomy_gc():
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with roomy_gc():
            assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
