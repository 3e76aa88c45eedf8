"""FHIR R4 JSON in: one patient's Bundle read as a plain axspa-kg record (see README, "FHIR R4").

Why a translation to the plain record rather than RDF of its own: everything after it (the record
checks, the shapes, the drug names resolved against the knowledge base, the messages naming
fields) then works on FHIR input exactly as on JSON, and no second vocabulary has to be kept in
step with the first.

What is read: the Bundle's one Patient (`id`, `gender`, `birthDate`, and the disease state in an
axspa-kg extension), its Conditions (the diagnosis, and every other condition with a status from
`verificationStatus` and `clinicalStatus`), its MedicationStatements (courses: the drug, the
period, the status; outcome and maximal dose in axspa-kg extensions) and its Observations with a
quantity (measurements). Codes are matched against the codes the knowledge base carries (SNOMED CT
and ICD-10-CM for conditions, LOINC for measures, RxNorm for drugs) and against the axspa-kg ids
themselves (system `https://w3id.org/axspa-kg/ontology` for conditions and measures,
`https://w3id.org/axspa-kg/drug/` for drugs); nothing is matched by similarity.

What is not read is never dropped without a word: a resource the rules have no use for (a
condition or measure the knowledge base does not know, a lab result with no quantity, a
MedicationRequest) is listed as a warning with the entry's position, and a medication that names
a drug the knowledge base knows but cannot be told apart from another (or names none and carries
an ATC code of a class the guidelines cover) is kept under its own name, so validation refuses the
record naming it: a failed adalimumab course read as nothing would let adalimumab be recommended.
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

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC_SYSTEM = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
AXSPA_SYSTEM = str(AX).rstrip("#")  # https://w3id.org/axspa-kg/ontology: conditions and measures by id
DRUG_SYSTEM = str(DRUG)  # https://w3id.org/axspa-kg/drug/: drugs by id
EXTENSION = "https://w3id.org/axspa-kg/fhir/StructureDefinition/"
DISEASE_STATE = EXTENSION + "disease-state"
TREATMENT_OUTCOME = EXTENSION + "treatment-outcome"
MAXIMAL_DOSE = EXTENSION + "maximal-dose"

# The record's values for the three diagnoses (the shipped context maps them to these concepts).
DIAGNOSES = {AX.ankylosing_spondylitis: "AS", AX.nr_axspa: "nr-axSpA", AX.axial_spa: "axSpA"}
# FHIR Condition statuses -> the record's presence. A refuted condition is stated absent; one not
# yet confirmed is unknown (so the reasoner asks); one resolved may or may not still count (a
# history of IBD or uveitis does, a treated infection does not), so it is unknown as well.
_UNSETTLED = {"unconfirmed", "provisional", "differential"}
_HOLDING = {"active", "recurrence", "relapse", "inactive", "remission"}
# MedicationStatement.status -> course status; the others say the drug was not taken.
_COURSE_STATUS = {"active": "ongoing", "on-hold": "ongoing", "completed": "stopped", "stopped": "stopped"}
_NOT_TAKEN = {"not-taken", "intended", "entered-in-error"}
_OBSERVATION_KEPT = {"final", "amended", "corrected"}
# Units the record's measures are in (README): a value in another unit would change the advice.
_UNITS = {"crp": {"mg/L"}, "esr": {"mm/h", "mm/hr"}}
_DATE = re.compile(r"^([0-9]{4})(-([0-9]{2})(-([0-9]{2}))?)?")


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
    """The knowledge base's codes: conditions and measures by system and code, drugs by name."""

    snomed: dict[str, URIRef]
    icd10cm: dict[str, list[URIRef]]  # code prefix -> concepts (ranges spelt out per category)
    loinc: dict[str, URIRef]
    labels: dict[str, URIRef]  # lower-cased label or alternative label -> condition or measure
    concepts: frozenset[URIRef]  # conditions and measures (ids under AXSPA_SYSTEM)
    measures: frozenset[URIRef]
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
    icd: dict[str, list[URIRef]] = {}
    for concept, value in kb.subject_objects(AX.icd10cm):
        if concept not in concepts:
            continue
        for prefix in _icd_prefixes(str(value)):
            icd.setdefault(prefix, []).append(concept)  # type: ignore[arg-type]
    labels: dict[str, URIRef] = {}
    for concept in sorted(concepts):
        for prop in (RDFS.label, SKOS.altLabel):
            for label in kb.objects(concept, prop):
                labels.setdefault(str(label).strip().lower(), concept)
    broader = {c: _closure(kb, c) for c in concepts}
    atc = frozenset(str(code)[:5] for code in kb.objects(None, AX.atcCode) if len(str(code)) >= 5)
    return CodeIndex(snomed, icd, loinc, labels, frozenset(concepts), frozenset(measures), broader, atc)


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
    """ICD-10-CM codes as the knowledge base writes them ("K50", "H20.02-", "A15-A19") as prefixes
    a patient's code must start with: a trailing dash means "and its subcodes", a range between two
    categories of one letter stands for each category in it."""
    value = value.strip().upper()
    if value.endswith("-"):
        value = value[:-1]
    found = re.fullmatch(r"([A-Z])([0-9]{2})-([A-Z])([0-9]{2})", value)
    if found and found.group(1) == found.group(3):
        letter, low, high = found.group(1), int(found.group(2)), int(found.group(4))
        return [f"{letter}{n:02d}" for n in range(low, high + 1)]
    return [value] if re.fullmatch(r"[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?", value) else []


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


