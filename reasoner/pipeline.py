"""The main job: record in, validated, classified, rules applied, advice out.

    record -> parse + resolve drug names -> into the store
           -> SHACL (shapes compiled to one SPARQL query, in the store; stop on violations)
           -> classification (compiled OWL definitions, in the store)
           -> rule strata (SPARQL CONSTRUCT, in the store) -> advice graph -> typed result

The knowledge base, its closures and the compiled queries are prepared once per Reasoner; each
call then loads only the patient's triples, so a warm call costs milliseconds on Oxigraph.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from . import cache
from .classify import CompiledClass, closure_graph, compile_populations
from .errors import AxspaError, InvalidRecordError, KnowledgeBaseError
from .hermit import run_hermit
from .kb import knowledge_base
from .namespaces import AX, bind_all
from .paths import data_dir
from .queries import QueryFile, query_folder, read_query
from .record import PatientRecord, load_record
from .report import (
    ADVICE_COLUMNS,
    DETAIL_COLUMNS,
    ITEM_COLUMNS,
    AdviceNodes,
    Result,
    advice_fields,
    advice_statements,
    build_result,
)
from .rule_gates import RuleGates
from .rules import PROVENANCE_RULES, Rule, analyse_cached, load_rules
from .store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH, OxigraphStore, RdflibStore, Store, select_tuples
from .today import pinned, reads_today, run_date
from .validate import VALIDATORS, StoreValidator, ValidationReport, validate_record

StoreFactory = Callable[[], Store]
STORES: dict[str, StoreFactory] = {"oxigraph": OxigraphStore, "rdflib": RdflibStore}

Record = str | Path | dict[str, Any] | Graph

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _one_call_at_a_time(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run a Reasoner method under the Reasoner's lock. Every call stages its patients in the same
    working graphs of one store (and validates in one validation store), so two threads advising
    at once cleared each other's patients and got empty, partial or unsafe advice with no error
    (session-35 failure probe F1). A warm call takes milliseconds, so waiting costs little; for
    calls in parallel, give each thread (or process) its own Reasoner."""
    @functools.wraps(method)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with args[0].lock:  # type: ignore[attr-defined]
            if args[0].closed:  # type: ignore[attr-defined]
                raise AxspaError(CLOSED)
            return method(*args, **kwargs)
    return locked


# A closed Reasoner on a remote store gave valid records no advice, and its publish() emptied the
# kept graphs, all without an error (session-36 review F5).
CLOSED = "this Reasoner was closed (its own graphs on the remote store are gone, or going); open another to go on"


_COMPILED = Path("<compiled from the ontology>")  # the path shown for a compiled class query


def store_timeout() -> float:
    """Seconds a request to a remote store may wait for the server: $AXSPA_STORE_TIMEOUT, else 300.
    A server that accepts the connection and never answers cost five minutes a run, with no way to
    shorten it (session-35 failure probe F11)."""
    given = os.environ.get("AXSPA_STORE_TIMEOUT", "").strip()
    if not given:
        return 300.0
    try:
        seconds = float(given)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise AxspaError(f"AXSPA_STORE_TIMEOUT={given!r}: give the seconds a request may wait, a number above 0")
    return seconds


def open_store(store: str | Store) -> Store:
    """A store from its name or URL (or the store itself)."""
    if not isinstance(store, str):
        if callable(getattr(store, "select", None)) and callable(getattr(store, "add", None)):
            return store  # a Store (the protocol is structural)
        raise AxspaError(f"store: give a name (oxigraph, oxigraph:PATH, rdflib), an endpoint URL or a Store, "
                         f"not {type(store).__name__}")
    if store.startswith(("http://", "https://")):
        from .remote import RemoteStore

        return RemoteStore(store, timeout=store_timeout(), run=uuid.uuid4().hex)
    if store.startswith("virtuoso:"):  # virtuoso:http://host:8890 - Virtuoso's endpoint layout, not Oxigraph's
        from .remote import Endpoints, RemoteStore

        return RemoteStore(Endpoints.virtuoso(store.split(":", 1)[1]), timeout=store_timeout(), run=uuid.uuid4().hex)
    if store.startswith("oxigraph:"):
        path = store.split(":", 1)[1]
        if not path:  # OxigraphStore("") would quietly be an in-memory store
            raise AxspaError("store: oxigraph: needs a folder after the colon (oxigraph:PATH), or use oxigraph")
        try:
            return OxigraphStore(path)
        except OSError as exc:  # a file, not a folder; no permission; a database another process holds
            raise AxspaError(f"store: oxigraph:{path}: cannot open it as an Oxigraph database folder ({exc})") from exc
    if store not in STORES:
        raise AxspaError(f"unknown store {store!r}; use oxigraph, oxigraph:PATH, rdflib, an http(s) endpoint URL "
                         "(oxigraph serve layout) or virtuoso:URL")
    return STORES[store]()


