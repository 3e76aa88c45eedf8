"""Typed results and their renderings: JSON (the documented contract), text for clinicians,
and the advice graph itself (Turtle / JSON-LD) for pipelines.

Every advice item carries its provenance: the recommendation, label fact or safety principle it
rests on (with strength and evidence), and the facts of the record that triggered it. An item
without a source is a bug, and build_result refuses to produce one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Node

from .namespaces import AX, bind_all
from .record import PatientRecord
from .validate import ValidationReport

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


@dataclass(frozen=True)
class Fact:
    fact: str
    text: str


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
        data = asdict(self)
        for private in ("iri", "strength_rank", "evidence_rank"):
            data.pop(private)
        if self.note is None:
            data.pop("note")
        return data


@dataclass
class NeedsInformation:
    fact: str
    why: str
    options: list[Source] = field(default_factory=list)
    because: list[Fact] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Conflict:
    advice: AdviceItem
    overridden_by: AdviceItem

    def as_dict(self) -> dict[str, Any]:
        return {"advice": self.advice.as_dict(), "overridden_by": self.overridden_by.as_dict()}


@dataclass
class Result:
    """Everything `recommend` returns; `as_dict()` is the stable JSON contract (see README)."""

    patient: str
    conforms: bool
    validation: list[dict[str, str | None]]
    advice: list[AdviceItem] = field(default_factory=list)
    needs_information: list[NeedsInformation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    graph: Graph | None = None

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
def _label(kb: Graph, node: Node | None, fallback: Graph | None = None) -> str:
    if node is None:
        return ""
    for graph in (kb, fallback):
        if graph is None:
            continue
        for prop in (SKOS.prefLabel, RDFS.label):
            value = graph.value(node, prop)
            if value is not None:
                return str(value)
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _rank(kb: Graph, concept: Node | None) -> int:
    notation = kb.value(concept, SKOS.notation) if concept is not None else None
    try:
        return int(str(notation))
    except (TypeError, ValueError):
        return 9


def _source(kb: Graph, node: Node) -> Source:
    if (node, RDF.type, AX.LabelSafetyFact) in kb:
        guideline = "label"
    elif (node, RDF.type, AX.SafetyPrinciple) in kb:
        guideline = "axspa-kg"
    else:
        guideline = GUIDELINE_KEYS.get(kb.value(node, AX.fromGuideline), "unknown")  # type: ignore[arg-type]
    ident = kb.value(node, DCTERMS.identifier)
    return Source(
        id=str(ident) if ident is not None else _label(kb, node).split()[0],
        guideline=guideline,
        iri=str(node),
        label=_label(kb, node),
    )


def describe_fact(node: Node, patient: Graph, kb: Graph) -> str:
    """A short phrase for a record fact a piece of advice rests on."""
    if (node, RDF.type, AX.TreatmentCourse) in patient:
        drug = patient.value(node, AX.drug) or patient.value(node, AX.drugName)
        status = _label(kb, patient.value(node, AX.courseStatus))
        outcomes = ", ".join(sorted(_label(kb, o) for o in patient.objects(node, AX.outcome)))
        dates = "–".join(str(d) for d in (patient.value(node, AX.startDate), patient.value(node, AX.endDate)) if d)
        text = f"{_label(kb, drug)} course ({status}{', ' + dates if dates else ''})"
        return text + (f": {outcomes}" if outcomes else "")
    if (node, RDF.type, AX.ConditionStatement) in patient:
        return f"{_label(kb, patient.value(node, AX.aboutCondition))}: {_label(kb, patient.value(node, AX.presence))}"
    if (node, RDF.type, AX.Measurement) in patient:
        date = patient.value(node, AX.effectiveDate)
        text = f"{_label(kb, patient.value(node, AX.measure))} {patient.value(node, AX.value)}"
        return text + (f" on {date}" if date else "")
    return _label(kb, node)


def _item(node: URIRef, derived: Graph, patient: Graph, kb: Graph) -> AdviceItem:
    kind = KIND_NAMES.get(derived.value(node, AX.adviceKind), "unknown")  # type: ignore[arg-type]
    basis = derived.value(node, AX.basedOn)
    if basis is None:
        raise AssertionError(f"advice {node} has no source (ax:basedOn): every advice item must name one")
    therapy = derived.value(node, AX.therapy)
    source = _source(kb, basis)
    if source.guideline == "label":
        strength_node, evidence_node = kb.value(basis, AX.severity), kb.value(basis, AX.safetyKind)
    else:
        strength_node, evidence_node = kb.value(basis, AX.hasStrength), kb.value(basis, AX.hasEvidence)
    facts = sorted({Fact(str(f), describe_fact(f, patient, kb)) for f in derived.objects(node, AX.because)},
                   key=lambda f: f.text)
    facts += [Fact(str(p), f"in population: {_label(kb, p)}") for p in sorted(derived.objects(node, AX.inPopulation))]
    note = derived.value(node, AX.adviceNote)
    return AdviceItem(
        kind=kind,
        therapy=Ref(str(therapy), _label(kb, therapy)) if therapy is not None else Ref("", ""),
        strength=_label(kb, strength_node) if strength_node is not None else "not applicable",
        evidence=_label(kb, evidence_node) if evidence_node is not None else "not applicable",
        recommendation=source,
        over=sorted((Ref(str(o), _label(kb, o)) for o in derived.objects(node, AX.over)), key=lambda r: r.label),
        because=facts,
        note=str(note) if isinstance(note, Literal) else None,
        iri=str(node),
        strength_rank=_rank(kb, strength_node) if source.guideline != "label" else 0,
        evidence_rank=_rank(kb, evidence_node) if source.guideline != "label" else 0,
    )


def _sort_key(item: AdviceItem) -> tuple:
    order = KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER)
    return (order, item.strength_rank, item.evidence_rank, item.recommendation.id, item.therapy.label)


def build_result(record: PatientRecord, report: ValidationReport, derived: Graph | None, kb: Graph) -> Result:
    """Read the advice nodes for the record's patient out of the derived graph."""
    result = Result(
        patient=str(record.patient),
        conforms=report.conforms,
        validation=[i.as_dict() for i in report.issues],
    )
    if derived is None:
        return result
    nodes = [n for n in derived.subjects(AX.forPatient, record.patient) if isinstance(n, URIRef)]
    items = {n: _item(n, derived, record.graph, kb) for n in nodes}
    blocked: set[URIRef] = set()
    for node, item in items.items():
        blockers = [b for b in derived.objects(node, AX.suppressedBy) if b in items]
        if blockers and item.kind in ("recommended", "preferred-over", "no-preference"):
            blocked.add(node)
            # A do-not-repeat item already explains itself; a label contraindication overriding a
            # guideline rule is a conflict the clinician must see.
            for blocker in sorted(blockers):
                if items[blocker].kind == "contraindicated":  # type: ignore[index]
                    result.conflicts.append(Conflict(item, items[blocker]))  # type: ignore[index]
    result.advice = sorted((i for n, i in items.items() if n not in blocked), key=_sort_key)
    for node, item in items.items():
        if item.kind == "needs-information":
            need = derived.value(node, AX.missingFact)
            options = sorted({_source(kb, o) for o in derived.objects(node, AX.option)}, key=lambda s: s.id)
            result.needs_information.append(
                NeedsInformation(fact=_label(kb, need), why=item.note or "", options=options, because=item.because)
            )
    result.needs_information.sort(key=lambda n: n.fact)
    graph = Graph()
    bind_all(graph)
    for node in nodes:
        if node in blocked:
            continue
        for p, o in derived.predicate_objects(node):
            graph.add((node, p, o))
    result.graph = graph
    return result


