"""FHIR R4 JSON in: one patient's Bundle read as a plain axspa-kg record (see README, "FHIR R4").

Why a translation to the plain record rather than RDF of its own: everything after it (the record
checks, the shapes, the drug names resolved against the knowledge base, the messages naming
fields) then works on FHIR input exactly as on JSON, and no second vocabulary has to be kept in
step with the first.

What is read: the Bundle's one Patient (`id`, `gender`, `birthDate`, and the disease state in an
axspa-kg extension), its Conditions (the diagnosis, and every other condition with a status from
`verificationStatus` and `clinicalStatus`), its MedicationStatements (courses: the drug, the
period, the status; the outcome in an axspa-kg extension or as an axspa-kg code in `statusReason`,
the maximal dose in an extension) and its Observations with a quantity (measurements). Codes are
matched against the codes the knowledge base carries (SNOMED CT, ICD-10-CM and WHO ICD-10 for
conditions, LOINC for measures, RxNorm for drugs) and against the axspa-kg ids themselves (system
`https://w3id.org/axspa-kg/ontology` for conditions, measures and outcomes,
`https://w3id.org/axspa-kg/drug/` for drugs); nothing is matched by likeness.

What is not read is never dropped without a word: a resource the rules have no use for (a
condition or measure the knowledge base does not know, a lab result with no quantity) is listed as
a warning with the entry's position (resources of a kind never read, and lab results of one code,
summed up in one line each). A drug the guidelines may concern is never left out: a medication
whose codes and text name different drugs, or an order, administration or dispense of a known drug
(it does not say how the course went) is refused, and one that names no drug the knowledge base
knows but carries an ATC code of a class the guidelines cover is kept under its own name, so that
validation refuses the record naming it: a failed adalimumab course read as nothing would let
adalimumab be recommended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from .errors import RecordLoadError
from .namespaces import AX, DRUG

if TYPE_CHECKING:  # (validate reads record, which reads this module)
    from .validate import ValidationReport

# Code systems, by their FHIR URI and the HL7 OID some exports use instead.
SNOMED = ("http://snomed.info/sct", "urn:oid:2.16.840.1.113883.6.96")
ICD10CM = ("http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90")
ICD10 = ("http://hl7.org/fhir/sid/icd-10",)  # WHO ICD-10
LOINC = ("http://loinc.org", "urn:oid:2.16.840.1.113883.6.1")
RXNORM_SYSTEM = ("http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.88")
ATC_SYSTEM = ("http://www.whocc.no/atc",)
UCUM = "http://unitsofmeasure.org"
AXSPA_SYSTEM = str(AX).rstrip("#")  # https://w3id.org/axspa-kg/ontology: conditions, measures, outcomes by id
DRUG_SYSTEM = str(DRUG)  # https://w3id.org/axspa-kg/drug/: drugs by id
EXTENSION = "https://w3id.org/axspa-kg/fhir/StructureDefinition/"
DISEASE_STATE = EXTENSION + "disease-state"
TREATMENT_OUTCOME = EXTENSION + "treatment-outcome"
MAXIMAL_DOSE = EXTENSION + "maximal-dose"
_EXTENSION_VALUES = {DISEASE_STATE: "valueCode", TREATMENT_OUTCOME: "valueCode", MAXIMAL_DOSE: "valueBoolean"}

# The record's values for the three diagnoses (the shipped context maps them to these concepts).
DIAGNOSES = {AX.ankylosing_spondylitis: "AS", AX.nr_axspa: "nr-axSpA", AX.axial_spa: "axSpA"}
# FHIR Condition statuses -> the record's presence. A refuted condition is stated absent; one not
# yet confirmed is unknown (so the reasoner asks). One resolved or inactive may or may not still
# count (a past IBD does, a pregnancy of 2019 or a treated infection does not), so it is unknown as
# well, with a note saying why; one in remission is present (the disease is there, quiet).
_UNSETTLED = {"unconfirmed", "provisional", "differential"}
_PAST = {"resolved", "inactive"}
_HOLDING = {"active", "recurrence", "relapse", "remission"}
_CLINICAL = _HOLDING | _PAST
_VERIFICATION = _UNSETTLED | {"confirmed", "refuted", "entered-in-error"}
# MedicationStatement.status -> course status; the others say the drug was not taken.
_COURSE_STATUS = {"active": "ongoing", "on-hold": "ongoing", "completed": "stopped", "stopped": "stopped"}
_NOT_TAKEN = {"not-taken", "intended", "entered-in-error"}
_MEDICATION_STATUSES = set(_COURSE_STATUS) | _NOT_TAKEN | {"unknown"}
# Resources that name a drug without saying how a course went (ordered, given, handed out).
_MEDICATION_EVENTS = ("MedicationRequest", "MedicationAdministration", "MedicationDispense")
_OBSERVATION_KEPT = {"final", "amended", "corrected"}
# Units the record's measures are in (README), lower-cased; mg/dL CRP is converted (x10, exact).
_UNITS = {"crp": {"mg/l"}, "esr": {"mm/h", "mm/hr"}}
_CONVERTED = {("crp", "mg/dl"): Decimal(10)}
# A FHIR date or dateTime (the date part is what the record keeps).
_DATE = re.compile(r"^([0-9]{4})(-([0-9]{2})(-([0-9]{2})(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
                   r"(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$")
# Words of a medication's text that make it a local form (a gel, eye drops ...): the guidelines'
# courses are systemic, so such a product is not read as a course of the drug it holds.
_LOCAL_FORM = re.compile(r"\b(gel|cream|ointment|topical|patch|plaster|ophthalmic|eye|drops?|inhal\w*|nasal|spray|"
                         r"lotion|foam|enema|otic|ear|mouthwash|shampoo|transdermal|cutaneous)\b", re.IGNORECASE)
# At most this many entries are named in a warning that sums up resources of one kind not read.
_NAMED = 5


def is_fhir(document: object) -> bool:
    """Whether a JSON document is a FHIR resource (FHIR JSON always names its resourceType)."""
    return isinstance(document, dict) and isinstance(document.get("resourceType"), str)


def patient_without_id(document: dict[str, Any]) -> bool:
    """Whether a Bundle's Patient has no id (a cohort needs one a patient; a Bundle with no Patient
    at all is refused with its own message when read)."""
    entries = document.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            return not isinstance(resource.get("id"), str)
    return False


@dataclass(frozen=True)
class FhirOrigin:
    """Where a record read from a Bundle came from: the Bundle path of each record field or item
    ("treatments[2]" -> "entry[7]"), and what was not read, as (path, value, message)."""

    where: dict[str, str]
    left_out: tuple[tuple[str, str, str], ...]

    def explain(self, report: ValidationReport, focus: str) -> ValidationReport:
        """The report in the Bundle's terms: each path names the entry it is about (the record field
        after it: "entry[7].outcome"), and every resource not read is a warning."""
        from .validate import ValidationIssue, ValidationReport

        issues = [replace(issue, path=self.path(issue.path)) for issue in report.issues]
        issues += [ValidationIssue("warning", path, value, message, focus) for path, value, message in self.left_out]
        return ValidationReport(report.conforms, tuple(issues))

    def path(self, path: str) -> str:
        head, dot, rest = path.partition(".")
        if head in self.where:
            return self.where[head] + (dot + rest if rest else "")
        return path


@dataclass
class Converted:
    """A FHIR Bundle as a plain record, and where its parts came from."""

    record: dict[str, Any]
    origin: FhirOrigin


@dataclass(frozen=True)
class CodeIndex:
    """The knowledge base's codes: conditions and measures by system and code."""

    snomed: dict[str, URIRef]
    icd10cm: dict[str, list[URIRef]]  # code prefix without its dot -> concepts (ranges spelt out)
    icd10: dict[str, list[URIRef]]  # the same, WHO ICD-10
    loinc: dict[str, URIRef]
    labels: dict[str, URIRef]  # lower-cased label or alternative label -> condition or measure
    concepts: frozenset[URIRef]  # conditions and measures (ids under AXSPA_SYSTEM)
    measures: frozenset[URIRef]
    outcomes: frozenset[str]  # the response types' ids (the record's outcome values)
    broader: dict[URIRef, frozenset[URIRef]]  # concept -> what it falls under (itself included)
    atc_classes: frozenset[str]  # ATC level-4 groups (5 characters) of the knowledge base's drugs