def concept_of(codeable: object, index: CodeIndex) -> URIRef | None:
    """The condition or measure a CodeableConcept names: an axspa-kg id, then a SNOMED CT or LOINC
    code, then an ICD-10-CM code by its longest matching prefix, then the text or a display that is
    a label of the knowledge base (exactly, ignoring case)."""
    if not isinstance(codeable, dict):
        return None
    codings = [c for c in codeable.get("coding") or [] if isinstance(c, dict)]
    for wanted in (AXSPA_SYSTEM, SNOMED, LOINC, ICD10CM):
        for coding in codings:
            system, code = coding.get("system"), coding.get("code")
            if system != wanted or not isinstance(code, str):
                continue
            if system == AXSPA_SYSTEM and URIRef(str(AX) + code) in index.concepts:
                return URIRef(str(AX) + code)
            if system == SNOMED and code in index.snomed:
                return index.snomed[code]
            if system == LOINC and code in index.loinc:
                return index.loinc[code]
            if system == ICD10CM:
                upper = code.strip().upper()
                for length in range(len(upper), 2, -1):
                    if upper[:length] in index.icd10cm:
                        return _most_specific(index.icd10cm[upper[:length]], index)
    texts = [codeable.get("text")] + [c.get("display") for c in codings]
    for text in texts:
        if isinstance(text, str) and text.strip().lower() in index.labels:
            return index.labels[text.strip().lower()]
    return None


def _describe(codeable: object) -> str:
    """A CodeableConcept as a person would name it in a message."""
    if not isinstance(codeable, dict):
        return "no code"
    codings = [c for c in codeable.get("coding") or [] if isinstance(c, dict)]
    text = codeable.get("text") or next((c.get("display") for c in codings if c.get("display")), None)
    codes = ", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in codings)
    return f"{text!r} ({codes})" if text and codes else repr(text) if text else codes or "no code"


def _status_code(codeable: object) -> str | None:
    if isinstance(codeable, dict):
        for coding in codeable.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return coding["code"]
    return None


