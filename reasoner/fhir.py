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

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .errors import RecordLoadError, json_kind
from .fhir_codes import (
    ATC_SYSTEM,
    AXSPA_SYSTEM,
    DIAGNOSES,
    DRUG_SYSTEM,
    EYE_FORM,
    GLUCOCORTICOID,
    JOINT_INJECTION,
    LOCAL_FORM,
    NSAID,
    RECTAL_FORM,
    RXNORM_SYSTEM,
    SYSTEMIC_ROUTE,
    TARGETED,
    CodeIndex,
    Coding,
    DrugNames,
    concept_of,
    named_condition,
)
from .fhir_elements import (
    DISEASE_STATE,
    MAXIMAL_DOSE,
    TREATMENT_OUTCOME,
    age_on,
    as_bool,
    as_list,
    as_object,
    as_text,
    codeable,
    describe,
    extension_values,
    notes_of,
    one_form_each,
    record_date,
    refuse_unreadable,
    status_code,
)
from .namespaces import AX

if TYPE_CHECKING:  # (validate reads record, which reads this module)
    from .validate import ValidationIssue, ValidationReport

UCUM = "http://unitsofmeasure.org"
_VERSION = re.compile(r"/_history/[^/]+$")
_REFERENCE = re.compile(r"(?:^|/)(?P<kind>[A-Za-z]+)/(?P<id>[^/]+)(?:/_history/[^/]+)?$")


def held_under(who: str, identifiers: Iterable[tuple[str | None, str]], value: str | None) -> str:
    """" (<who> holds <value> under urn:mrn and no system)": where an identifier's value is held
    under other systems than the one a subject gives, said; else nothing."""
    systems = sorted(s or "no system" for s, v in identifiers if v == value)
    return f" ({who} holds {value} under {' and '.join(systems)})" if systems else ""


def referenced_kind(reference: object) -> str | None:
    """The resource type a FHIR reference names (`Location/7` -> Location), if it has that form."""
    found = _REFERENCE.search(reference) if isinstance(reference, str) else None
    return found.group("kind") if found else None


def referenced_id(reference: object, kind: str) -> str | None:
    """The id a FHIR reference names a resource of `kind` by: relative (`Patient/123`), absolute
    (`https://ehr.example/fhir/Patient/123`), or a version of either (`…/_history/2`)."""
    found = _REFERENCE.search(reference) if isinstance(reference, str) else None
    return found.group("id") if found and found.group("kind") == kind else None

