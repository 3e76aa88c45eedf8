"""FHIR Bulk Data exports (reasoner/fhir_bulk.py): NDJSON files of one resource a line, grouped per
patient into the Bundle the FHIR reader reads. A cohort given as an export is advised as the same
patients given one Bundle a line; what cannot be placed with a patient is rejected by its line."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from reasoner.cohort import CohortRunner
from reasoner.errors import RecordLoadError
from reasoner.fhir_bulk import patient_of

from .test_fhir_twins import RECORDS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from fhir_form import to_bundle  # noqa: E402
from fhir_form import write_export as export  # noqa: E402


def run(reasoner, inputs: list[Path], workers: int = 1) -> tuple[list[dict], list[dict], Any]:
    out, rejects = io.StringIO(), io.StringIO()
    summary = CohortRunner(reasoner, workers=workers).run(inputs, out, rejects=rejects)
    return ([json.loads(x) for x in out.getvalue().splitlines()],
            [json.loads(x) for x in rejects.getvalue().splitlines()], summary)


def test_an_export_gives_each_patients_own_advice(reasoner, tmp_path: Path) -> None:
    """Every shipped plain record and generated patient, exported in shuffled files, gets the
    advice, questions and conflicts its own Bundle gets; messages name the file and line."""
    bundles = [to_bundle(record) for _, record in RECORDS]
    export(bundles, tmp_path / "export")
    lines, rejects, summary = run(reasoner, [tmp_path / "export"])
    assert not rejects and summary.read == len(bundles) and summary.valid == len(lines)
    expected = {}
    for document in bundles:
        result = reasoner.recommend(document).as_dict()
        if result["conforms"]:
            expected[result["patient"]] = result
    assert {line["patient"] for line in lines} == set(expected)
    for line in lines:
        own = expected[line["patient"]]
        for part in ("advice", "needs_information", "conflicts"):
            assert line[part] == own[part], (line["patient"], part)
        named = [v["path"] for v in line["validation"] if v["path"] != "record"]
        assert all(".ndjson" in path for path in named), named


def test_two_workers_read_an_export_as_one(reasoner, tmp_path: Path) -> None:
    bundles = [to_bundle(record) for _, record in RECORDS[:12]]
    export(bundles, tmp_path / "export")
    one, _, _ = run(reasoner, [tmp_path / "export"])
    two, _, _ = run(reasoner, [tmp_path / "export"], workers=2)
    assert one == two and len(one) >= 10


def test_a_medication_by_reference_comes_with_its_patient(reasoner, tmp_path: Path) -> None:
    record = dict(RECORDS[0][1])
    document = to_bundle(record)
    pid = record["id"]
    document["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "status": "stopped", "subject": {"reference": f"Patient/{pid}"},
        "medicationReference": {"reference": "Medication/m1"}, "effectivePeriod": {"start": "2024-01-01",
                                                                                   "end": "2024-05-01"},
        "extension": [{"url": "https://w3id.org/axspa-kg/fhir/StructureDefinition/treatment-outcome",
                       "valueCode": "primary_nonresponse"}]}})
    document["entry"].append({"resource": {"resourceType": "Medication", "id": "m1", "code": {"text": "Cosentyx"}}})
    export([document], tmp_path / "export")
    [line], rejects, _ = run(reasoner, [tmp_path / "export"])
    assert not rejects
    assert line["advice"] == reasoner.recommend(document).as_dict()["advice"]
    assert any("secukinumab" in json.dumps(item) for item in line["advice"])


def test_resources_the_reader_does_not_read_are_counted_for_their_patient(reasoner, tmp_path: Path) -> None:
    """An export's Encounters and Claims are kept as their type alone (memory), and still said in
    their patient's warnings, naming their lines."""
    document = to_bundle(RECORDS[0][1])
    pid = document["entry"][0]["resource"]["id"]
    for number, kind in enumerate(("Encounter", "Claim", "Encounter")):
        document["entry"].append({"resource": {"resourceType": kind, "id": f"x{number}", "status": "finished",
                                               "subject": {"reference": f"Patient/{pid}"}}})
    export([document], tmp_path / "export")
    [line], rejects, _ = run(reasoner, [tmp_path / "export"])
    assert not rejects and line["advice"] == reasoner.recommend(document).as_dict()["advice"]
    [said] = [v for v in line["validation"] if "resources of other types" in v["message"]]
    assert said["path"].endswith("Claim.ndjson:1")
    assert said["message"].endswith(": Claim; Encounter ×2") and "Encounter.ndjson:2" in said["message"]


