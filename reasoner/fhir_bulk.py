"""FHIR Bulk Data exports (`$export`): NDJSON files of one resource a line, by resource type, for
many patients. A health system's cohort comes this way, not as one Bundle a patient.

The lines are grouped by the patient their `subject` (or `patient`) names, by reference or by one
of the Patient's identifiers, into the Bundle of one patient that reasoner/fhir.py reads, with the
Medications they refer to, so every check and message is the Bundle's. Each entry keeps the file
and line it came from (`SourcedBundle.sources`), and the reader names that instead of `entry[n]`.
A resource of a type the reader does not read (Encounter, Claim ...) is kept as its type alone,
for the warning that counts it.

Nothing is dropped without a word, and no patient is advised on a record the export may have
lost part of. A line that cannot be read (not JSON, a damaged file), or a resource the reader
reads that names no patient it can place (`urn:uuid:` subjects, none at all), may have been any
patient's: then no patient of the export is advised, each rejected naming those lines. Other
lines are rejected alone, naming their line: one that is no FHIR resource, a Bundle, a Patient
without an id or given twice, a resource given twice, the resources of a patient the export has
no Patient line for (one reject a patient), and resources of other types about no patient
(Practitioner, Organization ...: one reject a type, with their count).

The grouping holds the export's resources in memory until every file is read: an export does
not promise any order, so a patient's last resource may come in the last line of the last file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .errors import RecordLoadError, json_kind
from .fhir import READ_TYPES, referenced_id

# The references a resource names its patient by: Condition, MedicationStatement, Observation,
# orders and dispenses use `subject`; AllergyIntolerance, Immunization and others `patient`.
_PATIENT_FIELDS = ("subject", "patient")
# At most this many lines are named in a message about lines not read.
_NAMED = 5


class SourcedBundle(dict):  # type: ignore[type-arg]
    """A Bundle built from an export: the dict the reader reads, and `sources`, the file and line
    of each entry in order (the reader names them in its messages instead of `entry[n]`)."""

    sources: list[str]


class NothingRead(RecordLoadError):
    """An export file without a line: said, though it hides no patient's resource."""


def about(patient: str, message: str) -> RecordLoadError:
    """An error about one patient of an export (`patient_id`: its id, for the cohort's rejects)."""
    error = RecordLoadError(message)
    error.patient_id = patient  # type: ignore[attr-defined]
    return error


def patient_of(resource: dict[str, Any]) -> str | None:
    """The id of the patient a resource refers to by reference (`Patient/123`, an absolute URL
    ending so, or a version of it), or None."""
    for field in _PATIENT_FIELDS:
        reference = resource.get(field)
        found = referenced_id(reference.get("reference") if isinstance(reference, dict) else None, "Patient")
        if found:
            return found
    return None


def identifier_of(resource: dict[str, Any]) -> tuple[str | None, str] | None:
    """The (system, value) a resource names its patient by, when it gives an identifier only."""
    for field in _PATIENT_FIELDS:
        reference = resource.get(field)
        identifier = reference.get("identifier") if isinstance(reference, dict) else None
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            system = identifier.get("system")
            return (system if isinstance(system, str) else None), identifier["value"]
    return None


