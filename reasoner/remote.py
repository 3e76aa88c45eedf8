"""A remote SPARQL 1.1 endpoint as a store: Query, Update and Graph Store protocols over HTTP.

Plain HTTP (urllib from the standard library) rather than SPARQLWrapper: the three protocols need
only POST requests with the right media types, and this keeps the dependency list short and the
behaviour explicit. The rules expect the union of the knowledge-base, patient and derived graphs as
their default graph; the store asks for it with the standard `default-graph-uri` protocol
parameters, so no vendor setting (Oxigraph's union-default-graph, Fuseki's unionDefaultGraph) is
needed. Records must use IRIs, never blank nodes: remote stores cannot round-trip them.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from .errors import AxspaError
from .store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH, Row


class RemoteStoreError(AxspaError):
    """The endpoint could not be reached or refused a request."""


@dataclass
class Endpoints:
    query: str
    update: str
    store: str

    @classmethod
    def oxigraph(cls, base: str) -> Endpoints:
        """The layout of `oxigraph serve`: /query, /update, /store."""
        base = base.rstrip("/")
        return cls(f"{base}/query", f"{base}/update", f"{base}/store")


def _term(binding: dict) -> Node:
    kind = binding["type"]
    if kind == "uri":
        return URIRef(binding["value"])
    if kind == "bnode":
        return BNode(binding["value"])
    if "xml:lang" in binding:
        return Literal(binding["value"], lang=binding["xml:lang"])
    datatype = binding.get("datatype")
    return Literal(binding["value"], datatype=URIRef(datatype) if datatype else None, normalize=False)


class RemoteStore:
    """A SPARQL 1.1 endpoint; the default graph of every query is the union of our named graphs."""

    name = "remote"

    def __init__(self, endpoints: Endpoints | str, graphs: tuple[str, ...] = (KB_GRAPH, PATIENTS_GRAPH, DERIVED_GRAPH),
                 timeout: float = 300.0) -> None:
        self.endpoints = Endpoints.oxigraph(endpoints) if isinstance(endpoints, str) else endpoints
        self.graphs = graphs
        self.timeout = timeout

    # -- HTTP -----------------------------------------------------------------------------
    def _post(self, url: str, body: bytes, content_type: str, accept: str | None = None) -> bytes:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (user's endpoint)
                return response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise RemoteStoreError(f"{url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise RemoteStoreError(f"cannot reach SPARQL endpoint {url}: {exc}") from exc

    def _query(self, query: str, accept: str) -> bytes:
        params = urllib.parse.urlencode([("default-graph-uri", g) for g in self.graphs])
        return self._post(f"{self.endpoints.query}?{params}", query.encode("utf-8"),
                          "application/sparql-query", accept)

    # -- Store interface ----------------------------------------------------------------------
    def add(self, graph: Graph, graph_name: str) -> None:
        self.add_ntriples(graph.serialize(format="nt", encoding="utf-8"), graph_name)

    def add_ntriples(self, data: bytes, graph_name: str) -> None:
        url = f"{self.endpoints.store}?{urllib.parse.urlencode({'graph': graph_name})}"
        self._post(url, data, "application/n-triples")

    def select(self, query: str) -> list[Row]:
        data = json.loads(self._query(query, "application/sparql-results+json"))
        return [{k: _term(v) for k, v in binding.items()} for binding in data["results"]["bindings"]]

    def ask(self, query: str) -> bool:
        return bool(json.loads(self._query(query, "application/sparql-results+json"))["boolean"])

    def construct(self, query: str) -> Graph:
        out = Graph()
        out.parse(data=self._query(query, "application/n-triples"), format="nt")
        return out

    def construct_into(self, queries: Sequence[str], graph_name: str) -> int:
        """Fetch and send back: the Update form of a rule (INSERT … WHERE) would be a rewrite of the
        rule file, and the files must run unchanged everywhere."""
        produced = Graph()
        for query in queries:
            produced += self.construct(query)
        self.add(produced, graph_name)
        return len(produced)

    def update(self, update: str) -> None:
        self._post(self.endpoints.update, update.encode("utf-8"), "application/sparql-update")

    def graph(self, graph_name: str) -> Graph:
        """Graph Store protocol GET (a protocol dataset would hide named graphs from a query)."""
        url = f"{self.endpoints.store}?{urllib.parse.urlencode({'graph': graph_name})}"
        request = urllib.request.Request(url, headers={"Accept": "application/n-triples"}, method="GET")
        out = Graph()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                out.parse(data=response.read(), format="nt")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # an empty graph does not exist yet
                return out
            raise RemoteStoreError(f"{url} answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise RemoteStoreError(f"cannot reach SPARQL endpoint {url}: {exc}") from exc
        return out

    def clear(self, graph_name: str) -> None:
        self.update(f"CLEAR SILENT GRAPH <{graph_name}>")
