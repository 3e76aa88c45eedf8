"""The rules README lists the rules that name no population; the list is checked against the files,
so a new rule cannot leave it stale (session-28 docs audit: five rules were missing from it)."""

from __future__ import annotations

import re
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "queries" / "rules"


def _without_population() -> set[str]:
    return {path.stem for path in RULES.glob("*.rq")
            if not re.search(r"^# Population:", path.read_text(encoding="utf-8"), re.M)}


def _readme_sentence(opening: str, closing: str) -> set[str]:
    text = " ".join((RULES / "README.md").read_text(encoding="utf-8").split())
    start = text.index(opening)
    return set(re.findall(r"`([\w-]+)`", text[start:text.index(closing, start)]))


def test_the_readme_lists_every_rule_that_names_no_population() -> None:
    listed = _readme_sentence("The rules that test no population class omit it:", "keeps this list true")
    assert listed == _without_population()


def test_the_readme_lists_every_question_that_names_no_population() -> None:
    listed = _readme_sentence("so does every `ni-*.rq` rule but", "The rules that test no population class")
    assert listed == {name for name in _without_population() if name.startswith("ni-")}


def test_every_recommendation_rule_names_its_population() -> None:
    rows = {path.stem for path in RULES.glob("*.rq") if re.match(r"(AS|NRAXSPA)-\d\d$|EULAR22-", path.stem)}
    assert len(rows) == 103 and not rows & _without_population()
