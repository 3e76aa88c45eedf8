"""Plain JSON records straight to triples, without the JSON-LD processor, when that is safe.

Why: rdflib's JSON-LD parser costs about 4 ms a record, most of it expanding the same context
again; a cohort of 100k records would spend minutes on it. Nearly every record is "plain": the
documented fields, string or number values, no inline context. For those, the triples the shipped
context would give are written directly. Anything else (an inline context, an unknown field, a
value that is not a simple token, a number where text is expected) returns None, and the caller
uses the JSON-LD processor. tests/test_plain_json.py requires both paths to give identical graphs
on every fixture and on a generated cohort.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from .graphs import record_graph

RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # expands the same way under every JSON-LD rule
PLAIN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.~-]*(/[A-Za-z0-9_][A-Za-z0-9_.~-]*)*$")

# field -> (property, kind); kind: vocab | integer | decimal | date | boolean | text | outcome
_PATIENT = {"age": ("ageYears", "integer"), "sex": ("sex", "vocab"), "diagnosis": ("hasDiagnosis", "vocab"),
            "diseaseState": ("diseaseState", "vocab")}
_NESTED_FIELDS = {
    "conditions": ("hasConditionStatement", {"condition": ("aboutCondition", "vocab"),
                                             "status": ("presence", "vocab"), "note": (RDFS_COMMENT, "text")}),
    "measurements": ("hasMeasurement", {"measure": ("measure", "vocab"), "value": ("value", "decimal"),
                                        "date": ("effectiveDate", "date")}),
    "treatments": ("hasTreatmentCourse", {"drug": ("drugName", "text"), "start": ("startDate", "date"),
                                          "end": ("endDate", "date"), "status": ("courseStatus", "vocab"),
                                          "outcome": ("outcome", "outcome"), "detail": ("outcomeDetail", "text"),
                                          "dose": ("dose", "text"), "maximalDose": ("atMaximalDose", "boolean")}),
}
_DATATYPES = {"integer": XSD.integer, "decimal": XSD.decimal, "date": XSD.date, "boolean": XSD.boolean}


def record_keys(part: str | None = None) -> frozenset[str]:
    """The keys the shipped context defines at a record's top level (part None) or in an item of
    `part` ("treatments", "conditions", "measurements"): its fields, "id" and "type", and its other
    terms."""
    _, _, _, top, scoped = _terms()
    return frozenset(top if part is None else scoped[part])


class _NotPlain(Exception):
    """The record needs the JSON-LD processor."""


@lru_cache(maxsize=1)
def _terms() -> tuple[str, str, str, dict[str, str], dict[str, dict[str, str]]]:
    """(vocab, base, ax namespace, top-level terms, scoped terms per nested field) from the context."""
    from .record import record_context

    ctx = record_context()
    vocab, base = ctx["@vocab"], ctx["@base"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else value

    def terms_of(context: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for term, definition in context.items():
            if term.startswith("@"):
                continue
            iri = definition if isinstance(definition, str) else definition.get("@id", "")
            out[term] = iri if iri.startswith("@") else expand(iri)
        return out

    top = terms_of(ctx)
    scoped = {field: {**top, **terms_of(ctx[field].get("@context", {}))} for field in _NESTED_FIELDS}
    return vocab, base, str(prefixes["ax"]), top, scoped


def _vocab_iri(value: Any, terms: dict[str, str], vocab: str) -> URIRef:
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise _NotPlain
    iri = terms.get(value, vocab + value)
    if iri.startswith("@"):  # a keyword alias such as "id" used as a value
        raise _NotPlain
    return URIRef(iri)


def _literal(value: Any, kind: str) -> Literal:
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: record.check_terms names it
            raise _NotPlain from None
    if kind == "text":
        if not isinstance(value, str):
            raise _NotPlain
        return Literal(value)
    if not isinstance(value, str):
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return Literal(str(value), datatype=XSD.integer, normalize=False)
        if kind == "boolean" and isinstance(value, bool):
            return Literal("true" if value else "false", datatype=XSD.boolean, normalize=False)
        raise _NotPlain
    return Literal(value, datatype=_DATATYPES[kind], normalize=False)


def _add_fields(graph: Graph, node: URIRef, item: dict[str, Any], fields: dict[str, tuple[str, str]],
                terms: dict[str, str], vocab: str, ax: str) -> None:
    for key, value in item.items():
        if key in ("id", "type"):
            continue
        if key not in fields:
            raise _NotPlain
        prop, kind = fields[key]
        predicate = URIRef(prop if prop.startswith("http") else ax + prop)
        if value is None:
            continue  # JSON-LD drops nulls
        if kind == "outcome":
            values = value if isinstance(value, list) else [value]
            for outcome in values:
                graph.add((node, predicate, _vocab_iri(outcome, terms, vocab)))
        elif isinstance(value, list | dict):
            raise _NotPlain
        elif kind == "vocab":
            graph.add((node, predicate, _vocab_iri(value, terms, vocab)))
        else:
            graph.add((node, predicate, _literal(value, kind)))


# What no IRI may hold (RFC 3987: controls, the space, <>"{}|^` and the backslash). A value with one
# is dropped by the JSON-LD processor without a word, and the fact with it. The C1 controls and the
# line and paragraph separators U+2028/2029 are refused too: RFC 3987 admits the separators, but
# line-based tools (and str.splitlines) break lines at them. The no-break space stays legal.
NOT_IN_IRI = re.compile(r'[\x00-\x20\x7f-\x9f\u2028\u2029<>"{}|^`\\]')


def check_field_values(doc: dict[str, Any]) -> None:
    """ValueError naming the field when a vocabulary field holds a value no IRI can carry, e.g.
    "primary nonresponse", as a string, in a list (at any depth) or as an {"@id": ...} object: the
    JSON-LD processor would drop it silently, and the record would read as if the field were absent
    (a failed course without its outcome)."""

    def vocab(value: Any, path: str) -> None:
        if isinstance(value, list):
            for item in value:
                vocab(item, path)
        elif isinstance(value, dict):
            if "@id" not in value and "@value" not in value:  # else its inner keys were blamed
                raise ValueError(f"{path}: expected a value written as text (a word such as the README "
                                 "lists), got a JSON object")
            for key in ("@id", "@value"):
                vocab(value.get(key), path)
        elif isinstance(value, bool | int | float):  # else "the value '5' ... is not a valid IRI"
            raise ValueError(f"{path}: expected a value written as text (a word such as the README lists), "
                             f"got {json.dumps(value)}")
        elif isinstance(value, str) and NOT_IN_IRI.search(value):
            # (not "words joined by underscores": AS, nr-axSpA and axSpA are values too; probe p35)
            raise ValueError(f"{path}: {value!r} is not a value of the record format (values are written "
                             "without spaces, for example AS, nr-axSpA, primary_nonresponse; the README "
                             "lists them)")

    def literal(value: Any, path: str, kind: str) -> None:
        what = {"integer": "a whole number", "decimal": "a number", "date": "a date (YYYY-MM-DD)",
                "boolean": "true or false"}.get(kind, "text")
        # {"age": {"v": 40}} became a node of its own, and the message named "v", not the field
        if isinstance(value, dict) and "@value" not in value and "@id" not in value:
            raise ValueError(f"{path}: expected {what}, got a JSON object")
        # "age": true became "true"^^xsd:integer, which the two validators reported differently
        # (session-34 fuzz F7)
        if isinstance(value, bool) and kind in ("integer", "decimal", "date"):
            raise ValueError(f"{path}: expected {what}, got {json.dumps(value)}")

    for key, (_, kind) in _PATIENT.items():
        if kind == "vocab" and key in doc:
            vocab(doc[key], key)
        elif key in doc:
            literal(doc[key], key, kind)
    for key, (_, fields) in _NESTED_FIELDS.items():
        items = doc.get(key)
        for index, item in enumerate(items if isinstance(items, list) else [], start=1):
            if not isinstance(item, dict):
                continue
            for name, (_, kind) in fields.items():
                if kind in ("vocab", "outcome") and item.get(name) is not None:
                    vocab(item[name], f"{key}[{index}].{name}")
                elif item.get(name) is not None:
                    literal(item[name], f"{key}[{index}].{name}", kind)


def _node(value: Any, base: str) -> URIRef:
    if not isinstance(value, str) or not PLAIN_ID.match(value) or ".." in value.split("/") or "." in value.split("/"):
        raise _NotPlain
    return URIRef(base + value)


def plain_record_graph(doc: dict[str, Any]) -> Graph | None:
    """Triples of a normalised record (see record.normalise_json), or None if it is not plain."""
    vocab, base, ax, top, scoped = _terms()
    context = doc.get("@context")
    if not isinstance(context, list) or len(context) != 1:  # an inline context extends the shipped one
        return None
    graph = record_graph()
    try:
        patient = _node(doc.get("id"), base)
        if doc.get("type") != "Patient":
            return None
        graph.add((patient, RDF.type, URIRef(ax + "Patient")))
        for key, value in doc.items():
            if key in ("@context", "id", "type"):
                continue
            if key in _PATIENT:
                _add_fields(graph, patient, {key: value}, _PATIENT, top, vocab, ax)
            elif key in _NESTED_FIELDS:
                if value is None:
                    continue  # JSON-LD drops nulls: no such statements
                link, fields = _NESTED_FIELDS[key]
                type_name = {"conditions": "ConditionStatement", "measurements": "Measurement",
                             "treatments": "TreatmentCourse"}[key]
                for item in value:
                    if not isinstance(item, dict) or item.get("type") != type_name:
                        return None
                    node = _node(item.get("id"), base)
                    graph.add((patient, URIRef(ax + link), node))
                    graph.add((node, RDF.type, URIRef(ax + type_name)))
                    _add_fields(graph, node, item, fields, scoped[key], vocab, ax)
            else:
                return None
    except _NotPlain:
        return None
    return graph