# FHIR Condition statuses -> the record's presence. A refuted condition is stated absent; one not
# yet confirmed is unknown (so the reasoner asks). One resolved or inactive may or may not still
# count (a past IBD does, a pregnancy of 2019 or a treated infection does not), so it is unknown as
# well, with a note saying why; one in remission is present (the disease is there, quiet).
# The code systems of the two statuses: R4's, then STU3's (which converters still write).
CLINICAL_SYSTEMS = ("http://terminology.hl7.org/CodeSystem/condition-clinical", "http://hl7.org/fhir/condition-clinical")
VERIFICATION_SYSTEMS = ("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "http://hl7.org/fhir/condition-ver-status")
_UNSETTLED = {"unconfirmed", "provisional", "differential"}
_PAST = {"resolved", "inactive"}
_HOLDING = {"active", "recurrence", "relapse", "remission"}
_CLINICAL = _HOLDING | _PAST
# Several Conditions of one concept: the one that holds wins, a refuted one only if all are.
_PRESENCE_RANK = {"absent": 0, "unknown": 1, "present": 2}
_VERIFICATION = _UNSETTLED | {"confirmed", "refuted", "entered-in-error"}
# MedicationStatement.status -> course status; the others say the drug was not taken.
_COURSE_STATUS = {"active": "ongoing", "on-hold": "ongoing", "completed": "stopped", "stopped": "stopped"}
_NOT_TAKEN = {"not-taken", "intended", "entered-in-error"}
_MEDICATION_STATUSES = set(_COURSE_STATUS) | _NOT_TAKEN | {"unknown"}
# Resources that name a drug without saying how a course went (ordered, given, handed out).
_MEDICATION_EVENTS = ("MedicationRequest", "MedicationAdministration", "MedicationDispense")
# The resources a patient's own are read from (the rest are summed up as not read, by type).
_READ_ABOUT_PATIENT = ("Condition", "MedicationStatement", "Observation")
READ_TYPES = frozenset({"Patient", "Medication", *_READ_ABOUT_PATIENT, *_MEDICATION_EVENTS})


# A sulfonamide allergy in AllergyIntolerance gave celecoxib recommended, with only the warning that
# lists the types not read (session-37 FHIR probe D1); the tables give no allergy codes to read it by.
ALLERGY_NOT_READ = ("axspa-kg reads no AllergyIntolerance (the source tables give no codes for allergies), so the "
                    "advice does not know of it; an allergy the guidelines weigh (to a sulfonamide, to aspirin or "
                    "an NSAID, to sulfasalazine) must be given as a Condition coded with its axspa-kg id (code "
                    "system https://w3id.org/axspa-kg/ontology: sulfonamide_allergy, nsaid_hypersensitivity, "
                    "sulfasalazine_hypersensitivity)")


def allergy_named(resource: dict[str, Any], path: str) -> str:
    """What an AllergyIntolerance is about, as a message names it (its code, unchecked if malformed)."""
    try:
        codings, text = codeable(resource.get("code"), f"{path}.code")
    except RecordLoadError:
        return "AllergyIntolerance"
    return f"AllergyIntolerance {describe(codings, text)}" if codings or text else "AllergyIntolerance"


def outcome_issues(resource: dict[str, Any]) -> tuple[str, bool]:
    """What an OperationOutcome says (its issues' diagnostics, details or codes, joined), and whether
    it reports an error: an issue of severity error or fatal, or no issue at all."""
    issues = [i for i in resource["issue"] if isinstance(i, dict)] if isinstance(resource.get("issue"), list) else []
    said = "; ".join(str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code"))
                     for i in issues if isinstance(i.get("details") or {}, dict))
    return said, any(i.get("severity") in ("error", "fatal") for i in issues) or not issues


def misspelt_type(kind: str) -> str | None:
    """The resource type the reader reads that `kind` seems a misspelling of ("Conditon",
    "medicationstatement"), or None: read as another type, its facts would be lost unsaid."""
    if kind in READ_TYPES:
        return None
    found = difflib.get_close_matches(kind.lower(), [t.lower() for t in READ_TYPES], n=1, cutoff=0.85)
    return next(t for t in READ_TYPES if t.lower() == found[0]) if found else None
_OBSERVATION_KEPT = {"final", "amended", "corrected"}
# Units the record's measures are in (README), lower-cased; mg/dL CRP is converted (x10, exact).
_UNITS = {"crp": {"mg/l"}, "esr": {"mm/h", "mm/hr"}}
_UNITS_SHOWN = {"crp": ("mg/L",), "esr": ("mm/h",)}  # as UCUM writes them, for messages
_CONVERTED = {("crp", "mg/dl"): Decimal(10)}
# At most this many entries are named in a warning that sums up resources of one kind not read.
_NAMED = 5
# ... and at most this many of the codes or texts they held.
_LISTED = 8


def is_fhir(document: object) -> bool:
    """Whether a JSON document is a FHIR resource (FHIR JSON always names its resourceType)."""
    return isinstance(document, dict) and isinstance(document.get("resourceType"), str)


def _first_patient(document: dict[str, Any]) -> dict[str, Any] | None:
    """A Bundle's first Patient resource, read leniently (for what a cohort says before reading)."""
    entries = document.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            return resource
    return None


def patient_without_id(document: dict[str, Any]) -> bool:
    """Whether a Bundle's Patient has no id (a cohort needs one a patient; a Bundle with no Patient
    at all is refused with its own message when read)."""
    patient = _first_patient(document)
    return patient is not None and not isinstance(patient.get("id"), str)


def bundle_patient_id(document: dict[str, Any]) -> str | None:
    """The id of a Bundle's Patient, if it gives one (to name the patient of a Bundle refused)."""
    patient = _first_patient(document)
    value = patient.get("id") if patient is not None else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class FhirOrigin:
    """Where a record read from a Bundle came from: the Bundle path of each record field or item
    ("treatments[2]" -> "entry[7]"), and what was not read, as (path, value, message)."""

    where: dict[str, str]
    left_out: tuple[tuple[str, str, str], ...]
    # record path -> what its message says in the Bundle's terms ("{message}": the record's own words)
    terms: dict[str, str] = field(default_factory=dict)
    # condition id -> the entries its statement was read from ("entry[3]" or "entry[3], entry[5]")
    entries: dict[str, str] = field(default_factory=dict)

    def explain(self, report: ValidationReport, focus: str) -> ValidationReport:
        """The report in the Bundle's terms: each path names the entry it is about (the record field
        after it: "entry[7].outcome"), and every resource not read is a warning."""
        from .validate import ValidationIssue, ValidationReport

        issues = [self.rephrase(issue) for issue in report.issues]
        issues += [ValidationIssue("warning", path, value, message, focus) for path, value, message in self.left_out]
        return ValidationReport(report.conforms, tuple(issues))

    def rephrase(self, issue: ValidationIssue) -> ValidationIssue:
        """An issue about a part of the record that came from an entry: the entry as its path, and
        the record's field name left out of the message's start ("treatments.outcome: use ..."),
        since the path says it. A contradiction between condition statements (path `conditions`)
        names the entries of each condition it names, and the first as its path."""
        if issue.path == "conditions" and str(issue.value) in self.entries:
            named: set[str] = set()

            def entries(found: re.Match[str]) -> str:
                ident = found[0]
                if ident not in self.entries or ident in named:
                    return ident
                named.add(ident)
                return f"{ident} ({self.entries[ident]})"

            message = re.sub(r"\b\w+\b", entries, issue.message.removeprefix("conditions: "))
            return replace(issue, path=self.entries[str(issue.value)].split(", ")[0], message=message)
        path = self.path(issue.path)
        if path == issue.path:
            return issue
        message = re.sub(r"^[A-Za-z]+(\.[A-Za-z]+)*: ", "", issue.message)
        if issue.path in self.terms:  # (replace, not str.format: the wording may quote the user's text, braces and all)
            message = self.terms[issue.path].replace("{message}", message)
        return replace(issue, path=path, message=message)

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


@dataclass
class _Summary:
    """Resources of one kind not read, for one reason, summed up in one warning: their entries, and
    what they were (each code or text once, in the order met)."""

    what: str
    why: str
    paths: list[str]
    items: dict[str, int]  # each code, text or kind, with how often it was met


class _Reader:
    """One Bundle, read entry by entry."""

    def __init__(self, bundle: dict[str, Any], index: CodeIndex, drugs: DrugNames, today: date) -> None:
        self.index, self.drugs, self.today = index, drugs, today
        self.left_out: list[tuple[str, str, str]] = []
        self.summaries: dict[tuple[str, str], _Summary] = {}
        self.where: dict[str, str] = {}  # record path -> Bundle path
        self.entries: dict[str, list[str]] = {}  # condition id -> the entries of its statement
        self.episodes: dict[str, list[str]] = {}  # condition id -> each entry's part of a merged note
        self.terms: dict[str, str] = {  # record path -> its message in the Bundle's terms
            "diseaseState": f"the {DISEASE_STATE.rsplit('/', 1)[1]} extension ({DISEASE_STATE}, a valueCode): "
                            "{message}"}
        self.references: set[str] = set()  # how the Bundle's resources refer to its patient
        self.pid: str | None = None
        self.identifiers: set[tuple[str | None, str]] = set()  # the Patient's (system, value) identifiers
        self.resources: list[tuple[str, dict[str, Any], str | None]] = []  # (path, resource, fullUrl)
        self.aliases: dict[str, dict[str, Any]] = {}  # a copy's fullUrl -> the resource read in its place
        sources = getattr(bundle, "sources", None)  # a Bundle grouped from a Bulk Data export (fhir_bulk)
        self.exported = bool(sources)
        self.whole = "the export" if self.exported else "the Bundle"  # what messages call where the resources are
        if bundle.get("type") == "history":  # (versions, and deletions that leave an earlier version)
            raise RecordLoadError("type: a history Bundle holds every version of its resources, and a deletion as "
                                  "an entry without one, so what holds now cannot be told; give the current "
                                  "resources (a searchset or a collection)")
        for number, entry in enumerate(as_list(bundle.get("entry"), "entry"), start=1):
            path = sources[number - 1] if sources else f"entry[{number}]"
            item = as_object(entry, path) or {}
            response = as_object(item.get("response"), f"{path}.response") or {}
            answer = (as_text(response.get("status"), f"{path}.response.status") or "").strip()
            if answer[:1] in ("4", "5"):  # (a batch or transaction response)
                raise RecordLoadError(f"{path}.response.status: the server answered {answer} for this entry, so "
                                      f"{self.whole} may lack resources and nothing is advised; give the whole record")
            resource = as_object(item.get("resource"), f"{path}.resource")
            if resource is None:  # (a transaction response's entry may hold none)
                self.sum_up("entry", "it holds no resource", path)
                continue
            if not isinstance(resource.get("resourceType"), str):
                raise RecordLoadError(f"{path}.resource: expected a FHIR resource (an object with a resourceType)")
            self.resources.append((path, resource, as_text(item.get("fullUrl"), f"{path}.fullUrl")))
        for number, link in enumerate(as_list(bundle.get("link"), "link"), start=1):
            relation = as_text((as_object(link, f"link[{number}]") or {}).get("relation"), f"link[{number}].relation")
            if relation == "next":
                # (the Bulk Data reader stops on a missing page too: a course on it would be unknown)
                raise RecordLoadError(f"link[{number}]: the Bundle is one page of a search result and links to the "
                                      "next; a course or condition on a later page would be missed: give every "
                                      "page's resources in one Bundle")
        self.resources = self.one_version_each(self.resources)

    def one_version_each(self, resources: list[tuple[str, dict[str, Any], str | None]]
                         ) -> list[tuple[str, dict[str, Any], str | None]]:
        """A resource read, given twice: a copy is read once, with a word; two versions are refused,
        as the Bulk Data reader refuses them. A history Bundle held a course active and then
        stopped, and both were read: the stopped TNF inhibitor counted as taken (session-37 FHIR
        probe F2). Two entries of one type and id are one resource unless their fullUrls name two
        servers (`_server`: two servers' Condition/1 are two resources); a version-specific,
        relative or urn:uuid fullUrl names none. A copy's fullUrl stays an alias of the one read,
        for the references that name it. Meta and narrative `text` are not what a resource says
        (session-37 reviews R6, N2)."""
        # name -> (server, path, content, resource) of each entry of it read so far
        seen: dict[str, list[tuple[str | None, str, str, dict[str, Any]]]] = {}
        kept = []
        for path, resource, url in resources:
            ident = resource.get("id")
            if isinstance(ident, str) and ident and resource["resourceType"] in READ_TYPES:
                name = f"{resource['resourceType']}/{ident}"
                server = _server(url, name)
                content = json.dumps({k: v for k, v in resource.items() if k not in ("meta", "text")}, sort_keys=True)
                earlier = next((e for e in seen.get(name, []) if e[0] is None or server is None or e[0] == server),
                               None)
                seen.setdefault(name, []).append((server, path, content, resource))
                if earlier is not None and earlier[2] == content:
                    self.left_out.append((path, name, f"not read: {name} again, the same as at {earlier[1]}; "
                                                      "read once"))
                    if url:
                        self.aliases[url] = earlier[3]
                    continue
                if earlier is not None:
                    raise RecordLoadError(f"{path}: {name} again, not the same as at {earlier[1]}: which version "
                                          "holds cannot be told (a history Bundle holds each version); give the "
                                          "current one only")
            kept.append((path, resource, url))
        return kept

    def leave_out(self, path: str, resource: dict[str, Any], why: str) -> None:
        name = f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else str(
            resource.get("resourceType"))
        self.left_out.append((path, name, f"not read: {why}"))

    def sum_up(self, what: str, why: str, path: str, item: str | None = None) -> None:
        summary = self.summaries.setdefault((what, why), _Summary(what, why, [], {}))
        summary.paths.append(path)
        if item:
            summary.items[item] = summary.items.get(item, 0) + 1

    def summed_up(self) -> list[tuple[str, str, str]]:
        out = []
        for summary in self.summaries.values():
            paths = summary.paths
            items = [f"{item} ×{count}" if count > 1 else item for item, count in summary.items.items()]
            named = ", ".join(paths[:_NAMED]) + (f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else "")
            counted = f" ×{len(paths)} ({named})" if len(paths) > 1 else ""
            # (every condition and medication not read is named: one may be a course or a condition
            # the advice should have known; lab codes and resource types are capped)
            cap = _LISTED if summary.what in ("Observation", "resources of other types") else len(items)
            listed = "; ".join(items[:cap]) + (f"; and {len(items) - cap} more" if len(items) > cap else "")
            out.append((paths[0], summary.what, f"not read: {summary.what}{counted}: {summary.why}"
                                                 + (f": {listed}" if listed else "")))
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
                           # (from an export, what no entry gives is said on the Patient's line)
                           "diseaseState": f"{path}.extension", "diagnosis": path if self.exported else "entry"})
        pid = as_text(patient.get("id"), f"{path}.id")
        references = ({f"Patient/{pid}"} if pid else set()) | ({url} if url else set())
        references |= {alias for alias, resource in self.aliases.items() if resource is patient}  # (a copy's)
        self.references, self.pid = references, pid
        for number, identifier in enumerate(as_list(patient.get("identifier"), f"{path}.identifier"), start=1):
            item = as_object(identifier, f"{path}.identifier[{number}]") or {}
            value = as_text(item.get("value"), f"{path}.identifier[{number}].value")
            if value:
                self.identifiers.add((as_text(item.get("system"), f"{path}.identifier[{number}].system"), value))
        refuse_unreadable(patient, path)
        record = self.patient(path, patient)
        medications: dict[str, dict[str, Any]] = {}
        for _, resource, full_url in self.resources:
            if resource["resourceType"] == "Medication":
                if isinstance(resource.get("id"), str):
                    medications[f"Medication/{resource['id']}"] = resource
                if full_url:
                    medications[full_url] = resource
        medications.update({alias: resource for alias, resource in self.aliases.items()
                            if resource["resourceType"] == "Medication"})
        conditions: list[dict[str, Any]] = []
        diagnoses: dict[str, str] = {}
        events: list[tuple[str, dict[str, Any]]] = []
        for path, resource, _ in self.resources:
            kind = resource["resourceType"]
            if (meant := misspelt_type(kind)) is not None:
                raise RecordLoadError(f"{path}.resource.resourceType: {kind!r} is no resource type axspa-kg reads; "
                                      f"{meant!r}, as FHIR spells it? (read as another type, its facts would be lost)")
            if kind != "Patient" and kind not in _READ_ABOUT_PATIENT:  # (not read, but an outcome there is refused)
                refuse_unreadable(resource, path, read=False)
            if kind in ("Patient", "Medication"):
                continue
            if kind in _MEDICATION_EVENTS:
                events.append((path, resource))
                continue
            if kind == "OperationOutcome":  # (a search's outcome entry: the server's word on what it gave)
                said, error = outcome_issues(resource)
                if error:
                    raise RecordLoadError(f"{path}: an OperationOutcome reports an error ({said or 'no detail'}): "
                                          f"{self.whole} may lack resources, so nothing is advised; fix what it "
                                          "reports and give the whole record")
                self.left_out.append((path, kind, f"not read: the server's note ({said})"))
                continue
            if kind == "AllergyIntolerance":  # (one line each: an allergy may bar a drug the advice offers)
                self.leave_out(path, resource, f"{allergy_named(resource, path)}: {ALLERGY_NOT_READ}")
                continue
            if kind not in _READ_ABOUT_PATIENT:
                self.sum_up("resources of other types", "axspa-kg reads Patient, Condition, MedicationStatement, "
                                                        "Medication and Observation resources", path, kind)
                continue
            self.check_subject(path, resource)
            refuse_unreadable(resource, path)
            if kind == "Condition":
                self.condition(path, resource, conditions, diagnoses)
            elif kind == "MedicationStatement":
                self.course(path, resource, medications, record.setdefault("treatments", []))
            else:
                self.measurement(path, resource, record.setdefault("measurements", []))
        # orders, administrations and dispenses once every statement is read (see medication_event)
        taken = {str(self.drugs.exact[c["drug"].lower()]) for c in record.get("treatments", [])
                 if c["drug"].lower() in self.drugs.exact}
        refused: dict[str, tuple[str, list[tuple[str, str]]]] = {}  # drug -> (as shown, [(entry, type)])
        for path, resource in events:
            if found := self.medication_event(path, resource, medications, taken):
                entry, kind, shown, drug = found
                refused.setdefault(drug, (shown, []))[1].append((entry, kind))
        if refused:  # every one named (those of one drug together), so that one run tells what to give
            listed = "; ".join(f"{', '.join(p for p, _ in items)}: {_events(items)} of {shown}"
                               for shown, items in refused.values())
            raise RecordLoadError(f"{listed}, {'a drug' if len(refused) == 1 else 'drugs'} no MedicationStatement of "
                                  f"{self.whole} gives: axspa-kg reads courses from MedicationStatement resources only "
                                  "(an order, administration or dispense does not say how the course went); give "
                                  "each such course as a MedicationStatement with its status and outcome")
        if len(set(diagnoses.values())) > 1:
            found = ", ".join(f"{value} ({where})" for where, value in diagnoses.items())
            raise RecordLoadError(f"{self.where['diagnosis']}: {self.whole} gives two diagnoses, {found}; keep the one "
                                  "that holds")
        if diagnoses:
            where, record["diagnosis"] = next(iter(diagnoses.items()))
            self.where["diagnosis"] = where
        else:
            self.terms["diagnosis"] = ("no Condition gives the diagnosis as current and confirmed; code one of "
                                       f"{self.index.diagnoses_coded}")
        if conditions:
            record["conditions"] = conditions
        return {key: value for key, value in record.items() if value != []}

    def check_subject(self, path: str, resource: dict[str, Any]) -> None:
        """A resource must be about the Bundle's patient: by reference (relative, the fullUrl, an
        absolute URL ending in the patient's id, or a version of it), or by one of its identifiers."""
        subject = resource.get("subject")
        if subject is None:
            raise RecordLoadError(f"{path}.subject: missing; each Condition, MedicationStatement and Observation "
                                  "names its patient")
        subject = as_object(subject, f"{path}.subject") or {}
        reference = as_text(subject.get("reference"), f"{path}.subject.reference")
        patient = " or ".join(sorted(self.references)) or "its Patient (which has no id)"
        if reference is not None:
            if _VERSION.sub("", reference) in self.references or (
                    self.pid and referenced_id(reference, "Patient") == self.pid):
                return
            raise RecordLoadError(f"{path}.subject: {reference!r} is not the Bundle's patient ({patient}); "
                                  "a Bundle holds one patient's resources")
        identifier = as_object(subject.get("identifier"), f"{path}.subject.identifier")
        if identifier is None:
            raise RecordLoadError(f"{path}.subject: gives no reference to the patient (expected {patient})")
        system = as_text(identifier.get("system"), f"{path}.subject.identifier.system")
        value = as_text(identifier.get("value"), f"{path}.subject.identifier.value")
        if value and (system, value) in self.identifiers:
            return
        other = held_under("the Patient", self.identifiers, value)
        raise RecordLoadError(f"{path}.subject.identifier: {system or '(no system)'}|{value} is none of the "
                              f"Bundle's Patient's identifiers{other}; refer to the patient as {patient}")

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
        for key, read in (("deceasedBoolean", as_bool), ("deceasedDateTime", as_text)):
            died = read(patient.get(key), f"{path}.{key}")
            if died is not None and died is not False:
                # (advice is still given, as for a living patient: the record may be reviewed after the
                # fact; but not without a word: session-37 FHIR probe F5)
                self.left_out.append((f"{path}.{key}", _shown(died), f"{self.whole} says the patient has died; "
                                      "the advice below is what the record would get for a living patient"))
        states = extension_values(patient, DISEASE_STATE, path)
        if len(states) > 1:
            raise RecordLoadError(f"{path}.extension: the disease state is given {len(states)} times; give it once")
        if states:
            record["diseaseState"] = states[0]
        return record

    def condition(self, path: str, resource: dict[str, Any], conditions: list[dict[str, Any]],
                  diagnoses: dict[str, str]) -> None:
        codings, text = codeable(resource.get("code"), f"{path}.code")
        concept = concept_of(codings, text, self.index)
        known = concept is not None and concept not in self.index.measures
        # (a status only in words or outside the value set, or abated while active, refuses a
        # Condition the advice reads; one it does not read stays a warning: session-37 reviews R1, N3)
        verification = status_code(resource.get("verificationStatus"), f"{path}.verificationStatus",
                                   VERIFICATION_SYSTEMS, strict=known)
        if verification == "unknown":  # (STU3's value set has it: whether it holds is not known, so it is asked)
            verification = "unconfirmed"
        if verification not in _VERIFICATION | {None}:
            if known:
                raise RecordLoadError(f"{path}.verificationStatus: {verification!r} is not a FHIR condition "
                                      "verification status")
            verification = None
        if verification == "entered-in-error":
            self.leave_out(path, resource, "entered in error")
            return
        clinical = status_code(resource.get("clinicalStatus"), f"{path}.clinicalStatus", CLINICAL_SYSTEMS,
                               strict=known)
        if clinical not in _CLINICAL | {None} and known:
            raise RecordLoadError(f"{path}.clinicalStatus: {clinical!r} is not a FHIR condition clinical status")
        if not known:
            hint = self.maybe(codings, text)
            if hint:  # (it may be a condition that changes the advice: a line of its own)
                self.leave_out(path, resource, f"{describe(codings, text)} is not a condition axspa-kg knows{hint}")
            else:
                self.sum_up("Condition", "not a condition axspa-kg knows", path, describe(codings, text))
            return
        # FHIR R4 con-4: an abated condition is inactive, resolved or in remission; one abated with
        # no clinicalStatus was read as present (session-37 FHIR probe F6: a pregnancy of 2023).
        # (STU3's abatementBoolean false says it has not abated: review R5)
        as_bool(resource.get("abatementBoolean"), f"{path}.abatementBoolean")
        abated = next((key for key in resource if key.startswith("abatement")
                       and resource[key] not in (None, "", False)), None)
        if abated is not None and clinical in _HOLDING - {"remission"}:
            raise RecordLoadError(f"{path}.{abated}: the Condition has ended ({_shown(resource[abated])}) but its "
                                  f"clinicalStatus is {clinical} (FHIR R4 con-4: an abated condition is inactive, "
                                  "resolved or in remission); say which holds")
        ended = clinical in _PAST or (clinical is None and abated is not None)
        if verification == "refuted":
            status = "absent"
        elif verification in _UNSETTLED or ended:
            status = "unknown"
        else:
            status = "present"
        # the diagnosis holds while the disease is quiet (inactive): only a resolved one does not
        if concept in DIAGNOSES and (status == "present" or (status == "unknown" and clinical == "inactive"
                                                               and verification not in _UNSETTLED)):
            diagnoses[path] = DIAGNOSES[concept]
            return
        if concept in DIAGNOSES:
            self.leave_out(path, resource, f"a diagnosis that is not confirmed and current ({status}); "
                                           "the record's diagnosis is the one that holds")
            return
        note = notes_of(resource, path)
        if ended and verification not in _UNSETTLED | {"refuted"}:
            said = f"clinicalStatus: {clinical}" if clinical else f"{abated}: {_shown(resource[abated])}"
            note = " ".join(filter(None, [f"FHIR {said}; whether it still counts is not said.", note]))
        ident = str(concept).removeprefix(str(AX))
        self.entries.setdefault(ident, []).append(path)
        self.episodes.setdefault(ident, []).append(f"{path} {status}" + (f" ({note.rstrip('.')})" if note else ""))
        earlier = next((c for c in conditions if c["condition"] == ident), None)
        if earlier is not None:
            # a problem list writes each episode as a Condition of its own: one statement, present
            # if any entry holds it, absent only if every entry refutes it, else unknown; the note
            # names each entry with its status and note
            if _PRESENCE_RANK[status] > _PRESENCE_RANK[earlier["status"]]:
                earlier["status"] = status
            earlier["note"] = (f"Read as one statement ({earlier['status']}) from {len(self.episodes[ident])} "
                               f"entries: {'; '.join(self.episodes[ident])}.")
            return
        self.where[f"conditions[{len(conditions) + 1}]"] = path
        item: dict[str, Any] = {"condition": ident, "status": status}
        if note:
            item["note"] = note
        conditions.append(item)

    def maybe(self, codings: list[Coding], text: str | None) -> str:
        """A hint when a condition not read names one the knowledge base knows inside its text."""
        found = named_condition([t for t in [text, *(c.display for c in codings)] if t], self.index)
        if found is None:
            return ""
        label, concept = found
        ident = str(concept).removeprefix(str(AX))
        return (f"; its text names {label}: if that is what it records, give a code the knowledge base carries "
                f"or the axspa-kg id {ident!r} (code system {AXSPA_SYSTEM})")

    def drug_name(self, codings: list[Coding], text: str | None, path: str,
                  forms: list[str]) -> tuple[str | None, str, list[str]]:
        """(the name the record's `drug` field gets, what to do with it: "read", "keep" (unresolved,
        so that validation refuses it by name), "leave" (out, with a warning), "local", "injected"
        (a local injection of no depot ester the knowledge base has: out, with a warning) or "depot"
        (read as the depot ester named, with a warning), and the ids of known drugs the text
        mentions but not as the product, for the messages).

        The codes (axspa-kg drug ids, RxNorm, an ATC code only one drug carries) and texts that
        resolve as a JSON record's `drug` does, and the drugs a text names as its product
        (DrugNames.in_text), must name one drug, else the medication is refused (a biosimilar's
        brand beside its reference product names the biosimilar; a combination with a plain
        analgesic is a course of the other drug). The name kept is a text, or the brand found in
        it, before a code: a brand tells a biosimilar from its reference product and an RxNorm
        ingredient code does not. An NSAID or glucocorticoid whose text, route or form says it is
        a local form (a gel, eye drops) is not a course; a systemic glucocorticoid injected into or
        around a joint or a lesion is read as its ingredient's one depot ester, or else is not a
        course either (JOINT_INJECTION). Where nothing names a known drug, the text
        (or code) is kept when a text names one elsewhere ("switch from etanercept"), when an ATC
        code is of a group of the knowledge base's targeted drugs or NSAIDs, or when there is no
        text to say what a code is; else it is left out."""
        codes = [c.code.strip() for c in codings
                 if c.code and (c.system == DRUG_SYSTEM or c.system in RXNORM_SYSTEM)]
        atc = [c.code.strip() for c in codings if c.code and c.system in ATC_SYSTEM]
        texts = [t.strip() for t in [text, *(c.display for c in codings)] if t and t.strip()]
        named = self.drugs.named(codes, atc, texts)
        mentioned = sorted(str(d).removeprefix(DRUG_SYSTEM) for d in named.mentioned)
        if len(named.drugs) > 1:
            shown = ", ".join(sorted(repr(named.names[d]) for d in named.drugs))
            raise RecordLoadError(f"{path}: the medication's codes and text name different drugs ({shown}); "
                                  "give the one that was taken")
        if named.drugs:
            drug = next(iter(named.drugs))
            kind = self.drugs.kind.get(drug)
            local = kind in (NSAID, GLUCOCORTICOID) and any(
                LOCAL_FORM.search(t) or (EYE_FORM.search(t) and not SYSTEMIC_ROUTE.search(t))
                or (kind == GLUCOCORTICOID and RECTAL_FORM.search(t)) for t in texts + forms)
            # (a systemic route written as well leaves the drug as named: "IV ... intra-articular" says two things)
            if (not local and kind == GLUCOCORTICOID and drug not in self.drugs.base_codes
                    and any(JOINT_INJECTION.search(t) for t in texts + forms)
                    and not any(SYSTEMIC_ROUTE.search(t) for t in texts + forms)):
                esters = self.drugs.depot_of.get(drug, frozenset())
                if len(esters) != 1:
                    return named.names[drug], "injected", mentioned
                return self.drugs.label[next(iter(esters))], "depot", mentioned
            return named.names[drug], "local" if local else "read", mentioned
        shown = texts[0] if texts else (codes + atc + [c.code for c in codings if c.code] or [None])[0]
        if shown is None:
            return None, "leave", mentioned
        may_matter = bool(named.mentioned) or any(code[:5].upper() in self.drugs.atc_groups for code in atc) or (
            not texts and any(c.system not in ATC_SYSTEM for c in codings if c.code))
        return shown, "keep" if may_matter else "leave", mentioned

    def referred_medication(self, path: str, resource: dict[str, Any],
                            medications: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """The Medication a resource's medicationReference names: contained (`#m1`), or in the
        Bundle by its fullUrl or as `Medication/<id>` (absolute, or a version of it, too)."""
        contained = as_list(resource.get("contained"), f"{path}.contained")
        reference = resource.get("medicationReference")
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not isinstance(target, str):
            return None
        if target.startswith("#"):
            return next((r for r in contained if isinstance(r, dict) and r.get("resourceType") == "Medication"
                         and f"#{r.get('id')}" == target), None)
        ident = referenced_id(target, "Medication")
        return (medications.get(target) or medications.get(_VERSION.sub("", target))
                or (medications.get(f"Medication/{ident}") if ident else None))

    def medication(self, path: str, resource: dict[str, Any],
                   medications: dict[str, dict[str, Any]]) -> tuple[list[Coding], str | None]:
        """The codings and text of the medication a resource names, inline or by reference."""
        if resource.get("medicationCodeableConcept") is not None:
            return codeable(resource["medicationCodeableConcept"], f"{path}.medicationCodeableConcept")
        reference = as_object(resource.get("medicationReference"), f"{path}.medicationReference")
        if reference is None:
            raise RecordLoadError(f"{path}: no medicationCodeableConcept or medicationReference names the drug")
        medication = self.referred_medication(path, resource, medications)
        if medication is None:
            target = as_text(reference.get("reference"), f"{path}.medicationReference.reference")
            named = target or as_text(reference.get("display"), f"{path}.medicationReference.display")
            raise RecordLoadError(f"{path}.medicationReference: {named!r} is no Medication in {self.whole}"
                                  + ("" if target else " (a reference with only a display names none)"))
        return codeable(medication.get("code"), f"{path}.medicationReference (Medication.code)")

    def medication_event(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]],
                         taken: set[str]) -> tuple[str, str, str, str] | None:
        """An order, administration or dispense. Of a targeted drug (a biologic or JAK inhibitor)
        no MedicationStatement of the Bundle gives, or of a Medication the Bundle does not hold and
        no display names, it is refused (returned as (path, resource type, what it names, the drug
        it is, to group by), for one error naming all): it says nothing of how the course went, and
        read as nothing it would let a failed biologic be recommended again. Of any other drug it is said, one warning a
        drug; one cancelled, a draft or in error is not a course."""
        kind = resource["resourceType"]
        status = as_text(resource.get("status"), f"{path}.status")
        if resource.get("subject") is not None:  # (a dispense may name no subject)
            self.check_subject(path, resource)
        live = status not in ("cancelled", "entered-in-error", "draft")
        if live:  # (its drug is checked: a second form could hide one; review R2, N5)
            one_form_each(resource, path)
        try:
            codings, text = self.medication(path, resource, medications)
        except RecordLoadError:  # (an order for a Medication the Bundle does not hold: its display, if any)
            reference = resource.get("medicationReference")
            shown = reference.get("display") if isinstance(reference, dict) else None
            codings, text = [], shown if isinstance(shown, str) else None
            target = reference.get("reference") if isinstance(reference, dict) else None
            if text is None and live and isinstance(target, str):  # nothing says what it is: it may be a biologic
                missing = referenced_id(target, "Medication")
                return path, kind, f"{target!r} (a Medication {self.whole} does not hold, which may be such a drug)", (
                    f"Medication/{missing}" if missing else target)
        try:
            name = self.drug_name(codings, text, f"{path}.medication", [])[0]
        except RecordLoadError:  # codes and text naming two drugs: said by name
            name = describe(codings, text)
        drug = self.drugs.exact.get(name.lower()) if name else None
        if drug is not None and self.drugs.kind.get(drug) == TARGETED and str(drug) not in taken and live:
            ident = str(drug).removeprefix(DRUG_SYSTEM)
            shown = _as_written(str(name), text)
            return path, kind, repr(shown) + ("" if shown.lower() == ident else f" ({ident})"), str(drug)
        self.sum_up(kind, "courses are read from MedicationStatement resources (give one, with its outcome, "
                          "for a course the guidelines concern)", path, repr(name) if name else None)
        return None

    def course(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]],
               courses: list[dict[str, Any]]) -> None:
        status = as_text(resource.get("status"), f"{path}.status")
        if status not in _MEDICATION_STATUSES:
            raise RecordLoadError(f"{path}.status: {status!r} is not a FHIR MedicationStatement status")
        if status in _NOT_TAKEN:
            self.leave_out(path, resource, f"status {status}: not a course taken")
            return
        codings, text = self.medication(path, resource, medications)
        name, action, mentioned = self.drug_name(codings, text, f"{path}.medication",
                                                 self.forms(path, resource, medications))
        described = describe(codings, text)
        if name is None:
            raise RecordLoadError(f"{path}.medication: no code or text names the drug")
        if action == "local":
            self.leave_out(path, resource, f"{described} is a local form (a gel, drops ...); the guidelines' "
                                           "NSAID and glucocorticoid courses are systemic ones")
            return
        if action == "injected":
            depots = " or ".join(sorted(self.drugs.label.get(d, str(d)) for d in self.drugs.base_codes
                                        if self.drugs.kind.get(d) == GLUCOCORTICOID))
            self.leave_out(path, resource, f"{described} is injected into or around a joint or a lesion, and the "
                                           "knowledge base has no depot form of it (its local glucocorticoids: "
                                           f"{depots}); if one of those was injected, name it")
            return
        if action == "depot":  # (the base ingredient named, given as its depot ester is)
            self.left_out.append((path, described, f"read as a course of {name}: it is injected into or around a "
                                                   "joint or a lesion, a route the knowledge base gives to that "
                                                   "depot ester of the ingredient named, not to the ingredient's "
                                                   "systemic forms"))
            action = "read"
        outcomes, reasons, unread = self.outcomes(path, resource)
        maximal = extension_values(resource, MAXIMAL_DOSE, path)
        # a statement that carries what only the guidelines use (an outcome, a maximal dose, in
        # axspa-kg's terms) is a course meant for them: never left out, refused by name instead
        if action == "leave" and not (outcomes or maximal):
            self.sum_up("MedicationStatement", "names no drug axspa-kg knows (if the guidelines concern one, give "
                                               "its generic name or RxNorm ingredient code)", path, described)
            return
        item: dict[str, Any] = {"drug": name}
        also = " and ".join(mentioned)
        if mentioned and action == "keep":  # the record's message would only say the name is unknown
            self.terms[f"treatments[{len(courses) + 1}].drug"] = (
                f"{name!r} mentions {also}, but not as the product taken; give the drug taken by its generic or "
                "brand name or RxNorm code, and each drug tried as a statement of its own")
        elif mentioned:
            self.left_out.append((path, described, f"read as a course of {_as_written(name, text)}; "
                                                   f"the text also mentions {also}, "
                                                   "which is not read as a course (give each drug tried as a "
                                                   "statement)"))
        if status in _COURSE_STATUS:
            item["status"] = _COURSE_STATUS[status]
        else:  # unknown: the record's own message would name its words (ongoing, stopped)
            self.terms[f"treatments[{len(courses) + 1}].status"] = (
                "status 'unknown' does not say whether the course goes on; give active or on-hold (ongoing), "
                "completed or stopped")
        notes = []
        period = as_object(resource.get("effectivePeriod"), f"{path}.effectivePeriod")
        if period is not None:
            item["start"] = record_date(period.get("start"), f"{path}.effectivePeriod.start")
            item["end"] = record_date(period.get("end"), f"{path}.effectivePeriod.end")
            # an ongoing course's end from today on is a planned end: kept in the detail
            if item.get("status") == "ongoing" and item["end"] and item["end"] >= self.today.isoformat():
                notes.append(f"planned end {item.pop('end')}.")
        elif resource.get("effectiveDateTime") is not None:
            item["start"] = record_date(resource.get("effectiveDateTime"), f"{path}.effectiveDateTime")
        notes += reasons
        self.left_out += unread
        if outcomes:
            item["outcome"] = outcomes
        if maximal:
            item["maximalDose"] = maximal[0]
        dosage = []
        for number, dose in enumerate(as_list(resource.get("dosage"), f"{path}.dosage"), start=1):
            where = f"{path}.dosage[{number}]"
            written = as_text((as_object(dose, where) or {}).get("text"), f"{where}.text")
            if written and written.strip():
                dosage.append(written.strip())
        if dosage:
            item["dose"] = "; ".join(dosage)
        detail = " ".join(filter(None, [notes_of(resource, path), *notes]))
        if detail:
            item["detail"] = detail
        self.where[f"treatments[{len(courses) + 1}]"] = path
        courses.append({k: v for k, v in item.items() if v is not None})

    def outcomes(self, path: str, resource: dict[str, Any]) -> tuple[list[str], list[str], list[tuple[str, str, str]]]:
        """A statement's outcomes (the treatment-outcome extension, then axspa-kg codes in
        statusReason, each checked as one by validation), its reasons as detail notes, and the
        statusReasons not read as outcomes (warnings, when no extension gives the outcome)."""
        outcomes = extension_values(resource, TREATMENT_OUTCOME, path)
        given = bool(outcomes)
        notes, unread = [], []
        for number, reason in enumerate(as_list(resource.get("statusReason"), f"{path}.statusReason"), start=1):
            codings, text = codeable(reason, f"{path}.statusReason[{number}]")
            read = [c.code.strip() for c in codings if c.system == AXSPA_SYSTEM and c.code]
            outcomes += [code for code in read if code not in outcomes]
            shown = text or next((c.display for c in codings if c.display), None)
            if shown:
                notes.append(f"reason: {shown}.")
            if not read and not given:
                unread.append((f"{path}.statusReason[{number}]", describe(codings, text),
                               "not read as an outcome: give the outcome as an axspa-kg code "
                               f"(code system {AXSPA_SYSTEM}) or in the treatment-outcome extension"))
        return outcomes, notes, unread

    def forms(self, path: str, resource: dict[str, Any], medications: dict[str, dict[str, Any]]) -> list[str]:
        """The words of a statement's dosage routes and of its Medication's form, to tell a local form."""
        out = []
        for number, dose in enumerate(as_list(resource.get("dosage"), f"{path}.dosage"), start=1):
            route = (as_object(dose, f"{path}.dosage[{number}]") or {}).get("route")
            codings, text = codeable(route, f"{path}.dosage[{number}].route")
            out += [t for t in [text, *(c.display for c in codings)] if t]
        medication = self.referred_medication(path, resource, medications)
        if medication is not None:
            codings, text = codeable(medication.get("form"), f"{path}.medicationReference (Medication.form)")
            out += [t for t in [text, *(c.display for c in codings)] if t]
        return out

    def measurement(self, path: str, resource: dict[str, Any], measurements: list[dict[str, Any]]) -> None:
        status = as_text(resource.get("status"), f"{path}.status")
        codings, text = codeable(resource.get("code"), f"{path}.code")
        concept = concept_of(codings, text, self.index)
        if concept is None or concept not in self.index.measures:
            self.sum_up("Observation", "not a measure axspa-kg uses", path, describe(codings, text))
            return
        if status not in _OBSERVATION_KEPT:
            self.leave_out(path, resource, f"status {status}: only final, amended or corrected results are read")
            return
        measure = str(concept).removeprefix(str(AX))
        quantity = as_object(resource.get("valueQuantity"), f"{path}.valueQuantity")
        if quantity is None or quantity.get("value") is None:
            self.leave_out(path, resource, f"{measure} without a valueQuantity (the rules compare numbers)")
            return
        comparator = as_text(quantity.get("comparator"), f"{path}.valueQuantity.comparator")
        if comparator is not None:
            if comparator not in ("<", "<=", ">=", ">"):
                raise RecordLoadError(f"{path}.valueQuantity.comparator: {comparator!r} is not a FHIR R4 comparator "
                                      "(<, <=, >=, >)")
            self.leave_out(path, resource, f"{measure} given as {comparator}{quantity.get('value')}: "
                                           "a bound, not a value the rules can compare, so it counts as not recorded")
            return
        # (compared lower-cased, shown as written)
        system = as_text(quantity.get("system"), f"{path}.valueQuantity.system")
        written_code = as_text(quantity.get("code"), f"{path}.valueQuantity.code")
        written_unit = as_text(quantity.get("unit"), f"{path}.valueQuantity.unit")
        code = _unit_text(written_code) if system == UCUM else None
        shown = _unit_text(written_unit)
        unit = code or shown
        written = (written_code if code else written_unit) or ""
        factors = (_unit_factor(measure, code), _unit_factor(measure, shown)) if code and shown else (None, None)
        if None not in factors and factors[0] != factors[1]:
            raise RecordLoadError(f"{path}.valueQuantity: {measure} with UCUM code {written_code!r} but unit "
                                  f"{written_unit!r}; the two disagree, so the value cannot be read safely")
        value = quantity["value"]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RecordLoadError(f"{path}.valueQuantity.value: expected a number, got {json_kind(value)}")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise RecordLoadError(f"{path}.valueQuantity.value: {value!r} is not a number") from exc
        if not number.is_finite():
            raise RecordLoadError(f"{path}.valueQuantity.value: {value!r} is not a finite number")
        if (measure, unit) in _CONVERTED:
            number *= _CONVERTED[(measure, unit)]
        elif measure in _UNITS and unit not in _UNITS[measure]:
            expected = " or ".join(_UNITS_SHOWN[measure])
            given = f"in {written.strip()!r}" if unit else "without a unit"
            raise RecordLoadError(f"{path}.valueQuantity: {measure} {given}; give it in {expected} (UCUM), as the "
                                  "guidelines' thresholds are")
        item: dict[str, Any] = {"measure": measure, "value": format(number, "f")}  # as written: 3.0 stays 3.0
        when, field = resource.get("effectiveDateTime"), "effectiveDateTime"
        if when is None:
            period = as_object(resource.get("effectivePeriod"), f"{path}.effectivePeriod")
            when, field = (period.get("start") if period else None), "effectivePeriod.start"
        if when is not None:
            item["date"] = record_date(when, f"{path}.{field}")
        self.where[f"measurements[{len(measurements) + 1}]"] = path
        measurements.append(item)


