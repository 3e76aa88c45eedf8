"""ODK-style quality checks kept as data in queries/qc/: any row a query returns is a violation.

Each runs on both engines the project executes SPARQL with, so a check that only one engine
understands would show up here too.
"""

from __future__ import annotations

import pytest
from rdflib import Graph

from reasoner.queries import query_folder
from reasoner.store import KB_GRAPH, OxigraphStore, RdflibStore

QC = query_folder("qc")


@pytest.fixture(scope="module")
def stores(kb: Graph):
    ox, rd = OxigraphStore(), RdflibStore()
    ox.add(kb, KB_GRAPH)
    rd.add(kb, KB_GRAPH)
    return {"oxigraph": ox, "rdflib": rd}


def test_qc_folder_is_not_empty() -> None:
    assert len(QC) >= 6


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("query", QC, ids=lambda q: q.name)
def test_qc_query_finds_nothing(stores, engine: str, query) -> None:
    rows = stores[engine].select(query.text)
    shown = "\n".join(" ".join(f"{k}={v}" for k, v in row.items()) for row in rows[:20])
    assert not rows, f"{query.name} ({query.header.get('question')}) on {engine}:\n{shown}"


def test_qc_queries_do_catch_violations() -> None:
    """The checks must be able to fail: an unlabelled, undefined, punned entity is reported."""
    bad = Graph().parse(
        data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix ax: <https://w3id.org/axspa-kg/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        ax:Oops a owl:Class , owl:NamedIndividual .
        ax:Twin1 a owl:Class ; rdfs:label "twin"@en .
        ax:Twin2 a owl:Class ; rdfs:label "Twin"@en .
        """,
        format="turtle",
    )
    store = OxigraphStore()
    store.add(bad, KB_GRAPH)
    found = {q.name: len(store.select(q.text)) for q in QC}
    assert found["missing-label"] >= 1
    assert found["missing-definition"] >= 1
    assert found["punning"] == 1
    assert found["duplicate-label"] == 1
