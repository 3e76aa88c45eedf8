"""bench/warm_stages.py runs and prints every stage and the costliest queries (a smoke test: the
figures themselves belong to benchmarks, not tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_warm_stages_prints_each_stage_and_the_top_queries(capsys) -> None:
    spec = importlib.util.spec_from_file_location("warm_stages", ROOT / "bench" / "warm_stages.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--patients", "3", "--top", "4"]) == 0
    out = capsys.readouterr().out
    for stage in ("read", "validate", "classify", "rules", "advice", "report", "total"):
        assert f"  {stage} " in out
    listed = out.split("costliest first:")[1].strip().splitlines()[1:]
    assert len(listed) == 4 and all(float(line.split()[0]) >= 0 for line in listed)
