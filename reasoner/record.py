"""Read a patient record (Turtle, N-Triples, JSON-LD, plain JSON, a FHIR R4 Bundle, a dict or an
rdflib Graph).

Plain JSON is JSON-LD once the context shipped in reasoner/context/record.jsonld is applied; the
context is read from the package, never fetched, and a record that points at any other remote
context is refused, so parsing never touches the network. Nested objects get IRIs derived from the
patient's (remote stores cannot round-trip blank nodes). Drug names are resolved against the
knowledge base (IRI, generic name, brand name or RxNorm code); a name that does not resolve stays
as ax:drugName so validation can report it by name.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph
import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, NamespaceManager

from .errors import RecordLoadError, json_kind
from .fhir import FhirOrigin, bundle_to_record, is_fhir
from .fhir_codes import CodeIndex, DrugNames, code_index
from .graphs import record_graph
from .namespaces import AX, DRUG, bind_all
from .plain_json import NOT_IN_IRI, PLAIN_ID, check_field_values, plain_record_graph, record_keys

if TYPE_CHECKING:  # (validate reads this module)
    from .validate import ValidationReport

CONTEXT_FILE = Path(__file__).resolve().parent / "context" / "record.jsonld"
CONTEXT_IRI = "https://w3id.org/axspa-kg/context/record.jsonld"
RECORD_BASE = "https://w3id.org/axspa-kg/record/"
RXNORM = "http://purl.bioontology.org/ontology/RXNORM/"
T = TypeVar("T")

# A record file's suffix and the rdflib format it is read in (cohort reads the same, and .jsonl).
SUFFIX_FORMATS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".n3": "n3",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".xml": "xml",
}
_NESTED = {
    "conditions": ("ConditionStatement", "condition"),
    "measurements": ("Measurement", "measurement"),
    "treatments": ("TreatmentCourse", "treatment"),
}


@dataclass
class PatientRecord:
    """One patient's graph and IRI, ready for validation; `fhir` when it was read from a FHIR
    Bundle (where each part came from, and what was not read)."""

    graph: Graph
    patient: URIRef
    source: str
    fhir: FhirOrigin | None = None

    def explain(self, report: ValidationReport) -> ValidationReport:
        """The validation report in the terms of the input the user wrote: for a Bundle, paths name
        its entries and every resource not read is a warning; a plain record's report as it is."""
        return self.fhir.explain(report, str(self.patient)) if self.fhir else report


@lru_cache(maxsize=1)
def record_context() -> dict[str, Any]:
    """The JSON-LD context shipped with the package."""
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]


def _check_context(value: object) -> None:
    """Refuse any context that would need a network fetch."""
    contexts = value if isinstance(value, list) else [value]
    for ctx in contexts:
        if isinstance(ctx, str) and ctx != CONTEXT_IRI:
            raise RecordLoadError(
                f"@context {ctx!r} would have to be fetched from the network; axspa-kg only accepts its "
                f"own context ({CONTEXT_IRI}, shipped with the package) or an inline context"
            )
        if isinstance(ctx, dict):
            _refuse_remote(ctx, inside_context=True)


def _refuse_remote(node: object, inside_context: bool = False) -> None:
    """Walk the whole document: no @import, and no @context anywhere that names a remote document.
    The shipped context, wherever a nested @context names it, is put in by value (changed in place):
    the JSON-LD processor would otherwise fetch it from the network."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@import":
                raise RecordLoadError(f"@import {value!r} would have to be fetched from the network; not accepted")
            if key == "@context":
                _check_context(value)
                if value == CONTEXT_IRI:
                    node[key] = record_context()
                elif isinstance(value, list):
                    node[key] = [record_context() if c == CONTEXT_IRI else c for c in value]
            else:
                _refuse_remote(value, inside_context)
    elif isinstance(node, list):
        for item in node:
            _refuse_remote(item, inside_context)


def _with_shipped_context(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` (changed in place) with the shipped context first and its own inline contexts after;
    a remote context anywhere is refused, never fetched (the shipped one, named anywhere, is inlined)."""
    _refuse_remote({k: v for k, v in doc.items() if k != "@context"})
    ctx = doc.pop("@context", None)
    if ctx is not None:
        _check_context(ctx)
    doc["@context"] = [record_context(), *(c for c in (ctx if isinstance(ctx, list) else [ctx]) if isinstance(c, dict))]
    return doc


