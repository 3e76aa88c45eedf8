"""The lupus-like-syndrome caution (lbl:tnfi_lupus_like: stop the TNF inhibitor) marks the TNF
inhibitor being taken as one to come off (ax:contraindicatedMolecule), and no other. It marked all
five, and the rules that leave their caution off a drug held back then dropped the pregnancy,
breastfeeding and combination cautions from TNF inhibitors the rows still recommend; and the
adalimumab being taken, which the caution says to stop, was preferred for IBD beside that caution
(session-35 metamorphic probe F1, F2). Records: tests/data/valid/as-lupus-like-*.json and
as-stable-adalimumab-lupus-like-ibd.json."""

from __future__ import annotations

from pathlib import Path

import pytest

VALID = Path(__file__).parent / "data" / "valid"
RECOMMENDING = ("recommended", "preferred-over", "no-preference")


def items(result, rule: str) -> set[str]:
    """The drugs (local names) of the items of one rule or label fact."""
    return {a.therapy.iri.rsplit("/", 1)[-1] for a in result.advice if a.recommendation.id == rule}


def recommended(result) -> set[str]:
    return {a.therapy.iri.rsplit("/", 1)[-1] for a in result.advice if a.kind in RECOMMENDING}


@pytest.mark.parametrize(("record", "caution"), [
    ("as-lupus-like-pregnant-nsaids-failed.json", "no-pregnancy-fact"),
    ("as-lupus-like-breastfeeding-nsaids-failed.json", "no-breastfeeding-fact")])
def test_a_tnf_inhibitor_still_offered_keeps_its_pregnancy_or_breastfeeding_caution(reasoner, record, caution) -> None:
    result = reasoner.recommend(VALID / record)
    assert result.conforms
    # the rows still offer etanercept and golimumab, with the lupus-like caution, which holds
    # nothing back; the tables hold no pregnancy or breastfeeding fact for either
    assert {"etanercept", "golimumab"} <= recommended(result)
    assert {"etanercept", "golimumab"} <= items(result, "tnfi_lupus_like")
    assert {"etanercept", "golimumab"} <= items(result, caution)


def test_a_tnf_inhibitor_that_would_join_the_biologic_taken_keeps_the_combination_caution(reasoner) -> None:
    result = reasoner.recommend(VALID / "as-lupus-like-on-secukinumab.json")
    assert result.conforms
    tnfi = {"adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab"}
    assert tnfi <= recommended(result)
    assert items(result, "tnfi_biologic_combination") == tnfi


def test_the_tnf_inhibitor_to_stop_is_not_preferred_beside_the_caution_to_stop_it(reasoner) -> None:
    result = reasoner.recommend(VALID / "as-stable-adalimumab-lupus-like-ibd.json")
    assert result.conforms
    assert "adalimumab" in items(result, "tnfi_lupus_like")
    # the other TNF monoclonal antibodies are still preferred with IBD, the one taken is not
    assert items(result, "tnfi_mab_ibd_preferred") == {"certolizumab_pegol", "golimumab", "infliximab"}
    # going on with it is still overridden by the caution, as before
    overridden = {c.advice.recommendation.id for c in result.conflicts
                  if c.overridden_by.recommendation.id == "tnfi_lupus_like"}
    assert "AS-28" in overridden
