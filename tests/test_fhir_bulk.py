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
    # the patients: the two advised, the Patient without an id and Patient/nobody, whose Encounters
    # have no Patient line; the rest are lines, counted apart
    assert (summary.read, summary.rejected, summary.lines_rejected) == (4, 2, 7)
    assert "patients read 4, valid 2, rejected 2, with advice 2, other rejects (export lines, manifests) 7" in (
        summary.text())
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


def _renamed(folder: Path) -> None:
    """The files saved under a client's own names (1.Condition.ndjson ...), not the server's."""
    for number, path in enumerate(sorted(folder.glob("*.ndjson*")), start=1):
        path.rename(path.with_name(f"{number}.{path.name}"))


def _write(folder: Path, manifest: dict[str, Any], name: str = "manifest.json") -> None:
    (folder / name).write_text(json.dumps(manifest))


def test_a_manifest_beside_the_export_is_checked_against_its_files(reasoner, tmp_path: Path) -> None:
    """A manifest whose files are all given is used, not rejected as a record, under any file names
    (clients save files under their own); given by name or in the folder, it changes no advice."""
    bundles = [to_bundle(record) for _, record in RECORDS[:4]]
    export(bundles, tmp_path / "export")
    alone, _, _ = run(reasoner, [tmp_path / "export"])
    _write(tmp_path / "export", _manifest(tmp_path / "export"))
    lines, rejects, summary = run(reasoner, [tmp_path / "export"])
    assert not rejects and lines == alone and summary.read == len(bundles)
    _renamed(tmp_path / "export")
    lines, rejects, _ = run(reasoner, sorted((tmp_path / "export").iterdir()))
    assert not rejects and lines == alone


def test_a_whole_export_organised_by_patient_is_read_whole(reasoner, tmp_path: Path) -> None:
    """Output organised by patient (Bulk Data 3.0): files of any types, no type in the manifest,
    each patient's block started by a Parameters line, which is structure, not a line to reject."""
    bundles = [to_bundle(record) for _, record in RECORDS[:4]]
    export(bundles, tmp_path / "whole")
    alone, _, _ = run(reasoner, [tmp_path / "whole"])
    folder = tmp_path / "organised"
    folder.mkdir()
    for number, document in enumerate(bundles, start=1):
        pid = document["entry"][0]["resource"]["id"]
        header = {"resourceType": "Parameters",
                  "parameter": [{"name": "patient", "valueReference": {"reference": f"Patient/{pid}"}}]}
        (folder / f"file_{number}.ndjson").write_text("".join(
            json.dumps(r) + "\n" for r in [header, *(e["resource"] for e in document["entry"])]))
    manifest = _manifest(folder, outputOrganizedBy="Patient")
    for item in manifest["output"]:
        del item["type"]  # (its count counts the header too: a resource in the file)
    _write(folder, manifest)
    lines, rejects, summary = run(reasoner, [folder])
    by_patient = sorted(alone, key=lambda line: line["patient"])
    assert not rejects and sorted(lines, key=lambda line: line["patient"]) == by_patient
    assert summary.read == len(bundles)


def test_a_manifest_given_without_its_files_is_no_record(reasoner, tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({
        "transactionTime": "2026-12-01T00:00:00Z", "request": "https://ehr.example/fhir/$export",
        "output": [{"type": "Patient", "url": "https://ehr.example/files/Patient.ndjson"}], "error": []}))
    lines, [reject], summary = run(reasoner, [tmp_path / "manifest.json"])
    assert not lines and reject["validation"][0]["message"].startswith(
        "a FHIR Bulk Data manifest, not a record, and not checked against any export")
    assert (summary.read, summary.rejected, summary.lines_rejected) == (0, 0, 1)


def _drop(name: str) -> Any:
    return lambda folder, manifest: (folder / name).unlink()


def _cut(name: str) -> Any:
    def cut(folder: Path, manifest: dict[str, Any]) -> None:
        lines = (folder / name).read_text().splitlines(keepends=True)
        (folder / name).write_text("".join(lines[:-1]))
    return cut


def _change(**changes: Any) -> Any:
    return lambda folder, manifest: manifest.update(changes)


def _item(index: int, **changes: Any) -> Any:
    return lambda folder, manifest: manifest["output"][index].update(changes)