def code_index(kb: Graph) -> CodeIndex:
    """Build the index once per knowledge base (record._per_kb caches it)."""
    kinds = {AX.Condition} | set(kb.transitive_subjects(RDFS.subClassOf, AX.Condition))
    concepts = {s for kind in kinds for s in kb.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    measures = {s for s in kb.subjects(RDF.type, AX.Measure) if isinstance(s, URIRef)}
    concepts |= measures | set(DIAGNOSES)
    snomed = {str(code): s for s, code in kb.subject_objects(AX.snomedCt) if s in concepts}
    loinc = {str(code): s for s, code in kb.subject_objects(AX.loinc) if s in measures}

    def icd(prop: URIRef) -> dict[str, list[URIRef]]:
        out: dict[str, list[URIRef]] = {}
        for concept, value in kb.subject_objects(prop):
            if concept in concepts:
                for prefix in _icd_prefixes(str(value)):
                    out.setdefault(prefix, []).append(concept)  # type: ignore[arg-type]
        return out

    labels: dict[str, URIRef] = {}
    for concept in sorted(concepts):
        for prop in (RDFS.label, SKOS.altLabel):
            for label in kb.objects(concept, prop):
                labels.setdefault(str(label).strip().lower(), concept)
    outcomes = frozenset(str(s).removeprefix(str(AX)) for s in kb.subjects(RDF.type, AX.ResponseType)
                         if str(s).startswith(str(AX)))
    broader = {c: _closure(kb, c) for c in concepts}
    atc = frozenset(str(code)[:5] for code in kb.objects(None, AX.atcCode) if len(str(code)) >= 5)
    return CodeIndex(snomed, icd(AX.icd10cm), icd(AX.icd10), loinc, labels, frozenset(concepts),
                     frozenset(measures), outcomes, broader, atc)


def _closure(kb: Graph, concept: URIRef) -> frozenset[URIRef]:
    """What `concept` falls under, at any distance, itself included (the ontology states only the
    nearest step)."""
    seen, pending = {concept}, [concept]
    while pending:
        for broader in kb.objects(pending.pop(), AX.fallsUnder):
            if isinstance(broader, URIRef) and broader not in seen:
                seen.add(broader)
                pending.append(broader)
    return frozenset(seen)


def _icd_prefixes(value: str) -> list[str]:
    """ICD-10 codes as the knowledge base writes them ("K50", "H20.02-", "A15-A19") as prefixes a
    patient's code must start with, without the dot (exports write "K50.90" and "K5090"): a
    trailing dash means "and its subcodes", a range between two categories of one letter stands for
    each category in it."""
    value = value.strip().upper()
    if value.endswith("-"):
        value = value[:-1]
    found = re.fullmatch(r"([A-Z])([0-9]{2})-([A-Z])([0-9]{2})", value)
    if found and found.group(1) == found.group(3):
        letter, low, high = found.group(1), int(found.group(2)), int(found.group(4))
        return [f"{letter}{n:02d}" for n in range(low, high + 1)]
    return [value.replace(".", "")] if re.fullmatch(r"[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?", value) else []


def _most_specific(found: list[URIRef], index: CodeIndex) -> URIRef | None:
    """One concept for several a code matches equally well: the one that falls under all the
    others (Crohn's disease, not IBD, for K50), else the narrowest concept they all fall under
    (anterior uveitis for H20.0, which acute anterior uveitis and iritis both carry)."""
    unique = sorted(set(found))
    for concept in unique:
        if all(other in index.broader.get(concept, ()) for other in unique):
            return concept
    shared = set.intersection(*(set(index.broader.get(c, {c})) for c in unique))
    narrowest = [c for c in shared if all(o in index.broader.get(c, ()) for o in shared)]
    return narrowest[0] if len(narrowest) == 1 else None


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__)


