"""Typed results and their renderings: JSON (the documented contract), text for clinicians,
and the advice graph itself (Turtle / JSON-LD) for pipelines.

Every advice item carries its provenance: the recommendation, label fact or safety principle it
rests on (with strength and evidence), and the facts of the record that triggered it. An item
without a source is a bug, and build_result refuses to produce one.
"""

from __future__ import annotations

import json
import math
import re
import weakref
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS
from rdflib.term import Node

from .graphs import record_graph
from .namespaces import AX, bind_all
from .record import PatientRecord
from .validate import ValidationIssue, ValidationReport

# Terms read per advice item, bound once (attribute lookup on a Namespace costs ~0.7 µs).
_CONDITION_STATEMENT = AX.ConditionStatement
_MEASUREMENT = AX.Measurement
_HAS_DIAGNOSIS = AX.hasDiagnosis
_TREATMENT_COURSE = AX.TreatmentCourse
_ABOUT_CONDITION = AX.aboutCondition
_AGE_YEARS = AX.ageYears
_PATIENT = AX.Patient
_ADVICE_KIND = AX.adviceKind
_ADVICE_NOTE = AX.adviceNote
_BASED_ON = AX.basedOn
_BECAUSE = AX.because
_COURSE_STATUS = AX.courseStatus
_DRUG = AX.drug
_DRUG_NAME = AX.drugName
_EFFECTIVE_DATE = AX.effectiveDate
_END_DATE = AX.endDate
_FOR_PATIENT = AX.forPatient
_IN_POPULATION = AX.inPopulation
_MEASURE = AX.measure
_MISSING_FACT = AX.missingFact
_OPTION = AX.option
_OUTCOME = AX.outcome
_OVER = AX.over
_PRESENCE = AX.presence
_START_DATE = AX.startDate
_SUPPRESSED_BY = AX.suppressedBy
_THERAPY = AX.therapy
_VALUE = AX.value
_TYPE = RDF.type

KIND_NAMES = {
    AX.kind_recommended: "recommended",
    AX.kind_preferred_over: "preferred-over",
    AX.kind_no_preference: "no-preference",
    AX.kind_against: "against",
    AX.kind_contraindicated: "contraindicated",
    AX.kind_caution: "caution",
    AX.kind_do_not_repeat: "do-not-repeat",
    AX.kind_needs_information: "needs-information",
}
KIND_ORDER = ["recommended", "preferred-over", "no-preference", "against", "contraindicated",
              "do-not-repeat", "caution", "needs-information"]
GUIDELINE_KEYS = {AX.acr_2019: "acr2019", AX.asas_eular_2022: "asas-eular2022"}
Statements = dict[URIRef, list[Node]]  # predicate -> objects, for one advice node
AdviceNodes = dict[URIRef, Statements]  # advice node -> its statements, for one patient


@dataclass(frozen=True)
class Ref:
    iri: str
    label: str


@dataclass(frozen=True)
class Source:
    id: str
    guideline: str  # acr2019 | asas-eular2022 | label | axspa-kg
    iri: str
    label: str
    # a label fact split by axspa-kg from a row of shared/reference/safety.tsv: that row's id (the
    # fact's own id is no row of the table)
    from_row: str | None = None


@dataclass(frozen=True)
class Fact:
    fact: str
    text: str


def _source_dict(source: Source) -> dict[str, str]:
    found = {"id": source.id, "guideline": source.guideline, "iri": source.iri, "label": source.label}
    if source.from_row is not None:
        found["from_row"] = source.from_row
    return found


@dataclass
class AdviceItem:
    kind: str
    therapy: Ref
    strength: str
    evidence: str
    recommendation: Source
    over: list[Ref] = field(default_factory=list)
    because: list[Fact] = field(default_factory=list)
    note: str | None = None
    iri: str = ""
    strength_rank: int = 9
    evidence_rank: int = 9

    def as_dict(self) -> dict[str, Any]:
        # written out rather than dataclasses.asdict, which deep-copies and cost ~0.1 ms an item
        data: dict[str, Any] = {
            "kind": self.kind,
            "therapy": {"iri": self.therapy.iri, "label": self.therapy.label},
            "strength": self.strength,
            "evidence": self.evidence,
            "recommendation": _source_dict(self.recommendation),
            "over": [{"iri": o.iri, "label": o.label} for o in self.over],
            "because": [{"fact": f.fact, "text": f.text} for f in self.because],
        }
        if self.note is not None:
            data["note"] = self.note
        return data


