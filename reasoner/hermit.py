"""HermiT through owlready2: the exact OWL 2 DL reasoner, for tests and `--exact`.

It costs about a second per call (a JVM starts), so it stays out of the per-patient path; the fast
path (reasoner.classify) must agree with it, which the tests check on every fixture.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef

from .errors import KnowledgeBaseError, RecordLoadError
from .kb import owl_ready_copy

log = logging.getLogger(__name__)


@dataclass
class HermitResult:
    """What HermiT concluded about an ontology (plus, optionally, patient individuals)."""

    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    # individual IRI -> every named class HermiT places it in (direct and inherited)
    types: dict[str, set[str]] = field(default_factory=dict)
    message: str = ""


# Characters XML 1.0 forbids (tab, newline and carriage return are allowed).
_XML_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def run_hermit(graph: Graph, individuals: list[URIRef] | None = None) -> HermitResult:
    """Classify `graph` with HermiT; return consistency, unsatisfiable classes and inferred types.

    `individuals` limits which individuals' types are read back (default: none).
    """
    try:
        import owlready2
    except ImportError as exc:  # a declared dependency; say so plainly if it is missing
        raise KnowledgeBaseError("owlready2 is required for exact (HermiT) reasoning") from exc

    data = io.BytesIO()
    owl_ready_copy(graph).serialize(data, format="xml")
    bad = _XML_FORBIDDEN.search(data.getvalue())
    if bad:  # owlready2 would fail in its parser thread and print a traceback of its own first
        raise RecordLoadError(f"--exact: the record holds text with the control character U+{bad.group()[0]:04X}, "
                              "which RDF/XML (what HermiT reads) cannot carry; remove it")
    world = owlready2.World()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "axspa-merged.owl"
        path.write_bytes(data.getvalue())
        try:
            onto = world.get_ontology(path.as_uri()).load()
        except owlready2.OwlReadyOntologyParsingError as exc:
            raise RecordLoadError("--exact: HermiT's loader could not read the record as RDF/XML (text holding a "
                                  "control character such as U+0000, which XML cannot carry?): "
                                  f"{' '.join(map(str, exc.args))[:200]}") from exc
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return HermitResult(consistent=False, message=str(exc))
        except FileNotFoundError as exc:  # owlready2 starts `java`: none on the PATH
            raise KnowledgeBaseError(f"exact (HermiT) reasoning needs Java 17 or newer on the PATH ({exc})") from exc
        except owlready2.OwlReadyJavaError as exc:
            # a `java` that starts and fails (too old, or no room for the heap owlready2 asks for)
            # gave a traceback and exit code 1, which says "record invalid" (session-35 failure probe F8)
            raise KnowledgeBaseError(_java_failure(str(exc))) from exc
        unsat = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        types: dict[str, set[str]] = {}
        for iri in individuals or []:
            ind = world[str(iri)]
            if ind is None:
                continue
            named: set[str] = set()
            for cls in ind.is_a:
                if isinstance(cls, owlready2.ThingClass):
                    named.update(a.iri for a in cls.ancestors() if a is not owlready2.Thing)
            types[str(iri)] = named
        world.close()
    return HermitResult(consistent=True, unsatisfiable=unsat, types=types)


# What the Java process said, and what it points to: the cause named only when the output shows it
# (session-35 review L9: every failure was blamed on the Java version or memory, even one HermiT
# met in the ontology or record).
_JAVA_CAUSES = (
    (("UnsupportedClassVersionError", "has been compiled by a more recent version"), "the Java found is too old; "
     "HermiT needs Java 17 or newer on the PATH"),
    # ("Could not create the Java Virtual Machine" is no sign: any bad option, one from
    # JAVA_TOOL_OPTIONS say, ends the same way; session-36 review F11)
    (("OutOfMemoryError", "Could not reserve enough space", "Cannot allocate memory"),
     "Java had too little memory; HermiT needs about 2 GB"),
)


def _java_failure(output: str) -> str:
    said = " ".join(output.split())
    for signs, cause in _JAVA_CAUSES:
        if any(sign in said for sign in signs):
            return f"exact (HermiT) reasoning failed: {cause} (Java said: {said[:300]})"
    return (f"exact (HermiT) reasoning failed in Java: {said[:300]} (if this is not about the input, check that "
            "Java is 17 or newer and has about 2 GB of memory)")
