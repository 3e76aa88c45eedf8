"""The patient shapes compiled to SPARQL give exactly pySHACL's results, record by record and in
batches, on Oxigraph and on rdflib; unsupported SHACL is refused, never skipped."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import SH

from reasoner.pipeline import Reasoner
from reasoner.record import load_record
from reasoner.shape_queries import ShapeCompileError, compile_shapes, compiled_patient_shapes
from reasoner.store import KB_GRAPH, PATIENTS_GRAPH, OxigraphStore, RdflibStore
from reasoner.validate import StoreValidator, validate_record
from tests.patients import condition, course, measurement, nsaid_failure, patient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402

FIXTURES = sorted((ROOT / "tests" / "data").glob("*/*.*")) + sorted((ROOT / "examples").glob("*.json"))
LOADABLE = [p for p in FIXTURES if p.name != "blank-node-patient.ttl"]  # refused before validation


def _mutations() -> dict[str, dict]:
    """Records breaking (or nearly breaking) constraints the fixture files do not all reach."""
    base = patient("shape-edge", treatments=nsaid_failure(), conditions=[condition("ibd", "absent")])
    cases: dict[str, dict] = {}

    def case(name: str, change) -> None:  # type: ignore[no-untyped-def]
        record = copy.deepcopy(base)
        record["id"] = f"shape-edge-{name}"
        change(record)
        cases[name] = record

    case("age-121", lambda r: r.update(age=121))
    case("age-decimal", lambda r: r.update(age=44.5))
    case("age-decimal-child", lambda r: r.update(age=15.5))
    case("age-text", lambda r: r.update(age="forty"))
    case("no-state", lambda r: r.pop("diseaseState"))
    case("no-measurements", lambda r: r.update(measurements=[]))
    case("crp-only", lambda r: r.update(measurements=[measurement("crp", 3.0)]))
    case("basfi-11", lambda r: r["measurements"].append(measurement("basfi", 11)))
    case("asdas-negative", lambda r: r["measurements"].append(measurement("asdas_crp", -0.5)))
    case("basdai-boundary-10", lambda r: r["measurements"].append(measurement("basdai", 10)))
    case("measurement-date-bad", lambda r: r["measurements"].append(measurement("esr", 20, date="2026-13-01")))
    case("stopped-no-outcome", lambda r: r["treatments"].append(course("ibuprofen", start="2021-05-01")))
    case("two-bad-dates", lambda r: r["treatments"].append(
        course("ibuprofen", outcome="intolerance", start="2021-02-29", end="2021-99-01")))
    case("same-day", lambda r: r["treatments"].append(
        course("ibuprofen", outcome="intolerance", start="2021-05-01", end="2021-05-01")))
    case("dose-number", lambda r: r["treatments"].append(course("ibuprofen", outcome="intolerance", dose=400)))
    case("contradiction-and-unknown", lambda r: r["conditions"].extend(
        [condition("ibd", "present"), condition("uveitis", "unknown"), condition("not_a_condition")]))
    case("unknown-drug-and-outcome", lambda r: r["treatments"].append(
        course("wonderdrug", outcome=["adverse_event", "cured"])))
    return cases


MUTATIONS = _mutations()


@pytest.fixture(scope="module")
def validators(reasoner: Reasoner) -> dict[str, StoreValidator]:
    return {"oxigraph": StoreValidator(reasoner.kb, OxigraphStore()),
            "rdflib": StoreValidator(reasoner.kb, RdflibStore())}


def _graph(reasoner: Reasoner, source: Path | dict) -> Graph:
    return load_record(source, reasoner.kb).graph


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("path", LOADABLE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_gives_pyshacls_report(reasoner, validators, engine: str, path: Path) -> None:
    graph = _graph(reasoner, path)
    expected = validate_record(graph, reasoner.kb)
    got = validators[engine].validate([graph])[0]
    assert got == expected
    # what the sh:ValidationReport names (left out of equality): the same components, shapes and paths
    assert [_source(i) for i in got.issues] == [_source(i) for i in expected.issues]
    assert all(i.component and i.component.endswith("ConstraintComponent") for i in got.issues)
    if path.parent.name == "invalid":
        assert not expected.conforms, f"{path.name} should be invalid"


def _source(issue):  # type: ignore[no-untyped-def]
    return issue.component, issue.shape, issue.result_path


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_edge_record_gives_pyshacls_report(reasoner, validators, engine: str, name: str) -> None:
    graph = _graph(reasoner, MUTATIONS[name])
    expected = validate_record(graph, reasoner.kb)
    got = validators[engine].validate([graph])[0]
    assert got == expected
    assert expected.issues or name == "basdai-boundary-10" or name == "same-day", f"{name} reaches no constraint"


def test_a_batch_is_attributed_record_by_record(reasoner, validators) -> None:
    """One query over many records (a cohort batch) gives each record its own pySHACL report."""
    graphs = [_graph(reasoner, p) for p in LOADABLE]
    graphs += [_graph(reasoner, r) for r in MUTATIONS.values()]
    graphs += [_graph(reasoner, r) for r in cohort(80, seed=11, invalid_fraction=0.25)]
    expected = [validate_record(g, reasoner.kb) for g in graphs]
    assert sum(not r.conforms for r in expected) >= 30
    assert validators["oxigraph"].validate(graphs) == expected


def test_validation_leaves_the_reasoning_store_alone(reasoner: Reasoner) -> None:
    engine = Reasoner(kb=reasoner.kb)
    engine.classify(_graph(reasoner, patient("already-there")))
    before = len(engine.store.graph(PATIENTS_GRAPH))
    _, report = engine.validate(ROOT / "tests" / "data" / "invalid" / "child-age-15.json")
    assert not report.conforms
    assert len(engine.store.graph(PATIENTS_GRAPH)) == before


def test_pyshacl_remains_available_as_the_reference(reasoner: Reasoner) -> None:
    engine = Reasoner(kb=reasoner.kb, validator="pyshacl")
    _, report = engine.validate(ROOT / "tests" / "data" / "invalid" / "basdai-above-10.json")
    assert [i.path for i in report.violations] == ["measurements[1].value"]  # the field its message names
    assert "0 to 10" in report.violations[0].message


def test_every_constraint_becomes_a_branch() -> None:
    compiled = compiled_patient_shapes()
    assert len(compiled.constraints) >= 50
    assert sum(q.count("BIND (") for q in compiled.queries) >= len(compiled.constraints)
    assert all(c.message for c in compiled.constraints)


UNSUPPORTED = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:name ; sh:minLength 2 ; sh:message "name: two letters at least" ] .
"""


