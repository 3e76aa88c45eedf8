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


@pytest.mark.parametrize("damage", ["empty", "cut at a line", "one byte changed"])
def test_an_entry_that_parses_but_is_not_whole_is_recomputed(fresh_cache, damage: str) -> None:
    """An empty or cut N-Triples entry parses as a smaller, valid graph: a call then gave 1 advice
    item instead of 91, or recommended drugs the record contraindicates (session-35 failure probe
    F6). Each entry now ends with the hash of what it holds, checked on reading."""
    kb = knowledge_base()
    expected = prepared_kb(kb)
    for entry in fresh_cache.glob("prepared-*.nt"):
        lines = entry.read_bytes().splitlines(keepends=True)
        entry.write_bytes(b"" if damage == "empty" else b"".join(lines[: len(lines) * 4 // 5])
                          if damage == "cut at a line" else b"".join(lines).replace(b"ax", b"ay", 1))
    assert _same(prepared_kb(kb), expected)


def test_a_cut_json_entry_is_recomputed(fresh_cache) -> None:
    cache.write_json("probe", {"a": 1})
    assert cache.read_json("probe") == {"a": 1}
    entry = fresh_cache / "probe.json"
    entry.write_bytes(entry.read_bytes()[:-3])
    assert cache.read_json("probe") == {}
