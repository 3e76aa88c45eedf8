"""CONSTRUCT files run as SPARQL Update inside Oxigraph (reasoner.construct_update): the rewrite
must find the template whatever comments and strings surround it, refuse forms Update cannot
express, apply to every project query (else the fast path silently degrades), and derive exactly
what the CONSTRUCT derives."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from reasoner.construct_update import construct_as_insert
from reasoner.queries import query_folder
from reasoner.record import load_record
from reasoner.store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH, OxigraphStore

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("urn:a", "urn:b")
TARGET = "urn:out"


def _store(turtle: str) -> ox.Store:
    store = ox.Store()
    store.load(turtle.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:a"))
    return store


def _constructed(store: ox.Store, query: str) -> set[str]:
    return {str(t) for t in store.query(query, use_default_graph_as_union=True)}


def _inserted(store: ox.Store, query: str) -> set[str]:
    update = construct_as_insert(query, TARGET, SOURCES)
    assert update is not None, query
    store.update(update)
    found = {str(ox.Triple(q.subject, q.predicate, q.object))
             for q in store.quads_for_pattern(None, None, None, ox.NamedNode(TARGET))}
    store.clear_graph(ox.NamedNode(TARGET))
    return found


DATA = """
@prefix ex: <http://example.org/> .
ex:p1 a ex:Patient ; ex:age 40 ; ex:name "Ann {x}" .
ex:p2 a ex:Patient ; ex:age 70 .
"""


@pytest.mark.parametrize("query", [
    # braces, quotes and the word CONSTRUCT in the header comments
    '# Rule: } { "CONSTRUCT { odd" \n# Fires when: x < 3 }\nPREFIX ex: <http://example.org/>\n'
    "CONSTRUCT { ?p ex:old true } WHERE { ?p ex:age ?a FILTER (?a > 65) }",
    # a string literal holding braces inside the template, a comment between keyword and brace
    'PREFIX ex: <http://example.org/>\nCONSTRUCT # the template follows\n'
    '{ ?p ex:note "a } { b" ; ex:copy ?n } WHERE { ?p a ex:Patient OPTIONAL { ?p ex:name ?n } }',
    # no WHERE keyword, a sub-select with its own LIMIT, a long string with a quote
    "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p ex:first \"\"\"say \"hi\" }\"\"\" } "
    "{ { SELECT ?p WHERE { ?p a ex:Patient } ORDER BY ?p LIMIT 1 } }",
    # unbound template variables are skipped in both forms
    "PREFIX ex: <http://example.org/>\nconstruct { ?p ex:named ?n } where { ?p a ex:Patient "
    "OPTIONAL { ?p ex:name ?n } }",
])
def test_the_update_derives_what_the_construct_derives(query: str) -> None:
    store = _store(DATA)
    expected = _constructed(store, query)
    assert expected, "the example query should derive something"
    assert _inserted(store, query) == expected


@pytest.mark.parametrize("query", [
    "PREFIX ex: <http://example.org/>\nCONSTRUCT WHERE { ?p a ex:Patient }",
    "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p a ex:X } FROM <urn:a> WHERE { ?p a ex:Patient }",
    "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p a ex:X } WHERE { ?p a ex:Patient } LIMIT 1",
    "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p a ex:X } WHERE { ?p a ex:Patient } ORDER BY ?p",
    "PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p a ex:X } WHERE { ?p a ?c } VALUES ?c { ex:Patient }",
    "PREFIX ex: <http://example.org/>\nSELECT ?p WHERE { ?p a ex:Patient }",
])
def test_forms_update_cannot_express_are_left_to_construct(query: str) -> None:
    assert construct_as_insert(query, TARGET, SOURCES) is None


def test_the_short_form_still_runs_through_the_store() -> None:
    store = OxigraphStore()
    graph = Graph().parse(data=DATA, format="turtle")
    store.add(graph, PATIENTS_GRAPH)
    store.construct_into(["PREFIX ex: <http://example.org/>\nCONSTRUCT WHERE { ?p ex:age ?a }"], DERIVED_GRAPH)
    assert len(store.graph(DERIVED_GRAPH)) == 2


def test_every_project_rule_and_class_query_takes_the_update_path(reasoner) -> None:
    sources = (DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH)
    texts = {q.name: q.text for folder in ("rules",) for q in query_folder(folder)}
    texts.update({str(c.iri): c.query for c in reasoner.classes})
    refused = [name for name, text in texts.items() if construct_as_insert(text, DERIVED_GRAPH, sources) is None]
    assert not refused


def test_class_queries_never_read_another_class_they_derive(reasoner) -> None:
    """Oxigraph and remote stores add each query's output as soon as it has run, so the class queries (run in one
    batch) must not read each other's output; rule strata guarantee the same for rules."""
    derived = {f"<{c.iri}>" for c in reasoner.classes}
    for compiled in reasoner.classes:
        pattern = compiled.query.split("WHERE", 1)[1]
        assert not [iri for iri in derived if iri in pattern], compiled.iri