def _list(value: object, path: str) -> list[Any]:
    """A FHIR array (absent: empty); anything else is refused, naming the field."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordLoadError(f"{path}: expected a list, got {_json_kind(value)}")
    return value


def _object(value: object, path: str) -> dict[str, Any] | None:
    """A FHIR complex value (absent: None); anything else is refused, naming the field."""
    if value is None or isinstance(value, dict):
        return value
    raise RecordLoadError(f"{path}: expected an object, got {_json_kind(value)}")


def _text(value: object, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordLoadError(f"{path}: expected text, got {_json_kind(value)}")


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None


def _codeable(value: object, path: str) -> tuple[list[Coding], str | None]:
    """A CodeableConcept's codings and text, every part checked for its JSON type."""
    concept = _object(value, path)
    if concept is None:
        return [], None
    codings = []
    for number, coding in enumerate(_list(concept.get("coding"), f"{path}.coding"), start=1):
        where = f"{path}.coding[{number}]"
        item = _object(coding, where) or {}
        codings.append(Coding(_text(item.get("system"), f"{where}.system"), _text(item.get("code"), f"{where}.code"),
                              _text(item.get("display"), f"{where}.display")))
    return codings, _text(concept.get("text"), f"{path}.text")


def _describe(codings: list[Coding], text: str | None) -> str:
    """A CodeableConcept as a person would name it in a message."""
    shown = text or next((c.display for c in codings if c.display), None)
    codes = ", ".join(f"{c.system or '?'}|{c.code or '?'}" for c in codings)
    return f"{shown!r} ({codes})" if shown and codes else repr(shown) if shown else codes or "no code"


def concept_of(codings: list[Coding], text: str | None, index: CodeIndex) -> URIRef | None:
    """The condition or measure a CodeableConcept names: an axspa-kg id, then a SNOMED CT or LOINC
    code, then an ICD-10-CM (or WHO ICD-10) code by the longest of the knowledge base's codes it
    starts with, then the text or a display that is a label of the knowledge base (exactly,
    ignoring case)."""
    for kind in ((AXSPA_SYSTEM,), SNOMED, LOINC, ICD10CM, ICD10):
        for coding in codings:
            if coding.system not in kind or not coding.code:
                continue
            code = coding.code.strip()
            if kind == (AXSPA_SYSTEM,) and URIRef(str(AX) + code) in index.concepts:
                return URIRef(str(AX) + code)
            if kind == SNOMED and code in index.snomed:
                return index.snomed[code]
            if kind == LOINC and code in index.loinc:
                return index.loinc[code]
            if kind in (ICD10CM, ICD10):
                table = index.icd10cm if kind == ICD10CM else index.icd10
                bare = code.upper().replace(".", "")
                for length in range(len(bare), 2, -1):
                    if bare[:length] in table:
                        return _most_specific(table[bare[:length]], index)
    for shown in [text, *(c.display for c in codings)]:
        if shown and shown.strip().lower() in index.labels:
            return index.labels[shown.strip().lower()]
    return None


