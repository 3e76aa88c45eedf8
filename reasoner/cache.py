"""An on-disk cache for what every start-up would otherwise recompute from unchanged sources.

Why: parsing the ontology's Turtle with rdflib costs ~1.1 s and preparing it for the rules (type
and fallsUnder closures, queries/kb/) another ~0.5 s, on every `axspa` run; reading the same
triples back as N-Triples through Oxigraph's parser takes a tenth of that. Entries are named by a
hash of the sources they came from (files and the code that derives them), so an edited ontology,
query or module is always recomputed; an unwritable or damaged cache only costs time. Each entry
ends with a line holding the SHA-256 of what comes before it, checked on reading: an empty or cut
entry (a crash between writing and the disk holding it) parsed as a smaller, valid graph, and a
call then gave 1 advice item instead of 91, or recommended drugs the record contraindicates
(session-35 failure probe F6).

The folder is $AXSPA_CACHE_DIR, or ~/.cache/axspa-kg.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
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

    data = _read_sealed(cache_dir() / f"{name}.nt")
    if data is None:
        return None
    try:
        graph = Graph()
        bind_all(graph)
        graph.addN((_from_ox(t.subject), _from_ox(t.predicate), _from_ox(t.object), graph)  # type: ignore[misc]
                   for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        return graph
    except (SyntaxError, ValueError):
        return None


def write_graph(name: str, graph: Graph) -> None:
    _write_atomic(cache_dir() / f"{name}.nt", graph.serialize(format="nt", encoding="utf-8"))


_SEAL = b"# axspa-kg cache entry, sha256 of the lines above: "


def _read_sealed(path: Path) -> bytes | None:
    """An entry's bytes without its last line, if that line holds their hash; else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    body, seal, tail = data.rpartition(_SEAL)
    if not seal or tail.strip() != hashlib.sha256(body).hexdigest().encode():
        return None
    return body


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside, on the disk (fsync), then rename: a concurrent reader (cohort workers start
    side by side) never sees half a file, and an unwritable cache only costs time."""
    if data and not data.endswith(b"\n"):
        data += b"\n"
    data += _SEAL + hashlib.sha256(data).hexdigest().encode() + b"\n"
    partial = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def read_json(name: str) -> dict:
    """The cached JSON object `name`, or {} when absent or unreadable."""
    body = _read_sealed(cache_dir() / f"{name}.json")
    if body is None:
        return {}
    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
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
