"""How much of a warm single call is Oxigraph parsing SPARQL text (prints figures).

    python bench/parse_share.py                # 100 generated patients, seed 3
    python bench/parse_share.py --patients 300 --top 15

pyoxigraph (0.5) has no prepared queries: every `Store.query` and `Store.update` parses and plans
its text again, and a warm `recommend` sends ~90 texts (the compiled shapes, the class queries and
the rules that can fire for the patient). This script records the texts of warm calls on the
default store, then parses each again on an empty store with a syntax error appended at its end,
so that only parsing is timed (the error is found after the whole text has been read). It prints
the warm median, the parse time per patient and the texts that cost most to parse.

Two ways to cut that cost were measured in session 16 and gave nothing: sending one stratum as a
single update request (parse cost follows the text, not the number of calls; Oxigraph also refuses
a PREFIX after `;`, which SPARQL 1.1 allows), and writing ax: names instead of full IRIs in the
compiled shapes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402
from run import warm_median  # noqa: E402

from reasoner.pipeline import Reasoner  # noqa: E402
from reasoner.store import OxigraphStore  # noqa: E402


class Recording:
    """Stands in for a pyoxigraph Store and keeps the text of every query and update it runs."""

    def __init__(self, store: ox.Store, texts: list[tuple[str, str]]) -> None:
        self._store, self._texts = store, texts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def __len__(self) -> int:
        return len(self._store)

    def query(self, text: str, **options: Any) -> Any:
        self._texts.append(("query", text))
        return self._store.query(text, **options)

    def update(self, text: str, **options: Any) -> None:
        self._texts.append(("update", text))
        self._store.update(text, **options)


def record_texts(store: OxigraphStore, texts: list[tuple[str, str]]) -> None:
    store._store = Recording(store._store, texts)  # type: ignore[assignment]
    store.RENEW_AFTER = sys.maxsize  # a renewal would swap the recording store out


def parse_seconds(kind: str, text: str, empty: ox.Store) -> float:
    started = time.perf_counter()
    with contextlib.suppress(SyntaxError):  # the error appended at the end: parsed, never run
        (empty.update if kind == "update" else empty.query)(text + "\n}}} #")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--top", type=int, default=10, help="costliest texts to list")
    args = parser.parse_args()

    reasoner = Reasoner(store="oxigraph")
    records = list(cohort(args.patients, seed=args.seed))
    warm = warm_median(reasoner, records)

    texts: list[tuple[str, str]] = []
    for store in (reasoner.store, reasoner.store_validator.store):
        assert isinstance(store, OxigraphStore), "the default store is embedded Oxigraph"
        record_texts(store, texts)
    for record in records:
        reasoner.recommend(record)

    empty = ox.Store()
    cost: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for kind, text in texts:
        head = text.lstrip().splitlines()[0][:70]
        cost[head] += parse_seconds(kind, text, empty)
        count[head] += 1
    per_patient = sum(cost.values()) / args.patients
    print(f"warm call, median of {args.patients}: {warm * 1000:.1f} ms")
    print(f"texts sent per call: {len(texts) / args.patients:.1f}; parsing them: {per_patient * 1000:.1f} ms "
          f"({per_patient / warm:.0%} of the warm call)")
    print(f"\n{'ms/call':>8} {'texts/call':>10}  first line")
    for head, seconds in sorted(cost.items(), key=lambda item: -item[1])[:args.top]:
        print(f"{seconds / args.patients * 1000:8.3f} {count[head] / args.patients:10.2f}  {head}")


if __name__ == "__main__":
    main()