def _date(value: object, path: str) -> str | None:
    """A FHIR date or dateTime as the record's YYYY-MM-DD; a partial date (1980, 1980-04) cannot be
    one, so it is refused, naming the field."""
    if value is None:
        return None
    found = _DATE.match(value) if isinstance(value, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {value!r} is not a FHIR date")
    if not found.group(5):
        raise RecordLoadError(f"{path}: {value!r} gives no day; the record needs a full date (YYYY-MM-DD)")
    return found.group(0)


def age_on(birth_date: object, today: date, path: str) -> int:
    """Whole years on `today`. A birth date without a day counts from the latest day it allows
    (the youngest the patient can be), so that no minor is read as an adult."""
    found = _DATE.match(birth_date) if isinstance(birth_date, str) else None
    if not found:
        raise RecordLoadError(f"{path}: {birth_date!r} is not a FHIR date")
    year = int(found.group(1))
    month = int(found.group(3)) if found.group(3) else 12
    day = int(found.group(5)) if found.group(5) else 31
    return today.year - year - ((today.month, today.day) < (month, day))


def _extensions(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in resource.get("extension") or [] if isinstance(e, dict) and e.get("url") == url]


def _notes(resource: dict[str, Any]) -> str | None:
    texts = [n.get("text") for n in resource.get("note") or [] if isinstance(n, dict)]
    kept = [t.strip() for t in texts if isinstance(t, str) and t.strip()]
    return " ".join(kept) or None


class _Reader:
    """One Bundle, read entry by entry."""

    def __init__(self, bundle: dict[str, Any], kb_index: CodeIndex, drugs: dict[str, URIRef],
                 biosimilar_of: dict[URIRef, URIRef], today: date) -> None:
        self.index, self.drugs, self.biosimilar_of, self.today = kb_index, drugs, biosimilar_of, today
        self.left_out: list[tuple[str, str, str]] = []
        self.where: dict[str, str] = {}  # record path -> Bundle path
        entries = bundle.get("entry")
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise RecordLoadError("entry: expected a list of Bundle entries")
        self.resources: list[tuple[str, dict[str, Any], str | None]] = []  # (path, resource, fullUrl)
        for number, entry in enumerate(entries, start=1):
            path = f"entry[{number}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise RecordLoadError(f"{path}.resource: expected a FHIR resource (an object with a resourceType)")
            url = entry.get("fullUrl")
            self.resources.append((path, resource, url if isinstance(url, str) else None))

    def leave_out(self, path: str, resource: dict[str, Any], why: str) -> None:
        name = f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else str(
            resource.get("resourceType"))
        self.left_out.append((path, name, f"not read: {why}"))

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
        references = {f"Patient/{patient['id']}"} if isinstance(patient.get("id"), str) else set()
        if url:
            references.add(url)
        record = self.patient(path, patient)
        medications: dict[str, dict[str, Any]] = {}
        for _, resource, url in self.resources:
            if resource["resourceType"] == "Medication":
                for ref in ([f"Medication/{resource['id']}"] if isinstance(resource.get("id"), str) else []) + [url]:
                    if ref:
                        medications[ref] = resource
        conditions: list[dict[str, Any]] = []
        diagnoses: dict[str, str] = {}
        for path, resource, _ in self.resources:
            kind = resource["resourceType"]
            if kind in ("Patient", "Medication"):
                continue
            if kind not in ("Condition", "MedicationStatement", "Observation"):
                self.leave_out(path, resource, f"axspa-kg reads Patient, Condition, MedicationStatement, "
                                               f"Medication and Observation resources, not {kind}")
                continue
            subject = resource.get("subject")
            reference = subject.get("reference") if isinstance(subject, dict) else None
            if reference not in references:
                raise RecordLoadError(
                    f"{path}.subject: {reference!r} is not the Bundle's patient ({' or '.join(sorted(references))}); "
                    "a Bundle holds one patient's resources" if reference else
                    f"{path}.subject: missing; each Condition, MedicationStatement and Observation names its patient")
            if kind == "Condition":
                self.condition(path, resource, conditions, diagnoses)
            elif kind == "MedicationStatement":
                self.course(path, resource, medications, record.setdefault("treatments", []))
            else:
                self.measurement(path, resource, record.setdefault("measurements", []))
        if len(set(diagnoses.values())) > 1:
            found = ", ".join(f"{value} ({where})" for where, value in diagnoses.items())
            raise RecordLoadError(f"entry: the Bundle gives two diagnoses, {found}; keep the one that holds")
        if diagnoses:
            where, record["diagnosis"] = next(iter(diagnoses.items()))
            self.where["diagnosis"] = where
        if conditions:
            record["conditions"] = conditions
        return {key: value for key, value in record.items() if value != []}

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
        states = _extensions(patient, DISEASE_STATE)
        if len(states) > 1:
            raise RecordLoadError(f"{path}.extension: the disease state is given {len(states)} times; give it once")
        if states:
            record["diseaseState"] = states[0].get("valueCode")
        return record

    def condition(self, path: str, resource: dict[str, Any], conditions: list[dict[str, Any]],
                  diagnoses: dict[str, str]) -> None:
        verification = _status_code(resource.get("verificationStatus"))
        if verification == "entered-in-error":
            self.leave_out(path, resource, "entered in error")
            return
        concept = concept_of(resource.get("code"), self.index)
        if concept is None or concept in self.index.measures:
            self.leave_out(path, resource, f"{_describe(resource.get('code'))} is not a condition axspa-kg knows")
            return
        clinical = _status_code(resource.get("clinicalStatus"))
        if verification == "refuted":
            status = "absent"
        elif verification in _UNSETTLED or clinical == "resolved":
            status = "unknown"
        elif clinical in _HOLDING or clinical is None:
            status = "present"
        else:
            raise RecordLoadError(f"{path}.clinicalStatus: {clinical!r} is not a FHIR condition clinical status")
        if concept in DIAGNOSES and status == "present":
            diagnoses[path] = DIAGNOSES[concept]
            return
        if concept in DIAGNOSES:
            self.leave_out(path, resource, f"a diagnosis that is not confirmed and current ({status}); "
                                           "the record's diagnosis is the one that holds")
            return
        self.where[f"conditions[{len(conditions) + 1}]"] = path
        item: dict[str, Any] = {"condition": str(concept).removeprefix(str(AX)), "status": status}
        note = _notes(resource)
        if clinical == "resolved" and verification not in _UNSETTLED | {"refuted"}:
            note = " ".join(filter(None, ["FHIR clinicalStatus: resolved; whether it still counts is not said.", note]))
        if note:
            item["note"] = note
        conditions.append(item)

    def drug_name(self, codeable: object, path: str) -> tuple[str | None, bool]:
        """(the name the record's `drug` field gets, whether it must be kept when unresolved).

        The codes (axspa-kg drug ids, RxNorm) and the texts are resolved as a JSON record's `drug`
        is; the text is the name kept where it resolves, since a brand tells a biosimilar from its
        reference product and an RxNorm ingredient code does not. Two that name different drugs
        are refused. Where none resolves, a drug of the knowledge base named word for word inside
        the text (a biosimilar's brand before its reference product: "adalimumab-atto [Amjevita]"),
        when exactly one; else the text, kept (so that validation refuses it by name) when it names
        several known drugs or carries an ATC code of a class the guidelines cover, and left out
        otherwise."""
        if not isinstance(codeable, dict):
            return None, False
        codings = [c for c in codeable.get("coding") or [] if isinstance(c, dict)]
        codes = [c["code"] for c in codings
                 if c.get("system") in (DRUG_SYSTEM, RXNORM_SYSTEM) and isinstance(c.get("code"), str)]
        texts = [t.strip() for t in [codeable.get("text"), *(c.get("display") for c in codings)]
                 if isinstance(t, str) and t.strip()]
        resolved = {name: self.drugs[name.lower()] for name in texts + codes if name.lower() in self.drugs}
        drugs = set(resolved.values())
        drugs -= {self.biosimilar_of[d] for d in drugs if d in self.biosimilar_of}
        if len(drugs) > 1:
            named = ", ".join(f"{name!r}" for name in resolved)
            raise RecordLoadError(f"{path}: the medication's codes and text name different drugs ({named}); "
                                  "correct the one that is wrong")
        if drugs:
            drug = next(iter(drugs))
            return next(name for name in texts + codes if resolved.get(name) == drug), False
        named = {self.drugs[w] for text in texts for w in _word_runs(text) if w in self.drugs}
        named -= {self.biosimilar_of[d] for d in named if d in self.biosimilar_of}
        if len(named) == 1:
            return str(next(iter(named))), False
        atc = any(c.get("system") == ATC_SYSTEM and str(c.get("code", ""))[:5] in self.index.atc_classes
                  for c in codings)
        shown = texts[0] if texts else (codes[0] if codes else None)
        return shown, bool(named) or atc

    def course(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]],
               courses: list[dict[str, Any]]) -> None:
        status = resource.get("status")
        if status in _NOT_TAKEN:
            self.leave_out(path, resource, f"status {status}: not a course taken")
            return
        codeable = resource.get("medicationCodeableConcept")
        reference = resource.get("medicationReference")
        if codeable is None and isinstance(reference, dict):
            target = str(reference.get("reference"))
            contained = {f"#{r.get('id')}": r for r in resource.get("contained") or []
                         if isinstance(r, dict) and r.get("resourceType") == "Medication"}
            medication = contained.get(target) or medications.get(target)
            if medication is None:
                raise RecordLoadError(f"{path}.medicationReference: {reference.get('reference')!r} is no Medication "
                                      "in the Bundle")
            codeable = medication.get("code")
        name, keep = self.drug_name(codeable, f"{path}.medication")
        if name is None:
            raise RecordLoadError(f"{path}.medication: no code or text names the drug")
        if name.lower() not in self.drugs and not keep:
            self.leave_out(path, resource, f"{_describe(codeable)} names no drug axspa-kg knows (if the guidelines "
                                           "concern it, give its generic name or RxNorm ingredient code)")
            return
        item: dict[str, Any] = {"drug": name}
        if status in _COURSE_STATUS:
            item["status"] = _COURSE_STATUS[status]
        elif status != "unknown":
            raise RecordLoadError(f"{path}.status: {status!r} is not a FHIR MedicationStatement status")
        period = resource.get("effectivePeriod")
        if isinstance(period, dict):
            item["start"] = _date(period.get("start"), f"{path}.effectivePeriod.start")
            item["end"] = _date(period.get("end"), f"{path}.effectivePeriod.end")
        elif resource.get("effectiveDateTime") is not None:
            item["start"] = _date(resource.get("effectiveDateTime"), f"{path}.effectiveDateTime")
        outcomes = [e.get("valueCode") for e in _extensions(resource, TREATMENT_OUTCOME)]
        if outcomes:
            item["outcome"] = outcomes
        maximal = _extensions(resource, MAXIMAL_DOSE)
        if maximal:
            item["maximalDose"] = maximal[0].get("valueBoolean")
        dosage = [d.get("text") for d in resource.get("dosage") or [] if isinstance(d, dict)]
        if any(isinstance(d, str) and d.strip() for d in dosage):
            item["dose"] = "; ".join(d.strip() for d in dosage if isinstance(d, str) and d.strip())
        if (note := _notes(resource)) is not None:
            item["detail"] = note
        self.where[f"treatments[{len(courses) + 1}]"] = path
        courses.append({k: v for k, v in item.items() if v is not None})

    def measurement(self, path: str, resource: dict[str, Any], measurements: list[dict[str, Any]]) -> None:
        status = resource.get("status")
        if status not in _OBSERVATION_KEPT:
            self.leave_out(path, resource, f"status {status}: only final, amended or corrected results are read")
            return
        concept = concept_of(resource.get("code"), self.index)
        if concept is None or concept not in self.index.measures:
            self.leave_out(path, resource, f"{_describe(resource.get('code'))} is not a measure axspa-kg uses")
            return
        measure = str(concept).removeprefix(str(AX))
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, dict) or quantity.get("value") is None:
            self.leave_out(path, resource, f"{measure} without a valueQuantity (the rules compare numbers)")
            return
        unit = quantity.get("code") if quantity.get("system") == UCUM else quantity.get("unit")
        if measure in _UNITS and unit not in _UNITS[measure]:
            expected = " or ".join(sorted(_UNITS[measure]))
            raise RecordLoadError(f"{path}.valueQuantity: {measure} in {unit!r}; give it in {expected} (UCUM), as "
                                  "the guidelines' thresholds are")
        try:
            value = Decimal(str(quantity["value"]))
        except InvalidOperation as exc:
            raise RecordLoadError(f"{path}.valueQuantity.value: {quantity['value']!r} is not a number") from exc
        item: dict[str, Any] = {"measure": measure, "value": format(value, "f")}
        when = resource.get("effectiveDateTime")
        if when is None and isinstance(resource.get("effectivePeriod"), dict):
            when = resource["effectivePeriod"].get("start")
        if when is not None:
            item["date"] = _date(when, f"{path}.effectiveDateTime")
        self.where[f"measurements[{len(measurements) + 1}]"] = path
        measurements.append(item)