@dataclass
class NeedsInformation:
    fact: str
    why: str
    options: list[Source] = field(default_factory=list)
    because: list[Fact] = field(default_factory=list)
    # what the question rests on, as an advice item names it (a row, a label fact or a principle of
    # the project), with its grading: the questions named none (session-32 probe 2, F6)
    recommendation: Source | None = None
    strength: str = ""
    evidence: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"fact": self.fact, "why": self.why,
                                "options": [_source_dict(o) for o in self.options],
                                "because": [asdict(f) for f in self.because]}
        if self.recommendation is not None:
            data.update(recommendation=_source_dict(self.recommendation), strength=self.strength,
                        evidence=self.evidence)
        return data


@dataclass
class Conflict:
    advice: AdviceItem
    overridden_by: AdviceItem
    # How the blocked therapy and the blocking one relate when they differ, for the text report:
    # "keeps" (a continuation strategy keeps the contraindicated drug), "class" (a way of using a
    # drug class the label fact rules out as a whole), "" (the same therapy). Not in the JSON:
    # both therapies are there already.
    link: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"advice": self.advice.as_dict(), "overridden_by": self.overridden_by.as_dict()}


@dataclass
class Result:
    """Everything `recommend` returns; `as_dict()` is the stable JSON contract (see README)."""

    patient: str
    conforms: bool
    # the validation results, with what a SHACL report needs (`validation` is their JSON form)
    issues: tuple[ValidationIssue, ...]
    advice: list[AdviceItem] = field(default_factory=list)
    needs_information: list[NeedsInformation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    advice_statements: AdviceNodes = field(default_factory=dict, repr=False)
    # the advice items a label fact overrode (the conflicts), for the graph: written there as
    # ax:OverriddenAdvice, never as ax:Advice
    overridden_statements: AdviceNodes = field(default_factory=dict, repr=False)

    @property
    def validation(self) -> list[dict[str, str | None]]:
        """The validation results as the JSON contract gives them (severity, path, value, message)."""
        return [issue.as_dict() for issue in self.issues]

    @property
    def graph(self) -> Graph:
        """The advice graph, built on demand: the advice nodes shown to the user, with provenance;
        the overridden items (the conflicts), typed ax:OverriddenAdvice instead of ax:Advice and
        linked to what overrode them (ax:suppressedBy), so that a reader of ax:Advice never takes one
        for advice; and the record's validation warnings as a SHACL report ("warnings travel with
        the advice"). The JSON lists the same things (session-32 probe 2, F2 and F4)."""
        graph = record_graph()
        bind_all(graph)
        # Added in a fixed order: rdflib's N-Triples and JSON-LD writers follow the order a graph
        # was filled in, so the same advice would be written differently from run to run.
        # An overridden item's kind is written as ax:wouldBeKind, so that a reader who selects
        # advice by its kind (ax:adviceKind ax:kind_recommended) never picks it up either
        # (session-32 review F7).
        for nodes, advice_type, kind_link in ((self.advice_statements, AX.Advice, _ADVICE_KIND),
                                              (self.overridden_statements, AX.OverriddenAdvice, AX.wouldBeKind)):
            for node in sorted(nodes):
                statements = nodes[node]
                for p in sorted(statements):
                    for o in sorted(set(statements[p])):
                        if p == _TYPE and o == AX.Advice:
                            graph.add((node, p, advice_type))
                        else:
                            graph.add((node, kind_link if p == _ADVICE_KIND else p, o))
        if self.issues:
            graph += self.validation_graph()
        return graph

    def validation_graph(self) -> Graph:
        """The validation results in the SHACL vocabulary: for a record that failed, all that
        `-f jsonld|turtle` writes (a text report there could not be parsed as what was asked for);
        for a valid record with warnings, part of its advice graph. Each result names its focus
        node, constraint component, source shape (when the shape has an IRI: a property shape
        written as a blank node has nothing to point to outside the shapes graph) and result path,
        as SHACL asks; its message also says the field in the record's words."""
        from rdflib import BNode
        from rdflib.namespace import SH, XSD

        graph = Graph()
        graph.bind("sh", SH)
        report = URIRef(f"{self.patient}/validation-report") if self.patient else BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms, datatype=XSD.boolean)))
        severities = {"violation": SH.Violation, "warning": SH.Warning, "info": SH.Info}
        for index, found in enumerate(self.issues, start=1):
            issue = found.as_dict()
            node = URIRef(f"{report}/{index}") if isinstance(report, URIRef) else BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, severities[found.severity]))
            # the value is said in the message too when sh:value is a node (a measurement: "basdai = 11")
            said = None if isinstance(found.value_node, Literal) else issue["value"]
            graph.add((node, SH.resultMessage, Literal(validation_line({**issue, "value": said}))))
            # a record names every node with an IRI (a blank node is refused at load), whatever its scheme
            graph.add((node, SH.focusNode, URIRef(found.focus)))
            if found.component:
                graph.add((node, SH.sourceConstraintComponent, URIRef(found.component)))
            if found.shape:
                graph.add((node, SH.sourceShape, URIRef(found.shape)))
            if found.result_path:
                graph.add((node, SH.resultPath, URIRef(found.result_path)))
            if isinstance(found.value_node, URIRef | Literal):  # the value as found: typed literal, or IRI
                graph.add((node, SH.value, found.value_node))
        return graph

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "conforms": self.conforms,
            "validation": self.validation,
            "advice": [a.as_dict() for a in self.advice],
            "needs_information": [n.as_dict() for n in self.needs_information],
            "conflicts": [c.as_dict() for c in self.conflicts],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)

    def by_kind(self, kind: str) -> list[AdviceItem]:
        return [a for a in self.advice if a.kind == kind]

    def therapies(self, kind: str) -> set[str]:
        """IRIs of the therapies advised with `kind` (convenience for tests and callers)."""
        return {a.therapy.iri for a in self.advice if a.kind == kind}


