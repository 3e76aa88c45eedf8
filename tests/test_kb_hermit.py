"""HermiT (the reasoner Protégé users run) on the merged knowledge base."""

from __future__ import annotations

import pytest
from rdflib import Graph

from reasoner.hermit import run_hermit
from reasoner.namespaces import AX, DRUG


@pytest.fixture(scope="module")
def hermit(kb: Graph):
    return run_hermit(kb, individuals=[DRUG.certolizumab_pegol, DRUG.etanercept, DRUG.adalimumab_atto,
                                       DRUG.apremilast])


def test_consistent(hermit) -> None:
    assert hermit.consistent, hermit.message


def test_no_unsatisfiable_class(hermit) -> None:
    assert hermit.unsatisfiable == []


def test_certolizumab_is_a_tnf_monoclonal_antibody_in_the_guideline_sense(hermit) -> None:
    types = hermit.types[str(DRUG.certolizumab_pegol)]
    assert str(AX.TNFMonoclonalAntibody) in types
    assert str(AX.TNFInhibitor) in types and str(AX.Biologic) in types


def test_etanercept_is_a_tnfi_but_not_a_monoclonal_antibody(hermit) -> None:
    types = hermit.types[str(DRUG.etanercept)]
    assert str(AX.TNFInhibitor) in types
    assert str(AX.TNFMonoclonalAntibody) not in types


def test_biosimilar_inherits_its_class(hermit) -> None:
    assert str(AX.TNFMonoclonalAntibody) in hermit.types[str(DRUG.adalimumab_atto)]


def test_apremilast_counts_as_csdmard(hermit) -> None:
    assert str(AX.CsDMARD) in hermit.types[str(DRUG.apremilast)]
