"""Every question file (queries/competency/, queries/cohort/) runs unchanged on the remote stores,
a real `oxigraph serve` and a real Virtuoso, and answers exactly as embedded Oxigraph does (the
competency and cohort tests already compare embedded Oxigraph with rdflib)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reasoner.pipeline import Reasoner
from reasoner.queries import query_folder

from .oxigraph_server import oxigraph_server
from .test_cohort_queries import cohort_graph
from .test_store_parity import canonical_term
from .virtuoso_server import virtuoso_server

QUESTIONS = query_folder("competency") + query_folder("cohort")


def canon(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(sorted((k, canonical_term(v)) for k, v in row.items())) for row in rows)


@pytest.fixture(scope="module")
def answers() -> Iterator[dict[str, dict[str, list[tuple]]]]:
    """Each store after one derive over the cohort fixture (the KB is loaded too): every question's rows."""
    found: dict[str, dict[str, list[tuple]]] = {}
    local = Reasoner()
    graph = cohort_graph(local)

    def ask(label: str, reasoner: Reasoner) -> None:
        reasoner.derive(graph)
        found[label] = {q.name: canon(reasoner.store.select(q.text)) for q in QUESTIONS}

    ask("oxigraph", local)
    with oxigraph_server() as url:
        ask("remote", Reasoner(store=url))
    with virtuoso_server() as url:
        ask("virtuoso", Reasoner(store=f"virtuoso:{url}"))
    yield found


@pytest.mark.parametrize("store", ["remote", "virtuoso"])
@pytest.mark.parametrize("name", [q.name for q in QUESTIONS])
def test_question_answers_the_same_on_each_store(answers, store: str, name: str) -> None:
    assert answers["oxigraph"][name], f"{name}: the fixture should give it rows"
    assert answers[store][name] == answers["oxigraph"][name]
