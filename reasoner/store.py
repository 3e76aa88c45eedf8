"""A small store interface so the same SPARQL files run on embedded Oxigraph or on rdflib.

Oxigraph (pyoxigraph, in-process) is the default executor: measured here it runs rule-like queries
100-300x faster than rdflib's engine. rdflib stays for callers who hand in rdflib graphs. Every store
queries the union of its named graphs as the default graph, so the knowledge base and patient
records can live in separate named graphs and the rules still see both.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

if TYPE_CHECKING:  # rdflib's SPARQL machinery is imported only when the rdflib store runs a query
    from rdflib.plugins.sparql.sparql import Query

KB_GRAPH = "https://w3id.org/axspa-kg/graph/kb"
PATIENTS_GRAPH = "https://w3id.org/axspa-kg/graph/patients"
DERIVED_GRAPH = "https://w3id.org/axspa-kg/graph/derived"

Row = dict[str, Node]
# An ill-typed boolean is reported by validation, field by field; rdflib's own warning is noise.
warnings.filterwarnings("ignore", message="Parsing weird boolean", category=UserWarning)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class Store(Protocol):
    """What the reasoner needs from a triple store."""

    name: str

    def add(self, graph: Graph, graph_name: str) -> None:
        """Load every triple of `graph` into the named graph `graph_name`."""

    def select(self, query: str) -> list[Row]:
        """Run a SELECT query over the union of all graphs; unbound variables are left out."""

    def ask(self, query: str) -> bool:
        """Run an ASK query over the union of all graphs."""

    def construct(self, query: str) -> Graph:
        """Run a CONSTRUCT query over the union of all graphs."""

    def construct_into(self, queries: Sequence[str], graph_name: str) -> None:
        """Run every CONSTRUCT and add the triples they produce to `graph_name`.

        When the triples are added differs: the embedded Oxigraph and remote stores insert each
        query's output as that query runs (as an Update; a query the rewrite cannot handle is
        added at the end), rdflib adds everything once all have run. So a query may or may not
        see the output of an earlier one in the same call: pass only queries that do not read one
        another's output (one rule stratum, or the class queries), and the result is the same on
        every store."""

    def update(self, update: str) -> None:
        """Run a SPARQL 1.1 Update."""

    def graph(self, graph_name: str) -> Graph:
        """Return a copy of one named graph as an rdflib Graph."""

    def clear(self, graph_name: str) -> None:
        """Remove one named graph."""


# --------------------------------------------------------------------------------------------
# Oxigraph (embedded)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=1 << 18)
def _iri(value: str) -> URIRef:
    """IRIs repeat across rows (drugs, classes, patients); rdflib checks each new one, which
    cost ~4 µs a term and dominated reading results back (10 s of 17 s at 500 patients)."""
    return URIRef(value)


@lru_cache(maxsize=4096)
def _named(iri: str) -> ox.NamedNode:
    """The rule gates look up the same few hundred IRIs on every call; Oxigraph checks each new
    NamedNode's IRI, which cost more than the index lookup itself."""
    return ox.NamedNode(iri)


