"""Runs sharing one SPARQL endpoint: each works in graphs of its own and touches the kept graphs
only when it publishes (session-35 failure probe F2: two runs with fixed graph names cleared each
other's patients and gave unsafe advice with exit code 0; F5: a run that failed half-way had
already destroyed the cohort kept before it)."""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from reasoner import cohort as cohort_module
from reasoner import remote as remote_module
from reasoner.cli import main
from reasoner.cohort import CohortRunner
from reasoner.namespaces import AX
from reasoner.pipeline import Reasoner
from reasoner.remote import GRAPH_BASE, PUBLISHING_GRAPH, RUN_GRAPHS, RemoteStore, RemoteStoreError
from reasoner.store import DERIVED_GRAPH, KB_GRAPH, PATIENTS_GRAPH

from .oxigraph_server import oxigraph_server
from .remote_graphs import graphs_on_server
from .test_store_parity import _canonical

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "valid"
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402

KEPT = {KB_GRAPH, PATIENTS_GRAPH, DERIVED_GRAPH}


def _patients(reasoner: Reasoner, names: list[str]) -> Graph:
    merged = Graph()
    for name in names:
        loaded, report = reasoner.validate(VALID / name)
        assert report.conforms, name
        merged += loaded.graph
    return merged


@pytest.fixture(scope="module")
def server_url():
    with oxigraph_server() as url:
        yield url


def test_a_run_names_our_graphs_its_own_and_leaves_others_alone() -> None:
    store = RemoteStore("http://127.0.0.1:1", run="r1")
    assert store.working(PATIENTS_GRAPH) == GRAPH_BASE + "run/r1/patients"
    assert store.graphs == tuple(GRAPH_BASE + f"run/r1/{name}" for name in ("kb", "patients", "derived"))
    assert store.working("https://example.org/g") == "https://example.org/g"
    assert store.working(GRAPH_BASE + "run/r1/kb") == GRAPH_BASE + "run/r1/kb"  # not twice
    assert RemoteStore("http://127.0.0.1:1").working(PATIENTS_GRAPH) == PATIENTS_GRAPH
    with pytest.raises(RemoteStoreError, match="run id"):
        RemoteStore("http://127.0.0.1:1", run="a/b>")


def test_two_runs_on_one_endpoint_each_advise_their_own_patients(reasoner, server_url: str) -> None:
    """The steps of two runs interleaved as two processes may interleave them: the second starts
    (loading its knowledge base) and stages its patients between the first's staging and rules."""
    mine = _patients(reasoner, ["as-lupus-like-on-secukinumab.json", "as-pregnant-31-weeks.json"])
    theirs = _patients(reasoner, ["as-biosimilar-primary-nonresponse.json", "as-psoriasis-crohns-biologic-naive.json"])
    expected = {"mine": _canonical(reasoner.derive(mine)), "theirs": _canonical(reasoner.derive(theirs))}
    with Reasoner(store=server_url) as first:
        first.classify(mine)
        with Reasoner(store=server_url) as second:
            second.classify(theirs)
            first.apply_rules()
            second.apply_rules()
            got = {"mine": _canonical(first.store.graph(DERIVED_GRAPH)),
                   "theirs": _canonical(second.store.graph(DERIVED_GRAPH))}
    assert got == expected
    assert graphs_on_server(RemoteStore(server_url)) <= KEPT  # closing dropped both runs' graphs


