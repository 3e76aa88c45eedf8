"""bench/export.py and `generate.py -f fhir|ndjson`: the same generated patients in three forms, each
advised whole (a smoke test: the figures belong to benchmarks, not tests)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module(name: str):
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_form_advises_every_patient(capsys, tmp_path: Path) -> None:
    assert _module("export").main(["-n", "12", "--data", str(tmp_path)]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert [row[:18].strip() for row in rows] == ["plain records", "FHIR Bundles", "Bulk Data export"]
    valid = {int(row.split()[-2]) for row in rows}
    assert len(valid) == 1 and valid.pop() > 0 and all(row.split()[-1] == "0" for row in rows)


def test_generate_writes_bundles_and_exports(tmp_path: Path) -> None:
    generate = _module("generate")
    assert generate.main(["-n", "5", "-f", "fhir", "-o", str(tmp_path / "b.jsonl")]) == 0
    bundles = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert len(bundles) == 5 and all(b["resourceType"] == "Bundle" for b in bundles)
    assert generate.main(["-n", "5", "-f", "ndjson", "-o", str(tmp_path / "export")]) == 0
    patients = (tmp_path / "export" / "Patient.ndjson").read_text().splitlines()
    assert sorted(json.loads(p)["id"] for p in patients) == sorted(
        b["entry"][0]["resource"]["id"] for b in bundles)
