"""What the advice alone costs to write, against the records (prints figures).

    python bench/floor.py                  # 2,000 patients, best of 3
    python bench/floor.py --size 5000 --repeat 5 --rdflib

The cohort target compares a full run with bulk-loading the records. A run has to put at least its
own output into the store: every advice item is a node with its therapy, recommendation, kind,
population, the options it is preferred over and the patient facts behind it (~500 triples a
patient, against ~55 in the record). This script advises N generated patients once, then times,
in fresh in-memory stores, loading the records and loading only the derived statements:
- with Oxigraph's bulk loader (the fastest way in; the figure the cohort ratio is measured against);
- through SPARQL `INSERT DATA` (how rules write: one update per rule);
- with `--rdflib`, rdflib's own parser into a Dataset graph.

The derived/records ratio on the bulk loader is a floor for the cohort ratio with this advice
model: no rule engine can write its output faster than the bulk loader reads it. Times are wall
seconds, best of --repeat.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import pyoxigraph as ox  # noqa: E402
from generate import cohort  # noqa: E402

from reasoner.cohort import advise_batch  # noqa: E402
from reasoner.pipeline import Reasoner  # noqa: E402

GRAPH = "https://example.org/floor"


def best(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def bulk(data: bytes) -> None:
    ox.Store().bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))


def insert_data(text: str) -> None:
    ox.Store().update(f"INSERT DATA {{ GRAPH <{GRAPH}> {{\n{text}\n}} }}")


def rdflib_parse(data: bytes) -> None:
    from rdflib import Dataset, URIRef

    Dataset().graph(URIRef(GRAPH)).parse(data=data, format="nt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000, help="patients (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure; the best is printed")
    parser.add_argument("--rdflib", action="store_true", help="also time rdflib's parser")
    args = parser.parse_args(argv)
    reasoner = Reasoner()
    records = [(f"generated:{i}", record) for i, record in enumerate(cohort(args.size, seed=7))]
    patients, derived = bytearray(), bytearray()
    for start in range(0, len(records), 1000):
        result = advise_batch(reasoner, records[start:start + 1000], "jsonl", keep=True)
        patients += result.patients
        derived += result.derived
    rows = {"records": bytes(patients), "derived": bytes(derived)}
    counts = {name: data.count(b"\n") for name, data in rows.items()}
    print(f"{args.size} patients: records {counts['records'] / args.size:.0f} triples a patient, "
          f"derived {counts['derived'] / args.size:.0f} ({counts['derived'] / counts['records']:.1f}x)")
    ways: dict[str, Callable[[bytes], object]] = {
        "Oxigraph bulk load": bulk,
        "Oxigraph INSERT DATA": lambda data: insert_data(data.decode()),
    }
    if args.rdflib:
        ways["rdflib parse"] = rdflib_parse
    for way, load in ways.items():
        seconds = {name: best(args.repeat, lambda data=data, load=load: load(data)) for name, data in rows.items()}
        print(f"{way}: records {seconds['records']:.2f} s, derived {seconds['derived']:.2f} s "
              f"({seconds['derived'] / seconds['records']:.1f}x the records)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
