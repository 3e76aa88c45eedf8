"""Rules: one SPARQL CONSTRUCT per recommendation or label-fact family, run in strata.

Each rule's dependencies are read from its own text (rdflib's SPARQL algebra): the triple patterns
of its CONSTRUCT template are what it produces; the patterns of its WHERE clause are what it
consumes, and those under MINUS, FILTER NOT EXISTS or an OPTIONAL tested with !BOUND (or with
!(BOUND …)) are consumed under negation. A rule depends on every rule producing something it
consumes. networkx orders the rules into strata (topological generations); a cycle of any kind is
refused at load time with the rules named, so negation always reads a lower stratum that is
complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import URIRef
from rdflib.namespace import RDF

from .cache import read_json, write_json
from .errors import RuleLoadError
from .queries import QueryFile, query_folder

if TYPE_CHECKING:  # networkx and rdflib's SPARQL parser load only when a rule changed (~0.2 s)
    import networkx as nx

Key = tuple[str, str | None]  # (predicate IRI, object IRI or None for "any object")
# (predicate, via, value): a triple with `predicate` whose object has `via` `value` (a drug course's
# drug that is a TNF inhibitor, a statement's condition that falls under pregnancy): the pair of
# patterns `?s P ?o . ?o Q <V>`, in one group of a rule. Only rule gates read these.
JoinKey = tuple[str, str, str]
GateKey = Key | JoinKey

GUIDELINE_SETS = {
    "acr2019": {"acr2019"},
    "asas-eular2022": {"asas-eular2022"},
    "all": {"acr2019", "asas-eular2022"},
}


@dataclass
class Rule:
    """A rule file with what it produces and consumes."""

    query: QueryFile
    produces: set[Key] = field(default_factory=set)
    consumes: set[Key] = field(default_factory=set)
    negates: set[Key] = field(default_factory=set)
    # What a solution of the pattern must match, as alternatives: every solution matches all the
    # keys of at least one alternative (one per branch of a UNION; nothing under OPTIONAL, MINUS
    # or an aggregate counts). With a key of every alternative absent from the store, the rule
    # cannot derive anything. One empty alternative: the rule may always fire.
    alternatives: tuple[frozenset[GateKey], ...] = (frozenset(),)

    @property
    def requires(self) -> set[GateKey]:
        """Keys every solution matches, whichever alternative it takes."""
        return set(frozenset.intersection(*self.alternatives)) if self.alternatives else set()

    @property
    def name(self) -> str:
        return self.query.name

    @property
    def guideline(self) -> str:
        return self.query.header.get("guideline", "axspa").split()[0]

    @property
    def recommendations(self) -> list[str]:
        return self.query.field_list("recommendation")


# Rules whose output only the RDF renderings carry (PROV-O links, grading copied from the KB): the
# JSON report reads the grading from the knowledge base, so JSON-only runs skip them. No rule may
# read their output (tests/test_rules_engine.py checks).
PROVENANCE_RULES = frozenset({"provenance"})


def _key(triple: tuple) -> Key | None:
    _, p, o = triple
    if not isinstance(p, URIRef):
        return None
    return (str(p), str(o) if isinstance(o, URIRef) else None)


def _walk(node: object, negated: bool, out_pos: set[Key], out_neg: set[Key], has_not_bound: bool) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        name = node.name
        if name == "BGP":
            for triple in node.get("triples", []):
                key = _key(triple)
                if key:
                    (out_neg if negated else out_pos).add(key)
            return
        if name == "Minus":
            _walk(node.get("p1"), negated, out_pos, out_neg, has_not_bound)
            _walk(node.get("p2"), True, out_pos, out_neg, has_not_bound)
            return
        if name == "LeftJoin":
            _walk(node.get("p1"), negated, out_pos, out_neg, has_not_bound)
            _walk(node.get("p2"), negated or has_not_bound, out_pos, out_neg, has_not_bound)
            _walk(node.get("expr"), negated, out_pos, out_neg, has_not_bound)
            return
        if name == "Builtin_NOTEXISTS":
            _walk(node.get("graph"), True, out_pos, out_neg, has_not_bound)
            return
        for value in node.values():
            _walk(value, negated, out_pos, out_neg, has_not_bound)
    elif isinstance(node, list | tuple):
        for item in node:
            _walk(item, negated, out_pos, out_neg, has_not_bound)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, negated, out_pos, out_neg, has_not_bound)


# Algebra nodes whose solutions are all solutions of their inner pattern `p`.
_PASS_THROUGH = frozenset({"Filter", "Extend", "OrderBy", "Distinct", "Reduced", "Project", "ToMultiSet", "Slice"})
# More alternatives than this are merged into the keys they share (weaker, so still safe): the
# gates check each alternative, and a long cross product of UNIONs would cost more than it saves.
MAX_ALTERNATIVES = 8

Alternatives = list[frozenset[GateKey]]


def _bgp_keys(triples: list[tuple]) -> frozenset[GateKey]:
    """A group's keys: one a triple pattern, and a join key for each pattern whose object variable
    is the subject of a pattern with a constant predicate and IRI object in the same group."""
    from rdflib import Variable

    keys: set[GateKey] = {key for triple in triples if (key := _key(triple))}
    typed: dict[Variable, list[tuple[str, str]]] = {}
    for s, p, o in triples:
        if isinstance(s, Variable) and isinstance(p, URIRef) and isinstance(o, URIRef):
            typed.setdefault(s, []).append((str(p), str(o)))
    for _, p, o in triples:
        if isinstance(p, URIRef) and isinstance(o, Variable):
            keys.update((str(p), via, value) for via, value in typed.get(o, ()))
    return frozenset(keys)


def _minimal(alternatives: Alternatives) -> Alternatives:
    """Drop duplicates and any alternative holding another: matching it implies matching the smaller."""
    unique = sorted(set(alternatives), key=len)
    return [alt for i, alt in enumerate(unique) if not any(other <= alt for other in unique[:i])]


def _merged(alternatives: Alternatives) -> Alternatives:
    return [frozenset.intersection(*alternatives)] if alternatives else [frozenset()]


def _inline_values(group: object, inline: object) -> Alternatives | None:
    """A group joined with a VALUES block of one variable, every row an IRI (`?s ax:aboutCondition
    ?c . VALUES ?c { ax:pregnancy ax:pregnancy_second_or_third_trimester }`): one alternative per
    value, the group's keys with the value in place of the variable, so the gates can tell that a
    record states neither. None for any other shape (then the group's own keys stand)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if not (isinstance(group, CompValue) and group.name == "BGP"
            and isinstance(inline, CompValue) and inline.name == "ToMultiSet"):
        return None
    values = inline.get("p")
    rows = values.get("res") if isinstance(values, CompValue) and values.name == "values" else None
    if not rows or len(rows) > MAX_ALTERNATIVES:
        return None
    # one variable, bound to an IRI in every row (an UNDEF leaves the row without it)
    names = {name for row in rows for name in row}
    if len(names) != 1 or any(len(row) != 1 or not isinstance(value, URIRef) for row in rows for value in row.values()):
        return None
    [name] = names
    triples = group.get("triples", [])
    return _minimal([_bgp_keys([tuple(row[name] if term == name else term for term in triple) for triple in triples])
                     for row in rows])


