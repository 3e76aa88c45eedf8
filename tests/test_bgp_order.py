"""The greedy pattern order used on the rdflib store (reasoner/bgp_order.py): it walks from bound
variables along links, it touches only the queries this project prepares, and answers stay the
same (the store parity tests compare every rule's output on rdflib with Oxigraph's)."""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Variable

from reasoner.bgp_order import MARK, greedy_order, reorder_bgps
from reasoner.store import RdflibStore, _prepared

AX = Namespace("https://w3id.org/axspa-kg/ontology#")
x, c, d = Variable("x"), Variable("c"), Variable("d")


def test_the_order_walks_from_the_patient_along_its_links() -> None:
    patterns = [(x, RDF.type, AX.Patient), (x, AX.hasTreatmentCourse, c), (c, RDF.type, AX.TreatmentCourse),
                (c, AX.drug, d), (d, RDF.type, AX.TNFInhibitor)]
    # rdflib's own order would put the three one-variable patterns first: a cross product
    written = [patterns[0], patterns[2], patterns[4], patterns[1], patterns[3]]
    assert greedy_order(written) == patterns
    # with ?c bound from outside, the BGP starts at the course
    assert greedy_order(written, {c})[0] == patterns[2]


def test_only_prepared_queries_are_marked_and_the_answers_hold() -> None:
    text = ("PREFIX ax: <https://w3id.org/axspa-kg/ontology#> SELECT ?x ?d WHERE { ?x a ax:Patient . "
            "?c a ax:TreatmentCourse . ?d a ax:TNFInhibitor . ?x ax:hasTreatmentCourse ?c . ?c ax:drug ?d }")
    ours, theirs = _prepared(text), prepareQuery(text)
    marks: list[bool] = []

    def collect(node, found) -> None:  # type: ignore[no-untyped-def]
        if hasattr(node, "name") and node.name == "BGP":
            found.append(MARK in node)
        for value in (node.values() if hasattr(node, "values") else node if isinstance(node, list) else []):
            collect(value, found)

    collect(ours.algebra, marks)
    plain: list[bool] = []
    collect(theirs.algebra, plain)
    assert marks and all(marks) and plain and not any(plain)
    graph = Graph()
    for i in range(3):
        p, course, drug = URIRef(f"https://e.org/p{i}"), URIRef(f"https://e.org/c{i}"), URIRef(f"https://e.org/d{i}")
        graph += [(p, RDF.type, AX.Patient), (p, AX.hasTreatmentCourse, course), (course, RDF.type, AX.TreatmentCourse),
                  (course, AX.drug, drug), (drug, RDF.type, AX.TNFInhibitor)]
    store = RdflibStore()
    store.add(graph, "https://e.org/g")
    expected = {(str(r.x), str(r.d)) for r in graph.query(theirs)}
    assert len(expected) == 3
    assert {(str(row["x"]), str(row["d"])) for row in store.select(text)} == expected
    copy = prepareQuery(text)
    reorder_bgps(copy.algebra)
    assert {(str(r.x), str(r.d)) for r in graph.query(copy)} == expected