def _cohort_file(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _kept_patients(url: str) -> set[str]:
    return {str(p) for p in RemoteStore(url).graph(PATIENTS_GRAPH).subjects(RDF.type, AX.Patient)}


def _fail_on_the_second_batch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """From now on, a cohort's second batch fails as if the server had gone away."""
    advise = cohort_module.advise_batch
    calls: list[int] = []

    def fails_on_the_second_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the server went away")
        return advise(*args, **kwargs)

    monkeypatch.setattr(cohort_module, "advise_batch", fails_on_the_second_batch)


def _run_graphs_left(url: str) -> set[str]:
    """The graphs of runs (`…/graph/run/ID/…`) still on the server."""
    return {g for g in graphs_on_server(RemoteStore(url)) if g.startswith(RUN_GRAPHS)}


def test_a_failed_cohort_leaves_the_cohort_kept_before_it(server_url: str, tmp_path: Path, monkeypatch) -> None:
    records = list(cohort(16, seed=5, invalid_fraction=0.0))
    out = io.StringIO()
    with Reasoner(store=server_url) as first:
        CohortRunner(first, batch=4).run([_cohort_file(tmp_path / "a.jsonl", records[:8])], out)
    kept = _kept_patients(server_url)
    assert kept == {json.loads(line)["patient"] for line in out.getvalue().splitlines()} and len(kept) >= 4

    _fail_on_the_second_batch(monkeypatch)
    with pytest.raises(RuntimeError, match="went away"), Reasoner(store=server_url) as second:
        CohortRunner(second, batch=4).run([_cohort_file(tmp_path / "b.jsonl", records[8:])], io.StringIO())
    assert _kept_patients(server_url) == kept
    assert graphs_on_server(RemoteStore(server_url)) == KEPT


def test_two_cohorts_on_one_reasoner_in_two_threads_each_keep_their_own(
        server_url: str, tmp_path: Path, monkeypatch) -> None:
    """Two threads running cohorts on one Reasoner(store=URL) shared its holding graphs, and each
    batch was copied there after the Reasoner's lock was released: one cohort's start dropped the
    other's batches, and a batch could be copied after the other thread had staged its own
    (session-35 review L6). Each runner now has holding graphs of its own, filled under the lock.
    (A pause before each copy widens the window the other thread had.)"""
    keep = CohortRunner._keep_on_server

    def slow_copy(self, step):  # type: ignore[no-untyped-def]
        if step == "batch":
            time.sleep(0.05)
        keep(self, step)

    monkeypatch.setattr(CohortRunner, "_keep_on_server", slow_copy)
    records = list(cohort(12, seed=53, invalid_fraction=0.0))
    files = [_cohort_file(tmp_path / f"{i}.jsonl", records[6 * i:6 * i + 6]) for i in (0, 1)]
    outs = [io.StringIO(), io.StringIO()]
    failures: list[BaseException] = []
    with Reasoner(store=server_url) as shared:
        runners = [CohortRunner(shared, batch=1) for _ in files]
        start = threading.Barrier(2)

        def run(i: int) -> None:
            try:
                start.wait()
                runners[i].run([files[i]], outs[i], publish=False)
            except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        assert not failures and not any(thread.is_alive() for thread in threads)
        advised = [{json.loads(line)["patient"] for line in out.getvalue().splitlines()} for out in outs]
        for runner, patients in zip(runners, advised, strict=True):
            assert len(patients) == 6
            held = shared.store.graph(runner.held[0][1])
            assert {str(p) for p in held.subjects(RDF.type, AX.Patient)} == patients
        runners[1].publish_kept()
    assert _kept_patients(server_url) == advised[1]
    assert graphs_on_server(RemoteStore(server_url)) == KEPT


def test_a_cohorts_seconds_include_replacing_the_kept_graphs(server_url: str, tmp_path: Path, monkeypatch) -> None:
    """The summary's seconds were taken before the kept graphs were replaced, so a big cohort's copy
    on a slow server was not in the time printed (session-36 note)."""
    keep = CohortRunner._keep_on_server

    def slow_end(self, step):  # type: ignore[no-untyped-def]
        if step == "end":
            time.sleep(1.0)
        keep(self, step)

    monkeypatch.setattr(CohortRunner, "_keep_on_server", slow_end)
    records = list(cohort(2, seed=57, invalid_fraction=0.0))
    with Reasoner(store=server_url) as run:
        summary = CohortRunner(run).run([_cohort_file(tmp_path / "c.jsonl", records)], io.StringIO())
    assert summary.valid == 2 and summary.seconds >= 1.0


def test_recommend_on_an_endpoint_keeps_the_record_and_drops_its_own_graphs(server_url: str, capsys) -> None:
    record = ROOT / "examples" / "case2-multiple-failures.json"
    assert main(["recommend", str(record), "-f", "json", "--store", server_url]) == 0
    patient = json.loads(capsys.readouterr().out)["patient"]
    assert _kept_patients(server_url) == {patient}
    assert graphs_on_server(RemoteStore(server_url)) == KEPT


def test_an_interrupt_while_publishing_says_the_kept_graphs_may_still_be_replaced(
        server_url: str, monkeypatch, capsys) -> None:
    """Ctrl-C while the replacing request was on its way said only "interrupted": the server may
    still carry the request out, and its mark stays in force until it has (session-36 re-review N3)."""
    update = RemoteStore.update

    def interrupted(self, text, timeout=None):  # type: ignore[no-untyped-def]
        if text.startswith(f"CLEAR SILENT GRAPH <{KB_GRAPH}>"):  # the publish request, and only it
            raise KeyboardInterrupt
        return update(self, text, timeout)

    monkeypatch.setattr(RemoteStore, "update", interrupted)
    record = ROOT / "examples" / "case2-multiple-failures.json"
    assert main(["recommend", str(record), "--store", server_url]) == 130
    err = capsys.readouterr().err
    assert "axspa: interrupted\naxspa: The server may still be replacing the kept graphs; other runs wait" in err
    monkeypatch.undo()
    assert len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))  # in force until then
    RemoteStore(server_url).update(f"CLEAR GRAPH <{PUBLISHING_GRAPH}>")