def _status_code(value: object, path: str) -> str | None:
    """A status given as a CodeableConcept (FHIR R4), or as a bare code (STU3 wrote them so)."""
    if isinstance(value, str):
        return value
    codings, _ = _codeable(value, path)
    return next((c.code for c in codings if c.code), None)


def _date(value: object, path: str) -> str | None:
    """A FHIR date or dateTime as the record's YYYY-MM-DD (its date part, as written, whatever the
    time zone); a partial date (1980, 1980-04) cannot be one, so it is refused, naming the field."""
    if value is None:
        return None
    found = _DATE.match(value) if isinstance(value, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {value!r} is not a FHIR date")
    if not found.group(5):
        raise RecordLoadError(f"{path}: {value!r} gives no day; the record needs a full date (YYYY-MM-DD)")
    day = value[:10]
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise RecordLoadError(f"{path}: {value!r} is not a date of the calendar") from exc
    return day


def age_on(birth_date: object, today: date, path: str) -> int:
    """Whole years on `today`. A birth date without a day counts from the latest day it allows
    (the youngest the patient can be), so that no minor is read as an adult."""
    found = _DATE.match(birth_date) if isinstance(birth_date, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {birth_date!r} is not a FHIR date")
    year = int(found.group(1))
    month = int(found.group(3)) if found.group(3) else 12
    day = int(found.group(5)) if found.group(5) else 31
    if found.group(5):
        try:
            date(year, month, day)
        except ValueError as exc:
            raise RecordLoadError(f"{path}: {birth_date!r} is not a date of the calendar") from exc
    if (year, month, day) > (today.year, today.month, today.day) and found.group(5):
        raise RecordLoadError(f"{path}: {birth_date!r} is after today")
    if not 1 <= month <= 12:
        raise RecordLoadError(f"{path}: {birth_date!r} is not a date of the calendar")
    return today.year - year - ((today.month, today.day) < (month, day))


def _extensions(resource: dict[str, Any], url: str, path: str) -> list[Any]:
    """The values of an axspa-kg extension, each checked for the value[x] it must use."""
    wanted = _EXTENSION_VALUES[url]
    values = []
    for number, extension in enumerate(_list(resource.get("extension"), f"{path}.extension"), start=1):
        where = f"{path}.extension[{number}]"
        item = _object(extension, where) or {}
        if item.get("url") != url:
            continue
        value = item.get(wanted)
        kind = bool if wanted == "valueBoolean" else str
        if not isinstance(value, kind):
            given = next((k for k in item if k.startswith("value")), None)
            raise RecordLoadError(f"{where}: the {url.rsplit('/', 1)[1]} extension takes a {wanted}"
                                  + (f", not {given}" if given and given != wanted else f", not {_json_kind(value)}"))
        values.append(value)
    return values


def _notes(resource: dict[str, Any], path: str) -> str | None:
    kept = []
    for number, note in enumerate(_list(resource.get("note"), f"{path}.note"), start=1):
        text = _text((_object(note, f"{path}.note[{number}]") or {}).get("text"), f"{path}.note[{number}].text")
        if text and text.strip():
            kept.append(text.strip())
    return " ".join(kept) or None


def _norm(text: str) -> str:
    """A name as its words, lower-cased ("Depo-Medrol" and "depo medrol" are one)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class DrugNames:
    """The knowledge base's drug names and codes (record.drug_index), for finding them in a text."""

    exact: dict[str, URIRef]  # lower-cased name or code -> drug (what the record's `drug` resolves)
    words: dict[str, tuple[str, URIRef]]  # the name as words -> (a name `exact` holds, drug)
    biosimilar_of: dict[URIRef, URIRef]

    @classmethod
    def build(cls, drugs: dict[str, URIRef], biosimilar_of: dict[URIRef, URIRef]) -> DrugNames:
        words: dict[str, tuple[str, URIRef]] = {}
        for key, drug in sorted(drugs.items()):
            normal = _norm(key)
            if normal and not normal.replace(" ", "").isdigit() and "://" not in key:  # no codes, no IRIs
                words.setdefault(normal, (key, drug))
        return cls(dict(drugs), words, dict(biosimilar_of))

    def named_in(self, text: str) -> dict[URIRef, str]:
        """The drugs named word for word in `text`, each with the name found; a name inside a
        longer one found at the same place gives way ("methylprednisolone" in "methylprednisolone
        acetate", "adalimumab" in "adalimumab-atto")."""
        tokens = re.findall(r"[a-z0-9]+", text.lower())
        spans = []
        for n in range(1, 5):
            for start in range(len(tokens) - n + 1):
                found = self.words.get(" ".join(tokens[start:start + n]))
                if found:
                    spans.append((start, start + n, found))
        kept = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0])
                                            for o in spans)]
        return {drug: key for _, _, (key, drug) in kept}

    def without_reference_products(self, drugs: set[URIRef]) -> set[URIRef]:
        """A biosimilar named beside its reference product is the product meant."""
        return drugs - {self.biosimilar_of[d] for d in drugs if d in self.biosimilar_of}


