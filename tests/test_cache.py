"""The start-up cache gives back exactly what it saved, and a damaged entry is recomputed."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import BNode, Graph

from reasoner import cache
from reasoner.kb import knowledge_base, load_ontology
from reasoner.pipeline import prepared_kb


def _shape(graph: Graph) -> Counter:
    """Every triple with blank nodes written as "_" (OWL restrictions and lists are blank nodes;
    rdflib's full isomorphism check takes minutes on the knowledge base)."""
    return Counter(tuple("_" if isinstance(t, BNode) else t.n3() for t in triple) for triple in graph)


def _same(a: Graph, b: Graph) -> bool:
    return len(a) == len(b) and _shape(a) == _shape(b)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AXSPA_CACHE_DIR", str(tmp_path))
    knowledge_base.cache_clear()
    yield tmp_path
    knowledge_base.cache_clear()


def test_cached_knowledge_base_is_the_parsed_one(fresh_cache) -> None:
    first = knowledge_base()  # parses Turtle, writes the cache
    assert list(fresh_cache.glob("kb-*.nt"))
    knowledge_base.cache_clear()
    second = knowledge_base()  # reads the cache
    assert _same(second, first) and _same(second, load_ontology().graph)


def test_cached_preparation_is_the_computed_one(fresh_cache) -> None:
    kb = knowledge_base()
    computed = prepared_kb(kb)
    assert list(fresh_cache.glob("prepared-*.nt"))
    assert _same(prepared_kb(kb), computed)
    assert len(computed) > len(kb)


def test_a_damaged_entry_is_recomputed(fresh_cache) -> None:
    expected = knowledge_base()
    for entry in fresh_cache.glob("kb-*.nt"):
        entry.write_text("<not n-triples", encoding="utf-8")
    knowledge_base.cache_clear()
    assert _same(knowledge_base(), expected)


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("AXSPA_CACHE_DIR", str(blocker / "cache"))
    knowledge_base.cache_clear()
    try:
        assert len(knowledge_base()) > 1000
    finally:
        knowledge_base.cache_clear()


def test_the_key_changes_with_the_sources(tmp_path) -> None:
    source = tmp_path / "a.ttl"
    source.write_text("# one", encoding="utf-8")
    before = cache.digest([source])
    source.write_text("# two", encoding="utf-8")
    assert cache.digest([source]) != before