def prepared_kb(kb: Graph) -> Graph:
    """The knowledge base plus what the rules read from it: type and fallsUnder closures, and the
    per-recommendation links of queries/kb/ (action members, advice kinds). Cached on disk for
    the shipped knowledge base (see reasoner/cache.py)."""
    origin = cache.origin(kb)
    key = None
    if origin is not None:
        code = [Path(__file__).with_name(n) for n in ("classify.py", "pipeline.py")]
        key = "prepared-" + cache.digest([*code, *(q.path for q in query_folder("kb"))], origin)
        extra = cache.read_graph(key)
        if extra is not None:
            return _merged(kb, extra)
    extra = closure_graph(kb)
    scratch = OxigraphStore()
    scratch.add(kb, KB_GRAPH)
    scratch.add(extra, KB_GRAPH)
    for query in query_folder("kb"):
        # in file-name order, each query reading what the earlier ones derived (the unknown-condition
        # links read label-advice-kinds.rq's advice kinds)
        derived = scratch.construct(query.text)
        scratch.add(derived, KB_GRAPH)
        extra += derived
    if key is not None:
        cache.write_graph(key, extra)
    return _merged(kb, extra)


def _merged(*graphs: Graph) -> Graph:
    out = Graph()
    bind_all(out)
    for graph in graphs:
        out += graph
    return out