def normalise_json(document: dict[str, Any]) -> dict[str, Any]:
    """Turn a plain-looking JSON record into JSON-LD with the shipped context.

    Adds the context and the types, gives nested objects IRIs under the patient's, and writes
    measurement values as strings so the context types them xsd:decimal (JSON numbers would
    otherwise become xsd:double or xsd:integer).
    """
    if not isinstance(document, dict):
        raise RecordLoadError("a JSON record must be an object with the patient's fields")
    doc = _with_shipped_context(copy.deepcopy(document))
    if "@graph" in doc:
        raise RecordLoadError("@graph: a record describes one patient; give one record per JSON object "
                              "(or use `axspa cohort` with JSON Lines or an array of records)")
    _keyword_aliases(doc, "")
    doc.setdefault("type", "Patient")
    if doc.get("id") is None:  # absent or null (a null field counts as absent, as in JSON-LD)
        doc["id"] = "patient"
    _check_id(doc["id"], "id")
    age = doc.get("age")
    too_large = isinstance(age, int) and not isinstance(age, bool) and abs(age) >= 2**63
    if isinstance(age, str) and _INTEGER_TEXT.match(age):  # "41" is read as the number, so checked as one
        digits = age.lstrip("+-").lstrip("0")
        too_large = len(digits) > 19 or int(digits or "0") >= 2**63  # (int() of 5,000 digits is an error)
    if too_large:
        raise RecordLoadError(f"age: {str(age)[:30]} is too large for any store to compare (and no age in years)")
    if isinstance(age, float) and not math.isfinite(age):  # 1e400 reads as infinity (session-33 docs probe F2)
        raise RecordLoadError(f"age: {age!r} is not a finite number; give the age in whole years")
    plain = len(doc["@context"]) == 1  # no inline context: every key means what the README says
    if plain:
        _refuse_empty_unknown(doc, "")
    pid = doc["id"]
    nested_ids: dict[str, str] = {}
    for key, (type_name, stem) in _NESTED.items():
        items = doc.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise RecordLoadError(f"{key}: expected a list of objects, got {json_kind(items)}")
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise RecordLoadError(f"{key}[{index}]: expected an object, got {json_kind(item)}")
            _keyword_aliases(item, f"{key}[{index}].")
            if plain:
                _refuse_empty_unknown(item, f"{key}[{index}].", key)
            item.setdefault("type", type_name)
            given = item.get("id") is not None
            if not given:
                item["id"] = f"{pid}/{stem}/{index}"
            _check_id(item["id"], f"{key}[{index}].id")
            item["id"] = _nested_id(item["id"], pid)
            if item["id"] in nested_ids or item["id"] == pid:
                # two items with one id are one node in RDF: their fields would merge silently
                earlier = nested_ids.get(item["id"], "the patient")
                if not given and earlier != "the patient":  # the other item took this one's default id
                    raise RecordLoadError(f"{earlier}.id: {item['id']!r} is the id {key}[{index}] gets by "
                                          f"default; give {earlier} another")
                raise RecordLoadError(f"{key}[{index}].id: {item['id']!r} is already the id of "
                                      f"{earlier}; each item needs its own")
            nested_ids[item["id"]] = f"{key}[{index}]"
            value = item.get("value")
            if key == "measurements" and isinstance(value, int | float) and not isinstance(value, bool):
                if isinstance(value, float) and not math.isfinite(value):  # 1e400 reads as infinity
                    raise RecordLoadError(f"{key}[{index}].value: {value!r} is not a finite number; check the value")
                item["value"] = format(Decimal(repr(value)), "f")
                _check_decimal(item["value"], f"{key}[{index}].value", value)
            elif key == "measurements" and isinstance(value, str) and _DECIMAL_TEXT.match(value):
                _check_decimal(value, f"{key}[{index}].value", value)  # "12.5" is read as the number
            if key == "treatments" and isinstance(item.get("outcome"), str):
                item["outcome"] = [item["outcome"]]
    try:
        check_field_values(doc)
    except ValueError as exc:
        raise RecordLoadError(str(exc)) from exc
    return doc


# The lexical forms of xsd:integer and xsd:decimal: a record may give a number as text, and the
# shipped context reads it as that number.
_INTEGER_TEXT = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL_TEXT = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def _check_decimal(text: str, path: str, value: object) -> None:
    """Refuse a number a store cannot compare as xsd:decimal (Oxigraph: under 10^20, 18 decimal
    places): the store validator would then report a CRP of 1e30 as negative, a false message."""
    whole, _, fraction = text.lstrip("+-").partition(".")
    whole = whole.lstrip("0")
    if len(whole) > 20 or len(fraction.rstrip("0")) > 18:
        raise RecordLoadError(f"{path}: {value!r} is beyond the numbers a store can compare (under 10^20, at most "
                              "18 decimal places); check the value")


def _refuse_empty_unknown(item: dict[str, Any], where: str, part: str | None = None) -> None:
    """Refuse a key that is no field of the record format even when it holds an empty list, which
    gives no triple for check_terms to find: "condtions": [] meant as "no conditions" was taken
    without a word (session-33 docs probe F8). A key holding anything else is refused later, with
    what it holds."""
    if part is not None and "@context" in item:  # its own context maps its keys: the record's to define
        return  # (the top level always holds the shipped context by now: the caller checks it has no other)
    known = record_keys(part)
    for key, value in item.items():
        if (value == [] and key not in known and ":" not in key and not key.startswith("@")  # not a CURIE or IRI
                and not _declared_property_name(key)):  # "hasTreatmentCourse": the shipped @vocab makes it one
            raise RecordLoadError(f"{where}{key}: not a field of the record format; it holds an empty list, "
                                  "so nothing is lost, but check the spelling (the README lists the fields)")


def _declared_property_name(key: str) -> bool:
    """Whether the shipped context's @vocab makes the key a property the ontology declares
    (`hasTreatmentCourse`), which a record may use as a key with any value (session-33 review F4).
    Asked only for a key holding an empty list that is no field: it reads the knowledge base."""
    from .kb import knowledge_base

    return URIRef(str(AX) + key) in declared_terms_cached(knowledge_base())[0]


def _keyword_aliases(item: dict[str, Any], where: str) -> None:
    """JSON-LD's "@id" and "@type" are what the shipped context calls "id" and "type": read them as
    such (the record's own "@id" was ignored, every such record named ".../record/patient")."""
    for keyword, alias in (("@id", "id"), ("@type", "type")):
        if keyword in item:
            if alias in item:
                raise RecordLoadError(f"{where}{alias}: given twice, as {alias!r} and as {keyword!r}; keep one")
            item[alias] = item.pop(keyword)


def _nested_id(value: str, pid: str) -> str:
    """A nested item's plain relative id (letters, digits, `_.~-` and `/`) names it within its
    patient ("course-1" becomes "<patient>/course-1"): resolved against the record base it would be
    one node shared by every record using the same id, and a cohort batch would merge their
    courses. Any other id (a full IRI, a fragment such as "#ibd", "../x") is the record's own
    choice and is kept as given; a cohort refuses one that another record of the batch also uses."""
    if not PLAIN_ID.match(value) or value.startswith(f"{pid}/") or "#" in pid:
        return value
    return f"{pid}/{value}"


