"""Where a warm single call goes, stage by stage and rule by rule (prints figures).

    python bench/warm_stages.py                  # 100 generated patients (seed 3), top 20 rules
    python bench/warm_stages.py --patients 300 --top 40

`bench/run.py` gives the warm call as one median; this splits it the way `Reasoner.recommend`
runs it: reading the record, validating it (the compiled shapes), classifying it (the compiled
class queries), the rule strata, reading the advice back and building the report. Then, for every
rule and class query sent, the milliseconds it costs a call (its runs summed over the calls, over
the number of calls), how often it ran and how often it derived nothing: a query that runs often
and derives nothing is one the rule gates (reasoner/rule_gates.py) could skip; one that costs much
a run is worth reading for a pattern Oxigraph evaluates on its own before joining (see the notes
in label-safety.rq and tnfi-contraindication.rq). The "fixed" column is the part of a run that
is parsing and planning (the text timed on an empty store).

Times are wall-clock medians (stages) and sums (queries) on the default store; the host's load
shows in them, so compare runs made back to back.

The "fixed cost" line times every text sent again on an empty store: what Oxigraph spends parsing
and planning, which no gate or join order can shorten once a rule runs (session 30: about 10 of the
~22 ms the class queries and rules take a call, and 5 ms of the 8 ms validation takes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import pyoxigraph as ox  # noqa: E402
from generate import cohort  # noqa: E402

from reasoner.pipeline import Reasoner  # noqa: E402
from reasoner.report import build_result  # noqa: E402
from reasoner.shape_queries import compiled_patient_shapes  # noqa: E402

STAGES = ("read", "validate", "classify", "rules", "advice", "report", "total")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100, help="generated patients (seed 3), one call each")
    parser.add_argument("--top", type=int, default=20, help="queries to list, costliest first (0: none)")
    args = parser.parse_args(argv)

    reasoner = Reasoner()
    records = list(cohort(args.patients + 1, seed=3))
    reasoner.recommend(records[0])  # warms the caches
    names = {rule.query.text: rule.name for stratum in reasoner.strata for rule in stratum}
    names.update({c.query: "class " + str(c.iri).rsplit("#", 1)[-1] for c in reasoner.classes})

    # First pass: the stages, nothing instrumented.
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for record in records[1:]:
        marks = [time.perf_counter()]
        loaded = reasoner.load(record)
        marks.append(time.perf_counter())
        report = reasoner.validate_loaded([loaded.graph])[0]
        marks.append(time.perf_counter())
        reasoner.classify(loaded.graph)
        marks.append(time.perf_counter())
        reasoner.apply_rules(False)
        marks.append(time.perf_counter())
        advice = reasoner.advice(False)
        marks.append(time.perf_counter())
        build_result(loaded, report, advice.get(loaded.patient, {}), reasoner.full_kb)
        marks.append(time.perf_counter())
        for stage, start, end in zip(STAGES, marks, marks[1:], strict=False):
            stages[stage].append((end - start) * 1000)
        stages["total"].append((marks[-1] - marks[0]) * 1000)

    # Second pass: each class query and rule timed on its own, and whether it added anything.
    spent: dict[str, float] = defaultdict(float)
    runs: dict[str, int] = defaultdict(int)
    empty: dict[str, int] = defaultdict(int)
    store = reasoner.store
    original = store.construct_into

    def size(graph_name: str) -> int:
        rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph_name}> {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"])  # type: ignore[arg-type]

    def timed(queries: Sequence[str], graph_name: str) -> None:
        for query in queries:  # one at a time: the embedded store adds each query's output as it runs
            before = size(graph_name)
            started = time.perf_counter()
            original([query], graph_name)
            spent[query] += time.perf_counter() - started
            runs[query] += 1
            empty[query] += size(graph_name) == before

    sent: list[int] = []
    store.construct_into = timed  # type: ignore[method-assign]
    try:
        for record in records[1:]:
            before = sum(runs.values())
            reasoner.recommend(record)
            sent.append(sum(runs.values()) - before)
    finally:
        del store.construct_into  # the class's own method again

    calls = len(records) - 1
    print(f"warm calls: {calls} generated patients (seed 3); medians in ms")
    for stage in STAGES:
        print(f"  {stage:<9} {statistics.median(stages[stage]):7.2f}")
    print(f"  queries sent a call (class queries and rules): median {statistics.median(sent):.0f} of "
          f"{len(reasoner.classes) + sum(len(stratum) for stratum in reasoner.strata)}")
    print_preparation(spent, runs, calls)
    if args.top:
        total = sum(spent.values()) / calls * 1000
        print(f"\nclass queries and rules, ms a call (all of them: {total:.2f}), costliest first:")
        print(f"  {'ms/call':>8} {'runs':>5} {'empty':>5} {'ms/run':>7} {'fixed':>6}  query")
        blank = ox.Store()
        for query in sorted(spent, key=spent.__getitem__, reverse=True)[:args.top]:
            print(f"  {spent[query] / calls * 1000:8.3f} {runs[query]:5d} {empty[query]:5d} "
                  f"{spent[query] / runs[query] * 1000:7.3f} {_fixed_cost(query, blank) * 1000:6.3f}  "
                  f"{names.get(query, query[:40])}")
    return 0


def _fixed_cost(query: str, empty: ox.Store, tries: int = 3) -> float:
    """Seconds one query takes on an empty store (best of a few): Oxigraph's parsing and planning,
    which no data can shorten."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        list(empty.query(query, use_default_graph_as_union=True))  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - started)
    return best


def print_preparation(spent: dict[str, float], runs: dict[str, int], calls: int) -> None:
    """How much of the query time is fixed: every text sent, timed again on an empty store.

    Why: pyoxigraph parses and plans each query text on every call (it has no prepared queries),
    and for these rules that costs more than evaluating them over one record. The figure is the
    floor the rule and shape files set for a warm call on the default store, whatever the record."""
    empty = ox.Store()
    fixed = sum(_fixed_cost(query, empty) * runs[query] for query in spent) / calls * 1000
    shapes = sum(_fixed_cost(query, empty) for query in compiled_patient_shapes().queries) * 1000
    print(f"  fixed cost (the same texts on an empty store: parsing and planning): class queries and rules "
          f"{fixed:.2f} of {sum(spent.values()) / calls * 1000:.2f} ms a call; the compiled shapes "
          f"{shapes:.2f} ms a call")


if __name__ == "__main__":
    sys.exit(main())
