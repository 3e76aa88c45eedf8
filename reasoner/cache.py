"""An on-disk cache for what every start-up would otherwise recompute from unchanged sources.

Why: parsing the ontology's Turtle with rdflib costs ~1.1 s and preparing it for the rules (type
and fallsUnder closures, queries/kb/) another ~0.5 s, on every `axspa` run; reading the same
triples back as N-Triples through Oxigraph's parser takes a tenth of that. Entries are named by a
hash of the sources they came from (files and the code that derives them), so an edited ontology,
query or module is always recomputed; an unwritable or damaged cache only costs time.

The folder is $AXSPA_CACHE_DIR, or ~/.cache/axspa-kg.
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from .namespaces import bind_all
from .version import __version__


def cache_dir() -> Path:
    base = os.environ.get("AXSPA_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "axspa-kg")
    return Path(base)


def digest(paths: Iterable[Path], *extra: str) -> str:
    """A hash of the files' names and bytes plus any extra text (and the package version)."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for text in extra:
        h.update(text.encode())
    return h.hexdigest()[:24]


def read_graph(name: str) -> Graph | None:
    """The cached graph `name` (N-Triples), or None when absent or unreadable."""
    from .store import _from_ox  # the one place that turns Oxigraph terms into rdflib terms

    path = cache_dir() / f"{name}.nt"
    try:
        data = path.read_bytes()
        graph = Graph()
        bind_all(graph)
        graph.addN((_from_ox(t.subject), _from_ox(t.predicate), _from_ox(t.object), graph)  # type: ignore[misc]
                   for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        return graph
    except (OSError, SyntaxError, ValueError):
        return None


def write_graph(name: str, graph: Graph) -> None:
    _write_atomic(cache_dir() / f"{name}.nt", graph.serialize(format="nt", encoding="utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside, then rename: a concurrent reader (cohort workers start side by side) never
    sees half a file, and an unwritable cache only costs time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)
    except OSError:
        pass


def read_json(name: str) -> dict:
    """The cached JSON object `name`, or {} when absent or unreadable."""
    try:
        data = json.loads((cache_dir() / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(name: str, data: dict) -> None:
    _write_atomic(cache_dir() / f"{name}.json", json.dumps(data).encode("utf-8"))


# Which cache entry a knowledge-base graph was read from, so derived entries can be keyed by it.
_ORIGIN: weakref.WeakKeyDictionary[Graph, str] = weakref.WeakKeyDictionary()


def remember_origin(graph: Graph, key: str) -> None:
    _ORIGIN[graph] = key


def origin(graph: Graph) -> str | None:
    return _ORIGIN.get(graph)