def test_a_reasoner_left_unclosed_drops_its_graphs_when_collected(server_url: str) -> None:
    forgotten = Reasoner(store=server_url)
    assert isinstance(forgotten.store, RemoteStore)
    own = set(forgotten.store.graphs)
    assert own & graphs_on_server(forgotten.store)  # its knowledge base, at least
    del forgotten
    gc.collect()
    assert not own & graphs_on_server(RemoteStore(server_url))


def test_the_readme_update_drops_graphs_a_killed_run_left(server_url: str) -> None:
    """A run killed outright cannot drop its graphs; the README gives the Update that does."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Runs sharing an endpoint"):]
    start = section.index("```sparql") + len("```sparql")
    update = section[start:section.index("```", start)]
    killed = Reasoner(store=server_url)
    assert killed._finalizer is not None
    killed._finalizer.detach()  # as if the process had died: nothing drops its graphs
    assert set(killed.store.graphs) & graphs_on_server(RemoteStore(server_url))
    _mark(server_url, "killed-publishing", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    held = PATIENTS_GRAPH + "/cohort-held/0123456789ab"  # a killed cohort's, on a store with no run id
    RemoteStore(server_url).update(f"INSERT DATA {{ GRAPH <{held}> {{ <urn:x:p> a <{AX.Patient}> }} }}")
    RemoteStore(server_url).update(update)
    assert not {g for g in graphs_on_server(RemoteStore(server_url))
                if g.startswith(GRAPH_BASE + "run/") or g == PUBLISHING_GRAPH or "/cohort-held/" in g}


def _graph_of(records: list[dict], reasoner) -> Graph:  # type: ignore[no-untyped-def]
    merged = Graph()
    for record in records:
        merged += reasoner.load(record).graph
    return merged


def _by_value(graph: Graph) -> set[tuple]:
    """Triples with literals by value: the server writes the decimal 2.0 back as 2."""
    return {(s, p, (o.datatype, o.toPython()) if isinstance(o, Literal) else o) for s, p, o in graph}


def _publish_when_all_are_ready(run: Reasoner, start, failures: list[BaseException]) -> None:  # type: ignore[no-untyped-def]
    try:
        start.wait()
        run.publish()
    except BaseException as exc:  # noqa: BLE001 (reported by the test's assertion)
        failures.append(exc)


def test_two_runs_publishing_at_once_leave_one_whole_cohort(reasoner, tmp_path: Path) -> None:
    """Two runs replacing the kept graphs at the same moment, each with its own version of the same
    patient ids: the kept patients are one run's, whole, and the knowledge base is there once.
    Without the publishing mark both requests committed on an on-disk Oxigraph server and the two
    cohorts merged."""
    with oxigraph_server(tmp_path / "store") as url:
        _publish_at_once(reasoner, url)


def _publish_at_once(reasoner: Reasoner, server_url: str) -> None:

    versions = [_graph_of(list(cohort(40, seed=seed, invalid_fraction=0.0)), reasoner) for seed in (21, 22)]
    assert versions[0] != versions[1]
    kb_size = len(reasoner.full_kb)
    for _ in range(3):
        runs = [Reasoner(store=server_url, kb=reasoner.kb) for _ in versions]
        for run, patients in zip(runs, versions, strict=True):
            run.derive(patients)  # tens of thousands of derived triples: a publish that takes a while
        start = threading.Barrier(len(runs))
        failures: list[BaseException] = []
        threads = [threading.Thread(target=_publish_when_all_are_ready, args=(run, start, failures))
                   for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for run in runs:
            run.close()
        assert not failures
        kept = _by_value(RemoteStore(server_url).graph(PATIENTS_GRAPH))
        assert kept in (_by_value(versions[0]), _by_value(versions[1]))
        assert len(RemoteStore(server_url).graph(KB_GRAPH)) == kb_size


def _mark(url: str, run: str, made: str, until: str) -> None:
    """Another run's publishing mark, made and in force until the instants given."""
    from rdflib.namespace import XSD  # (imported here: pytest warns about XSD at module level)

    made_at, until_at = (Literal(t, datatype=XSD.dateTime).n3() for t in (made, until))
    RemoteStore(url).update(f"INSERT DATA {{ GRAPH <{PUBLISHING_GRAPH}> {{ <{RUN_GRAPHS}{run}/publishing> "
                            f"<{PROV.generatedAtTime}> {made_at} ; <{PROV.invalidatedAtTime}> {until_at} }} }}")