def _server(url: str | None, name: str) -> str | None:
    """The server an absolute http(s) fullUrl of `name` (Type/id) names, as host and base path in lower
    case, whatever its scheme or version (`https://EHR.example/fhir/Condition/1/_history/2` gives
    `ehr.example/fhir`); None for a relative or urn:uuid fullUrl, or one not ending in `name`."""
    found = re.match(r"(?i)^https?://(.+?)/" + re.escape(name) + r"(?:/_history/[^/]+)?/?$", url or "")
    return found.group(1).lower() if found else None


def _shown(value: object) -> str:
    """A FHIR element's value as a message shows it: text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _unit_text(value: object) -> str | None:
    """A unit as compared here: trimmed and lower-cased (UCUM's mg/dL and a display's mg/dl agree)."""
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def _unit_factor(measure: str, unit: str) -> Decimal | None:
    """What a value in `unit` is multiplied by to be in the measure's unit, if the unit is known."""
    if unit in _UNITS.get(measure, ()):
        return Decimal(1)
    return _CONVERTED.get((measure, unit))


def _as_written(name: str, text: str | None) -> str:
    """A drug's name as the medication's text writes it ("Humira", where the index holds "humira")."""
    found = re.search(re.escape(name), text or "", re.IGNORECASE)
    return found.group(0) if found else name


def _events(items: list[tuple[str, str]]) -> str:
    """'a MedicationRequest', '2 MedicationRequests and a MedicationDispense': refused orders, by type."""
    counts: dict[str, int] = {}
    for _, kind in items:
        counts[kind] = counts.get(kind, 0) + 1
    return " and ".join(f"a {kind}" if n == 1 else f"{n} {kind}s" for kind, n in counts.items())


def bundle_to_record(bundle: dict[str, Any], index: CodeIndex, drugs: DrugNames,
                     today: date | None = None) -> Converted:
    """A FHIR R4 Bundle of one patient as a plain record (see the module docstring)."""
    if bundle.get("resourceType") != "Bundle":
        raise RecordLoadError(f"resourceType: {bundle.get('resourceType')!r}; axspa-kg reads a FHIR Bundle holding "
                              "the patient and their Conditions, MedicationStatements and Observations")
    reader = _Reader(bundle, index, drugs, today or datetime.now(UTC).date())
    record = reader.read()
    return Converted(record, FhirOrigin(dict(reader.where), tuple(reader.left_out + reader.summed_up()),
                                        dict(reader.terms), {k: ", ".join(v) for k, v in reader.entries.items()}))
