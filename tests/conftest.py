"""Shared fixtures: the knowledge base (parsed once), stores, and the reference tables in shared/."""

from __future__ import annotations

import csv
import os
import socket
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph

from reasoner.kb import load_ontology

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The project's sources of truth (guideline and reference tables), beside the checkout."""
    path = Path(os.environ.get("AXSPA_SHARED", ROOT.parent / "shared"))
    if not (path / "guideline").is_dir():
        pytest.fail(
            f"the source tables are expected in {path} (set AXSPA_SHARED to their folder); "
            "coverage tests compare the knowledge base with them"
        )
    return path


def read_tsv(relative: str) -> list[dict[str, str]]:
    with open(shared_dir() / relative, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="session")
def kb() -> Graph:
    return load_ontology().graph


@pytest.fixture(scope="session")
def reasoner():
    """One warm Reasoner (Oxigraph store, both guidelines) for the whole test session."""
    from reasoner.pipeline import Reasoner

    return Reasoner()


# The day the tests of the rules that read today take as today (Reasoner(as_of=...)): records are
# dated from it, so such a test gives the same answer on any day, in any time zone.
AS_OF = date(2026, 12, 7)


@pytest.fixture(scope="session")
def advise_as_of():
    """advise_as_of(record_dict) -> Result from a warm Reasoner whose today is AS_OF; fails the
    test if the record is not valid."""
    from reasoner.pipeline import Reasoner

    dated = Reasoner(as_of=AS_OF)

    def run(record):
        result = dated.recommend(record)
        assert result.conforms, result.validation
        return result

    return run


@pytest.fixture(scope="session")
def acr_only():
    """A warm Reasoner that runs the ACR 2019 rules only (`--guideline acr2019`)."""
    from reasoner.pipeline import Reasoner

    return Reasoner(guideline="acr2019")


@pytest.fixture(scope="session")
def eular_only():
    """A warm Reasoner that runs the ASAS-EULAR 2022 rules only (`--guideline asas-eular2022`)."""
    from reasoner.pipeline import Reasoner

    return Reasoner(guideline="asas-eular2022")


@pytest.fixture(scope="session")
def advise(reasoner):
    """advise(record_dict) -> Result; fails the test if the record is not valid."""

    def run(record):
        result = reasoner.recommend(record)
        assert result.conforms, result.validation
        return result

    return run


@pytest.fixture(scope="session")
def run(advise):
    """advise() with results kept per record, since many test cases share a patient."""
    import json

    cache: dict[str, object] = {}

    def go(record):
        key = json.dumps(record, sort_keys=True)
        if key not in cache:
            cache[key] = advise(record)
        return cache[key]

    return go


@pytest.fixture
def no_network(monkeypatch) -> list[tuple]:
    """Make every socket operation fail loudly and record the attempt."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during a test that must stay offline")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts
