"""The remote store against a real `oxigraph serve` on 127.0.0.1: same advice as embedded Oxigraph."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.pipeline import Reasoner
from reasoner.remote import RemoteStore, RemoteStoreError

from .oxigraph_server import oxigraph_server

ROOT = Path(__file__).resolve().parent.parent


def _signature(result) -> set[tuple]:
    return {(a.kind, a.therapy.iri, a.recommendation.id, tuple(o.iri for o in a.over),
             tuple(f.fact for f in a.because)) for a in result.advice}


@pytest.fixture(scope="module")
def server_url():
    with oxigraph_server() as url:
        yield url


def test_remote_store_gives_the_same_advice(reasoner, server_url: str) -> None:
    remote = Reasoner(store=server_url)
    record = ROOT / "examples" / "case2-multiple-failures.json"
    there, here = remote.recommend(record), reasoner.recommend(record)
    assert there.conforms and there.advice
    assert _signature(there) == _signature(here)


def test_remote_store_round_trips_graphs(server_url: str, kb) -> None:
    store = RemoteStore(server_url, graphs=("https://example.org/g",))
    store.clear("https://example.org/g")
    some = kb.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 50").graph
    store.add(some, "https://example.org/g")
    assert len(store.graph("https://example.org/g")) == len(some)
    assert store.ask("ASK { ?s ?p ?o }")


def test_unreachable_endpoint_is_a_clear_error() -> None:
    store = RemoteStore("http://127.0.0.1:9", timeout=2)
    with pytest.raises(RemoteStoreError, match="cannot reach"):
        store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


def test_an_endpoint_that_drops_updates_is_refused(monkeypatch) -> None:
    """An endpoint answering updates with success and dropping them (a read-only proxy; another
    dataset behind /update) gave every valid patient empty advice with exit code 0 (session-35
    failure probe F10). Here the knowledge base never reaches the server."""
    from reasoner.errors import AxspaError

    monkeypatch.setattr(RemoteStore, "add", lambda self, graph, graph_name: None)
    with oxigraph_server() as url, pytest.raises(AxspaError, match="queries do not see it"):
        Reasoner(store=url)


@pytest.mark.parametrize(("given", "expected"), [(None, 300.0), ("2.5", 2.5), ("abc", None), ("0", None), ("-1", None)])
def test_the_request_timeout_comes_from_the_environment(monkeypatch, given: str | None, expected: float | None) -> None:
    """AXSPA_STORE_TIMEOUT (seconds; 300 when not set): a server that never answered cost five
    minutes a run, with no way to shorten it (session-35 failure probe F11)."""
    from reasoner.errors import AxspaError
    from reasoner.pipeline import open_store

    if given is None:
        monkeypatch.delenv("AXSPA_STORE_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("AXSPA_STORE_TIMEOUT", given)
    if expected is None:
        with pytest.raises(AxspaError, match="AXSPA_STORE_TIMEOUT"):
            open_store("http://127.0.0.1:9")
    else:
        for url in ("http://127.0.0.1:9", "virtuoso:http://127.0.0.1:9"):
            assert open_store(url).timeout == expected  # type: ignore[attr-defined]
