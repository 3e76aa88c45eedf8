"""Generated patients in FHIR's forms, for benchmarks and tests: a plain record as the FHIR R4
Bundle a careful exporter would write (`to_bundle`), and Bundles as a FHIR Bulk Data export
(`write_export`: NDJSON files by resource type, the patients' lines interleaved).

The Bundles carry axspa-kg ids and extensions only where FHIR has no element for a fact (README,
"FHIR R4 Bundles"); drugs go as the record names them (brand, generic name, RxNorm code), as a
medication's text. tests/test_fhir_twins.py checks that each gives the advice of its plain record.
"""

from __future__ import annotations

import gzip
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

EXT = "https://w3id.org/axspa-kg/fhir/StructureDefinition/"
AXSPA = "https://w3id.org/axspa-kg/ontology"
DIAGNOSES = {"AS": "ankylosing_spondylitis", "r-axSpA": "ankylosing_spondylitis", "nr-axSpA": "nr_axspa",
             "axSpA": "axial_spa"}
PRESENCE = {"present": ("active", "confirmed"), "absent": (None, "refuted"), "unknown": (None, "unconfirmed")}
UNITS = {"crp": "mg/L", "esr": "mm/h"}


def coded(code: str) -> dict[str, Any]:
    return {"coding": [{"system": AXSPA, "code": code}]}


def status(system: str, code: str | None) -> dict[str, Any] | None:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system}", "code": code}]} if code else None


def to_bundle(record: dict[str, Any]) -> dict[str, Any]:
    """A plain record as the FHIR Bundle a careful exporter would write."""
    pid = record["id"]
    subject = {"reference": f"Patient/{pid}"}
    patient: dict[str, Any] = {"resourceType": "Patient", "id": pid}
    if "sex" in record:
        patient["gender"] = record["sex"]
    if "age" in record:  # born on 1 January: whole years today are the record's age
        patient["birthDate"] = f"{date.today().year - record['age']:04d}-01-01"
    if "diseaseState" in record:
        patient["extension"] = [{"url": EXT + "disease-state", "valueCode": record["diseaseState"]}]
    resources = [patient]
    if "diagnosis" in record:
        resources.append({"resourceType": "Condition", "code": coded(DIAGNOSES[record["diagnosis"]]),
                          "subject": subject})
    for item in record.get("conditions", []):
        clinical, verification = PRESENCE[item["status"]]
        condition = {"resourceType": "Condition", "code": coded(item["condition"]), "subject": subject,
                     "clinicalStatus": status("condition-clinical", clinical),
                     "verificationStatus": status("condition-ver-status", verification)}
        if item.get("note"):
            condition["note"] = [{"text": item["note"]}]
        resources.append({k: v for k, v in condition.items() if v is not None})
    for item in record.get("measurements", []):
        quantity: dict[str, Any] = {"value": item["value"]}
        if item["measure"] in UNITS:
            quantity.update(system="http://unitsofmeasure.org", code=UNITS[item["measure"]])
        observation = {"resourceType": "Observation", "status": "final", "code": coded(item["measure"]),
                       "subject": subject, "valueQuantity": quantity}
        if item.get("date"):
            observation["effectiveDateTime"] = item["date"]
        resources.append(observation)
    for item in record.get("treatments", []):
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement", "subject": subject,
            "status": {"ongoing": "active", "stopped": "completed"}.get(item.get("status"), "unknown"),
            "medicationCodeableConcept": {"text": item["drug"]}}
        period = {k: item[key] for k, key in (("start", "start"), ("end", "end")) if item.get(key)}
        if period:
            statement["effectivePeriod"] = period
        outcomes = item.get("outcome") or []
        extensions = [{"url": EXT + "treatment-outcome", "valueCode": o}
                      for o in (outcomes if isinstance(outcomes, list) else [outcomes])]
        if "maximalDose" in item:
            extensions.append({"url": EXT + "maximal-dose", "valueBoolean": item["maximalDose"]})
        if extensions:
            statement["extension"] = extensions
        if item.get("dose"):
            statement["dosage"] = [{"text": item["dose"]}]
        if item.get("detail"):
            statement["note"] = [{"text": item["detail"]}]
        resources.append(statement)
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def is_plain(record: object) -> bool:
    """A record in the documented plain fields, with an id, that a Bundle can say as it is."""
    if not isinstance(record, dict) or "@context" in record or not isinstance(record.get("id"), str):
        return False
    if record.get("diagnosis") not in DIAGNOSES or not isinstance(record.get("age"), int):
        return False
    known = {"id", "age", "sex", "diagnosis", "diseaseState", "conditions", "measurements", "treatments"}
    if set(record) - known:
        return False
    items = [*record.get("conditions", []), *record.get("measurements", []), *record.get("treatments", [])]
    return all(isinstance(i, dict) and "id" not in i for i in items) and all(
        isinstance(t.get("drug"), str) for t in record.get("treatments", []))


def write_export(bundles: list[dict[str, Any]], folder: Path, seed: int = 3) -> None:
    """The Bundles' resources as a Bulk Data export: one file a resource type, the patients' lines
    interleaved at random (an export promises no order; each patient's own stay in order, which
    numbers its statements), Observations gzipped."""
    draw = random.Random(seed).random
    by_type: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for document in bundles:
        keys: dict[str, list[float]] = {}
        for entry in document["entry"]:
            keys.setdefault(entry["resource"]["resourceType"], []).append(draw())
        for kind, drawn in keys.items():
            resources = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]
            by_type.setdefault(kind, []).extend(zip(sorted(drawn), resources, strict=True))
    folder.mkdir(exist_ok=True)
    for kind, keyed in by_type.items():
        text = "".join(json.dumps(r) + "\n" for _, r in sorted(keyed, key=lambda pair: pair[0]))
        if kind == "Observation":
            (folder / f"{kind}.ndjson.gz").write_bytes(gzip.compress(text.encode()))
        else:
            (folder / f"{kind}.ndjson").write_text(text)