_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _check_id(value: object, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise RecordLoadError(f"{path}: expected a non-empty string (the record's identifier), got {value!r}")
    if NOT_IN_IRI.search(value):
        raise RecordLoadError(f"{path}: {value!r} cannot be part of an IRI (no spaces, line separators, control "
                              "characters, quotes or <>{}|^`\\)")
    if not _HAS_SCHEME.match(value) and (value.startswith("/") or ".." in value.split("#")[0].split("/")):
        # resolved against the record base, "../../x" named https://w3id.org/x and "//host/x" another host
        raise RecordLoadError(f"{path}: {value!r} starts with / or holds a '..' step, which can lead out of "
                              f"the record base {RECORD_BASE}; give a plain id (letters, digits, _.~- and /) "
                              "or a full IRI")


def patient_iri(value: object) -> str | None:
    """The patient IRI a record's id names (a plain id under the record base, or a full IRI), or
    None where it cannot name one: a cohort names the patient of a record it could not read."""
    try:
        _check_id(value, "id")
    except RecordLoadError:
        return None
    return str(value) if _HAS_SCHEME.match(str(value)) else RECORD_BASE + str(value)


class _IllFormedTermNoise(logging.Filter):
    """Drops rdflib's log lines about ill-typed literals and odd IRIs: a record holding them is
    reported by SHACL, field by field, so the same fault logged again as a stack trace is noise.
    Every other rdflib.term message passes."""

    _NOISE = ("Failed to convert Literal lexical form", "does not look like a valid URI")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(part in message for part in self._NOISE)


logging.getLogger("rdflib.term").addFilter(_IllFormedTermNoise())


@contextmanager
def _lexical_forms_kept() -> Iterator[None]:
    """Parse with rdflib's literal normalisation off: by default it rewrites an ill-typed
    "yes"^^xsd:boolean as "false", so the store (and the SPARQL validator) would see a valid value
    the record never held. Validation must see the record's own text."""
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "weird boolean": SHACL reports it by field
            yield
    finally:
        rdflib.NORMALIZE_LITERALS = previous


def _parse_json(text: str, source: str, kb: Graph | None = None) -> Graph:
    return _parse_document(parse_json_text(text, source), source, kb=kb)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice: json.loads would keep the last value
    and drop the first without a word (a second "treatments" list erasing the failed courses)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _RepeatedKey(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return obj


class RepeatedKeyObject(dict):  # type: ignore[type-arg]
    """A JSON object that gave `repeated_key` twice (parse_json_text(..., mark_repeats=True))."""

    repeated_key: str = ""


def _marking_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    try:
        return _unique_keys(pairs)
    except _RepeatedKey as exc:
        obj = RepeatedKeyObject(pairs)
        obj.repeated_key = exc.key
        return obj


def repeated_key_error(key: str, prefix: str = "") -> RecordLoadError:
    return RecordLoadError(f"{prefix}{key}: this key appears twice in one JSON object; give it once "
                           "(JSON readers keep only the last value, so the first would be lost)")


def repeated_key_in(value: Any) -> str | None:
    """The first key given twice in any object of `value` (as parsed with mark_repeats), or None.
    A loop, not recursion: json.loads reads nesting deeper than Python's recursion limit allows."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, RepeatedKeyObject):
            return node.repeated_key
        if isinstance(node, dict):
            pending.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            pending.extend(reversed(node))
    return None


def parse_json_text(text: str, source: str = "", mark_repeats: bool = False) -> Any:
    """json.loads with every failure as a RecordLoadError (naming `source`, if given).

    A key given twice in one object is refused; with `mark_repeats` the object is kept as a
    RepeatedKeyObject instead, so that a file of many records can reject just the one holding it."""
    prefix = f"{source}: " if source else ""
    try:
        return json.loads(text, object_pairs_hook=_marking_keys if mark_repeats else _unique_keys)
    except _RepeatedKey as exc:
        raise repeated_key_error(exc.key, prefix) from exc
    except json.JSONDecodeError as exc:
        raise RecordLoadError(f"{prefix}not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except RecursionError as exc:  # a cohort file or line of lists inside lists a thousand deep
        raise too_deep(source) from exc
    except ValueError as exc:  # Python refuses to read an integer of more than 4,300 digits
        raise RecordLoadError(f"{prefix}not a readable JSON record: a number in it has more than 4,300 "
                              "digits") from exc


# Graphs the plain path wrote (plain_json): their properties and classes come from its fixed
# field table and their text is checked there, so check_terms has nothing to find in them and
# is skipped (iterating an rdflib graph costs ~0.1 ms a record, which a cohort pays a million times).
_CHECKED: weakref.WeakSet[Graph] = weakref.WeakSet()
# Graphs read from a FHIR Bundle -> where their parts came from (load_record hands it on).
_FHIR: weakref.WeakKeyDictionary[Graph, FhirOrigin] = weakref.WeakKeyDictionary()


def node_form(document: Any) -> bool:
    """Whether a JSON document is JSON-LD in node form (flattened, or expanded as rdflib writes it):
    a list of node objects, or a @graph of them, with a node typed by a full ontology IRI (expanded
    form), or a treatment course, condition statement or measurement standing as an identified node
    of its own beside the patient. Such a document is read as RDF, as Turtle is. A list or @graph of
    records (each patient with its items nested, types in the context's short names) is not node
    form, nor is a stray item without an id among records (it is rejected as a record)."""
    nodes = document.get("@graph") if isinstance(document, dict) else document
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        return False
    for node in nodes:
        identified = node.get("@id", node.get("id")) is not None
        declared = node.get("@type", node.get("type"))
        for name in declared if isinstance(declared, list) else [declared]:
            if not isinstance(name, str):
                continue
            if name.startswith(str(AX)) or (identified and re.split(r"[#:/]", name)[-1] in _ITEM_TYPES):
                return True
    return False


_ITEM_TYPES = frozenset({"TreatmentCourse", "ConditionStatement", "Measurement"})


def node_form_graph(document: Any, source: str) -> Graph:
    """A node-form JSON-LD document (see node_form) as triples: the shipped context in front of its
    own, remote contexts refused; the terms are then checked as a Turtle record's are."""
    doc = copy.deepcopy({"@graph": document} if isinstance(document, list) else document)
    return _parse_jsonld(_with_shipped_context(doc), source, "not valid JSON-LD")


def _parse_document(document: Any, source: str, jsonld_only: bool = False, kb: Graph | None = None) -> Graph:
    """A JSON record as triples: written directly when the record is plain (see plain_json),
    else through the JSON-LD processor with the shipped context; a document in node form as RDF;
    a FHIR Bundle through the plain record it stands for (reasoner/fhir.py; its codes are looked up
    in `kb`)."""
    if is_fhir(document):
        if kb is None:
            raise RecordLoadError(f"{source}: a FHIR Bundle is read against the knowledge base: load it with "
                                  "reasoner.recommend, Reasoner.load or load_record")
        try:
            converted = bundle_to_record(document, code_index_cached(kb), fhir_drug_names_cached(kb))
        except RecordLoadError as exc:
            raise RecordLoadError(f"{source}: {exc}") from exc
        try:
            graph = _parse_document(converted.record, "", jsonld_only)
        except RecordLoadError as exc:  # named as the Bundle names it: "treatments[3].outcome" is entry[14]
            field, _, rest = str(exc).removeprefix(": ").partition(": ")
            raise RecordLoadError(f"{source}: {converted.origin.path(field)}: {rest}" if rest
                                  else f"{source}: {exc}") from exc
        _FHIR[graph] = converted.origin
        return graph
    if node_form(document):
        return node_form_graph(document, source)
    try:
        normalised = normalise_json(document)
    except RecordLoadError as exc:
        raise RecordLoadError(f"{source}: {exc}") from exc
    plain = None if jsonld_only else plain_record_graph(normalised)
    if plain is not None:
        _CHECKED.add(plain)
        return plain
    return _parse_jsonld(normalised, source, "not valid JSON-LD for an axspa-kg record")


def _parse_jsonld(doc: dict[str, Any], source: str, failure: str) -> Graph:
    graph = Graph()  # rdflib's JSON-LD parser needs a context-aware store (see reasoner/graphs.py)
    try:
        with _lexical_forms_kept():
            graph.parse(data=json.dumps(doc), format="json-ld")
    except Exception as exc:  # rdflib's JSON-LD errors have no common base class
        raise RecordLoadError(f"{source}: {failure}: {' '.join(str(exc).split())}") from exc
    # A node holding its own @graph puts those statements in a named graph of the store, out of the
    # record's sight: a condition stated there would be dropped and advice given without it.
    named = sorted(str(c.identifier) for c in graph.store.contexts() if c.identifier != graph.identifier and len(c))
    if named:
        raise RecordLoadError(f"{source}: a named graph ({named[0]!r}) holds statements of the record; a record "
                              "is one graph: give its statements at the top level, not under a node's @graph")
    return graph


def parse_rdf_text(text: str, fmt: str, source: str = "") -> Graph:
    """RDF text as a graph, literals as written (see _lexical_forms_kept), every failure a
    RecordLoadError (naming `source`, if given)."""
    graph = Graph() if fmt == "n3" else record_graph()  # rdflib's N3 parser needs a context-aware store
    if fmt == "xml" and "<!ENTITY" in text:
        # nested entities ("billion laughs") kept a 1.3 KB file busy for two and a half minutes
        # before expat gave up; a record has no use for them
        prefix = f"{source}: " if source else ""
        raise RecordLoadError(f"{prefix}RDF/XML with <!ENTITY declarations is not read (entities can expand "
                              "without bound); write the values out")
    try:
        with _lexical_forms_kept():
            # relative IRIs (<p1>) resolve under the record base, as a JSON record's ids do, not
            # against the current folder (file:///…/p1: a path of the user's machine in the advice)
            graph.parse(data=text, format=fmt, publicID=RECORD_BASE)
    except Exception as exc:  # parser exceptions differ per format
        prefix = f"{source}: " if source else ""
        detail = " ".join(str(exc).split())  # rdflib's parser messages run over several lines
        raise RecordLoadError(f"{prefix}not valid {fmt}: {detail}") from exc
    return graph


def read_graph(record: str | Path | dict[str, Any] | Graph, kb: Graph | None = None) -> tuple[Graph, str]:
    """Parse any accepted input into an rdflib Graph; return it with a name for messages (`kb`:
    the knowledge base, needed for a FHIR Bundle's codes)."""
    try:
        return _read_graph(record, kb)
    except RecursionError as exc:  # json, copy and the JSON-LD processor recurse per nesting level
        raise too_deep(str(record) if isinstance(record, str | Path) else "record") from exc


def too_deep(name: str) -> RecordLoadError:
    """The message for input nested past Python's recursion limit (`name`: where, if known)."""
    return RecordLoadError(f"{name + ': ' if name else ''}nested too deeply (objects or lists inside one another "
                           "hundreds of levels down); a record is a few levels deep")


def _read_graph(record: str | Path | dict[str, Any] | Graph, kb: Graph | None) -> tuple[Graph, str]:
    if isinstance(record, Graph):
        return record, "graph"
    if isinstance(record, dict):
        return _parse_document(record, "record", kb=kb), "record"
    if not isinstance(record, str | Path):
        raise RecordLoadError(
            f"a record must be a file path, a JSON object (dict) or an rdflib Graph, not {type(record).__name__}"
        )
    path = Path(record)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError as exc:  # e.g. a JSON text handed over as a path: "file name too long"
        raise RecordLoadError(f"cannot use {str(record)[:60]!r} as a record path: {exc.strerror}") from exc
    if is_dir:
        raise RecordLoadError(f"{path}: is a folder; give one record file (`axspa cohort` reads folders)")
    if not is_file:
        raise RecordLoadError(not_a_regular_file(path) if path.exists() else f"{path}: no such file")
    fmt = SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        name = path.name.lower().removesuffix(".gz")
        bulk = (" (an .ndjson file is part of a FHIR Bulk Data export: read it with axspa cohort)"
                if name.endswith(".ndjson") else " (a .jsonl file holds many records: read it with axspa cohort)"
                if name.endswith(".jsonl") else "")
        raise RecordLoadError(f"{path}: unknown file type {path.suffix!r}; use {', '.join(SUFFIX_FORMATS)}{bulk}")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark, as some editors write, is no content
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordLoadError(f"{path}: cannot read: {exc}") from exc
    if fmt == "json-ld":
        return _parse_json(text, str(path), kb), str(path)
    return parse_rdf_text(text, fmt, str(path)), str(path)


def drug_index(kb: Graph) -> dict[str, URIRef]:
    """Lower-cased names and codes -> drug IRI: label, alternative labels, local name, brands, RxNorm."""
    drugs = {s for s in kb.subjects(AX.referenceDrugClass, None)} | set(kb.subjects(RDF.type, AX.Biosimilar))
    drugs |= {s for s in kb.subjects(RDF.type, None) if str(s).startswith(str(DRUG))}
    index: dict[str, URIRef] = {}
    for drug in drugs:
        if not isinstance(drug, URIRef):
            continue
        keys = {str(drug), "drug:" + drug.removeprefix(str(DRUG)), drug.removeprefix(str(DRUG))}
        keys.add(drug.removeprefix(str(DRUG)).replace("_", " "))
        for prop in (RDFS.label, SKOS.altLabel, AX.brandName):
            keys.update(str(v) for v in kb.objects(drug, prop))
        for match in kb.objects(drug, SKOS.exactMatch):
            if str(match).startswith(RXNORM):
                keys.add(str(match).removeprefix(RXNORM))
        for key in keys:
            index.setdefault(key.strip().lower(), drug)
    return index


def resolve_drugs(graph: Graph, index: dict[str, URIRef]) -> None:
    """Add ax:drug for every course whose ax:drugName resolves; leave the name where it does not."""
    for course, name in list(graph.subject_objects(AX.drugName)):
        drug = index.get(str(name).strip().lower())
        if drug is not None:
            graph.add((course, AX.drug, drug))


def find_patient(graph: Graph, source: str) -> URIRef:
    patients = [p for p in set(graph.subjects(RDF.type, AX.Patient))]
    if not patients:
        raise RecordLoadError(f"{source}: no patient found (nothing is typed ax:Patient)")
    if len(patients) > 1:
        raise RecordLoadError(f"{source}: {len(patients)} patients found; give one record per file "
                              "(use `axspa cohort` for many)")
    patient = patients[0]
    if not isinstance(patient, URIRef):
        raise RecordLoadError(f"{source}: the patient must be identified by an IRI, not a blank node")
    return patient


def load_record(record: str | Path | dict[str, Any] | Graph, kb: Graph) -> PatientRecord:
    """Parse, resolve drug names against `kb`, and find the single patient of a record."""
    graph, source = read_graph(record, kb)
    graph = _copy(graph) if isinstance(record, Graph) else graph  # never change a caller's graph
    if graph not in _CHECKED:
        check_terms(graph, kb, source)
    resolve_drugs(graph, drug_index_cached(kb))
    return PatientRecord(graph, find_patient(graph, source), source, _FHIR.get(graph))


# RDFS statements about classes and properties: schema, not facts about a patient
_SCHEMA_PREDICATES = frozenset({RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range})
# the OWL types a record written in Protégé or by an OWL tool carries harmlessly
_OWL_TYPES_READ = frozenset({OWL.NamedIndividual, OWL.Thing})
# rdf:, rdfs:, owl: and xsd:, to name a refused schema statement as its author wrote it
_CORE_PREFIXES = NamespaceManager(Graph(), bind_namespaces="core")


def check_terms(graph: Graph, kb: Graph, source: str) -> None:
    """Refuse a record that uses a property or class of the axspa-kg namespace the ontology does
    not declare (a misspelt field such as "condtions", or ax:hasTreatmentcourse in Turtle): the
    facts under it would reach no rule, and advice would be given as if they were absent (an IBD
    history lost this way turned contraindicated drugs into recommended ones). Also refuse text
    that is not Unicode (a lone surrogate such as \\ud800), which no store can hold, and OWL or RDFS
    schema statements (owl:sameAs, rdfs:subClassOf ...), which only the exact reasoner would read."""
    properties, classes = declared_terms_cached(kb)
    namespace = str(AX)
    triples = list(graph)
    try:
        "".join(term for triple in triples for term in triple).encode("utf-8")  # one C call: the fast case
    except UnicodeEncodeError:
        for subject, predicate, obj in triples:
            for term in (subject, predicate, obj):
                try:
                    term.encode("utf-8")
                except UnicodeEncodeError as exc:
                    shown = term.encode("utf-8", "backslashreplace").decode()[:80]
                    # where it is, as a JSON record would name it when it can (session-33 docs probe F1:
                    # the message quoted the value and named no field)
                    where = (f"{_value_path(subject, predicate)}: {shown!r}" if term is obj
                             else f"the id {shown!r}" if term is subject else f"the property {shown!r}")
                    raise RecordLoadError(f"{source}: {where} is not valid Unicode text (a lone surrogate)") from exc
    for term in {term for triple in triples for term in triple if not isinstance(term, rdflib.BNode)}:
        if isinstance(term, rdflib.Literal):
            problem = literal_problem(term.datatype, term.language)
            if problem:
                raise RecordLoadError(f"{source}: the value {str(term)[:40]!r} has {problem}")
            continue
        problem = iri_problem(str(term))
        if problem:
            raise RecordLoadError(f"{source}: {short_node(term)!r} is not a valid IRI ({problem}); check the id "
                                  "fields: no [ or ], % only before two hex digits, # at most once")
    unknown: list[tuple[bool, str, str, str]] = []  # (on a node without an IRI, field, where, why)
    domains, _ = field_domains_cached(kb)
    for subject, predicate, obj in triples:
        if isinstance(subject, URIRef) and subject.startswith(_PROJECT) and not subject.startswith(RECORD_BASE):
            # a record speaks of its patient: "rec:AS-06 ax:actionMember drug:prednisone" in a Turtle
            # record put prednisone among AS-06's recommendations
            raise RecordLoadError(f"{source}: a statement about {short_node(subject)!r}, which belongs to the "
                                  "knowledge base, not to a patient record; a record may only describe its "
                                  "patient, courses, conditions and measurements")
        if predicate.startswith(str(OWL)) or predicate in _SCHEMA_PREDICATES or (
                predicate == RDF.type and obj.startswith(str(OWL)) and obj not in _OWL_TYPES_READ):
            # OWL and RDFS schema statements change what the exact reasoner (HermiT, --exact) infers,
            # while the compiled classification ignores them, so the two gave different advice
            # (session-34 fuzz F4: owl:sameAs between two courses). A record states facts only.
            shown = (f"rdf:type {obj.n3(_CORE_PREFIXES)}" if predicate == RDF.type  # type: ignore[union-attr]
                     else predicate.n3(_CORE_PREFIXES))
            raise RecordLoadError(f"{source}: {shown} on {short_node(subject)!r}: a patient record states facts "
                                  "about the patient, not OWL or RDFS schema statements, which would change what "
                                  "the exact reasoner infers; remove it")
        if predicate == RDF.type:
            if isinstance(obj, URIRef) and obj.startswith(namespace) and obj not in classes:
                raise RecordLoadError(f"{source}: type {obj.removeprefix(namespace)!r} of {short_node(subject)} "
                                      "is not a class of the ontology. Check the spelling.")
            if isinstance(obj, URIRef) and obj.startswith(namespace) and obj not in _RECORD_CLASSES:
                # "type": ["Patient", "ActiveASDespiteNSAIDs"] got AS-06 for a patient never given an NSAID
                raise RecordLoadError(f"{source}: type {obj.removeprefix(namespace)!r} of {short_node(subject)} "
                                      "is for the reasoner to work out from the record, not for the record to state; "
                                      "a record types its nodes Patient, TreatmentCourse, ConditionStatement or "
                                      "Measurement only")
        elif predicate in properties and predicate.startswith(namespace) and not (
                domains.get(predicate, frozenset()) & _RECORD_CLASSES):
            # declared, but written by the reasoner (ax:forPatient, ax:adviceKind ...) or the knowledge
            # base: a record holding one could fake advice or a rule's conclusion
            raise RecordLoadError(f"{source}: ax:{predicate.removeprefix(namespace)} on {short_node(subject)!r} is "
                                  "written by the reasoner or the knowledge base, not a field of a patient "
                                  "record; remove it (see the README for the record's fields)")
        elif predicate not in properties and predicate.startswith(namespace):
            name = predicate.removeprefix(namespace)
            unknown.append((isinstance(subject, rdflib.BNode), name, _place(subject),
                            f"ax:{name} is not in the ontology"))
        elif str(predicate) == str(DRUG) and (subject, RDF.type, AX.Patient) in graph:
            # in the shipped context "drug" at the top of a record is the prefix of drug IRIs, so
            # {"drug": "etanercept"} there became a property no rule reads
            raise RecordLoadError(f"{source}: drug: a field of a treatment course, not of the patient "
                                  f"{short_node(subject)!r}; there it would be ignored. Move it into one of the "
                                  "treatments.")
        elif predicate.startswith(_PROJECT) and not predicate.startswith(namespace) and predicate not in properties:
            # any other drug, record or recommendation IRI used as a property
            unknown.append((isinstance(subject, rdflib.BNode), predicate.rstrip("/#").rsplit("/", 1)[-1],
                            _place(subject), f"at this level it means <{predicate}>, which is no property"))
    if unknown:  # the misspelt key itself first: fields under it (on a node without an IRI) follow from it
        _, name, where, why = min(unknown)
        # named, not only counted (session-19 probe p39: "5 other unknown fields too" left the user
        # to guess them; most are the fields of the objects under the misspelt key)
        others = sorted({u[1] for u in unknown} - {name})
        listed = ", ".join(others[:8]) + (", ..." if len(others) > 8 else "")
        if not others:
            also = ""
        elif all(u[0] for u in unknown if u[1] != name):  # all on objects without an id
            # they are fields of the objects under the misspelt key, right or wrong in themselves
            # (session-30 probe F11: "unknown" for drug, start and status read as a second error)
            also = f" The objects under it (without an id) are not read either; the fields they hold: {listed}."
        else:
            also = f" Other unknown field{'s' if len(others) > 1 else ''}: {listed}."
        raise RecordLoadError(f"{source}: {name}: not a field of the record format ({why}) "
                              f"in {where}; what it holds would be ignored. Check the spelling, "
                              "and that the field is in the right object (a course's drug goes in one of the "
                              "treatments)."
                              + also)
    check_placement(graph, kb, source)


# The nested parts of a record and the patient field that must link each one.
RECORD_PARTS = {AX.TreatmentCourse: ("treatments", AX.hasTreatmentCourse),
                AX.ConditionStatement: ("conditions", AX.hasConditionStatement),
                AX.Measurement: ("measurements", AX.hasMeasurement)}


def check_placement(graph: Graph, kb: Graph, source: str) -> None:
    """Refuse a known field on the wrong kind of node (a course's "drug" and "outcome" written on the
    patient) and a course, condition statement or measurement no patient links to: no rule reads
    either, so the record would be advised as if the course were not there."""
    domains, supers = field_domains_cached(kb)
    types: dict[object, set[URIRef]] = {}
    for node, kind in graph.subject_objects(RDF.type):
        if isinstance(kind, URIRef) and kind in supers:
            types.setdefault(node, set()).update(supers[kind])
    misplaced = sorted((str(predicate), str(subject)) for subject, predicate, _ in graph
                       if (allowed := domains.get(predicate)) and (held := types.get(subject))  # type: ignore[arg-type]
                       and not allowed & held)
    if misplaced:
        predicate, subject = URIRef(misplaced[0][0]), URIRef(misplaced[0][1])
        name = predicate.removeprefix(str(AX))
        owner = ", ".join(sorted(_class_name(c) for c in domains[predicate]))
        where = ", ".join(sorted(_class_name(c) for c in types[subject] if c in _RECORD_CLASSES)) or "node"
        raise RecordLoadError(f"{source}: {name}: a field of a {owner}, not of the {where} {short_node(subject)!r}; "
                              "there it would be ignored. Move it into the right object (a course's drug "
                              "and outcome go in one of the treatments, say).")
    if (None, RDF.type, AX.Patient) in graph:  # with no patient at all, find_patient says so
        unlinked = unlinked_part(graph)
        if unlinked:
            raise RecordLoadError(f"{source}: {unlinked}")


def unlinked_part(graph: Graph) -> str | None:
    """Why a course, condition statement or measurement of `graph` would be ignored (no patient
    links to it), or None. A link from a node that is no patient (a patient IRI mistyped on one
    line of a Turtle file) counts as none: the rules only follow links from patients."""
    for kind, (key, link) in RECORD_PARTS.items():
        for node in sorted(graph.subjects(RDF.type, kind), key=str):
            owners = list(graph.subjects(link, node))
            if not any((owner, RDF.type, AX.Patient) in graph for owner in owners):
                stray = (f"; only {short_node(min(owners, key=str))!r}, which is not a patient of the record, "
                         "links to it (a mistyped patient IRI?)") if owners else ""
                return (f"{short_node(node)!r} is a {_class_name(kind)} that no patient links to "
                        f"(ax:{link.removeprefix(str(AX))}, the {key} list){stray}; it would be ignored")
    # Any other node that is no patient and no part of one (a record given without its type, say)
    # would be left out of every patient's graph just as silently.
    patients = set(graph.subjects(RDF.type, AX.Patient))
    covered = patients | {part for patient in patients for _, link in RECORD_PARTS.values()
                          for part in graph.objects(patient, link)}
    loose = min(set(graph.subjects()) - covered, key=str, default=None)
    if loose is not None:
        return (f"{short_node(loose)!r} is no patient (nothing types it ax:Patient) and no patient links to it; "
                "what is said of it would be ignored")
    return None


_PROJECT = "https://w3id.org/axspa-kg/"  # every IRI the project mints starts here

_RECORD_CLASSES = {AX.Patient, AX.TreatmentCourse, AX.ConditionStatement, AX.Measurement}


def _class_name(cls: URIRef) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", " ", cls.removeprefix(str(AX))).lower()


def field_domains(kb: Graph) -> tuple[dict[URIRef, frozenset[URIRef]], dict[URIRef, frozenset[URIRef]]]:
    """The declared domain of each axspa-kg property, and each record class with its superclasses
    (only the record's own classes are checked: Patient, TreatmentCourse, ConditionStatement,
    Measurement and their subclasses)."""
    domains: dict[URIRef, set[URIRef]] = {}
    for prop, domain in kb.subject_objects(RDFS.domain):
        if isinstance(prop, URIRef) and isinstance(domain, URIRef) and prop.startswith(str(AX)):
            domains.setdefault(prop, set()).add(domain)
    supers: dict[URIRef, frozenset[URIRef]] = {}
    for cls in _RECORD_CLASSES:
        for sub in kb.transitive_subjects(RDFS.subClassOf, cls):
            if isinstance(sub, URIRef):
                supers[sub] = frozenset(c for c in kb.transitive_objects(sub, RDFS.subClassOf) if isinstance(c, URIRef))
    return {p: frozenset(d) for p, d in domains.items()}, supers


@lru_cache(maxsize=8192)
def iri_problem(iri: str) -> str | None:
    """Why no store could hold `iri` (Oxigraph's RFC 3987 parser: a '[' outside the host, '%zz',
    a second '#' ...), or None. rdflib accepts such IRIs, so without this check a record would pass
    loading and validation setup, then fail in the store with a traceback (and end a cohort run)."""
    try:
        pyoxigraph.NamedNode(iri)
    except ValueError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=1024)
def literal_problem(datatype: str | None, language: str | None) -> str | None:
    """What in a literal's datatype IRI or language tag no store could hold, or None."""
    problem = iri_problem(str(datatype)) if datatype is not None else None
    if problem:
        return f"a datatype that is not a valid IRI ({problem})"
    if language is not None:
        try:
            pyoxigraph.Literal("", language=language)
        except ValueError as exc:
            return f"a language tag that is not valid ({exc})"
    return None


@lru_cache(maxsize=1)
def field_names() -> dict[str, str]:
    """Property IRI -> JSON field, read from the shipped JSON-LD context (one source of truth): "age",
    "treatments.detail", "conditions.note" (a nested item's field after its list's name)."""
    names: dict[str, str] = {}

    def walk(ctx: dict[str, Any], prefix: str) -> None:
        for term, definition in ctx.items():
            if term.startswith("@") or not isinstance(definition, dict) or "@id" not in definition:
                continue
            iri = definition["@id"].replace("ax:", str(AX))
            names.setdefault(iri, prefix + term)
            if isinstance(definition.get("@context"), dict):
                walk(definition["@context"], term + ".")

    walk(record_context(), "")
    return names


def _value_path(subject: object, predicate: object) -> str:
    """Where a value is, as a JSON record writes it (`treatments[1].detail`, `age`) when the
    property is that field of the item it is on; else the property and the node it is on (a
    term an inline context maps to rdfs:comment on a course is no `note`: that is a field of
    the conditions; session-33 review F5)."""
    text, place = str(predicate), nested_place(subject)
    part, _, leaf = field_names().get(text, "").rpartition(".")
    if leaf and place and place.split("[", 1)[0] == part:
        return f"{place}.{leaf}"
    if leaf and not part and _is_top_level(subject):
        return leaf
    name = f"ax:{text.removeprefix(str(AX))}" if text.startswith(str(AX)) else f"<{text}>"
    return f"the value of {name} on {_place(subject)}"


def not_a_regular_file(path: Path, folders: bool = False) -> str:
    """Standard input, a pipe or a device named as a record (or, with `folders`, as a cohort's
    input): records are read from files only."""
    if folders:
        return (f"{path}: not a file or a folder (standard input, a pipe or a device?); records are read from "
                "files, which may be gzipped: save the records to a .jsonl file and name it")
    return f"{path}: not a file (standard input, a pipe or a device?); save the record to a file and name it"


def short_node(node: object) -> str:
    """A node as messages name it when the record gave it an IRI: the IRI without the base the
    loader mints JSON records under."""
    return "a node without an IRI" if isinstance(node, rdflib.BNode) else str(node).removeprefix(RECORD_BASE)


_NESTED_ID = re.compile(r"/(condition|measurement|treatment)/(\d+)$")


def nested_place(node: object) -> str | None:
    """`treatments[3]` for the third course's node (the IRI the loader mints, .../treatment/3), and
    so for conditions and measurements: how messages name a place in the JSON record. None for any
    other node."""
    match = _NESTED_ID.search(str(node))
    return f"{match.group(1)}s[{match.group(2)}]" if match else None


def _place(node: object) -> str:
    """A node as a message names it: its place in the JSON record, else the record's top level
    (the patient node), else its IRI shortened."""
    place = nested_place(node)
    if place:
        return place
    if _is_top_level(node):
        return f"the record {node.removeprefix(RECORD_BASE)!r} (its top level)"  # type: ignore[attr-defined]
    return short_node(node)


def _is_top_level(node: object) -> bool:
    """The patient node of a JSON record (the IRI the loader mints from its id, one path segment)."""
    return isinstance(node, URIRef) and node.startswith(RECORD_BASE) and "/" not in node.removeprefix(RECORD_BASE)


def declared_terms(kb: Graph) -> tuple[frozenset[URIRef], frozenset[URIRef]]:
    """The axspa-kg properties and classes the knowledge base declares."""
    properties = {s for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property)
                  for s in kb.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    classes = {s for kind in (OWL.Class, RDFS.Class) for s in kb.subjects(RDF.type, kind) if isinstance(s, URIRef)}
    return frozenset(properties), frozenset(classes)


def _copy(graph: Graph) -> Graph:
    out = record_graph()
    bind_all(out)
    for triple in graph:
        out.add(triple)
    return out


# Weak keys: an entry goes when its knowledge-base graph does (an id() could be reused).
_PER_KB: weakref.WeakKeyDictionary[Graph, dict[Callable[[Graph], Any], Any]] = weakref.WeakKeyDictionary()


def _per_kb(build: Callable[[Graph], T], kb: Graph) -> T:
    """`build(kb)`, computed once per knowledge-base graph."""
    found = _PER_KB.setdefault(kb, {})
    if build not in found:
        found[build] = build(kb)
    return found[build]  # type: ignore[no-any-return]


def drug_index_cached(kb: Graph) -> dict[str, URIRef]:
    return _per_kb(drug_index, kb)


def code_index_cached(kb: Graph) -> CodeIndex:
    return _per_kb(code_index, kb)


def _fhir_drug_names(kb: Graph) -> DrugNames:
    return DrugNames.build(kb, drug_index_cached(kb))


def fhir_drug_names_cached(kb: Graph) -> DrugNames:
    return _per_kb(_fhir_drug_names, kb)


def declared_terms_cached(kb: Graph) -> tuple[frozenset[URIRef], frozenset[URIRef]]:
    return _per_kb(declared_terms, kb)


def field_domains_cached(kb: Graph) -> tuple[dict[URIRef, frozenset[URIRef]], dict[URIRef, frozenset[URIRef]]]:
    return _per_kb(field_domains, kb)
