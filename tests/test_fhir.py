"""FHIR R4 Bundles in (reasoner/fhir.py): read as the plain record they stand for, so the advice is
the JSON record's; codes looked up in the knowledge base only; what is not read is said, and a
medication that may be a drug the guidelines concern is never dropped."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reasoner.cohort import CohortRunner
from reasoner.errors import RecordLoadError
from reasoner.fhir import age_on
from reasoner.namespaces import DRUG

from .patients import nsaid_failure

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "case2-multiple-failures.fhir.json"
EXT = "https://w3id.org/axspa-kg/fhir/StructureDefinition/"
SNOMED, ICD, LOINC = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org"
RXNORM, AXSPA = "http://www.nlm.nih.gov/research/umls/rxnorm", "https://w3id.org/axspa-kg/ontology"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
RECOMMENDING = ("recommended", "preferred-over", "no-preference")


def coded(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return concept


def condition(code: dict[str, Any], clinical: str | None = "active", verification: str | None = "confirmed",
              pid: str = "fhir-test") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "code": code, "subject": {"reference": f"Patient/{pid}"}}
    if clinical:
        resource["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    if verification:
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": verification}]}
    return resource


def medication(concept: dict[str, Any], status: str = "stopped", start: str = "2024-01-01",
               end: str | None = "2024-06-01", outcome: str | None = "primary_nonresponse",
               pid: str = "fhir-test") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "MedicationStatement", "status": status,
                                "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/{pid}"},
                                "effectivePeriod": {"start": start, **({"end": end} if end else {})}}
    if outcome:
        resource["extension"] = [{"url": EXT + "treatment-outcome", "valueCode": outcome}]
    return resource


def observation(code: dict[str, Any], value: float, unit: str | None = None, when: str = "2026-10-01",
                pid: str = "fhir-test") -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    if unit:
        quantity.update({"unit": unit, "system": "http://unitsofmeasure.org", "code": unit})
    return {"resourceType": "Observation", "status": "final", "code": code, "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": when, "valueQuantity": quantity}


def bundle(*resources: dict[str, Any], pid: str = "fhir-test", state: str = "active", birth: str = "1980-05-05",
           diagnosis: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Bundle of one patient: AS (SNOMED CT) unless told otherwise, the given resources after it."""
    patient = {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth,
               "extension": [{"url": EXT + "disease-state", "valueCode": state}]}
    first = [patient, condition(diagnosis or coded(SNOMED, "9631008"), pid=pid)]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in [*first, *resources]]}


def nsaids_failed(pid: str = "fhir-test") -> list[dict[str, Any]]:
    """Two NSAID courses failed at full dose, as MedicationStatements."""
    out = []
    for course in nsaid_failure():
        statement = medication({"text": course["drug"]}, start=course["start"], end=course.get("end"),
                               outcome=course["outcome"], pid=pid)
        statement["extension"].append({"url": EXT + "maximal-dose", "valueBoolean": True})
        out.append(statement)
    return out


def load(reasoner, document: dict[str, Any]):
    return reasoner.load(copy.deepcopy(document))


def statements(reasoner, document: dict[str, Any]) -> dict[str, str]:
    """condition id -> status, as the record read from `document` states them."""
    loaded = load(reasoner, document)
    out = {}
    for statement in loaded.graph.objects(loaded.patient, reasoner_ax("hasConditionStatement")):
        concept = loaded.graph.value(statement, reasoner_ax("aboutCondition"))
        presence = loaded.graph.value(statement, reasoner_ax("presence"))
        out[str(concept).rsplit("#", 1)[1]] = str(presence).rsplit("#", 1)[1]
    return out


def reasoner_ax(name: str):
    from reasoner.namespaces import AX

    return AX[name]


def test_the_fhir_example_gives_the_json_examples_advice(reasoner) -> None:
    """examples/case2-multiple-failures.fhir.json is worked case 2 as a Bundle (SNOMED CT and
    ICD-10-CM for AS, an unconfirmed IBD, BASDAI by its axspa-kg id, CRP by LOINC, the drugs by
    RxNorm with their brand as text, and a statin the knowledge base does not know)."""
    fhir = reasoner.recommend(EXAMPLE).as_dict()
    plain = reasoner.recommend(ROOT / "examples" / "case2-multiple-failures.json").as_dict()
    assert fhir["conforms"] and fhir["patient"] == plain["patient"] + "-fhir"
    for part in ("advice", "needs_information", "conflicts"):  # the same, but for the patient's IRI
        same = json.dumps(plain[part]).replace("/record/case-2/", "/record/case-2-fhir/")
        assert json.dumps(fhir[part]) == same, part
    assert any(a["kind"] == "recommended" and a["therapy"]["label"] == "secukinumab" for a in fhir["advice"])
    # the statin is not read, and the report says so, naming the entry
    assert fhir["validation"] == [{
        "severity": "warning", "path": "entry[9]", "value": "MedicationStatement/statin",
        "message": "not read: 'atorvastatin 20 mg tablet' names no drug axspa-kg "
                   "knows (if the guidelines concern it, give its generic name or RxNorm ingredient code)"}]
    # the brand given as text is the course's name, as in the JSON record
    assert any(b["text"].startswith("Rinvoq (upadacitinib) course") for a in fhir["advice"] for b in a["because"])


