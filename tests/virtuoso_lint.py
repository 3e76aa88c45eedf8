"""A static check for a Virtuoso 7.2 evaluation bug in the rules (found in session 39).

In one group: (1) a UNION (or a plain nested group holding one); (2) an OPTIONAL whose own basic
graph pattern joins two or more triple patterns on a variable not bound before it
(`OPTIONAL { ?p ax:has ?c . ?c a K }`), written after the UNION or before it (Virtuoso evaluates it
as if after); (3) a later BIND whose expression holds IF(...) or COALESCE(...) anywhere. Where rows
of the UNION branch Virtuoso runs first miss the OPTIONAL and rows of a later branch match it, the
first matching rows of the later branch come out with the joined variable unbound (as many as the
earlier rows that missed). The trigger BIND itself, FILTERs before it and `BIND (BOUND(?c) AS ?f)`
flags bound before it still see the value. A UNION only inside an earlier OPTIONAL, a MINUS or a
sub-SELECT, a one-pattern OPTIONAL, patterns hanging off outer variables only, and the absence of
an IF/COALESCE BIND after it do not trigger it.

A finding is a risk when a variable that may be lost can reach the output: it is in the CONSTRUCT
template (or a projection), read after the first trigger BIND, or joined on before it, unless a
FILTER of the group requires it unbound. Whether a loss happens depends on the data and on
Virtuoso's plan, which is why a parity test over fixtures cannot stand in for this check. Fixes
that passed on Virtuoso: one pattern plus VALUES instead of the UNION (ni-unknown-condition); a
BOUND flag right after the OPTIONAL (ni-response-type); a VALUES table of whole texts picked by a
FILTER on BOUND instead of the IF (EULAR22-R10-b, label-ongoing-biologic). Wrapping the UNION in a
sub-SELECT did not: EULAR22-R10-b then lost a whole branch in some runs.
"""

from __future__ import annotations

from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable


def variables(node):
    out = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Variable):
            out.add(n)
        elif isinstance(n, CompValue):
            stack.extend(n.values())
        elif isinstance(n, (list, tuple)):
            stack.extend(n)
        elif hasattr(n, "asList"):
            stack.extend(list(n))
    return out


def calls(node, names):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, CompValue):
            if n.name in names:
                return True
            if n.name == "SubSelect":
                continue
            stack.extend(n.values())
        elif isinstance(n, (list, tuple)) or hasattr(n, "asList"):
            stack.extend(list(n))
    return False


def unwrap(e):
    while isinstance(e, CompValue) and set(e.keys()) == {"expr"} and e.name not in ("UnaryNot", "Filter", "Bind"):
        e = e["expr"]
    return e


def required_unbound(filter_expr):
    """Variables v for which a top-level conjunct of the FILTER is !BOUND(?v)."""
    e = unwrap(filter_expr)
    conj = (
        [e["expr"]] + list(e.get("other") or [])
        if isinstance(e, CompValue) and e.name == "ConditionalAndExpression"
        else [e]
    )
    out = set()
    for c in conj:
        c = unwrap(c)
        if isinstance(c, CompValue) and c.name == "UnaryNot":
            b = unwrap(c["expr"])
            if isinstance(b, CompValue) and b.name == "Builtin_BOUND" and isinstance(b["arg"], Variable):
                out.add(b["arg"])
    return out


def triples_of(block):
    out = []
    for t in block["triples"]:
        t = list(t)
        out += [tuple(t[i : i + 3]) for i in range(0, len(t) - 2, 3)]
    return out


def is_union(p):
    return p.name == "GroupOrUnionGraphPattern" and len(p["graph"]) >= 2


def is_group(p):
    return p.name == "GroupOrUnionGraphPattern" and len(p["graph"]) == 1


def union_level(p):
    """A UNION, or a plain nested group holding one at its own level (Virtuoso flattens the group:
    `{ ?s a S . { A } UNION { B } }` then the OPTIONAL and IF outside it fails too)."""
    if is_union(p):
        return True
    if is_group(p) and p["graph"][0].name != "SubSelect":
        return any(union_level(q) for q in (p["graph"][0].get("part") or []))
    return False


def chained(opt_group, bound):
    """New variables joining two triple patterns of the OPTIONAL group's own basic graph pattern
    (a UNION or OPTIONAL nested in it does not count, nor stop it; an OPTIONAL that is
    a sub-SELECT counts by its WHERE)."""
    if opt_group.name == "SubSelect":
        opt_group = opt_group["where"]
    parts = opt_group.get("part") or []
    ts = [t for p in parts if p.name == "TriplesBlock" for t in triples_of(p)]
    if len(ts) < 2:
        return set()
    new = {v for t in ts for v in t if isinstance(v, Variable) and v not in bound}
    return {v for v in new if sum(v in t for t in ts) >= 2}


