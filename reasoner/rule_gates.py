"""Skip rules that cannot fire, decided by one query before the strata run.

Every rule pays Oxigraph's parse-and-plan cost (~0.1 ms) even when it derives nothing, and a
single patient sits in few of the guideline's populations: of ~120 rules most are silent for
any one record. `Rule.requires` lists triple patterns every solution of a rule must match (its
population class, a course outcome…). Patterns no rule derives are fixed once the patient is
classified, so one query can tell which are absent, and a rule requiring an absent one is
skipped. Patterns that some rule derives, or that the knowledge base always holds, are never
asked about. A batch of many patients holds nearly every pattern, so cohorts skip little and pay
one query per batch.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, URIRef

from .rules import Key, Rule
from .store import Store


def _derived_by_rules(key: Key, produced: set[Key]) -> bool:
    return any(key[0] == p and (o is None or o == key[1]) for p, o in produced)


def _in_graph(key: Key, graph: Graph) -> bool:
    obj = URIRef(key[1]) if key[1] is not None else None
    return next(iter(graph.triples((None, URIRef(key[0]), obj))), None) is not None


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
        candidates = {key for rule in rules for key in rule.requires if not _derived_by_rules(key, produced)}
        self.keys = sorted((key for key in candidates if not _in_graph(key, kb)), key=str)
        self._gates = {rule.name: frozenset(rule.requires) & frozenset(self.keys) for rule in rules}

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

    def closed(self, store: Store) -> set[str]:
        """Names of the rules that cannot fire: a pattern they require has no triple in the store."""
        absent = set(self.keys) - self._present(self.keys, store)
        return {name for name, gate in self._gates.items() if gate & absent}
