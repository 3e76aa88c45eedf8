"""Run a CONSTRUCT query file as the equivalent SPARQL 1.1 Update, so that a store can write
what a rule derives straight into a graph without sending the triples through Python.

`CONSTRUCT { T } WHERE { P }` and `INSERT { GRAPH <g> { T } } USING <a> USING <b> WHERE { P }`
derive the same triples from the same dataset (SPARQL 1.1 Update §3.1.3: template triples with an
unbound variable or an illegal term are skipped in both). The rule files stay as they are; this
module only moves the template. Remote stores run the rules this way, so the derived triples
never cross the network. (The embedded Oxigraph ran them so too until session 23, when a
CONSTRUCT whose triples are added straight back as quads measured faster with pyoxigraph 0.5.13:
see `OxigraphStore.construct_into`.)

Anything this module does not recognise (the short form `CONSTRUCT WHERE`, a `FROM` clause,
solution modifiers after the pattern, which Update does not allow) gives `None`, and the caller
runs the query as a CONSTRUCT instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

# Tokens that may hide a brace or the word CONSTRUCT: comments, IRIs and strings (long ones first).
_SKIP = re.compile(r'#[^\n]*|<[^<>"{}|^`\\\s]*>|"""(?:[^"\\]|\\.|"(?!""))*"""|'
                   r"'''(?:[^'\\]|\\.|'(?!''))*'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_TAIL_MODIFIERS = re.compile(r"\b(GROUP|ORDER|LIMIT|OFFSET|HAVING|VALUES)\b", re.IGNORECASE)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Spans of `text` outside comments, IRIs and strings."""
    spans, position = [], 0
    for match in _SKIP.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))
    return spans


def _template_bounds(text: str) -> tuple[int, int, int] | None:
    """(start of the CONSTRUCT keyword, its opening brace, its closing brace) or None."""
    keyword = opening = None
    depth = 0
    for start, end in _code_spans(text):
        segment = text[start:end]
        if keyword is None:
            for word in _WORD.finditer(segment):
                upper = word.group().upper()
                if upper == "CONSTRUCT":
                    keyword = start + word.start()
                    break
                if upper in ("SELECT", "ASK", "DESCRIBE", "INSERT", "DELETE"):
                    return None
            if keyword is None:
                continue
            segment_from = keyword - start + len("CONSTRUCT")
        else:
            segment_from = 0
        for offset in range(segment_from, len(segment)):
            char = segment[offset]
            if opening is None:
                if char == "{":
                    opening, depth = start + offset, 1
                elif not char.isspace():
                    return None
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return keyword, opening, start + offset  # type: ignore[return-value]
    return None


def _pattern_tail(text: str, after: int) -> str:
    """The code (no comments, IRIs or strings) after the template."""
    return " ".join(text[max(s, after):e] for s, e in _code_spans(text) if e > after)


@lru_cache(maxsize=4096)
def construct_as_insert(text: str, target: str, sources: Sequence[str]) -> str | None:
    """The Update that adds what CONSTRUCT query `text` derives over the merge of graphs
    `sources` to graph `target`, or None if the query is not in the plain form this handles."""
    bounds = _template_bounds(text)
    if bounds is None:
        return None
    keyword, opening, closing = bounds
    tail = _pattern_tail(text, closing + 1)
    head = tail.lstrip()
    if not head.upper().startswith("WHERE") and not head.startswith("{"):
        return None  # FROM / FROM NAMED, or the short form CONSTRUCT WHERE
    if "{" not in head:
        return None
    # After the pattern's closing brace nothing may follow (Update has no solution modifiers).
    last_brace = head.rfind("}")
    if last_brace < 0 or head[last_brace + 1:].strip() or _TAIL_MODIFIERS.search(_outer_level(head)):
        return None
    using = "".join(f" USING <{graph}>" for graph in sources)
    where = "" if head.upper().startswith("WHERE") else " WHERE"  # optional in a query, not in Update
    return (f"{text[:keyword]}INSERT {{ GRAPH <{target}> {text[opening:closing + 1]} }}{using}{where}\n"
            f"{text[closing + 1:]}")


def _outer_level(code: str) -> str:
    """The characters of `code` at brace depth 0 (modifiers of the whole query live there)."""
    depth, kept = 0, []
    for char in code:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            kept.append(char)
    return "".join(kept)
