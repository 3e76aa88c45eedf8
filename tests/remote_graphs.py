"""What a remote store holds, asked outside any run: for the tests of runs sharing an endpoint."""

from __future__ import annotations

from reasoner.remote import GRAPH_BASE, RemoteStore


def graphs_on_server(store: RemoteStore) -> set[str]:
    """Our graphs (under https://w3id.org/axspa-kg/graph/) that hold triples on `store`'s server.

    Asked without a protocol dataset (no default-graph-uri), so GRAPH ?g ranges over every named
    graph on the server; Virtuoso's own system graphs are left out by the prefix."""
    plain = RemoteStore(store.endpoints, graphs=(), timeout=store.timeout)
    rows = plain.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                        f'FILTER(STRSTARTS(STR(?g), "{GRAPH_BASE}")) }}')
    return {str(row["g"]) for row in rows}
