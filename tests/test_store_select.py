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


@pytest.mark.parametrize("store", ["oxigraph", "rdflib"])
def test_the_json_read_of_advice_holds_what_the_full_read_holds(store: str, kb) -> None:  # type: ignore[no-untyped-def]
    """`Reasoner.advice(provenance=False)` (advice-items.rq + advice-details.rq) gives, for every
    patient of a realistic cohort, the same advice nodes with the same statements as the full read
    (advice-statements.rq) restricted to the predicates the JSON contract uses."""
    from reasoner.namespaces import AX
    from reasoner.pipeline import Reasoner
    from reasoner.report import _ITEM_PREDICATES, _OPTION, _SUPPRESSED_BY

    from .test_cohort_queries import cohort_graph

    reasoner = Reasoner(store=store, kb=kb)
    reasoner.derive(cohort_graph(reasoner))
    read = (*_ITEM_PREDICATES, AX.over, AX.because, AX.adviceNote, _SUPPRESSED_BY, AX.missingFact, _OPTION)

    def as_sets(grouped):  # type: ignore[no-untyped-def]
        return {patient: {node: {p: set(values) for p, values in statements.items() if p in read}
                          for node, statements in nodes.items()} for patient, nodes in grouped.items()}

    fields, full = as_sets(reasoner.advice(provenance=False)), as_sets(reasoner.advice(provenance=True))
    assert len(fields) >= 10 and fields == full
    kinds = {p for nodes in fields.values() for statements in nodes.values() for p in statements}
    assert {AX.over, AX.because, AX.adviceNote, _SUPPRESSED_BY, AX.missingFact, AX.inPopulation} <= kinds


def test_a_cohort_batch_leaves_no_record_graphs_for_the_cycle_collector(reasoner) -> None:  # type: ignore[no-untyped-def]
    """Record graphs live in SimpleMemory (reasoner/graphs.py): freed by reference counting, not by
    a full collection that walked ~400 objects a record (0.6-0.8 s every 1,000 patients)."""
    import sys
    from pathlib import Path

    from rdflib import Graph as RdfGraph

    from reasoner.cohort import advise_batch

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from generate import cohort  # type: ignore[import-not-found]

    items = [(f"record {i}", record) for i, record in enumerate(cohort(20, seed=5, invalid_fraction=0.1))]
    gc.collect()
    gc.disable()
    try:
        result = advise_batch(reasoner, items, "jsonl")
        assert sum(not e.rejected for e in result.entries) >= 15
        del result
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        graphs = [o for o in gc.garbage if isinstance(o, RdfGraph)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not graphs, f"{len(graphs)} record graphs were left in reference cycles"