def _from_ox(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:  # RDF 1.1 simple literal: same as rdflib's plain literal
            return Literal(term.value)
        # keep the stored text: rdflib would rewrite an ill-typed "yes"^^xsd:boolean as "false"
        return Literal(term.value, datatype=URIRef(term.datatype.value), normalize=False)
    raise TypeError(f"unsupported term from Oxigraph: {term!r}")


def _to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported rdflib term: {term!r}")


class OxigraphStore:
    """Embedded Oxigraph, in memory (default) or on disk at `path`."""

    name = "oxigraph"

    # An in-memory Oxigraph keeps what a cleared graph held: memory grows (~200 MB for each 1,000
    # patients staged and cleared, 3.1 GB after 10,000) and queries slow down (a warm single call
    # went from ~25 to ~60 ms over 300 calls). Once this many quads have been cleared, and more
    # than what is left, what is left moves to a fresh store (~30 ms for the knowledge base: every
    # ~25 single calls, every batch of a cohort).
    RENEW_AFTER = 20_000

    def __init__(self, path: str | None = None) -> None:
        self._store = ox.Store(path) if path else ox.Store()
        self._in_memory = not path
        self._cleared = 0
        # Quads added to each graph since it was last cleared (at most: one already there counts
        # too), for `clear` to add up what it drops without a COUNT query (~0.16 ms, three a warm
        # call). A graph missing here was written by an Update or a bulk load, or never cleared:
        # `clear` counts it.
        self._written: dict[str, int] = {}

    def _wrote(self, graph_name: str, quads: int) -> None:
        if graph_name in self._written:
            self._written[graph_name] += quads

    def add(self, graph: Graph, graph_name: str) -> None:
        g = ox.NamedNode(graph_name)
        self._store.extend(
            ox.Quad(_to_ox(s), _to_ox(p), _to_ox(o), g)  # type: ignore[arg-type]
            for s, p, o in graph
        )
        self._wrote(graph_name, len(graph))

    def add_ntriples(self, data: bytes | Path, graph_name: str) -> None:
        """Bulk-load N-Triples (bytes, or a file read as a stream) straight into a named graph."""
        graph = ox.NamedNode(graph_name)
        self._written.pop(graph_name, None)
        if isinstance(data, Path):
            self._store.bulk_load(path=data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        else:
            self._store.bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=graph)

    def _any(self, subject: ox.NamedNode | ox.BlankNode | None, predicate: ox.NamedNode,
             obj: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> bool:
        """Whether any graph holds a quad matching the pattern (None: any term), by one index lookup."""
        return next(iter(self._store.quads_for_pattern(subject, predicate, obj, None)), None) is not None

    def has_triple(self, predicate: str, obj: str | None) -> bool:
        """Whether any graph holds a triple with this predicate (and object IRI, if given)."""
        return self._any(None, _named(predicate), _named(obj) if obj else None)

    # Beyond this many triples on both sides of a join key, has_join answers True without looking
    # (a batch of many patients: the gates skip little there anyway).
    JOIN_LOOKUPS = 64

    def has_join(self, predicate: str, via: str, value: str) -> bool:
        """Whether some triple `?s <predicate> ?o` has an `?o` with `?o <via> <value>` (any graphs):
        the rule gates' join key. Walks the smaller side, by index lookups; True when both are large."""
        store, limit = self._store, self.JOIN_LOOKUPS
        p, via_p, value_o = _named(predicate), _named(via), _named(value)
        objects = list(islice((q.object for q in store.quads_for_pattern(None, p, None, None)), limit + 1))
        if len(objects) <= limit:
            return any(self._any(o, via_p, value_o) for o in objects if not isinstance(o, ox.Literal))
        subjects = list(islice((q.subject for q in store.quads_for_pattern(None, via_p, value_o, None)), limit + 1))
        if len(subjects) <= limit:
            return any(self._any(None, p, s) for s in subjects)
        return True

    def ntriples(self, graph_name: str) -> bytes:
        """One named graph as N-Triples, written by Oxigraph (no Python term per triple)."""
        return self._store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph_name))

    def select(self, query: str) -> list[Row]:
        names, solutions = self.select_tuples(query)
        return [{name: value for name, value in zip(names, solution, strict=True) if value is not None}
                for solution in solutions]

    def select_tuples(self, query: str) -> tuple[list[str], list[tuple[Node | None, ...]]]:
        """Variable names and one tuple per solution in their order (None where unbound): what
        `select` returns without a dict per row.

        Solutions unpack in variable order (a third faster than solution[name]), and each distinct
        term is converted once per call: the advice of a batch of 1,000 patients is ~370,000 rows
        over a few thousand distinct terms (2.5 s down to 1.8 s with the grouping)."""
        result = self._store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in result.variables]
        seen: dict[object, Node] = {}

        def term(value: object) -> Node | None:
            if value is None:
                return None
            node = seen.get(value)
            if node is None:
                node = seen[value] = _from_ox(value)
            return node

        return names, [tuple(map(term, solution)) for solution in result]

    def ask(self, query: str) -> bool:
        return bool(self._store.query(query, use_default_graph_as_union=True))

    def construct(self, query: str) -> Graph:
        out = Graph()
        for triple in self._store.query(query, use_default_graph_as_union=True):
            out.add((_from_ox(triple.subject), _from_ox(triple.predicate), _from_ox(triple.object)))
        return out

    def construct_into(self, queries: Sequence[str], graph_name: str) -> None:
        """Each CONSTRUCT runs as a query and its triples are added as quads right after it runs
        (one transaction a query), without turning them into rdflib terms.

        Running them as the equivalent Update (reasoner.construct_update, what remote stores do)
        was faster with earlier pyoxigraph releases; with 0.5.13 it costs more at every size
        measured (session 23, `Reasoner.classify` + `apply_rules`, ms per patient, back to back:
        one patient 21.7 against 18.7; 20 a batch 7.2 against 5.6; 1,000 a batch 7.0 against 6.6).
        Only one query's output is held in Python at a time."""
        target = ox.NamedNode(graph_name)
        for query in queries:
            quads = [ox.Quad(t.subject, t.predicate, t.object, target)
                     for t in self._store.query(query, use_default_graph_as_union=True)]
            self._store.extend(quads)
            self._wrote(graph_name, len(quads))

    def update(self, update: str) -> None:
        self._written.clear()  # an Update may write to any graph
        self._store.update(update)

    def graph(self, graph_name: str) -> Graph:
        out = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)):
            out.add((_from_ox(quad.subject), _from_ox(quad.predicate), _from_ox(quad.object)))
        return out

    def clear(self, graph_name: str) -> None:
        if self._in_memory:
            written = self._written.get(graph_name)
            self._cleared += written if written is not None else self._count(graph_name)
        self._store.clear_graph(ox.NamedNode(graph_name))
        self._written[graph_name] = 0
        if self._in_memory and self._cleared > self.RENEW_AFTER:
            self._renew()

    def _count(self, graph_name: str) -> int:
        solutions = self._store.query(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph_name}> {{ ?s ?p ?o }} }}")
        return int(next(iter(solutions))["n"].value)  # type: ignore[index, union-attr]

    def _renew(self) -> None:
        left = len(self._store)
        if self._cleared > left:  # else wait: copying what is left must stay the smaller cost
            fresh = ox.Store()
            fresh.extend(self._store.quads_for_pattern(None, None, None, None))
            self._store = fresh
            self._cleared = 0


