"""Per-query profile of classification and every rule stratum over a synthetic cohort (prints figures).

    python bench/profile_rules.py                        # 1000 and 4000 patients, top 25 rows
    python bench/profile_rules.py --sizes 500 2000 --top 0 --store rdflib

For each size: generate N patients (bench/generate.py, seeded), load them as the pipeline does,
then time every compiled class query (reasoner/classify.py) and every rule, stratum by stratum,
adding each step's output to the store as `Reasoner.classify` / `Reasoner.apply_rules` do.

A row's time is the engine's: on Oxigraph, running the query and collecting its triples; turning
them into an rdflib Graph (what `Store.construct` does besides) is summed apart as "convert", and
loading each step's output back into the store as "add" rows. Other stores are timed through
`Store.construct` as a whole. Times are CPU seconds of this process by default (`--clock wall` for
wall time): on a shared machine wall time mostly measures the neighbours.

The table is sorted by time at the largest size; the `ratio` column is the time at the largest
size over the time at the smallest. Patients are independent of one another, so it should be near
the size ratio; a query far above it is super-linear.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402
from rdflib import Graph  # noqa: E402

from reasoner.pipeline import Reasoner  # noqa: E402
from reasoner.record import load_record  # noqa: E402
from reasoner.store import DERIVED_GRAPH, PATIENTS_GRAPH, OxigraphStore, _from_ox  # noqa: E402

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time


@dataclass
class Row:
    name: str
    kind: str  # "class", "rule", "convert" (answer to rdflib) or "add" (output back into the store)
    stratum: int
    seconds: dict[int, float] = field(default_factory=dict)
    triples: dict[int, int] = field(default_factory=dict)


def patients_graph(reasoner: Reasoner, size: int, seed: int) -> Graph:
    graph = Graph()
    for record in cohort(size, seed=seed):
        graph += load_record(record, reasoner.kb).graph
    return graph


def timed(fn, repeat: int):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        started = clock()
        result = fn()
        times.append(clock() - started)
    return statistics.median(times), result


def run_construct(store, query: str, repeat: int) -> tuple[float, float, Graph]:  # type: ignore[no-untyped-def]
    """(engine seconds, conversion seconds, answer) of one CONSTRUCT."""
    if not isinstance(store, OxigraphStore):
        seconds, out = timed(lambda: store.construct(query), repeat)
        return seconds, 0.0, out
    engine, triples = timed(lambda: list(store._store.query(query, use_default_graph_as_union=True)), repeat)

    def convert() -> Graph:
        out = Graph()
        for t in triples:
            out.add((_from_ox(t.subject), _from_ox(t.predicate), _from_ox(t.object)))
        return out

    seconds, out = timed(convert, 1)
    return engine, seconds, out


def profile(reasoner: Reasoner, size: int, seed: int, repeat: int, rows: dict[str, Row]) -> float:
    """Run classification and all strata once over `size` patients; fill `rows`; return the total."""
    store = reasoner.store
    graph = patients_graph(reasoner, size, seed)
    store.clear(PATIENTS_GRAPH)
    store.clear(DERIVED_GRAPH)
    store.add(graph, PATIENTS_GRAPH)
    total = 0.0

    def record(name: str, kind: str, stratum: int, seconds: float, triples: int) -> None:
        nonlocal total
        row = rows.setdefault(f"{kind}:{name}", Row(name, kind, stratum))
        row.seconds[size] = seconds
        row.triples[size] = triples
        total += seconds

    inferred = Graph()
    converting = 0.0
    for compiled in reasoner.classes:
        seconds, converted, out = run_construct(store, compiled.query, repeat)
        converting += converted
        inferred += out
        record(compiled.iri.split("#")[-1], "class", 0, seconds, len(out))
    record("classes", "convert", 0, converting, len(inferred))
    seconds, _ = timed(lambda: store.add(inferred, DERIVED_GRAPH), 1)
    record("classes", "add", 0, seconds, len(inferred))
    for number, stratum in enumerate(reasoner.strata, 1):
        produced = Graph()
        converting = 0.0
        for rule in stratum:
            seconds, converted, out = run_construct(store, rule.query.text, repeat)
            converting += converted
            produced += out
            record(rule.name, "rule", number, seconds, len(out))
        record(f"stratum {number}", "convert", number, converting, len(produced))
        seconds, _ = timed(lambda p=produced: store.add(p, DERIVED_GRAPH), 1)
        record(f"stratum {number}", "add", number, seconds, len(produced))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", default="oxigraph", help="oxigraph (default), rdflib or an endpoint URL")
    parser.add_argument("--repeat", type=int, default=1, help="runs per query (median); >1 re-runs each "
                        "query on the same data before its output is added")
    parser.add_argument("--top", type=int, default=25, help="rows shown (0: all)")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="CPU time (default) or wall time")
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]
    sizes = sorted(args.sizes)
    reasoner = Reasoner(store=args.store)
    rows: dict[str, Row] = {}
    totals: dict[int, float] = {}
    for size in sizes:
        totals[size] = profile(reasoner, size, args.seed, args.repeat, rows)
    small, large = sizes[0], sizes[-1]
    ordered = sorted(rows.values(), key=lambda r: r.seconds.get(large, 0.0), reverse=True)
    shown = ordered[: args.top] if args.top else ordered
    print(f"store {args.store}, {args.clock} time; {len(reasoner.classes)} class queries, "
          f"{sum(len(s) for s in reasoner.strata)} rules in {len(reasoner.strata)} strata; "
          f"sizes {', '.join(map(str, sizes))} (ratio {large / small:g})")
    head = "".join(f"{f'ms @{s}':>11}" for s in sizes)
    print(f"{'query':<34}{'kind':<8}{'str':>4}{head}{'ratio':>8}{'triples@' + str(large):>15}")
    for row in shown:
        cells = "".join(f"{row.seconds.get(s, 0.0) * 1000:>11.1f}" for s in sizes)
        ratio = row.seconds.get(large, 0.0) / max(row.seconds.get(small, 0.0), 1e-6)
        print(f"{row.name:<34}{row.kind:<8}{row.stratum:>4}{cells}{ratio:>8.1f}{row.triples.get(large, 0):>15}")
    for kind in ("class", "rule", "convert", "add"):
        cells = "".join(f"{sum(r.seconds.get(s, 0.0) for r in rows.values() if r.kind == kind) * 1000:>11.1f}"
                        for s in sizes)
        print(f"{'total ' + kind:<46}{cells}")
    cells = "".join(f"{totals[s] * 1000:>11.1f}" for s in sizes)
    print(f"{'TOTAL':<46}{cells}")
    engine = {s: sum(r.seconds.get(s, 0.0) for r in rows.values() if r.kind in ("class", "rule")) for s in sizes}
    for size in sizes:
        print(f"  {size} patients: {totals[size]:.2f} s in all, {totals[size] / size * 1000:.3f} ms per patient; "
              f"queries alone {engine[size]:.2f} s, {engine[size] / size * 1000:.3f} ms per patient")
    return 0


if __name__ == "__main__":
    sys.exit(main())
