"""Cohorts: many records in, one line of advice per patient out, rejects reported, never dropped.

Records are read from files or folders (JSON Lines, a JSON record or array of records, or Turtle /
N-Triples / JSON-LD holding any number of patients) and taken in batches. Each batch is validated
with one pass of the compiled shapes (an invalid patient goes to the rejects file with its
messages, and never reaches the store); classification and every rule then run once over all the
batch's valid patients: one query per rule, not one per patient. Batches bound memory; `--batch`
trades memory for fewer, larger queries.
"""

from __future__ import annotations

import gc
import gzip
import json
import multiprocessing
import os
import re
import signal
import sys
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .errors import AxspaError, RecordLoadError, json_kind
from .fhir import bundle_patient_id, is_fhir, patient_without_id
from .fhir_bulk import bulk_bundles
from .fhir_manifest import READ_ERRORS, looks_like_manifest, read_manifest
from .graphs import record_graph
from .namespaces import AX, bind_all
from .pipeline import CLOSED, EXIT_TIMEOUT, Reasoner
from .record import (
    RECORD_PARTS,
    SUFFIX_FORMATS,
    PatientRecord,
    RepeatedKeyObject,
    field_names,
    load_record,
    node_form,
    node_form_graph,
    not_a_regular_file,
    parse_json_text,
    parse_rdf_text,
    patient_iri,
    repeated_key_error,
    repeated_key_in,
    unlinked_part,
)
from .remote import RemoteStore, RemoteStoreError, RemoteStoreRefused, copy_graph
from .report import build_result
from .store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH, OxigraphStore
from .today import run_date
from .validate import ValidationReport

RDF_FORMATS = {suffix: fmt for suffix, fmt in SUFFIX_FORMATS.items() if suffix != ".json"}  # .json: JSON records
RECORD_SUFFIXES = {".json", ".jsonl", ".ndjson", *RDF_FORMATS}
JSON_SUFFIXES = {".json", ".jsonld"}  # read as JSON records (records_in), never by rdflib's JSON-LD parser
PATIENT_LINKS = tuple(link for _, link in RECORD_PARTS.values())  # the patient's links to its parts


@dataclass
class Reject:
    source: str
    patient: str | None
    messages: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "patient": self.patient, "validation": self.messages}


@dataclass
class Summary:
    read: int = 0
    valid: int = 0
    rejected: int = 0
    with_advice: int = 0
    seconds: float = 0.0
    rejects: list[Reject] = field(default_factory=list)
    # rejects that are no patient: lines of a Bulk Data export, manifests (in `rejects`, not in `rejected`)
    lines_rejected: int = 0

    def text(self) -> str:
        lines = f", other rejects (export lines, manifests) {self.lines_rejected}" if self.lines_rejected else ""
        return (f"patients read {self.read}, valid {self.valid}, rejected {self.rejected}, "
                f"with advice {self.with_advice}{lines}, {self.seconds:.1f} s")


def below(folder: Path) -> list[Path]:
    """Everything below a folder but the folders themselves (links to folders are not followed).
    A folder that cannot be read is an error naming it: Path.rglob passed over one without a word,
    and its patients were neither read nor rejected (session-35 failure probe F7)."""
    def refuse(error: OSError) -> None:
        raise RecordLoadError(f"{error.filename}: cannot read this folder ({error.strerror}); its records "
                              "would be left out. Make it readable, or name the other inputs one by one")
    found = []
    for root, _, names in os.walk(folder, onerror=refuse):
        found.extend(Path(root) / name for name in names)
    return found


Listing = dict[Path, list[Path]]  # folder -> what `below` found in it, walked once a run


def _below(folder: Path, listing: Listing | None) -> list[Path]:
    if listing is None:
        return below(folder)
    if folder not in listing:
        listing[folder] = below(folder)
    return listing[folder]


def input_files(inputs: Iterable[Path], listing: Listing | None = None) -> Iterator[Path]:
    """Every record file named, or found below a named folder (sorted, so runs are repeatable).
    `listing` keeps each folder's walk for the next caller (the command walks a folder once, where
    it walked it three times: a first check, the records, the files passed over)."""
    for path in inputs:
        if path.is_dir():
            yield from sorted(p for p in _below(path, listing) if p.is_file() and format_suffix(p) in RECORD_SUFFIXES)
        elif path.is_file():
            yield path
        elif path.exists():
            raise RecordLoadError(not_a_regular_file(path, folders=True))
        else:
            raise RecordLoadError(f"{path}: no such file or folder")


def skipped_files(inputs: Iterable[Path], listing: Listing | None = None) -> list[Path]:
    """What input_files passes over in the named folders: files whose suffix is no record format
    (notes, backups), and links to nothing. The command lists them, so none goes unmentioned."""
    return sorted(p for path in inputs if path.is_dir() for p in _below(path, listing)
                  if not p.is_dir() and not (p.is_file() and format_suffix(p) in RECORD_SUFFIXES))


def split_patients(graph: Graph) -> Iterator[Graph]:
    """One graph per ax:Patient: its own triples and those of its statements, courses, measurements."""
    for patient in sorted(set(graph.subjects(RDF.type, AX.Patient)), key=str):
        part = record_graph()
        for triple in graph.triples((patient, None, None)):
            part.add(triple)
        for link in PATIENT_LINKS:
            for node in graph.objects(patient, link):
                for triple in graph.triples((node, None, None)):
                    part.add(triple)
        yield part


