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
an export its manifest shows to be partial stops every patient too (`manifest_gaps`).

The grouping holds the export's resources in memory until every file is read: an export does
not promise any order, so a patient's last resource may come in the last line of the last file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .errors import RecordLoadError, json_kind
from .fhir import READ_TYPES, held_under, misspelt_type, referenced_id, referenced_kind
from .fhir_elements import AXSPA_MARK

# The references a resource names its patient by: Condition, MedicationStatement, Observation,
# orders and dispenses use `subject`; AllergyIntolerance, Immunization and others `patient`.
_PATIENT_FIELDS = ("subject", "patient")
# At most this many lines are named in a message about lines not read.
_NAMED = 5
# $export parameters that leave part of each patient's record out of the files, and what they ask for.
_PARTIAL = {"_since": "only what changed since", "_typeFilter": "only the resources matching",
            "_elements": "only some elements of each resource:"}


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


def is_manifest(document: object) -> bool:
    """Whether a JSON document is a Bulk Data manifest (the completed export's list of files)."""
    return isinstance(document, dict) and "transactionTime" in document and isinstance(document.get("output"), list)


def _file_name(url: object) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] if isinstance(url, str) else ""


def _asked(manifest: dict[str, Any]) -> list[str]:
    """What the export's request (kept in the manifest) left out of each patient's record."""
    request = manifest.get("request")
    query = parse_qs(urlsplit(request).query) if isinstance(request, str) else {}
    gaps = [f"it was asked for {said} {', '.join(query[name])} ({name} in its request)"
            for name, said in _PARTIAL.items() if name in query]
    if "_type" in query:
        asked = {kind.strip() for value in query["_type"] for kind in value.split(",")}
        # (Medication is not asked of: a statement naming a Medication the export lacks is refused with its patient)
        if left := sorted(READ_TYPES - asked - {"Medication"}):
            gaps.append(f"it was asked for some resource types only, without {', '.join(left)} (_type in its "
                        "request)")
    if isinstance(manifest.get("deleted"), list) and manifest["deleted"]:
        gaps.append("it lists deleted resources: it holds what changed since a date, not whole records")
    return gaps


def manifest_gaps(manifest: dict[str, Any], counted: Counter[str], given: set[str]) -> list[str]:
    """Why the files given are not the whole export the manifest lists: an export asked for part
    of each record (`_since`, `_typeFilter`, `_elements`, `_type` leaving out a type the reader
    reads), or fewer resources of a type than its files hold (by their `count`, where each file of
    the type gives one), or none of a type it lists (error files included). `counted`: the lines
    read, by resource type; `given`: the names of the files given, to name those missing (files
    are often saved under other names than the server's, so names are only a hint)."""
    gaps = _asked(manifest)
    listed: dict[str | None, list[dict[str, Any]]] = {}
    for field in ("output", "error"):
        items = manifest.get(field)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                kind = item.get("type")
                kind = kind if isinstance(kind, str) else "OperationOutcome" if field == "error" else None
                listed.setdefault(kind, []).append(item)
    for kind, items in listed.items():
        # (files organised by patient name no type: they are counted together)
        read = counted[kind] if kind else sum(n for k, n in counted.items() if k != "OperationOutcome")
        what = f"{kind} resources" if kind else "resources"
        unseen = [name for name in map(_file_name, (i.get("url") for i in items)) if name and name not in given]
        hint = f" (not given under these names: {_lines(unseen)})" if unseen else ""
        files = f"{len(items)} file{'s' if len(items) > 1 else ''}"
        counts = [i.get("count") for i in items]
        if all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
            if read < (expected := sum(counts)):
                gaps.append(f"it lists {expected} {what} in {files}; the files given hold {read}{hint}")
        elif not read:
            gaps.append(f"it lists {files} of {what}; the files given hold none{hint}")
    return gaps


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


def _lines(sources: list[str]) -> str:
    return ", ".join(sources[:_NAMED]) + (f" and {len(sources) - _NAMED} more" if len(sources) > _NAMED else "")


