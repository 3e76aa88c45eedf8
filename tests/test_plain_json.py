"""Plain JSON records written straight to triples give exactly the JSON-LD processor's graph."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from reasoner.errors import RecordLoadError
from reasoner.plain_json import plain_record_graph
from reasoner.record import _parse_document, normalise_json
from tests.patients import condition, course, measurement, patient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402

# (a FHIR Bundle becomes a plain record first: tests/test_fhir.py)
JSON_FIXTURES = sorted((ROOT / "tests" / "data").glob("*/*.json")) + sorted(
    p for p in (ROOT / "examples").glob("*.json") if not p.name.endswith(".fhir.json"))


def _both(document: dict) -> tuple[set, set]:
    fast = _parse_document(copy.deepcopy(document), "test")
    slow = _parse_document(copy.deepcopy(document), "test", jsonld_only=True)
    # compare terms exactly: lexical form and datatype of every literal
    return {tuple(t.n3() for t in triple) for triple in fast}, {tuple(t.n3() for t in triple) for triple in slow}


@pytest.mark.parametrize("path", JSON_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_graph_is_the_json_ld_graph(path: Path) -> None:
    fast, slow = _both(json.loads(path.read_text(encoding="utf-8")))
    assert fast == slow


def test_generated_cohort_graphs_are_the_json_ld_graphs() -> None:
    plain = 0
    for record in cohort(300, seed=5, invalid_fraction=0.2):
        fast, slow = _both(record)
        assert fast == slow, record["id"]
        plain += plain_record_graph(normalise_json(record)) is not None
    assert plain >= 290, "the direct path should take nearly every generated record"


ODD = {
    "inline-context": {"@context": {"nickname": "https://example.org/nickname"}, "nickname": "Jo"},
    "compact-iri-value": {"sex": "ax:female"},
    "term-as-value": {"diseaseState": "age"},
    "decimal-age": {"age": 44.5},
    "string-age": {"age": "forty"},
    "numeric-dose": {"treatments": [course("naproxen", outcome="intolerance", dose=500)]},
    "absolute-id": {"id": "https://example.org/p/1"},
    "dotted-id": {"id": "./here"},
    "null-field": {"sex": None},
    "vocab-token": {"diagnosis": "spondylitis_of_some_kind"},
    "outcome-list": {"treatments": [course("naproxen", outcome=["adverse_event", "intolerance"])]},
    "note": {"conditions": [condition("ibd", "absent") | {"note": "colonoscopy 2024 normal"}]},
    "boolean-text": {"treatments": [course("naproxen", outcome="intolerance", maximalDose="yes")]},
    "measurement-text": {"measurements": [measurement("crp", 3.0) | {"value": "3.50"}]},
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_record_gives_the_json_ld_graph_either_way(name: str) -> None:
    """Whether or not the direct path takes it, the graph is the JSON-LD processor's."""
    record = patient(f"odd-{name}") | ODD[name]
    fast, slow = _both(record)
    assert fast == slow


def test_unknown_field_is_refused_by_name(kb) -> None:  # type: ignore[no-untyped-def]
    """Under @vocab an unknown key would become a property no rule reads: the direct path hands
    such a record to the JSON-LD processor, and loading refuses it by name."""
    from reasoner.record import load_record

    for record, name in ((patient("unknown") | {"height": 180}, "height"),
                         (patient("unknown-nested") | {"treatments": [{"drug": "naproxen", "status": "ongoing",
                                                                       "sart": "2024-01-01"}]}, "sart")):
        assert plain_record_graph(normalise_json(record)) is None
        with pytest.raises(RecordLoadError, match=f"{name}: not a field of the record format"):
            load_record(record, kb)


def test_inline_contexts_go_through_the_json_ld_processor() -> None:
    record = patient("ctx") | ODD["inline-context"]
    assert plain_record_graph(normalise_json(record)) is None
