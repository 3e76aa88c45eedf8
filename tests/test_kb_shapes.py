"""The knowledge base passes its own QC shapes (shapes/kb/), and the shapes can fail."""

from __future__ import annotations

from pathlib import Path

from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import RDF

from reasoner.namespaces import AX, REC
from reasoner.paths import data_dir


def _shapes() -> Graph:
    g = Graph()
    for path in sorted(Path(data_dir("shapes"), "kb").glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def test_kb_conforms_to_its_qc_shapes(kb: Graph) -> None:
    conforms, _, text = validate(kb, shacl_graph=_shapes(), advanced=False, inference="none")
    assert conforms, text


def test_qc_shapes_catch_a_recommendation_without_strength(kb: Graph) -> None:
    broken = Graph()
    broken += kb
    broken.remove((REC["AS-12"], AX.hasStrength, None))
    conforms, _, text = validate(broken, shacl_graph=_shapes(), inference="none")
    assert not conforms
    assert "exactly one strength" in text


def test_qc_shapes_catch_a_biosimilar_without_reference(kb: Graph) -> None:
    broken = Graph()
    broken += kb
    some = next(broken.subjects(RDF.type, AX.Biosimilar))
    broken.remove((some, AX.biosimilarOf, None))
    conforms, _, text = validate(broken, shacl_graph=_shapes(), inference="none")
    assert not conforms and "reference product" in text