class Reasoner:
    """Holds the prepared knowledge base, compiled classes and rule strata; advises on records."""

    def __init__(self, store: str | Store = "oxigraph", guideline: str = "all", kb: Graph | None = None,
                 exact: bool = False, validator: str = "sparql", as_of: date | None = None) -> None:
        """`store`: "oxigraph" (embedded, default), "rdflib", an http(s) URL of an Oxigraph-style
        SPARQL endpoint, or any Store instance. `exact=True` classifies with HermiT (about a second
        per call) instead of the compiled queries. `validator`: "sparql" (the shapes compiled to
        SPARQL and run in the store, default) or "pyshacl" (the reference engine, ~50 ms a record).
        `as_of`: the day the rules and the compiled shapes take as today (reasoner.today); by
        default the UTC date of each call."""
        if as_of is not None and not isinstance(as_of, date):
            raise AxspaError(f"as_of must be a date, not {type(as_of).__name__}")
        self.as_of = as_of
        if validator not in VALIDATORS:
            raise AxspaError(f"unknown validator {validator!r}; use one of {', '.join(VALIDATORS)}")
        self.validator = validator
        # Held by each method that uses the stores, and across a whole call (reentrant); a caller
        # that runs stage, classify, apply_rules and advice one by one holds it around them.
        self.lock = threading.RLock()
        # set by close(), or when the graphs are dropped at exit; every call then refuses (see CLOSED).
        # A list, shared with the finalizer, which must not hold the Reasoner itself.
        self._closed = [False]
        store = "oxigraph" if store == "memory" else store  # the cohort command's name for it
        # What a cohort worker process needs to build the same Reasoner: only for the in-memory
        # store and the shipped KB (a Store instance, a store on disk or at a URL would be shared;
        # `axspa cohort --store oxigraph:PATH` runs its rules in memory and only writes to disk).
        self.settings: dict[str, Any] | None = (
            {"store": store, "guideline": guideline, "exact": exact, "validator": validator, "as_of": as_of}
            if store == "oxigraph" and kb is None else None)
        self.kb = kb if kb is not None else knowledge_base()
        self.store_validator = StoreValidator(self.kb)
        self.guideline = guideline
        self.full_kb = prepared_kb(self.kb)
        self.classes: list[CompiledClass] = compile_populations(self.kb)
        self.strata: list[list[Rule]] = load_rules(guideline)
        self.reads_today = {rule.name for stratum in self.strata for rule in stratum if reads_today(rule.query.text)}
        self.gates = RuleGates((rule for stratum in self.strata for rule in stratum), self.full_kb)
        # The class queries are gated the same way (by name = class IRI): a record without the
        # diagnosis, state or course a definition needs never runs that class's query.
        self.class_gates = RuleGates(
            analyse_cached([QueryFile(str(c.iri), _COMPILED, c.query) for c in self.classes]), self.full_kb)
        self.skip_closed_rules = True  # False runs every rule (tests compare both)
        report_queries = data_dir("queries") / "report"
        self._advice_query = read_query(report_queries / "advice-statements.rq").text
        self._advice_field_queries = tuple(read_query(report_queries / f"advice-{part}.rq").text
                                           for part in ("items", "details"))
        self.exact = exact
        self.store: Store = open_store(store)
        # A remote store this Reasoner opened (from a URL) works in graphs of its own
        # (RemoteStore.working); they are dropped by close(), or when the Reasoner is collected or
        # the interpreter exits. A Store handed in is the caller's, and so are its graphs (another
        # Reasoner may share it: session-36 review F6).
        discard = getattr(self.store, "discard", None) if isinstance(store, str) else None
        self._finalizer = (weakref.finalize(self, _discard_quietly, discard, self._closed, os.getpid())
                           if callable(discard) else None)
        if self._finalizer is not None:
            # a multiprocessing child (a Pool's worker) ends with os._exit, which runs no atexit
            # hook but does run multiprocessing's own finalizers: without this a fork Pool's workers
            # left their graphs on the server (session-37 re-review N1). (Imported here: only a
            # store of its own on a server needs it, and `recommend` starts faster without it.)
            import multiprocessing.util

            if multiprocessing.parent_process() is not None:
                multiprocessing.util.Finalize(None, self._finalizer, exitpriority=10)
        self.store.clear(KB_GRAPH)
        self.store.add(self.full_kb, KB_GRAPH)
        # An endpoint that answers updates with success and drops them (a read-only proxy, or
        # different datasets behind /query and /update) gave every valid patient empty advice
        # with exit code 0 (session-35 failure probe F10): one question asked once settles it.
        if not isinstance(self.store, (OxigraphStore, RdflibStore)) and not self.store.ask(
                f"ASK {{ <{AX.principle_do_not_repeat}> ?p ?o }}"):
            raise AxspaError("store: the endpoint accepted the knowledge base but its queries do not see it "
                             "(a read-only proxy, or different datasets behind its query and update URLs?)")

    def load(self, record: Record) -> PatientRecord:
        return load_record(record, self.kb)

    @_one_call_at_a_time
    def publish(self) -> None:
        """On a remote store, make what this Reasoner's store holds now (knowledge base, patients,
        derived statements) the server's kept graphs (`…/graph/kb`, `…/patients`, `…/derived`), in
        one request; other stores hold no graphs of their own, and nothing happens."""
        publish = getattr(self.store, "publish", None)
        if callable(publish):
            publish([(name, name) for name in (KB_GRAPH, PATIENTS_GRAPH, DERIVED_GRAPH)])

    def close(self, timeout: float | None = None) -> None:
        """Drop this Reasoner's own graphs from a remote store it opened (see RemoteStore.working),
        each request waiting `timeout` seconds (else the store's); a server that cannot be reached
        raises RemoteStoreError. Also done, without a word on failure, when the Reasoner is
        collected or the interpreter exits. The Reasoner then refuses further calls (on the other
        stores close() does nothing)."""
        detached = self._finalizer.detach() if self._finalizer is not None else None
        if detached is not None:
            discard = detached[2][0]
            with self.lock:
                self._closed[0] = True
                discard(timeout)

    @property
    def closed(self) -> bool:
        return self._closed[0]

    def __enter__(self) -> Reasoner:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
            return
        with contextlib.suppress(AxspaError):  # the error that ended the block is the one to tell
            self.close()

    @_one_call_at_a_time
    def stage(self, patients: Graph | Sequence[Graph]) -> None:
        """Replace the store's patients with these and drop everything derived before."""
        self.store.clear(PATIENTS_GRAPH)
        self.store.clear(DERIVED_GRAPH)
        for graph in [patients] if isinstance(patients, Graph) else patients:
            self.store.add(graph, PATIENTS_GRAPH)

    @_one_call_at_a_time
    def validate(self, record: Record) -> tuple[PatientRecord, ValidationReport]:
        """Load and validate one record (in the validation store: the main store is untouched)."""
        loaded = self.load(record)
        report = self.validate_loaded([loaded.graph])[0]
        return loaded, loaded.explain(report)

    @_one_call_at_a_time
    def validate_loaded(self, graphs: list[Graph], today: date | None = None) -> list[ValidationReport]:
        """Reports for records already parsed, in order; many at once is one query. `today`: the
        date the compiled shapes take as today (default: `as_of`, else the UTC date; pySHACL reads
        its own clock)."""
        if self.validator == "pyshacl":
            return [validate_record(graph, self.kb) for graph in graphs]
        return self.store_validator.validate(graphs, today or run_date(self.as_of))

    @_one_call_at_a_time
    def classify(self, patients: Graph | Sequence[Graph]) -> None:
        """Stage the patient(s) and add their population (and helper) class memberships."""
        self.stage(patients)
        if self.exact:
            merged = patients if isinstance(patients, Graph) else _union(patients)
            self.store.add(classify_exact(self.kb, merged, self.classes), DERIVED_GRAPH)
        else:
            self.classify_loaded()

    @_one_call_at_a_time
    def classify_loaded(self) -> None:
        """Run the compiled class queries over every patient already in the store (set-at-a-time)."""
        closed = self.class_gates.closed(self.store) if self.skip_closed_rules else set()
        self.store.construct_into([c.query for c in self.classes if str(c.iri) not in closed], DERIVED_GRAPH)

    @_one_call_at_a_time
    def apply_rules(self, provenance: bool = True, today: date | None = None) -> None:
        """Every rule stratum once over all patients in the store; each stratum's output is added
        before the next runs, so negation always reads a complete lower stratum.

        `provenance=False` leaves out the rules whose output only the RDF renderings carry (PROV-O
        links and copied grading: a third of the derived triples); no other rule reads them.
        Rules that cannot fire over the store's patients are skipped (reasoner.rule_gates).
        The rules that read today run with `today` in place of NOW() (default: `as_of`, else the
        UTC date; reasoner.today), so every store reads one batch on one day."""
        skipped = set() if provenance else set(PROVENANCE_RULES)
        absent = self.gates.absent(self.store) if self.skip_closed_rules else None
        day = today or run_date(self.as_of)
        for stratum in self.strata:
            closed = self.gates.closed(self.store, stratum, absent) if absent is not None else set()
            queries = [pinned(rule.query.text, day) if rule.name in self.reads_today else rule.query.text
                       for rule in stratum if rule.name not in skipped and rule.name not in closed]
            if queries:
                self.store.construct_into(queries, DERIVED_GRAPH)

    @_one_call_at_a_time
    def derive(self, patient_graph: Graph) -> Graph:
        """Classification then every rule stratum; returns the derived graph (types + advice).

        The graph may hold one patient or many: the queries never bind a patient."""
        self.classify(patient_graph)
        self.apply_rules()
        return self.store.graph(DERIVED_GRAPH)

    @_one_call_at_a_time
    def recommend(self, record: Record, *, strict: bool = False, provenance: bool = False) -> Result:
        """Validate, then advise. An invalid record yields a result with no advice (or raises if strict).

        `result.graph` holds the advice statements; with `provenance=True` also their PROV-O
        statements and types (what `-f jsonld|turtle` prints), at a few milliseconds more."""
        loaded, report = self.validate(record)
        if not report.conforms:
            if strict:
                raise InvalidRecordError("the record failed validation", report)
            return build_result(loaded, report, None, self.full_kb)
        self.classify(loaded.graph)
        self.apply_rules(provenance)
        return build_result(loaded, report, self.advice(provenance).get(loaded.patient, {}), self.full_kb)

    @_one_call_at_a_time
    def advice(self, provenance: bool = True) -> dict[URIRef, AdviceNodes]:
        """Advice statements in the store, grouped by patient (one query for the whole batch).
        `provenance=False` reads only what the JSON contract needs (no PROV-O, no types)."""
        if provenance:
            return advice_statements(select_tuples(self.store, self._advice_query, ADVICE_COLUMNS))
        items, details = self._advice_field_queries
        return advice_fields(select_tuples(self.store, items, ITEM_COLUMNS),
                             select_tuples(self.store, details, DETAIL_COLUMNS))


