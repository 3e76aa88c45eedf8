"""The fast classifier (OWL definitions compiled to SPARQL) agrees with HermiT on every fixture.

All fixtures go into one graph, so HermiT runs once (it costs about a second per call). Every
population class and helper class membership must be the same, node by node, both ways.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from reasoner.classify import compile_populations, population_classes
from reasoner.pipeline import classify_exact
from reasoner.record import load_record
from reasoner.store import KB_GRAPH, PATIENTS_GRAPH, OxigraphStore, RdflibStore
from reasoner.validate import validate_record

from .patients import condition, course, nsaid_failure, patient

ROOT = Path(__file__).resolve().parent.parent

BUILT = [
    patient("c-first-line"),
    patient("c-nsaid-failure", treatments=nsaid_failure()),
    patient("c-stable", state="stable", treatments=[course("naproxen", status="ongoing", outcome="ongoing_response")]),
    patient("c-primary", treatments=[*nsaid_failure(), course("adalimumab", outcome="primary_nonresponse")]),
    patient("c-secondary", treatments=[*nsaid_failure(), course("golimumab", outcome="secondary_nonresponse")]),
    patient("c-adverse", treatments=[*nsaid_failure(), course("etanercept", outcome="injection_site_reaction")]),
    patient("c-ibd", conditions=[condition("crohns_disease")], treatments=nsaid_failure()),
    patient("c-uveitis", conditions=[condition("recurrent_anterior_uveitis")]),
    patient("c-hf", conditions=[condition("congestive_heart_failure")], treatments=nsaid_failure()),
    patient("c-tb", conditions=[condition("active_tuberculosis")], treatments=nsaid_failure()),
    patient("c-on-tnfi", state="stable", treatments=[
        course("adalimumab", status="ongoing", outcome="ongoing_response"),
        course("naproxen", status="ongoing", outcome="ongoing_response"),
        course("methotrexate", status="ongoing")]),
    patient("c-unclear", state="unclear", treatments=[course("secukinumab", status="ongoing")]),
    patient("c-hip", conditions=[condition("advanced_hip_arthritis"), condition("severe_kyphosis"),
                                 condition("spinal_ankylosis"), condition("syndesmophytes")]),
    patient("c-axial", conditions=[condition("peripheral_arthritis", "absent"), condition("psoriasis", "unknown")]),
    patient("c-periph", conditions=[condition("peripheral_arthritis"), condition("enthesitis"),
                                    condition("isolated_active_sacroiliitis")], treatments=nsaid_failure()),
    patient("c-nr", diagnosis="nr-axSpA", treatments=[*nsaid_failure(), course("certolizumab pegol",
                                                                                outcome="primary_nonresponse")]),
    patient("c-nr-stable", diagnosis="nr-axSpA", state="stable",
            treatments=[course("Humira", status="ongoing"), course("diclofenac", status="ongoing")]),
    patient("c-psoriasis", diagnosis="axSpA", conditions=[condition("significant_psoriasis")]),
    patient("c-jak", diagnosis="axSpA", treatments=[course("upadacitinib", outcome="primary_nonresponse")]),
]


def _fixture_records() -> list[object]:
    files = sorted((ROOT / "tests" / "data" / "valid").glob("*")) + sorted((ROOT / "examples").glob("*.json"))
    return [*BUILT, *[f for f in files if f.suffix in {".json", ".jsonld", ".ttl", ".nt"}]]


@pytest.fixture(scope="module")
def all_patients(kb: Graph) -> Graph:
    merged = Graph()
    for record in _fixture_records():
        loaded = load_record(record, kb)  # type: ignore[arg-type]
        if validate_record(loaded.graph, kb).conforms:
            merged += loaded.graph
    return merged


def _sparql_types(reasoner, patients: Graph, store_name: str) -> set[tuple[str, str]]:
    store = OxigraphStore() if store_name == "oxigraph" else RdflibStore()
    store.add(reasoner.full_kb, KB_GRAPH)
    store.add(patients, PATIENTS_GRAPH)
    found: set[tuple[str, str]] = set()
    for compiled in compile_populations(reasoner.kb):
        for s, _, o in store.construct(compiled.query).triples((None, RDF.type, None)):
            found.add((str(s), str(o)))
    return found


def test_fixtures_cover_most_population_classes(reasoner, all_patients: Graph) -> None:
    types = _sparql_types(reasoner, all_patients, "oxigraph")
    covered = {c for _, c in types}
    populations = {str(c) for c in population_classes(reasoner.kb)}
    assert len(covered & populations) >= 0.8 * len(populations), sorted(populations - covered)


@pytest.mark.parametrize("store_name", ["oxigraph", "rdflib"])
def test_compiled_classification_agrees_with_hermit(reasoner, all_patients: Graph, store_name: str) -> None:
    fast = _sparql_types(reasoner, all_patients, store_name)
    exact_graph = classify_exact(reasoner.kb, all_patients, compile_populations(reasoner.kb))
    exact = {(str(s), str(o)) for s, _, o in exact_graph.triples((None, RDF.type, None))}
    assert fast - exact == set(), f"only the compiled queries found: {sorted(fast - exact)[:10]}"
    assert exact - fast == set(), f"only HermiT found: {sorted(exact - fast)[:10]}"
    assert any(o.endswith("ActiveASPrimaryNonResponseToTNFi") for _, o in fast)


def test_adverse_event_is_not_classified_as_primary_nonresponse(reasoner, all_patients: Graph) -> None:
    types = _sparql_types(reasoner, all_patients, "oxigraph")
    adverse = str(URIRef("https://w3id.org/axspa-kg/record/c-adverse"))
    assert (adverse, "https://w3id.org/axspa-kg/ontology#ActiveASDespiteNSAIDs") in types
    assert not any(s == adverse and "NonResponseToTNFi" in o for s, o in types)
