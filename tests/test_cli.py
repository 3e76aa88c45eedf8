"""The `axspa` command: exit codes 0/1/2, formats, and no traceback for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from reasoner.cli import main

ROOT = Path(__file__).resolve().parent.parent
CASE2 = ROOT / "examples" / "case2-multiple-failures.json"


def _child(tmp_path: Path) -> Path:
    record = json.loads(CASE2.read_text())
    record["age"] = 15
    path = tmp_path / "child.json"
    path.write_text(json.dumps(record))
    return path


def test_recommend_json_contract(capsys) -> None:
    assert main(["recommend", str(CASE2), "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"patient", "conforms", "validation", "advice", "needs_information"}
    assert data["conforms"] is True
    item = data["advice"][0]
    assert set(item) >= {"kind", "therapy", "strength", "evidence", "recommendation", "over", "because"}
    assert set(item["therapy"]) == {"iri", "label"}
    assert set(item["recommendation"]) >= {"id", "guideline"}


def test_recommend_text_groups_by_kind(capsys) -> None:
    assert main(["recommend", str(CASE2)]) == 0
    out = capsys.readouterr().out
    assert "DO NOT REPEAT" in out and "etanercept" in out and "AS-06" in out
    # gradings read as words: no "evidence level of evidence", a label fact by kind and severity
    assert "[ACR 2019 AS-06; strong; evidence high]" in out
    assert "R12; grade not verified; level of evidence not verified]" in out
    assert "evidence level of evidence" not in out
    assert main(["recommend", str(ROOT / "examples" / "heart-failure-tnfi-contraindicated.json")]) == 0
    assert "[label fact tnfi_heart_failure; warning/precaution, relative]" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_recommend_graph_formats_parse(capsys, fmt: str) -> None:
    assert main(["recommend", str(CASE2), "-f", fmt]) == 0
    graph = Graph().parse(data=capsys.readouterr().out, format="turtle" if fmt == "turtle" else "json-ld")
    assert len(graph) > 10


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_the_graph_formats_say_what_the_json_says(reasoner, capsys, fmt: str) -> None:
    """Session-32 probe 2: the Turtle and JSON-LD left out the conflicts (F2), the notes and grading of
    every label-fact item (F3) and a valid record's warnings (F4), all of which the JSON gives."""
    from rdflib.namespace import RDF, SH

    from reasoner.namespaces import AX, LBL

    def graph_of(path: Path) -> Graph:
        assert main(["recommend", str(path), "-f", fmt]) == 0
        return Graph().parse(data=capsys.readouterr().out, format="turtle" if fmt == "turtle" else "json-ld")

    record = ROOT / "examples" / "heart-failure-tnfi-contraindicated.json"
    result = reasoner.recommend(record)
    graph = graph_of(record)
    # every conflict's overridden item, typed so that no reader of ax:Advice takes it for advice
    overridden = set(graph.subjects(RDF.type, AX.OverriddenAdvice))
    assert result.conflicts and {URIRef(c.advice.iri) for c in result.conflicts} == overridden
    assert not overridden & set(graph.subjects(RDF.type, AX.Advice))
    assert all(graph.value(n, AX.suppressedBy) is not None for n in overridden)
    # nor by its kind (session-32 review F7)
    assert all(graph.value(n, AX.adviceKind) is None and graph.value(n, AX.wouldBeKind) is not None
               for n in overridden)
    assert {URIRef(a.iri) for a in result.advice} == set(graph.subjects(RDF.type, AX.Advice))
    # a label item: its note (what the label says to do) and its severity and kind
    label_items = [a for a in result.advice if a.recommendation.guideline == "label"]
    assert label_items
    for item in label_items:
        assert str(graph.value(URIRef(item.iri), AX.adviceNote)) == item.note, item.iri
    heart = next(a for a in label_items if a.recommendation.id == "tnfi_heart_failure")
    assert graph.value(URIRef(heart.iri), AX.strength) == AX.severity_relative
    assert graph.value(URIRef(heart.iri), AX.evidence) == AX.warning_precaution
    assert graph.value(URIRef(heart.iri), AX.basedOn) == LBL.tnfi_heart_failure
    # no validation report without a warning; with one, a report that conforms
    assert not result.issues and not set(graph.subjects(RDF.type, SH.ValidationReport))
    warned = ROOT / "tests" / "data" / "valid" / "as-stable-asdas-current-high.json"
    issues = reasoner.recommend(warned).issues
    assert issues and {i.severity for i in issues} == {"warning"}
    graph = graph_of(warned)
    [report] = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms).toPython() is True
    results = set(graph.objects(report, SH.result))
    assert len(results) == len(issues)
    assert all(graph.value(r, SH.resultSeverity) == SH.Warning for r in results)