def test_what_cannot_be_placed_is_rejected_by_its_line(reasoner, tmp_path: Path) -> None:
    """Lines that hide no patient's resource are rejected alone, naming their line (and the patient,
    where one is named): a Patient without an id, an exact copy of a resource, resources of a
    patient the export has no Patient line for, resources of other types about no patient. The
    patients that can be read are advised."""
    first, second = (to_bundle(record) for _, record in RECORDS[:2])
    pid = first["entry"][0]["resource"]["id"]
    folder = tmp_path / "export"
    export([first, second], folder)
    patients = folder / "Patient.ndjson"
    patients.write_text(patients.read_text() + json.dumps({"resourceType": "Patient"}) + "\n"
                        + json.dumps(first["entry"][0]["resource"]) + "\n")
    encounter = {"resourceType": "Encounter", "id": "e1", "subject": {"reference": f"Patient/{pid}"}}
    (folder / "Encounter.ndjson").write_text(
        json.dumps({"resourceType": "Encounter", "subject": {"reference": "Patient/nobody"}}) + "\n"
        + json.dumps({"resourceType": "Encounter", "subject": {"reference": "Patient/nobody/_history/2"}}) + "\n"
        + json.dumps(encounter) + "\n" + json.dumps({**encounter, "meta": {"lastUpdated": "2026-12-01"}}) + "\n")
    (folder / "Practitioner.ndjson").write_text(
        "".join(json.dumps({"resourceType": "Practitioner", "id": f"dr{i}"}) + "\n" for i in range(3))
        + json.dumps({"resourceType": "Practitioner", "id": "dr0", "active": True}) + "\n")
    # third review: no patient's advice depends on these, so they stop nothing
    (folder / "Other.ndjson").write_text(
        json.dumps({"resourceType": "Observation", "status": "final", "subject": {"reference": "Location/ward9"},
                    "code": {"text": "room temperature"}}) + "\n"
        + "\ufeff" + json.dumps({"resourceType": "Encounter", "subject": {"identifier": {"value": "none-such"}}})
        + "\n"
        + json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational",
                                                                      "diagnostics": "export complete"}]}) + "\n")
    lines, rejects, summary = run(reasoner, [folder])
    said = {r["source"].rsplit("/", 1)[1]: (r["patient"], r["validation"][0]["message"]) for r in rejects}
    assert len(lines) == 2 and len(rejects) == 9, said
    # the patients: the two advised and Patient/nobody, whose Encounters have no Patient line; the
    # rest are lines, counted apart
    assert (summary.read, summary.rejected, summary.lines_rejected) == (3, 1, 8)
    assert "patients read 3, valid 2, rejected 1, with advice 2, export lines rejected 8" in summary.text()
    assert said["Practitioner.ndjson:4"][1].endswith("not read")
    assert said["Other.ndjson:1"][1].startswith("not read: 1 Observation resource (first at ")
    assert said["Other.ndjson:2"][1].startswith("not read: an Encounter whose subject names the identifier")
    assert said["Other.ndjson:3"][1] == "not read: the export server's note (export complete)"
    assert said["Patient.ndjson:3"][1].startswith("a Patient without an id")
    assert said["Patient.ndjson:4"] == (f"https://w3id.org/axspa-kg/record/{pid}", f"Patient/{pid} again, the same "
                                        f"(first at {folder}/Patient.ndjson:1); read once")
    assert said["Encounter.ndjson:4"][0] == f"https://w3id.org/axspa-kg/record/{pid}"
    assert said["Encounter.ndjson:1"] == ("https://w3id.org/axspa-kg/record/nobody", f"2 resources (Encounter) name "
                                          "Patient/nobody, which no Patient line of the export gives (first at "
                                          f"{folder}/Encounter.ndjson:1); export the Patient too")
    assert said["Practitioner.ndjson:1"][1].startswith("not read: 3 Practitioner resources (first at ")


def _failed_upadacitinib(pid: str) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": "rinvoq", "status": "stopped",
            "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": "Rinvoq"},
            "effectivePeriod": {"start": "2024-01-01", "end": "2024-06-01"},
            "extension": [{"url": "https://w3id.org/axspa-kg/fhir/StructureDefinition/treatment-outcome",
                           "valueCode": "primary_nonresponse"}]}


LOSSES = ["broken line", "damaged gzip", "empty file", "urn:uuid subject", "no resourceType", "a Bundle line",
          "an id not text", "an array line", "two versions", "identifier of no Patient", "identifier of two Patients",
          "misspelt resourceType", "an error from the server", "reference and identifier disagree",
          "an outcome on a Medication nothing refers to"]