# --------------------------------------------------------------------------------------------
class KbIndex:
    """Labels, sources and ranks read from the knowledge base once and remembered.

    Building a result looks up the same few hundred KB nodes for every patient; rdflib lookups
    cost microseconds each, which added up to tens of milliseconds a patient."""

    def __init__(self, kb: Graph) -> None:
        self.kb = kb
        self._labels: dict[Node, str] = {}
        self._sources: dict[Node, Source] = {}
        self._grading: dict[Node, tuple[str, str, int, int]] = {}
        self._what_to_do: dict[Node, str | None] = {}
        self._brands: dict[Node, dict[str, str]] = {}
        self._grading_nodes: dict[Node, tuple[Node | None, Node | None]] = {}

    def brands(self, drug: Node) -> dict[str, str]:
        """The drug's brand names (ax:brandName), keyed by their lower-cased form."""
        if drug not in self._brands:
            self._brands[drug] = {str(b).strip().lower(): str(b).strip() for b in self.kb.objects(drug, AX.brandName)}
        return self._brands[drug]

    def drug_name(self, drug: Node | None, recorded: Node | None) -> str:
        """The drug's label, after the brand the record names it by where it does ("Amjevita
        (adalimumab-atto)"), spelt as the knowledge base spells it: a clinician who wrote a brand
        should find it in the report (session-21 probe, item e: US biosimilars were shown only by
        their suffixed names). A label that already holds the brand ("etanercept (Benepali)") is
        shown alone; a name that resolved to no drug is shown as recorded."""
        if drug is None:
            return self.label(recorded)
        name = self.label(drug)
        if recorded is None:
            return name
        brand = self.brands(drug).get(str(recorded).strip().lower())
        if brand is None or brand.lower() in name.lower():
            return name
        return f"{brand} ({name})"

    def label(self, node: Node | None, fallback: Graph | None = None) -> str:
        if node is None:
            return ""
        if node in self._labels:
            return self._labels[node]
        for prop in (SKOS.prefLabel, RDFS.label):
            value = self.kb.value(node, prop)
            if value is not None:
                self._labels[node] = str(value)
                return str(value)
        if fallback is not None:
            for prop in (SKOS.prefLabel, RDFS.label):
                value = fallback.value(node, prop)
                if value is not None:
                    return str(value)
        text = str(node)
        return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def rank(self, concept: Node | None) -> int:
        notation = self.kb.value(concept, SKOS.notation) if concept is not None else None
        try:
            return int(str(notation))
        except (TypeError, ValueError):
            return 9

    def grading(self, basis: Node) -> tuple[str, str, int, int]:
        """(strength, evidence, strength rank, evidence rank) of a recommendation or label fact."""
        if basis not in self._grading:
            kb = self.kb
            if self.source(basis).guideline == "label":
                strength, evidence = self.grading_nodes(basis)
                # "strongest first" holds for label facts too: by severity (absolute 1, relative 2,
                # caution 3, skos:notation); an absolute contraindication came after relative ones
                # (session-32 probe 2, F5). A preferred-in fact has none and stays first, as before
                # (certolizumab pegol preferred in pregnancy; session-32 review F6).
                ranks = (self.rank(strength) if strength is not None else 0, 0)
            else:
                strength, evidence = kb.value(basis, AX.hasStrength), kb.value(basis, AX.hasEvidence)
                ranks = (self.rank(strength), self.rank(evidence))
            self._grading[basis] = (
                self.label(strength) if strength is not None else "not applicable",
                self.label(evidence) if evidence is not None else "not applicable",
                *ranks,
            )
        return self._grading[basis]

    def grading_nodes(self, fact: Node) -> tuple[Node | None, Node | None]:
        """A label fact's severity and kind as the knowledge base's concepts (ax:severity_absolute,
        ax:boxed_warning), which a label item carries in the graph as its ax:strength and
        ax:evidence; looked up once per fact, as grading() does for their labels."""
        if fact not in self._grading_nodes:
            self._grading_nodes[fact] = (self.kb.value(fact, AX.severity), self.kb.value(fact, AX.safetyKind))
        return self._grading_nodes[fact]

    def what_to_do(self, fact: Node) -> str | None:
        """A label fact's instruction (ax:whatToDo: test first, stop if it develops …), which
        the caution or contraindication item carries as its note."""
        if fact not in self._what_to_do:
            value = self.kb.value(fact, AX.whatToDo)
            self._what_to_do[fact] = str(value) if value is not None else None
        return self._what_to_do[fact]

    def is_continuation(self, therapy: Node) -> bool:
        """A strategy that keeps the patient's current drug (keep, taper, add to it), so that a
        contraindication of that drug holds it back (queries/rules/suppress-unsafe-continuation.rq)."""
        return any(self.kb.triples((therapy, RDF.type, AX.ContinuationStrategy)))

    def source(self, node: Node) -> Source:
        if node not in self._sources:
            kb = self.kb
            if (node, RDF.type, AX.LabelSafetyFact) in kb:
                guideline = "label"
            elif (node, RDF.type, AX.SafetyPrinciple) in kb:
                guideline = "axspa-kg"
            else:
                guideline = GUIDELINE_KEYS.get(kb.value(node, AX.fromGuideline), "unknown")  # type: ignore[arg-type]
            ident = kb.value(node, DCTERMS.identifier)
            row = kb.value(node, PROV.wasDerivedFrom) if guideline == "label" else None
            row_id = kb.value(row, DCTERMS.identifier) if row is not None else None
            self._sources[node] = Source(
                id=str(ident) if ident is not None else self.label(node).split()[0],
                guideline=guideline,
                iri=str(node),
                label=self.label(node),
                from_row=str(row_id) if row_id is not None else None,
            )
        return self._sources[node]


