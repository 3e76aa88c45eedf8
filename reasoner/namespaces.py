"""The project's namespaces, with the prefixes used in every Turtle file and query."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD


class _Namespace(Namespace):
    """An rdflib Namespace that builds each term once: rdflib validates the IRI on every
    `AX.name`, and the report reads a dozen terms per advice item (4 s of 41 s for a cohort of
    2,000 patients went to `Namespace.__getattr__`)."""

    def term(self, name: str) -> URIRef:
        terms = _TERMS.setdefault(str(self), {})
        found = terms.get(name)
        if found is None:
            found = terms[name] = super().term(name)
        return found


_TERMS: dict[str, dict[str, URIRef]] = {}

AX = _Namespace("https://w3id.org/axspa-kg/ontology#")
DRUG = _Namespace("https://w3id.org/axspa-kg/drug/")
REC = _Namespace("https://w3id.org/axspa-kg/rec/")
LBL = _Namespace("https://w3id.org/axspa-kg/label-fact/")
VANN = Namespace("http://purl.org/vocab/vann/")

PREFIXES: dict[str, Namespace] = {
    "ax": AX,
    "drug": DRUG,
    "rec": REC,
    "lbl": LBL,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "skos": SKOS,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "prov": PROV,
    "vann": VANN,
}

OWN_NAMESPACES: tuple[str, ...] = (str(AX), str(DRUG), str(REC), str(LBL))


def is_own(iri: object) -> bool:
    """True for IRIs minted by this project (as opposed to OWL, SKOS, external codes...)."""
    return isinstance(iri, str) and iri.startswith(OWN_NAMESPACES)


def bind_all(graph) -> None:  # type: ignore[no-untyped-def]
    """Bind the project prefixes on an rdflib graph so serialisations read well."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