@pytest.mark.parametrize(("clinical", "verification", "status"), [
    ("active", "confirmed", "present"), ("remission", "confirmed", "present"), ("relapse", None, "present"),
    (None, None, "present"), ("active", "refuted", "absent"), (None, "refuted", "absent"),
    ("active", "unconfirmed", "unknown"), (None, "provisional", "unknown"), (None, "differential", "unknown"),
    # resolved: a past IBD still counts, a treated infection does not; the reasoner asks
    ("resolved", "confirmed", "unknown"),
])
def test_condition_statuses(reasoner, clinical, verification, status) -> None:
    document = bundle(condition(coded(SNOMED, "34000006"), clinical, verification))
    assert statements(reasoner, document) == {"crohns_disease": status}


def test_a_resolved_condition_says_so_in_its_note(reasoner) -> None:
    loaded = load(reasoner, bundle(condition(coded(SNOMED, "34000006"), "resolved")))
    notes = [str(o) for o in loaded.graph.objects(None, reasoner_ax("aboutCondition"))]
    assert notes == [str(reasoner_ax("crohns_disease"))]
    text = loaded.graph.serialize(format="nt")
    assert "clinicalStatus: resolved" in text


@pytest.mark.parametrize(("code", "concept"), [
    ("K50.90", "crohns_disease"), ("K51.00", "ulcerative_colitis"), ("I50.9", "congestive_heart_failure"),
    ("A16.2", "active_tuberculosis"), ("Z22.7", "latent_tuberculosis"), ("H20.021", "recurrent_anterior_uveitis"),
    # H20.0 is carried by acute anterior uveitis and by iritis: the concept both fall under
    ("H20.00", "anterior_uveitis"), ("G35", "multiple_sclerosis"), ("B18.1", "chronic_hepatitis_b"),
])
def test_icd10cm_codes_by_longest_prefix(reasoner, code, concept) -> None:
    assert statements(reasoner, bundle(condition(coded(ICD, code)))) == {concept: "present"}


@pytest.mark.parametrize(("diagnosis", "expected"), [
    (coded(ICD, "M45.9"), "ankylosing_spondylitis"), (coded(ICD, "M45.A5"), "nr_axspa"),
    (coded(SNOMED, "713777005"), "nr_axspa"), (coded(AXSPA, "axial_spa"), "axial_spa"),
    ({"text": "Ankylosing spondylitis"}, "ankylosing_spondylitis"),
])
def test_the_diagnosis(reasoner, diagnosis, expected) -> None:
    loaded = load(reasoner, bundle(diagnosis=diagnosis))
    assert str(loaded.graph.value(loaded.patient, reasoner_ax("hasDiagnosis"))).endswith("#" + expected)


def test_two_diagnoses_are_refused(reasoner) -> None:
    with pytest.raises(RecordLoadError, match=r"two diagnoses, AS \(entry\[2\]\), nr-axSpA \(entry\[3\]\)"):
        load(reasoner, bundle(condition(coded(SNOMED, "713777005"))))


def test_patient_fields(reasoner) -> None:
    today = date(2026, 12, 6)
    assert age_on("1980-12-06", today, "x") == 46 and age_on("1980-12-07", today, "x") == 45
    assert age_on("2008", today, "x") == 17  # a year alone: the youngest the patient can be
    assert age_on("2008-11", today, "x") == 18
    loaded = load(reasoner, bundle())
    graph = loaded.graph
    assert str(graph.value(loaded.patient, reasoner_ax("sex"))).endswith("#female")
    assert str(graph.value(loaded.patient, reasoner_ax("diseaseState"))).endswith("#active_disease")
    assert str(loaded.patient).endswith("/record/fhir-test")


def test_a_minor_is_refused_naming_the_birth_date(reasoner) -> None:
    birth = f"{date.today().year - 15}-01-01"
    result = reasoner.recommend(bundle(birth=birth)).as_dict()
    assert not result["conforms"] and not result["advice"]
    assert [v["path"] for v in result["validation"] if v["severity"] == "violation"] == ["entry[1].birthDate"]