def _word_runs(text: str) -> set[str]:
    """Every run of one to four words of `text`, lower-cased ("Humira Pen 40 MG" gives "humira",
    "humira pen" ...), to find a drug's name or brand inside a medication's text."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    runs = {" ".join(words[i:i + n]) for n in range(1, 5) for i in range(len(words) - n + 1)}
    return {run for run in runs if not run.replace(" ", "").isdigit()}  # a dose is no RxNorm code


def biosimilars(kb: Graph) -> dict[URIRef, URIRef]:
    """Biosimilar -> its reference product."""
    return {s: o for s, o in kb.subject_objects(AX.biosimilarOf) if isinstance(s, URIRef) and isinstance(o, URIRef)}


def bundle_to_record(bundle: dict[str, Any], kb_index: CodeIndex, drugs: dict[str, URIRef],
                     biosimilar_of: dict[URIRef, URIRef], today: date | None = None) -> Converted:
    """A FHIR R4 Bundle of one patient as a plain record (see the module docstring)."""
    if bundle.get("resourceType") != "Bundle":
        raise RecordLoadError(f"resourceType: {bundle.get('resourceType')!r}; axspa-kg reads a FHIR Bundle holding "
                              "the patient and their Conditions, MedicationStatements and Observations")
    reader = _Reader(bundle, kb_index, drugs, biosimilar_of, today or datetime.now(UTC).date())
    record = reader.read()
    return Converted(record, FhirOrigin(dict(reader.where), tuple(reader.left_out)))
