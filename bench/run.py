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
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort, to_ntriples  # noqa: E402

from reasoner.cohort import DEFAULT_BATCH, RDFLIB_BATCH  # noqa: E402

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

    return warm_median(Reasoner(store=store), list(cohort(calls, seed=3)))


def warm_median(reasoner: Any, records: list[dict[str, Any]]) -> float:
    """Median seconds of one `recommend` per record, after a first call that warms the caches."""
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
mode, store, path, batch, workers = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
advice = sys.argv[6]
disk = store.split(":", 1)[1] if store.startswith("disk:") else None
started = time.perf_counter()
counts = {}
if mode == "load":
    from reasoner.pipeline import open_store
    s = open_store("oxigraph" if store == "memory" else f"oxigraph:{disk}" if disk else store)
    if hasattr(s, "add_ntriples"):
        s.add_ntriples(path, "https://w3id.org/axspa-kg/graph/patients")  # streamed from the file
    else:
        from rdflib import Graph
        s.add(Graph().parse(path, format="nt"), "https://w3id.org/axspa-kg/graph/patients")
else:
    from reasoner.cohort import CohortRunner
    from reasoner.pipeline import Reasoner
    from reasoner.store import OxigraphStore
    r = Reasoner(store="oxigraph" if store == "memory" or disk else store)
    sink = OxigraphStore(disk) if disk else None  # as `axspa cohort --store oxigraph:PATH` does
    with open(advice, "w", encoding="utf-8") as out:  # serialising and writing are part of the run
        summary = CohortRunner(r, batch=batch, workers=workers, sink=sink).run([path], out)
    counts = {"valid": summary.valid, "rejected": summary.rejected}
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest worker
print(json.dumps({"seconds": seconds, "rss_mb": rss, "worker_rss_mb": workers_rss, **counts}))
"""


def child(mode: str, store: str, path: Path, batch: int = 1000, workers: int = 1, discard: bool = False) -> dict:
    folder = None
    if store == "disk":  # on-disk Oxigraph in a fresh folder beside the data, removed afterwards
        folder = Path(tempfile.mkdtemp(dir=path.parent))
        store = f"disk:{folder}/{mode}"
    advice = os.devnull if discard else str(path.with_suffix(".advice.jsonl"))
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, mode, store, str(path), str(batch), str(workers), advice],
                              capture_output=True, text=True, cwd=ROOT, check=True)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        if advice != os.devnull:
            Path(advice).unlink(missing_ok=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200])
    parser.add_argument("--stores", nargs="+", default=["memory", "rdflib"],
                        help="memory (embedded Oxigraph), disk (Oxigraph on disk), rdflib")
    parser.add_argument("--batch", type=int,
                        help="cohort batch size (patients; default: the store's own, as `axspa cohort` uses)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="cohort worker processes to try (e.g. 1 2); rdflib always runs with 1")
    parser.add_argument("--data", type=Path,
                        help="keep the generated cohorts in this folder and reuse them on later runs "
                             "(1M patients: ~0.9 GB of JSON Lines and ~9 GB of N-Triples)")
    parser.add_argument("--discard-advice", action="store_true",
                        help="serialise the advice but write it to the null device (1M patients write ~48 GB)")
    parser.add_argument("--skip-single", action="store_true", help="only the cohort figures")
    parser.add_argument("--cold", type=int, default=5, help="cold runs (median)")
    parser.add_argument("--warm", type=int, default=30, help="warm API calls (median)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    if not args.skip_single:
        print(f"recommend cold (whole process, median of {args.cold}): {cold(args.cold):.2f} s", flush=True)
        for store in args.stores:
            if store != "disk":
                print(f"[{store}] recommend warm (API, median of {args.warm}): "
                      f"{warm('oxigraph' if store == 'memory' else store, args.warm) * 1000:.0f} ms", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            folder = args.data or Path(tmp)
            jsonl, nt = folder / f"c{size}-seed7.jsonl", folder / f"c{size}-seed7.nt"
            if not (args.data and jsonl.is_file() and nt.is_file()):
                folder.mkdir(parents=True, exist_ok=True)
                with jsonl.open("w") as j, nt.open("w") as n:  # streamed: 1M records do not fit in a list
                    for record in cohort(size, seed=7):
                        j.write(json.dumps(record) + "\n")
                        n.write(to_ntriples(record))
            for store in args.stores:
                load = child("load", store, nt)
                for workers in sorted({1 if store == "rdflib" else w for w in args.workers}):
                    batch = args.batch or (RDFLIB_BATCH if store == "rdflib" else DEFAULT_BATCH)
                    run = child("cohort", store, jsonl, batch, workers, args.discard_advice)
                    memory = f"peak RSS {run['rss_mb']:.0f} MB"
                    if workers > 1:
                        memory += f" + {workers} workers of up to {run['worker_rss_mb']:.0f} MB"
                    print(f"[{store}] cohort {size}, {workers} worker(s): {run['seconds']:.1f} s, {memory}; "
                          f"bulk load alone {load['seconds']:.2f} s ({load['rss_mb']:.0f} MB); "
                          f"ratio {run['seconds'] / max(load['seconds'], 1e-6):.0f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
