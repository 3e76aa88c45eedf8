"""Skipping rules that cannot fire (reasoner.rule_gates) must never change the advice: what each
rule requires is read from its algebra conservatively, and the derived graph with skipping equals
the derived graph with every rule run, record by record and for a whole batch."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rdflib import Graph

from reasoner.queries import read_query
from reasoner.record import load_record
from reasoner.rule_gates import presence_query
from reasoner.rules import Rule, analyse
from reasoner.store import DERIVED_GRAPH, OxigraphStore, RdflibStore

ROOT = Path(__file__).resolve().parent.parent
AX = "https://w3id.org/axspa-kg/ontology#"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402


def _rule(tmp_path: Path, where: str) -> Rule:
    path = tmp_path / "r.rq"
    path.write_text(f"PREFIX ax: <{AX}>\nCONSTRUCT {{ ?p ax:flag ax:yes }} WHERE {{ {where} }}")
    return analyse(read_query(path))


def _requires(tmp_path: Path, where: str) -> set:
    return _rule(tmp_path, where).requires


def test_only_patterns_every_solution_matches_are_required(tmp_path: Path) -> None:
    found = _requires(tmp_path, """
        ?p a ax:A .
        OPTIONAL { ?p ax:opt ?o }
        MINUS { ?p ax:gone ?g }
        { ?p a ax:B ; ax:left ?l } UNION { ?p a ax:B ; ax:right ?r }
        FILTER (?p != ax:x)""")
    assert found == {(TYPE, AX + "A"), (TYPE, AX + "B")}


def test_an_aggregate_requires_nothing_unless_grouped(tmp_path: Path) -> None:
    """COUNT over no match still gives a row (one implicit group), so nothing below an aggregate
    without GROUP BY is required; with GROUP BY, no match gives no group and no row."""
    assert _requires(tmp_path, "{ SELECT (COUNT(*) AS ?n) WHERE { ?p a ax:Z } }") == set()
    found = _requires(tmp_path, """
        ?p a ax:A .
        { SELECT ?p (COUNT(?c) AS ?n) WHERE { ?p ax:hasCourse ?c } GROUP BY ?p }""")
    assert found == {(TYPE, AX + "A"), (AX + "hasCourse", None)}


@pytest.mark.parametrize("make", [OxigraphStore, RdflibStore])
def test_a_grouped_aggregate_over_no_match_gives_no_row(make) -> None:
    """What the gates rely on, on the stores themselves."""
    store = make()
    store.add(Graph().parse(data=f"<urn:p> a <{AX}A> .", format="turtle"), DERIVED_GRAPH)
    assert store.select(f"SELECT ?p (COUNT(?c) AS ?n) WHERE {{ ?p <{AX}hasCourse> ?c }} GROUP BY ?p") == []
    assert len(store.select(f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?p <{AX}hasCourse> ?c }}")) == 1


def test_a_course_drug_of_a_class_is_a_join_key(tmp_path: Path) -> None:
    """`?c ax:drug ?d . ?d a ax:TNFi` in one group: besides each pattern, the pair as a join key."""
    found = _requires(tmp_path, "?p ax:hasCourse ?c . ?c ax:drug ?d . ?d a ax:TNFi . OPTIONAL { ?d ax:x ax:y }")
    assert (AX + "drug", TYPE, AX + "TNFi") in found
    assert (AX + "hasCourse", AX + "drug", AX + "TNFi") not in found  # the object must be a constant
    assert not [key for key in found if len(key) == 3 and key[1] == AX + "x"]  # not from an OPTIONAL


def _alternatives(tmp_path: Path, where: str) -> set[frozenset]:
    return set(_rule(tmp_path, where).alternatives)


def test_each_union_branch_is_an_alternative(tmp_path: Path) -> None:
    found = _alternatives(tmp_path, """
        ?p a ax:A .
        { ?p ax:left ?l } UNION { ?p ax:right ?r ; ax:also ?a }
        OPTIONAL { ?p ax:opt ?o }""")
    assert found == {frozenset({(TYPE, AX + "A"), (AX + "left", None)}),
                     frozenset({(TYPE, AX + "A"), (AX + "right", None), (AX + "also", None)})}


def test_a_values_block_gives_one_alternative_per_value(tmp_path: Path) -> None:
    """`?s ax:about ?c . VALUES ?c { ax:x ax:y }`: every solution has ?c = ax:x or ?c = ax:y, so
    each value is an alternative with the value in place (a record stating neither closes the rule).
    An UNDEF row (the variable left open) or a value that is no IRI keeps the plain patterns."""
    found = _alternatives(tmp_path, "?p ax:has ?s . ?s ax:about ?c . VALUES ?c { ax:x ax:y }")
    assert found == {frozenset({(AX + "has", None), (AX + "about", AX + value), (AX + "has", AX + "about", AX + value)})
                     for value in ("x", "y")}
    for values in ("VALUES ?c { ax:x UNDEF }", 'VALUES ?c { ax:x "y" }'):
        assert _alternatives(tmp_path, f"?p ax:has ?s . ?s ax:about ?c . {values}") == {
            frozenset({(AX + "has", None), (AX + "about", None)})}


def _closed_over_strata(reasoner, record: Graph) -> set[str]:
    """The rules apply_rules skips for one record, stratum by stratum (join keys and derived
    states are looked up as their readers come up)."""
    reasoner.classify(record)
    absent = reasoner.gates.absent(reasoner.store)
    closed: set[str] = set()
    for stratum in reasoner.strata:
        closed |= reasoner.gates.closed(reasoner.store, stratum, absent)
        reasoner.store.construct_into([r.query.text for r in stratum if r.name not in closed], DERIVED_GRAPH)
    return closed


def test_questions_about_conditions_a_record_does_not_state_are_skipped(reasoner, kb) -> None:
    """ni-gestational-age (a VALUES block of the two pregnancy concepts it asks about) and
    ni-condition-form (a knowledge-base link, ax:raisesQuestion, on the conditions that can raise it)
    ran for most generated patients and derived nothing: bench/warm_stages.py, session 28."""
    plain = load_record(ROOT / "examples" / "nsaid-failure-biologic-naive.json", kb).graph
    assert {"ni-gestational-age", "ni-condition-form"} <= _closed_over_strata(reasoner, plain)
    for name, rule in (("as-pregnant-stage-unstated-nsaids-failed.json", "ni-gestational-age"),
                       ("as-salicylate-hypersensitivity-pregnancy-unknown.json", "ni-condition-form")):
        record = load_record(ROOT / "tests" / "data" / "valid" / name, kb).graph
        assert rule not in _closed_over_strata(reasoner, record), name


def test_a_branch_that_requires_nothing_leaves_the_rule_open(tmp_path: Path) -> None:
    """A branch holding only a BIND matches with no triple at all: one empty alternative."""
    found = _alternatives(tmp_path, "{ ?p ax:left ?l } UNION { BIND (ax:x AS ?p) }")
    assert found == {frozenset()}


def test_too_many_alternatives_fall_back_to_the_shared_keys(tmp_path: Path) -> None:
    """Four UNIONs of two branches give 16 combinations: merged (weaker, still safe)."""
    unions = " ".join(f"{{ ?p ax:a{i} ?x{i} }} UNION {{ ?p ax:b{i} ?y{i} }}" for i in range(4))
    found = _alternatives(tmp_path, f"?p a ax:A . {unions}")
    assert len(found) <= 8 and all((TYPE, AX + "A") in alt for alt in found)


def test_a_rule_closes_when_every_branch_lacks_a_pattern(tmp_path: Path) -> None:
    from reasoner.rule_gates import RuleGates

    rule = _rule(tmp_path, "{ ?p ax:left ?l } UNION { ?p ax:right ?r }")
    gates = RuleGates([rule], Graph())
    store = OxigraphStore()
    assert gates.closed(store) == {rule.name}
    store.add(Graph().parse(data=f"<urn:p> <{AX}right> <urn:r> .", format="turtle"), DERIVED_GRAPH)
    assert gates.closed(store) == set()


def test_a_join_key_closes_a_rule_its_single_patterns_leave_open(tmp_path: Path) -> None:
    """A course of a drug and a TNF inhibitor in the store, but no course of a TNF inhibitor: each
    pattern is there, the pair is not. With more triples on both sides than the store looks
    through, the join counts as present (never a skip on a guess)."""
    from reasoner.rule_gates import RuleGates

    rule = _rule(tmp_path, "?p ax:hasCourse ?c . ?c ax:drug ?d . ?d a ax:TNFi")
    gates = RuleGates([rule], Graph())
    store = OxigraphStore()
    store.add(Graph().parse(data=f"""@prefix ax: <{AX}> .
        <urn:p> ax:hasCourse <urn:c> . <urn:c> ax:drug ax:celecoxib . ax:adalimumab a ax:TNFi .""",
                            format="turtle"), DERIVED_GRAPH)
    assert gates.closed(store) == {rule.name}
    store.JOIN_LOOKUPS = 0  # type: ignore[misc]
    assert gates.closed(store) == set()
    store.JOIN_LOOKUPS = 64  # type: ignore[misc]
    store.add(Graph().parse(data=f"<urn:c> <{AX}drug> <{AX}adalimumab> .", format="turtle"), DERIVED_GRAPH)
    assert gates.closed(store) == set()


def test_a_state_no_earlier_stratum_derived_closes_its_readers(reasoner, kb) -> None:
    """ni-course-order reads ax:unorderedAgainst, which state-working-again-unordered derives in
    a lower stratum: for a record with no course taken again it is looked up as that stratum comes up,
    found absent, and the rule is skipped; a cohort-wide check (no stratum given) keeps it open."""
    record = load_record(ROOT / "examples" / "nsaid-failure-biologic-naive.json", kb).graph
    reasoner.classify(record)
    absent = reasoner.gates.absent(reasoner.store)
    closed_by_stratum: set[str] = set()
    for stratum in reasoner.strata:
        closed_by_stratum |= reasoner.gates.closed(reasoner.store, stratum, absent)
        reasoner.store.construct_into([r.query.text for r in stratum if r.name not in closed_by_stratum],
                                      DERIVED_GRAPH)
    derived_key = (AX + "unorderedAgainst", None)
    # not a pattern checked before the strata: looked up as its reader's stratum came up
    assert derived_key not in reasoner.gates.keys and absent[derived_key] is True
    assert "ni-course-order" in closed_by_stratum
    assert "ni-course-order" not in reasoner.gates.closed(reasoner.store)


@pytest.mark.parametrize("make", [OxigraphStore, RdflibStore])
def test_the_presence_query_names_exactly_the_keys_present(make) -> None:
    store = make()
    store.add(Graph().parse(data=f"<urn:p> a <{AX}A> ; <{AX}has> <urn:c> .", format="turtle"), DERIVED_GRAPH)
    keys = [(TYPE, AX + "A"), (TYPE, AX + "B"), (AX + "has", None), (AX + "other", None)]
    assert sorted(int(r["k"]) for r in store.select(presence_query(keys))) == [0, 2]


def _records(kb) -> list[Graph]:
    paths = sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "tests" / "data" / "valid").glob("*"))
    graphs = [load_record(p, kb).graph for p in paths]
    return graphs + [load_record(r, kb).graph for r in cohort(30, seed=5)]


def _derived(reasoner, patients, skip: bool) -> set:
    reasoner.skip_closed_rules = skip
    try:
        reasoner.classify(patients)
        reasoner.apply_rules()
        return set(reasoner.store.graph(DERIVED_GRAPH))
    finally:
        reasoner.skip_closed_rules = True


def test_skipping_changes_nothing_record_by_record(reasoner, kb) -> None:
    """Rules and class queries alike (`_derived` classifies too)."""
    skipped_any = skipped_class = False
    for graph in _records(kb):
        reasoner.stage(graph)
        skipped_class |= bool(reasoner.class_gates.closed(reasoner.store))
        reasoner.classify(graph)
        skipped_any |= bool(reasoner.gates.closed(reasoner.store))
        assert _derived(reasoner, graph, True) == _derived(reasoner, graph, False)
    assert skipped_any and skipped_class, "a single record should leave some rules and class queries closed"


def test_skipping_changes_nothing_for_a_batch(reasoner, kb) -> None:
    batch = _records(kb)
    assert _derived(reasoner, batch, True) == _derived(reasoner, batch, False)


def test_the_oxigraph_lookup_and_the_sparql_query_agree(reasoner, kb) -> None:
    """Embedded Oxigraph answers presence by index lookups; other stores by the chunked query."""
    from reasoner.rule_gates import RuleGates

    for graph in _records(kb)[:6]:
        reasoner.classify(graph)
        store = reasoner.store
        keys = reasoner.gates.keys
        by_lookup = RuleGates._present(keys, store)
        by_query = {keys[i + int(r["k"])] for i in range(0, len(keys), 8)
                    for r in store.select(presence_query(keys[i:i + 8]))}
        assert by_lookup == by_query and by_lookup


def test_apply_rules_sends_no_rule_whose_derived_state_is_absent(reasoner, kb, monkeypatch) -> None:
    """The skip itself, not only the gate: for a record with no course taken again, the text of
    ni-course-order (which reads ax:unorderedAgainst) never reaches the store, while with skipping
    off it does; the derived graph is the same either way (test_skipping_changes_nothing_*)."""
    record = load_record(ROOT / "examples" / "nsaid-failure-biologic-naive.json", kb).graph
    target = next(r for stratum in reasoner.strata for r in stratum if r.name == "ni-course-order")
    sent: list[str] = []
    original = reasoner.store.construct_into

    def recording(queries, graph_name):
        sent.extend(queries)
        return original(queries, graph_name)

    monkeypatch.setattr(reasoner.store, "construct_into", recording)
    for skip in (True, False):
        sent.clear()
        reasoner.skip_closed_rules = skip
        try:
            reasoner.classify(record)
            reasoner.apply_rules()
        finally:
            reasoner.skip_closed_rules = True
        assert (target.query.text in sent) is (not skip)


def test_the_condition_form_link_marks_every_condition_the_rule_can_ask_about(reasoner, kb) -> None:
    """queries/kb/stated-condition-forms.rq repeats, over the knowledge base alone, the test inside
    ni-condition-form.rq; the rule reads the link first so the gates can skip it. Were the two to
    drift apart, the gate would hide the question for a condition the rule could ask about. Run the
    rule without the link over one record per condition: every condition it asks about is marked.
    (The link may mark more: sulfonamide allergy has a marked form, but every fact that form brings
    in is one the allergy brings in already, so the rule's options come to nothing.)"""
    from rdflib import URIRef
    from rdflib.namespace import RDF

    from reasoner.namespaces import AX

    text = (ROOT / "queries" / "rules" / "ni-condition-form.rq").read_text(encoding="utf-8")
    link = "?stated ax:raisesQuestion ax:need_condition_form ."
    assert link in text
    conditions = sorted(set(kb.subjects(RDF.type, AX.Comorbidity)) | set(kb.subjects(RDF.type, AX.Condition)))
    patients, by_patient = Graph(), {}
    for index, condition in enumerate(conditions):
        patient, statement = URIRef(f"urn:form-gate:p{index}"), URIRef(f"urn:form-gate:p{index}/c")
        by_patient[patient] = condition
        patients.add((patient, RDF.type, AX.Patient))
        patients.add((patient, AX.diseaseState, AX.active_disease))
        patients.add((patient, AX.hasConditionStatement, statement))
        patients.add((statement, AX.presence, AX.present))
        patients.add((statement, AX.aboutCondition, condition))
    reasoner.stage(patients)
    asked = {by_patient[p] for p in reasoner.store.construct(text.replace(link, "")).objects(None, AX.forPatient)}
    marked = set(reasoner.full_kb.subjects(AX.raisesQuestion, AX.need_condition_form))
    assert AX.salicylate_hypersensitivity in asked and asked <= marked