def _then(*changes: Any) -> Any:
    def each(folder: Path, manifest: dict[str, Any]) -> None:
        for change in changes:
            change(folder, manifest)
    return each


def _rename(folder: Path, manifest: dict[str, Any]) -> None:
    _renamed(folder)


def _uncounted(folder: Path, manifest: dict[str, Any]) -> None:
    for item in manifest["output"]:
        item.pop("count")


def _by_patient(folder: Path, manifest: dict[str, Any]) -> None:
    for item in manifest["output"]:
        item.pop("type")
    manifest["outputOrganizedBy"] = "Patient"


def _untyped(folder: Path, manifest: dict[str, Any]) -> None:
    manifest["output"][0].pop("type")


def _copy_for_missing(folder: Path, manifest: dict[str, Any]) -> None:
    """MedicationStatements in two files, the second not given, the first given twice (a browser's
    "(1)" copy), all under a client's names."""
    lines = (folder / "MedicationStatement.ndjson").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (folder / "MedicationStatement.ndjson").unlink()
    (folder / "MedicationStatement_1.ndjson").write_text("".join(lines[:half]))
    (folder / "MedicationStatement_1 (1).ndjson").write_text("".join(lines[:half]))
    manifest["output"] = [i for i in manifest["output"] if i["type"] != "MedicationStatement"] + [
        {"type": "MedicationStatement", "url": f"https://ehr.example/files/MedicationStatement_{n}.ndjson",
         "count": count} for n, count in ((1, half), (2, len(lines) - half))]
    _renamed(folder)


def _first_page(folder: Path, manifest: dict[str, Any]) -> None:
    manifest["link"] = [{"relation": "next", "url": "https://ehr.example/status/manifest-2.json"}]


def _paged(link: str, page: str) -> Any:
    """A manifest whose first page links on to `link`, with Condition's file listed on `page`,
    which is given, and the file not: pages 1 and 2 given (link = page), or 1 and 3 (page 2 not)."""
    def paged(folder: Path, manifest: dict[str, Any]) -> None:
        other = {**manifest, "output": [i for i in manifest["output"] if i["type"] == "Condition"]}
        manifest["output"] = [i for i in manifest["output"] if i["type"] != "Condition"]
        manifest["link"] = [{"relation": "next", "url": f"https://ehr.example/status/{link}"}]
        _write(folder, other, page)
        (folder / "Condition.ndjson").unlink()
    return paged


