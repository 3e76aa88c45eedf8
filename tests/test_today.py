"""The day the advice is for (reasoner.today): the rules and shapes that read SPARQL's NOW() run
with the run's date written in its place, so every store reads one batch on one day, and a record
can be advised as of a given day (`Reasoner(as_of=...)`, `axspa recommend --as-of`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery

from reasoner.cli import main
from reasoner.errors import AxspaError
from reasoner.pipeline import Reasoner
from reasoner.rules import load_rules
from reasoner.today import pinned, reads_today

from .patients import condition, course, patient

ROOT = Path(__file__).resolve().parent.parent


def test_the_rules_that_read_today_are_the_known_four() -> None:
    """A rule that starts to read NOW() changes with the calendar: its tests must date their records
    from conftest.AS_OF. This list makes such a rule visible."""
    names = {rule.name for stratum in load_rules("all") for rule in stratum if reads_today(rule.query.text)}
    assert names == {"state-nsaid-trial-short", "AS-23", "NRAXSPA-23", "label-recent-course"}


def test_a_pinned_rule_names_the_day_and_still_parses() -> None:
    [rule] = [r for stratum in load_rules("all") for r in stratum if r.name == "label-recent-course"]
    text = pinned(rule.query.text, date(2027, 3, 1))
    assert not reads_today(text) and '"2027-03-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in text
    prepareQuery(text)


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(AxspaError, match="as_of must be a date"):
        Reasoner(as_of="2026-12-07")  # type: ignore[arg-type]


def test_the_cli_takes_as_of_and_names_it_when_wrong(tmp_path: Path, capsys) -> None:
    record = patient("as-of-cli", age=32, state="stable", conditions=[condition("planning_pregnancy")],
                     treatments=[course("methotrexate", outcome="stopped_other_reason", start="2023-01-01",
                                        end="2026-11-15")])
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    assert main(["recommend", str(path), "--as-of", "2026-12-07"]) == 0
    assert "here was on 2026-11-15" in capsys.readouterr().out
    assert main(["recommend", str(path), "--as-of", "2027-06-01"]) == 0
    assert "here was on 2026-11-15" not in capsys.readouterr().out
    # a future date is warned about as of the day given
    assert main(["validate", str(path), "--as-of", "2026-11-01"]) == 0
    assert "2026-11-15 is after today" in capsys.readouterr().out
    for wrong in ("2026-13-01", "7 Dec 2026"):
        with pytest.raises(SystemExit) as exit_info:
            main(["recommend", str(path), "--as-of", wrong])
        assert exit_info.value.code == 2
        assert "--as-of" in capsys.readouterr().err