def _unmark(url: str, run: str) -> None:
    RemoteStore(url).update(f"DELETE WHERE {{ GRAPH <{PUBLISHING_GRAPH}> {{ <{RUN_GRAPHS}{run}/publishing> ?p ?o }} }}")


def _patient_iris(graph: Graph) -> set[str]:
    return {str(p) for p in graph.subjects(RDF.type, AX.Patient)}


def test_a_run_waits_while_another_publishes_and_ignores_a_dead_one(
        reasoner, server_url: str, monkeypatch, caplog) -> None:
    """A mark is in force until the instant its own run wrote (twice that run's request timeout):
    a run with a much shorter timeout still waits for it (session-36 review F2: the reader's
    timeout judged it stale), and a mark out of force is removed. While it waits, the run writes no
    mark of its own, and it says once that it is waiting (session-36 re-review F4: it wrote and
    withdrew a mark on every try, and said nothing)."""
    from datetime import UTC, datetime, timedelta

    monkeypatch.setattr(remote_module, "WAIT_NOTICE", 1.0)
    now = datetime.now(UTC)
    one = _graph_of(list(cohort(3, seed=31, invalid_fraction=0.0)), reasoner)
    with Reasoner(store=server_url, kb=reasoner.kb) as run:
        assert isinstance(run.store, RemoteStore)
        run.store.timeout = 1.0  # its own marks would be in force for 2 s
        run.stage(one)
        _mark(server_url, "died-publishing", "2020-01-01T00:00:00Z", "2020-01-01T00:10:00Z")
        _mark(server_url, "publishing-now", (now - timedelta(seconds=5)).isoformat(),
              (now + timedelta(minutes=10)).isoformat())
        publishing = threading.Thread(target=run.publish)
        publishing.start()
        publishing.join(timeout=3)
        assert publishing.is_alive()  # waits for the live mark
        assert _kept_patients(server_url) != _patient_iris(one)
        marks = set(RemoteStore(server_url).graph(PUBLISHING_GRAPH).subjects())
        assert marks == {URIRef(f"{RUN_GRAPHS}publishing-now/publishing")}  # none of its own; the dead one gone
        waiting = [r for r in caplog.records if r.name == "reasoner.remote" and "waiting for another run" in r.message]
        assert len(waiting) == 1 and "until " + (now + timedelta(minutes=10)).isoformat(timespec="seconds")[:16] in (
            waiting[0].getMessage())
        _unmark(server_url, "publishing-now")
        publishing.join(timeout=30)
        assert not publishing.is_alive()
    assert _kept_patients(server_url) == _patient_iris(one)
    assert not len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))  # the dead run's mark is gone too