def test_measurements(reasoner) -> None:
    document = bundle(observation(coded(LOINC, "1988-5"), 12.5, "mg/L"),
                      observation(coded(AXSPA, "asdas_crp"), 3.1),
                      observation(coded(LOINC, "4537-7"), 30, "mm/h"))
    loaded = load(reasoner, document)
    values = {(str(loaded.graph.value(m, reasoner_ax("measure"))).rsplit("#", 1)[1],
               str(loaded.graph.value(m, reasoner_ax("value"))))
              for m in loaded.graph.objects(loaded.patient, reasoner_ax("hasMeasurement"))}
    assert values == {("crp", "12.5"), ("asdas_crp", "3.1"), ("esr", "30")}


def test_a_crp_in_another_unit_is_refused(reasoner) -> None:
    with pytest.raises(RecordLoadError, match=r"entry\[3\]\.valueQuantity: crp in 'mg/dL'; give it in mg/L"):
        load(reasoner, bundle(observation(coded(LOINC, "1988-5"), 1.2, "mg/dL")))


def test_what_is_not_read_is_listed(reasoner) -> None:
    """A condition, lab result or resource type the rules have no use for is a warning naming its
    entry, and the record is still advised on."""
    document = bundle(condition(coded(SNOMED, "38341003", "Hypertensive disorder")),
                      observation(coded(LOINC, "2345-7", "Glucose"), 5.4),
                      {"resourceType": "MedicationRequest", "id": "rx1", "status": "active",
                       "subject": {"reference": "Patient/fhir-test"}},
                      condition(coded(SNOMED, "34000006"), verification="entered-in-error"),
                      *nsaids_failed())
    result = reasoner.recommend(document).as_dict()
    assert result["conforms"] and result["advice"]
    left = {(v["path"], v["value"]) for v in result["validation"] if "not read" in v["message"]}
    assert left == {("entry[3]", "Condition"), ("entry[4]", "Observation"), ("entry[5]", "MedicationRequest/rx1"),
                    ("entry[6]", "Condition")}


def test_a_humira_course_named_in_long_text_is_not_lost(reasoner) -> None:
    """An EHR's medication text ("adalimumab 40 MG/0.4ML Prefilled Syringe [Humira]") resolves through
    the drug it names, so a primary non-response to it keeps adalimumab from being recommended."""
    document = bundle(*nsaids_failed(), medication({"text": "adalimumab 40 MG/0.4ML Prefilled Syringe [Humira]"}),
                      condition(coded(SNOMED, "24526004"), verification="refuted"))
    result = reasoner.recommend(document)
    assert str(DRUG.adalimumab) not in {a.therapy.iri for a in result.advice if a.kind in RECOMMENDING}
    assert any(a.kind == "do-not-repeat" and a.therapy.iri == str(DRUG.adalimumab) for a in result.advice)
    assert any(a.recommendation.id == "AS-12" for a in result.advice)  # IL-17 inhibitor preferred


def test_a_biosimilar_brand_wins_over_its_reference_product(reasoner) -> None:
    loaded = load(reasoner, bundle(medication({"text": "adalimumab-atto 40 MG/0.8ML [Amjevita]"})))
    [course] = loaded.graph.objects(loaded.patient, reasoner_ax("hasTreatmentCourse"))
    assert loaded.graph.value(course, reasoner_ax("drug")) == DRUG.adalimumab_atto


def test_a_medication_by_reference(reasoner) -> None:
    """medicationReference to a Medication in the Bundle (by its id or fullUrl) or contained in the
    statement."""
    by_id = medication({"text": "x"})
    del by_id["medicationCodeableConcept"]
    by_id["medicationReference"] = {"reference": "Medication/m1"}
    contained = copy.deepcopy(by_id)
    contained["medicationReference"] = {"reference": "#m2"}
    contained["contained"] = [{"resourceType": "Medication", "id": "m2", "code": coded(RXNORM, "214555")}]
    document = bundle(by_id, contained, {"resourceType": "Medication", "id": "m1", "code": {"text": "Cosentyx"}})
    loaded = load(reasoner, document)
    drugs = {loaded.graph.value(c, reasoner_ax("drug")) for c in loaded.graph.objects(loaded.patient,
                                                                                    reasoner_ax("hasTreatmentCourse"))}
    assert drugs == {DRUG.secukinumab, DRUG.etanercept}
    missing = copy.deepcopy(document)
    missing["entry"].pop()
    with pytest.raises(RecordLoadError, match=r"entry\[3\]\.medicationReference: 'Medication/m1' is no Medication"):
        load(reasoner, missing)