# Seconds each clean-up request may wait at exit: a server that stopped answering held the
# interpreter's exit for the whole store timeout (session-36 review F9). A big graph may need
# longer to drop, and is then left (the README's clean-up Update removes it).
EXIT_TIMEOUT = 10.0


def _discard_quietly(discard: Callable[[float | None], None], closed: list[bool], owner: int) -> None:
    """A Reasoner's working graphs dropped when it is collected or at exit, where an error has no
    one to go to: a server gone by then keeps them (see the README on stale run graphs). Marks the
    Reasoner closed first, so a thread still using it is refused rather than given empty advice;
    does nothing in a process forked from the owner, whose graphs these are (session-36 re-review)."""
    if os.getpid() != owner:
        return
    closed[0] = True
    with contextlib.suppress(AxspaError):
        discard(EXIT_TIMEOUT)


def _union(graphs: Sequence[Graph]) -> Graph:
    merged = Graph()
    for graph in graphs:
        merged += graph
    return merged


def classify_exact(kb: Graph, patient_graph: Graph, classes: list[CompiledClass]) -> Graph:
    """Classify every node of `patient_graph` with HermiT; keep memberships of the defined classes."""
    wanted = {str(c.iri) for c in classes}
    merged = Graph()
    merged += kb
    merged += patient_graph
    nodes = sorted({s for s in patient_graph.subjects() if isinstance(s, URIRef)})
    result = run_hermit(merged, individuals=nodes)
    if not result.consistent:
        raise KnowledgeBaseError(f"HermiT finds the record inconsistent with the knowledge base: {result.message}")
    inferred = Graph()
    for node, types in result.types.items():
        for cls in types & wanted:
            inferred.add((URIRef(node), RDF.type, URIRef(cls)))
    return inferred