def _alternatives(node: object) -> Alternatives:
    """Key sets, one of which every solution of `node` matches in full. Anything not understood
    requires nothing (so a rule is never skipped on a guess)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if not isinstance(node, CompValue):
        return [frozenset()]
    if node.name == "BGP":
        return [_bgp_keys(node.get("triples", []))]
    if node.name == "Join":
        inline = _inline_values(node.get("p1"), node.get("p2")) or _inline_values(node.get("p2"), node.get("p1"))
        if inline is not None:
            return inline
        left, right = _alternatives(node.get("p1")), _alternatives(node.get("p2"))
        if len(left) * len(right) > MAX_ALTERNATIVES:
            left, right = (left, _merged(right)) if len(left) >= len(right) else (_merged(left), right)
            if len(left) * len(right) > MAX_ALTERNATIVES:
                left, right = _merged(left), _merged(right)
        return _minimal([a | b for a in left for b in right])
    if node.name in ("LeftJoin", "Minus"):
        return _alternatives(node.get("p1"))
    if node.name == "Union":
        both = _minimal(_alternatives(node.get("p1")) + _alternatives(node.get("p2")))
        return both if len(both) <= MAX_ALTERNATIVES else _merged(both)
    if node.name in _PASS_THROUGH or node.name == "AggregateJoin":
        return _alternatives(node.get("p"))
    if node.name == "Group":
        # GROUP BY makes one group per distinct key among the solutions: none from none. Without
        # it, the one implicit group yields a row (a COUNT of 0) even from no match at all.
        return _alternatives(node.get("p")) if node.get("expr") else [frozenset()]
    return [frozenset()]


def analyse(query: QueryFile) -> Rule:
    """Parse a rule and record the keys it produces, consumes and negates."""
    from rdflib.plugins.sparql import prepareQuery  # only on a cache miss: the parser costs 0.1 s to import

    try:
        prepared = prepareQuery(query.text)
    except Exception as exc:  # pyparsing raises several types
        raise RuleLoadError(f"rule {query.name}: not valid SPARQL: {exc}") from exc
    algebra = prepared.algebra
    if algebra.name != "ConstructQuery":
        raise RuleLoadError(f"rule {query.name}: a rule must be a CONSTRUCT query")
    rule = Rule(query)
    for triple in algebra.get("template") or []:
        key = _key(triple)
        if key is None or key == (str(RDF.type), None):
            raise RuleLoadError(f"rule {query.name}: template triples need a constant predicate (and type)")
        rule.produces.add(key)
    # an OPTIONAL read to rule something out: `!BOUND(?x)`, or `!(BOUND(?x) || ...)` (session-29 review)
    text = query.text.upper().replace(" ", "")
    has_not_bound = "!BOUND" in text or "!(BOUND" in text
    _walk(algebra.get("p"), False, rule.consumes, rule.negates, has_not_bound)
    rule.alternatives = tuple(sorted(_alternatives(algebra.get("p")), key=lambda alt: sorted(map(str, alt))))
    return rule


# Bump when analyse() changes what it records, so cached analyses of unchanged rules are redone.
ANALYSIS_VERSION = "8"
_ANALYSIS_FIELDS = ("produces", "consumes", "negates")


def analyse_cached(queries: list[QueryFile]) -> list[Rule]:
    """analyse() each rule, reusing earlier results for unchanged text (parsing costs ~30 ms a rule).

    The cache is keyed by a hash of each rule's text, so an edited rule is always re-analysed; an
    unwritable cache only costs time.
    """
    cache = read_json("rule-analysis")
    rules: list[Rule] = []
    changed = False
    for query in queries:
        digest = hashlib.sha256((ANALYSIS_VERSION + query.text).encode("utf-8")).hexdigest()
        entry = cache.get(digest)
        if entry is None:
            rule = analyse(query)
            cache[digest] = {k: sorted([list(x) for x in getattr(rule, k)], key=str) for k in _ANALYSIS_FIELDS}
            cache[digest]["alternatives"] = [sorted([list(x) for x in alt], key=str) for alt in rule.alternatives]
            changed = True
        else:
            rule = Rule(query, *({tuple(x) for x in entry[k]} for k in _ANALYSIS_FIELDS),
                        alternatives=tuple(frozenset(tuple(x) for x in alt) for alt in entry["alternatives"]))
        rules.append(rule)
    if changed:
        write_json("rule-analysis", cache)
    return rules


def _matches(consumed: Key, produced: Key) -> bool:
    """Can the produced triples match the consumed pattern? A variable on either side matches any
    object: a rule writing `ax:adviceKind ?kind` may write `ax:kind_contraindicated`."""
    return consumed[0] == produced[0] and (consumed[1] is None or produced[1] is None or consumed[1] == produced[1])


def dependency_graph(rules: Iterable[Rule]) -> nx.DiGraph:
    """Edge producer -> consumer, with attribute negative=True when consumed under negation."""
    import networkx as nx

    rules = list(rules)
    graph = nx.DiGraph()
    for rule in rules:
        graph.add_node(rule.name, rule=rule)
    producers: dict[str, list[tuple[Key, Rule]]] = {}  # by predicate: 121 x 121 pairs took 0.4 s
    for producer in rules:
        for produced in producer.produces:
            producers.setdefault(produced[0], []).append((produced, producer))
    for consumer in rules:
        edges: dict[str, bool] = {}
        for keys, negative in ((consumer.consumes, False), (consumer.negates, True)):
            for consumed in keys:
                for produced, producer in producers.get(consumed[0], ()):
                    if _matches(consumed, produced):
                        edges[producer.name] = edges.get(producer.name, False) or negative
        for name, negative in edges.items():
            graph.add_edge(name, consumer.name, negative=negative)
    return graph


def stratify(rules: Iterable[Rule]) -> list[list[Rule]]:
    """Order rules into strata; refuse any cycle, naming the rules on it."""
    import networkx as nx

    graph = dependency_graph(rules)
    cycles = list(nx.simple_cycles(graph))
    if cycles:
        shown = "; ".join(" -> ".join([*cycle, cycle[0]]) for cycle in cycles[:5])
        raise RuleLoadError(f"the rules depend on each other in a cycle: {shown}")
    return [
        sorted((graph.nodes[name]["rule"] for name in generation), key=lambda r: r.name)
        for generation in nx.topological_generations(graph)
    ]


def load_rules(guideline: str = "all", folder: str = "rules") -> list[list[Rule]]:
    """Read queries/<folder>/*.rq, keep those for the chosen guideline set, return the strata."""
    if guideline not in GUIDELINE_SETS:
        raise RuleLoadError(f"unknown guideline set {guideline!r}; use one of {', '.join(GUIDELINE_SETS)}")
    wanted = GUIDELINE_SETS[guideline]
    rules = analyse_cached(query_folder(folder))
    if not rules:
        raise RuleLoadError(f"no rules found in queries/{folder}/")
    chosen = [r for r in rules if r.guideline in wanted or r.guideline not in {"acr2019", "asas-eular2022"}]
    return _stratify_cached(chosen)


def _stratify_cached(rules: list[Rule]) -> list[list[Rule]]:
    """stratify(), remembered by the rules' names and texts: the strata are a function of them."""
    key = hashlib.sha256("\n".join(sorted(
        f"{ANALYSIS_VERSION} {r.name} {hashlib.sha256(r.query.text.encode('utf-8')).hexdigest()}" for r in rules
    )).encode("utf-8")).hexdigest()
    cached = read_json("rule-strata")
    by_name = {r.name: r for r in rules}
    names = cached.get(key)
    if isinstance(names, list) and sorted(n for s in names for n in s) == sorted(by_name):
        return [[by_name[n] for n in stratum] for stratum in names]
    strata = stratify(rules)
    cached[key] = [[r.name for r in stratum] for stratum in strata]
    write_json("rule-strata", cached)
    return strata
