"""FHIR Bulk Data exports (`$export`): NDJSON files of one resource a line, by resource type, for
many patients. A health system's cohort comes this way, not as one Bundle a patient.

The lines are grouped by the patient their `subject` (or `patient`) names, by reference or by one
of the Patient's identifiers, into the Bundle of one patient that reasoner/fhir.py reads, with the
Medications they refer to, so every check and message is the Bundle's. Each entry keeps the file
and line it came from (`SourcedBundle.sources`), and the reader names that instead of `entry[n]`.
A resource of a type the reader does not read (Encounter, Claim ...) is kept as its type alone,
for the warning that counts it (whole, if it carries an axspa-kg extension, which is refused).

Nothing is dropped without a word, and no patient is advised on a record the export may have
lost part of. A line that may have been any patient's stops every patient of the export, each
rejected naming those lines: one that cannot be read (not JSON, a damaged or empty file), that is
no FHIR resource, a Bundle, a misspelt resource type, or has an id that is not text, a second
version of a resource read (same type and id, other content), the server's error report (an
OperationOutcome of severity error), an axspa-kg extension on a Medication, and a resource the
reader reads whose patient cannot be told (`urn:uuid:` subjects, none at all, an identifier no
Patient holds or two do, a reference and an identifier naming two patients). Other lines are
rejected alone, naming their line (and patient): an exact copy of a resource, a Patient or
Medication without an id, the resources of a patient the export has no Patient line for (one
reject a patient), resources about something else (a Location's Observation), resources of other
types about no patient it can place (Practitioner, Organization ...), the server's notes.

A Bulk Data manifest given with the files (the server's list of them) is checked against them:
an export its manifest shows to be partial stops every patient too (reasoner/fhir_manifest.py).

The grouping holds the export's resources in memory until every file is read: an export does
not promise any order, so a patient's last resource may come in the last line of the last file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePath
from typing import Any

from .errors import RecordLoadError, json_kind
from .fhir import READ_TYPES, held_under, misspelt_type, outcome_issues, referenced_id, referenced_kind
from .fhir_elements import AXSPA_MARK
from .fhir_manifest import BLOCK_HEADER, ExportFiles, file_key, first_few, listed_empty, manifest_gaps

# The references a resource names its patient by: Condition, MedicationStatement, Observation,
# orders and dispenses use `subject`; AllergyIntolerance, Immunization and others `patient`.
_PATIENT_FIELDS = ("subject", "patient")


class SourcedBundle(dict):  # type: ignore[type-arg]
    """A Bundle built from an export: the dict the reader reads, and `sources`, the file and line
    of each entry in order (the reader names them in its messages instead of `entry[n]`)."""

    sources: list[str]


def about(patient: str, message: str) -> RecordLoadError:
    """An error about one patient of an export (`patient_id`: its id, for the cohort's rejects)."""
    error = RecordLoadError(message)
    error.patient_id = patient  # type: ignore[attr-defined]
    return error


def line_error(error: RecordLoadError) -> RecordLoadError:
    """Mark an error as about a line (or file) of the export, not a patient: the cohort's summary
    counts patients, and such lines apart."""
    error.line = True  # type: ignore[attr-defined]
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


def about_other(resource: dict[str, Any]) -> bool:
    """Whether a resource's subject is plainly no patient (a Location, a Device, a Group)."""
    for field in _PATIENT_FIELDS:
        reference = resource.get(field)
        kind = referenced_kind(reference.get("reference") if isinstance(reference, dict) else None)
        if kind is not None and kind != "Patient":
            return True
    return False


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


def _a(kind: str) -> str:
    return f"{'an' if kind[:1] in 'AEIOU' else 'a'} {kind}"


class _Export:
    """The lines of one export, sorted by patient as they are read."""

    def __init__(self, organised: bool = False, checked: bool = False) -> None:
        self.organised = organised  # output organised by patient: each block starts with a header line
        # Checked against a manifest: the resources of each file are kept (by type and id, or by
        # content), so that a copy of a file cannot stand in for a missing one.
        self.checked = checked
        self.logs: dict[str, list[str]] = {}  # a Bulk Data client's log file -> its lines
        self.failed: dict[str, str] = {}  # a file the client's log says it failed to download -> that line
        self.patients: dict[str, tuple[str, dict[str, Any]]] = {}
        self.identifiers: dict[tuple[str | None, str], set[str]] = {}  # a Patient's (system, value) -> ids
        self.medications: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (line, Medication)
        self.by_patient: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.by_identifier: list[tuple[str, dict[str, Any], tuple[str | None, str]]] = []
        self.seen: dict[str, tuple[str, int]] = {}  # "Type/id" -> (its first line, a hash of its content)
        self.lost: list[str] = []  # lines that may have held any patient's resource
        self.unplaced: dict[str, list[str]] = {}  # resource type -> lines of those about no patient
        self.stubs: dict[str, dict[str, Any]] = {}  # resource type -> what stands for one not read
        self.both: list[tuple[str, str, tuple[str | None, str]]] = []  # subjects by reference and identifier
        self.files = ExportFiles()  # what each file held, by resource type (checked against a manifest)
        self.gaps: list[str] = []  # what a manifest shows the export lacks

    def lose(self, source: str, why: str) -> RecordLoadError:
        """A line that may have held any patient's resource: no patient of the export is advised."""
        self.lost.append(f"{source} ({why})")
        return RecordLoadError(why)

    def outcome(self, source: str, item: dict[str, Any]) -> RecordLoadError:
        """An OperationOutcome line (Bulk Data's error files): an error means resources are missing."""
        said, error = outcome_issues(item)
        if error:
            return self.lose(source, f"the export server reports an error ({said or 'no detail'}): some resources "
                                     "may be missing")
        return RecordLoadError(f"not read: the export server's note ({said})")

    def place(self, source: str, item: object) -> RecordLoadError | None:
        """Sort one line; the error to reject it with, if any."""
        if isinstance(item, Exception):  # not JSON, a file cut short, an empty file: whose, nobody knows
            return self.lose(source, str(item))
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if isinstance(item, dict) and kind is None and {"exportId", "eventId"} <= item.keys():
            # a Bulk Data client's log (log.ndjson, as SMART's clients write beside the files): a
            # download it says failed, and did not complete after, is a file missing
            self.logs.setdefault(source.rsplit(":", 1)[0], []).append(source)
            detail = item.get("eventDetail") if isinstance(item.get("eventDetail"), dict) else {}
            url = str(detail.get("fileUrl") or detail.get("url") or "a file")
            if item["eventId"] == "download_error":
                self.failed[url] = source
            elif item["eventId"] == "download_complete":
                self.failed.pop(url, None)
            return None
        if not isinstance(kind, str) or not isinstance(item, dict):  # (a record or resource misspelt: anyone's)
            return self.lose(source, "an .ndjson file is read as a FHIR Bulk Data export, one resource a line (this "
                                     "line has no resourceType); for one record a line, name the file .jsonl")
        if kind == "Bundle":
            return self.lose(source, "a Bundle in a Bulk Data export (.ndjson holds one resource a line); give "
                                     "Bundles one a line in a .jsonl file")
        if (meant := misspelt_type(kind)) is not None:
            return self.lose(source, f"resourceType {kind!r} is no resource type axspa-kg reads; {meant!r}, as FHIR "
                                     "spells it?")
        path = source.rsplit(":", 1)[0]
        line_key = hash(source) if self.checked else None
        if kind == "OperationOutcome":  # an export's error file: what the server could not export
            self.files.count(path, kind, line_key)
            return self.outcome(source, item)
        if kind == BLOCK_HEADER and self.organised:  # (a block's header, in output organised by patient)
            self.files.count(path, kind, line_key)
            return None
        ident = item.get("id")
        if ident is not None and not isinstance(ident, str):
            return self.lose(source, f"id: expected text, got {json_kind(ident)} ({ident!r})")
        text = json.dumps(item, sort_keys=True) if ident or kind not in READ_TYPES else ""
        if ident:  # (its meta, lastUpdated and all, is not what it says)
            digest = hash(json.dumps({k: v for k, v in item.items() if k != "meta"}, sort_keys=True))
            first = self.seen.setdefault(f"{kind}/{ident}", (source, digest))
            copy = first[0] != source and first[1] == digest
            self.files.count(path, kind, hash(f"{kind}/{ident}") if self.checked else None)
            if first[0] != source:  # the same id twice: a copy is harmless, two versions of a resource read are not
                if copy:
                    return RecordLoadError(f"{kind}/{ident} again, the same (first at {first[0]}); read once")
                if kind not in READ_TYPES:
                    return RecordLoadError(f"{kind}/{ident} again, not the same as at {first[0]}; not read")
                return self.lose(source, f"{kind}/{ident} again, not the same as at {first[0]}; which one holds "
                                         "cannot be told")
        else:  # (without an id, a resource is told by its content)
            self.files.count(path, kind, hash(text or json.dumps(item, sort_keys=True)) if self.checked else None)
        if kind in ("Patient", "Medication") and not ident:
            error = RecordLoadError(f"a {kind} without an id: nothing can refer to it; give its id")
            error.patient = kind == "Patient"  # type: ignore[attr-defined]  # (a patient not read, not a line)
            return error
        if kind == "Medication" and AXSPA_MARK in json.dumps(item):  # (it reaches a Bundle only if referred to)
            return self.lose(source, "an axspa-kg extension on a Medication: outcomes and doses belong on the "
                                     "MedicationStatement")
        if kind == "Patient":
            self.patients[str(ident)] = (source, item)
            for identifier in item.get("identifier") if isinstance(item.get("identifier"), list) else []:
                if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
                    system = identifier.get("system")
                    key = (system if isinstance(system, str) else None, identifier["value"])
                    self.identifiers.setdefault(key, set()).add(str(ident))
            return None
        if kind == "Medication":
            self.medications[str(ident)] = (source, item)
            return None
        # a type the reader does not read is only counted in its patient's warnings: its type is
        # all that is kept (an export's Claims and Encounters would take most of the memory),
        # unless it carries an axspa-kg extension, which the reader then refuses with its patient, or
        # is an allergy (its warning names what it is about: it may bar a drug the advice offers)
        whole = kind in READ_TYPES or kind == "AllergyIntolerance" or AXSPA_MARK in text
        kept = item if whole else self.stubs.setdefault(kind, {"resourceType": kind})
        identifier = identifier_of(item)
        if (patient := patient_of(item)) is not None:
            self.by_patient.setdefault(patient, []).append((source, kept))
            if identifier is not None:  # (both given: they must name the same patient, checked at the end)
                self.both.append((source, patient, identifier))
        elif identifier is not None:
            self.by_identifier.append((source, kept, identifier))
        elif kind in READ_TYPES and not about_other(item):  # a condition or course of somebody: whose, nobody knows
            return self.lose(source, f"{_a(kind)} whose subject names no patient "
                                     "of the export (give Patient/<id>, or an identifier of the Patient)")
        else:
            self.unplaced.setdefault(kind, []).append(source)
        return None

    def results(self) -> Iterator[tuple[str, object]]:
        """Each patient's Bundle (or why none), then the resources that could not be placed."""
        for url, source in self.failed.items():
            self.lost.append(f"{source} (the Bulk Data client's log says the download of {url} failed)")
        for source, resource, (system, value) in self.by_identifier:
            patients = self.identifiers.get((system, value), set())
            if len(patients) == 1:
                self.by_patient.setdefault(next(iter(patients)), []).append((source, resource))
                continue
            named = f"{system or '(no system)'}|{value}"
            why = (f"the identifier {named}, which the Patients {', '.join(sorted(patients))} all hold" if patients
                   else f"the identifier {named}, which no Patient of the export holds"
                   + held_under("a Patient", self.identifiers, value))
            if resource["resourceType"] in READ_TYPES:  # a condition or course of somebody: whose, nobody knows
                yield source, line_error(self.lose(source, f"its subject names {why}"))
            else:
                yield source, line_error(RecordLoadError(
                    f"not read: {_a(resource['resourceType'])} whose subject names {why}"))
        for source, patient, (system, value) in self.both:
            holders = self.identifiers.get((system, value), set())
            if holders and patient not in holders:  # the reference and the identifier name two patients
                yield source, line_error(self.lose(source, f"its subject names Patient/{patient} by reference but "
                                                           f"{system or '(no system)'}|{value}, an identifier of "
                                                           f"{', '.join(sorted(holders))}"))
        stopped = self.stopped()
        for ident, (source, patient) in self.patients.items():
            resources = self.by_patient.pop(ident, [])
            if stopped:
                yield source, about(ident, stopped)
                continue
            referred = [self.medications[m] for m in _medications_named(resources) if m in self.medications]
            entries = [(source, patient), *resources, *referred]
            bundle = SourcedBundle(resourceType="Bundle", type="collection",
                                   entry=[{"resource": resource} for _, resource in entries])
            bundle.sources = [where for where, _ in entries]
            yield source, bundle
        for ident, resources in self.by_patient.items():
            kinds = sorted({resource["resourceType"] for _, resource in resources})
            many = len(resources) > 1
            yield resources[0][0], about(ident, (
                f"{len(resources)} resource{'s' if many else ''} ({', '.join(kinds)}) name{'' if many else 's'} "
                f"Patient/{ident}, which no Patient line of the export gives (first at {resources[0][0]}); export "
                "the Patient too"))
        for path, sources in self.logs.items():
            yield sources[0], line_error(RecordLoadError(
                f"not read: {path} is a Bulk Data client's log ({len(sources)} line{'s' if len(sources) > 1 else ''}: "
                "exportId, eventId), not resources"))
        for kind, sources in self.unplaced.items():
            many = len(sources) > 1
            yield sources[0], line_error(RecordLoadError(
                f"not read: {len(sources)} {kind} resource{'s' if many else ''} (first at {sources[0]}) "
                f"name{'' if many else 's'} no patient by subject or patient; axspa-kg reads each patient's "
                "Patient, Condition, MedicationStatement, Observation and order (MedicationRequest, "
                "MedicationAdministration, MedicationDispense) resources, and the Medications they name"))

    def stopped(self) -> str | None:
        """Why no patient of the export is advised, if none is."""
        why = []
        if self.lost:
            why.append(f"the export has lines that could not be read or placed ({first_few(self.lost)}), and any "
                       "patient's record may lack what they held; mend them (each is rejected on its own line)")
        if self.gaps:
            why.append(f"the export's manifest shows that any patient's record may lack part of what the server "
                       f"holds ({first_few(self.gaps)})")
        return f"not advised: {'; and '.join(why)}; then run again" if why else None


def bulk_bundles(lines: Iterable[tuple[str, object]], manifests: Sequence[tuple[str, dict[str, Any] | str]] = (),
                 given: Iterable[str] = ()) -> Iterator[tuple[str, object]]:
    """(source, Bundle or error) for each patient of an export, given its lines as (file:line,
    parsed JSON or the error reading it): first each line rejected, then each manifest (source,
    manifest) that shows the export partial (`given`: the paths of its files), then the patients
    in the order of their Patient lines, then what could not be placed with a patient."""
    export = _Export(organised=any(isinstance(m, dict) and m.get("outputOrganizedBy") is not None
                                   for _, m in manifests), checked=bool(manifests))
    empty = listed_empty(manifests)
    for source, item in lines:
        if getattr(item, "empty", False) and file_key(PurePath(source).name) in empty:
            continue  # (a file its manifest lists with a count of 0, given empty)
        error = export.place(source, item)
        if error is not None:  # (named with its patient, where it names one)
            named = None
            if isinstance(item, dict):
                named = item.get("id") if item.get("resourceType") == "Patient" else patient_of(item)
            error = about(named, str(error)) if isinstance(named, str) else error
            yield source, error if getattr(error, "patient", False) else line_error(error)
    if manifests:
        for source, gaps in manifest_gaps(list(manifests), export.files, list(given)).items():
            export.gaps.append(f"{source}: {gaps.said()}")
            yield source, line_error(RecordLoadError(f"a Bulk Data manifest that shows the export is not whole: "
                                                     f"{gaps.said()}"))
    yield from export.results()