def _cut_and_copy(folder: Path, manifest: dict[str, Any]) -> None:
    """Condition.ndjson cut to half, and the same half again as Condition.ndjson.gz (a re-download)."""
    lines = (folder / "Condition.ndjson").read_text().splitlines(keepends=True)
    half = "".join(lines[:len(lines) // 2])
    (folder / "Condition.ndjson").write_text(half)
    (folder / "Condition.ndjson.gz").write_bytes(gzip.compress(half.encode()))


def _two_parts(folder: Path, manifest: dict[str, Any]) -> None:
    """Two files listed as Condition.ndjson?part=1 and ?part=2, saved to one name: one is lost."""
    lines = (folder / "Condition.ndjson").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (folder / "Condition.ndjson").write_text("".join(lines[half:]))
    manifest["output"] = [i for i in manifest["output"] if i["type"] != "Condition"] + [
        {"type": "Condition", "url": f"https://ehr.example/files/Condition.ndjson?part={n}", "count": count}
        for n, count in ((1, half), (2, len(lines) - half))]


# What makes the export partial, and the words of the manifest's reject that say so.
PARTIAL = {
    "a file not given": (_drop("MedicationStatement.ndjson"), "'MedicationStatement.ndjson' is not given"),
    "a file cut short": (_cut("MedicationStatement.ndjson"),
                         "'MedicationStatement.ndjson' holds 11 of the 12 MedicationStatement resources it lists, "
                         "so it was cut short"),
    "a file with no count not given": (_then(_uncounted, _drop("Condition.ndjson")), "'Condition.ndjson' is not given"),
    "an error file not given": (_change(error=[{"type": "OperationOutcome", "url": "https://ehr.example/err.ndjson"}]),
                                "its error file 'err.ndjson', which says what the server could not export, is "
                                "not given"),
    "an error file with no type": (_change(error=[{"url": "https://ehr.example/err.ndjson"}]),
                                   "its error file 'err.ndjson'"),
    "an outcome file (the IG's newer name)": (_change(outcome=[{"url": "https://ehr.example/err.ndjson"}]),
                                              "its error file 'err.ndjson'"),
    "changes since a date": (_change(request="https://ehr.example/fhir/$export?_since=2026-01-01T00:00:00Z"),
                             "the export was asked for part of each record (only what changed since "
                             "2026-01-01T00:00:00Z (_since)): export again without that"),
    "what existed before a date": (_change(request="https://ehr.example/fhir/$export?_until=2020-01-01T00:00:00Z"),
                                   "only what existed before 2020-01-01T00:00:00Z (_until)"),
    "a type filter": (_change(request="https://ehr.example/fhir/$export?_typeFilter=MedicationStatement%3Fstatus%3D"
                                      "active"),
                      "only the resources matching MedicationStatement?status=active (_typeFilter)"),
    "some elements only": (_change(request="https://ehr.example/fhir/$export?_elements=code"),
                           "only the elements code (_elements)"),
    "some types only": (_change(request="https://ehr.example/fhir/$export?_type=Patient,Condition,Observation"),
                        "without MedicationAdministration, MedicationDispense, MedicationRequest, "
                        "MedicationStatement (_type)"),
    "deleted resources": (_change(deleted=[{"type": "Bundle", "url": "https://ehr.example/del.ndjson"}]),
                          "what changed since a date: it lists deleted resources"),
    "organised by patient, cut short": (_then(_by_patient, _cut("MedicationStatement.ndjson")),
                                        "'MedicationStatement.ndjson' holds 11 of the 12 resources"),
    # second review of session 26
    "renamed files, one cut short": (_then(_rename, _cut("2.MedicationStatement.ndjson")),
                                     "it lists 12 MedicationStatement resources; the files given hold 11"),
    "renamed files with no counts, one not given": (_then(_uncounted, _rename, _drop("1.Condition.ndjson")),
                                                    "it lists 1 files of Condition resources; 0 of the files given "
                                                    "hold them"),
    "a copy given for a file not given": (_copy_for_missing, "the files given hold 6"),
    "the next page not given": (_first_page, "it is a paged list, and the page manifest-2.json is not given (under "
                                             "the name its link gives)"),
    "a file of the second page not given": (_paged("manifest-2.json", "manifest-2.json"),
                                            "'Condition.ndjson' (listed in "),
    "a count as text": (_item(0, count="16"), "output[0].count: expected a whole number, got '16'"),
    "a count that is true": (_item(0, count=True), "output[0].count: expected a whole number, got True"),
    "a file with no type": (_untyped, "output[0]: no type (only output organised by patient"),
    "a file as a bare URL": (_change(output=["https://ehr.example/files/Patient.ndjson"]),
                             "output[0]: expected a file with a url"),
    "error files as one object": (_change(error={"url": "https://ehr.example/err.ndjson"}),
                                  "error: expected a list of files, got dict"),
    "output as one object": (_change(output={"url": "https://ehr.example/files/Patient.ndjson"}),
                             "output: expected a list of files, got dict"),
    "a type as a list": (_item(0, type=["Condition"]), "output[0].type: expected a resource type"),
    "a URL that is no URL": (_item(0, url="https://[ehr.example/files/Condition.ndjson"), "is not given"),
    "a request that is no URL": (_change(request="https://[ehr.example/fhir/$export?_type=Patient"),
                                 "request: no URL"),
    # third review
    "a middle page not given": (_paged("page2.json", "page3.json"), "the page page2.json is not given"),
    "an empty type": (_then(_item(0, type=""), _rename), "output[0].type: expected a resource type, got ''"),
    "a next link without a url": (_change(link=[{"relation": "next"}]), "link[0]: a next page without a url"),
    "a copy under the same name makes up a cut-short file": (_cut_and_copy, "'Condition.ndjson' holds 16 of the 32"),
    "two parts of one name, one overwritten": (_two_parts, "'Condition.ndjson' holds 16 of the 32"),
}


@pytest.mark.parametrize("case", list(PARTIAL))
def test_an_export_its_manifest_shows_partial_stops_every_patient(reasoner, tmp_path: Path, case: str) -> None:
    """An export whose manifest lists more than was given, that was asked for part of each record, or
    whose manifest cannot be read as one, may lack any patient's failed biologic or Crohn's disease:
    no patient of it is advised."""
    bundles = [to_bundle(record) for _, record in RECORDS[:6]]
    folder = tmp_path / "export"
    export(bundles, folder)
    manifest = _manifest(folder)
    change, said = PARTIAL[case]
    change(folder, manifest)
    _write(folder, manifest)
    lines, rejects, summary = run(reasoner, [folder])
    assert not lines and summary.valid == 0
    [note] = [r for r in rejects if r["source"] == str(folder / "manifest.json")]
    assert note["patient"] is None and note["validation"][0]["message"].startswith(
        "a Bulk Data manifest that shows the export is not whole: ")
    assert said in note["validation"][0]["message"], note
    stopped = [r for r in rejects if r["patient"]]
    assert len(stopped) == summary.read == summary.rejected == len(bundles)
    for reject in stopped:
        message = reject["validation"][0]["message"]
        assert message.startswith("not advised: the export's manifest shows that any patient's record may lack "
                                  f"part of what the server holds ({folder / 'manifest.json'}: "), message
        assert said in message


@pytest.mark.parametrize("text", ['{"transactionTime": "2026-12-01T00:00:00Z", "output": [',
                                  '{"transactionTime": "x", "output": ' + "[" * 100_000 + "]" * 100_000 + "}"])
def test_a_manifest_that_cannot_be_read_stops_the_export(reasoner, tmp_path: Path, text: str) -> None:
    """Cut short, or nested past what JSON can be read to: it cannot vouch for the export, so the
    export is not advised (a traceback before, for the nested one)."""
    export([to_bundle(record) for _, record in RECORDS[:2]], tmp_path / "export")
    (tmp_path / "export" / "manifest.json").write_text(text)
    lines, rejects, _ = run(reasoner, [tmp_path / "export"])
    assert not lines
    [note] = [r for r in rejects if r["source"].endswith("manifest.json")]
    assert "it cannot be read as a manifest (" in note["validation"][0]["message"]


def test_a_manifest_saved_as_utf16_is_read(reasoner, tmp_path: Path) -> None:
    """(PowerShell's > writes UTF-16.)"""
    export([to_bundle(record) for _, record in RECORDS[:2]], tmp_path / "export")
    manifest = _manifest(tmp_path / "export")
    (tmp_path / "export" / "Condition.ndjson").unlink()
    (tmp_path / "export" / "manifest.json").write_bytes(json.dumps(manifest).encode("utf-16"))
    lines, rejects, _ = run(reasoner, [tmp_path / "export"])
    assert not lines and any("'Condition.ndjson' is not given" in r["validation"][0]["message"] for r in rejects)


def test_two_exports_are_each_checked_against_their_own_files(reasoner, tmp_path: Path) -> None:
    """Two exports in one run, each with its manifest in its folder: one export's files do not
    stand in for a file the other lacks, whether found by name or, renamed, by type."""
    for name, part, when in (("a", RECORDS[:3], "2026-12-01T00:00:00Z"), ("b", RECORDS[3:6], "2026-12-02T00:00:00Z")):
        export([to_bundle(record) for _, record in part], tmp_path / name)
        _write(tmp_path / name, _manifest(tmp_path / name, transactionTime=when))
    alone, _, _ = run(reasoner, [tmp_path])
    assert len(alone) == 6
    (tmp_path / "b" / "MedicationStatement.ndjson").unlink()
    lines, rejects, _ = run(reasoner, [tmp_path])
    assert not lines
    [note] = [r for r in rejects if r["source"].endswith("manifest.json")]
    assert note["source"] == str(tmp_path / "b" / "manifest.json")
    assert "'MedicationStatement.ndjson' is not given" in note["validation"][0]["message"]
    _renamed(tmp_path / "a")
    _renamed(tmp_path / "b")
    lines, rejects, _ = run(reasoner, [tmp_path])
    [note] = [r for r in rejects if r["source"].endswith("manifest.json")]
    assert not lines and note["source"] == str(tmp_path / "b" / "manifest.json")
    assert "it lists 1 files of MedicationStatement resources; 0 of the files given hold them" in (
        note["validation"][0]["message"])


@pytest.mark.parametrize("request_url", [
    "https://ehr.example/fhir/$export?_typeFilter=Encounter%3Fdate%3Dge2020-01-01",
    "https://ehr.example/fhir/$export?_elements=Encounter.id,Encounter.status",
    "https://ehr.example/fhir/$export?_type=Patient,Condition,Observation,MedicationStatement,MedicationRequest,"
    "MedicationAdministration,MedicationDispense",
])
def test_a_request_that_leaves_whole_what_is_read_stops_nothing(reasoner, tmp_path: Path, request_url: str) -> None:
    export([to_bundle(record) for _, record in RECORDS[:3]], tmp_path / "export")
    _write(tmp_path / "export", _manifest(tmp_path / "export", request=request_url))
    lines, rejects, _ = run(reasoner, [tmp_path / "export"])
    assert len(lines) == 3 and not rejects


def test_each_export_is_checked_against_the_files_below_its_manifest(reasoner, tmp_path: Path) -> None:
    """A manifest in a parent folder does not take another export's file of the same name (below
    that export's own manifest) for its missing one, nor, checked by type, another folder's files."""
    export([to_bundle(record) for _, record in RECORDS[:3]], tmp_path / "A")
    _write(tmp_path, _manifest(tmp_path / "A"))
    export([to_bundle(record) for _, record in RECORDS[3:6]], tmp_path / "B")
    _write(tmp_path / "B", _manifest(tmp_path / "B", transactionTime="2026-12-02T00:00:00Z"))
    assert len(run(reasoner, [tmp_path])[0]) == 6
    (tmp_path / "A" / "MedicationStatement.ndjson").unlink()
    lines, rejects, _ = run(reasoner, [tmp_path])
    [note] = [r for r in rejects if r["source"].endswith("manifest.json")]
    assert not lines and note["source"] == str(tmp_path / "manifest.json")
    assert "'MedicationStatement.ndjson' is not given" in note["validation"][0]["message"]
    # by type: clinic C's files, with no manifest, do not stand in for A's
    (tmp_path / "B" / "manifest.json").unlink()
    (tmp_path / "B").rename(tmp_path / "C")
    (tmp_path / "manifest.json").unlink()
    listed = _manifest(tmp_path / "A")  # (and the missing file, under the server's names)
    listed["output"].append({"type": "MedicationStatement", "url": "https://ehr.example/files/MedicationStatement.ndjson",
                             "count": 4})
    _renamed(tmp_path / "A")
    _write(tmp_path / "A", listed)
    lines, rejects, _ = run(reasoner, [tmp_path])
    assert not lines and any("it lists 1 files of MedicationStatement resources; 0 of the files given hold them"
                             in r["validation"][0]["message"] for r in rejects)


@pytest.mark.parametrize("layout", ["a copy of the manifest", "error files in error/", "names as saved",
                                    "a client's log"])
def test_whole_exports_as_clients_save_them_are_advised(reasoner, tmp_path: Path, layout: str) -> None:
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:3]], folder)
    manifest = _manifest(folder)
    if layout == "a copy of the manifest":  # (not a second page: every file would be wanted twice)
        _write(folder, manifest, "manifest (1).json")
    elif layout == "error files in error/":  # (bulk-data-client keeping the server's names)
        (folder / "error").mkdir()
        note = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational",
                                                               "diagnostics": "codes not mapped"}]}
        (folder / "error" / "errors_1.ndjson").write_text(json.dumps(note) + "\n")
        manifest["error"] = [{"type": "OperationOutcome", "url": "https://ehr.example/files/errors_1.ndjson"}]
    elif layout == "names as saved":  # percent-encoded URL, upper-case .GZ, another case
        (folder / "Condition.ndjson").rename(folder / "Condition 1.ndjson")
        (folder / "Observation.ndjson.gz").rename(folder / "observation.ndjson.GZ")
        for item in manifest["output"]:
            item["url"] = item["url"].replace("Condition.ndjson", "Condition%201.ndjson")
    else:  # smart-fetch writes its log beside the files
        (folder / "log.ndjson").write_text(json.dumps({"exportId": "e1", "eventId": "kickoff", "timestamp": "x"})
                                           + "\n")
    _write(folder, manifest)
    lines, rejects, _ = run(reasoner, [folder])
    assert len(lines) == 3
    assert [r["validation"][0]["message"].split(":")[0] for r in rejects] == {
        "error files in error/": ["not read"], "a client's log": ["not read"]}.get(layout, []), rejects