_INDEXES: weakref.WeakKeyDictionary[Graph, KbIndex] = weakref.WeakKeyDictionary()


def kb_index(kb: Graph) -> KbIndex:
    """One index per knowledge-base graph (kept as long as the graph lives)."""
    if kb not in _INDEXES:
        _INDEXES[kb] = KbIndex(kb)
    return _INDEXES[kb]


def _number(value: Node | None) -> str:
    """A measured value as a number, not as written: `7`, `7.0` and `"7.00"^^xsd:decimal` are one
    value and read the same, so two records that differ only in how they wrote it get the same
    advice (a Turtle record's whole number and a JSON record's decimal, say)."""
    python = value.toPython() if isinstance(value, Literal) else None
    if isinstance(python, bool) or not isinstance(python, Decimal | int | float):
        return str(value)  # not a number (a boolean, or a value the shapes warned about): as written
    if isinstance(python, float) and not math.isfinite(python):
        return str(value)
    number = python if isinstance(python, Decimal) else Decimal(repr(python))
    return "0" if number == 0 else format(number.normalize(), "f")


def describe_fact(node: Node, patient: Graph, kb: Graph | KbIndex) -> str:
    """A short phrase for a record fact a piece of advice rests on."""
    index = kb if isinstance(kb, KbIndex) else kb_index(kb)
    label = index.label
    if (node, _TYPE, _TREATMENT_COURSE) in patient:
        name = index.drug_name(patient.value(node, _DRUG), patient.value(node, _DRUG_NAME))
        status = label(patient.value(node, _COURSE_STATUS))
        outcomes = ", ".join(sorted(label(o) for o in patient.objects(node, _OUTCOME)))
        start, end = patient.value(node, _START_DATE), patient.value(node, _END_DATE)
        # an end date alone is marked as one ("ended 2019-01-01"), so it is not read as a start
        dates = f"{start}–{end}" if start and end else str(start) if start else f"ended {end}" if end else ""
        text = f"{name} course ({status}{', ' + dates if dates else ''})"
        return text + (f": {outcomes}" if outcomes else "")
    if (node, _TYPE, _CONDITION_STATEMENT) in patient:
        return f"{label(patient.value(node, _ABOUT_CONDITION))}: {label(patient.value(node, _PRESENCE))}"
    if (node, _TYPE, _PATIENT) in patient:  # a state worked out from the age (label-safety.rq)
        return f"age {patient.value(node, _AGE_YEARS)} years"
    if (node, _TYPE, _MEASUREMENT) in patient:
        date = patient.value(node, _EFFECTIVE_DATE)
        text = f"{label(patient.value(node, _MEASURE))} {_number(patient.value(node, _VALUE))}"
        return text + (f" on {date}" if date else "")
    if (None, _HAS_DIAGNOSIS, node) in patient:  # the record's diagnosis, a concept of the knowledge base
        return f"diagnosis: {label(node)}"
    return label(node)


