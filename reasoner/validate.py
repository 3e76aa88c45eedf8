"""Validate a patient record with the shapes in shapes/patient/ before any reasoning.

There are two validators. The default ("sparql", StoreValidator) runs the shapes compiled to
SPARQL (reasoner.shape_queries) in a small store, by default an embedded Oxigraph, that holds the
validation context and, while they are checked, the records: one record or a whole batch at a
time. The reference ("pyshacl", validate_record) runs pySHACL on one record plus only the context
triples about what it names. The validation context is the types of the drugs, conditions,
measures and diagnoses (so sh:class works), never the whole ontology, which would make pySHACL
hundreds of times slower.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .classify import closure_graph
from .errors import AxspaError, RecordLoadError
from .namespaces import AX
from .record import field_names, nested_place, short_node
from .shape_queries import compiled_patient_shapes, patient_shapes
from .store import KB_GRAPH, PATIENTS_GRAPH, OxigraphStore, Row, Store
from .today import pinned, reads_today, run_date

# the kinds, the drug classes a contradiction shape tests (ActiveWhileBiologicWorksShape) and the
# guideline groupings BroaderConditionAbsentShape leaves out
CONTEXT_CLASSES = (AX.Drug, AX.Condition, AX.ConditionGrouping, AX.Measure, AX.Diagnosis, AX.Biologic,
                   AX.TargetedSyntheticDMARD)
VALIDATORS = ("sparql", "pyshacl")  # the shapes compiled to SPARQL (default), or pySHACL (reference)


@dataclass(frozen=True)
class ValidationIssue:
    """One SHACL result, phrased for people: severity, field path, offending value, message."""

    severity: str  # "violation" | "warning" | "info"
    path: str
    value: str | None
    message: str
    focus: str
    # For the sh:ValidationReport written for an invalid record (`-f turtle|jsonld`); left out of
    # equality, so one problem found through two constraints is still said once.
    component: str | None = field(default=None, compare=False)  # sh:sourceConstraintComponent
    shape: str | None = field(default=None, compare=False)  # sh:sourceShape, when an IRI (not a blank node)
    result_path: str | None = field(default=None, compare=False)  # sh:resultPath, when an IRI
    value_node: Node | None = field(default=None, compare=False)  # sh:value as found (an IRI or a typed literal)

    def as_dict(self) -> dict[str, str | None]:
        return {"severity": self.severity, "path": self.path, "value": self.value, "message": self.message}


@dataclass(frozen=True)
class ValidationReport:
    conforms: bool  # no violations (warnings allowed)
    issues: tuple[ValidationIssue, ...]

    @property
    def violations(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity == "violation"]

    @property
    def warnings(self) -> list[ValidationIssue]:
        return [i for i in self.issues if i.severity != "violation"]


# Weak keys: an entry goes when its knowledge-base graph does (an id() could be reused).
_CONTEXT_CACHE: weakref.WeakKeyDictionary[Graph, Graph] = weakref.WeakKeyDictionary()
_STATEMENTS_CACHE: weakref.WeakKeyDictionary[Graph, dict[Node, list[tuple[Node, Node]]]] = weakref.WeakKeyDictionary()


def validation_context(kb: Graph) -> Graph:
    """Type triples for every drug, condition and measure in the KB (flattened to the checked
    classes), each drug's reference product, and which conditions include which (ax:fallsUnder,
    transitive, not reflexive): the contradiction shape compares a condition stated present with a
    broader one stated absent."""
    if kb not in _CONTEXT_CACHE:
        closure = closure_graph(kb)
        ctx = Graph()
        for cls in CONTEXT_CLASSES:
            for ind in closure.subjects(RDF.type, cls):
                ctx.add((ind, RDF.type, cls))
        # each drug's reference product (a biosimilar's originator, else the drug itself), as
        # queries/kb/reference-products.rq derives it for the rules: the duplicate-course shape
        # counts a biosimilar and its originator started on one date as one course entered twice.
        # Written here rather than by running the query (0.12 s at start-up); a test keeps the two equal.
        for drug in closure.subjects(RDF.type, AX.Drug):
            ctx.add((drug, AX.referenceProduct, kb.value(drug, AX.biosimilarOf) or drug))
        conditions = set(closure.subjects(RDF.type, AX.Condition))
        for narrow, broad in closure.subject_objects(AX.fallsUnder):
            if narrow in conditions and narrow != broad:
                ctx.add((narrow, AX.fallsUnder, broad))
        _CONTEXT_CACHE[kb] = ctx
    return _CONTEXT_CACHE[kb]


def _context_statements(kb: Graph) -> dict[Node, list[tuple[Node, Node]]]:
    """Per KB node, its context statements as (predicate, object)."""
    if kb not in _STATEMENTS_CACHE:
        statements: dict[Node, list[tuple[Node, Node]]] = {}
        for ind, predicate, value in validation_context(kb):
            statements.setdefault(ind, []).append((predicate, value))
        _STATEMENTS_CACHE[kb] = statements
    return _STATEMENTS_CACHE[kb]


def record_context(patient_graph: Graph, kb: Graph) -> Graph:
    """Only the context triples about IRIs this record names: a few triples instead of hundreds."""
    statements = _context_statements(kb)
    ctx = Graph()
    for value in set(patient_graph.objects()):
        for predicate, obj in statements.get(value, ()):
            ctx.add((value, predicate, obj))
    return ctx


def _path(focus: Node, path: Node | None, message: str = "") -> str:
    prop = str(path) if isinstance(path, URIRef) else ""
    field = field_names().get(prop, prop.rsplit("#", 1)[-1] if prop else "")
    place = nested_place(focus)
    if place:
        leaf = field.split(".")[-1] if field else ""
        if not leaf:
            # a result about the item as a whole (an sh:or over its measure and value, a SPARQL
            # check of a course's status and end) whose message names one of its fields: that field
            # ("measurements[1].value", not "measurements[1]"; session-33 docs probe F7)
            said = re.match(re.escape(place.split("[", 1)[0]) + r"\.(\w+): ", message)
            leaf = said.group(1) if said else ""
        return place + (f".{leaf}" if leaf else "")
    if "." in field and isinstance(focus, URIRef):
        # a course, condition or measurement of a record written in RDF with IRIs of its own:
        # "treatments.start" alone did not say which of the courses the message is about
        return f"{field} ({short_node(focus)})"
    return field or "record"


def _value(node: Node | None, data: Graph | None = None) -> str | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        return str(node)
    if data is not None and (node, RDF.type, AX.TreatmentCourse) in data:
        return None  # a course-level result: the path names the course; its minted IRI says nothing more
    if data is not None and (node, RDF.type, AX.Measurement) in data:
        # a measurement-level result: show what was measured, not the node's IRI
        measure, value = data.value(node, AX.measure), data.value(node, AX.value)
        return f"{_value(measure)} = {value}"
    text = str(node)
    return text.rsplit("#", 1)[-1] if text.startswith(str(AX)) else text


_LONGEST_VALUE = 120  # characters of an offending value a report repeats


def _shortened(issue: ValidationIssue) -> ValidationIssue:
    """A value of 200,000 characters (a pasted note in the drug field) was echoed in full twice, as
    the value and inside the message; a report quotes its start and says how long it is."""
    value = issue.value
    if value is None or len(value) <= _LONGEST_VALUE:
        return issue
    short = f"{value[:_LONGEST_VALUE]}… ({len(value):,} characters)"
    # the report's sh:value too: an IRI made of a pasted text (a sex of 200,000 characters) is as long
    return replace(issue, value=short, message=issue.message.replace(value, short), value_node=Literal(short))


def _report(issues: list[ValidationIssue]) -> ValidationReport:
    # One line per distinct problem: a non-number age breaks datatype and both range constraints
    # of the same property shape, which share one message; saying it three times helps nobody.
    # Sorted first, so that which of the constraints behind one problem is named does not depend on
    # the order an engine found them in.
    issues = sorted(issues, key=lambda i: (i.component or "", i.shape or ""))
    issues = list(dict.fromkeys(_shortened(i) for i in issues))
    issues.sort(key=lambda i: (i.severity != "violation", i.path, i.message, i.value or "", i.focus))
    return ValidationReport(conforms=not any(i.severity == "violation" for i in issues), issues=tuple(issues))


def _fill(template: str, row: Row) -> str:
    """pySHACL's message templating: {?var} or {$var} replaced by the text of the binding."""
    for var, value in row.items():
        template = re.sub(r"\{[?$]" + re.escape(var) + r"\}", lambda _m, v=value: str(v), template)
    return template


