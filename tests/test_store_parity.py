"""The same rules give the same advice on embedded Oxigraph (default) and on rdflib."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.pipeline import Reasoner

ROOT = Path(__file__).resolve().parent.parent
RECORDS = [ROOT / "examples" / "case2-multiple-failures.json"] + sorted(
    (ROOT / "examples").glob("heart-failure*.json"))[:1] + sorted((ROOT / "examples").glob("stable-on-tnfi*.json"))[:1]


@pytest.fixture(scope="module")
def rdflib_reasoner() -> Reasoner:
    return Reasoner(store="rdflib")


def _signature(result) -> set[tuple]:
    return {(a.kind, a.therapy.iri, a.recommendation.id, tuple(o.iri for o in a.over),
             tuple(f.fact for f in a.because)) for a in result.advice} | {
        ("conflict", c.advice.therapy.iri, c.overridden_by.recommendation.id) for c in result.conflicts}


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name)
def test_rdflib_and_oxigraph_give_identical_advice(reasoner, rdflib_reasoner, record: Path) -> None:
    fast, slow = reasoner.recommend(record), rdflib_reasoner.recommend(record)
    assert fast.conforms and slow.conforms
    assert _signature(fast) == _signature(slow)
    assert fast.advice
