"""A cohort of a few thousand generated patients (bench/generate.py), run as `axspa cohort` runs it:
every record is advised or rejected, exactly the deliberately broken ones are rejected, and every
line keeps the safety and provenance promises for every patient, not only for the examples."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from reasoner.cohort import CohortRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from generate import cohort  # noqa: E402

N, SEED, INVALID = 2000, 3, 0.03
RECOMMENDING = {"recommended", "preferred-over", "no-preference"}
BLOCKING = {"contraindicated", "do-not-repeat"}
ONTOLOGY = "https://w3id.org/axspa-kg/ontology#"


def _broken(record: dict) -> bool:
    """What the generator breaks on purpose: a child, a course ending in 2000, an unknown drug, a
    BASDAI above 10 (it sometimes picks a defect the record has no place for, leaving it valid)."""
    return (record["age"] < 18 or any(t.get("end") == "2000-01-01" for t in record["treatments"])
            or any(t["drug"] == "notarealmab" for t in record["treatments"])
            or any(m["measure"] == "basdai" and m["value"] > 10 for m in record["measurements"]))


@pytest.fixture(scope="module")
def run(reasoner, tmp_path_factory) -> tuple[list[dict], list[dict], list[dict], object]:
    records = list(cohort(N, seed=SEED, invalid_fraction=INVALID))
    path = tmp_path_factory.mktemp("large") / "cohort.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out, rejects = io.StringIO(), io.StringIO()
    summary = CohortRunner(reasoner, batch=500).run([path], out, rejects=rejects)
    return (records, [json.loads(x) for x in out.getvalue().splitlines()],
            [json.loads(x) for x in rejects.getvalue().splitlines()], summary)


def test_every_record_is_advised_or_rejected_and_only_the_broken_are_rejected(run) -> None:
    records, lines, rejects, summary = run
    assert summary.read == N == len(lines) + len(rejects)
    broken = {r["id"] for r in records if _broken(r)}
    assert len(broken) >= 20
    assert {r["patient"].rsplit("/", 1)[1] for r in rejects} == broken
    assert all(any(v["severity"] == "violation" for v in r["validation"]) for r in rejects)
    assert [line["patient"].rsplit("/", 1)[1] for line in lines] == [r["id"] for r in records if r["id"] not in broken]


def test_no_patient_is_recommended_what_their_record_blocks(run) -> None:
    _, lines, _, _ = run
    blocked_somewhere = 0
    for line in lines:
        by_kind: dict[str, set[str]] = {}
        for item in line["advice"]:
            by_kind.setdefault(item["kind"], set()).add(item["therapy"]["iri"])
        blocked = set().union(*(by_kind.get(k, set()) for k in BLOCKING))
        recommended = set().union(*(by_kind.get(k, set()) for k in RECOMMENDING))
        assert not recommended & blocked, (line["patient"], recommended & blocked)
        blocked_somewhere += bool(blocked)
        for conflict in line["conflicts"]:
            assert conflict["overridden_by"]["kind"] == "contraindicated"
            assert conflict["overridden_by"]["therapy"]["iri"] in by_kind["contraindicated"]
    assert blocked_somewhere >= len(lines) // 4, "the cohort should exercise the safety rules"


def test_every_advice_item_names_its_source_grading_and_the_patients_facts(run) -> None:
    _, lines, _, _ = run
    items = 0
    for line in lines:
        own = line["patient"] + "/"
        for item in line["advice"] + [c["advice"] for c in line["conflicts"]]:
            items += 1
            source = item["recommendation"]
            assert source["id"] and source["guideline"] and source["iri"], item
            assert item["strength"] and item["evidence"], item
            assert item["because"], item
            for fact in item["because"]:
                # a fact of the record (the patient itself for its age), or a population or state
                assert fact["text"] and (fact["fact"] == line["patient"] or fact["fact"].startswith(own)
                                         or fact["fact"].startswith(ONTOLOGY)), fact
        for need in line["needs_information"]:
            assert need["why"] and need["options"] and need["because"], need
    assert items >= 20 * len(lines)