def _first(statements: Statements, predicate: URIRef) -> Node | None:
    values = statements.get(predicate)
    return values[0] if values else None


def _item(node: URIRef, statements: Statements, patient: Graph, index: KbIndex,
          facts_seen: dict[Node, str]) -> AdviceItem:
    kind = KIND_NAMES.get(_first(statements, _ADVICE_KIND), "unknown")  # type: ignore[arg-type]
    basis = _first(statements, _BASED_ON)
    if basis is None:
        raise AssertionError(f"advice {node} has no source (ax:basedOn): every advice item must name one")
    therapy = _first(statements, _THERAPY)
    source = index.source(basis)
    strength, evidence, strength_rank, evidence_rank = index.grading(basis)
    facts: set[Fact] = set()
    for fact in statements.get(_BECAUSE, ()):
        if fact not in facts_seen:
            facts_seen[fact] = describe_fact(fact, patient, index)
        facts.add(Fact(str(fact), facts_seen[fact]))
    because = sorted(facts, key=lambda f: (f.text, f.fact))  # the IRI breaks ties: two identical scores
    because += [Fact(str(p), f"in population: {index.label(p)}")
                for p in sorted(set(statements.get(_IN_POPULATION, ())))]
    note: Node | str | None = _first(statements, _ADVICE_NOTE)
    if note is None and source.guideline == "label":
        note = index.what_to_do(basis)
    return AdviceItem(
        kind=kind,
        therapy=Ref(str(therapy), index.label(therapy)) if therapy is not None else Ref("", ""),
        strength=strength,
        evidence=evidence,
        recommendation=source,
        over=sorted((Ref(str(o), index.label(o)) for o in set(statements.get(_OVER, ()))), key=lambda r: r.label),
        because=because,
        note=str(note) if isinstance(note, Literal | str) else None,
        iri=str(node),
        strength_rank=strength_rank,
        evidence_rank=evidence_rank,
    )


def _needs_key(item: NeedsInformation) -> tuple:
    return (item.fact, item.why, [f.fact for f in item.because])


def _sort_key(item: AdviceItem) -> tuple:
    order = KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER)
    # the IRIs last: two items alike in all else (one caution per condition stated) keep one order on
    # every store
    return (order, item.strength_rank, item.evidence_rank, item.recommendation.id, item.therapy.label,
            item.therapy.iri, item.iri)


ADVICE_COLUMNS = ("patient", "advice", "p", "o")  # what advice_statements reads, in this order