def part_vars(p):
    if p.name == "Bind":
        return variables(p["expr"]) | {p["var"]}
    return variables(p)


class Finding:
    def __init__(self, lost, trigger, risk, where):
        self.lost, self.trigger, self.risk, self.where = lost, trigger, risk, where


def group_parts(g):
    if isinstance(g, CompValue) and g.name == "SubSelect":
        return None
    return g.get("part") or []


def analyse(group, bound, out_vars, findings, where="top"):
    """Check one group. `bound`: variables bound before it; `out_vars`: the variables that leave
    it (template / projection), None for every variable. Returns pending (lost vars, index info)
    that found no trigger BIND inside, for the enclosing group to finish."""
    parts = group_parts(group)
    if parts is None:
        return []
    bound = set(bound)
    union_at = None
    cands = []  # (index, chained vars)
    opts = []  # every OPTIONAL with chained vars
    for i, p in enumerate(parts):
        # recurse into nested groups with their own scope
        if p.name == "GroupOrUnionGraphPattern":
            for k, g in enumerate(p["graph"]):
                if g.name == "SubSelect":
                    sub_sel(g, findings, f"{where}/union{i}.{k}")
                else:
                    pend = analyse(g, bound if len(p["graph"]) == 1 else set(), None, findings, f"{where}/group{i}.{k}")
                    if len(p["graph"]) == 1:
                        cands += [(i, c) for c in pend]
        elif p.name in ("OptionalGraphPattern", "MinusGraphPattern"):
            g = p["graph"]
            if g.name == "SubSelect":
                sub_sel(g, findings, f"{where}/{p.name}{i}")
            else:
                analyse(g, bound, None, findings, f"{where}/{p.name}{i}")
        elif p.name == "SubSelect":
            sub_sel(p, findings, f"{where}/subselect{i}")
        if union_level(p) and union_at is None:
            union_at = i
        if p.name == "OptionalGraphPattern":
            c = chained(p["graph"], bound)
            if c:
                opts.append((i, c))
        bound |= part_vars(p) if p.name != "MinusGraphPattern" else set()
    # an OPTIONAL after the UNION; or one written before it, which Virtuoso 7.2 evaluates as if after
    # it
    first_union = next((j for j, q in enumerate(parts) if union_level(q)), None)
    if first_union is not None:
        cands += opts
        early = [j for j in range(first_union) if parts[j].name == "OptionalGraphPattern"]
        union_vars = variables(parts[first_union])
        bound_before = set()
        for j in range(first_union):
            if parts[j].name not in ("OptionalGraphPattern", "MinusGraphPattern", "Filter"):
                bound_before |= part_vars(parts[j])
        for j in early:
            shared = (variables(parts[j]) & union_vars) - bound_before
            if shared:
                findings.append(
                    Finding(
                        [],
                        "",
                        [
                            f"OPTIONAL written before the UNION of its group shares {sorted(map(str, shared))} "
                            "with it: Virtuoso 7.2 evaluates it as if after the UNION"
                        ],
                        where + f" ORDER part {j}",
                    )
                )
    unbound_req = set()
    for p in parts:
        if p.name == "Filter":
            unbound_req |= required_unbound(p["expr"])
    pending = []
    for i, lost in cands:
        trig = next(
            (
                j
                for j in range(i + 1, len(parts))
                if parts[j].name == "Bind" and calls(parts[j]["expr"], {"Builtin_IF", "Builtin_COALESCE"})
            ),
            None,
        )
        if trig is None:
            pending.append(lost)
            continue
        risk = []
        for v in sorted(lost - unbound_req):
            why = []
            if out_vars is None or v in out_vars:
                why.append("output")
            later = [parts[j].name for j in range(trig + 1, len(parts)) if v in part_vars(parts[j])]
            if later:
                why.append("read after the trigger BIND (" + ", ".join(sorted(set(later))) + ")")
            joins = [
                parts[j].name
                for j in range(i + 1, trig)
                if parts[j].name not in ("Filter", "Bind") and v in part_vars(parts[j])
            ]
            if joins:
                why.append("joined before the trigger BIND (" + ", ".join(sorted(set(joins))) + ")")
            if why:
                risk.append(f"?{v}: " + "; ".join(why))
        findings.append(Finding(sorted(map(str, lost)), str(parts[trig]["var"]), risk, where))
    return pending


def sub_sel(sel, findings, where):
    proj = sel.get("projection", None)
    out = None if not proj else {p["var"] if "var" in p else p.get("evar") for p in proj}
    analyse(sel["where"], set(), out, findings, where)


def lint_text(text):
    q = parseQuery(text)[1]
    findings = []
    if "template" in q:
        out = variables(q["template"])
    elif "projection" in q:
        out = {p["var"] if "var" in p else p.get("evar") for p in q["projection"]}
    else:
        out = None
    analyse(q["where"], set(), out, findings)
    return findings