def _failing_publish(monkeypatch, error: Exception) -> None:
    """The publish request itself (it starts with CLEAR) fails with `error`; the rest goes through."""
    update = RemoteStore.update

    def fails(self, text, timeout=None):  # type: ignore[no-untyped-def]
        if text.startswith("CLEAR SILENT GRAPH"):
            raise error
        return update(self, text, timeout)

    monkeypatch.setattr(RemoteStore, "update", fails)


def test_a_publish_that_timed_out_leaves_its_mark_in_force(reasoner, server_url: str, monkeypatch) -> None:
    """A publish that timed out in transit may still be running on the server: withdrawing its
    mark let another run publish at the same time, and the two cohorts merged (session-36 review
    F1). A publish the server refused (an HTTP error status) did nothing, and its mark goes."""
    from reasoner.remote import RemoteStoreRefused

    one = _graph_of(list(cohort(2, seed=41, invalid_fraction=0.0)), reasoner)
    with Reasoner(store=server_url, kb=reasoner.kb) as run:
        run.stage(one)
        _failing_publish(monkeypatch, RemoteStoreError("cannot reach SPARQL endpoint: timed out"))
        with pytest.raises(RemoteStoreError, match="may still be replacing the kept graphs"):
            run.publish()
        assert len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))
        RemoteStore(server_url).update(f"CLEAR GRAPH <{PUBLISHING_GRAPH}>")
        _failing_publish(monkeypatch, RemoteStoreRefused("answered 500"))
        with pytest.raises(RemoteStoreRefused):
            run.publish()
        assert not len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))


