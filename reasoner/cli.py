"""Command line: `axspa validate | recommend | explain | kb`.

Exit codes: 0 advice given (or record valid), 1 record invalid (the report is printed),
2 usage or load error. Bad input ends in a message naming the problem, never in a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from .errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, AxspaError, RecordLoadError
from .namespaces import AX, bind_all
from .report import Result, Source, grading_text, render_text, validation_line
from .rules import GUIDELINE_SETS
from .validate import VALIDATORS
from .version import __version__

if TYPE_CHECKING:  # imported when a command runs: `axspa --help` stays quick
    from .pipeline import Reasoner
    from .store import OxigraphStore

FORMATS = ("text", "json", "jsonld", "turtle")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axspa", description="Guideline-based advice for axial spondyloarthritis.")
    parser.add_argument("--version", action="version", version=f"axspa-kg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def as_of(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as-of", type=_iso_date, metavar="YYYY-MM-DD",
                       help="the day taken as today where the advice depends on it (a course still taken, "
                            "a drug stopped lately, dates after today); default: today's date in UTC")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", type=Path,
                       help="patient record (.json: plain JSON, JSON-LD or a FHIR R4 Bundle; "
                            ".jsonld, .ttl, .turtle, .nt, .n3, .rdf, .xml)")
        p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
        as_of(p)

    v = sub.add_parser("validate", help="check a record against the shapes; print the report")
    common(v)
    v.add_argument("-f", "--format", choices=("text", "json"), default="text")
    v.add_argument("--validator", choices=VALIDATORS, default="sparql",
                   help="sparql: the shapes compiled to SPARQL (default); pyshacl: the reference engine")

    r = sub.add_parser("recommend", help="validate, classify and apply the guideline rules")
    common(r)
    r.add_argument("-f", "--format", choices=FORMATS, default="text")
    r.add_argument("--guideline", choices=sorted(GUIDELINE_SETS), default="all",
                   help="which guideline's rules to apply (default: all)")
    r.add_argument("--store", default="oxigraph",
                   help="store that runs the rules: oxigraph (embedded, in memory; default), oxigraph:PATH (on "
                        "disk), rdflib, an endpoint URL (oxigraph serve layout) or virtuoso:URL")
    r.add_argument("--exact", action="store_true", help="classify with HermiT (slower; needs Java)")

    e = sub.add_parser("explain", help="everything the reasoner says about one therapy, and why")
    common(e)
    e.add_argument("therapy", help="drug or intervention (generic name, brand name, RxNorm code or IRI), or a "
                                   "class of them (TNFInhibitor: each member's advice, named)")
    e.add_argument("--guideline", choices=sorted(GUIDELINE_SETS), default="all")

    c = sub.add_parser("cohort", help="advice for many patients: one JSON line each; invalid ones to --rejects")
    c.add_argument("inputs", type=Path, nargs="+",
                   help="files or folders (.jsonl, .json, .jsonld, .ttl, .turtle, .nt, .n3, .rdf, .xml; "
                        ".ndjson: the files of one FHIR Bulk Data export, checked against its manifest .json "
                        "where one is given; any may end in .gz)")
    c.add_argument("--store", default="memory",
                   help="memory (embedded Oxigraph, default), oxigraph:PATH (on disk; afterwards it holds the KB, "
                        "every valid patient and their advice, for queries/cohort/), rdflib, an endpoint URL "
                        "(oxigraph serve layout: /query, /update, /store) or virtuoso:URL (a Virtuoso server)")
    c.add_argument("-o", "--output", type=Path,
                   help="advice.jsonl (default: standard output), advice.ttl or .nt; add .gz to compress")
    c.add_argument("--rejects", type=Path,
                   help="write rejected patients (and export lines) and their messages here (JSON Lines; .gz to "
                        "compress)")
    c.add_argument("--guideline", choices=sorted(GUIDELINE_SETS), default="all")
    c.add_argument("--batch", type=int, help="patients loaded and advised together (default 1000; 50 on the "
                                              "rdflib store, where more costs memory and saves no time)")
    c.add_argument("--workers", type=int, default=1,
                   help="processes advising batches side by side (embedded Oxigraph only; default 1)")
    c.add_argument("--progress", action="store_true", help="show a progress bar on standard error")
    as_of(c)

    sub.add_parser("kb", help="load the knowledge base and print what it holds")
    return parser


def _iso_date(text: str) -> date:
    """--as-of: a calendar date written YYYY-MM-DD (argparse names the option when this fails)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: {exc}") from exc