def biosimilars(kb: Graph) -> dict[URIRef, URIRef]:
    """Biosimilar -> its reference product."""
    return {s: o for s, o in kb.subject_objects(AX.biosimilarOf) if isinstance(s, URIRef) and isinstance(o, URIRef)}


@dataclass
class _Summary:
    """Resources of one kind not read, summed up in one warning."""

    what: str
    why: str
    paths: list[str]


class _Reader:
    """One Bundle, read entry by entry."""

    def __init__(self, bundle: dict[str, Any], index: CodeIndex, drugs: DrugNames, today: date) -> None:
        self.index, self.drugs, self.today = index, drugs, today
        self.left_out: list[tuple[str, str, str]] = []
        self.summaries: dict[tuple[str, str], _Summary] = {}
        self.where: dict[str, str] = {}  # record path -> Bundle path
        self.resources: list[tuple[str, dict[str, Any], str | None]] = []  # (path, resource, fullUrl)
        for number, entry in enumerate(_list(bundle.get("entry"), "entry"), start=1):
            path = f"entry[{number}]"
            item = _object(entry, path) or {}
            resource = _object(item.get("resource"), f"{path}.resource")
            if resource is None:  # (a transaction response's entry may hold none)
                self.sum_up("entries", "they hold no resource", path)
                continue
            if not isinstance(resource.get("resourceType"), str):
                raise RecordLoadError(f"{path}.resource: expected a FHIR resource (an object with a resourceType)")
            self.resources.append((path, resource, _text(item.get("fullUrl"), f"{path}.fullUrl")))

    def leave_out(self, path: str, resource: dict[str, Any], why: str) -> None:
        name = f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else str(
            resource.get("resourceType"))
        self.left_out.append((path, name, f"not read: {why}"))

    def sum_up(self, what: str, why: str, path: str) -> None:
        self.summaries.setdefault((what, why), _Summary(what, why, [])).paths.append(path)

    def summed_up(self) -> list[tuple[str, str, str]]:
        out = []
        for summary in self.summaries.values():
            paths = summary.paths
            named = ", ".join(paths[:_NAMED]) + (f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else "")
            out.append((paths[0], f"{summary.what} ×{len(paths)}",
                        f"not read: {len(paths)} {summary.what} ({named}): {summary.why}"))
        return out

    def read(self) -> dict[str, Any]:
        patients = [(p, r, u) for p, r, u in self.resources if r["resourceType"] == "Patient"]
        if not patients:
            raise RecordLoadError("entry: the Bundle holds no Patient resource")
        if len(patients) > 1:
            raise RecordLoadError(f"entry: the Bundle holds {len(patients)} Patient resources; give one patient "
                                  "a Bundle (`axspa cohort` reads many Bundles, one a line of a .jsonl file)")
        path, patient, url = patients[0]
        self.where.update({"id": f"{path}.id", "age": f"{path}.birthDate", "sex": f"{path}.gender",
                           "diseaseState": f"{path}.extension", "diagnosis": "entry"})
        pid = _text(patient.get("id"), f"{path}.id")
        references = ({f"Patient/{pid}"} if pid else set()) | ({url} if url else set())
        record = self.patient(path, patient)
        medications: dict[str, dict[str, Any]] = {}
        for _, resource, full_url in self.resources:
            if resource["resourceType"] == "Medication":
                if isinstance(resource.get("id"), str):
                    medications[f"Medication/{resource['id']}"] = resource
                if full_url:
                    medications[full_url] = resource
        conditions: list[dict[str, Any]] = []
        diagnoses: dict[str, str] = {}
        for path, resource, _ in self.resources:
            kind = resource["resourceType"]
            if kind in ("Patient", "Medication"):
                continue
            if kind not in ("Condition", "MedicationStatement", "Observation", *_MEDICATION_EVENTS):
                self.sum_up(f"{kind} resources", "axspa-kg reads Patient, Condition, MedicationStatement, Medication "
                                                 "and Observation resources", path)
                continue
            self.check_subject(path, resource, references, pid)
            if kind == "Condition":
                self.condition(path, resource, conditions, diagnoses)
            elif kind == "MedicationStatement":
                self.course(path, resource, medications, record.setdefault("treatments", []))
            elif kind == "Observation":
                self.measurement(path, resource, record.setdefault("measurements", []))
            else:
                self.medication_event(path, resource, medications)
        if len(set(diagnoses.values())) > 1:
            found = ", ".join(f"{value} ({where})" for where, value in diagnoses.items())
            raise RecordLoadError(f"entry: the Bundle gives two diagnoses, {found}; keep the one that holds")
        if diagnoses:
            where, record["diagnosis"] = next(iter(diagnoses.items()))
            self.where["diagnosis"] = where
        if conditions:
            record["conditions"] = conditions
        return {key: value for key, value in record.items() if value != []}

    def check_subject(self, path: str, resource: dict[str, Any], references: set[str], pid: str | None) -> None:
        subject = resource.get("subject")
        if subject is None:
            raise RecordLoadError(f"{path}.subject: missing; each Condition, MedicationStatement and Observation "
                                  "names its patient")
        reference = _text((_object(subject, f"{path}.subject") or {}).get("reference"), f"{path}.subject.reference")
        # (an absolute URL of the patient's own id counts too: https://ehr.example/fhir/Patient/123)
        if reference in references or (pid and reference and reference.endswith(f"/Patient/{pid}")):
            return
        raise RecordLoadError(f"{path}.subject: {reference!r} is not the Bundle's patient "
                              f"({' or '.join(sorted(references))}); a Bundle holds one patient's resources")

    def patient(self, path: str, patient: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        if patient.get("id") is not None:
            record["id"] = patient["id"]
        gender = patient.get("gender")
        if gender in ("male", "female", "other"):
            record["sex"] = gender
        elif gender not in (None, "unknown"):
            raise RecordLoadError(f"{path}.gender: {gender!r} is not a FHIR gender (male, female, other, unknown)")
        if patient.get("birthDate") is not None:
            record["age"] = age_on(patient["birthDate"], self.today, f"{path}.birthDate")
        states = _extensions(patient, DISEASE_STATE, path)
        if len(states) > 1:
            raise RecordLoadError(f"{path}.extension: the disease state is given {len(states)} times; give it once")
        if states:
            record["diseaseState"] = states[0]
        return record

    def condition(self, path: str, resource: dict[str, Any], conditions: list[dict[str, Any]],
                  diagnoses: dict[str, str]) -> None:
        verification = _status_code(resource.get("verificationStatus"), f"{path}.verificationStatus")
        clinical = _status_code(resource.get("clinicalStatus"), f"{path}.clinicalStatus")
        if verification not in _VERIFICATION | {None}:
            raise RecordLoadError(f"{path}.verificationStatus: {verification!r} is not a FHIR condition "
                                  "verification status")
        if clinical not in _CLINICAL | {None}:
            raise RecordLoadError(f"{path}.clinicalStatus: {clinical!r} is not a FHIR condition clinical status")
        if verification == "entered-in-error":
            self.leave_out(path, resource, "entered in error")
            return
        codings, text = _codeable(resource.get("code"), f"{path}.code")
        concept = concept_of(codings, text, self.index)
        if concept is None or concept in self.index.measures:
            self.leave_out(path, resource, f"{_describe(codings, text)} is not a condition axspa-kg knows"
                                           + self.maybe(codings, text))
            return
        if verification == "refuted":
            status = "absent"
        elif verification in _UNSETTLED or clinical in _PAST:
            status = "unknown"
        else:
            status = "present"
        if concept in DIAGNOSES and status == "present":
            diagnoses[path] = DIAGNOSES[concept]
            return
        if concept in DIAGNOSES:
            self.leave_out(path, resource, f"a diagnosis that is not confirmed and current ({status}); "
                                           "the record's diagnosis is the one that holds")
            return
        self.where[f"conditions[{len(conditions) + 1}]"] = path
        item: dict[str, Any] = {"condition": str(concept).removeprefix(str(AX)), "status": status}
        note = _notes(resource, path)
        if clinical in _PAST and verification not in _UNSETTLED | {"refuted"}:
            note = " ".join(filter(None, [f"FHIR clinicalStatus: {clinical}; whether it still counts is not said.",
                                          note]))
        if note:
            item["note"] = note
        conditions.append(item)

    def maybe(self, codings: list[Coding], text: str | None) -> str:
        """A hint when a condition not read names one the knowledge base knows inside its text."""
        for shown in [text, *(c.display for c in codings)]:
            for label, concept in self.index.labels.items():
                if shown and len(label) > 3 and f" {label} " in f" {_norm(shown)} ":
                    ident = str(concept).removeprefix(str(AX))
                    return (f"; its text names {label}: if that is what it records, give a code the knowledge base "
                            f"carries or the axspa-kg id {ident!r} (code system {AXSPA_SYSTEM})")
        return ""

    def drug_name(self, codings: list[Coding], text: str | None, path: str) -> tuple[str | None, bool]:
        """(the name the record's `drug` field gets, whether it must be kept when unresolved).

        The codes (axspa-kg drug ids, RxNorm) and texts that resolve as a JSON record's `drug` does,
        and the drugs named word for word inside the texts, must name one drug (a biosimilar's
        brand beside its reference product names the biosimilar), else the medication is refused.
        The name kept is a text that resolves, else the name found in a text (a brand tells a
        biosimilar from its reference product; an RxNorm ingredient code does not), else the code.
        Where nothing names a known drug, the text (or code) is kept, so that validation refuses it
        by name, when an ATC code puts it in a class of the knowledge base's drugs, and left out
        otherwise; so is a drug code with no text at all. A local form (a gel, eye drops) is not a
        course of the drug it holds."""
        codes = [c.code.strip() for c in codings
                 if c.code and (c.system == DRUG_SYSTEM or c.system in RXNORM_SYSTEM)]
        texts = [t.strip() for t in [text, *(c.display for c in codings)] if t and t.strip()]
        resolved = {name: self.drugs.exact[name.lower()] for name in texts + codes if name.lower() in self.drugs.exact}
        found: dict[URIRef, str] = {}
        for shown in texts:
            for drug, name in self.drugs.named_in(shown).items():
                found.setdefault(drug, name)
        drugs = self.drugs.without_reference_products(set(resolved.values()) | set(found))
        if len(drugs) > 1:
            named = ", ".join(sorted({repr(n) for n, d in resolved.items() if d in drugs}
                                     | {repr(n) for d, n in found.items() if d in drugs}))
            raise RecordLoadError(f"{path}: the medication's codes and text name different drugs ({named}); "
                                  "give the one that was taken")
        if drugs:
            drug = next(iter(drugs))
            if any(_LOCAL_FORM.search(t) for t in texts):
                return None, False
            return next((n for n in texts if resolved.get(n) == drug), None) or found.get(drug) or next(
                n for n, d in resolved.items() if d == drug), False
        atc = any(c.system in ATC_SYSTEM and (c.code or "")[:5] in self.index.atc_classes for c in codings)
        shown = texts[0] if texts else (codes[0] if codes else next((c.code for c in codings if c.code), None))
        # a drug code with no text to tell what it is (an RxNorm product code: the knowledge base
        # holds ingredient codes) may be a drug the guidelines concern: kept, so it is refused by name
        return shown, atc or (bool(codes) and not texts)

    def medication(self, path: str, resource: dict[str, Any],
                   medications: dict[str, dict[str, Any]]) -> tuple[list[Coding], str | None]:
        """The codings and text of the medication a resource names, inline or by reference."""
        if resource.get("medicationCodeableConcept") is not None:
            return _codeable(resource["medicationCodeableConcept"], f"{path}.medicationCodeableConcept")
        reference = _object(resource.get("medicationReference"), f"{path}.medicationReference")
        if reference is None:
            raise RecordLoadError(f"{path}: no medicationCodeableConcept or medicationReference names the drug")
        target = _text(reference.get("reference"), f"{path}.medicationReference.reference")
        contained = {f"#{r.get('id')}": r for r in _list(resource.get("contained"), f"{path}.contained")
                     if isinstance(r, dict) and r.get("resourceType") == "Medication"}
        medication = contained.get(target or "") or medications.get(target or "")
        if medication is None:
            named = target or _text(reference.get("display"), f"{path}.medicationReference.display")
            raise RecordLoadError(f"{path}.medicationReference: {named!r} is no Medication in the Bundle"
                                  + ("" if target else " (a reference with only a display names none)"))
        return _codeable(medication.get("code"), f"{path}.medicationReference (Medication.code)")

    def medication_event(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]]) -> None:
        """An order, administration or dispense: of a drug the knowledge base knows it is refused
        (it does not say how the course went, and read as nothing it would let a failed drug be
        recommended again); of any other, left out."""
        kind = resource["resourceType"]
        named = resource.get("medicationCodeableConcept") is not None or resource.get("medicationReference") is not None
        codings, text = self.medication(path, resource, medications) if named else ([], None)
        name, keep = self.drug_name(codings, text, f"{path}.medication")
        if name is not None and (name.lower() in self.drugs.exact or keep):
            raise RecordLoadError(f"{path}: a {kind} of {name!r}: axspa-kg reads courses from MedicationStatement "
                                  "resources only (an order, administration or dispense does not say how the course "
                                  "went); give this course as a MedicationStatement with its status and outcome")
        self.sum_up(f"{kind} resources", "of no drug the knowledge base knows (courses are read from "
                                         "MedicationStatement resources)", path)

    def course(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]],
               courses: list[dict[str, Any]]) -> None:
        status = resource.get("status")
        if status not in _MEDICATION_STATUSES:
            raise RecordLoadError(f"{path}.status: {status!r} is not a FHIR MedicationStatement status")
        if status in _NOT_TAKEN:
            self.leave_out(path, resource, f"status {status}: not a course taken")
            return
        codings, text = self.medication(path, resource, medications)
        name, keep = self.drug_name(codings, text, f"{path}.medication")
        if name is None and (codings or text):
            self.leave_out(path, resource, f"{_describe(codings, text)} is a local form (a gel, drops ...); the "
                                           "guidelines' courses are of drugs taken by mouth or injection")
            return
        if name is None:
            raise RecordLoadError(f"{path}.medication: no code or text names the drug")
        if name.lower() not in self.drugs.exact and not keep:
            self.leave_out(path, resource, f"{_describe(codings, text)} names no drug axspa-kg knows (if the "
                                           "guidelines concern it, give its generic name or RxNorm ingredient code)")
            return
        item: dict[str, Any] = {"drug": name}
        if status in _COURSE_STATUS:
            item["status"] = _COURSE_STATUS[status]
        notes = []
        period = _object(resource.get("effectivePeriod"), f"{path}.effectivePeriod")
        if period is not None:
            item["start"] = _date(period.get("start"), f"{path}.effectivePeriod.start")
            item["end"] = _date(period.get("end"), f"{path}.effectivePeriod.end")
            # an ongoing course's planned end is no end: kept in the detail
            if item.get("status") == "ongoing" and item["end"] and item["end"] > self.today.isoformat():
                notes.append(f"planned end {item.pop('end')}.")
        elif resource.get("effectiveDateTime") is not None:
            item["start"] = _date(resource.get("effectiveDateTime"), f"{path}.effectiveDateTime")
        outcomes = _extensions(resource, TREATMENT_OUTCOME, path)
        for number, reason in enumerate(_list(resource.get("statusReason"), f"{path}.statusReason"), start=1):
            reason_codings, reason_text = _codeable(reason, f"{path}.statusReason[{number}]")
            read = [c.code for c in reason_codings if c.system == AXSPA_SYSTEM and c.code in self.index.outcomes]
            outcomes += read
            shown = reason_text or next((c.display for c in reason_codings if c.display), None)
            if shown:
                notes.append(f"reason: {shown}.")
            if not read and not _extensions(resource, TREATMENT_OUTCOME, path):
                self.left_out.append((f"{path}.statusReason[{number}]", _describe(reason_codings, reason_text),
                                      "not read as an outcome: give the outcome as an axspa-kg code "
                                      f"(code system {AXSPA_SYSTEM}) or in the treatment-outcome extension"))
        if outcomes:
            item["outcome"] = outcomes
        maximal = _extensions(resource, MAXIMAL_DOSE, path)
        if maximal:
            item["maximalDose"] = maximal[0]
        dosage = []
        for number, dose in enumerate(_list(resource.get("dosage"), f"{path}.dosage"), start=1):
            where = f"{path}.dosage[{number}]"
            given = _text((_object(dose, where) or {}).get("text"), f"{where}.text")
            if given and given.strip():
                dosage.append(given.strip())
        if dosage:
            item["dose"] = "; ".join(dosage)
        detail = " ".join(filter(None, [_notes(resource, path), *notes]))
        if detail:
            item["detail"] = detail
        self.where[f"treatments[{len(courses) + 1}]"] = path
        courses.append({k: v for k, v in item.items() if v is not None})

    def measurement(self, path: str, resource: dict[str, Any], measurements: list[dict[str, Any]]) -> None:
        status = resource.get("status")
        codings, text = _codeable(resource.get("code"), f"{path}.code")
        concept = concept_of(codings, text, self.index)
        if concept is None or concept not in self.index.measures:
            self.sum_up(f"Observations {_describe(codings, text)}", "not a measure axspa-kg uses", path)
            return
        if status not in _OBSERVATION_KEPT:
            self.leave_out(path, resource, f"status {status}: only final, amended or corrected results are read")
            return
        measure = str(concept).removeprefix(str(AX))
        quantity = _object(resource.get("valueQuantity"), f"{path}.valueQuantity")
        if quantity is None or quantity.get("value") is None:
            self.leave_out(path, resource, f"{measure} without a valueQuantity (the rules compare numbers)")
            return
        if quantity.get("comparator") is not None:
            self.leave_out(path, resource, f"{measure} given as {quantity.get('comparator')}{quantity.get('value')}: "
                                           "a bound, not a value the rules can compare")
            return
        unit = quantity.get("code") if quantity.get("system") == UCUM else quantity.get("unit")
        unit = unit.strip().lower() if isinstance(unit, str) else None
        value = quantity["value"]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RecordLoadError(f"{path}.valueQuantity.value: expected a number, got {_json_kind(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise RecordLoadError(f"{path}.valueQuantity.value: {value!r} is not a number") from exc
        if not number.is_finite():
            raise RecordLoadError(f"{path}.valueQuantity.value: {value!r} is not a finite number")
        if (measure, unit) in _CONVERTED:
            number *= _CONVERTED[(measure, unit)]
        elif measure in _UNITS and unit not in _UNITS[measure]:
            expected = " or ".join(sorted(_UNITS[measure]))
            given = f"in {unit!r}" if unit else "without a unit"
            raise RecordLoadError(f"{path}.valueQuantity: {measure} {given}; give it in {expected} (UCUM), as the "
                                  "guidelines' thresholds are")
        item: dict[str, Any] = {"measure": measure, "value": format(number.normalize() if number == number.to_integral()
                                                                    else number, "f")}
        when = resource.get("effectiveDateTime")
        if when is None:
            period = _object(resource.get("effectivePeriod"), f"{path}.effectivePeriod")
            when = period.get("start") if period else None
        if when is not None:
            item["date"] = _date(when, f"{path}.effectiveDateTime")
        self.where[f"measurements[{len(measurements) + 1}]"] = path
        measurements.append(item)


def bundle_to_record(bundle: dict[str, Any], index: CodeIndex, drugs: DrugNames,
                     today: date | None = None) -> Converted:
    """A FHIR R4 Bundle of one patient as a plain record (see the module docstring)."""
    if bundle.get("resourceType") != "Bundle":
        raise RecordLoadError(f"resourceType: {bundle.get('resourceType')!r}; axspa-kg reads a FHIR Bundle holding "
                              "the patient and their Conditions, MedicationStatements and Observations")
    reader = _Reader(bundle, index, drugs, today or datetime.now(UTC).date())
    record = reader.read()
    return Converted(record, FhirOrigin(dict(reader.where), tuple(reader.left_out + reader.summed_up())))
