"""The same generated patients as plain records, as FHIR Bundles and as a FHIR Bulk Data export:
what reading each form costs a cohort run (prints figures).

    python bench/export.py                    # 2,000 patients, one process
    python bench/export.py -n 10000 --workers 2 --data /tmp/exports

Each form is advised by `axspa cohort` in a child process (bench/run.py's), so the peak RSS is the
run's own: plain records (one a line, .jsonl), one FHIR R4 Bundle a line (.jsonl), and the Bulk
Data export (NDJSON files by resource type, the patients' lines interleaved, Observations
gzipped), which the reader holds in memory until every file is read (README, "FHIR Bulk Data
exports"). Only records a Bundle can say as they are take part (bench/fhir_form.py), so every form
holds the same patients and the advised counts must agree.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from fhir_form import is_plain, to_bundle, write_export  # noqa: E402
from generate import cohort  # noqa: E402
from run import child  # noqa: E402


def _size(path: Path) -> float:
    files = path.rglob("*") if path.is_dir() else [path]
    return sum(f.stat().st_size for f in files if f.is_file()) / 1e6


def write_forms(n: int, seed: int, folder: Path) -> dict[str, Path]:
    """The three forms of the same patients under `folder` (reused when already there)."""
    forms = {"plain records": folder / f"plain-{n}-{seed}.jsonl", "FHIR Bundles": folder / f"bundles-{n}-{seed}.jsonl",
             "Bulk Data export": folder / f"export-{n}-{seed}"}
    if all(path.exists() for path in forms.values()):
        return forms
    records = [record for record in cohort(n, seed) if is_plain(record)]
    bundles = [to_bundle(record) for record in records]
    forms["plain records"].write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    forms["FHIR Bundles"].write_text("".join(json.dumps(b) + "\n" for b in bundles), encoding="utf-8")
    write_export(bundles, forms["Bulk Data export"], seed=seed)
    return forms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="generated patients")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data", type=Path, help="keep the three forms in this folder and reuse them")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; {args.n} generated patients (seed {args.seed}), "
          f"{args.workers} worker(s)")
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        forms = write_forms(args.n, args.seed, folder)
        print(f"{'input':<18} {'MB on disk':>10} {'seconds':>8} {'peak RSS MB':>12} {'valid':>6} {'rejected':>8}")
        for name, path in forms.items():
            run = child("cohort", "memory", path, workers=args.workers)
            rss = max(run["rss_mb"], run["worker_rss_mb"]) if args.workers > 1 else run["rss_mb"]
            print(f"{name:<18} {_size(path):>10.1f} {run['seconds']:>8.1f} {rss:>12.0f} "
                  f"{run.get('valid', '?'):>6} {run.get('rejected', '?'):>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
