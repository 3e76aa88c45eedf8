"""`--guideline acr2019` or `asas-eular2022` runs one guideline's rules: the advice must then cite
no row of the other guideline, as a source, as an option of a question or in a conflict (session-21
item c: under acr2019 the nr-axSpA questions about IBD and uveitis listed ASAS-EULAR R10-a). Label
facts and the project's safety principles belong to both."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reasoner.report import Result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402

SHARED = {"label", "axspa-kg"}


def _records() -> list[object]:
    paths = sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "tests" / "data" / "valid").glob("*"))
    return [*paths, *cohort(60, seed=11)]


def _cited(result: Result) -> set[tuple[str, str]]:
    sources = [a.recommendation for a in result.advice]
    sources += [o for n in result.needs_information for o in n.options]
    sources += [c.advice.recommendation for c in result.conflicts]
    sources += [c.overridden_by.recommendation for c in result.conflicts]
    return {(s.guideline, s.id) for s in sources}


@pytest.mark.parametrize(("fixture", "allowed"), [("acr_only", "acr2019"), ("eular_only", "asas-eular2022")])
def test_one_guideline_cites_no_row_of_the_other(request, fixture, allowed) -> None:
    reasoner = request.getfixturevalue(fixture)
    cited_own = False
    for record in _records():
        result = reasoner.recommend(record)
        if not result.conforms:
            continue
        cited = _cited(result)
        foreign = {c for c in cited if c[0] not in SHARED | {allowed}}
        assert not foreign, (getattr(record, "name", None) or record.get("id"), sorted(foreign))  # type: ignore[union-attr]
        cited_own |= any(c[0] == allowed for c in cited)
    assert cited_own