def advice_statements(rows: Iterable[tuple[Node | None, ...]]) -> dict[URIRef, AdviceNodes]:
    """Rows of queries/report/advice-statements.rq (as tuples in ADVICE_COLUMNS order) grouped as
    patient -> advice node -> statements."""
    grouped: dict[URIRef, AdviceNodes] = {}
    for patient, advice, predicate, obj in rows:
        if not isinstance(advice, URIRef):
            continue
        nodes = grouped.get(patient)  # type: ignore[arg-type]
        if nodes is None:
            nodes = grouped[patient] = {}  # type: ignore[index]
        statements = nodes.get(advice)
        if statements is None:
            statements = nodes[advice] = {}
        values = statements.get(predicate)  # type: ignore[arg-type]
        if values is None:
            statements[predicate] = [obj]  # type: ignore[index, list-item]
        else:
            values.append(obj)  # type: ignore[arg-type]
    return grouped


ITEM_COLUMNS = ("patient", "advice", "kind", "basis", "therapy", "population")  # advice-items.rq
DETAIL_COLUMNS = ("advice", "p", "o")  # advice-details.rq
_ITEM_PREDICATES = (_ADVICE_KIND, _BASED_ON, _THERAPY, _IN_POPULATION)  # ITEM_COLUMNS[2:]


def advice_fields(items: Iterable[tuple[Node | None, ...]], details: Iterable[tuple[Node | None, ...]]
                  ) -> dict[URIRef, AdviceNodes]:
    """Rows of queries/report/advice-items.rq and advice-details.rq grouped as patient -> advice
    node -> statements, as advice_statements groups its rows (the same statements, bar PROV-O and
    types). A detail row of a node no item row named is dropped."""
    grouped: dict[URIRef, AdviceNodes] = {}
    nodes: dict[Node, Statements] = {}
    for patient, advice, *values in items:
        if not isinstance(advice, URIRef):
            continue
        statements = nodes.get(advice)
        if statements is None:
            statements = nodes[advice] = {}
            grouped.setdefault(patient, {})[advice] = statements  # type: ignore[arg-type]
        for predicate, value in zip(_ITEM_PREDICATES, values, strict=True):
            if value is not None:
                known = statements.get(predicate)
                if known is None:
                    statements[predicate] = [value]  # type: ignore[list-item]
                elif value not in known:  # a two-valued field repeats the others' values
                    known.append(value)  # type: ignore[arg-type]
    for advice, predicate, obj in details:
        statements = nodes.get(advice)  # type: ignore[arg-type]
        if statements is not None:
            statements.setdefault(predicate, []).append(obj)  # type: ignore[arg-type]
    return grouped


def _from_graph(derived: Graph, patient: URIRef) -> AdviceNodes:
    nodes: AdviceNodes = {}
    for node in derived.subjects(_FOR_PATIENT, patient):
        if isinstance(node, URIRef):
            statements: Statements = {}
            for p, o in derived.predicate_objects(node):
                statements.setdefault(p, []).append(o)  # type: ignore[arg-type]
            nodes[node] = statements
    return nodes


def _link(advice: AdviceItem, blocker: AdviceItem, index: KbIndex) -> str:
    """Why a contraindication of one therapy holds back advice on another (see Conflict.link)."""
    if advice.therapy.iri == blocker.therapy.iri:
        return ""
    # "against stopping the biologic" keeps it too: the strategy it favours is in `over` (AS-26)
    kept = any(index.is_continuation(URIRef(t.iri)) for t in (advice.therapy, *advice.over))
    return "keeps" if kept else "class"


