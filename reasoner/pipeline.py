"""The main job: record in, validated, classified, rules applied, advice out.

    record -> parse + resolve drug names -> SHACL (stop on violations)
           -> classification (compiled OWL definitions, in the store)
           -> rule strata (SPARQL CONSTRUCT, in the store) -> advice graph -> typed result

The knowledge base, its closures and the compiled queries are prepared once per Reasoner; each
call then loads only the patient's triples, so a warm call costs milliseconds on Oxigraph.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .classify import CompiledClass, closure_graph, compile_populations
from .errors import AxspaError, InvalidRecordError, KnowledgeBaseError
from .hermit import run_hermit
from .kb import knowledge_base
from .queries import query_folder
from .record import PatientRecord, load_record
from .report import Result, build_result
from .rules import Rule, load_rules
from .store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH, OxigraphStore, RdflibStore, Store
from .validate import ValidationReport, validate_record

StoreFactory = Callable[[], Store]
STORES: dict[str, StoreFactory] = {"oxigraph": OxigraphStore, "rdflib": RdflibStore}

Record = str | Path | dict[str, Any] | Graph


def open_store(store: str | Store) -> Store:
    """A store from its name or URL (or the store itself)."""
    if not isinstance(store, str):
        return store
    if store.startswith(("http://", "https://")):
        from .remote import RemoteStore

        return RemoteStore(store)
    if store.startswith("virtuoso:"):  # virtuoso:http://host:8890 - Virtuoso's endpoint layout, not Oxigraph's
        from .remote import Endpoints, RemoteStore

        return RemoteStore(Endpoints.virtuoso(store.split(":", 1)[1]))
    if store.startswith("oxigraph:"):
        return OxigraphStore(store.split(":", 1)[1])
    if store not in STORES:
        raise AxspaError(f"unknown store {store!r}; use oxigraph, oxigraph:PATH, rdflib, an http(s) endpoint URL "
                         "(oxigraph serve layout) or virtuoso:URL")
    return STORES[store]()


def prepared_kb(kb: Graph) -> Graph:
    """The knowledge base plus what the rules read from it: type and fallsUnder closures, and the
    per-recommendation links of queries/kb/ (action members, advice kinds)."""
    full = Graph()
    full += kb
    full += closure_graph(kb)
    scratch = OxigraphStore()
    scratch.add(full, KB_GRAPH)
    derived = Graph()
    for query in query_folder("kb"):
        derived += scratch.construct(query.text)
    full += derived
    return full


class Reasoner:
    """Holds the prepared knowledge base, compiled classes and rule strata; advises on records."""

    def __init__(self, store: str | Store = "oxigraph", guideline: str = "all", kb: Graph | None = None,
                 exact: bool = False) -> None:
        """`store`: "oxigraph" (embedded, default), "rdflib", an http(s) URL of an Oxigraph-style
        SPARQL endpoint, or any Store instance. `exact=True` classifies with HermiT (about a second
        per call) instead of the compiled queries."""
        self.kb = kb if kb is not None else knowledge_base()
        self.guideline = guideline
        self.full_kb = prepared_kb(self.kb)
        self.classes: list[CompiledClass] = compile_populations(self.kb)
        self.strata: list[list[Rule]] = load_rules(guideline)
        self.exact = exact
        self.store: Store = open_store(store)
        self.store.clear(KB_GRAPH)
        self.store.add(self.full_kb, KB_GRAPH)

    def load(self, record: Record) -> PatientRecord:
        return load_record(record, self.kb)

    def validate(self, record: Record) -> tuple[PatientRecord, ValidationReport]:
        loaded = self.load(record)
        return loaded, validate_record(loaded.graph, self.kb)

    def classify(self, patient_graph: Graph) -> Graph:
        """Population (and helper) class memberships of the patient(s), as rdf:type triples."""
        self.store.clear(PATIENTS_GRAPH)
        self.store.clear(DERIVED_GRAPH)
        self.store.add(patient_graph, PATIENTS_GRAPH)
        if self.exact:
            inferred = classify_exact(self.kb, patient_graph, self.classes)
            self.store.add(inferred, DERIVED_GRAPH)
            return inferred
        return self.classify_loaded()

    def classify_loaded(self) -> Graph:
        """Run the compiled class queries over every patient already in the store (set-at-a-time)."""
        inferred = Graph()
        for compiled in self.classes:
            inferred += self.store.construct(compiled.query)
        self.store.add(inferred, DERIVED_GRAPH)
        return inferred

    def apply_rules(self) -> None:
        """Every rule stratum once over all patients in the store; each stratum's output is added
        before the next runs, so negation always reads a complete lower stratum."""
        for stratum in self.strata:
            produced = Graph()
            for rule in stratum:
                produced += self.store.construct(rule.query.text)
            self.store.add(produced, DERIVED_GRAPH)

    def derive(self, patient_graph: Graph) -> Graph:
        """Classification then every rule stratum; returns the derived graph (types + advice).

        The graph may hold one patient or many: the queries never bind a patient."""
        self.classify(patient_graph)
        self.apply_rules()
        return self.store.graph(DERIVED_GRAPH)

    def recommend(self, record: Record, *, strict: bool = False) -> Result:
        """Validate, then advise. An invalid record yields a result with no advice (or raises if strict)."""
        loaded, report = self.validate(record)
        if not report.conforms:
            if strict:
                raise InvalidRecordError("the record failed validation", report)
            return build_result(loaded, report, None, self.full_kb)
        derived = self.derive(loaded.graph)
        return build_result(loaded, report, derived, self.full_kb)


def classify_exact(kb: Graph, patient_graph: Graph, classes: list[CompiledClass]) -> Graph:
    """Classify every node of `patient_graph` with HermiT; keep memberships of the defined classes."""
    wanted = {str(c.iri) for c in classes}
    merged = Graph()
    merged += kb
    merged += patient_graph
    nodes = sorted({s for s in patient_graph.subjects() if isinstance(s, URIRef)})
    result = run_hermit(merged, individuals=nodes)
    if not result.consistent:
        raise KnowledgeBaseError(f"HermiT finds the record inconsistent with the knowledge base: {result.message}")
    inferred = Graph()
    for node, types in result.types.items():
        for cls in types & wanted:
            inferred.add((URIRef(node), RDF.type, URIRef(cls)))
    return inferred


_DEFAULT: dict[tuple[str, str], Reasoner] = {}


def default_reasoner(store: str = "oxigraph", guideline: str = "all") -> Reasoner:
    """A shared Reasoner per (store, guideline), so repeated API calls stay warm."""
    key = (store, guideline)
    if key not in _DEFAULT:
        _DEFAULT[key] = Reasoner(store=store, guideline=guideline)
    return _DEFAULT[key]


def recommend(record: Record, *, guideline: str = "all", store: str = "oxigraph") -> Result:
    """Advice for one patient record (a path, an rdflib Graph or a dict)."""
    return default_reasoner(store, guideline).recommend(record)

