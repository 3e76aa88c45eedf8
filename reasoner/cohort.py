"""Cohorts: many records in, one line of advice per patient out, rejects reported, never dropped.

Records are read from files or folders (JSON Lines, a JSON record or array of records, or Turtle /
N-Triples / JSON-LD holding any number of patients) and taken in batches. Each batch is validated
with one pass of the compiled shapes (an invalid patient goes to the rejects file with its
messages, and never reaches the store); classification and every rule then run once over all the
batch's valid patients: one query per rule, not one per patient. Batches bound memory; `--batch`
trades memory for fewer, larger queries.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .errors import AxspaError, RecordLoadError
from .namespaces import AX, bind_all
from .pipeline import Reasoner
from .record import PatientRecord, load_record
from .report import build_result
from .validate import ValidationReport

RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".rdf": "xml", ".n3": "n3"}
RECORD_SUFFIXES = {".json", ".jsonl", *RDF_FORMATS}
PATIENT_LINKS = (AX.hasConditionStatement, AX.hasTreatmentCourse, AX.hasMeasurement)


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

    def text(self) -> str:
        return (f"patients read {self.read}, valid {self.valid}, rejected {self.rejected}, "
                f"with advice {self.with_advice}, {self.seconds:.1f} s")


def input_files(inputs: Iterable[Path]) -> Iterator[Path]:
    """Every record file named, or found below a named folder (sorted, so runs are repeatable)."""
    for path in inputs:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RECORD_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise RecordLoadError(f"{path}: no such file or folder")


def split_patients(graph: Graph) -> Iterator[Graph]:
    """One graph per ax:Patient: its own triples and those of its statements, courses, measurements."""
    for patient in sorted(set(graph.subjects(RDF.type, AX.Patient)), key=str):
        part = Graph()
        for triple in graph.triples((patient, None, None)):
            part.add(triple)
        for link in PATIENT_LINKS:
            for node in graph.objects(patient, link):
                for triple in graph.triples((node, None, None)):
                    part.add(triple)
        yield part


def records_in(path: Path) -> Iterator[tuple[str, object]]:
    """(source label, record) pairs: dicts for JSON, graphs for RDF; a load problem yields the error."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        item = json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield f"{path}:{number}", RecordLoadError(f"not valid JSON: {exc.msg}")
                        continue
                    if isinstance(item, dict):
                        yield f"{path}:{number}", item
                    else:
                        yield f"{path}:{number}", RecordLoadError("each line must be one JSON object (a record)")
        return
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield str(path), RecordLoadError(f"cannot read JSON: {exc}")
            return
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items, start=1):
            yield (f"{path}[{index}]" if isinstance(data, list) else str(path)), item
        return
    graph = Graph()
    try:
        graph.parse(path, format=RDF_FORMATS[suffix])
    except Exception as exc:  # every rdflib parser has its own exceptions
        yield str(path), RecordLoadError(f"not valid {RDF_FORMATS[suffix]}: {exc}")
        return
    for part in split_patients(graph):
        yield str(path), part


def _write_advice(out: IO[str], results: list, fmt: str) -> None:
    if fmt == "jsonl":
        for result in results:
            out.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        return
    graph = Graph()
    bind_all(graph)
    for result in results:
        graph += result.graph
    out.write(graph.serialize(format="nt" if fmt == "nt" else "turtle"))


class CohortRunner:
    """Validates, batches and advises; write advice to `out`, rejects to `rejects`."""

    def __init__(self, reasoner: Reasoner, batch: int = 1000) -> None:
        if batch < 1:
            raise AxspaError("--batch must be at least 1")
        self.reasoner = reasoner
        self.batch = batch

    def _advise(self, pending: list[tuple[PatientRecord, ValidationReport]], provenance: bool) -> list:
        self.reasoner.classify([loaded.graph for loaded, _ in pending])
        self.reasoner.apply_rules(provenance)
        advice = self.reasoner.advice(provenance)
        return [build_result(loaded, report, advice.get(loaded.patient, {}), self.reasoner.full_kb)
                for loaded, report in pending]

    def run(self, inputs: Iterable[Path], out: IO[str], fmt: str = "jsonl", rejects: IO[str] | None = None,
            progress: bool = False) -> Summary:
        summary = Summary()
        started = time.perf_counter()
        loaded_batch: list[tuple[str, PatientRecord]] = []
        pending: list[tuple[PatientRecord, ValidationReport]] = []
        seen: set[URIRef] = set()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(unit=" patients", file=sys.stderr, mininterval=0.5)

        def reject(item: Reject) -> None:
            summary.rejected += 1
            summary.rejects.append(item)
            if rejects is not None:
                rejects.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")

        def flush() -> None:
            """Validate the batch in one query; reject the invalid, advise the rest set-at-a-time."""
            if not loaded_batch:
                return
            reports = self.reasoner.validate_loaded([loaded.graph for _, loaded in loaded_batch])
            for (source, loaded), report in zip(loaded_batch, reports, strict=True):
                if report.conforms:
                    summary.valid += 1
                    pending.append((loaded, report))
                else:
                    reject(Reject(source, str(loaded.patient), [i.as_dict() for i in report.issues]))
            loaded_batch.clear()
            if pending:
                results = self._advise(pending, provenance=fmt != "jsonl")
                summary.with_advice += sum(1 for r in results if r.advice)
                _write_advice(out, results, fmt)
                pending.clear()

        for path in input_files(inputs):
            for source, record in records_in(path):
                summary.read += 1
                if bar is not None:
                    bar.update(1)
                if isinstance(record, Exception):
                    reject(Reject(source, None, [{"severity": "violation", "path": "record", "value": None,
                                                  "message": str(record)}]))
                    continue
                try:
                    loaded = load_record(record, self.reasoner.kb)  # type: ignore[arg-type]
                except RecordLoadError as exc:
                    reject(Reject(source, None, [{"severity": "violation", "path": "record", "value": None,
                                                  "message": str(exc)}]))
                    continue
                if loaded.patient in seen:
                    reject(Reject(source, str(loaded.patient), [{
                        "severity": "violation", "path": "id", "value": str(loaded.patient),
                        "message": "id: this patient IRI was already read from another record; ids must be unique"}]))
                    continue
                seen.add(loaded.patient)
                loaded_batch.append((source, loaded))
                if len(loaded_batch) >= self.batch:
                    flush()
        flush()
        if bar is not None:
            bar.close()
        summary.seconds = time.perf_counter() - started
        return summary