def _emit(text: str, output: Path | None) -> None:
    if output:
        with _open_output(output) as out:  # gzip-compressed for a name ending in .gz, as cohort writes
            out.write(text)
    else:
        stdout = _standard_output()
        stdout.write(text)
        stdout.flush()  # a reader that went away is found here, inside main(), not at exit


def _standard_output() -> IO[str]:
    """sys.stdout, or a clear message when the shell closed it (`axspa recommend r.json >&-`)."""
    if sys.stdout is None:
        raise AxspaError("standard output is closed; name a file to write with -o")
    return sys.stdout


def _buffer_stdout() -> Callable[[], None]:
    """Put a buffered layer back under sys.stdout when PYTHONUNBUFFERED or `python -u` removed it;
    return what puts the original back (main() may run in a host process, a test for one).

    Unbuffered, the text layer writes to the file descriptor itself and ignores a short count: when
    the reader of a pipe goes away during a large write (`axspa cohort ... | head`), the write
    returns what went through, the rest is silently dropped, no error is raised, and the command
    ended 0 with its summary saying every patient was advised. A buffered layer keeps writing until
    all is written or the broken pipe is raised."""
    original = sys.stdout
    layer = getattr(original, "buffer", None)
    if not isinstance(layer, io.RawIOBase):
        return lambda: None
    wrapper = io.TextIOWrapper(io.BufferedWriter(layer), encoding=original.encoding, errors=original.errors,
                               line_buffering=original.line_buffering)
    sys.stdout = wrapper

    def restore() -> None:
        sys.stdout = original
        # leave the raw file open, as it was; OSError: the reader went away (handled already)
        with contextlib.suppress(OSError, ValueError):
            wrapper.detach().detach()  # type: ignore[attr-defined]

    return restore


def _validation_text(result: Result) -> str:
    lines = [f"{result.patient}: {'valid' if result.conforms else 'INVALID'}"]
    for issue in result.validation:
        lines.append(f"  {issue['severity']}: {validation_line(issue)}")
    return "\n".join(lines) + "\n"


def _graph_output(result: Result, fmt: str) -> str:
    # an invalid record has no advice graph: its SHACL report alone (a valid record's graph carries
    # its warnings as a report of its own; Result.graph)
    graph = result.graph if result.conforms else result.validation_graph()
    bind_all(graph)
    if fmt == "turtle":
        return graph.serialize(format="turtle")
    return _stable_json(json.loads(graph.serialize(format="json-ld")))