def build_result(record: PatientRecord, report: ValidationReport, derived: AdviceNodes | Graph | None,
                 kb: Graph) -> Result:
    """The result for the record's patient from its advice nodes (or a derived graph holding them)."""
    result = Result(
        patient=str(record.patient),
        conforms=report.conforms,
        issues=report.issues,
    )
    if derived is None:
        return result
    nodes = _from_graph(derived, record.patient) if isinstance(derived, Graph) else derived
    index = kb_index(kb)
    facts_seen: dict[Node, str] = {}
    items = {n: _item(n, statements, record.graph, index, facts_seen) for n, statements in nodes.items()}
    blocked: set[URIRef] = set()
    for node, item in items.items():
        blockers = [b for b in nodes[node].get(_SUPPRESSED_BY, ()) if b in items]
        # "against" is only ever suppressed when it favours keeping a drug the record contraindicates
        # (queries/rules/suppress-unsafe-continuation.rq: AS-26 against stopping the biologic).
        if blockers and item.kind in ("recommended", "preferred-over", "no-preference", "against"):
            blocked.add(node)
            # A do-not-repeat item already explains itself; a label contraindication overriding a
            # guideline rule is a conflict the clinician must see, and so is a caution whose fact
            # says to stop the drug taken (the only caution that suppresses: lbl:tnfi_lupus_like).
            for blocker in sorted(set(blockers)):
                if items[blocker].kind in ("contraindicated", "caution"):  # type: ignore[index]
                    result.conflicts.append(Conflict(item, items[blocker], _link(item, items[blocker], index)))  # type: ignore[index,arg-type]
    result.conflicts.sort(key=lambda c: (_sort_key(c.advice), c.advice.therapy.iri, _sort_key(c.overridden_by)))
    result.advice = sorted((i for n, i in items.items() if n not in blocked), key=_sort_key)
    for node, item in items.items():
        if item.kind == "needs-information":
            need = _first(nodes[node], _MISSING_FACT)
            options = sorted({index.source(o) for o in nodes[node].get(_OPTION, ())}, key=lambda s: s.id)
            result.needs_information.append(
                NeedsInformation(fact=index.label(need), why=item.note or "", options=options, because=item.because,
                                 recommendation=item.recommendation, strength=item.strength, evidence=item.evidence)
            )
    # the note and facts break ties: one question per drug taken shares its fact (ni-pregnancy-trimester)
    result.needs_information.sort(key=_needs_key)
    # a label fact's item carries, in the graph as in the JSON, what the label says to do (unless
    # its rule wrote a note) and the fact's severity and kind as its strength and evidence:
    # provenance.rq copies the grading of recommendations only (session-32 probe 2, F3)
    graphed = {n: _with_label_grading(nodes[n], items[n], index) for n in nodes}
    result.advice_statements = {n: graphed[n] for n in nodes if n not in blocked}
    # the conflicts only, as the JSON lists them (an item a do-not-repeat item overrode is not one)
    in_conflict = {URIRef(c.advice.iri) for c in result.conflicts}
    result.overridden_statements = {n: graphed[n] for n in nodes if n in in_conflict}
    return result


def _with_label_grading(statements: Statements, item: AdviceItem, index: KbIndex) -> Statements:
    if item.recommendation.guideline != "label":
        return statements
    basis = _first(statements, _BASED_ON)
    extra: Statements = {}
    if _ADVICE_NOTE not in statements and item.note:
        extra[_ADVICE_NOTE] = [Literal(item.note, lang="en")]
    graded = index.grading_nodes(basis) if basis is not None else (None, None)
    for predicate, value in zip((AX.strength, AX.evidence), graded, strict=True):
        if value is not None and predicate not in statements:
            extra[predicate] = [value]
    return {**statements, **extra} if extra else statements


def grading_text(guideline: str, strength: str, evidence: str) -> str:
    """A label fact's kind and severity, or a recommendation's strength and evidence, as words
    that read right: "boxed warning, absolute"; "strong; evidence high"; an ungraded ASAS-EULAR
    statement's "grade not verified; level of evidence not verified"; a principle of the project's
    own, "not graded"."""
    if guideline == "axspa-kg":
        return "not graded"
    if guideline == "label":
        return evidence if strength == "not applicable" else f"{evidence}, {strength}"
    return f"{strength}; {evidence if evidence.startswith('level of evidence') else 'evidence ' + evidence}"


def validation_line(item: dict[str, Any]) -> str:
    """'path: message (value: …)', without saying the field twice: the shapes' messages start with
    the field they are about ("treatments.status: …") so that a raw SHACL report reads well too;
    the value only where the message does not already say it."""
    path, message = item["path"], item["message"]
    field_name = re.sub(r"\[\d+\]", "", path)
    # (a result about a whole item whose message names one of its fields already has that field in
    # its path: validate._path)
    if field_name and message.startswith(field_name + ": "):
        message = message[len(field_name) + 2:]
    value = item["value"]
    said = value and re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", message)  # as a word: "1" is not in "18"
    return f"{path}: {message}" + (f" (value: {value})" if value and not said else "")