def test_a_mark_is_not_left_when_reading_the_marks_fails(reasoner, server_url: str, monkeypatch) -> None:
    """A failure after the mark was written and before the publish (reading the marks back, say)
    left it in force, and every other run waited ten minutes (session-36 review F3)."""
    read = RemoteStore._graph
    reads: list[str] = []

    with Reasoner(store=server_url, kb=reasoner.kb) as run:
        def unreadable(self, name):  # type: ignore[no-untyped-def]
            reads.append(name)
            if len(reads) == 1:  # the first read, before the mark is written, goes through
                return read(self, name)
            raise RemoteStoreError("the connection was reset")

        monkeypatch.setattr(RemoteStore, "_graph", unreadable)
        with pytest.raises(RemoteStoreError, match="reset"):
            run.publish()
        monkeypatch.undo()
    assert not len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_process_forked_from_a_run_is_refused_its_parents_graphs(reasoner, server_url: str) -> None:
    """A child forked from a Reasoner(store=URL) had its parent's run id: both worked in the same
    graphs on the server, and their patients would have mixed (session-36 note, "Fork"). The child
    is refused with a message; the parent goes on."""
    record = ROOT / "examples" / "case2-multiple-failures.json"
    with Reasoner(store=server_url, kb=reasoner.kb) as run:
        run.recommend(record)
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: report what it was told, and leave without pytest's clean-up
            os.close(read)
            said = []
            for attempt in (lambda: run.recommend(record), lambda: run.store.graph(PATIENTS_GRAPH), run.close):
                try:
                    attempt()
                    said.append("done")
                except RemoteStoreError as exc:
                    said.append(str(exc))
                except BaseException as exc:  # noqa: BLE001 - anything else is the test's finding
                    said.append(f"{type(exc).__name__}: {exc}")
            os.write(write, json.dumps(said).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as answer:
            advising, reading, closing = json.loads(answer.read())
        os.waitpid(child, 0)
        assert advising.startswith("store: this run's store was opened by process") and "after the fork" in advising
        assert reading == advising  # a read of a graph too (review R8)
        assert closing == "done"  # closing only lets go: the graphs are the parent's to drop
        assert run.recommend(record).advice  # the parent's graphs are still its own
    assert not _run_graphs_left(server_url)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_the_module_api_works_in_a_process_forked_after_using_it(server_url: str) -> None:
    """`reasoner.recommend(record, store=URL)` in a fork Pool's worker got the parent's cached
    Reasoner, whose calls a child is refused (review R3); the child now makes its own."""
    import reasoner as api
    from reasoner.pipeline import default_reasoner

    record = ROOT / "examples" / "case2-multiple-failures.json"
    try:
        assert api.recommend(record, store=server_url).advice
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read)
            try:
                said = str(len(api.recommend(record, store=server_url).advice))
                default_reasoner(store=server_url).close()  # its own graphs, before it leaves
            except BaseException as exc:  # noqa: BLE001 - the test's finding
                said = f"{type(exc).__name__}: {exc}"
            os.write(write, said.encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as answer:
            said = answer.read()
        os.waitpid(child, 0)
        assert said.isdigit() and int(said) > 0, said
    finally:
        default_reasoner(store=server_url).close()
    assert not _run_graphs_left(server_url)


def test_a_failed_cohort_drops_its_holding_graphs(server_url: str, tmp_path: Path, monkeypatch) -> None:
    """The holding graphs have names of the runner's own, so a failed cohort's stayed on a store with
    no run id, patients and all, and nothing dropped them (review R7)."""
    _fail_on_the_second_batch(monkeypatch)
    records = list(cohort(4, seed=59, invalid_fraction=0.0))
    with Reasoner(store=RemoteStore(server_url)) as run, pytest.raises(RuntimeError, match="went away"):
        CohortRunner(run, batch=2).run([_cohort_file(tmp_path / "d.jsonl", records)], io.StringIO())
    assert not {g for g in graphs_on_server(RemoteStore(server_url)) if "/cohort-held/" in g}


def _advise_in_worker(url: str) -> int:
    """A fork Pool's task: the module API on a URL (module level, so the Pool can name it)."""
    import reasoner as api

    return len(api.recommend(ROOT / "examples" / "case2-multiple-failures.json", store=url).advice)


@pytest.mark.skipif(sys.platform != "linux", reason="the fork start method")
def test_a_fork_pools_workers_drop_their_graphs_when_the_pool_ends(server_url: str) -> None:
    """Each worker makes its own Reasoner; a worker ends with os._exit, which runs no atexit hook,
    so their graphs stayed on the server (re-review N1)."""
    import multiprocessing

    from reasoner.pipeline import default_reasoner

    try:
        assert default_reasoner(store=server_url).recommend(ROOT / "examples" / "case2-multiple-failures.json").advice
        pool = multiprocessing.get_context("fork").Pool(2)
        try:
            assert all(n > 0 for n in pool.map(_advise_in_worker, [server_url] * 4))
        finally:
            pool.close()
            pool.join()
    finally:
        default_reasoner(store=server_url).close()
    assert not _run_graphs_left(server_url)


def test_holding_graphs_are_dropped_once_and_not_waited_for_twice(server_url: str, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """A cohort not published drops its holding graphs through `discard_held()` (re-review N7); on a
    store with a run id `close()` drops them, so nothing is sent, and a server that times out ends
    the clean-up at once: each DROP waited a full timeout (re-review N6)."""
    records = list(cohort(2, seed=61, invalid_fraction=0.0))
    with Reasoner(store=RemoteStore(server_url)) as run:
        runner = CohortRunner(run)
        runner.run([_cohort_file(tmp_path / "e.jsonl", records)], io.StringIO(), publish=False)
        assert {g for g in graphs_on_server(RemoteStore(server_url)) if "/cohort-held/" in g}
        update = RemoteStore.update
        sent: list[str] = []

        def hangs(self, text, timeout=None):  # type: ignore[no-untyped-def]
            if "cohort-held" in text:
                sent.append(text)
                raise RemoteStoreError("cannot reach SPARQL endpoint: timed out")
            return update(self, text, timeout)

        monkeypatch.setattr(RemoteStore, "update", hangs)
        runner.discard_held()
        assert len(sent) == 1
        monkeypatch.undo()
        runner.discard_held()
    assert not {g for g in graphs_on_server(RemoteStore(server_url)) if "/cohort-held/" in g}
    with Reasoner(store=server_url) as run:  # a run id: close() drops them, so nothing is sent
        runner = CohortRunner(run)
        monkeypatch.setattr(RemoteStore, "update", hangs)
        runner.discard_held()
        monkeypatch.undo()
    assert len(sent) == 1


def test_a_wait_notice_reads_as_the_commands_messages(capsys) -> None:
    """The notice went out through logging's last resort, without the `axspa:` prefix (review R9)."""
    import logging

    from reasoner import cli

    logger = logging.getLogger("reasoner")
    before = list(logger.handlers)
    try:
        cli._warnings_as_messages()
        logging.getLogger("reasoner.remote").warning("waiting for another run")
    finally:
        logger.handlers[:] = before
    assert capsys.readouterr().err == "axspa: waiting for another run\n"


def test_a_closed_reasoner_refuses_calls_and_a_store_handed_in_stays_the_callers(reasoner, server_url: str) -> None:
    """After close() a Reasoner on a URL gave valid records no advice and its publish() emptied the
    kept graphs (session-36 review F5); a RemoteStore handed in is the caller's, and its graphs are
    not dropped by a Reasoner (F6)."""
    from reasoner.errors import AxspaError

    record = ROOT / "examples" / "case2-multiple-failures.json"
    closed = Reasoner(store=server_url, kb=reasoner.kb)
    closed.close()
    for call in (lambda: closed.recommend(record), closed.publish):
        with pytest.raises(AxspaError, match="was closed"):
            call()
    shared = RemoteStore(server_url, run="handed-in")
    first = Reasoner(store=shared, kb=reasoner.kb)
    second = Reasoner(store=shared, kb=reasoner.kb)
    first.close()
    del first
    gc.collect()
    assert second.recommend(record).advice  # its knowledge base is still there
    shared.discard()


def test_a_cohort_whose_output_cannot_be_finished_leaves_the_kept_cohort(
        server_url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """The kept cohort was replaced before the output files were closed, so a run that then said
    it did not finish (a full disk) had replaced it all the same (session-36 review F7)."""
    from reasoner import cli
    from reasoner.errors import AxspaError

    records = list(cohort(8, seed=51, invalid_fraction=0.0))
    first = _cohort_file(tmp_path / "first.jsonl", records[:4])
    assert main(["cohort", str(first), "--store", server_url, "-o", str(tmp_path / "first-advice.jsonl")]) == 0
    kept = _kept_patients(server_url)
    assert len(kept) == 4

    def full_disk(self) -> None:  # type: ignore[no-untyped-def]
        raise AxspaError(f"{self.flag} {self.path}: cannot write (No space left on device)")

    monkeypatch.setattr(cli.CohortOutput, "close", full_disk)
    second = _cohort_file(tmp_path / "second.jsonl", records[4:])
    assert main(["cohort", str(second), "--store", server_url, "-o", str(tmp_path / "second-advice.jsonl")]) == 2
    assert "the run did not finish" in capsys.readouterr().err
    assert _kept_patients(server_url) == kept
    assert graphs_on_server(RemoteStore(server_url)) == KEPT


def test_sigterm_ends_a_run_as_ctrl_c_does(server_url: str, tmp_path: Path) -> None:
    """SIGTERM (kill, timeout, docker stop) killed the command at once: its graphs stayed on the
    server and its output file was left under its .partial name with nothing said (session-36
    review F8). Now it ends like Ctrl-C (a message, the run's graphs dropped), then by the signal."""
    import os
    import signal
    import subprocess
    import time

    path = _cohort_file(tmp_path / "many.jsonl", list(cohort(400, seed=61, invalid_fraction=0.0)))
    out = tmp_path / "advice.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "reasoner.cli", "cohort", str(path), "--store", server_url,
                            "--batch", "10", "-o", str(out)], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    partial = out.with_name(out.name + ".partial")
    deadline = time.monotonic() + 120
    while not (partial.exists() and partial.stat().st_size) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run ended before it could be stopped"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == -signal.SIGTERM, err  # cleaned up, then ended by the signal
    assert "axspa: terminated" in err and "the run did not finish" in err and "Traceback" not in err
    assert not _run_graphs_left(server_url)


def test_a_mark_whose_answer_was_lost_is_withdrawn(reasoner, server_url: str, monkeypatch) -> None:
    """The mark's INSERT committed but its answer never came: the mark was left in force, and every
    other run waited ten minutes (session-36 re-review, F3's last case)."""
    update = RemoteStore.update

    def answer_lost(self, text, timeout=None):  # type: ignore[no-untyped-def]
        update(self, text, timeout)
        if text.startswith("INSERT DATA") and PUBLISHING_GRAPH in text:
            raise RemoteStoreError("the connection was reset")

    with Reasoner(store=server_url, kb=reasoner.kb) as run:
        monkeypatch.setattr(RemoteStore, "update", answer_lost)
        with pytest.raises(RemoteStoreError, match="reset"):
            run.publish()
        monkeypatch.undo()
    assert not len(RemoteStore(server_url).graph(PUBLISHING_GRAPH))


def test_a_cohort_cannot_publish_once_its_reasoner_is_closed(server_url: str, tmp_path: Path) -> None:
    """publish_kept() after the Reasoner's with block copied its dropped graphs over the kept ones,
    emptying them, with no error (session-36 re-review N1)."""
    from reasoner.errors import AxspaError

    with Reasoner(store=server_url) as run:
        runner = CohortRunner(run, batch=4)
        runner.run([_cohort_file(tmp_path / "c.jsonl", list(cohort(4, seed=71, invalid_fraction=0.0)))],
                   io.StringIO())
    kept = _kept_patients(server_url)
    assert len(kept) == 4
    with pytest.raises(AxspaError, match="was closed"):
        runner.publish_kept()
    assert _kept_patients(server_url) == kept


def test_main_called_by_a_program_leaves_its_sigterm_alone(monkeypatch, capsys) -> None:
    """main(argv) inside a host program turned the host's SIGTERM into a return value, and the host
    kept running (session-36 re-review N6): only the command itself handles SIGTERM."""
    import signal

    installed: list[int] = []
    real = signal.signal
    monkeypatch.setattr(signal, "signal", lambda signum, handler: installed.append(signum) or real(signum, handler))
    assert main(["recommend", str(ROOT / "examples" / "case2-multiple-failures.json"), "-f", "json"]) == 0
    capsys.readouterr()
    assert signal.SIGTERM not in installed