@pytest.mark.parametrize("loss", LOSSES)
def test_a_line_that_may_be_anyones_stops_every_patient(reasoner, tmp_path: Path, loss: str) -> None:
    """Second review of session 25, 2.1, and the re-review, N1-N4 and N6: a failed upadacitinib
    course on a line that could not be read or placed was lost, and the patient advised to take
    upadacitinib. Whose the line was nobody can tell, so no patient of the export is advised; each
    reject names the line."""
    first, second = (to_bundle(record) for _, record in RECORDS[:2])
    pid = first["entry"][0]["resource"]["id"]
    failed = _failed_upadacitinib(pid)
    folder = tmp_path / "export"
    export([first, second], folder)
    late = folder / "Late.ndjson"
    if loss == "broken line":
        late.write_text(json.dumps(failed)[:60] + "\n")
    elif loss == "damaged gzip":
        whole = gzip.compress((json.dumps(failed) + "\n").encode() * 50)
        (folder / "Late.ndjson.gz").write_bytes(whole[: len(whole) // 2])
    elif loss == "empty file":
        late.write_text("")
    elif loss == "no resourceType":
        late.write_text(json.dumps({**failed, "resourceType": None}) + "\n")
    elif loss == "a Bundle line":
        late.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": failed}]}) + "\n")
    elif loss == "an array line":
        late.write_text(json.dumps([failed]) + "\n")
    elif loss == "an id not text":
        late.write_text(json.dumps({**failed, "id": 7}) + "\n")
    elif loss == "two versions":
        late.write_text(json.dumps(failed) + "\n" + json.dumps({**failed, "status": "active"}) + "\n")
    elif loss == "misspelt resourceType":
        late.write_text(json.dumps({**failed, "resourceType": "MedicationStatment"}) + "\n")
    elif loss == "an error from the server":
        late.write_text(json.dumps({"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "processing", "diagnostics": "MedicationStatement 88 could not be read"}]})
            + "\n")
    elif loss == "an outcome on a Medication nothing refers to":
        late.write_text(json.dumps({"resourceType": "Medication", "id": "m9", "code": {"text": "Rinvoq"},
                                    "extension": failed["extension"]}) + "\n")
    elif loss == "reference and identifier disagree":
        second_id = second["entry"][0]["resource"]["id"]
        patients = [json.loads(x) for x in (folder / "Patient.ndjson").read_text().splitlines()]
        for patient in patients:
            patient["identifier"] = [{"system": "urn:mrn", "value": patient["id"]}]
        (folder / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
        failed["subject"] = {"reference": f"Patient/{pid}", "identifier": {"system": "urn:mrn", "value": second_id}}
        late.write_text(json.dumps(failed) + "\n")
    else:
        if loss == "urn:uuid subject":
            failed["subject"] = {"reference": "urn:uuid:0f3c"}
        else:
            failed["subject"] = {"identifier": {"system": "urn:mrn", "value": "42"}}
        if loss == "identifier of two Patients":
            patients = [json.loads(x) for x in (folder / "Patient.ndjson").read_text().splitlines()]
            for patient in patients:
                patient["identifier"] = [{"system": "urn:mrn", "value": "42"}]
            (folder / "Patient.ndjson").write_text("".join(json.dumps(p) + "\n" for p in patients))
        late.write_text(json.dumps(failed) + "\n")
    lines, rejects, _ = run(reasoner, [folder])
    assert not lines
    stopped = [r for r in rejects if r["validation"][0]["message"].startswith("not advised: the export has lines")]
    assert len(stopped) == 2 and all("Late.ndjson" in r["validation"][0]["message"] for r in stopped)
    if loss == "an array line":
        assert "each line must be one JSON object (a FHIR resource)" in stopped[0]["validation"][0]["message"]
    assert {r["patient"] for r in stopped} == {f"https://w3id.org/axspa-kg/record/{b['entry'][0]['resource']['id']}"
                                              for b in (first, second)}


def test_a_patient_named_by_identifier_and_a_file_named_twice(reasoner, tmp_path: Path) -> None:
    """Resources naming their patient by one of its identifiers are that patient's (as in a
    Bundle); a file named twice (alone and in its folder) is read once."""
    document = to_bundle(RECORDS[0][1])
    patient = document["entry"][0]["resource"]
    patient["identifier"] = [{"system": "urn:mrn", "value": "42"}]
    for entry in document["entry"][1:]:
        entry["resource"]["subject"] = {"identifier": {"system": "urn:mrn", "value": "42"}}
    export([document], tmp_path / "export")
    [line], rejects, _ = run(reasoner, [tmp_path / "export", tmp_path / "export" / "Condition.ndjson"])
    assert not rejects and line["advice"] == reasoner.recommend(document).as_dict()["advice"]


@pytest.mark.parametrize(("resource", "patient"), [
    ({"subject": {"reference": "Patient/p1"}}, "p1"),
    ({"subject": {"reference": "https://ehr.example/fhir/Patient/p1/_history/4"}}, "p1"),
    ({"patient": {"reference": "Patient/p2"}}, "p2"),
    ({"subject": {"reference": "Group/g1"}}, None),
    ({"subject": {"identifier": {"value": "123"}}}, None),
    ({"subject": "Patient/p1"}, None),
])
def test_the_patient_a_resource_names(resource: dict[str, Any], patient: str | None) -> None:
    assert patient_of(resource) == patient


def test_recommend_points_an_export_file_to_cohort(reasoner, tmp_path: Path) -> None:
    export([to_bundle(RECORDS[0][1])], tmp_path / "export")
    with pytest.raises(RecordLoadError, match=r"an \.ndjson file is part of a FHIR Bulk Data export: read it with "
                                              r"axspa cohort"):
        reasoner.recommend(tmp_path / "export" / "Patient.ndjson")
    with pytest.raises(RecordLoadError, match=r"read it with axspa cohort"):
        reasoner.recommend(tmp_path / "export" / "Observation.ndjson.gz")


def test_a_patient_without_a_diagnosis_is_told_on_its_line(reasoner, tmp_path: Path) -> None:
    document = to_bundle(RECORDS[0][1])
    document["entry"] = [e for e in document["entry"] if e["resource"]["resourceType"] != "Condition"]
    export([document], tmp_path / "export")
    _, [reject], _ = run(reasoner, [tmp_path / "export"])
    [missing] = [v for v in reject["validation"] if v["message"].startswith("no Condition gives the diagnosis")]
    assert missing["path"] == f"{tmp_path / 'export' / 'Patient.ndjson'}:1"


def test_an_exports_patient_with_two_diagnoses_is_told_in_the_exports_terms(reasoner, tmp_path: Path) -> None:
    document = to_bundle(RECORDS[0][1])
    pid = document["entry"][0]["resource"]["id"]
    document["entry"].append({"resource": {"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"},
                                           "code": {"coding": [{"system": "https://w3id.org/axspa-kg/ontology",
                                                                "code": "nr_axspa"}]}}})
    export([document], tmp_path / "export")
    _, [reject], _ = run(reasoner, [tmp_path / "export"])
    assert reject["validation"][0]["message"].startswith(
        f"{tmp_path / 'export' / 'Patient.ndjson'}:1: the export gives two diagnoses, ")



def _manifest(folder: Path, **changes: Any) -> dict[str, Any]:
    """The manifest a Bulk Data server would give for the files in `folder`: one output item a
    file, by resource type, with its count of resources, under the server's URLs."""
    output = []
    for path in sorted(folder.glob("*.ndjson*")):
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        output.append({"type": path.name.split(".")[0], "url": f"https://ehr.example/files/{path.name.split('.gz')[0]}",
                       "count": len(data.splitlines())})
    return {"transactionTime": "2026-12-01T00:00:00Z", "request": "https://ehr.example/fhir/Patient/$export",
            "requiresAccessToken": True, "output": output, "error": [], **changes}


def test_a_manifest_beside_the_export_is_checked_against_its_files(reasoner, tmp_path: Path) -> None:
    """A manifest whose files are all given is used, not rejected as a record, under any file names
    (clients save files under their own); given by name or in the folder, it changes no advice."""
    bundles = [to_bundle(record) for _, record in RECORDS[:4]]
    export(bundles, tmp_path / "export")
    alone, _, _ = run(reasoner, [tmp_path / "export"])
    manifest = _manifest(tmp_path / "export")
    (tmp_path / "export" / "manifest.json").write_text(json.dumps(manifest))
    lines, rejects, summary = run(reasoner, [tmp_path / "export"])
    assert not rejects and lines == alone and summary.read == len(bundles)
    for number, path in enumerate(sorted((tmp_path / "export").glob("*.ndjson*"))):
        path.rename(path.with_name(f"{number + 1}.{path.name}"))
    lines, rejects, _ = run(reasoner, sorted((tmp_path / "export").iterdir()))
    assert not rejects and lines == alone


def test_a_manifest_given_without_its_files_is_no_record(reasoner, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({
        "transactionTime": "2026-12-01T00:00:00Z", "request": "https://ehr.example/fhir/$export",
        "output": [{"type": "Patient", "url": "https://ehr.example/files/Patient.ndjson"}], "error": []}))
    lines, [reject], summary = run(reasoner, [tmp_path / "manifest.json"])
    assert not lines and reject["validation"][0]["message"].startswith("a FHIR Bulk Data manifest, not a record")
    assert summary.read == 1 and summary.rejected == 1


def _drop(name: str) -> Any:
    return lambda folder, manifest: (folder / name).unlink()


def _cut(name: str) -> Any:
    def cut(folder: Path, manifest: dict[str, Any]) -> None:
        lines = (folder / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[:-1]))
    return cut


def _change(**changes: Any) -> Any:
    return lambda folder, manifest: manifest.update(changes)


def _uncounted(folder: Path, manifest: dict[str, Any]) -> None:
    for item in manifest["output"]:
        item.pop("count")
    (folder / "Condition.ndjson").unlink()


def _by_patient(folder: Path, manifest: dict[str, Any]) -> None:
    """Files organised by patient name no type: the export's lines are counted together."""
    for item in manifest["output"]:
        item.pop("type")
    manifest["outputOrganizedBy"] = "Patient"
    _cut("MedicationStatement.ndjson")(folder, manifest)


# What the manifest shows is missing, and a word of the message that says so.
PARTIAL = {
    "a file not given": (_drop("MedicationStatement.ndjson"), "the files given hold 0 (not given under these names: "
                                                               "MedicationStatement.ndjson)"),
    "a file cut short": (_cut("MedicationStatement.ndjson"),
                         "MedicationStatement resources in 1 file; the files given"),
    "a type listed without counts": (_uncounted, "it lists 1 file of Condition resources; the files given hold none"),
    "an error file not given": (_change(error=[{"type": "OperationOutcome", "url": "https://ehr.example/err.ndjson"}]),
                                "it lists 1 file of OperationOutcome resources; the files given hold none"),
    "an error file with no type": (_change(error=[{"url": "https://ehr.example/err.ndjson"}]),
                                   "OperationOutcome resources; the files given hold none"),
    "changes since a date": (_change(request="https://ehr.example/fhir/$export?_since=2026-01-01T00:00:00Z"),
                             "it was asked for only what changed since 2026-01-01T00:00:00Z (_since in its request)"),
    "a type filter": (_change(request="https://ehr.example/fhir/$export?_typeFilter=MedicationStatement%3Fstatus%3Dactive"),
                      "only the resources matching MedicationStatement?status=active (_typeFilter"),
    "some elements only": (_change(request="https://ehr.example/fhir/$export?_elements=code"),
                           "_elements in its request"),
    "some types only": (_change(request="https://ehr.example/fhir/$export?_type=Patient,Condition,Observation"),
                        "without MedicationAdministration, MedicationDispense, MedicationRequest, "
                        "MedicationStatement (_type"),
    "deleted resources": (_change(deleted=[{"type": "Bundle", "url": "https://ehr.example/del.ndjson"}]),
                          "it lists deleted resources"),
    "organised by patient, cut short": (_by_patient, "resources in 4 files; the files given hold"),
}


@pytest.mark.parametrize("case", list(PARTIAL))
def test_an_export_its_manifest_shows_partial_stops_every_patient(reasoner, tmp_path: Path, case: str) -> None:
    """An export whose manifest lists more than was given, or that was asked for part of each record,
    may lack any patient's failed biologic or Crohn's disease: no patient of it is advised."""
    bundles = [to_bundle(record) for _, record in RECORDS[:6]]
    folder = tmp_path / "export"
    export(bundles, folder)
    manifest = _manifest(folder)
    change, said = PARTIAL[case]
    change(folder, manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    lines, rejects, summary = run(reasoner, [folder])
    assert not lines and summary.valid == 0
    [note] = [r for r in rejects if r["source"] == str(folder / "manifest.json")]
    assert note["validation"][0]["message"].startswith("a Bulk Data manifest that shows the files given are not")
    assert said in note["validation"][0]["message"], note
    stopped = [r for r in rejects if r["patient"]]
    assert len(stopped) == summary.read == summary.rejected == len(bundles)
    for reject in stopped:
        message = reject["validation"][0]["message"]
        assert message.startswith("not advised: the export's manifest shows the files given are not the whole "
                                  f"export ({folder / 'manifest.json'}: ") and said in message, message
