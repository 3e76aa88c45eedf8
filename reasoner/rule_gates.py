"""Skip rules that cannot fire, decided by index lookups (or one query) as the strata run.

Every rule pays Oxigraph's parse-and-plan cost (~0.1-1 ms) even when it derives nothing, and a
single patient sits in few of the guideline's populations: of ~150 rules about half can match
anything for one record, and half of those derive nothing. `Rule.alternatives` lists the triple
patterns a solution must match, one set per UNION branch (its population class, a course outcome,
a state an earlier rule derives…); a rule none of whose alternatives has all its patterns in the
store is skipped.

Three kinds of pattern are checked. Those no rule derives are fixed once the patient is classified
and are checked once, before the first stratum (one query per eight patterns on stores without
index lookups). Those an earlier stratum derives are checked when the stratum that reads them
comes up, by index lookup on the embedded Oxigraph only (a remote store would pay a round trip
per stratum); by then every rule that derives them has run, since the strata put each producer
below its readers. Join keys (`?s P ?o . ?o Q <V>` in one group: a course of a TNF inhibitor, where
the store holds courses and TNF inhibitors but maybe not together) are looked up on the embedded
Oxigraph only, as their readers come up, and only for a rule its single patterns left open.
Patterns the knowledge base always holds are never asked about. A batch of many patients holds
nearly every pattern, so cohorts skip little and pay a few lookups.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, URIRef

from .rules import GateKey, Key, Rule
from .store import Store


def _derived_by_rules(key: GateKey, produced: set[Key]) -> bool:
    """Can a rule write a triple matching `key` (for a join key, either of its two patterns)? An
    object left open on either side matches any."""
    if len(key) == 3:
        return _derived_by_rules((key[0], None), produced) or _derived_by_rules((key[1], key[2]), produced)
    return any(key[0] == p and (o is None or key[1] is None or o == key[1]) for p, o in produced)


def _in_graph(key: GateKey, graph: Graph) -> bool:
    if len(key) == 3:
        predicate = URIRef(key[0])
        return any((None, predicate, node) in graph for node in graph.subjects(URIRef(key[1]), URIRef(key[2])))
    return (None, URIRef(key[0]), URIRef(key[1]) if key[1] is not None else None) in graph


def _pattern(key: Key) -> str:
    predicate, obj = key
    return f"?s <{predicate}> {f'<{obj}>' if obj is not None else '?o'}"


PRESENCE_CHUNK = 8


def presence_query(keys: list[Key]) -> str:
    """SELECT ?k: the index of each key with at least one matching triple (standard SPARQL 1.1:
    a UNION of one-row sub-selects, which every engine here stops early on)."""
    branches = [f"{{ SELECT ({index} AS ?k) WHERE {{ {_pattern(key)} }} LIMIT 1 }}" for index, key in enumerate(keys)]
    return "SELECT ?k WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"


class RuleGates:
    """Which rules of the strata can fire over what is in the store now."""

    def __init__(self, rules: Iterable[Rule], kb: Graph) -> None:
        """`kb`: the prepared knowledge base the store holds (patterns it matches are always there)."""
        rules = list(rules)
        produced = {key for rule in rules for key in rule.produces}
        # simple keys first in each alternative: a join key costs a few lookups, and is looked up
        # only for a rule no simple key has closed
        self._alternatives = {
            rule.name: [tuple(sorted((key for key in alt if not _in_graph(key, kb)), key=lambda k: (len(k), str(k))))
                        for alt in rule.alternatives]
            for rule in rules}
        wanted = {key for alts in self._alternatives.values() for alt in alts for key in alt}
        self._derived = {key for key in wanted if _derived_by_rules(key, produced)}
        # checked once, before the first stratum; join keys and derived keys as their readers come up
        self.keys: list[Key] = sorted(
            (key for key in wanted if len(key) == 2 and key not in self._derived), key=str)  # type: ignore[misc]

    @staticmethod
    def _present(keys: list[Key], store: Store) -> set[Key]:
        has_triple = getattr(store, "has_triple", None)
        if has_triple is not None:  # embedded Oxigraph: one index lookup a key, ~0.15 ms for 78 keys
            return {key for key in keys if has_triple(*key)}
        found: set[Key] = set()
        # Eight branches a query: Oxigraph plans a long UNION in more than linear time (78 branches
        # in one query took 7.3 ms, in chunks of eight 1.2 ms).
        for start in range(0, len(keys), PRESENCE_CHUNK):
            chunk = keys[start:start + PRESENCE_CHUNK]
            found |= {chunk[int(row["k"])] for row in store.select(presence_query(chunk))}  # type: ignore[arg-type]
        return found

    def absent(self, store: Store) -> dict[GateKey, bool]:
        """Presence of the patterns no rule derives (True: absent), for `closed` to read and extend."""
        present = self._present(self.keys, store)
        return {key: key not in present for key in self.keys}

    def closed(self, store: Store, rules: Iterable[Rule] | None = None,
               absent: dict[GateKey, bool] | None = None) -> set[str]:
        """Names of the rules (all, or those given: one stratum) that cannot fire over the store now.

        `absent` is what `absent(store)` returned; derived patterns found absent or present are
        added to it, so each is looked up once a run. A derived pattern is looked up only on a
        store with index lookups (elsewhere it counts as present), and only once the rules that
        derive it have run: pass a stratum's rules just before it runs."""
        absent = self.absent(store) if absent is None else absent
        has_triple = getattr(store, "has_triple", None)
        has_join = getattr(store, "has_join", None)
        names = self._alternatives if rules is None else [rule.name for rule in rules]
        lookups = has_triple is not None and has_join is not None
        derived = self._derived
        known = absent.get
        closed: set[str] = set()
        # Plain loops rather than all()/any() over generators: ~550 alternatives a call, and the
        # generator frames cost about as much as the lookups (session 30, with the store's cached
        # IRIs: the gates' share of a warm call 1.8 ms before, 1.3 ms after).
        for name in names:
            for alt in self._alternatives[name]:
                for key in alt:
                    gone = known(key)
                    if gone is None:
                        if not lookups or (rules is None and key in derived):
                            continue  # cannot be looked up here: counts as present
                        gone = absent[key] = not (has_join(*key) if len(key) == 3 else has_triple(*key))
                    if gone:
                        break  # this alternative cannot match
                else:
                    break  # every key of this alternative is there: the rule may fire
            else:
                closed.add(name)
        return closed
