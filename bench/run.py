"""Benchmarks that print figures (not timed tests).

    python bench/run.py                      # defaults: quick sizes
    python bench/run.py --sizes 1000 10000 --stores oxigraph rdflib

Prints, per store: single-patient `axspa recommend` cold (whole process, median of --cold runs)
and warm (API, median of --warm calls); cohort wall time and peak RSS per size; and the ratio of
the full cohort run to merely bulk-loading the same records (N-Triples) into the same store.
Cohort runs happen in child processes so that peak RSS is theirs alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort, to_ntriples  # noqa: E402

EXAMPLE = ROOT / "examples" / "case2-multiple-failures.json"


def cold(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(EXAMPLE), "-f", "json"],
                       check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def warm(store: str, calls: int) -> float:
    from reasoner.pipeline import Reasoner

    reasoner = Reasoner(store=store)
    records = list(cohort(calls, seed=3))
    reasoner.recommend(records[0])
    times = []
    for record in records:
        started = time.perf_counter()
        reasoner.recommend(record)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, store, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
started = time.perf_counter()
if mode == "load":
    from reasoner.pipeline import open_store
    s = open_store("oxigraph" if store == "memory" else store)
    data = path.read_bytes()
    if hasattr(s, "add_ntriples"):
        s.add_ntriples(data, "https://w3id.org/axspa-kg/graph/patients")
    else:
        from rdflib import Graph
        s.add(Graph().parse(data=data, format="nt"), "https://w3id.org/axspa-kg/graph/patients")
else:
    import io
    from reasoner.cohort import CohortRunner
    from reasoner.pipeline import Reasoner
    r = Reasoner(store="oxigraph" if store == "memory" else store)
    CohortRunner(r, batch=1000).run([path], io.StringIO())
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(mode: str, store: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, mode, store, str(path)], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200])
    parser.add_argument("--stores", nargs="+", default=["memory", "rdflib"])
    parser.add_argument("--cold", type=int, default=5, help="cold runs (median)")
    parser.add_argument("--warm", type=int, default=30, help="warm API calls (median)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    print(f"recommend cold (whole process, median of {args.cold}): {cold(args.cold):.2f} s")
    for store in args.stores:
        print(f"[{store}] recommend warm (API, median of {args.warm}): "
              f"{warm('oxigraph' if store == 'memory' else store, args.warm) * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            records = list(cohort(size, seed=7))
            jsonl, nt = Path(tmp, f"c{size}.jsonl"), Path(tmp, f"c{size}.nt")
            jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
            nt.write_text("".join(to_ntriples(r) for r in records))
            for store in args.stores:
                load = child("load", store, nt)
                run = child("cohort", store, jsonl)
                print(f"[{store}] cohort {size}: {run['seconds']:.1f} s, peak RSS {run['rss_mb']:.0f} MB; "
                      f"bulk load alone {load['seconds']:.2f} s ({load['rss_mb']:.0f} MB); "
                      f"ratio {run['seconds'] / max(load['seconds'], 1e-6):.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
