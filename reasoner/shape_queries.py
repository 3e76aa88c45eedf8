"""The patient shapes compiled to SPARQL SELECT queries, so validation runs inside the store.

Why: pySHACL costs 50-60 ms per record here, most of it re-reading the shapes and the SHACL-SPARQL
constraints on every call; a cohort of 100k would spend hours validating. The shapes in
shapes/patient/ use a small part of SHACL Core (targets by class, paths that are IRIs or sequences,
counts, datatype, ranges, sh:in, sh:class, sh:nodeKind, sh:hasValue, sh:pattern (with sh:flags), sh:lessThanOrEquals,
qualified counts, sh:or / sh:not of such shapes) plus SHACL-SPARQL constraints. Each constraint
becomes one branch of a UNION that selects the focus nodes breaking it; the branches are split
into queries of at most BRANCHES_PER_QUERY (today 73 constraints in 10 queries). The same queries
validate one patient or a whole batch, set-at-a-time. pySHACL stays the reference:
tests/test_shape_queries.py requires identical results from both on every valid and invalid
fixture, except a record the loader refuses first.

A construct outside this subset is refused when the shapes are compiled (ShapeCompileError names
the shape and the property), never silently skipped. sh:class is checked against rdf:type
directly: the store holds the knowledge base with every individual typed by all its superclasses
(the closure the rules read as well), which is what the reference validation context holds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from .errors import KnowledgeBaseError
from .paths import data_dir


class ShapeCompileError(KnowledgeBaseError):
    """A shape uses a SHACL feature the SPARQL compiler does not cover."""


@dataclass(frozen=True)
class CompiledConstraint:
    """What one UNION branch reports: severity, result path (None for node-level or sequence paths),
    message template, and whether the focus node itself is the reported value."""

    index: int
    shape: str | None  # the shape's IRI, for a report to point to; None for a blank-node shape
    severity: str
    path: URIRef | None
    message: str
    template_vars: tuple[str, ...] = ()
    component: URIRef = SH.SPARQLConstraintComponent  # what a SHACL report names as sh:sourceConstraintComponent


def component_of(key: URIRef) -> URIRef:
    """The SHACL Core constraint component a parameter belongs to: sh:minCount gives
    sh:MinCountConstraintComponent, sh:class gives sh:ClassConstraintComponent, and so on."""
    local = str(key)[len(str(SH)):]
    return SH[local[0].upper() + local[1:] + "ConstraintComponent"]


@dataclass(frozen=True)
class CompiledShapes:
    queries: tuple[str, ...]
    constraints: tuple[CompiledConstraint, ...]


# Oxigraph plans a UNION of n branches in more than linear time: measured on one record, one query
# of 59 branches took 12 ms, the same branches in queries of about 8 took 4 ms.
BRANCHES_PER_QUERY = 8


_IGNORED = {RDF.type, RDFS.label, RDFS.comment, SH.name, SH.description, SH.order, SH.group,
            SKOS.definition, SKOS.editorialNote, SH.message, SH.severity, SH.targetClass, SH.property,
            SH.path, SH.sparql, SH.deactivated}
_PROPERTY_KEYS = {SH.minCount, SH.maxCount, SH.datatype, SH.minInclusive, SH.maxInclusive, SH.minExclusive,
                  SH.maxExclusive, SH["in"], SH["class"], SH.nodeKind, SH.hasValue, SH.lessThanOrEquals,
                  SH.lessThan, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
                  SH["or"], SH["not"], SH.pattern, SH.flags}
_SEVERITY = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
_NODE_KIND_TESTS = {
    SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isIRI({v}) || isBlank({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
_RANGE_OPS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
# The constraints tested on each value node alone. One tuple for the three places that compile them
# (a node shape's own tests, a nested property, a top-level property), so a new key reaches all three.
_VALUE_KEYS = (SH.datatype, SH.nodeKind, SH["class"], SH["in"], SH.pattern, *_RANGE_OPS)
# Lexical forms per datatype: a literal typed xsd:date whose text is not a date is ill-typed, and
# pySHACL (like the SHACL spec) reports it under sh:datatype.
_LEXICAL = {
    XSD.integer: 'REGEX(STR({v}), "^[+-]?[0-9]+$")',
    XSD.decimal: 'REGEX(STR({v}), "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$")',
    XSD.boolean: 'STR({v}) IN ("true", "false", "1", "0")',
    # a real calendar day: the xsd:dateTime cast (required of every SPARQL 1.1 engine) refuses 2021-02-30
    XSD.date: ('(REGEX(STR({v}), "^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}(Z|[+-][0-9]{{2}}:[0-9]{{2}})?$") && '
               'COALESCE(DATATYPE(xsd:dateTime(CONCAT(SUBSTR(STR({v}), 1, 10), "T00:00:00"))) = xsd:dateTime, '
               'false))'),
    XSD.string: "true",
    RDF.langString: "true",  # text with a language tag (a course's detail in Turtle or JSON-LD)
}


_NUMERIC = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.int, XSD.long, XSD.nonNegativeInteger}
_NUMERIC_LEXICAL = 'REGEX(STR({v}), "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$")'


def _n3(term: Node) -> str:
    if isinstance(term, (URIRef, Literal)):
        return term.n3()
    raise ShapeCompileError(f"a blank node cannot be used as a constant in a shape: {term}")


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self.fresh = itertools.count()

    def var(self) -> str:
        return f"?v{next(self.fresh)}"

    def label(self, shape: Node) -> str:
        return str(shape) if isinstance(shape, URIRef) else f"a property shape of {self._owner(shape)}"

    def _owner(self, node: Node) -> str:
        for owner in self.g.subjects(SH.property, node):
            return str(owner)
        return "an anonymous shape"

    def check_keys(self, shape: Node, allowed: set[URIRef]) -> None:
        for prop in set(self.g.predicates(shape)):
            if prop not in allowed and prop not in _IGNORED:
                raise ShapeCompileError(f"{self.label(shape)}: {prop} is not supported by the SPARQL validator")

    def path(self, shape: Node) -> tuple[str, URIRef | None]:
        """SPARQL path text and the path IRI to report (None for a sequence, as pySHACL reports a list)."""
        path = self.g.value(shape, SH.path)
        if isinstance(path, URIRef):
            return path.n3(), path
        if isinstance(path, BNode) and self.g.value(path, RDF.first) is not None:
            steps = list(Collection(self.g, path))
            if all(isinstance(step, URIRef) for step in steps):
                return "/".join(step.n3() for step in steps), None
        raise ShapeCompileError(f"{self.label(shape)}: only IRI and sequence paths are supported")

    def values(self, shape: Node, key: URIRef) -> list[Node]:
        return list(self.g.objects(shape, key))

    def one(self, shape: Node, key: URIRef) -> Node | None:
        found = self.values(shape, key)
        if len(found) > 1:
            raise ShapeCompileError(f"{self.label(shape)}: more than one {key}")
        return found[0] if found else None

    def in_list(self, shape: Node) -> list[Node]:
        head = self.one(shape, SH["in"])
        return list(Collection(self.g, head)) if head is not None else []

    # -- value tests: an expression true when the value {v} satisfies one value-type constraint --
    def value_tests(self, shape: Node, v: str) -> Iterator[str]:
        """One boolean expression per value constraint of `shape` applied to the node in `v`."""
        for _, test in self.keyed_value_tests(shape, v):
            yield test

    def keyed_value_tests(self, shape: Node, v: str) -> Iterator[tuple[URIRef, str]]:
        """value_tests with the parameter each test comes from (for the report's constraint component)."""
        for key in (*_VALUE_KEYS, SH.hasValue):
            for constant in self.values(shape, key):
                yield key, self.value_test(shape, key, constant, v)

    def value_test(self, shape: Node, key: URIRef, constant: Node, v: str) -> str:
        if key == SH.datatype:
            lexical = _LEXICAL.get(constant)  # type: ignore[arg-type]
            if lexical is None:
                raise ShapeCompileError(f"{self.label(shape)}: no lexical check for datatype {constant}")
            return f"(isLiteral({v}) && DATATYPE({v}) = {_n3(constant)} && {lexical.format(v=v)})"
        if key == SH.nodeKind:
            return _NODE_KIND_TESTS[constant].format(v=v)  # type: ignore[index]
        if key == SH["class"]:
            return f"EXISTS {{ {v} a {_n3(constant)} }}"
        if key == SH["in"]:
            members = list(Collection(self.g, constant))
            return "(" + " || ".join(f"sameTerm({v}, {_n3(m)})" for m in members) + ")" if members else "false"
        if key == SH.hasValue:
            return f"sameTerm({v}, {_n3(constant)})"
        if key == SH.pattern:
            # SHACL: the text of an IRI or a literal matches the regular expression; a blank node fails
            flags = self.one(shape, SH.flags)
            arguments = _n3(Literal(str(constant))) + (f", {_n3(Literal(str(flags)))}" if flags is not None else "")
            return f"(!isBlank({v}) && REGEX(STR({v}), {arguments}))"
        comparison = f"{v} {_RANGE_OPS[key]} {_n3(constant)}"
        if isinstance(constant, Literal) and constant.datatype in _NUMERIC:
            # rdflib compares an ill-typed "forty-two"^^xsd:integer as text; require a number first
            comparison = f"isNumeric({v}) && {_NUMERIC_LEXICAL.format(v=v)} && {comparison}"
        return f"COALESCE({comparison}, false)"

    # -- conformance of a nested shape (inside sh:or, sh:not, sh:qualifiedValueShape) ----------
    def conforms(self, shape: Node, x: str) -> str:
        """A boolean expression: the node in `x` conforms to `shape`."""
        self.check_keys(shape, _PROPERTY_KEYS)
        parts = list(self.value_tests(shape, x))
        for head in self.values(shape, SH["or"]):
            parts.append("(" + " || ".join(self.conforms(s, x) for s in Collection(self.g, head)) + ")")
        for inner in self.values(shape, SH["not"]):
            parts.append(f"!({self.conforms(inner, x)})")
        for prop in self.values(shape, SH.property):
            parts.append(self.property_conforms(prop, x))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def property_conforms(self, prop: Node, x: str) -> str:
        self.check_keys(prop, _PROPERTY_KEYS)
        path, _ = self.path(prop)
        parts: list[str] = []
        min_count, max_count = self.one(prop, SH.minCount), self.one(prop, SH.maxCount)
        if min_count is not None:
            if int(min_count) > 1:  # type: ignore[call-overload]
                raise ShapeCompileError(f"{self.label(prop)}: nested sh:minCount above 1 is not supported")
            if int(min_count) == 1:  # type: ignore[call-overload]
                parts.append(f"EXISTS {{ {x} {path} {self.var()} }}")
        if max_count is not None:
            if int(max_count) != 0:  # type: ignore[call-overload]
                raise ShapeCompileError(f"{self.label(prop)}: nested sh:maxCount other than 0 is not supported")
            parts.append(f"NOT EXISTS {{ {x} {path} {self.var()} }}")
        for value in self.values(prop, SH.hasValue):
            parts.append(f"EXISTS {{ {x} {path} {_n3(value)} }}")
        for key in _VALUE_KEYS:
            for constant in self.values(prop, key):
                y = self.var()
                parts.append(f"NOT EXISTS {{ {x} {path} {y} FILTER (!{self.value_test(prop, key, constant, y)}) }}")
        for key in (SH.lessThanOrEquals, SH.lessThan, SH.qualifiedValueShape, SH["or"], SH["not"]):
            if self.values(prop, key):
                raise ShapeCompileError(f"{self.label(prop)}: nested {key} is not supported")
        return "(" + " && ".join(parts) + ")" if parts else "true"


def _severity(g: Graph, shape: Node) -> str:
    return _SEVERITY.get(g.value(shape, SH.severity, default=SH.Violation), "violation")  # type: ignore[arg-type]


def _message(g: Graph, shape: Node, label: str) -> str:
    messages = [m for m in g.objects(shape, SH.message) if isinstance(m, Literal)]
    if len(messages) != 1:
        raise ShapeCompileError(f"{label}: give exactly one sh:message (the SPARQL validator reports it as is)")
    return str(messages[0])


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """SELECTs over the union graph, each a UNION of constraint branches binding ?c (constraint
    index), ?this (focus node), ?value and a SPARQL constraint's own template variables."""
    comp = _Compiler(shapes)
    branches: list[str] = []
    constraints: list[CompiledConstraint] = []
    prefixes: dict[str, str] = {"xsd": str(XSD)}

    def add(shape: Node, severity: str, path: URIRef | None, message: str, body: str,
            template_vars: tuple[str, ...] = (), *, key: URIRef) -> None:
        index = len(constraints)
        component = SH.SPARQLConstraintComponent if key == SH.sparql else component_of(key)
        named = str(shape) if isinstance(shape, URIRef) else None
        constraints.append(CompiledConstraint(index, named, severity, path, message, template_vars, component))
        branches.append(f"{{ {body} BIND ({index} AS ?c) }}")

    node_shapes = sorted({s for s in shapes.subjects(SH.targetClass, None)}, key=str)
    for shape in node_shapes:
        label = comp.label(shape)
        comp.check_keys(shape, _PROPERTY_KEYS - {SH.minCount, SH.maxCount, SH.lessThanOrEquals, SH.lessThan,
                                                 SH.qualifiedValueShape, SH.qualifiedMinCount,
                                                 SH.qualifiedMaxCount})
        targets = [t for t in shapes.objects(shape, SH.targetClass)]
        if len(targets) == 1:
            target = f"?this a {_n3(targets[0])} ."
        else:
            target = "{ " + " UNION ".join(f"{{ ?this a {_n3(t)} }}" for t in targets) + " }"

        node_tests = list(comp.keyed_value_tests(shape, "?this"))
        node_tests += [(SH["or"], "(" + " || ".join(comp.conforms(s, "?this") for s in Collection(shapes, head)) + ")")
                       for head in comp.values(shape, SH["or"])]
        node_tests += [(SH["not"], f"!({comp.conforms(inner, '?this')})") for inner in comp.values(shape, SH["not"])]
        if node_tests:
            severity, message = _severity(shapes, shape), _message(shapes, shape, label)
            for key, test in node_tests:
                add(shape, severity, None, message, f"{target} FILTER (!{test}) BIND (?this AS ?value)", key=key)

        for prop in sorted(comp.values(shape, SH.property), key=str):
            _compile_property(comp, prop, target, add)

        for constraint in comp.values(shape, SH.sparql):
            _compile_sparql(shapes, shape, constraint, target, add, prefixes)

    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
    queries = tuple(prologue + "SELECT * WHERE {\n  " + "\n  UNION\n  ".join(branches[i:i + BRANCHES_PER_QUERY])
                    + "\n}\n" for i in range(0, len(branches), BRANCHES_PER_QUERY))
    return CompiledShapes(queries, tuple(constraints))


def _compile_property(comp: _Compiler, prop: Node, target: str, add) -> None:  # type: ignore[no-untyped-def]
    g = comp.g
    label = comp.label(prop)
    comp.check_keys(prop, _PROPERTY_KEYS)
    path, report_path = comp.path(prop)
    severity, message = _severity(g, prop), _message(g, prop, label)

    def counted(key: URIRef, bound: int, op: str, value_filter: Callable[[str], str] | None = None) -> None:
        n, v = comp.var(), comp.var()
        condition = f"FILTER ({value_filter(v)})" if value_filter else ""
        add(prop, severity, report_path, message,
            f"{{ SELECT ?this (COUNT(DISTINCT {v}) AS {n}) WHERE {{ {target} "
            f"OPTIONAL {{ ?this {path} {v} {condition} }} }} GROUP BY ?this }} FILTER ({n} {op} {bound})", key=key)

    min_count, max_count = comp.one(prop, SH.minCount), comp.one(prop, SH.maxCount)
    if min_count is not None:
        counted(SH.minCount, int(min_count), "<")  # type: ignore[call-overload]
    if max_count is not None:
        counted(SH.maxCount, int(max_count), ">")  # type: ignore[call-overload]
    qualified = comp.one(prop, SH.qualifiedValueShape)
    if qualified is not None:
        low, high = comp.one(prop, SH.qualifiedMinCount), comp.one(prop, SH.qualifiedMaxCount)
        for key, bound, op in ((SH.qualifiedMinCount, low, "<"), (SH.qualifiedMaxCount, high, ">")):
            if bound is not None:
                counted(key, int(bound), op, lambda v: comp.conforms(qualified, v))  # type: ignore[call-overload]
    elif comp.values(prop, SH.qualifiedMinCount) or comp.values(prop, SH.qualifiedMaxCount):
        raise ShapeCompileError(f"{label}: a qualified count needs sh:qualifiedValueShape")
    for key in _VALUE_KEYS:
        for constant in comp.values(prop, key):
            add(prop, severity, report_path, message,
                f"{target} ?this {path} ?value FILTER (!{comp.value_test(prop, key, constant, '?value')})", key=key)
    for value in comp.values(prop, SH.hasValue):
        add(prop, severity, report_path, message,
            f"{target} FILTER NOT EXISTS {{ ?this {path} {_n3(value)} }}", key=SH.hasValue)
    # sh:or and sh:not on a property shape test each value node against the listed shapes
    for head in comp.values(prop, SH["or"]):
        either = " || ".join(comp.conforms(s, "?value") for s in Collection(g, head))
        add(prop, severity, report_path, message, f"{target} ?this {path} ?value FILTER (!({either}))", key=SH["or"])
    for inner in comp.values(prop, SH["not"]):
        add(prop, severity, report_path, message,
            f"{target} ?this {path} ?value FILTER ({comp.conforms(inner, '?value')})", key=SH["not"])
    for key, op in ((SH.lessThanOrEquals, "<="), (SH.lessThan, "<")):
        for other in comp.values(prop, key):
            o = comp.var()
            add(prop, severity, report_path, message,
                f"{target} ?this {path} ?value . ?this {_n3(other)} {o} "
                # a pair that cannot be compared passes, as in pySHACL, which the compiled shapes
                # must match on every fixture (an ill-typed start such as 2026-02-30 gets only its
                # datatype result there), though SHACL would report it. The case where the two
                # differed on a well-formed date, one with a time zone (session-34 fuzz F2), is refused
                # by sh:pattern; odd forms (a five-digit year) still differ, as the README lists.
                f"FILTER (COALESCE(!(?value {op} {o}), false))", key=key)


_TEMPLATE = re.compile(r"\{[?$](\w+)\}")


def _compile_sparql(shapes: Graph, shape: Node, constraint: Node, target: str, add,  # type: ignore[no-untyped-def]
                    prefixes: dict[str, str]) -> None:
    label = str(shape)
    select = shapes.value(constraint, SH.select)
    if select is None:
        raise ShapeCompileError(f"{label}: only sh:select SPARQL constraints are supported")
    for decl_owner in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(decl_owner, SH.declare):
            prefixes[str(shapes.value(decl, SH.prefix))] = str(shapes.value(decl, SH.namespace))
    text = str(select).replace("$this", "?this")
    if re.search(r"\$\w", text):
        raise ShapeCompileError(f"{label}: only $this may be pre-bound in a SPARQL constraint")
    message = _message(shapes, constraint, label)
    add(shape, _severity(shapes, shape), None, message,
        f"{target} {{ {text.strip()} }} BIND (COALESCE(?value, ?this) AS ?reported)",
        tuple(_TEMPLATE.findall(message)), key=SH.sparql)


@lru_cache(maxsize=1)
def patient_shapes() -> Graph:
    """shapes/patient/*.ttl, parsed once."""
    shapes = Graph()
    for path in sorted(Path(data_dir("shapes"), "patient").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    return shapes


@lru_cache(maxsize=1)
def compiled_patient_shapes() -> CompiledShapes:
    return compile_shapes(patient_shapes())