def validate_in_store(store: Store, graphs: Sequence[Graph], today: date | None = None) -> list[ValidationReport]:
    """Validate every record already loaded in `store` with the compiled shapes' queries.

    `graphs` are the records' own graphs, in the order the reports are wanted; a result belongs to
    the record whose graph has the focus node as a subject. Same results as pySHACL on the same
    record (tested on every loadable fixture; see tests/test_shape_queries.py for the one edge
    record where the compiled shapes follow SHACL and pySHACL does not), at a fraction of the cost,
    for one record or a whole batch."""
    compiled = compiled_patient_shapes()
    owner: dict[Node, int] = {}
    for index, graph in enumerate(graphs):
        for subject in graph.subjects():
            owner.setdefault(subject, index)
    found: list[list[ValidationIssue]] = [[] for _ in graphs]
    # the shapes that read today (NOW()) take the caller's date (reasoner.today)
    day = run_date(today)
    rows = [row for query in compiled.queries
            for row in store.select(pinned(query, day) if reads_today(query) else query)]
    for row in rows:
        focus = row["this"]
        if focus not in owner:  # a node of the knowledge base, not of a record: the KB shapes cover it
            continue
        constraint = compiled.constraints[int(row["c"])]  # type: ignore[call-overload]
        graph = graphs[owner[focus]]
        value = row.get("reported", row.get("value"))
        message = constraint.message
        if constraint.template_vars:
            bound = {k: v for k, v in row.items() if k not in {"c", "reported"}}
            bound["value"] = value  # type: ignore[assignment]
            message = _fill(message, bound)
        result_path = row.get("path", constraint.path)
        found[owner[focus]].append(ValidationIssue(
            severity=constraint.severity,
            path=_path(focus, result_path, message),
            value=_value(value, graph),
            value_node=value,
            message=message,
            focus=str(focus),
            component=str(constraint.component),
            shape=constraint.shape,
            result_path=str(result_path) if isinstance(result_path, URIRef) else None,
        ))
    return [_report(issues) for issues in found]