def test_codes_and_text_naming_different_drugs_are_refused(reasoner) -> None:
    with pytest.raises(RecordLoadError, match=r"entry\[3\]\.medication: .*name different drugs"):
        load(reasoner, bundle(medication(coded(RXNORM, "214555", "Humira"))))


@pytest.mark.parametrize("concept", [
    # an ATC code of a class the guidelines cover (TNF inhibitors, L04AB) on a name not known
    {"coding": [{"system": "http://www.whocc.no/atc", "code": "L04AB99"}], "text": "Newmab"},
    # a text naming two drugs the knowledge base knows
    {"text": "switch from etanercept to secukinumab"},
])
def test_a_medication_that_may_matter_is_kept_and_refused_by_name(reasoner, concept) -> None:
    result = reasoner.recommend(bundle(medication(concept))).as_dict()
    assert not result["conforms"] and not result["advice"]
    [problem] = [v for v in result["validation"] if v["severity"] == "violation"]
    assert problem["path"] == "entry[3].drug" and problem["value"] == concept["text"]


def test_validation_paths_name_the_entry(reasoner) -> None:
    result = reasoner.recommend(bundle(medication({"text": "naproxen"}, outcome="failed"))).as_dict()
    assert not result["conforms"]
    assert {v["path"] for v in result["validation"] if v["severity"] == "violation"} == {"entry[3].outcome"}


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b["entry"].pop(0), r"no Patient resource"),
    (lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])), r"2 Patient resources"),
    (lambda b: b["entry"][1]["resource"].update(subject={"reference": "Patient/other"}),
     r"entry\[2\]\.subject: 'Patient/other' is not the Bundle's patient"),
    (lambda b: b["entry"][1]["resource"].pop("subject"), r"entry\[2\]\.subject: missing"),
    (lambda b: b["entry"][0]["resource"].update(gender="m"), r"entry\[1\]\.gender: 'm' is not a FHIR gender"),
    (lambda b: b["entry"].append({"resource": medication({"text": "naproxen"}, start="2024-03")}),
     r"entry\[3\]\.effectivePeriod\.start: '2024-03' gives no day"),
    (lambda b: b.update(resourceType="Patient"), r"resourceType: 'Patient'; axspa-kg reads a FHIR Bundle"),
])
def test_bundles_that_cannot_be_read_are_refused_naming_the_field(reasoner, change, message) -> None:
    document = bundle()
    change(document)
    with pytest.raises(RecordLoadError, match=message):
        load(reasoner, document)


def test_the_cli_reads_a_bundle_and_refuses_a_bad_one_without_a_traceback(tmp_path: Path) -> None:
    good = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(EXAMPLE), "-f", "json"],
                          capture_output=True, text=True, check=False)
    assert good.returncode == 0 and json.loads(good.stdout)["conforms"]
    bad = tmp_path / "bad.json"
    document = bundle()
    document["entry"].append(copy.deepcopy(document["entry"][0]))
    bad.write_text(json.dumps(document))
    refused = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(bad)],
                             capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "2 Patient resources" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_cohort_of_bundles(reasoner, tmp_path: Path) -> None:
    """One Bundle a line: each is advised or rejected as a JSON record is; a Bundle whose Patient has
    no id is rejected (a cohort needs one a patient), and rejects name the entry."""
    first = bundle(*nsaids_failed("p1"), pid="p1")
    second = bundle(medication({"text": "naproxen"}, outcome="failed", pid="p2"), pid="p2")
    third = bundle(pid="p3")
    del third["entry"][0]["resource"]["id"]
    path = tmp_path / "bundles.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in (first, second, third)))
    path.write_text(path.read_text() + json.dumps({"resourceType": "Bundle", "entry": []}) + "\n")
    folder = tmp_path / "one-a-file"
    folder.mkdir()
    (folder / "p4.json").write_text(json.dumps(bundle(*nsaids_failed("p4"), pid="p4")))
    out, rejects = io.StringIO(), io.StringIO()
    summary = CohortRunner(reasoner).run([path, folder], out, rejects=rejects)
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    rejected = [json.loads(x) for x in rejects.getvalue().splitlines()]
    assert summary.read == 5 and summary.valid == 2
    assert sorted(line["patient"].rsplit("/", 1)[1] for line in lines) == ["p1", "p4"]
    assert lines[0]["advice"] == reasoner.recommend(first).as_dict()["advice"]
    paths = {(r["source"].rsplit(":", 1)[1], v["path"]) for r in rejected for v in r["validation"]}
    assert ("2", "entry[3].outcome") in paths and ("3", "id") in paths
    assert any("no Patient resource" in v["message"] for r in rejected for v in r["validation"])
