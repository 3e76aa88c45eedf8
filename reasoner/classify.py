"""Fast-path classification: OWL population definitions compiled to SPARQL, run inside the store.

The population classes in ontology/populations.ttl are defined with owl:equivalentClass from
positive conditions (intersectionOf, unionOf, someValuesFrom, hasValue, named classes). For those
constructs the "if" direction of the definition is a conjunctive query, so a patient belongs to
the class exactly when the compiled query matches. This runs set-at-a-time in Oxigraph, rdflib or
a remote endpoint, and agrees with HermiT (tests/test_classification.py checks every fixture).

Two knowledge-base closures make the queries exact: every drug typed by all its superclasses, and
ax:fallsUnder closed reflexively and transitively. `closure_graph` computes both once per
knowledge base.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from .errors import KnowledgeBaseError
from .namespaces import AX


@dataclass(frozen=True)
class CompiledClass:
    """A population class and the CONSTRUCT query that derives its members."""

    iri: URIRef
    query: str


class _Compiler:
    def __init__(self, kb: Graph) -> None:
        self.kb = kb
        self.counter = itertools.count()

    def fresh(self) -> str:
        return f"?v{next(self.counter)}"

    def definition(self, cls: Node) -> Node | None:
        for eq in self.kb.objects(cls, OWL.equivalentClass):
            return eq
        return None

    def compile(self, expr: Node, var: str, depth: int = 0) -> str:
        if depth > 20:
            raise KnowledgeBaseError(f"class definition nested too deeply at {expr}")
        if isinstance(expr, URIRef):
            defined = self.definition(expr)
            if defined is not None:  # defined classes are inlined, so one query is self-contained
                return self.compile(defined, var, depth + 1)
            return f"{var} a <{expr}> ."
        members = self.kb.value(expr, OWL.intersectionOf)
        if members is not None:
            return " ".join(self.compile(m, var, depth + 1) for m in Collection(self.kb, members))
        members = self.kb.value(expr, OWL.unionOf)
        if members is not None:
            branches = [self.compile(m, var, depth + 1) for m in Collection(self.kb, members)]
            return " UNION ".join("{ " + b + " }" for b in branches)
        prop = self.kb.value(expr, OWL.onProperty)
        if prop is not None:
            value = self.kb.value(expr, OWL.hasValue)
            if value is not None:
                return f"{var} <{prop}> {self.term(value)} ."
            filler = self.kb.value(expr, OWL.someValuesFrom)
            if filler is not None:
                inner = self.fresh()
                if filler == OWL.Thing:
                    return f"{var} <{prop}> {inner} ."
                return f"{var} <{prop}> {inner} . " + self.compile(filler, inner, depth + 1)
        raise KnowledgeBaseError(
            f"population definitions may use only intersectionOf, unionOf, someValuesFrom, hasValue "
            f"and named classes; cannot compile {expr}"
        )

    @staticmethod
    def term(node: Node) -> str:
        if isinstance(node, URIRef):
            return f"<{node}>"
        if isinstance(node, Literal):
            return node.n3()
        raise KnowledgeBaseError(f"cannot use {node!r} as a value in a population definition")


def population_classes(kb: Graph) -> list[URIRef]:
    """Every class marked ax:isPopulationClass true, sorted by IRI."""
    return sorted(c for c in kb.subjects(AX.isPopulationClass, Literal(True)) if isinstance(c, URIRef))


def defined_classes(kb: Graph) -> list[URIRef]:
    """Population classes plus the helper classes they use (course patterns), sorted by IRI."""
    helpers = {
        c for c in kb.subjects(OWL.equivalentClass, None)
        if isinstance(c, URIRef) and str(c).startswith(str(AX))
    }
    return sorted(set(population_classes(kb)) | helpers)


def compile_populations(kb: Graph) -> list[CompiledClass]:
    """One CONSTRUCT query per defined class: `?x a <Class>` for every node it matches.

    Population classes are restricted to patients; helper classes (treatment-course patterns) are
    compiled too, so rules can name the very course that put a patient in a population.
    """
    compiled: list[CompiledClass] = []
    populations = set(population_classes(kb))
    for cls in defined_classes(kb):
        definition = _Compiler(kb).definition(cls)
        if definition is None:
            raise KnowledgeBaseError(f"population class {cls} has no owl:equivalentClass definition")
        body = _Compiler(kb).compile(definition, "?x")
        guard = f"?x a <{AX.Patient}> . " if cls in populations else ""
        query = f"CONSTRUCT {{ ?x a <{cls}> }} WHERE {{ {guard}{body} }}"
        compiled.append(CompiledClass(cls, query))
    return compiled


def closure_graph(kb: Graph) -> Graph:
    """Triples the compiled queries rely on: inherited drug types and the ax:fallsUnder closure."""
    out = Graph()
    superclasses: dict[Node, set[Node]] = {}

    def ancestors(cls: Node) -> set[Node]:
        if cls not in superclasses:
            superclasses[cls] = {cls}
            for parent in kb.objects(cls, RDFS.subClassOf):
                if isinstance(parent, URIRef):
                    superclasses[cls] |= ancestors(parent)
        return superclasses[cls]

    for ind in set(kb.subjects(RDF.type, OWL.NamedIndividual)):
        for cls in list(kb.objects(ind, RDF.type)):
            if isinstance(cls, URIRef) and cls != OWL.NamedIndividual:
                for anc in ancestors(cls):
                    out.add((ind, RDF.type, anc))
    concepts = {s for s, _, _ in kb.triples((None, AX.fallsUnder, None))}
    concepts |= {o for _, _, o in kb.triples((None, AX.fallsUnder, None))}
    concepts |= {s for s in out.subjects(RDF.type, AX.ClinicalConcept)}
    for concept in concepts:
        if isinstance(concept, BNode):
            continue
        for broader in kb.transitive_objects(concept, AX.fallsUnder):
            out.add((concept, AX.fallsUnder, broader))
    return out