def _stable_json(document: object) -> str:
    """rdflib writes JSON-LD nodes and their values in set order, which changes from run to run;
    sorted (nodes by @id, values by their text), the same advice is always the same file."""
    def order(value: object) -> object:
        if isinstance(value, dict):  # an @list keeps its order (the advice graph has none today)
            return {k: [order(v) for v in v_] if k == "@list" and isinstance(v_, list) else order(v_)
                    for k, v_ in value.items()}
        if isinstance(value, list):
            items = [order(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
        return value

    return json.dumps(order(document), indent=2, sort_keys=True, ensure_ascii=False)


def _resolve_therapy(name: str, reasoner) -> set[str]:  # type: ignore[no-untyped-def]
    """The therapy IRIs `name` stands for: one drug or intervention (a biosimilar with its reference
    product), or every member of a drug class or kind of care (advice is given per drug, so
    `explain TNFInhibitor` shows each one's)."""
    from .record import drug_index

    index = drug_index(reasoner.kb)
    key = name.strip().lower()
    if key in index:
        # a biosimilar (Inflectra) with its reference product: the label facts and guideline rows
        # name the originator, so `explain Inflectra` said nothing ruled it out when infliximab was
        # contraindicated
        drug = index[key]
        reference = reasoner.full_kb.value(drug, AX.referenceProduct)
        return {str(drug)} | ({str(reference)} if reference is not None else set())
    for node in sorted(_with_members(reasoner.kb, AX.Intervention)):
        if str(node).lower() == key or str(node).lower().endswith(("#" + key, "/" + key)):
            return {str(n) for n in _with_members(reasoner.kb, node)}
    raise AxspaError(f"therapy {name!r} is not a drug or intervention axspa-kg knows")


def _with_members(kb: Graph, node: URIRef) -> set[URIRef]:
    """`node`, its subclasses and their members (an individual: itself). Under ax:Intervention
    this is what advice can be about (drugs, drug classes, kinds of care); any other node of the
    knowledge base (a recommendation, a population, a grade) is not a therapy, and `explain` would
    only ever say that nothing concerns it."""
    classes = set(kb.transitive_subjects(RDFS.subClassOf, node))
    members = {m for cls in classes for m in kb.subjects(RDF.type, cls)}
    return {n for n in classes | members if isinstance(n, URIRef)}


def _explain(result: Result, therapies: set[str], therapy_name: str) -> str:
    items = [a for a in result.advice if a.therapy.iri in therapies]
    # advice a contraindication overrode is shown as such, at its own item, never as advice
    overridden: dict[int, list[str]] = {}
    for conflict in result.conflicts:
        if conflict.advice.therapy.iri in therapies:
            if id(conflict.advice) not in overridden:
                items.append(conflict.advice)
            b = conflict.overridden_by
            overridden.setdefault(id(conflict.advice), []).append(f"{b.recommendation.id} ({b.kind})")
    several = len(therapies) > 1  # a class: say which member each item is about
    lines = [f"{therapy_name} for {result.patient}:"]
    if not items:
        lines.append("  no rule gives advice on it for this record: the patient is not in the population of any "
                     "recommendation whose action includes it, and no label fact or earlier course rules it out.")
    for item in items:
        src = item.recommendation
        about = f"{item.therapy.label}: " if several else ""
        kind = item.kind
        if id(item) in overridden:
            kind = f"NOT GIVEN (would be {item.kind}; overridden by {', '.join(overridden[id(item)])})"
        lines.append(f"  {about}{kind} — {_source_text(src)}")
        # as the text report words it: a label fact's kind and severity are no strength and evidence
        lines.append(f"      grading: {grading_text(src.guideline, item.strength, item.evidence)}")
        if item.over:
            lines.append("      over: " + ", ".join(o.label for o in item.over))
        for fact in item.because:
            lines.append(f"      because: {fact.text}")
        if item.note:
            lines.append(f"      note: {item.note}")
    return "\n".join(lines) + "\n"


def _source_text(src: Source) -> str:
    """'ACR 2019 AS-08: IL-17i after NSAID failure' (a recommendation's label names its id already),
    'label tnfi_heart_failure: TNF inhibitors: heart failure'."""
    return src.label if src.id in src.label else f"{src.guideline} {src.id}: {src.label}"


def _courses_of(record: Graph, therapies: set[str], kb: Graph) -> set[str]:
    """The record's courses of the therapy (a biosimilar's course counts for its reference product)."""
    return {str(course) for course, drug in record.subject_objects(AX.drug)
            if str(drug) in therapies or str(kb.value(drug, AX.referenceProduct)) in therapies}


def _mentions(result: Result, therapies: set[str], courses: set[str], kb: Graph) -> str:
    """The rest of what the reasoner says about the therapy without being advice *on* it: advice that
    weighs it as the alternative (over it), advice that rests on the patient's course of it (keep,
    taper or stop the biologic, AS-26; a TNF inhibitor because this NSAID failed), and questions that
    rest on such a course or whose answer decides advice on it. `explain` lists them after its own
    items, so that a drug being taken is never shown as one nothing concerns."""
    grouped: dict[tuple[str, str, str], list[str]] = {}  # one line per rule and role, its therapies named
    # advice a contraindication overrode counts too, marked as not given, with what overrode it: a
    # stated contraindication holding back the adalimumab taken left AS-26 (against stopping it)
    # out of `explain adalimumab` altogether (session-32 probe 2, F7)
    overriders: dict[int, list[str]] = {}
    for conflict in result.conflicts:
        blocker = f"{conflict.overridden_by.recommendation.id} ({conflict.overridden_by.kind})"
        overriders.setdefault(id(conflict.advice), []).append(blocker)
    items = [*result.advice, *{id(c.advice): c.advice for c in result.conflicts}.values()]
    for item in items:
        if item.therapy.iri in therapies:
            continue
        role = ("weighed against it" if any(o.iri in therapies for o in item.over)
                else "rests on its course" if any(f.fact in courses for f in item.because) else "")
        if role:
            kind = item.kind
            if id(item) in overriders:
                kind = f"NOT GIVEN: would be {item.kind}; overridden by {', '.join(sorted(set(overriders[id(item)])))}"
            grouped.setdefault((role, kind, _source_text(item.recommendation)), []).append(item.therapy.label)
    lines = [f"  {role}: {', '.join(dict.fromkeys(names))} ({kind}) — {source}"
             for (role, kind, source), names in grouped.items()]
    # a label fact names originators (ax:concernsDrug): a biosimilar asked about counts through its
    # reference product
    molecules = therapies | {str(m) for t in therapies for m in kb.objects(URIRef(t), AX.referenceProduct)}
    for need in result.needs_information:
        # an option decides the therapy when it is a row whose action includes it, or a label fact
        # that concerns it (the tuberculosis and hepatitis B checks before a TNF inhibitor, the
        # pregnancy stage before an NSAID: session-32 probe 2, F1, they were left out)
        decides = [o.id for o in need.options
                   if therapies & {str(m) for m in kb.objects(URIRef(o.iri), AX.actionMember)}
                   or molecules & {str(m) for m in kb.objects(URIRef(o.iri), AX.concernsDrug)}]
        if decides or any(f.fact in courses for f in need.because):
            why = f"decides {', '.join(decides)}" if decides else "rests on its course"
            lines.append(f"  question ({why}): {need.fact}")
    return "\nAlso about it:\n" + "\n".join(lines) + "\n" if lines else ""


def _open_output(path: Path, compressed: bool | None = None) -> IO[str]:
    """A text file to write; gzip-compressed when the name ends in .gz. Cohort advice is ~48 KB of
    JSON a patient (48 GB for a million) and repeats itself a lot, so it compresses well; level 1
    keeps the compressor cheap next to the rules."""
    # backslashreplace: a file name that is not UTF-8 (held as surrogates) in a reject's source
    # is written escaped instead of ending the run
    if path.suffix.lower() == ".gz" if compressed is None else compressed:
        return gzip.open(path, "wt", encoding="utf-8", errors="backslashreplace", compresslevel=1)
    return path.open("w", encoding="utf-8", errors="backslashreplace")


def staged_name(path: Path) -> Path:
    """Where a cohort output is written until the run has finished."""
    return path.with_name(path.name + ".partial")


OUTPUT_FORMATS = {"": "jsonl", ".jsonl": "jsonl", ".ttl": "ttl", ".nt": "nt"}  # by suffix, before any .gz


class CohortOutput:
    """A cohort output file (-o or --rejects), written under NAME.partial and given its name only
    once the run has finished. A run that failed or was interrupted left a file under the name
    asked for that looked complete (a gzip that passed `gzip -t` holding 10 of 197 patients), and
    had already replaced the file of an earlier run (session-35 failure probe F4). A write that
    fails names the file (a full disk said only "No space left on device": probe F9). Standard
    output, /dev/null, a link (/dev/stdout is one) and other files that are not plain files are
    written in place, through the link; the finished file keeps the mode of the one it replaces."""

    def __init__(self, flag: str, path: Path) -> None:
        self.flag, self.path, self.lines, self.done = flag, path, 0, False
        self.staged = staged_name(path) if not path.is_symlink() and (path.is_file() or not path.exists()) else None
        if self.staged is not None and path.exists() and not os.access(path, os.W_OK):
            raise AxspaError(f"{flag} {path}: cannot write (the file may not be written)")
        target = self.staged or path
        try:
            if self.staged is not None:
                self.staged.unlink(missing_ok=True)  # a stale one, or a link left where it would be
            self.file = _open_output(target, compressed=path.suffix.lower() == ".gz")
        except OSError as exc:
            raise self._cannot_write(exc, target) from exc

    def _cannot_write(self, exc: OSError, target: Path | None = None) -> AxspaError:
        """The one message for a write that failed, naming the flag and the file."""
        return AxspaError(f"{self.flag} {target or self.path}: cannot write ({exc.strerror or exc})")

    def write(self, text: str) -> int:
        try:
            written = self.file.write(text)
        except OSError as exc:
            raise self._cannot_write(exc) from exc
        self.lines += text.count("\n")
        return written

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        """Close (the last writes happen here: a full disk can show first now)."""
        try:
            self.file.close()
        except OSError as exc:
            raise self._cannot_write(exc) from exc

    def publish(self) -> None:
        """Put the closed, finished file under its name, with the mode of the file it replaces."""
        if self.staged is not None:
            try:
                if self.path.exists():
                    shutil.copymode(self.path, self.staged)
                os.replace(self.staged, self.path)
            except OSError as exc:
                raise self._cannot_write(exc) from exc
        self.done = True

    def abandon(self) -> str:
        """Close after a failure; what is left, for the message."""
        with contextlib.suppress(OSError):
            self.file.close()
        if self.staged is None:
            return f"{self.flag} {self.path}: incomplete ({self.lines} lines written)"
        return (f"{self.flag} {self.path}: not written (left as it was); the {self.lines} lines written before "
                f"the run stopped are in {self.staged}")


def _check_cohort_files(args: argparse.Namespace) -> str:
    """Everything about the files that can be checked before any is opened for writing (opening
    truncates): inputs exist, outputs have a known format and overwrite neither each other nor an
    input. The advice format. Each folder's walk is kept in `args.listing` for the run."""
    from .cohort import RECORD_SUFFIXES, below, format_suffix
    from .record import not_a_regular_file

    args.listing = {}
    for path in args.inputs:
        if str(path) == "-":
            raise RecordLoadError(not_a_regular_file(path, folders=True))
        if not path.exists():
            raise RecordLoadError(f"{path}: no such file or folder")
        if path.is_dir():
            # a folder that cannot be read is refused now, before any output is opened
            args.listing[path] = below(path)
        elif not path.is_file():
            raise RecordLoadError(not_a_regular_file(path, folders=True))
    if args.rejects and format_suffix(args.rejects) not in ("", ".jsonl"):
        raise AxspaError(f"--rejects {args.rejects}: the rejects are JSON Lines; name the file .jsonl or .jsonl.gz")
    fmt = "jsonl"
    if args.output:
        fmt = OUTPUT_FORMATS.get(format_suffix(args.output), "")
        if not fmt:
            raise AxspaError(f"-o {args.output}: unknown output format {format_suffix(args.output)!r}; "
                             "use .jsonl (JSON Lines, as recommend -f json), .ttl or .nt, optionally with .gz")
    # Only files are compared: two outputs may well both be /dev/null, or a terminal.
    outputs = [(flag, path) for flag, path in (("-o", args.output), ("--rejects", args.rejects))
               if path and (path.is_file() or not path.exists())]
    if len(outputs) == 2 and _same_file(outputs[0][1], outputs[1][1]):
        raise AxspaError(f"-o and --rejects name the same file ({args.output}); give two files")
    for flag, target in ((f, p) for f, p in (("-o", args.output), ("--rejects", args.rejects)) if p):
        if not target.parent.is_dir():
            raise AxspaError(f"{flag} {target}: the folder {target.parent} does not exist")
    for flag, target in outputs:
        for source in args.inputs:
            inside = source.is_dir() and target.resolve().is_relative_to(source.resolve())
            if _same_file(target, source) or _same_file(staged_name(target), source) or (
                    inside and format_suffix(target) in RECORD_SUFFIXES):
                raise AxspaError(f"{flag} {target}: would overwrite an input, or be read as one; write it elsewhere")
    return fmt


def _same_file(a: Path, b: Path) -> bool:
    """The same file, whatever the names (a symbolic or hard link included)."""
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _cohort(args: argparse.Namespace) -> int:
    from .cohort import WORKERS_NEED_EMBEDDED
    from .pipeline import Reasoner

    store = "oxigraph" if args.store == "memory" else args.store
    if args.workers > 1 and not (store == "oxigraph" or store.startswith("oxigraph:")):
        raise AxspaError(WORKERS_NEED_EMBEDDED)  # before opening a store that may not even answer
    if args.batch is not None and args.batch < 1:
        raise AxspaError("--batch must be at least 1")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if args.workers > cores:
        # each worker loads its own knowledge base and store: 64 of them on 2 cores took 46 s for
        # one record, and more than the cores only divides the same CPU time more finely
        print(f"axspa cohort: --workers {args.workers} is more than the {cores} core(s) here; using {cores}",
              file=sys.stderr)
        args.workers = cores
    fmt = _check_cohort_files(args)
    sink = None
    if store.startswith("oxigraph:"):
        # The on-disk store receives the whole cohort; the rules run batch by batch in memory.
        from .pipeline import open_store
        from .store import OxigraphStore

        if not store.split(":", 1)[1]:
            raise AxspaError("--store oxigraph:PATH needs a folder for the on-disk store (or use memory)")
        # open_store says which path could not be opened, as for recommend; "oxigraph:PATH" always
        # gives an OxigraphStore
        sink, store = cast(OxigraphStore, open_store(store)), "oxigraph"
    reasoner = Reasoner(store=store, guideline=args.guideline, as_of=args.as_of)
    return _closing(reasoner, lambda: _cohort_run(args, reasoner, fmt, sink, store))


def _closing(reasoner: Reasoner, work: Callable[[], int]) -> int:
    """Run `work`, then drop a remote store's working graphs of this run (RemoteStore.working),
    whether it succeeded or not. The output is written by then, so a server that cannot be reached
    is a note, not a failed run (the clean-up stops at the first request that times out)."""
    try:
        return work()
    finally:
        try:
            reasoner.close()
        except AxspaError as exc:
            print(f"axspa: note: this run's own graphs stay on the server ({exc}); README, "
                  "'Runs sharing an endpoint', says how to drop them", file=sys.stderr)


def _cohort_run(args: argparse.Namespace, reasoner: Reasoner, fmt: str, sink: OxigraphStore | None,
                store: str) -> int:
    from .cohort import DEFAULT_BATCH, RDFLIB_BATCH, CohortRunner, input_files, skipped_files

    if not args.output and hasattr(sys.stdout, "reconfigure"):  # (None when closed: refused below)
        sys.stdout.reconfigure(errors="backslashreplace")
    outputs: list[CohortOutput] = []
    try:
        for flag, path in (("-o", args.output), ("--rejects", args.rejects)):
            if path:
                outputs.append(CohortOutput(flag, path))
    except AxspaError:
        for output in outputs:  # the one opened before: nothing was written to it
            output.abandon()
            if output.staged is not None:
                output.staged.unlink(missing_ok=True)
        raise
    named = {output.flag: output for output in outputs}
    out = named["-o"] if "-o" in named else _standard_output()
    rejects = named.get("--rejects")
    try:
        batch = args.batch if args.batch is not None else (RDFLIB_BATCH if store == "rdflib" else DEFAULT_BATCH)
        runner = CohortRunner(reasoner, batch=batch, workers=args.workers, sink=sink)
        summary = runner.run(input_files(args.inputs, args.listing), out, fmt=fmt,  # type: ignore[arg-type]
                             rejects=rejects, progress=args.progress or sys.stderr.isatty(), publish=False)
        if not args.output:  # a reader that stopped early is found here, not at exit (which said 0)
            sys.stdout.flush()
        for output in outputs:  # all closed first: a rejects file that fails leaves the -o of before
            output.close()
        # a remote store's kept cohort is replaced once the files are written, so that a run that
        # says it did not finish has left it as it was (session-36 review F7)
        runner.publish_kept(summary)
        for output in outputs:
            output.publish()
    except BaseException:
        for output in outputs:
            if not output.done:
                print(f"axspa cohort: the run did not finish. {output.abandon()}", file=sys.stderr)
        raise
    print(f"axspa cohort: {summary.text()}", file=sys.stderr)
    skipped = skipped_files(args.inputs, args.listing)
    if skipped:
        shown = ", ".join(str(p) for p in skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        print(f"axspa cohort: {len(skipped)} file(s) in the input folders were not read, their suffix being no "
              f"record format (or the link pointing nowhere): {shown}; name a file directly to have it read "
              "(and rejected if it holds no record)", file=sys.stderr)
    if (summary.rejected or summary.lines_rejected) and not args.rejects:
        print("axspa cohort: rejected patients (and export lines) were not written anywhere; use --rejects FILE "
              "to keep them", file=sys.stderr)
    # Everything read was rejected (every record invalid, or a Bulk export stopped before any patient
    # was advised): 1, as `recommend` says of an invalid record, so a pipeline that checks the status
    # notices. Some patients advised and some rejected is a finished run (0): the summary says how
    # many were rejected, and --rejects keeps them.
    if summary.valid == 0 and (summary.rejected or summary.lines_rejected):
        return EXIT_INVALID
    return EXIT_OK


def run(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "kb":
        from .kb import main as kb_main

        return kb_main([])

    from .pipeline import Reasoner

    guideline = getattr(args, "guideline", "all")
    for flag, path in (("-o", getattr(args, "output", None)), ("--rejects", getattr(args, "rejects", None))):
        if path is not None and (str(path) in ("", ".") or path.is_dir()):  # argparse reads -o "" as "."
            raise AxspaError(f"{flag} {str(path) or chr(39) * 2}: is a folder, not a file; name the file to write")
    if args.command == "cohort":
        return _cohort(args)
    output, record = getattr(args, "output", None), getattr(args, "file", None)
    if output and record and output.is_file() and _same_file(output, Path(record)):
        raise AxspaError(f"-o {output}: that is the record being read; write the output elsewhere")
    if output and not output.parent.is_dir():  # said before the work, not after it
        raise AxspaError(f"-o {output}: the folder {output.parent} does not exist")
    reasoner = Reasoner(store=getattr(args, "store", "oxigraph"), guideline=guideline,
                        exact=getattr(args, "exact", False), validator=getattr(args, "validator", "sparql"),
                        as_of=getattr(args, "as_of", None))
    return _closing(reasoner, lambda: _one_record(args, reasoner))


def _one_record(args: argparse.Namespace, reasoner: Reasoner) -> int:
    """validate, recommend or explain one record."""
    if args.command == "validate":
        loaded, report = reasoner.validate(args.file)
        from .report import build_result

        result = build_result(loaded, report, None, reasoner.full_kb)
        _emit(result.to_json() + "\n" if args.format == "json" else _validation_text(result), args.output)
        return EXIT_OK if result.conforms else EXIT_INVALID

    therapies = _resolve_therapy(args.therapy, reasoner) if args.command == "explain" else set()
    result = reasoner.recommend(args.file, provenance=getattr(args, "format", "") in ("jsonld", "turtle"))
    if args.command == "explain":
        if not result.conforms:
            _emit(_validation_text(result), args.output)
            return EXIT_INVALID
        courses = _courses_of(reasoner.load(args.file).graph, therapies, reasoner.full_kb)
        _emit(_explain(result, therapies, args.therapy) + _mentions(result, therapies, courses, reasoner.full_kb),
              args.output)
    elif args.format == "json":
        _emit(result.to_json() + "\n", args.output)
    elif args.format in ("jsonld", "turtle"):
        _emit(_graph_output(result, args.format), args.output)  # an invalid record: its SHACL report
    else:
        _emit(render_text(result), args.output)
    # once the output is written (a run that fails writing it leaves the store as it was): a remote
    # store keeps this valid record and its advice, as the README says
    if result.conforms:
        reasoner.publish()
    return EXIT_OK if result.conforms else EXIT_INVALID


def closed_pipe() -> int:
    """The exit code for a reader that went away, after pointing standard output at /dev/null so
    that the interpreter's last flush raises no second error."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `axspa` command; maps every expected error to its exit code."""
    restore = _buffer_stdout()
    # only as the command itself: a program calling main(argv) keeps its own SIGTERM and logging
    stop_as_interrupt = _terminate_as_interrupt() if argv is None else (lambda: False)
    if argv is None:
        _warnings_as_messages()
    try:
        code = _run_reporting_errors(sys.argv[1:] if argv is None else argv)
    finally:
        terminated = stop_as_interrupt()
        restore()
    if terminated:  # cleaned up: now end as SIGTERM ends a process (a service manager checks)
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGTERM)
    return code


def _warnings_as_messages() -> None:
    """The package's log warnings (a run waiting for another's publish) on standard error as the
    command's other messages are, `axspa: …`, rather than bare through logging's last resort."""
    logger = logging.getLogger("reasoner")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("axspa: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)


class Terminated(BaseException):
    """SIGTERM arrived (kill, timeout, docker stop, systemd stopping a unit)."""


def _terminate_as_interrupt() -> Callable[[], bool]:
    """SIGTERM ends a run as Ctrl-C does: output files left under their .partial names with a
    message, a remote store's working graphs dropped; then the process ends by the signal. By
    default Python dies on it at once, and the run's graphs stayed on the server (session-36 review
    F8). Only where SIGTERM has its default action, from the main thread; returns what puts the
    default back and says whether SIGTERM came."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: False
    came: list[bool] = []

    def terminated(signum: int, frame: object) -> None:
        came.append(True)
        raise Terminated

    signal.signal(signal.SIGTERM, terminated)

    def restore() -> bool:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        return bool(came)
    return restore


def _run_reporting_errors(argv: list[str]) -> int:
    try:
        return run(argv)
    except AxspaError as exc:
        print(f"axspa: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader went away (`axspa cohort ... | head`): stop quietly
        return closed_pipe()
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        print(f"axspa: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print("axspa: interrupted", *_notes(exc), sep="\naxspa: ", file=sys.stderr)
        return 130
    except Terminated as exc:
        print("axspa: terminated (SIGTERM)", *_notes(exc), sep="\naxspa: ", file=sys.stderr)
        return 128 + signal.SIGTERM


def _notes(exc: BaseException) -> list[str]:
    """What the code an interrupt cut short added to it (a remote publish on its way: RemoteStore)."""
    return list(getattr(exc, "__notes__", ()))


if __name__ == "__main__":
    sys.exit(main())