def _medications_named(resources: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The Medication ids a patient's resources refer to (any form of reference), each once."""
    named: dict[str, None] = {}
    for _, resource in resources:
        reference = resource.get("medicationReference")
        ident = referenced_id(reference.get("reference") if isinstance(reference, dict) else None, "Medication")
        if ident:
            named[ident] = None
    return list(named)


def _lines(sources: list[str]) -> str:
    return ", ".join(sources[:_NAMED]) + (f" and {len(sources) - _NAMED} more" if len(sources) > _NAMED else "")


class _Export:
    """The lines of one export, sorted by patient as they are read."""

    def __init__(self) -> None:
        self.patients: dict[str, tuple[str, dict[str, Any]]] = {}
        self.identifiers: dict[tuple[str | None, str], str] = {}  # a Patient's (system, value) -> its id
        self.medications: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (line, Medication)
        self.by_patient: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.by_identifier: list[tuple[str, dict[str, Any], tuple[str | None, str]]] = []
        self.seen: dict[str, str] = {}  # "Type/id" -> its first line
        self.lost: list[str] = []  # lines that may have held any patient's resource
        self.unplaced: dict[str, list[str]] = {}  # resource type -> lines of those about no patient
        self.stubs: dict[str, dict[str, Any]] = {}  # resource type -> what stands for one not read

    def place(self, source: str, item: object) -> RecordLoadError | None:
        """Sort one line; the error to reject it with, if any."""
        if isinstance(item, NothingRead):
            return item
        if isinstance(item, Exception):  # not JSON, or a file cut short: whose it was, nobody knows
            self.lost.append(f"{source} ({item})")
            return item if isinstance(item, RecordLoadError) else RecordLoadError(str(item))
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not isinstance(item, dict):
            return RecordLoadError("an .ndjson file is read as a FHIR Bulk Data export, one resource a line (this "
                                   "line has no resourceType); for one record a line, name the file .jsonl")
        if kind == "Bundle":
            return RecordLoadError("a Bundle in a Bulk Data export (.ndjson holds one resource a line); give "
                                   "Bundles one a line in a .jsonl file")
        ident = item.get("id")
        if ident is not None and not isinstance(ident, str):
            return RecordLoadError(f"id: expected text, got {json_kind(ident)} ({ident!r})")
        if ident:
            if f"{kind}/{ident}" in self.seen:
                return RecordLoadError(f"{kind}/{ident} again (first at {self.seen[f'{kind}/{ident}']}); an "
                                       "export gives each resource once")
            self.seen[f"{kind}/{ident}"] = source
        if kind in ("Patient", "Medication") and not ident:
            return RecordLoadError(f"a {kind} without an id: nothing can refer to it; give its id")
        if kind == "Patient":
            self.patients[str(ident)] = (source, item)
            for identifier in item.get("identifier") if isinstance(item.get("identifier"), list) else []:
                if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                    system = identifier.get("system")
                    self.identifiers[(system if isinstance(system, str) else None, identifier["value"])] = str(ident)
            return None
        if kind == "Medication":
            self.medications[str(ident)] = (source, item)
            return None
        # a type the reader does not read is only counted in its patient's warnings: its type is
        # all that is kept (an export's Claims and Encounters would take most of the memory)
        kept = item if kind in READ_TYPES else self.stubs.setdefault(kind, {"resourceType": kind})
        if (patient := patient_of(item)) is not None:
            self.by_patient.setdefault(patient, []).append((source, kept))
        elif (identifier := identifier_of(item)) is not None:
            self.by_identifier.append((source, kept, identifier))
        elif kind in READ_TYPES:  # a condition or course of somebody: whose, nobody knows
            self.lost.append(f"{source} ({kind} naming no patient as Patient/<id> or by identifier)")
            return RecordLoadError(f"a {kind} whose subject names no patient of the export (give Patient/<id>, or "
                                   "an identifier of the Patient)")
        else:
            self.unplaced.setdefault(kind, []).append(source)
        return None

    def results(self) -> Iterator[tuple[str, object]]:
        """Each patient's Bundle (or why none), then the resources that could not be placed."""
        orphans: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for source, resource, (system, value) in self.by_identifier:
            patient = self.identifiers.get((system, value))
            if patient is not None:
                self.by_patient.setdefault(patient, []).append((source, resource))
            else:
                orphans.setdefault(f"the identifier {system or '(no system)'}|{value}", []).append((source, resource))
        for ident, (source, patient) in self.patients.items():
            resources = self.by_patient.pop(ident, [])
            if self.lost:
                yield source, about(ident, f"not advised: the export has lines that could not be read or placed "
                                           f"({_lines(self.lost)}), and any patient's record may lack what they "
                                           "held; mend them (each is rejected on its own line) and run again")
                continue
            referred = [self.medications[m] for m in _medications_named(resources) if m in self.medications]
            entries = [(source, patient), *resources, *referred]
            bundle = SourcedBundle(resourceType="Bundle", type="collection",
                                   entry=[{"resource": resource} for _, resource in entries])
            bundle.sources = [where for where, _ in entries]
            yield source, bundle
        orphans |= {f"Patient/{ident}": resources for ident, resources in self.by_patient.items()}
        for named, resources in orphans.items():
            kinds = sorted({resource["resourceType"] for _, resource in resources})
            many = len(resources) > 1
            error = RecordLoadError(
                f"{len(resources)} resource{'s' if many else ''} ({', '.join(kinds)}) name{'' if many else 's'} "
                f"{named}, which no Patient line of the export gives (first at {resources[0][0]}); export the "
                "Patient too")
            if named.startswith("Patient/"):
                error = about(named.removeprefix("Patient/"), str(error))
            yield resources[0][0], error
        for kind, sources in self.unplaced.items():
            many = len(sources) > 1
            yield sources[0], RecordLoadError(
                f"not read: {len(sources)} {kind} resource{'s' if many else ''} (first at {sources[0]}) "
                f"name{'' if many else 's'} no patient by subject or patient; axspa-kg reads each patient's "
                "Patient, Condition, MedicationStatement, Medication and Observation resources")


def bulk_bundles(lines: Iterable[tuple[str, object]]) -> Iterator[tuple[str, object]]:
    """(source, Bundle or error) for each patient of an export, given its lines as (file:line,
    parsed JSON or the error reading it): first each line rejected, then the patients in the order
    of their Patient lines, then what could not be placed with a patient."""
    export = _Export()
    for source, item in lines:
        error = export.place(source, item)
        if error is not None:
            yield source, (about(str(item["id"]), str(error)) if isinstance(item, dict) and item.get(
                "resourceType") == "Patient" and isinstance(item.get("id"), str) else error)
    yield from export.results()
