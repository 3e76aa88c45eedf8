"""ACR 2019 rows stand only for the drugs ACR 2019 graded, and their notes come from their own rows.

The guideline tables' README (section 4.11) lists drugs the 2019 ACR guideline does not cover:
bimekizumab is absent, and tofacitinib was the only JAK inhibitor graded. A row coded with a drug
class (the IL-17 inhibitors) would stand for bimekizumab as well, so that "a TNF monoclonal
antibody is preferred over bimekizumab" came out under ACR's grade (session-27 audit, finding 1
and 2). ASAS-EULAR 2022's "IL-17i" class is read as including bimekizumab, documented in its
notes; these tests hold the ACR rows only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import URIRef

from reasoner.kb import knowledge_base
from reasoner.namespaces import AX, DRUG
from reasoner.pipeline import prepared_kb

from .patients import course, local, patient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# shared/guideline/README.md, section 4.11: not graded by ACR 2019
NOT_IN_ACR_2019 = {DRUG.bimekizumab, DRUG.upadacitinib, DRUG.filgotinib}


@pytest.fixture(scope="module")
def members() -> dict[str, set[URIRef]]:
    """Every ACR 2019 row's action and comparator members, by row id."""
    graph = prepared_kb(knowledge_base())
    found: dict[str, set[URIRef]] = {}
    for rec in graph.subjects(AX.fromGuideline, AX.acr_2019):
        row = str(rec).rsplit("/", 1)[-1]
        found[row] = set(graph.objects(rec, AX.actionMember)) | set(graph.objects(rec, AX.comparatorMember))
    return found


def test_no_acr_row_stands_for_a_drug_acr_2019_does_not_cover(members) -> None:
    assert len(members) == 86
    assert {row: sorted(local(d) for d in drugs & NOT_IN_ACR_2019)
            for row, drugs in members.items() if drugs & NOT_IN_ACR_2019} == {}


@pytest.mark.parametrize(("row", "named"), [
    # the rows name etanercept, secukinumab and ixekizumab, then "others"
    ("AS-39", {"etanercept", "secukinumab", "ixekizumab"}),
    ("AS-41", {"etanercept", "secukinumab", "ixekizumab"}),
])
def test_tnf_antibody_rows_are_preferred_over_the_biologics_they_name(reasoner, row: str, named: set[str]) -> None:
    example = {"AS-39": "recurrent-uveitis.json", "AS-41": "ibd-crohns.json"}[row]
    result = reasoner.recommend(EXAMPLES / example)
    over = {local(o.iri) for a in result.advice if a.recommendation.id == row for o in a.over}
    assert over == named


def test_switch_comparators_name_secukinumab_and_ixekizumab_only(reasoner) -> None:
    """AS-13 (another TNF inhibitor over a non-TNF biologic) and AS-15 (against adding a csDMARD
    rather than a new biologic) after infliximab lost its effect."""
    result = reasoner.recommend(EXAMPLES / "secondary-tnfi-failure.json")
    over = {row: {local(o.iri) for a in result.advice if a.recommendation.id == row for o in a.over}
            for row in ("AS-13", "AS-15")}
    assert over["AS-13"] == {"secukinumab", "ixekizumab"}
    assert {"secukinumab", "ixekizumab", "adalimumab"} <= over["AS-15"]
    assert "bimekizumab" not in over["AS-15"]


def test_eular_rows_still_read_il17i_as_the_class(reasoner) -> None:
    """R9 (the first b/tsDMARD) names the class; bimekizumab stays among its options."""
    record = json.loads((EXAMPLES / "nsaid-failure-biologic-naive.json").read_text(encoding="utf-8"))
    result = reasoner.recommend(record)
    assert str(DRUG.bimekizumab) in {a.therapy.iri for a in result.advice if a.recommendation.id == "R9"}


@pytest.mark.parametrize("diagnosis", ["AS", "nr-axSpA"])
def test_nsaid_withdrawal_note_comes_from_as_24(reasoner, diagnosis: str) -> None:
    """AS-24's notes: the NSAID is withdrawn because its toxicity adds up; on-demand use stays open
    to a patient who responded to NSAIDs. NRAXSPA-24's row has no notes, so it names AS-24's."""
    record = patient(f"nsaid-withdrawal-{diagnosis}", diagnosis=diagnosis, state="stable", treatments=[
        course("adalimumab", status="ongoing", outcome="ongoing_response", start="2021-03-01"),
        course("naproxen", status="ongoing", start="2020-06-01")])
    result = reasoner.recommend(record)
    assert result.conforms, result.validation
    row = "AS-24" if diagnosis == "AS" else "NRAXSPA-24"
    (note,) = {a.note for a in result.advice if a.recommendation.id == row}
    assert "on demand" in note and "responded to NSAIDs" in note
    assert note.startswith("From the notes of the AS row (AS-24") == (diagnosis != "AS")