def test_a_manifest_gz_cut_short_stops_the_export(reasoner, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:3]], folder)
    data = gzip.compress(json.dumps(_manifest(folder), indent=1).encode())
    (folder / "manifest.json.gz").write_bytes(data[:len(data) // 2])
    lines, rejects, summary = run(reasoner, [folder])
    assert not lines and summary.lines_rejected == 1
    [note] = [r for r in rejects if r["source"].endswith("manifest.json.gz")]
    assert "it cannot be read as a manifest (cannot read it (the file ends before its compressed data does))" in (
        note["validation"][0]["message"])


def test_many_files_not_given_are_named_in_few_words(reasoner, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:2]], folder)
    manifest = _manifest(folder)
    manifest["output"] += [{"type": "Condition", "url": f"https://ehr.example/files/C{n}.ndjson"} for n in range(3000)]
    _write(folder, manifest)
    _, rejects, _ = run(reasoner, [folder])
    assert all(len(r["validation"][0]["message"]) < 600 for r in rejects)
    assert any("3000 files it lists are not given: 'C0.ndjson', " in r["validation"][0]["message"] and
               "and 2995 more" in r["validation"][0]["message"] for r in rejects)


def test_third_review_layouts(reasoner, tmp_path: Path) -> None:
    """Paths spelt otherwise (`..`, absolute) are the files they are; a manifest given from
    elsewhere, a byte copy under a listed name, a retry appended to a first attempt, a damaged
    .json.gz and a client's log of a failed download each stop the export."""
    site_a, site_b = tmp_path / "siteA", tmp_path / "siteB"
    export([to_bundle(record) for _, record in RECORDS[:3]], site_a)
    export([to_bundle(record) for _, record in RECORDS[3:6]], site_b)
    manifest = _manifest(site_a)
    _write(site_a, manifest)
    # the same files under two spellings: whole
    lines, rejects, _ = run(reasoner, [site_a, (site_a / "Condition.ndjson").resolve(),
                                       tmp_path / "siteB" / ".." / "siteA" / "Patient.ndjson"])
    assert len(lines) == 3 and not rejects
    # `..`: site B's file does not stand in for A's missing one
    (site_a / "MedicationStatement.ndjson").rename(tmp_path / "kept.ndjson")
    lines, _, _ = run(reasoner, [site_a, site_a / ".." / "siteB"])
    assert not lines
    (tmp_path / "kept.ndjson").rename(site_a / "MedicationStatement.ndjson")
    # a manifest from elsewhere
    (tmp_path / "downloads").mkdir()
    (site_a / "manifest.json").rename(tmp_path / "downloads" / "manifest.json")
    lines, rejects, _ = run(reasoner, [tmp_path / "downloads" / "manifest.json", site_a])
    assert not lines and any("none of the files given lies in its folder or below" in r["validation"][0]["message"]
                             for r in rejects)
    (tmp_path / "downloads" / "manifest.json").rename(site_a / "manifest.json")
    # a retry appended to a first attempt: its lines twice, as many as listed, half the resources
    conditions = (site_a / "Condition.ndjson").read_text().splitlines(keepends=True)
    half = "".join(conditions[:len(conditions) // 2])
    (site_a / "Condition.ndjson").write_text(half + half + ("" if len(conditions) % 2 == 0 else conditions[0]))
    lines, rejects, _ = run(reasoner, [site_a])
    assert not lines and any("'Condition.ndjson' holds" in r["validation"][0]["message"] for r in rejects)
    (site_a / "Condition.ndjson").write_text("".join(conditions))
    assert len(run(reasoner, [site_a])[0]) == 3
    # a damaged manifest.json.gz, nothing of it readable
    (site_a / "manifest.json").unlink()
    data = bytearray(gzip.compress(json.dumps(manifest).encode()))
    data[12:30] = bytes(b ^ 0xFF for b in data[12:30])
    (site_a / "manifest.json.gz").write_bytes(bytes(data))
    lines, rejects, summary = run(reasoner, [site_a])
    assert not lines and summary.read == 3 and summary.lines_rejected == 1
    (site_a / "manifest.json.gz").unlink()
    # a client's log of a failed download (smart-fetch keeps no manifest)
    events = [{"exportId": "e1", "eventId": "download_error", "eventDetail": {"fileUrl": "https://ehr/x/9.ndjson"}}]
    (site_a / "log.ndjson").write_text("".join(json.dumps(e) + "\n" for e in events))
    lines, rejects, _ = run(reasoner, [site_a])
    assert not lines and any("the download of https://ehr/x/9.ndjson failed" in r["validation"][0]["message"]
                             for r in rejects)
    events.append({"exportId": "e1", "eventId": "download_complete", "eventDetail": {"fileUrl": "https://ehr/x/9.ndjson"}})
    (site_a / "log.ndjson").write_text("".join(json.dumps(e) + "\n" for e in events))
    assert len(run(reasoner, [site_a])[0]) == 3


def test_a_byte_copy_under_a_listed_name_does_not_make_up_the_count(reasoner, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:4]], folder)
    lines = (folder / "Condition.ndjson").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    (folder / "Condition.ndjson").unlink()
    (folder / "Condition_1.ndjson").write_text("".join(lines[:half]))
    (folder / "Condition_2.ndjson").write_text("".join(lines[:half]))  # (the first URL fetched twice)
    manifest = _manifest(folder)
    manifest["output"] = [i for i in manifest["output"] if not i["type"].startswith("Condition")] + [
        {"type": "Condition", "url": f"https://ehr.example/files/Condition_{n}.ndjson", "count": count}
        for n, count in ((1, half), (2, len(lines) - half))]
    _write(folder, manifest)
    out, rejects, _ = run(reasoner, [folder])
    assert not out and any(f"its Condition files hold {half} distinct resources of the {len(lines)} it lists"
                           in r["validation"][0]["message"] for r in rejects)


