"""Every plain record the project ships (examples, valid fixtures, generated patients), written out as
a FHIR R4 Bundle (bench/fhir_form.py), gives the advice, questions and conflicts of the record
itself: the FHIR reader loses nothing the rules use."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from fhir_form import is_plain, to_bundle  # noqa: E402
from generate import cohort  # noqa: E402


def plain_records() -> list[tuple[str, dict[str, Any]]]:
    """The shipped plain records (not the ones that are invalid on purpose, nor the ones a Bundle
    cannot say: a record whose diagnosis is spelt in its own vocabulary, or that is not plain)."""
    out = []
    paths = sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "tests" / "data" / "valid").glob("*.json"))
    for path in paths:
        record = json.loads(path.read_text(encoding="utf-8"))
        if path.name.endswith(".fhir.json") or path.name == "invalid-child.json" or not is_plain(record):
            continue
        out.append((path.name, record))
    out += [(f"generated-{r['id']}", r) for r in cohort(40, seed=5) if is_plain(r)]
    return out


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