class StoreValidator:
    """A small embedded Oxigraph that holds the validation context and, briefly, the records.

    Validation runs here rather than in the store that will hold the advice: an invalid record
    never reaches the user's store (remote or not), and validating never disturbs what is there."""

    def __init__(self, kb: Graph, store: Store | None = None) -> None:
        self.store: Store = store if store is not None else OxigraphStore()
        self.store.clear(KB_GRAPH)
        self.store.clear(PATIENTS_GRAPH)
        self.store.add(validation_context(kb), KB_GRAPH)

    def validate(self, graphs: Sequence[Graph], today: date | None = None) -> list[ValidationReport]:
        # The patients graph is empty here: it starts empty and every call clears it on the way out.
        try:
            for graph in graphs:
                self.store.add(graph, PATIENTS_GRAPH)
            return validate_in_store(self.store, graphs, today)
        finally:
            self.store.clear(PATIENTS_GRAPH)


def validate_record(patient_graph: Graph, kb: Graph) -> ValidationReport:
    """Run the patient shapes with pySHACL, the reference engine (`axspa validate --validator pyshacl`).

    The pipeline validates with the same shapes compiled to SPARQL (`validate_in_store`); tests
    require both to agree on every loadable fixture (one edge record aside, see
    tests/test_shape_queries.py). Violations mean the record must not be reasoned over."""
    from pyshacl import validate as shacl_validate  # imported when used: it costs ~0.3 s at start-up

    data = Graph()
    data += patient_graph
    data += record_context(patient_graph, kb)
    try:
        _, results, _ = shacl_validate(
            data, shacl_graph=patient_shapes(), inference="none", advanced=False, allow_warnings=True
        )
    except Exception as exc:  # pySHACL fails on some ill-typed values (a date '2024-1-5' compared with <=)
        raise RecordLoadError(f"pySHACL could not validate this record ({type(exc).__name__}: {exc}); the default "
                              "validator (--validator sparql) reports on such values by field") from exc
    if not isinstance(results, Graph):  # pySHACL reports a shapes graph it refuses as a result object
        raise AxspaError(f"pySHACL refused the patient shapes: {results}")
    issues: list[ValidationIssue] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        level = {SH.Violation: "violation", SH.Warning: "warning"}.get(severity, "info")  # type: ignore[arg-type]
        focus = results.value(result, SH.focusNode)
        message = results.value(result, SH.resultMessage)
        result_path = results.value(result, SH.resultPath)
        component, shape = results.value(result, SH.sourceConstraintComponent), results.value(result, SH.sourceShape)
        issues.append(
            ValidationIssue(
                severity=level,
                path=_path(focus, result_path, str(message or "")),  # type: ignore[arg-type]
                value=_value(results.value(result, SH.value), data),
                value_node=results.value(result, SH.value),
                message=str(message) if message else "record does not satisfy a shape",
                focus=str(focus),
                component=str(component) if component is not None else None,
                shape=str(shape) if isinstance(shape, URIRef) else None,
                result_path=str(result_path) if isinstance(result_path, URIRef) else None,
            )
        )
    return _report(issues)
