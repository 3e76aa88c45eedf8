"""FHIR Bulk Data exports (`$export`): NDJSON files of one resource a line, by resource type, for
many patients. A health system's cohort comes this way, not as one Bundle a patient.

The lines are grouped by the patient their `subject` (or `patient`) names into the Bundle of one
patient that reasoner/fhir.py reads, with the Medications they refer to, so every check and
message is the Bundle's. Each entry keeps the file and line it came from (`SourcedBundle.sources`),
and the reader names that instead of `entry[n]`. A resource of a type the reader does not read
(Encounter, Claim ...) is kept as its type alone, for the warning that counts it. Nothing is
dropped without a word: a line that is no resource, a Patient without an id or given twice, and
resources of a patient the export holds no Patient line for are rejected, naming the line;
resources about no patient (Practitioner, Organization ...) are one reject a type, with their
count.

The grouping holds the export's resources in memory until every file is read: an export does
not promise any order, so a patient's last resource may come in the last line of the last file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import RecordLoadError
from .fhir import READ_TYPES

# The references a resource names its patient by: Condition, MedicationStatement, Observation,
# orders and dispenses use `subject`; AllergyIntolerance, Immunization and others `patient`.
_PATIENT_FIELDS = ("subject", "patient")
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")


class SourcedBundle(dict):  # type: ignore[type-arg]
    """A Bundle built from an export: the dict the reader reads, and `sources`, the file and line
    of each entry in order (the reader names them in its messages instead of `entry[n]`)."""

    sources: list[str]


def patient_of(resource: dict[str, Any]) -> str | None:
    """The id of the patient a resource refers to (`Patient/123`, an absolute URL ending so, or a
    version of it), or None."""
    for field in _PATIENT_FIELDS:
        reference = resource.get(field)
        text = reference.get("reference") if isinstance(reference, dict) else None
        found = _PATIENT_REFERENCE.search(text) if isinstance(text, str) else None
        if found:
            return found.group(1)
    return None


def _medications_named(resources: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The `Medication/<id>` references of a patient's resources, each once, in order."""
    named: dict[str, None] = {}
    for _, resource in resources:
        reference = resource.get("medicationReference")
        text = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(text, str) and text.startswith("Medication/"):
            named[text] = None
    return list(named)


def bulk_bundles(lines: Iterable[tuple[str, object]]) -> Iterator[tuple[str, object]]:
    """(source, Bundle or error) for each patient of an export, given its lines as (file:line,
    parsed JSON or the error reading it), in the order of the Patient lines; then what could not be
    placed with a patient."""
    patients: dict[str, tuple[str, dict[str, Any]]] = {}
    medications: dict[str, tuple[str, dict[str, Any]]] = {}
    by_patient: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    unplaced: dict[str, list[str]] = {}  # resource type -> the lines of those naming no patient
    stubs: dict[str, dict[str, Any]] = {}  # resource type -> what stands for one the reader does not read
    for source, item in lines:
        if isinstance(item, Exception):
            yield source, item
            continue
        kind = item.get("resourceType") if isinstance(item, dict) else None
        if not isinstance(kind, str):
            yield source, RecordLoadError("an .ndjson file is read as a FHIR Bulk Data export, one resource a line "
                                          "(this line has no resourceType); for one record a line, name the file "
                                          ".jsonl")
            continue
        assert isinstance(item, dict)
        if kind == "Bundle":
            yield source, RecordLoadError("a Bundle in a Bulk Data export (.ndjson holds one resource a line); give "
                                          "Bundles one a line in a .jsonl file")
            continue
        ident = item.get("id")
        if kind in ("Patient", "Medication") and not (isinstance(ident, str) and ident):
            yield source, RecordLoadError(f"a {kind} without an id: nothing can refer to it; give its id")
            continue
        if kind == "Patient":
            if ident in patients:
                yield source, RecordLoadError(f"Patient {ident!r} again (first at {patients[ident][0]}); an export "
                                              "gives each patient once")
                continue
            patients[ident] = (source, item)
        elif kind == "Medication":
            medications[f"Medication/{ident}"] = (source, item)
        elif (patient := patient_of(item)) is not None:
            # a type the reader does not read is only counted in the patient's warnings: its type
            # is all that is kept (an export's Claims and Encounters would take most of the memory)
            kept = item if kind in READ_TYPES else stubs.setdefault(kind, {"resourceType": kind})
            by_patient.setdefault(patient, []).append((source, kept))
        else:
            unplaced.setdefault(kind, []).append(source)
    for ident, (source, patient) in patients.items():
        resources = by_patient.pop(ident, [])
        referred = [medications[m] for m in _medications_named(resources) if m in medications]
        entries = [(source, patient), *resources, *referred]
        bundle = SourcedBundle(resourceType="Bundle", type="collection",
                               entry=[{"resource": resource} for _, resource in entries])
        bundle.sources = [where for where, _ in entries]
        yield source, bundle
    for ident, resources in by_patient.items():
        kinds = sorted({resource["resourceType"] for _, resource in resources})
        many = len(resources) > 1
        yield resources[0][0], RecordLoadError(
            f"{len(resources)} resource{'s' if many else ''} ({', '.join(kinds)}) name{'' if many else 's'} "
            f"Patient/{ident}, "
            f"which no Patient line of the export gives (first at {resources[0][0]}); export the Patient too")
    for kind, sources in unplaced.items():
        many = len(sources) > 1
        yield sources[0], RecordLoadError(
            f"not read: {len(sources)} {kind} resource{'s' if many else ''} (first at {sources[0]}) "
            f"name{'' if many else 's'} no patient by subject or patient; axspa-kg reads each patient's Patient, "
            "Condition, MedicationStatement, Medication and Observation resources")
