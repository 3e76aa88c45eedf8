"""Deterministic synthetic axSpA cohort generator (seeded), for benchmarks and cohort tests.

Patients follow plausible treatment sequences (NSAIDs first, then a TNF inhibitor, then a switch
by response type), with comorbidity prevalences of the order reported for axSpA cohorts and
dates in order. A chosen fraction is made invalid on purpose (a child, an end date before the
start, an unknown drug, a BASDAI above 10) so the reject path is exercised.

    python bench/generate.py -n 1000 --seed 7 --invalid 0.02 -o cohort.jsonl   # one JSON record per line
    python bench/generate.py -n 100000 -f nt -o cohort.nt                       # N-Triples, fast to bulk-load
    python bench/generate.py -n 1000 -f fhir -o cohort.fhir.jsonl              # one FHIR R4 Bundle per line
    python bench/generate.py -n 1000 -f ndjson -o export/                       # a FHIR Bulk Data export

The prevalences below are rough planning figures for a synthetic benchmark, not clinical facts.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

AX = "https://w3id.org/axspa-kg/ontology#"
DRUG = "https://w3id.org/axspa-kg/drug/"
BASE = "https://w3id.org/axspa-kg/record/"
XSD = "http://www.w3.org/2001/XMLSchema#"

NSAIDS = ["naproxen", "celecoxib", "ibuprofen", "diclofenac", "indomethacin", "meloxicam", "etoricoxib"]
TNFI = ["adalimumab", "etanercept", "infliximab", "golimumab", "certolizumab_pegol"]
IL17I = ["secukinumab", "ixekizumab", "bimekizumab"]
JAKI = ["tofacitinib", "upadacitinib"]
CSDMARD = ["sulfasalazine", "methotrexate"]
CONDITIONS = [  # (concept, share stated present, share stated absent; rest: not stated)
    ("ibd", 0.07, 0.6),
    ("recurrent_anterior_uveitis", 0.12, 0.5),
    ("psoriasis", 0.09, 0.5),
    ("peripheral_arthritis", 0.25, 0.4),
    ("enthesitis", 0.2, 0.3),
    ("congestive_heart_failure", 0.02, 0.5),
    ("latent_tuberculosis", 0.03, 0.5),
    ("chronic_kidney_disease", 0.03, 0.4),
    ("peptic_ulcer", 0.03, 0.4),
]


def _day(start: date, rng: random.Random, low: int, high: int) -> date:
    return start + timedelta(days=rng.randint(low, high))


# (BASDAI, ASDAS-CRP) ranges by disease state; the bounds are the measure bands of
# shared/reference/measures.tsv that the record shapes test (BASDAI 4, ASDAS 1.3 and 2.1).
SCORE_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "active": ((0.5, 8.5), (1.3, 4.5)),
    "stable": ((0.5, 3.9), (0.8, 2.0)),
    "unclear": ((0.5, 8.5), (0.8, 4.5)),
}


def make_patient(index: int, rng: random.Random, invalid: bool = False) -> dict[str, Any]:
    """One record in the plain JSON format (see README)."""
    diagnosis = "AS" if rng.random() < 0.65 else "nr-axSpA"
    state = rng.choices(["active", "stable", "unclear"], weights=[0.55, 0.4, 0.05])[0]
    record: dict[str, Any] = {
        "id": f"synthetic-{index:07d}",
        "age": rng.randint(19, 78),
        "sex": rng.choice(["female", "male", "male"]),
        "diagnosis": diagnosis,
        "diseaseState": state,
        "conditions": [],
        "treatments": [],
        "measurements": [],
    }
    for concept, present, absent in CONDITIONS:
        roll = rng.random()
        if roll < present:
            record["conditions"].append({"condition": concept, "status": "present"})
        elif roll < present + absent:
            record["conditions"].append({"condition": concept, "status": "absent"})
    today = date(2026, 10, 1)
    # Scores agree with the stated disease state, as the record shapes expect (they warn on a stable
    # state beside a BASDAI of 4 or more or an ASDAS of 2.1 or more, and on an active one beside an
    # ASDAS below 1.3): drawn over the whole range, a quarter of the records carried such a warning.
    # Same number of draws as before, so every other field of a seed's records is unchanged.
    basdai_range, asdas_range = SCORE_RANGES[state]
    record["measurements"].append({"measure": "basdai", "value": round(rng.uniform(*basdai_range), 1),
                                   "date": today.isoformat()})
    if rng.random() < 0.8:
        record["measurements"].append({"measure": "crp", "value": round(rng.uniform(0.5, 40), 1),
                                       "date": today.isoformat()})
    if rng.random() < 0.5:
        record["measurements"].append({"measure": "asdas_crp", "value": round(rng.uniform(*asdas_range), 2),
                                       "date": today.isoformat()})
    cursor = date(2015, 1, 1) + timedelta(days=rng.randint(0, 2500))
    steps = rng.choices([1, 2, 3, 4], weights=[0.3, 0.3, 0.25, 0.15])[0]
    nsaids = rng.sample(NSAIDS, k=min(2, steps))
    for i, nsaid in enumerate(nsaids):
        last = i == len(nsaids) - 1 and steps <= len(nsaids)
        end = _day(cursor, rng, 30, 120)
        if last and rng.random() < 0.5:
            record["treatments"].append({"drug": nsaid, "status": "ongoing", "start": cursor.isoformat(),
                                         "outcome": rng.choice(["ongoing_response", "partial_response"])})
        else:
            record["treatments"].append({"drug": nsaid, "status": "stopped", "start": cursor.isoformat(),
                                         "end": end.isoformat(), "maximalDose": rng.random() < 0.7,
                                         "outcome": rng.choice(["primary_nonresponse", "partial_response",
                                                                "intolerance"])})
        cursor = _day(end, rng, 5, 60)
    pool = [*TNFI]
    for step in range(max(0, steps - 2)):
        drug = rng.choice(pool)
        pool = [d for d in (TNFI + IL17I + JAKI) if d != drug]
        end = _day(cursor, rng, 90, 700)
        if step == steps - 3 and rng.random() < 0.6:
            record["treatments"].append({"drug": drug, "status": "ongoing", "start": cursor.isoformat(),
                                         "outcome": "ongoing_response"})
            if rng.random() < 0.1:
                record["treatments"].append({"drug": rng.choice(CSDMARD), "status": "ongoing",
                                             "start": _day(cursor, rng, 0, 60).isoformat()})
        else:
            outcome = rng.choices(["primary_nonresponse", "secondary_nonresponse", "adverse_event",
                                   "injection_site_reaction", "stopped_other_reason"],
                                  weights=[0.3, 0.35, 0.15, 0.1, 0.1])[0]
            record["treatments"].append({"drug": drug, "status": "stopped", "start": cursor.isoformat(),
                                         "end": end.isoformat(), "outcome": outcome})
        cursor = _day(end, rng, 10, 90)
    if invalid:
        defect = rng.choice(["child", "dates", "drug", "basdai"])
        if defect == "child":
            record["age"] = rng.randint(8, 17)
        elif defect == "dates" and record["treatments"]:
            course = record["treatments"][0]
            course["status"], course["end"] = "stopped", "2000-01-01"
        elif defect == "drug" and record["treatments"]:
            record["treatments"][0]["drug"] = "notarealmab"
        else:
            record["measurements"][0]["value"] = 12.5
    return record


def cohort(n: int, seed: int = 7, invalid_fraction: float = 0.0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for index in range(n):
        yield make_patient(index, rng, invalid=rng.random() < invalid_fraction)


def _lit(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def to_ntriples(record: dict[str, Any]) -> str:
    """The same record as N-Triples, with drug ids already resolved (bulk-load path)."""
    p = f"<{BASE}{record['id']}>"
    diagnosis = {"AS": "ankylosing_spondylitis", "nr-axSpA": "nr_axspa", "axSpA": "axial_spa"}[record["diagnosis"]]
    states = {"active": "active_disease", "stable": "stable_disease", "unclear": "unclear_activity"}
    state = states[record["diseaseState"]]
    sex = {"female": "female", "male": "male", "other": "other_sex"}[record["sex"]]
    lines = [
        f"{p} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{AX}Patient> .",
        f"{p} <{AX}ageYears> {_lit(record['age'], 'integer')} .",
        f"{p} <{AX}sex> <{AX}{sex}> .",
        f"{p} <{AX}hasDiagnosis> <{AX}{diagnosis}> .",
        f"{p} <{AX}diseaseState> <{AX}{state}> .",
    ]

    def nested(stem: str, index: int, link: str, cls: str) -> str:
        """IRI of a nested item, with its link from the patient and its type added to `lines`."""
        node = f"<{BASE}{record['id']}/{stem}/{index}>"
        lines.extend([f"{p} <{AX}{link}> {node} .",
                      f"{node} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{AX}{cls}> ."])
        return node

    for i, c in enumerate(record["conditions"], 1):
        node = nested("condition", i, "hasConditionStatement", "ConditionStatement")
        lines += [f"{node} <{AX}aboutCondition> <{AX}{c['condition']}> .",
                  f"{node} <{AX}presence> <{AX}{c['status']}> ."]
    for i, m in enumerate(record["measurements"], 1):
        node = nested("measurement", i, "hasMeasurement", "Measurement")
        lines += [f"{node} <{AX}measure> <{AX}{m['measure']}> .",
                  f"{node} <{AX}value> {_lit(m['value'], 'decimal')} .",
                  f"{node} <{AX}effectiveDate> {_lit(m['date'], 'date')} ."]
    for i, t in enumerate(record["treatments"], 1):
        node = nested("treatment", i, "hasTreatmentCourse", "TreatmentCourse")
        lines += [f"{node} <{AX}courseStatus> <{AX}{t['status']}> .",
                  f"{node} <{AX}startDate> {_lit(t['start'], 'date')} ."]
        if t["drug"] == "notarealmab":
            lines.append(f'{node} <{AX}drugName> "notarealmab" .')
        else:
            lines.append(f"{node} <{AX}drug> <{DRUG}{t['drug']}> .")
        if "end" in t:
            lines.append(f"{node} <{AX}endDate> {_lit(t['end'], 'date')} .")
        if "outcome" in t:
            lines.append(f"{node} <{AX}outcome> <{AX}{t['outcome']}> .")
        if "maximalDose" in t:
            lines.append(f"{node} <{AX}atMaximalDose> {_lit(str(t['maximalDose']).lower(), 'boolean')} .")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1000, help="number of patients")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--invalid", type=float, default=0.0, help="fraction of deliberately invalid records")
    parser.add_argument("-f", "--format", choices=("jsonl", "nt", "fhir", "ndjson"), default="jsonl",
                        help="jsonl: plain records; nt: N-Triples; fhir: a FHIR R4 Bundle a line; ndjson: a "
                             "FHIR Bulk Data export (NDJSON files by resource type) in the folder -o names")
    parser.add_argument("-o", "--output", type=Path, help="output file (default: standard output)")
    args = parser.parse_args(argv)
    records = cohort(args.n, args.seed, args.invalid)
    if args.format in ("fhir", "ndjson"):
        from fhir_form import is_plain, to_bundle, write_export

        kept = [record for record in records if is_plain(record)]
        if len(kept) < args.n:
            print(f"generate: {args.n - len(kept)} records a Bundle cannot say as they are were left out",
                  file=sys.stderr)
        if args.format == "ndjson":
            if args.output is None:
                parser.error("-f ndjson writes a folder: name it with -o")
            write_export([to_bundle(record) for record in kept], args.output, seed=args.seed)
            return 0
        records = (to_bundle(record) for record in kept)
    out = args.output.open("w", encoding="utf-8") if args.output else sys.stdout
    try:
        for record in records:
            out.write(to_ntriples(record) if args.format == "nt" else json.dumps(record) + "\n")
    finally:
        if args.output:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