PATTERNED = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
  sh:property [ sh:path ex:code ; sh:pattern "^ab" ; sh:flags "i" ; sh:message "code: starts with ab" ] .
ex:a a ex:C ; ex:code "ABc" .
ex:b a ex:C ; ex:code "xab" .
ex:c a ex:C ; ex:code ex:abc .
ex:d a ex:C ; ex:code [ ] .
"""


@pytest.mark.parametrize("store_class", [OxigraphStore, RdflibStore])
def test_sh_pattern_with_flags_gives_pyshacls_results(store_class) -> None:  # type: ignore[no-untyped-def]
    """sh:pattern (session 34: dates as YYYY-MM-DD, no time zone) is compiled to REGEX over the
    text of the value, flags included; a blank node fails, as SHACL says and pySHACL does."""
    from pyshacl import validate as shacl_validate

    graph = Graph().parse(data=PATTERNED, format="turtle")
    compiled = compile_shapes(graph)
    store = store_class()
    store.add(graph, KB_GRAPH)
    found = {str(row["this"]) for query in compiled.queries for row in store.select(query)}
    _, report, _ = shacl_validate(graph, shacl_graph=graph)
    expected = {str(f) for f in report.objects(None, SH.focusNode)}
    assert found == expected == {"https://example.org/b", "https://example.org/c", "https://example.org/d"}


def test_an_unsupported_feature_is_refused_by_name() -> None:
    with pytest.raises(ShapeCompileError, match="minLength"):
        compile_shapes(Graph().parse(data=UNSUPPORTED, format="turtle"))


def test_a_shape_without_a_message_is_refused() -> None:
    text = UNSUPPORTED.replace('sh:minLength 2 ; sh:message "name: two letters at least"', "sh:minCount 1")
    with pytest.raises(ShapeCompileError, match="sh:message"):
        compile_shapes(Graph().parse(data=text, format="turtle"))