def test_rules_derive_the_same_as_update_and_as_construct(reasoner, kb) -> None:
    """Every stratum run both ways over the worked cases gives the same derived graph: as the
    embedded store runs them (CONSTRUCT, then the triples added) and as Updates (what a remote
    store is sent), here on the embedded Oxigraph itself."""
    patients = Graph()
    for path in sorted((ROOT / "examples").glob("case*.json")):
        patients += load_record(path, kb).graph
    reasoner.classify(patients)
    reasoner.apply_rules()
    as_construct = set(reasoner.store.graph(DERIVED_GRAPH))
    reasoner.classify(patients)
    raw = reasoner.store._store
    sources = tuple(sorted(g.value for g in raw.named_graphs() if isinstance(g, ox.NamedNode)))
    for stratum in reasoner.strata:
        for rule in stratum:
            update = construct_as_insert(rule.query.text, DERIVED_GRAPH, sources)
            assert update is not None, rule.name
            raw.update(update)
    as_update = set(reasoner.store.graph(DERIVED_GRAPH))
    assert len(as_update) > 100 and as_update == as_construct


def test_an_in_memory_store_moves_to_a_fresh_one_after_many_clears_losing_nothing() -> None:
    """Oxigraph's memory store keeps memory after clear_graph; OxigraphStore starts a fresh store
    once enough has been cleared, carrying over every graph still there."""
    store = OxigraphStore()
    store.RENEW_AFTER = 10  # type: ignore[misc]
    kept = Graph().parse(data=DATA, format="turtle")
    store.add(kept, KB_GRAPH)
    first = store._store
    for round_ in range(3):
        staged = Graph()
        for i in range(20):
            staged.parse(data=f'<urn:p{round_}-{i}> <urn:q> "{i}" .', format="nt")
        store.add(staged, PATIENTS_GRAPH)
        store.clear(PATIENTS_GRAPH)
    assert store._store is not first
    assert set(store.graph(KB_GRAPH)) == set(kept) and not len(store.graph(PATIENTS_GRAPH))
    assert store.ask("ASK { <http://example.org/p1> a <http://example.org/Patient> }")


def test_clearing_adds_up_what_was_written_without_a_count_query_unless_an_update_wrote(monkeypatch) -> None:
    """`clear` feeds the renewal above from what `add` and `construct_into` wrote since the graph
    was last cleared (an upper bound), so a warm call sends no COUNT query; a graph an Update
    (or a bulk load) wrote to is counted."""
    store = OxigraphStore()
    store.clear(PATIENTS_GRAPH)
    counted: list[str] = []
    real_count = store._count
    monkeypatch.setattr(store, "_count", lambda name: counted.append(name) or real_count(name))
    staged = Graph().parse(data=DATA, format="turtle")
    store.add(staged, PATIENTS_GRAPH)
    store.construct_into(["PREFIX ex: <http://example.org/>\nCONSTRUCT { ?p ex:seen true } WHERE { ?p a ex:Patient }"],
                         PATIENTS_GRAPH)
    assert store._written[PATIENTS_GRAPH] >= real_count(PATIENTS_GRAPH) == len(staged) + 2
    before = store._cleared
    store.clear(PATIENTS_GRAPH)
    assert not counted and store._cleared - before == len(staged) + 2
    store.add(staged, PATIENTS_GRAPH)
    store.update(f"INSERT DATA {{ GRAPH <{PATIENTS_GRAPH}> {{ <urn:x> <urn:y> <urn:z> }} }}")
    store.clear(PATIENTS_GRAPH)
    assert counted == [PATIENTS_GRAPH]
