"""The rule loader: dependencies from the SPARQL text, strata, cycles refused with rules named."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner.errors import RuleLoadError
from reasoner.queries import read_query
from reasoner.rules import analyse, dependency_graph, load_rules, stratify

PREFIX = "PREFIX ax: <https://w3id.org/axspa-kg/ontology#>\n"


def _rule(tmp_path: Path, name: str, body: str):
    path = tmp_path / f"{name}.rq"
    path.write_text(f"# Rule: {name}\n# Guideline: axspa\n" + PREFIX + body)
    return analyse(read_query(path))


def test_negation_is_read_from_minus_and_not_bound(tmp_path: Path) -> None:
    rule = _rule(tmp_path, "neg", """
        CONSTRUCT { ?p ax:flag ax:yes } WHERE {
          ?p a ax:Patient .
          MINUS { ?p ax:blocked ax:yes }
          OPTIONAL { ?p ax:other ?o } FILTER (!BOUND(?o))
        }""")
    assert ("https://w3id.org/axspa-kg/ontology#blocked", "https://w3id.org/axspa-kg/ontology#yes") in rule.negates
    assert ("https://w3id.org/axspa-kg/ontology#other", None) in rule.negates
    assert ("https://w3id.org/axspa-kg/ontology#flag", "https://w3id.org/axspa-kg/ontology#yes") in rule.produces


def test_negated_input_puts_the_producer_in_a_lower_stratum(tmp_path: Path) -> None:
    producer = _rule(tmp_path, "producer", "CONSTRUCT { ?p ax:blocked ax:yes } WHERE { ?p a ax:Patient }")
    consumer = _rule(tmp_path, "consumer", """
        CONSTRUCT { ?p ax:flag ax:yes } WHERE { ?p a ax:Patient MINUS { ?p ax:blocked ax:yes } }""")
    strata = stratify([consumer, producer])
    assert [[r.name for r in s] for s in strata] == [["producer"], ["consumer"]]
    edge = dependency_graph([consumer, producer]).edges["producer", "consumer"]
    assert edge["negative"] is True


def test_a_producer_writing_a_variable_object_is_ordered_before_a_constant_reader(tmp_path: Path) -> None:
    """A rule writing `ax:kind ?k` may write `ax:kind ax:yes`: a rule negating that must come after
    it (the dependency analysis once matched a constant only against the same constant)."""
    producer = _rule(tmp_path, "producer", """
        CONSTRUCT { ?p ax:kind ?k } WHERE { ?p a ax:Patient ; ax:labelled ?k }""")
    consumer = _rule(tmp_path, "consumer", """
        CONSTRUCT { ?p ax:flag ax:yes } WHERE { ?p a ax:Patient MINUS { ?p ax:kind ax:yes } }""")
    assert [[r.name for r in s] for s in stratify([consumer, producer])] == [["producer"], ["consumer"]]


def test_a_cycle_is_refused_naming_the_rules(tmp_path: Path) -> None:
    a = _rule(tmp_path, "rule-a", "CONSTRUCT { ?p ax:a ax:yes } WHERE { ?p ax:b ax:yes }")
    b = _rule(tmp_path, "rule-b", "CONSTRUCT { ?p ax:b ax:yes } WHERE { ?p ax:a ?x MINUS { ?p ax:c ?y } }")
    with pytest.raises(RuleLoadError, match="rule-a") as info:
        stratify([a, b])
    assert "rule-b" in str(info.value)


def test_a_rule_that_negates_its_own_output_is_a_cycle(tmp_path: Path) -> None:
    selfish = _rule(tmp_path, "selfish",
                    "CONSTRUCT { ?p ax:a ax:yes } WHERE { ?p a ax:Patient MINUS { ?p ax:a ax:yes } }")
    with pytest.raises(RuleLoadError, match="selfish"):
        stratify([selfish])


def test_only_construct_queries_are_rules(tmp_path: Path) -> None:
    path = tmp_path / "select.rq"
    path.write_text(PREFIX + "SELECT ?p WHERE { ?p a ax:Patient }")
    with pytest.raises(RuleLoadError, match="CONSTRUCT"):
        analyse(read_query(path))


def test_the_project_rules_load_in_strata_with_safety_last() -> None:
    strata = load_rules("all")
    names = [[r.name for r in s] for s in strata]
    where = {name: i for i, stratum in enumerate(names) for name in stratum}
    assert where["suppress-unsafe"] > where["do-not-repeat"]
    assert where["suppress-unsafe"] > where["label-safety"]
    assert where["suppress-unsafe"] > where["AS-06"]


def test_guideline_selection_filters_rules() -> None:
    acr = {r.name for s in load_rules("acr2019") for r in s}
    eular = {r.name for s in load_rules("asas-eular2022") for r in s}
    assert "AS-06" in acr and "AS-06" not in eular
    assert "do-not-repeat" in acr and "do-not-repeat" in eular
    with pytest.raises(RuleLoadError, match="unknown guideline set"):
        load_rules("nice2099")


def test_every_rule_file_has_the_header_the_readme_asks_for() -> None:
    for stratum in load_rules("all"):
        for rule in stratum:
            header = rule.query.header
            for key in ("rule", "recommendation", "guideline"):
                assert header.get(key), f"{rule.name}: missing '# {key.title()}:' header"


def test_analysis_cache_never_serves_an_edited_rule_stale(tmp_path: Path, monkeypatch) -> None:
    from reasoner.rules import analyse_cached

    monkeypatch.setenv("AXSPA_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "r.rq"
    path.write_text("# Rule: r\n" + PREFIX + "CONSTRUCT { ?p ax:first ax:yes } WHERE { ?p a ax:Patient }")
    (first,) = analyse_cached([read_query(path)])
    assert (tmp_path / "cache" / "rule-analysis.json").is_file()
    path.write_text("# Rule: r\n" + PREFIX + "CONSTRUCT { ?p ax:second ax:yes } WHERE { ?p a ax:Patient }")
    (second,) = analyse_cached([read_query(path)])
    assert {k[0].rsplit("#", 1)[1] for k in first.produces} == {"first"}
    assert {k[0].rsplit("#", 1)[1] for k in second.produces} == {"second"}
    (again,) = analyse_cached([read_query(path)])
    assert again.produces == second.produces and again.negates == second.negates


def test_no_rule_reads_what_the_provenance_rules_derive() -> None:
    """JSON-only runs skip PROVENANCE_RULES; that is only safe while nothing depends on them."""
    from reasoner.rules import PROVENANCE_RULES

    rules = [rule for stratum in load_rules("all") for rule in stratum]
    graph = dependency_graph(rules)
    assert set(graph.nodes) >= PROVENANCE_RULES
    for name in PROVENANCE_RULES:
        assert not list(graph.successors(name)), name


def test_json_results_are_the_same_with_or_without_the_provenance_rules(reasoner) -> None:
    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "examples").glob("*.json")):
        lean = reasoner.recommend(path).as_dict()
        full = reasoner.recommend(path, provenance=True)
        assert lean == full.as_dict(), path.name
        if full.advice:  # the RDF rendering does carry PROV-O
            assert len(full.graph) > len(reasoner.recommend(path).graph), path.name


def test_cached_strata_equal_computed_ones_and_follow_an_edited_rule(tmp_path: Path, monkeypatch) -> None:
    """load_rules() remembers the strata by rule names and texts (so networkx loads only on a change)."""
    from reasoner.rules import _stratify_cached as cached
    from reasoner.rules import analyse_cached, load_rules

    monkeypatch.setenv("AXSPA_CACHE_DIR", str(tmp_path / "cache"))
    first = [[r.name for r in s] for s in load_rules("all")]
    assert (tmp_path / "cache" / "rule-strata.json").is_file()
    assert [[r.name for r in s] for s in load_rules("all")] == first == [
        [r.name for r in s] for s in stratify([r for s in load_rules("all") for r in s])]
    producer = tmp_path / "p.rq"
    consumer = tmp_path / "c.rq"
    consumer.write_text("# Rule: c\n" + PREFIX + "CONSTRUCT { ?p ax:b ax:yes } WHERE { ?p ax:a ax:yes }")
    producer.write_text("# Rule: p\n" + PREFIX + "CONSTRUCT { ?p ax:a ax:yes } WHERE { ?p a ax:Patient }")
    rules = analyse_cached([read_query(consumer), read_query(producer)])
    assert [[r.name for r in s] for s in cached(rules)] == [["p"], ["c"]]
    producer.write_text("# Rule: p\n" + PREFIX + "CONSTRUCT { ?p ax:z ax:yes } WHERE { ?p a ax:Patient }")
    rules = analyse_cached([read_query(consumer), read_query(producer)])
    assert [[r.name for r in s] for s in cached(rules)] == [["c", "p"]]


def test_no_rule_negates_with_filter_not_exists() -> None:
    """Oxigraph evaluated a FILTER NOT EXISTS once per solution over the whole batch: label-safety's
    took 40 s at 4,000 patients against 2.4 s as a MINUS (bench/profile_rules.py shows such rows by
    their size ratio). Negation in a rule is a MINUS or an OPTIONAL tested with !BOUND."""
    rules = Path(__file__).resolve().parent.parent / "queries" / "rules"
    texts = {p.name: "\n".join(line.split("#", 1)[0] for line in p.read_text(encoding="utf-8").splitlines())
             for p in sorted(rules.glob("*.rq"))}
    assert len(texts) > 100
    assert [name for name, text in texts.items() if "NOT EXISTS" in " ".join(text.upper().split())] == []