def render_text(result: Result) -> str:
    """Advice for a clinician: grouped by kind, strongest first, each line with its source and facts."""
    lines = [f"axspa-kg advice for {result.patient}"]
    violations = [v for v in result.validation if v["severity"] == "violation"]
    warnings = [v for v in result.validation if v["severity"] != "violation"]
    if not result.conforms:
        lines.append("The record failed validation; no advice is given. Fix these fields:")
        lines += [f"  - {v['path']}: {v['message']}" + (f" (value: {v['value']})" if v["value"] else "")
                  for v in violations]
        return "\n".join(lines) + "\n"
    for w in warnings:
        lines.append(f"  note  {w['path']}: {w['message']}")
    titles = {
        "recommended": "RECOMMENDED", "preferred-over": "PREFERRED OVER ALTERNATIVES",
        "no-preference": "NO PREFERENCE WITHIN CLASS", "against": "RECOMMENDED AGAINST (guideline)",
        "contraindicated": "CONTRAINDICATED (label)", "do-not-repeat": "DO NOT REPEAT (record)",
        "caution": "CAUTION (label)", "needs-information": "NEEDS INFORMATION",
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
            lines.append(f"  {names}  [{where_names.get(guideline, guideline)} {rec_id}; {strength}; "
                         f"evidence {evidence}]")
            if because:
                lines.append("      because: " + "; ".join(because))
            if note:
                lines.append(f"      note: {note}")
    if result.needs_information:
        lines.append("")
        lines.append(titles["needs-information"])
        for need in result.needs_information:
            lines.append(f"  {need.fact}: {need.why}")
            for option in need.options:
                lines.append(f"      option: {option.id} {option.label}")
    if result.conflicts:
        lines.append("")
        lines.append("CONFLICTS (shown, not recommended)")
        for conflict in result.conflicts:
            a, b = conflict.advice, conflict.overridden_by
            lines.append(f"  {a.therapy.label}: {a.kind} by {a.recommendation.id}, but {b.kind} by "
                         f"{b.recommendation.id} ({b.recommendation.label})")
    return "\n".join(lines) + "\n"
