"""Load the knowledge base: the root ontology and every module it imports, resolved offline.

Run `python -m reasoner.kb` to load it and print what it holds. Imports are resolved through
ontology/catalog-v001.xml exactly as Protégé does, so a broken catalog fails here first.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from . import cache
from .errors import KnowledgeBaseError
from .namespaces import AX, bind_all, is_own
from .paths import ontology_root

CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"


def read_catalog(catalog: Path) -> dict[str, Path]:
    """Map each IRI named in a Protégé/OASIS catalog to the file it points at."""
    try:
        tree = ET.parse(catalog)
    except (OSError, ET.ParseError) as exc:
        raise KnowledgeBaseError(f"cannot read catalog {catalog}: {exc}") from exc
    mapping: dict[str, Path] = {}
    for uri in tree.iter(f"{CATALOG_NS}uri"):
        name, target = uri.get("name"), uri.get("uri")
        if name and target:
            mapping[name] = (catalog.parent / target).resolve()
    return mapping


@dataclass
class LoadedOntology:
    """The merged graph plus where each module came from."""

    graph: Graph
    modules: dict[str, Path] = field(default_factory=dict)


def load_ontology(root: Path | None = None) -> LoadedOntology:
    """Parse the root ontology and, transitively, every owl:imports through the catalog."""
    root = (root or ontology_root()).resolve()
    catalog = read_catalog(root.parent / "catalog-v001.xml")
    merged = Graph()
    bind_all(merged)
    modules: dict[str, Path] = {}
    pending: list[Path] = [root]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        part = Graph()
        try:
            part.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many parser exception types
            raise KnowledgeBaseError(f"{path.name}: not valid Turtle: {exc}") from exc
        headers = list(part.subjects(RDF.type, OWL.Ontology))
        if len(headers) != 1:
            raise KnowledgeBaseError(f"{path.name}: expected one owl:Ontology header, found {len(headers)}")
        modules[str(headers[0])] = path
        for imported in part.objects(headers[0], OWL.imports):
            target = catalog.get(str(imported))
            if target is None or not target.is_file():
                raise KnowledgeBaseError(
                    f"{path.name} imports {imported}, which catalog-v001.xml does not map to a file"
                )
            pending.append(target)
        merged += part
    return LoadedOntology(merged, modules)


@lru_cache(maxsize=1)
def knowledge_base() -> Graph:
    """The merged knowledge base, parsed once per process (read-only by convention).

    Read from the on-disk cache when the ontology files are unchanged (see reasoner/cache.py)."""
    root = ontology_root().resolve()
    sources = [*root.parent.glob("*.ttl"), root.parent / "catalog-v001.xml", Path(__file__)]
    key = "kb-" + cache.digest(sources)
    graph = cache.read_graph(key)
    if graph is None:
        graph = load_ontology(root).graph
        cache.write_graph(key, graph)
    cache.remember_origin(graph, key)
    return graph


def owl_ready_copy(graph: Graph) -> Graph:
    """A copy fit for owlready2/HermiT: imports removed (already merged), xsd:date literals dropped.

    HermiT rejects datatypes outside the OWL 2 datatype map (xsd:date among them), and owlready2
    would try to fetch owl:imports from the web.
    """
    out = Graph()
    for s, p, o in graph:
        if p == OWL.imports:
            continue
        if isinstance(o, Literal) and o.datatype in (XSD.date, XSD.gYear):
            continue
        out.add((s, p, o))
    return out


def summary(graph: Graph) -> dict[str, object]:
    """Counts a new user (and a test) can read: entities, recommendations by guideline and strength."""
    own = lambda nodes: {n for n in nodes if is_own(str(n))}  # noqa: E731
    recs_by_guideline: Counter[str] = Counter()
    recs_by_strength: Counter[str] = Counter()
    for rec in graph.subjects(RDF.type, AX.Recommendation):
        guideline = graph.value(rec, AX.fromGuideline)
        strength = graph.value(rec, AX.hasStrength)
        g_label = str(graph.value(guideline, RDFS.label) or guideline) if guideline else "?"
        recs_by_guideline[g_label] += 1
        s_label = graph.value(strength, SKOS.prefLabel) or graph.value(strength, RDFS.label)
        recs_by_strength[f"{g_label} / {s_label or strength}"] += 1
    return {
        "triples": len(graph),
        "classes": len(own(graph.subjects(RDF.type, OWL.Class))),
        "object properties": len(own(graph.subjects(RDF.type, OWL.ObjectProperty))),
        "data properties": len(own(graph.subjects(RDF.type, OWL.DatatypeProperty))),
        "annotation properties": len(own(graph.subjects(RDF.type, OWL.AnnotationProperty))),
        "individuals": len(own(graph.subjects(RDF.type, OWL.NamedIndividual))),
        "drugs (incl. biosimilars)": len(_instances_of(graph, AX.Drug)),
        "biosimilars": len(set(graph.subjects(RDF.type, AX.Biosimilar))),
        "population classes": len(set(graph.subjects(AX.isPopulationClass, Literal(True)))),
        "label safety facts": len(set(graph.subjects(RDF.type, AX.LabelSafetyFact))),
        "recommendations by guideline": dict(sorted(recs_by_guideline.items())),
        "recommendations by guideline and strength": dict(sorted(recs_by_strength.items())),
    }


def _instances_of(graph: Graph, cls: URIRef) -> set[URIRef]:
    classes = set(graph.transitive_subjects(RDFS.subClassOf, cls))
    return {s for c in classes for s in graph.subjects(RDF.type, c) if isinstance(s, URIRef)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reasoner.kb", description=__doc__)
    parser.add_argument("--root", type=Path, help="root ontology file (default: the bundled axspa.ttl)")
    parser.add_argument("--rdfxml", type=Path, help="also write the merged ontology as RDF/XML here")
    args = parser.parse_args(argv)
    try:
        loaded = load_ontology(args.root)
    except KnowledgeBaseError as exc:
        print(f"axspa-kg: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"axspa-kg knowledge base: {len(loaded.modules)} modules")
    for iri, path in sorted(loaded.modules.items()):
        print(f"  {iri}  <- {path.name}")
    for key, value in summary(loaded.graph).items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")
    if args.rdfxml:
        owl_ready_copy(loaded.graph).serialize(args.rdfxml, format="xml")
        print(f"wrote {args.rdfxml}")
    return 0


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()  # a reader that went away (`| head`) is found here, not at exit
    except BrokenPipeError:
        from .cli import closed_pipe

        code = closed_pipe()
    sys.exit(code)