def select_tuples(store: Store, query: str, names: Sequence[str]) -> list[tuple[Node | None, ...]]:
    """One tuple per solution, values in the order of `names` (None where unbound): the fast path
    of `OxigraphStore.select_tuples` on any store (others go through their rows)."""
    if isinstance(store, OxigraphStore):
        found, solutions = store.select_tuples(query)
        if list(names) == found:
            return solutions
        order = [found.index(name) for name in names]
        return [tuple(solution[i] for i in order) for solution in solutions]
    return [tuple(row.get(name) for name in names) for row in store.select(query)]


# --------------------------------------------------------------------------------------------
# rdflib (in memory)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=1024)
def _prepared(query: str) -> Query:
    """rdflib parses a query text with pyparsing each time it is run: ~18 ms a rule here, most of
    a warm single call on this store (~75 queries). The rules, class queries and shapes are the same
    texts call after call, so each is parsed once."""
    from rdflib.plugins.sparql import prepareQuery

    from .bgp_order import reorder_bgps

    prepared = prepareQuery(query)
    reorder_bgps(prepared.algebra)  # rdflib's static order pairs unrelated patterns (see bgp_order)
    return prepared


class RdflibStore:
    """rdflib Dataset whose default graph is the union of its named graphs. Same answers, slower."""

    name = "rdflib"

    def __init__(self, dataset: Dataset | None = None) -> None:
        self._ds = dataset if dataset is not None else Dataset(default_union=True)

    def add(self, graph: Graph, graph_name: str) -> None:
        target = self._ds.graph(URIRef(graph_name))
        for triple in graph:
            target.add(triple)

    def select(self, query: str) -> list[Row]:
        result = self._ds.query(_prepared(query))
        names = [str(v) for v in result.vars or []]
        rows: list[Row] = []
        for binding in result:
            row: Row = {}
            for name in names:
                value = binding[name]  # type: ignore[index]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._ds.query(_prepared(query)).askAnswer)

    def construct(self, query: str) -> Graph:
        out = Graph()
        for triple in self._ds.query(_prepared(query)):
            out.add(triple)  # type: ignore[arg-type]
        return out

    def construct_into(self, queries: Sequence[str], graph_name: str) -> None:
        produced = Graph()
        for query in queries:
            produced += self.construct(query)
        self.add(produced, graph_name)

    def update(self, update: str) -> None:
        self._ds.update(update)

    def graph(self, graph_name: str) -> Graph:
        out = Graph()
        for triple in self._ds.graph(URIRef(graph_name)):
            out.add(triple)
        return out

    def clear(self, graph_name: str) -> None:
        self._ds.remove_graph(URIRef(graph_name))