def format_suffix(path: Path) -> str:
    """The format suffix, lower-case, looking through a trailing .gz (cohort.jsonl.gz -> .jsonl)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[0] if len(suffixes) == 2 else ""
    return suffixes[-1] if suffixes else ""


def _open_bytes(path: Path) -> IO[bytes]:
    """A record file for reading, through gzip when its name ends in .gz."""
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def _json_lines(path: Path, each: str = "a record") -> Iterator[tuple[str, object]]:
    """One record a line; a line that is not UTF-8, not JSON or not an object is rejected by its
    line number and the rest of the file is read."""
    number = 0
    with _open_bytes(path) as handle:
        for chunk in handle:  # ends at \n; splitlines also ends lines at a lone \r, as text mode does
            for raw in chunk.splitlines():
                number += 1
                source = f"{path}:{number}"
                try:
                    # (a byte-order mark starts no record: files joined by a Windows tool hold one inside)
                    line = raw.decode("utf-8").removeprefix("\ufeff")
                except UnicodeDecodeError as exc:
                    yield source, RecordLoadError(f"not UTF-8 text ({exc.reason} at byte {exc.start})")
                    continue
                if not line.strip():
                    continue
                try:
                    item = parse_json_text(line)
                except RecordLoadError as exc:
                    yield source, exc
                    continue
                if isinstance(item, dict):
                    yield source, item
                else:
                    yield source, RecordLoadError(f"each line must be one JSON object ({each}){_array_hint(item)}")


def _array_hint(item: object) -> str:
    """For a line holding an array, what it holds and the ids found, so that a user who joined
    records into one array can tell which ones were not read (session-32 probe F9)."""
    if not isinstance(item, list):
        return ""
    ids = [str(x["id"]) for x in item if isinstance(x, dict) and isinstance(x.get("id"), str | int)]
    named = f", ids {', '.join(ids)}" if ids else ""
    return f"; this line holds an array of {len(item)}{named}: give each its own line"


def records_in(path: Path) -> Iterator[tuple[str, object]]:
    """(source label, record) pairs: dicts for JSON, graphs for RDF; a load problem yields the error
    (and the rest is read): a file no record can be read from is itself reported, never skipped.
    Files may be gzipped (.jsonl.gz, .ttl.gz ...)."""
    found = False
    for item in _records_in(path):
        found = True
        yield item
    if not found:
        nothing = ("no patient found (nothing is typed ax:Patient)"
                   if format_suffix(path) in RDF_FORMATS.keys() - JSON_SUFFIXES else "no record in this file")
        yield str(path), RecordLoadError(nothing)


def _records_in(path: Path) -> Iterator[tuple[str, object]]:
    suffix = format_suffix(path)
    if suffix == ".jsonl":
        try:
            yield from _json_lines(path)
        except READ_ERRORS as exc:  # unreadable, or a damaged .gz
            yield str(path), RecordLoadError(f"cannot read: {exc}")
        return
    if suffix == ".ndjson":  # a file of a Bulk Data export, read alone (_all_records reads an export's together)
        yield from _export_records([path], [])
        return
    if suffix not in RECORD_SUFFIXES:
        yield str(path), RecordLoadError(f"unknown file type {suffix or path.name!r}; use .jsonl, .ndjson, "
                                         f"{', '.join(SUFFIX_FORMATS)} (optionally gzipped: .gz)")
        return
    try:
        with _open_bytes(path) as handle:
            text = handle.read().decode("utf-8-sig")
    except (*READ_ERRORS, UnicodeDecodeError) as exc:
        yield str(path), RecordLoadError(f"cannot read: {exc}")
        return
    if suffix in JSON_SUFFIXES:  # JSON-LD as recommend reads it: no network, plain records
        try:
            data = parse_json_text(text, mark_repeats=True)  # a repeated key rejects its record only
        except RecordLoadError as exc:
            yield str(path), exc
            return
        if isinstance(data, RepeatedKeyObject):  # in the document's own keys: no record can be trusted
            yield str(path), repeated_key_error(data.repeated_key)
            return
        if node_form(data):  # flattened or expanded JSON-LD: read as RDF, as Turtle is
            if (repeated := repeated_key_in(data)) is not None:  # one patient's nodes: the file is refused
                yield str(path), repeated_key_error(repeated)
                return
            try:
                graph = node_form_graph(data, str(path))
            except RecordLoadError as exc:
                yield str(path), exc
                return
            yield from _patients_of(path, graph)
            return
        if isinstance(data, dict) and isinstance(data.get("@graph"), list):  # records under one context
            context = data.get("@context")
            if (repeated := repeated_key_in(context)) is not None:
                yield str(path), repeated_key_error(repeated, "@context: ")
                return
            items = [_in_context(node, context) for node in data["@graph"]]
            label = "@graph "
        else:
            items, label = (data if isinstance(data, list) else [data]), ""
        for index, item in enumerate(items, start=1):
            source = f"{path}[{label}{index}]" if isinstance(data, list) or label else str(path)
            repeated = repeated_key_in(item)
            yield source, (repeated_key_error(repeated) if repeated is not None else item if isinstance(item, dict)
                           else RecordLoadError(f"each record must be a JSON object, not {json_kind(item)}"))
        return
    try:
        graph = parse_rdf_text(text, RDF_FORMATS[suffix])
    except RecordLoadError as exc:
        yield str(path), exc
        return
    yield from _patients_of(path, graph)


def _patients_of(path: Path, graph: Graph) -> Iterator[tuple[str, object]]:
    """The patients of an RDF document, one graph each, and what none of them links to as a reject."""
    unlinked = unlinked_part(graph) if (None, RDF.type, AX.Patient) in graph else None
    if unlinked:  # split_patients keeps only what a patient links to: report the rest, never drop it
        yield str(path), RecordLoadError(unlinked)
    for part in split_patients(graph):
        yield str(path), part


def _in_context(node: object, context: object) -> object:
    """A record of a `@graph` with the document's context in front of its own: each is then read
    as a single record is (its defaults, its checks)."""
    if not isinstance(node, dict) or context is None:
        return node
    own = node.get("@context")
    contexts = (context if isinstance(context, list) else [context]) + (
        [] if own is None else own if isinstance(own, list) else [own])
    return {**node, "@context": contexts}


DEFAULT_BATCH = 1000
# rdflib's SPARQL engine puts every pattern with one unbound variable first, so `?course a
# ax:TreatmentCourse` enumerated every course of the batch for each patient and a rule over two
# courses was cubic in the batch; batches of 5 were its best (~0.25 s a patient). With the greedy
# order of reasoner/bgp_order.py a patient costs ~0.1 s and larger batches pay: 400 patients took
# 41 s in batches of 50 and 47 s in batches of 200 (100 patients: 14.5 s in batches of 5, 11.7 s of
# 100, start-up included). Since joins are lazy there too (tenth session), 1,000 patients take
# 88 s in batches of 50 and 87 s in batches of 250, in 492 MB against 779 MB: 50 stays.
RDFLIB_BATCH = 50
WORKERS_NEED_EMBEDDED = (
    "--workers above 1 needs the embedded Oxigraph store (memory, or oxigraph:PATH, whose rules run in memory) "
    "and the shipped knowledge base: each worker opens its own store, and workers sharing an endpoint would mix "
    "their patients")
DUPLICATE = "id: this patient IRI was already read from another record; ids must be unique"
NO_ID = ("id: a record in a cohort needs an id of its own; without one it would be named 'patient', "
         "like every other record without one")


@dataclass
class Entry:
    """What one record of a batch came to: advice text for the output, or the reasons it was rejected."""

    source: str
    patient: str | None
    rejected: list[dict[str, Any]] | None = None
    text: str = ""
    advised: bool = False
    # The record's patient and its courses, condition statements and measurements, checked against
    # the records of earlier batches (CohortRunner._clashes).
    nodes: tuple[str, ...] = ()
    # The patient a record that could not be read names by its id: said in the rejects only (the
    # record takes no part in the duplicate checks, which compare records read).
    named: str | None = None
    # A line (or file) of a Bulk Data export that is no patient (a copy, a server note ...): the
    # summary counts it apart from the patients read.
    line: bool = False


def _load_error(source: str, message: str, record: object = None) -> Entry:
    """A record that could not be read (or the error reading it), with its patient where its id
    names one (an export's errors about one patient carry its id: fhir_bulk.about)."""
    named, line = None, False
    if isinstance(record, Exception):
        named, line = patient_iri(getattr(record, "patient_id", None)), getattr(record, "line", False)
    elif isinstance(record, dict):
        named = patient_iri(bundle_patient_id(record) if is_fhir(record) else record.get("id", record.get("@id")))
    # a message that opens with the field it is about ("treatments[1].detail: ...") names it as the
    # path too, as a validation result does (session-33 docs probe F1: every load error's path was
    # "record"); any other load error is about the record as a whole
    field = _FIELD_PREFIX.match(message)
    # (a misspelt key is the field at fault too: "condtions: not a field of the record format"; so is
    # a course's field written at the record's top level: "drug: a field of a treatment course, not
    # of the patient 'p1'")
    rest = message[field.end():] if field else ""
    known = field and (field.group(2) in {"id", *field_names().values()}
                       or rest.startswith("not a field of the record format")
                       or _ON_THE_PATIENT.match(rest) is not None)
    path = field.group(1) if known else "record"  # type: ignore[union-attr]
    return Entry(source, None, [{"severity": "violation", "path": path, "value": None, "message": message}],
                 named=named, line=line)


_ON_THE_PATIENT = re.compile(r"a field of an? [^,]+, not of the [Pp]atient ")
_FIELD_PREFIX = re.compile(r"^(([A-Za-z_][\w-]*)(?:\[\d+\])?(?:\.[A-Za-z_][\w-]*(?:\[\d+\])?)*): ")


def _duplicate(source: str, patient: str) -> Entry:
    return Entry(source, patient, [{"severity": "violation", "path": "id", "value": patient, "message": DUPLICATE}])


@dataclass
class BatchResult:
    """A batch's entries (one per record, in input order) and, when asked for, its valid patients'
    records and derived statements as N-Triples, for a sink store that keeps the whole cohort."""

    entries: list[Entry]
    patients: bytes = b""
    derived: bytes = b""


def advise_batch(reasoner: Reasoner, items: list[tuple[str, object]], fmt: str = "jsonl",
                 keep: bool = False, today: date | None = None) -> BatchResult:
    """Load, validate (one pass) and advise (one query per rule) a batch of records. Runs in the
    calling process or in a worker (`CohortRunner(workers=N)`); `keep` also returns the batch's
    graphs (the reasoner's store must be embedded Oxigraph). Holds the reasoner's lock from
    staging to reading back, so another thread's call cannot clear the batch in between. `today`:
    the day the rules and shapes take as today (a run gives every batch the same; reasoner.today)."""
    with reasoner.lock:
        entries = _advise_entries(reasoner, items, fmt, today)
        if not keep or not any(e.rejected is None for e in entries):
            return BatchResult(entries)
        store = reasoner.store
        assert isinstance(store, OxigraphStore), "keeping a batch needs the embedded Oxigraph store"
        return BatchResult(entries, store.ntriples(PATIENTS_GRAPH), store.ntriples(DERIVED_GRAPH))


# A shared node: (node, the other record's patient, whether the node is or lies under that patient's
# IRI rather than being one of its nodes).
Clash = tuple[str, str, bool]
# A batch's result once kept (see CohortRunner._run), with its records' clashes with earlier batches.
Settled = tuple[BatchResult, dict[str, Clash]]
Settle = Callable[[list[tuple[str, object]], BatchResult], Settled]


def _shared_message(node: str, other: str, nested: bool) -> str:
    if nested:
        return (f"{node} is, or lies under, the id of another record's patient ({other}): patient ids "
                "must not nest inside one another, or their courses, conditions and measurements could "
                "share ids and merge")
    return (f"{node} is also a node of the record of {other}: the ids of courses, "
            "conditions and measurements must differ between patients (a plain relative id "
            "such as course-1 is scoped under its patient; a full IRI or a #fragment is not)")


def _shared(source: str, patient: str, node: str, other: str, nested: bool) -> Entry:
    return Entry(source, patient, [{"severity": "violation", "path": "id", "value": node,
                                    "message": _shared_message(node, other, nested)}])


def _under_patient(node: str, patients: set[str], own: str) -> str | None:
    """The patient IRI, other than `own`, that `node` is or lies under (cut at a '/' or '#', with or
    without it), if any. A record's own nodes are named under its patient IRI, so two records can
    only share such a node when one patient IRI nests in the other ('p7' and 'p7/treatment/1', 's3'
    and 's3/'); checking this needs only the patient IRIs already read, not every node."""
    if node != own and node in patients:
        return node
    for index, char in enumerate(node):
        if char in "/#":
            for cut in (node[:index], node[:index + 1]):
                if cut != own and cut in patients:
                    return cut
    return None


def _record_nodes(loaded: PatientRecord) -> list[URIRef]:
    """The patient and its courses, condition statements and measurements."""
    patient = loaded.patient
    return [patient, *(n for link in PATIENT_LINKS for n in loaded.graph.objects(patient, link)
                       if isinstance(n, URIRef))]


def _shared_node(loaded: PatientRecord, owners: dict[URIRef, URIRef], patients: set[str]) -> Clash | None:
    """(node, other patient, nested) if a course, condition statement or measurement of this record (or its
    patient) is also a node of an earlier record in the batch, or is or lies under an earlier
    record's patient IRI, else None, and the record's nodes are registered. Records in a batch share
    one store, so a shared node would merge the two patients' facts: one patient's failed drug
    would shape the other's advice. (CohortRunner._clashes applies the same test across batches.)"""
    patient = loaded.patient
    nodes = _record_nodes(loaded)
    for node in nodes:
        other = owners.get(node)
        if other is not None and other != patient:
            return str(node), str(other), False
        nesting = _under_patient(str(node), patients, str(patient))
        if nesting is not None:
            return str(node), nesting, True
    owners.update((node, patient) for node in nodes)
    return None


def _foreign(patient: str, nodes: Iterable[str]) -> list[str]:
    """The nodes (bar the patient) not named under the patient IRI: a full IRI or #fragment given as
    an id. Only these are remembered across batches; the rest are covered by `_under_patient`."""
    return [n for n in nodes if n != patient and not n.startswith((patient + "/", patient + "#"))]


def _advise_entries(reasoner: Reasoner, items: list[tuple[str, object]], fmt: str,
                    today: date | None = None) -> list[Entry]:
    entries: list[Entry] = []
    loaded_batch: list[tuple[int, PatientRecord]] = []
    seen: set[URIRef] = set()
    owners: dict[URIRef, URIRef] = {}  # every node of the batch's records -> its patient
    patients: set[str] = set()  # the batch's patient IRIs, as strings
    for source, record in items:
        if isinstance(record, Exception):
            entries.append(_load_error(source, str(record), record))
            continue
        if looks_like_manifest(record):  # (a manifest given as a .json file beside an export is checked, not read)
            entry = _load_error(source, "a FHIR Bulk Data manifest, not a record, and not checked against any export: "
                                        "give it as a .json file with the export's .ndjson files")
            entry.line = True
            entries.append(entry)
            continue
        # (a JSON line in node form names its patient in a node of its @graph)
        if isinstance(record, dict) and (patient_without_id(record) if is_fhir(record) else record.get(
                "id", record.get("@id")) is None and not node_form(record)):
            entries.append(Entry(source, None, [{"severity": "violation", "path": "id", "value": None,
                                                 "message": NO_ID}]))
            continue
        try:
            loaded = load_record(record, reasoner.kb)  # type: ignore[arg-type]
        except RecordLoadError as exc:  # a JSON line's messages start "record: "; its source is named already
            entries.append(_load_error(source, str(exc).removeprefix("record: "), record))
            continue
        except Exception as exc:  # noqa: BLE001 - one unreadable record must not end a cohort run
            entries.append(_load_error(source, f"cannot read the record ({type(exc).__name__}: {exc})", record))
            continue
        if loaded.patient in seen:
            entries.append(_duplicate(source, str(loaded.patient)))
            continue
        shared = _shared_node(loaded, owners, patients)
        if shared:
            entries.append(_shared(source, str(loaded.patient), *shared))
            continue
        seen.add(loaded.patient)
        patients.add(str(loaded.patient))
        entries.append(Entry(source, str(loaded.patient), nodes=tuple(str(n) for n in _record_nodes(loaded))))
        loaded_batch.append((len(entries) - 1, loaded))
    if not loaded_batch:
        return entries
    reports = reasoner.validate_loaded([loaded.graph for _, loaded in loaded_batch], today)
    pending: list[tuple[int, PatientRecord, ValidationReport]] = []
    for (index, loaded), report in zip(loaded_batch, reports, strict=True):
        report = loaded.explain(report)
        if report.conforms:
            pending.append((index, loaded, report))
        else:
            entries[index].rejected = [i.as_dict() for i in report.issues]
    if not pending:
        return entries
    provenance = fmt != "jsonl"
    reasoner.classify([loaded.graph for _, loaded, _ in pending])
    reasoner.apply_rules(provenance, today)
    advice = reasoner.advice(provenance)
    for index, loaded, report in pending:
        result = build_result(loaded, report, advice.get(loaded.patient, {}), reasoner.full_kb)
        entry = entries[index]
        entry.advised = bool(result.advice)
        if fmt == "jsonl":
            entry.text = json.dumps(result.as_dict(), ensure_ascii=False) + "\n"
        else:
            # sorted: rdflib writes N-Triples in set order, which changes from run to run
            # (split at \n only: str.splitlines also breaks at U+2028 and friends, which an IRI may hold)
            lines = result.graph.serialize(format="nt").split("\n")
            entry.text = "".join(sorted(line + "\n" for line in lines if line))
    return entries


def _resource_lines(path: Path) -> Iterator[tuple[str, object]]:
    """The lines of one file of a Bulk Data export; a file that cannot be read, or holds no line,
    is an error item."""
    found = False
    try:
        for item in _json_lines(path, "a FHIR resource"):
            found = True
            yield item
    except READ_ERRORS as exc:  # unreadable, or a damaged .gz
        yield str(path), RecordLoadError(f"cannot read: {exc}")
        return
    if not found:
        empty = RecordLoadError("no resource in this file; a Bulk Data server lists no file for a type "
                                "without resources, so this one may be a download cut short")
        empty.empty = True  # type: ignore[attr-defined]  # (unless its manifest lists it with a count of 0)
        yield str(path), empty


def _manifest(path: Path) -> dict[str, Any] | str | None:
    """The Bulk Data manifest a .json file holds, why a file that seems to be one cannot be read
    (text: a damaged .gz counts as one where what can be read of it names transactionTime), or
    None (a record, read as one)."""
    if format_suffix(path) != ".json":
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:  # (given with an export, a file that cannot be read may be its manifest)
        return f"cannot read it ({exc}), and it may be the export's manifest"
    if path.suffix.lower() == ".gz":  # (decompressed as far as it goes: a download cut short still shows what it is)
        unpack, parts, damage = zlib.decompressobj(wbits=31), [], None
        try:
            for start in range(0, len(data), 1 << 16):
                parts.append(unpack.decompress(data[start:start + (1 << 16)]))
            if not unpack.eof:
                damage = "the file ends before its compressed data does"
        except zlib.error as exc:
            damage = str(exc)
        data = b"".join(parts)
        if damage is not None:
            seems = "" if b'"transactionTime"' in data else ", and it may be the export's manifest"
            return f"cannot read it ({damage}){seems}"
    found, why = read_manifest(data)
    return found if found is not None else why


def _export_records(export: list[Path], manifests: list[tuple[str, dict[str, Any] | str]]
                    ) -> Iterator[tuple[str, object]]:
    """The patients of a Bulk Data export (its .ndjson files), checked against its manifests (or
    why one cannot be read)."""
    yield from bulk_bundles((item for part in export for item in _resource_lines(part)), manifests,
                            [str(path) for path in export])


def _all_records(inputs: Iterable[Path]) -> Iterator[tuple[str, object]]:
    """Every record of the inputs, in order. The .ndjson files are one Bulk Data export, read
    together where the first of them stands: a patient's resources may lie in any of them. A Bulk
    Data manifest among the inputs is checked against the export's files, not read as a record."""
    files = [(path, path.resolve()) for path in input_files(inputs)]
    # (a file named twice, or as itself and inside a folder, is one file of the export)
    export = list({real: path for path, real in files if format_suffix(path) == ".ndjson"}.values())
    others = {real: path for path, real in files if format_suffix(path) != ".ndjson"}
    manifests = {real: (str(path), found) for real, path in others.items()
                 if export and (found := _manifest(path)) is not None}
    read = False
    for path, real in files:
        if real in manifests:
            continue
        if format_suffix(path) != ".ndjson":
            yield from records_in(path)
        elif not read:
            read = True
            yield from _export_records(export, list(manifests.values()))


def _batches(inputs: Iterable[Path], size: int) -> Iterator[list[tuple[str, object]]]:
    batch: list[tuple[str, object]] = []
    for item in _all_records(inputs):
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# A batch allocates millions of short-lived objects (record graphs, rows, JSON), and with the
# default thresholds Python's cycle collector runs every 700 of them and now and then walks the
# whole heap, knowledge base included. Frozen start-up objects and a higher first threshold take a
# fifth to a quarter off a cohort run (measured on 2,000 patients: 10.9-11.8 -> 8.1-8.7 ms each).
# The higher thresholds alone let cyclic garbage pile up in the oldest generation (RSS grew without
# bound: 455 -> 871 MB over 10,000 patients, workers at 1.4 GB after 58,000), so each batch ends
# with a full collection (flat at 686 MB, same speed): `collect_batch_garbage`. Most of that
# garbage was the record graphs themselves (rdflib's Memory store points back at its graph); held
# in SimpleMemory (reasoner/graphs.py) they leave none, and the collection after a batch of 1,000
# fell from 0.6-0.8 s to 0.02-0.04 s.
GC_THRESHOLD = (50_000, 50, 100)


def collect_batch_garbage() -> None:
    """A full collection after a batch: cheap once start-up objects are frozen."""
    gc.collect()


def _relax_gc() -> bool:
    """Freeze what exists now (the reasoner, its knowledge base: never scanned again) unless the
    caller froze objects itself, and raise the thresholds; whether this call froze anything."""
    ours = gc.get_freeze_count() == 0
    if ours:
        gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    return ours


@contextmanager
def roomy_gc() -> Iterator[None]:
    """Cohort-friendly cycle collection for the duration of a run; the caller's settings after."""
    before = gc.get_threshold()
    ours = _relax_gc()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if ours:
            gc.unfreeze()


# One Reasoner per worker process, built by _worker_start from picklable settings.
_WORKER: Reasoner | None = None


def _worker_start(settings: dict[str, Any], parent: int) -> None:
    global _WORKER
    # Ctrl-C reaches the whole process group: the parent stops the run, and a worker that caught it
    # too printed its own traceback. A worker only ends when the parent shuts the pool down, or dies.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent(parent)
    _WORKER = Reasoner(**settings)
    _relax_gc()  # a worker only ever runs batches: the run's settings, for its lifetime


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _end_with_parent(parent: int) -> None:
    """On Linux, ask the kernel to send this worker SIGTERM when the process that started it dies.
    A parent killed outright (SIGKILL, the out-of-memory killer) left its workers waiting on the
    call queue for ever, since they ignore Ctrl-C (session-35 review L5). Elsewhere, or if libc
    cannot be called, nothing is done."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request: no signal will come
        os._exit(1)


def _worker_advise(items: list[tuple[str, object]], fmt: str, keep: bool, today: date) -> BatchResult:
    assert _WORKER is not None, "worker used before _worker_start"
    try:
        return advise_batch(_WORKER, items, fmt, keep, today)
    finally:
        collect_batch_garbage()


WORKER_DIED = ("a worker process ended without finishing its batch (killed by a signal, or by the system "
               "for lack of memory? or it could not start: see any message above); the run is stopped. "
               "Try fewer --workers or a smaller --batch")


class CohortRunner:
    """Batches records, advises each batch (here, or in `workers` processes), writes the advice
    in input order to `out` and the rejects to `rejects`."""

    def __init__(self, reasoner: Reasoner, batch: int = DEFAULT_BATCH, workers: int = 1,
                 sink: OxigraphStore | None = None) -> None:
        """`sink`: a store (on-disk Oxigraph) that receives the knowledge base, every valid patient
        and all derived statements, so the cohort questions (queries/cohort/) can be asked of it
        afterwards. The rules still run batch by batch in `reasoner`'s in-memory store: staging and
        clearing each batch on disk cost RocksDB writes and tombstones (measured: 14 patients/s and
        2.5 GB a worker after 4,000 patients, against ~125 patients/s in memory)."""
        if batch < 1:
            raise AxspaError("--batch must be at least 1")
        if workers < 1:
            raise AxspaError("--workers must be at least 1")
        if workers > 1 and reasoner.settings is None:
            raise AxspaError(WORKERS_NEED_EMBEDDED)
        if sink is not None and not isinstance(reasoner.store, OxigraphStore):
            raise AxspaError("a cohort sink needs the rules to run in embedded Oxigraph")
        # On a remote store the rules run on the server; each batch is also copied there into
        # holding graphs, and at the end the whole cohort is put back in the patients and derived
        # graphs, so the store ends as an on-disk sink does.
        self.kept_on_server = isinstance(reasoner.store, RemoteStore)
        # this runner's own holding graphs: two cohorts run on one Reasoner (two threads) must not
        # drop or fill each other's (session-35 review L6)
        token = uuid.uuid4().hex[:12]
        self.held = ((PATIENTS_GRAPH, f"{PATIENTS_GRAPH}/cohort-held/{token}"),
                     (DERIVED_GRAPH, f"{DERIVED_GRAPH}/cohort-held/{token}"))
        self.reasoner = reasoner
        self.batch = batch
        self.workers = workers
        self.sink = sink
        # one day for the whole run, in every batch and worker (a run past midnight UTC, or workers
        # started on another day, would otherwise read "today" two ways; reasoner.today)
        self.today = run_date(reasoner.as_of)

    def _results(self, inputs: Iterable[Path], fmt: str, settle: Settle
                 ) -> Iterator[tuple[list[tuple[str, object]], Settled]]:
        """(records, settled result) per batch, in input order. `settle` runs on each batch's result
        in turn; in this process, while the reasoner's lock is still held from advising it, so that
        on a remote store another thread's call cannot replace the batch on the server before it
        is copied (session-35 review L6)."""
        keep = self.sink is not None
        if self.workers == 1:
            for items in _batches(inputs, self.batch):
                with self.reasoner.lock:
                    settled = settle(items, advise_batch(self.reasoner, items, fmt, keep, self.today))
                collect_batch_garbage()
                yield items, settled
            return
        context = multiprocessing.get_context("spawn")  # fork would copy a live Oxigraph store
        # A ProcessPoolExecutor, not a multiprocessing Pool: when a worker dies (the out-of-memory
        # killer, a signal) a Pool starts another and the lost batch's result never comes, so the
        # run hung for ever with nothing said (session-35 failure probe F3); the executor fails the
        # pending batches instead, which is turned into an error below.
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_start,
                                   initargs=(self.reasoner.settings, os.getpid()))
        try:
            window: deque[tuple[list, Future[BatchResult]]] = deque()  # bounded: a huge input is never read ahead
            for items in _batches(inputs, self.batch):
                window.append((items, pool.submit(_worker_advise, items, fmt, keep, self.today)))
                if len(window) >= 2 * self.workers:
                    done, pending = window.popleft()
                    yield done, settle(done, pending.result())
            while window:
                done, pending = window.popleft()
                yield done, settle(done, pending.result())
        except BaseException as exc:
            # an error, Ctrl-C or a caller that stopped reading: end the workers now, rather than
            # let them finish batches nobody will write (Executor.terminate_workers: Python 3.14)
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.terminate()
            if isinstance(exc, BrokenProcessPool):  # from a batch's result, or from submitting the next
                raise AxspaError(WORKER_DIED) from exc
            raise
        pool.shutdown(wait=True)

    def _keep_on_server(self, step: str) -> None:
        """Each batch's patients and derived graphs are copied into holding graphs on the server;
        at the end the holding graphs (and the knowledge base) replace the kept graphs in one
        request. A store opened for a run (the URL given to `Reasoner`) names all of these graphs
        its own (RemoteStore.working), so another run on the endpoint meets none of them, and a
        run that fails leaves the cohort kept before it as it was."""
        store = self.reasoner.store
        assert isinstance(store, RemoteStore)
        pairs = self.held
        if step == "batch":
            for graph, held in pairs:  # (one operation a request: each copy is small, and waits alone)
                store.update(copy_graph(store.working(graph), store.working(held)))
            return
        if step == "end":  # the whole cohort where one derive would leave it
            store.publish([(held, graph) for graph, held in pairs] + [(KB_GRAPH, KB_GRAPH)])
        for _, held in pairs:  # (at the start: what an earlier run of this runner left there)
            store.update(f"DROP SILENT GRAPH <{store.working(held)}>")

    @staticmethod
    def _clashes(batch: BatchResult, seen: set[str], owners: dict[str, str]) -> dict[str, Clash]:
        """patient -> (node, other patient, nested) for each record of this batch that shares a node with a
        record of an earlier batch: one of its nodes (its patient included) is another record's
        full-IRI or #fragment node (`owners`), or is or lies under another record's patient IRI.
        Within a batch `_shared_node` rejects the later record by the same test, so the outcome
        does not depend on --batch."""
        clashes: dict[str, Clash] = {}
        for entry in batch.entries:
            if entry.patient is None or entry.patient in seen:
                continue
            for node in entry.nodes:
                owner = owners.get(node)
                if owner is not None and owner != entry.patient:
                    clashes[entry.patient] = (node, owner, False)
                    break
                nesting = _under_patient(node, seen, entry.patient)
                if nesting is not None:
                    clashes[entry.patient] = (node, nesting, True)
                    break
        return clashes

    def _without_repeats(self, items: list[tuple[str, object]], batch: BatchResult, seen: set[str],
                         clashes: dict[str, Clash], fmt: str) -> BatchResult:
        """A batch whose valid patients include one read in an earlier batch, or one sharing a node
        with an earlier record (`clashes`), is advised again without those records before anything
        of it is kept: appended as it is, the repeat's statements would merge into the first
        record's patient (same IRI) or node in the kept cohort."""
        repeats = {e.patient for e in batch.entries
                   if (e.patient in seen or e.patient in clashes) and e.rejected is None}
        if not repeats:
            return batch
        again = advise_batch(self.reasoner, [item for item, e in zip(items, batch.entries, strict=True)
                                             if e.patient not in repeats], fmt, keep=self.sink is not None,
                             today=self.today)
        redone = iter(again.entries)  # one entry per record kept, in order; the repeats keep theirs
        entries = [e if e.patient in repeats else next(redone) for e in batch.entries]
        return BatchResult(entries, again.patients, again.derived)

    def run(self, inputs: Iterable[Path], out: IO[str], fmt: str = "jsonl", rejects: IO[str] | None = None,
            progress: bool = False, publish: bool = True) -> Summary:
        """Advise every record. On a remote store the cohort replaces the kept graphs at the end;
        `publish=False` leaves that to `publish_kept()`, for a caller that first finishes its own
        output files."""
        try:
            with roomy_gc():
                summary = self._run(inputs, out, fmt, rejects, progress)
        except BaseException:
            self.discard_held()
            raise
        if publish:
            self.publish_kept(summary)
        return summary

    def discard_held(self) -> None:
        """Drop this runner's holding graphs, for a caller that ran with `publish=False` and will not
        publish (done by itself after a failure). Their names are the runner's own, so no later
        cohort drops them, and on a store with no run id `close()` does not either: a failed
        cohort's patients stayed on the server (session-37 review R7, re-review N7). A store with a
        run id drops them at `close()` anyway, so nothing is sent; a server that does not answer
        ends the clean-up at once (re-review N6). README, 'Runs sharing an endpoint', says how to
        drop what is left."""
        store = self.reasoner.store
        if not self.kept_on_server or not isinstance(store, RemoteStore) or store.run is not None:
            return
        for _, held in self.held:
            try:
                store.update(f"DROP SILENT GRAPH <{store.working(held)}>", timeout=EXIT_TIMEOUT)
            except RemoteStoreRefused:  # this one: the other may still go
                continue
            except RemoteStoreError:  # a timeout, a lost server: waiting again would only add to it
                return

    def publish_kept(self, summary: Summary | None = None) -> None:
        """On a remote store, replace the kept patients, derived and knowledge-base graphs with this
        run's cohort (nothing on the other stores); its seconds are added to `summary`'s (a big
        cohort's copy on a slow server is part of the run). Refused once the Reasoner is closed:
        its graphs are gone, and copying them would empty the kept ones (session-36 re-review N1)."""
        if self.kept_on_server:
            if self.reasoner.closed:
                raise AxspaError(CLOSED)
            started = time.perf_counter()
            try:
                with self.reasoner.lock:
                    self._keep_on_server("end")
            except BaseException:
                self.discard_held()
                raise
            if summary is not None:
                summary.seconds += time.perf_counter() - started

    def _run(self, inputs: Iterable[Path], out: IO[str], fmt: str, rejects: IO[str] | None,
             progress: bool) -> Summary:
        summary = Summary()
        started = time.perf_counter()
        seen: set[str] = set()
        owners: dict[str, str] = {}  # full-IRI and #fragment nodes (see _foreign) of the records read
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(unit=" patients", file=sys.stderr, mininterval=0.5)
        if self.kept_on_server:
            self._keep_on_server("start")
        if self.sink is not None:  # the sink's patients and advice are replaced, its KB refreshed
            for graph_name in (KB_GRAPH, PATIENTS_GRAPH, DERIVED_GRAPH):
                self.sink.clear(graph_name)
            self.sink.add(self.reasoner.full_kb, KB_GRAPH)

        def settle(items: list[tuple[str, object]], batch: BatchResult) -> Settled:
            """Keep a batch (sink, server): without records read before or sharing a node with one."""
            clashes = self._clashes(batch, seen, owners)
            if self.sink is not None or self.kept_on_server:
                batch = self._without_repeats(items, batch, seen, clashes, fmt)
            if self.sink is not None and batch.patients:
                self.sink.add_ntriples(batch.patients, PATIENTS_GRAPH)
                self.sink.add_ntriples(batch.derived, DERIVED_GRAPH)
            if self.kept_on_server and any(e.rejected is None for e in batch.entries):
                self._keep_on_server("batch")
            return batch, clashes

        for _, (batch, clashes) in self._results(inputs, fmt, settle):
            patients = sum(not entry.line for entry in batch.entries)  # (export lines and manifests are none)
            summary.read += patients
            written: list[str] = []
            for entry in batch.entries:
                if entry.patient is not None:
                    if entry.patient in seen:  # read before, in this batch or an earlier one
                        entry = _duplicate(entry.source, entry.patient)
                    elif entry.patient in clashes:  # shares a node with a record of an earlier batch
                        entry = _shared(entry.source, entry.patient, *clashes[entry.patient])
                    else:
                        owners.update((node, entry.patient) for node in _foreign(entry.patient, entry.nodes))
                    seen.add(entry.patient)
                if entry.rejected is not None:
                    item = Reject(entry.source, entry.patient or entry.named, entry.rejected)
                    if entry.line:
                        summary.lines_rejected += 1
                    else:
                        summary.rejected += 1
                    summary.rejects.append(item)
                    if rejects is not None:
                        rejects.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
                    continue
                summary.valid += 1
                summary.with_advice += entry.advised
                written.append(entry.text)
            _write(out, written, fmt)
            if bar is not None:
                bar.update(patients)
        if bar is not None:
            bar.close()
        summary.seconds = time.perf_counter() - started
        return summary


def _write(out: IO[str], texts: list[str], fmt: str) -> None:
    """JSON lines and N-Triples are written as they come; Turtle is rebuilt per batch, so its
    prefixes make it readable."""
    if fmt != "ttl":
        out.write("".join(texts))
        return
    graph = Graph()
    bind_all(graph)
    graph.parse(data="".join(texts), format="nt")
    out.write(graph.serialize(format="turtle"))
