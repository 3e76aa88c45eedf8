"""The ontology modules, catalog and headers: what Protégé needs to open the root file offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from reasoner.errors import KnowledgeBaseError
from reasoner.kb import load_ontology, read_catalog
from reasoner.paths import data_dir
from reasoner.version import __version__

ONTOLOGY = data_dir("ontology")
MODULES = sorted(ONTOLOGY.glob("*.ttl"))


def test_every_module_is_imported_from_the_root() -> None:
    loaded = load_ontology()
    assert {p.name for p in loaded.modules.values()} == {p.name for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_header_and_version(path: Path) -> None:
    g = Graph().parse(path, format="turtle")
    (onto,) = list(g.subjects(RDF.type, OWL.Ontology))
    assert str(onto).startswith("https://w3id.org/axspa-kg/ontology")
    version_iri = g.value(onto, OWL.versionIRI)
    assert version_iri is not None
    assert f"/{__version__}" in str(version_iri), f"{path.name}: versionIRI {version_iri} != {__version__}"
    assert str(g.value(onto, OWL.versionInfo)) == __version__


def test_catalog_maps_every_import_and_version_iri() -> None:
    catalog = read_catalog(ONTOLOGY / "catalog-v001.xml")
    for path in MODULES:
        g = Graph().parse(path, format="turtle")
        (onto,) = list(g.subjects(RDF.type, OWL.Ontology))
        for iri in (onto, g.value(onto, OWL.versionIRI)):
            assert str(iri) in catalog, f"{iri} missing from catalog"
            assert catalog[str(iri)].name == path.name
        for imported in g.objects(onto, OWL.imports):
            assert catalog[str(imported)].is_file()
    assert all(target.is_file() for target in catalog.values())


def test_catalog_paths_are_relative() -> None:
    text = (ONTOLOGY / "catalog-v001.xml").read_text()
    assert "/work/" not in text and "file:" not in text


def test_unresolvable_import_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "catalog-v001.xml").write_text(
        '<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog"/>'
    )
    (tmp_path / "root.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<https://example.org/x> a owl:Ontology ; owl:imports <https://example.org/missing> .\n"
    )
    with pytest.raises(KnowledgeBaseError, match="https://example.org/missing"):
        load_ontology(tmp_path / "root.ttl")


def test_no_axspa_iri_is_typed_twice(kb: Graph) -> None:
    kinds = [OWL.Class, OWL.NamedIndividual, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty]
    typed: dict[URIRef, set] = {}
    for kind in kinds:
        for s in kb.subjects(RDF.type, kind):
            typed.setdefault(s, set()).add(kind)
    assert not {s: k for s, k in typed.items() if len(k) > 1}