_DEFAULT: dict[tuple[str, str, int], Reasoner] = {}
_DEFAULT_LOCK = threading.Lock()


def default_reasoner(store: str = "oxigraph", guideline: str = "all") -> Reasoner:
    """A shared Reasoner per (store, guideline) and process, so repeated API calls stay warm. Built
    once even when threads ask at the same time (two would each load the knowledge base into the
    store). A process forked from one that had made it makes its own: the parent's works in the
    parent's graphs on a remote store, which a child is refused (session-37 review R3: a fork
    Pool's workers calling `reasoner.recommend(record, store=URL)` failed)."""
    key = (store, guideline, os.getpid())
    found = _DEFAULT.get(key)
    if found is not None and not found.closed:  # the warm path takes no lock
        return found
    with _DEFAULT_LOCK:
        if key not in _DEFAULT or _DEFAULT[key].closed:  # (one closed by its user is replaced)
            _DEFAULT[key] = Reasoner(store=store, guideline=guideline)
        return _DEFAULT[key]


def _fresh_lock_after_fork() -> None:
    """A child forked while another thread held the lock would wait on it for ever."""
    global _DEFAULT_LOCK
    _DEFAULT_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_lock_after_fork)


def recommend(record: Record, *, guideline: str = "all", store: str = "oxigraph") -> Result:
    """Advice for one patient record (a path, an rdflib Graph or a dict)."""
    return default_reasoner(store, guideline).recommend(record)

