"""Every plain record the project ships (examples, valid fixtures, generated patients), written out as
a FHIR R4 Bundle, gives the advice, questions and conflicts of the record itself: the FHIR reader
loses nothing the rules use. The Bundles carry axspa-kg ids and extensions only where FHIR has no
element for a fact (see README, "FHIR R4 Bundles"); drugs go as the record names them (brand, generic
name, RxNorm code), as a medication's text."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402

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


def plain_records() -> list[tuple[str, dict[str, Any]]]:
    """The shipped plain records (not the ones that are invalid on purpose, nor the ones a Bundle
    cannot say: a record whose diagnosis is spelt in its own vocabulary, or that is not plain)."""
    out = []
    paths = sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "tests" / "data" / "valid").glob("*.json"))
    for path in paths:
        record = json.loads(path.read_text(encoding="utf-8"))
        if path.name.endswith(".fhir.json") or path.name == "invalid-child.json" or not _plain(record):
            continue
        out.append((path.name, record))
    out += [(f"generated-{r['id']}", r) for r in cohort(40, seed=5) if _plain(r)]
    return out


def _plain(record: object) -> bool:
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


RECORDS = plain_records()


def test_there_are_enough_twins() -> None:
    assert len(RECORDS) >= 60


@pytest.mark.parametrize(("name", "record"), RECORDS, ids=[name for name, _ in RECORDS])
def test_a_bundle_gives_its_records_advice(reasoner, name: str, record: dict[str, Any]) -> None:
    plain = reasoner.recommend(record).as_dict()
    fhir = reasoner.recommend(to_bundle(record)).as_dict()
    assert fhir["patient"] == plain["patient"] and fhir["conforms"] == plain["conforms"]
    for part in ("advice", "needs_information", "conflicts"):
        assert fhir[part] == plain[part], part
    # the same problems are found, each now naming the entry it is about
    assert sorted(v["severity"] for v in fhir["validation"]) == sorted(v["severity"] for v in plain["validation"])