def test_every_question_names_its_source_and_grading(capsys) -> None:
    """Session-32 probe 2, F6: a question in NEEDS INFORMATION named no source, and the JSON's
    needs_information had none; every other line of the report names one."""
    assert main(["recommend", str(CASE2), "-f", "json"]) == 0
    needs = json.loads(capsys.readouterr().out)["needs_information"]
    assert needs
    for need in needs:
        assert need["recommendation"]["id"] and need["recommendation"]["guideline"], need["fact"]
        assert need["strength"] and need["evidence"], need["fact"]
    hbv = next(n for n in needs if n["fact"] == "hepatitis B status")
    assert (hbv["recommendation"]["id"], hbv["strength"], hbv["evidence"]) == (
        "tnfi_hbv", "relative", "warning/precaution")
    assert main(["recommend", str(CASE2)]) == 0
    text = capsys.readouterr().out.split("NEEDS INFORMATION")[1].split("CONFLICTS")[0]
    assert "      source: label fact tnfi_hbv; warning/precaution, relative" in text
    assert "      source: ACR 2019 AS-06; strong; evidence high" in text
    assert text.count("      source: ") == len(needs)


def test_invalid_record_exits_1_with_the_reason(tmp_path: Path, capsys) -> None:
    assert main(["recommend", str(_child(tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "adults only" in out and "no advice" in out.lower()
    assert "  - age: the guidelines encoded here cover adults only" in out  # the field named once
    assert main(["validate", str(_child(tmp_path))]) == 1


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_invalid_record_report_goes_to_the_output_file(tmp_path: Path, capsys, fmt: str) -> None:
    out = tmp_path / "advice.out"
    assert main(["recommend", str(_child(tmp_path)), "-f", fmt, "-o", str(out)]) == 1
    assert "adults only" in out.read_text() and not capsys.readouterr().out


def test_validate_valid_record_exits_0(capsys) -> None:
    assert main(["validate", str(CASE2), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["conforms"] is True


@pytest.mark.parametrize("content,suffix", [
    ("{not json", ".json"), ("@prefix : <x", ".ttl"), ("[1, 2]", ".json"),
    # ids rdflib accepts but no store can hold (a traceback from the store before)
    ('{"id": "pt[7]", "age": 44, "sex": "male", "diagnosis": "AS", "diseaseState": "active"}', ".json"),
    ('{"id": "p", "age": 44, "sex": "male", "diagnosis": "AS", "diseaseState": "active", '
     '"treatments": [{"drug": "naproxen", "status": "ongoing", '
     '"detail": {"@value": "x", "@type": "http://e.org/a b"}}]}',
     ".json"),
    ("<https://example.org/p/a%zz> a <https://w3id.org/axspa-kg/ontology#Patient> .", ".nt"),
])
def test_unreadable_input_exits_2_without_traceback(tmp_path: Path, content: str, suffix: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    proc = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("axspa:")


def test_missing_file_and_bad_usage_exit_2(capsys) -> None:
    assert main(["recommend", "/no/such/file.json"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["recommend", str(CASE2), "--guideline", "nope"])
    assert info.value.code == 2


def test_explain_names_source_and_facts(capsys) -> None:
    assert main(["explain", str(CASE2), "Enbrel"]) == 0
    out = capsys.readouterr().out
    assert "do-not-repeat" in out and "injection-site reaction" in out
    assert "grading: not graded" in out
    assert main(["explain", str(CASE2), "no-such-drug"]) == 2


def test_explain_words_a_label_fact_and_a_recommendation_as_the_text_report_does(capsys) -> None:
    """A label fact's kind and severity were printed as "strength absolute; evidence boxed warning"."""
    assert main(["explain", str(CASE2), "tofacitinib"]) == 0
    out = capsys.readouterr().out
    assert "grading: conditional; evidence very low to moderate" in out  # AS-04
    assert "grading: grade not verified; level of evidence not verified" in out  # R12
    assert "strength " not in out



def test_explain_shows_advice_that_weighs_it_or_rests_on_its_course_and_the_questions(capsys) -> None:
    """explain said nothing concerned the adalimumab a stable patient takes, though AS-26, AS-27 and
    AS-28 are about that course; it left out the rules weighing tofacitinib as the alternative and
    the questions whose answer decides advice on it (re-probe, session 11)."""
    stable = ROOT / "examples" / "stable-on-tnfi.json"
    assert main(["explain", str(stable), "adalimumab"]) == 0
    out = capsys.readouterr().out
    also = out[out.index("Also about it:"):]
    assert "rests on its course: biologic discontinuation (against) — ACR 2019 AS-26" in also
    assert "ACR 2019 AS-28" in also
    assert main(["explain", str(CASE2), "tofacitinib"]) == 0
    also = capsys.readouterr().out.split("Also about it:")[1]
    assert "weighed against it: adalimumab, certolizumab pegol, golimumab, infliximab (preferred-over) — ACR 2019 " \
           "AS-05" in also
    assert "question (decides AS-04): peripheral arthritis status" in also
    assert main(["explain", str(CASE2), "secukinumab"]) == 0
    assert "question (decides AS-08): inflammatory bowel disease status" in capsys.readouterr().out

def test_explain_lists_the_advice_on_its_course_that_a_contraindication_overrode(tmp_path: Path, capsys) -> None:
    """Session-32 probe 2, F7: with demyelinating disease stated, the adalimumab taken is to be stopped,
    and the advice resting on its course (AS-26 against stopping it, AS-28 keep the originator) is a
    conflict, never advice; `explain adalimumab` left it out of "Also about it" altogether."""
    record = json.loads((ROOT / "examples" / "stable-on-tnfi.json").read_text())
    record["id"] = "stable-on-tnfi-ms"
    record["conditions"].append({"condition": "multiple_sclerosis", "status": "present"})
    path = tmp_path / "stable-ms.json"
    path.write_text(json.dumps(record))
    assert main(["explain", str(path), "adalimumab"]) == 0
    also = capsys.readouterr().out.split("Also about it:")[1]
    assert ("rests on its course: biologic discontinuation (NOT GIVEN: would be against; overridden by "
            "tnfi_demyelinating (contraindicated)) — ACR 2019 AS-26") in also
    assert "(NOT GIVEN: would be preferred-over; overridden by tnfi_demyelinating (contraindicated)) — ACR 2019 " \
           "AS-28" in also
    # without the condition the same rows are advice, and said plainly
    assert main(["explain", str(ROOT / "examples" / "stable-on-tnfi.json"), "adalimumab"]) == 0
    assert "NOT GIVEN" not in capsys.readouterr().out


def test_explain_lists_the_label_checks_that_decide_the_drug(capsys) -> None:
    """Session-32 probe 2, F1: a question that rests on a label fact about the drug (the tuberculosis
    and hepatitis B tests before a TNF inhibitor, the pregnancy stage before an NSAID) was left out of
    `explain`, which looked only at the rows whose action includes the drug. A biosimilar counts
    through its reference product, as the label facts name originators."""
    for drug in ("adalimumab", "Amjevita"):
        assert main(["explain", str(CASE2), drug]) == 0
        also = capsys.readouterr().out.split("Also about it:")[1]
        assert "question (decides tnfi_hbv): hepatitis B status" in also, drug
        assert "question (decides tnfi_latent_tb): latent tuberculosis status" in also, drug
    pregnant = ROOT / "tests" / "data" / "valid" / "as-pregnant-stage-unstated-adalimumab-and-infliximab-failed.json"
    assert main(["explain", str(pregnant), "naproxen"]) == 0
    also = capsys.readouterr().out.split("Also about it:")[1]
    assert "question (decides nsaid_pregnancy_20wk, nsaid_pregnancy_30wk): gestational age" in also
    # and none about another class: the TNF-inhibitor checks do not decide an NSAID
    assert "hepatitis B status" not in also


@pytest.mark.parametrize("name", ["AS-06", "https://w3id.org/axspa-kg/rec/AS-06", "ActiveAS", "strong"])
def test_explain_refuses_what_is_not_a_therapy(name, capsys) -> None:
    # a recommendation, a population or a grade is in the knowledge base but no advice is about it
    assert main(["explain", str(CASE2), name]) == 2
    assert "not a drug or intervention" in capsys.readouterr().err


def test_explain_a_drug_class_covers_each_member(capsys) -> None:
    assert main(["explain", str(CASE2), "TNFInhibitor"]) == 0
    out = capsys.readouterr().out
    # case 2 had an injection-site reaction on etanercept: the class view names it per member
    assert "etanercept: do-not-repeat" in out
    assert "adalimumab: recommended" in out
    assert main(["explain", str(CASE2), "physical_therapy"]) == 0
    assert "physical_therapy for" in capsys.readouterr().out


def test_exact_hermit_classification_gives_the_same_advice(capsys) -> None:
    assert main(["recommend", str(CASE2), "-f", "json"]) == 0
    fast = json.loads(capsys.readouterr().out)
    assert main(["recommend", str(CASE2), "-f", "json", "--exact"]) == 0
    exact = json.loads(capsys.readouterr().out)

    def key(data: dict) -> set:
        return {(a["kind"], a["therapy"]["iri"], a["recommendation"]["id"]) for a in data["advice"]}

    assert key(fast) == key(exact) and key(fast)


def test_api_accepts_path_dict_and_rdflib_graph() -> None:
    import reasoner
    from reasoner.record import read_graph

    from_path = reasoner.recommend(str(CASE2))
    from_dict = reasoner.recommend(json.loads(CASE2.read_text()))
    graph, _ = read_graph(CASE2)
    from_graph = reasoner.recommend(graph)

    def kinds(result) -> set:
        return {(a.kind, a.therapy.iri, a.recommendation.id) for a in result.advice}

    assert from_path.conforms and kinds(from_path) == kinds(from_dict) == kinds(from_graph)
    assert json.loads(from_graph.to_json())["patient"] == from_path.patient


def test_the_api_errors_the_readme_names_are_importable_from_reasoner(tmp_path: Path) -> None:
    """Session-33 docs probe F6: the README's API block says strict=True raises InvalidRecordError,
    which `reasoner` did not export (an `except reasoner.InvalidRecordError` failed itself)."""
    import reasoner

    child = _child(tmp_path)
    with pytest.raises(reasoner.InvalidRecordError):
        reasoner.Reasoner().recommend(str(child), strict=True)
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x",')
    with pytest.raises(reasoner.RecordLoadError):
        reasoner.recommend(str(broken))
    assert issubclass(reasoner.InvalidRecordError, reasoner.AxspaError)
    assert {"AxspaError", "InvalidRecordError", "RecordLoadError"} <= set(reasoner.__all__)


def test_recommend_runs_on_every_kind_of_store(tmp_path: Path, capsys) -> None:
    """`--store` takes what `axspa cohort --store` takes; the advice is the same on each."""
    from .oxigraph_server import oxigraph_server

    assert main(["recommend", str(CASE2), "-f", "json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    with oxigraph_server() as url:
        for store in ("memory", f"oxigraph:{tmp_path / 'db'}", "rdflib", url):
            assert main(["recommend", str(CASE2), "-f", "json", "--store", store]) == 0, store
            assert json.loads(capsys.readouterr().out) == expected, store


def test_recommend_with_an_unknown_store_exits_2(capsys) -> None:
    assert main(["recommend", str(CASE2), "--store", "mongodb"]) == 2
    assert "unknown store 'mongodb'" in capsys.readouterr().err



@pytest.mark.parametrize(("store", "expected"), [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://127.0.0.1:abc", "is not a usable URL"),
    ("http://exa mple.org", "is not a usable URL"),
    ("http://", "is not a usable URL"),
    ("virtuoso:http://[::1", "Invalid IPv6 URL"),
    # urllib failed on these only when sending (UnicodeEncodeError, InvalidURL); a query or fragment
    # would sit between the base and /query
    ("http://127.0.0.1:1/d\u00e4taset", "percent-encoded"),
    ("http://127.0.0.1:1/a\x01b", "no control characters"),
    ("http://127.0.0.1:1/ds?x=1", "no ?query or #fragment"),
    ("virtuoso:http://127.0.0.1:1/#f", "no ?query or #fragment"),
])
@pytest.mark.parametrize("command", ["recommend", "cohort"])
def test_a_store_url_urllib_cannot_use_is_a_message_not_a_traceback(command: str, store: str, expected: str,
                                                                    tmp_path: Path, capsys) -> None:
    """urllib raised ValueError at the first request: a traceback and exit 1, the code of an invalid record."""
    extra = ["-o", str(tmp_path / "out.jsonl")] if command == "cohort" else []
    assert main([command, str(CASE2), "--store", store, *extra]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and repr(store.removeprefix("virtuoso:")) in err


def _recommend_against_fake_endpoint(status: int, content_type: str, body: bytes) -> tuple[int, str]:
    """Run `recommend` against a local HTTP server that answers every POST with `body`; return the
    exit code and the endpoint's base URL."""
    import http.server
    import threading

    class Fake(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        return main(["recommend", str(CASE2), "--store", url]), url
    finally:
        server.shutdown()
        server.server_close()


def test_an_endpoint_answering_a_web_page_is_reported_on_one_line(capsys) -> None:
    """Not a SPARQL server (a plain web server's 404 page): one line of what it said, not the page."""
    page = (b"<html>\n<head><title>Not found</title></head>\n<body>\n<p>nothing here</p>\n"
            + b"<p>padding</p>\n" * 200 + b"</body></html>\n")
    code, _ = _recommend_against_fake_endpoint(404, "text/html", page)
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "answered 404" in lines[0] and "Not found" in lines[0], lines
    assert len(lines[0]) < 500


@pytest.mark.parametrize("body", [b'{"head": {"vars": ["s"]}, "results": {"bindings": [{"s"', b"<html>ok</html>",
                                  b"[1, 2]"], ids=["cut-off", "web-page", "other-json"])
def test_an_endpoint_answering_200_with_no_sparql_results_is_named(body: bytes, capsys) -> None:
    """A server answering 200 with broken JSON ended the run with 'axspa: Expecting value: line 1
    column 24', naming neither the endpoint nor the problem (session-12 probe)."""
    code, url = _recommend_against_fake_endpoint(200, "application/sparql-results+json", body)
    assert code == 2
    err = capsys.readouterr().err
    assert f"{url}/query answered" in err and "Traceback" not in err, err


def test_graph_outputs_are_the_same_file_on_every_run(tmp_path: Path) -> None:
    """rdflib writes N-Triples and JSON-LD in set order, which follows Python's per-process string
    hashing: the same advice came out as a different file on each run."""
    def run(seed: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, env=env, check=True)

    jsonld = {run(seed, "recommend", str(CASE2), "-f", "jsonld").stdout for seed in ("1", "2", "3")}
    assert len(jsonld) == 1 and len(Graph().parse(data=jsonld.pop(), format="json-ld")) > 100
    nt = []
    for seed in ("1", "2"):
        out = tmp_path / f"advice-{seed}.nt"
        run(seed, "cohort", str(CASE2), str(ROOT / "examples" / "ibd-crohns.json"), "-o", str(out))
        nt.append(out.read_bytes())
    assert nt[0] == nt[1] and nt[0].count(b"\n") > 100


def test_recommend_output_checks_and_gz(tmp_path: Path, capsys) -> None:
    """-o in a missing folder is refused before any work, naming -o; a .gz name gets gzip, as cohort
    writes it; `oxigraph:` with no folder is refused (it was silently an in-memory store)."""
    import gzip

    missing = tmp_path / "nofolder" / "advice.txt"
    assert main(["recommend", str(CASE2), "-o", str(missing)]) == 2
    assert f"-o {missing}: the folder" in capsys.readouterr().err
    packed = tmp_path / "advice.json.gz"
    assert main(["recommend", str(CASE2), "-f", "json", "-o", str(packed)]) == 0
    assert json.loads(gzip.decompress(packed.read_bytes()))["patient"].endswith("/case-2")
    assert main(["recommend", str(CASE2), "--store", "oxigraph:"]) == 2
    assert "oxigraph: needs a folder" in capsys.readouterr().err

def test_outputs_never_replace_the_record_or_start_before_the_checks(tmp_path: Path, capsys) -> None:
    """`recommend -o` naming the record replaced it with advice; a --rejects in a missing folder was
    refused only after -o had been emptied (ninth-session robustness review)."""
    record = tmp_path / "case2.json"
    record.write_text(CASE2.read_text(encoding="utf-8"))
    assert main(["recommend", str(record), "-o", str(record)]) == 2
    assert json.loads(record.read_text(encoding="utf-8"))["id"] == "case-2"
    keep = tmp_path / "keep.jsonl"
    keep.write_text("earlier advice\n")
    assert main(["cohort", str(record), "-o", str(keep), "--rejects", str(tmp_path / "nodir" / "r.jsonl")]) == 2
    assert keep.read_text() == "earlier advice\n"
    assert "does not exist" in capsys.readouterr().err


def test_cohort_exit_status_says_when_everything_read_was_rejected(tmp_path: Path, capsys) -> None:
    """Session-28 docs audit 1: a cohort whose every record is invalid ended 0, so a pipeline checking
    the status saw a finished run. Now 1; a run with one valid patient beside a rejected one is 0."""
    valid = json.loads(CASE2.read_text(encoding="utf-8"))
    child = dict(valid, id="child-record", age=9)  # the shapes refuse a patient under 18
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(json.dumps(child) + "\n")
    assert main(["cohort", str(only_bad), "-o", str(tmp_path / "none.jsonl")]) == 1
    assert "valid 0, rejected 1" in capsys.readouterr().err
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps(child) + "\n" + json.dumps(valid) + "\n")
    assert main(["cohort", str(mixed), "-o", str(tmp_path / "some.jsonl")]) == 0
    assert "valid 1, rejected 1" in capsys.readouterr().err


def test_files_a_folder_holds_besides_records_are_listed(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "case2.json").write_text(CASE2.read_text(encoding="utf-8"))
    (folder / "notes.txt").write_text("not a record")
    (folder / "gone.json").symlink_to(tmp_path / "nowhere.json")
    assert main(["cohort", str(folder), "-o", str(tmp_path / "out.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "patients read 1" in err and "2 file(s) in the input folders were not read" in err
    assert "notes.txt" in err and "gone.json" in err


def test_the_reference_validator_failing_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """pySHACL compares an ill-typed date with <= and raises TypeError; the default validator
    names the field."""
    record = json.loads(CASE2.read_text(encoding="utf-8"))
    dated = next(c for c in record["treatments"] if c.get("end"))  # pySHACL compares start with end
    dated["start"] = "2024-1-5"
    path = tmp_path / "short-date.json"
    path.write_text(json.dumps(record))
    proc = subprocess.run([sys.executable, "-m", "reasoner", "validate", str(path), "--validator", "pyshacl"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert main(["validate", str(path)]) == 1  # the default validator: the field, by name


def test_explain_never_shows_overridden_advice_as_advice(capsys) -> None:
    heart_failure = ROOT / "examples" / "heart-failure-tnfi-contraindicated.json"
    assert main(["explain", str(heart_failure), "adalimumab"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headers = [line for line in lines if " — " in line]
    assert any(h.startswith("  contraindicated — axspa-kg tnfi-contraindicated") for h in headers)
    assert any(h.startswith("  caution — label tnfi_heart_failure") for h in headers)  # NYHA II: a caution
    as06 = [h for h in headers if "AS-06" in h]
    assert as06 == [h for h in as06 if h.startswith("  NOT GIVEN (would be recommended; overridden by "
                                                      "tnfi-contraindicated")] and as06
    assert not [h for h in headers if h.startswith("  recommended")]


def test_exact_refuses_text_rdf_xml_cannot_carry_without_a_traceback(tmp_path: Path) -> None:
    """owlready2 failed on U+0000 in its parser thread and printed its own traceback first."""
    record = json.loads(CASE2.read_text(encoding="utf-8"))
    record["treatments"][0]["detail"] = "scanned note\u0000"
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(record))
    proc = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(path), "--exact"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "U+0000" in proc.stderr


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/q\u00e4", "http://127.0.0.1:1/q\x01"])
def test_endpoints_given_directly_fail_with_a_store_error(url: str) -> None:
    """Endpoints built by hand skip the base-URL checks; urllib's own errors still become a message."""
    from reasoner.remote import Endpoints, RemoteStore, RemoteStoreError

    store = RemoteStore(Endpoints(query=url, update=url, store=url))
    with pytest.raises(RemoteStoreError, match="the request to .* failed"):
        store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


@pytest.mark.parametrize("brand", ["Inflectra", "Amjevita"])
def test_explain_on_a_biosimilar_shows_what_its_reference_product_gets(brand: str, capsys) -> None:
    """`explain … Inflectra` said no label fact or course ruled it out while infliximab was held
    back for heart failure (session-12 probe): the rules name the originator, so the reference
    product's items are shown, each under its name."""
    heart_failure = ROOT / "examples" / "heart-failure-tnfi-contraindicated.json"
    assert main(["explain", str(heart_failure), brand]) == 0
    out = capsys.readouterr().out
    molecule = {"Inflectra": "infliximab", "Amjevita": "adalimumab"}[brand]
    assert f"  {molecule}: contraindicated — axspa-kg tnfi-contraindicated" in out
    assert "no rule gives advice on it" not in out


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_an_invalid_record_in_an_rdf_format_gets_its_report_as_shacl(fmt: str, capsys) -> None:
    """`-f turtle` on a child's record printed the text report, which no RDF reader could parse
    (session-12 probe); it writes the report as a sh:ValidationReport, and exits 1."""
    from rdflib.namespace import RDF, SH

    from reasoner.namespaces import AX

    assert main(["recommend", str(ROOT / "tests" / "data" / "invalid" / "child-age-15.json"), "-f", fmt]) == 1
    graph = Graph().parse(data=capsys.readouterr().out, format="turtle" if fmt == "turtle" else "json-ld")
    [report] = list(graph.subjects(RDF.type, SH.ValidationReport))
    assert graph.value(report, SH.conforms).toPython() is False
    messages = [str(graph.value(r, SH.resultMessage)) for r in graph.objects(report, SH.result)]
    assert any(m.startswith("age: ") and "adults only" in m for m in messages)
    assert not list(graph.subjects(RDF.type, AX.Advice))
    # each result says which constraint component and shape produced it, and where (SHACL 3.6.2)
    [adult] = [r for r in graph.objects(report, SH.result) if "adults only" in str(graph.value(r, SH.resultMessage))]
    assert graph.value(adult, SH.sourceConstraintComponent) == SH.OrConstraintComponent
    assert str(graph.value(adult, SH.sourceShape)).endswith("#PatientAdult")
    assert graph.value(adult, SH.resultPath) == AX.ageYears
    assert graph.value(adult, SH.resultSeverity) == SH.Violation
    assert graph.value(adult, SH.value).toPython() == 15  # the value as found: an integer, not text
    assert all(graph.value(r, SH.sourceConstraintComponent) is not None and graph.value(r, SH.focusNode) is not None
               for r in graph.objects(report, SH.result))


def test_the_shacl_report_keeps_a_patient_iri_of_any_scheme(tmp_path: Path, capsys) -> None:
    """An id such as tag:… or did:… came out as a blank node named after the IRI, which rdflib could
    not read back (session-13 review)."""
    from rdflib.namespace import SH

    path = tmp_path / "tag.json"
    path.write_text(json.dumps({"id": "tag:clinic.example,2024:p2", "age": 15, "sex": "male", "diagnosis": "AS",
                                "diseaseState": "active"}), encoding="utf-8")
    assert main(["recommend", str(path), "-f", "turtle"]) == 1
    graph = Graph().parse(data=capsys.readouterr().out, format="turtle")
    assert set(graph.objects(None, SH.focusNode)) == {URIRef("tag:clinic.example,2024:p2")}


@pytest.mark.parametrize("command", ["recommend", "validate", "cohort"])
def test_an_output_that_is_a_folder_is_named_by_its_flag(command: str, tmp_path: Path, capsys) -> None:
    """'axspa: [Errno 21] Is a directory' named neither -o nor what to do (session-12 probe)."""
    assert main([command, str(CASE2), "-o", str(tmp_path)]) == 2
    assert f"-o {tmp_path}: is a folder, not a file" in capsys.readouterr().err


def test_an_oxigraph_path_that_is_a_file_is_a_store_message(tmp_path: Path, capsys) -> None:
    not_a_folder = tmp_path / "record.json"
    not_a_folder.write_text("{}")
    assert main(["recommend", str(CASE2), "--store", f"oxigraph:{not_a_folder}"]) == 2
    assert f"store: oxigraph:{not_a_folder}: cannot open it as an Oxigraph database folder" in capsys.readouterr().err


@pytest.mark.parametrize("unbuffered", [False, True])
def test_cohort_into_a_reader_that_stops_early_ends_141_without_a_traceback(unbuffered, tmp_path) -> None:
    """`axspa cohort ... | head`: the reader goes away after the first bytes. With PYTHONUNBUFFERED set
    (as on some CI hosts) the run used to end 0, its summary saying every patient was advised, though
    all but the first 64 KiB of one large write had been dropped."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "reasoner", "cohort", str(ROOT / "tests" / "data" / "valid")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(100)
    proc.stdout.close()
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, errors
    assert first.startswith(b'{"patient"')
    assert "Traceback" not in errors and "Exception ignored" not in errors


def test_kb_summary_into_a_reader_that_stops_early_ends_141_without_a_traceback() -> None:
    """`python -m reasoner.kb | head -1` ended in a BrokenPipeError traceback (session-28 docs audit),
    though the README promises a quiet end on a closed pipe."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")  # each line written as printed, as into `head`
    proc = subprocess.Popen([sys.executable, "-m", "reasoner.kb"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # gone before the knowledge base is loaded and the first line written
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, errors
    assert "Traceback" not in errors and "Exception ignored" not in errors


def test_a_closed_standard_output_is_a_message(tmp_path: Path) -> None:
    """`axspa recommend r.json >&-` ended in an AttributeError traceback (session-13 review)."""
    proc = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(CASE2)], stderr=subprocess.PIPE,
                          preexec_fn=lambda: os.close(1), timeout=300)  # noqa: PLW1509 (a test child only)
    assert proc.returncode == 2
    assert b"standard output is closed; name a file to write with -o" in proc.stderr
    assert b"Traceback" not in proc.stderr
    out = tmp_path / "advice.json"
    proc = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(CASE2), "-f", "json", "-o", str(out)],
                          stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1), timeout=300)  # noqa: PLW1509
    assert proc.returncode == 0 and json.loads(out.read_text())["conforms"] is True


def test_a_very_long_value_is_quoted_not_echoed_in_the_shacl_report(tmp_path: Path, capsys) -> None:
    """sh:value is the value as found, but a pasted text read as an IRI (a sex of 200,000 characters)
    was written whole into the report again (session-13 review)."""
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"id": "long-sex", "age": 40, "sex": "x" * 200_000, "diagnosis": "AS",
                                "diseaseState": "active"}), encoding="utf-8")
    assert main(["recommend", str(path), "-f", "turtle"]) == 1
    out = capsys.readouterr().out
    assert len(out) < 5_000 and "(200,000 characters)" in out


@pytest.mark.parametrize(("said", "expected"), [
    (None, "needs Java 17 or newer on the PATH"),
    ("Error: Could not reserve enough space for object heap", "Java had too little memory"),
    ("java.lang.UnsupportedClassVersionError: HermiT has been compiled by a more recent version of the Java "
     "Runtime", "the Java found is too old"),
    ("Exception in thread main org.semanticweb.owlapi.io.OWLParserException: unexpected token",
     "if this is not about the input"),
    ("Unrecognized option: -Xbad Error: Could not create the Java Virtual Machine.",
     "if this is not about the input"),
])
def test_exact_without_a_working_java_says_so_without_a_traceback(tmp_path: Path, said: str | None,
                                                                    expected: str) -> None:
    """No `java` on the PATH, or one that starts and fails (too old, no room for its heap, or an
    error of HermiT's own): a message naming the cause only when Java's output shows it, and exit
    code 2. A failing Java gave a traceback and exit code 1, which says "record invalid"
    (session-35 failure probe F8), and was then always blamed on the version or memory (L9)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if said is not None:
        java = folder / "java"
        java.write_text(f"#!/bin/sh\necho '{said}' >&2\nexit 1\n")
        java.chmod(0o755)
    proc = subprocess.run([sys.executable, "-m", "reasoner", "recommend", str(CASE2), "--exact"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PATH": str(folder)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert expected in proc.stderr and (said is None or said.split(":")[0] in proc.stderr), proc.stderr