class _Export:
    """The lines of one export, sorted by patient as they are read."""

    def __init__(self) -> None:
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
        self.counted: Counter[str] = Counter()  # lines read, by resource type (checked against a manifest)
        self.gaps: list[str] = []  # what a manifest shows the export lacks

    def lose(self, source: str, why: str) -> RecordLoadError:
        """A line that may have held any patient's resource: no patient of the export is advised."""
        self.lost.append(f"{source} ({why})")
        return RecordLoadError(why)

    def outcome(self, source: str, item: dict[str, Any]) -> RecordLoadError:
        """An OperationOutcome line (Bulk Data's error files): an error means resources are missing."""
        issues = [i for i in item.get("issue") if isinstance(i, dict)] if isinstance(item.get("issue"), list) else []
        said = "; ".join(str(i.get("diagnostics") or (i.get("details") or {}).get("text") or i.get("code"))
                         for i in issues if isinstance(i.get("details") or {}, dict))
        if any(i.get("severity") in ("error", "fatal") for i in issues) or not issues:
            return self.lose(source, f"the export server reports an error ({said or 'no detail'}): some resources "
                                     "may be missing")
        return RecordLoadError(f"not read: the export server's note ({said})")

    def place(self, source: str, item: object) -> RecordLoadError | None:
        """Sort one line; the error to reject it with, if any."""
        if isinstance(item, Exception):  # not JSON, a file cut short, an empty file: whose, nobody knows
            return self.lose(source, str(item))
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not isinstance(item, dict):  # (a record or resource misspelt: anyone's)
            return self.lose(source, "an .ndjson file is read as a FHIR Bulk Data export, one resource a line (this "
                                     "line has no resourceType); for one record a line, name the file .jsonl")
        if kind == "Bundle":
            return self.lose(source, "a Bundle in a Bulk Data export (.ndjson holds one resource a line); give "
                                     "Bundles one a line in a .jsonl file")
        self.counted[kind] += 1
        if (meant := misspelt_type(kind)) is not None:
            return self.lose(source, f"resourceType {kind!r} is no resource type axspa-kg reads; {meant!r}, as FHIR "
                                     "spells it?")
        if kind == "OperationOutcome":  # an export's error file: what the server could not export
            return self.outcome(source, item)
        ident = item.get("id")
        if ident is not None and not isinstance(ident, str):
            return self.lose(source, f"id: expected text, got {json_kind(ident)} ({ident!r})")
        text = json.dumps(item, sort_keys=True) if ident or kind not in READ_TYPES else ""
        if ident:  # (its meta, lastUpdated and all, is not what it says)
            digest = hash(json.dumps({k: v for k, v in item.items() if k != "meta"}, sort_keys=True))
            first = self.seen.setdefault(f"{kind}/{ident}", (source, digest))
            if first[0] != source:  # the same id twice: a copy is harmless, two versions of a resource read are not
                if first[1] == digest:
                    return RecordLoadError(f"{kind}/{ident} again, the same (first at {first[0]}); read once")
                if kind not in READ_TYPES:
                    return RecordLoadError(f"{kind}/{ident} again, not the same as at {first[0]}; not read")
                return self.lose(source, f"{kind}/{ident} again, not the same as at {first[0]}; which one holds "
                                         "cannot be told")
        if kind in ("Patient", "Medication") and not ident:
            return RecordLoadError(f"a {kind} without an id: nothing can refer to it; give its id")
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
        # unless it carries an axspa-kg extension, which the reader then refuses with its patient
        kept = item if kind in READ_TYPES or AXSPA_MARK in text else self.stubs.setdefault(
            kind, {"resourceType": kind})
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
        for kind, sources in self.unplaced.items():
            many = len(sources) > 1
            yield sources[0], line_error(RecordLoadError(
                f"not read: {len(sources)} {kind} resource{'s' if many else ''} (first at {sources[0]}) "
                f"name{'' if many else 's'} no patient by subject or patient; axspa-kg reads each patient's "
                "Patient, Condition, MedicationStatement, Medication and Observation resources"))

    def stopped(self) -> str | None:
        """Why no patient of the export is advised, if none is."""
        why = []
        if self.lost:
            why.append(f"the export has lines that could not be read or placed ({_lines(self.lost)}), and any "
                       "patient's record may lack what they held; mend them (each is rejected on its own line)")
        if self.gaps:
            why.append(f"the export's manifest shows the files given are not the whole export "
                       f"({'; '.join(self.gaps)}), and any patient's record may lack part of what the server holds; "
                       "give the whole export")
        return f"not advised: {'; and '.join(why)} and run again" if why else None


def bulk_bundles(lines: Iterable[tuple[str, object]], manifests: Sequence[tuple[str, dict[str, Any]]] = (),
                 given: Iterable[str] = ()) -> Iterator[tuple[str, object]]:
    """(source, Bundle or error) for each patient of an export, given its lines as (file:line,
    parsed JSON or the error reading it): first each line rejected, then each manifest (source,
    manifest) that shows the export partial (`given`: the names of its files), then the patients
    in the order of their Patient lines, then what could not be placed with a patient."""
    export = _Export()
    for source, item in lines:
        error = export.place(source, item)
        if error is not None:  # (named with its patient, where it names one)
            named = None
            if isinstance(item, dict):
                named = item.get("id") if item.get("resourceType") == "Patient" else patient_of(item)
            yield source, line_error(about(named, str(error)) if isinstance(named, str) else error)
    names = set(given)
    for source, manifest in manifests:
        if gaps := manifest_gaps(manifest, export.counted, names):
            export.gaps.append(f"{source}: {'; '.join(gaps)}")
            yield source, line_error(RecordLoadError(
                f"a Bulk Data manifest that shows the files given are not the whole export: {'; '.join(gaps)}"))
    yield from export.results()