@pytest.mark.parametrize(("pages", "stopped"), [(2, False), (1, True)])
def test_pages_linked_by_status_urls_are_counted(reasoner, tmp_path: Path, pages: int, stopped: bool) -> None:
    """The SMART reference server links the next page by its status URL (`.../bulkstatus/<job>?page=2`),
    which names no file: the pages given must be one more than the links."""
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:3]], folder)
    manifest = _manifest(folder)
    second = {**manifest, "output": manifest["output"][2:]}
    manifest["output"] = manifest["output"][:2]
    manifest["link"] = [{"relation": "next", "url": "https://ehr.example/fhir/bulkstatus/a1b2c3?page=2"}]
    _write(folder, manifest)
    if pages == 2:
        _write(folder, second, "manifest-2.json")
    lines, rejects, _ = run(reasoner, [folder])
    assert bool(lines) != stopped
    if stopped:
        assert any("it is a paged list, and of its 2 or more pages 1 is given" in r["validation"][0]["message"]
                   for r in rejects)


def test_a_file_listed_with_no_resources_may_be_given_empty(reasoner, tmp_path: Path) -> None:
    """(A server should not list one; if its manifest does, with a count of 0, an empty file is
    what it should be, not a download cut short.)"""
    folder = tmp_path / "export"
    export([to_bundle(record) for _, record in RECORDS[:2]], folder)
    (folder / "AllergyIntolerance.ndjson").write_text("")
    manifest = _manifest(folder)
    assert [i["count"] for i in manifest["output"] if i["type"] == "AllergyIntolerance"] == [0]
    _write(folder, manifest)
    lines, rejects, _ = run(reasoner, [folder])
    assert len(lines) == 2 and not rejects
    manifest["output"] = [i for i in manifest["output"] if i["type"] != "AllergyIntolerance"]
    _write(folder, manifest)
    lines, rejects, _ = run(reasoner, [folder])  # (not listed: may be a download cut short)
    assert not lines and any("no resource in this file" in r["validation"][0]["message"] for r in rejects)