def render_text(result: Result) -> str:
    """Advice for a clinician: grouped by kind, strongest first, each line with its source and facts."""
    lines = [f"axspa-kg advice for {result.patient}"]
    violations = [v for v in result.validation if v["severity"] == "violation"]
    warnings = [v for v in result.validation if v["severity"] != "violation"]
    if not result.conforms:
        lines.append("The record failed validation; no advice is given. Fix these fields:")
        lines += [f"  - {validation_line(v)}" for v in violations]
        return "\n".join(lines) + "\n"
    for w in warnings:
        lines.append(f"  note  {validation_line(w)}")
    titles = {
        "recommended": "RECOMMENDED", "preferred-over": "PREFERRED OVER ALTERNATIVES",
        "no-preference": "NO PREFERENCE WITHIN CLASS", "against": "RECOMMENDED AGAINST (guideline)",
        "contraindicated": "CONTRAINDICATED (label or record)", "do-not-repeat": "DO NOT REPEAT (record)",
        "caution": "CAUTION (label or record)", "needs-information": "NEEDS INFORMATION",
    }
    where_names = {"acr2019": "ACR 2019", "asas-eular2022": "ASAS-EULAR 2022", "label": "label fact",
                   "axspa-kg": "axspa-kg principle"}
    for kind in KIND_ORDER:
        items = result.by_kind(kind)
        if not items or kind == "needs-information":
            continue
        lines.append("")
        lines.append(titles[kind])
        # One line per source (recommendation, label fact ...): the therapies it names, then why.
        groups: dict[tuple, list[AdviceItem]] = {}
        for item in items:
            over = tuple(o.label for o in item.over) if kind != "no-preference" else ()
            key = (item.recommendation.guideline, item.recommendation.id, item.strength, item.evidence, over,
                   tuple(f.text for f in item.because), item.note)
            groups.setdefault(key, []).append(item)
        for (guideline, rec_id, strength, evidence, over, because, note), members in groups.items():
            names = ", ".join(dict.fromkeys(m.therapy.label for m in members))
            if kind == "no-preference":
                names = f"any of {names} (none preferred)"
            elif over:
                names += " over " + ", ".join(over)
            grading = grading_text(guideline, strength, evidence)
            row = members[0].recommendation.from_row
            shown_id = f"{rec_id} (split from row {row})" if row else rec_id
            lines.append(f"  {names}  [{where_names.get(guideline, guideline)} {shown_id}; {grading}]")
            if because:
                lines.append("      because: " + "; ".join(because))
            if note:
                lines.append(f"      note: {note}")
    if result.needs_information:
        lines.append("")
        lines.append(titles["needs-information"])
        for need in result.needs_information:
            lines.append(f"  {need.fact}: {need.why}")
            if need.because:  # the record's facts the question rests on ("their courses are listed below")
                lines.append("      because: " + "; ".join(f.text for f in need.because))
            if need.recommendation is not None:  # what the answer decides, as an advice line names it
                src = need.recommendation
                lines.append(f"      source: {where_names.get(src.guideline, src.guideline)} {src.id}; "
                             f"{grading_text(src.guideline, need.strength, need.evidence)}")
            for option in need.options:
                lines.append(f"      option: {option.id} {option.label}")
    if result.conflicts:
        lines.append("")
        lines.append("CONFLICTS (shown, not recommended)")
        # One line per rule and overriding fact, naming every therapy it holds back (as above);
        # the JSON keeps one conflict per advice item.
        clashes: dict[tuple, list[str]] = {}
        for conflict in result.conflicts:
            a, b = conflict.advice, conflict.overridden_by
            over = ", ".join(o.label for o in a.over) if a.over and a.kind != "no-preference" else ""
            # A strategy (keep, taper, do not stop the biologic) is held back for the drug it keeps;
            # a way of using a class (continuous NSAIDs) when a label fact rules out the class.
            kept = b.therapy.label if conflict.link == "keeps" else ""
            key = (a.kind, a.recommendation.id, over, conflict.link, kept, b.kind, b.recommendation.id,
                   b.recommendation.label)
            clashes.setdefault(key, []).append(a.therapy.label)
        for (kind, rec_id, over, link, kept, blocker_kind, blocker_id, blocker_label), names in clashes.items():
            held = ", ".join(dict.fromkeys(names)) + (f" over {over}" if over else "")
            but = {"keeps": f"it keeps {kept}, which is ", "class": "the whole drug class is "}.get(link, "")
            # a caution that blocks says to stop the drug taken
            blocking = "to be stopped under" if blocker_kind == "caution" else f"{blocker_kind} by"
            lines.append(f"  {held}: {kind} by {rec_id}, but {but}{blocking} {blocker_id} ({blocker_label})")
    return "\n".join(lines) + "\n"
