"""Builders for realistic patient records in the plain JSON format (see README), for tests."""

from __future__ import annotations

import re
from typing import Any

# Biosimilars of the two originators the tests fail most often (../shared/reference/biosimilars.tsv).
INFLIXIMAB_BIOSIMILARS = {"infliximab_dyyb", "infliximab_abda", "infliximab_qbtx", "infliximab_axxq"}
ADALIMUMAB_BIOSIMILARS = {"adalimumab_atto", "adalimumab_adbm", "adalimumab_adaz", "adalimumab_bwwd",
                          "adalimumab_afzb", "adalimumab_fkjp", "adalimumab_aqvh", "adalimumab_aacf",
                          "adalimumab_aaty", "adalimumab_ryvk"}


def local(iri: str) -> str:
    """The last segment of an IRI (drug:etanercept -> "etanercept"), for readable assertions."""
    return re.split(r"[#/]", iri)[-1]


def listed(result, row: str) -> set[str]:
    """The therapies (last IRI segment) a recommendation row gives as advice, questions left out."""
    return {local(a.therapy.iri) for a in result.advice
            if a.recommendation.id == row and a.kind != "needs-information"}


def facts(result) -> set[str]:
    """The facts the result asks for (needs-information items)."""
    return {n.fact for n in result.needs_information}


def course(drug: str, status: str = "stopped", outcome: str | list[str] | None = None,
           start: str | None = "2022-01-10", end: str | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"drug": drug, "status": status}
    if outcome is not None:
        item["outcome"] = outcome
    if start:
        item["start"] = start
    if end:
        item["end"] = end
    item.update(extra)
    return item


def condition(name: str, status: str = "present") -> dict[str, Any]:
    return {"condition": name, "status": status}


def measurement(measure: str, value: float, date: str = "2026-10-01") -> dict[str, Any]:
    return {"measure": measure, "value": value, "date": date}


def patient(pid: str = "test-patient", diagnosis: str = "AS", state: str = "active", age: int = 45,
            sex: str = "female", conditions: list[dict] | None = None, treatments: list[dict] | None = None,
            measurements: list[dict] | None = None) -> dict[str, Any]:
    """A valid adult record; pass lists to add conditions, treatment courses and measurements.

    The default measurements are a BASDAI of 6.0 and a CRP of 12 mg/L, and in active disease an
    ASDAS-CRP of 3.6 as well (what those values give with the other ASDAS items near 6): a record of
    active disease that a clinic scores, so that ASAS-EULAR R9 can be read without asking for it."""
    default = [measurement("basdai", 6.0), measurement("crp", 12.0)]
    if state == "active":
        default.append(measurement("asdas_crp", 3.6))
    return {
        "id": pid,
        "age": age,
        "sex": sex,
        "diagnosis": diagnosis,
        "diseaseState": state,
        "conditions": conditions or [],
        "treatments": treatments or [],
        "measurements": measurements if measurements is not None else default,
    }


def stated_absent() -> list[dict[str, Any]]:
    """IBD, recurrent uveitis and peripheral arthritis stated absent: the facts the switching and
    first-biologic rows ask about, so that a test sees the rows fire rather than the questions; and
    the checks the labels ask for before a biologic or JAK inhibitor (ni-pretreatment-checks)."""
    return [condition("ibd", "absent"), condition("recurrent_anterior_uveitis", "absent"),
            condition("peripheral_arthritis", "absent"), *pretreatment_checks_done()]


def pretreatment_checks_done() -> list[dict[str, Any]]:
    """Latent tuberculosis, hepatitis B carriage and thrombosis risk stated absent: what a record
    says once the checks before a TNF, IL-17 or JAK inhibitor were made."""
    return [condition("latent_tuberculosis", "absent"), condition("hbv_carrier", "absent"),
            condition("thrombosis_risk", "absent")]


def nsaid_failure(first: str = "naproxen", second: str = "celecoxib") -> list[dict[str, Any]]:
    """Two NSAIDs at maximal dose without response: ACR 2019's definition of NSAID failure."""
    return [
        course(first, outcome="primary_nonresponse", start="2021-01-05", end="2021-02-20", maximalDose=True),
        course(second, outcome="primary_nonresponse", start="2021-03-01", end="2021-04-15", maximalDose=True),
    ]


def advice_from(result, guideline: str, rid: str) -> list:
    """Advice items (not needs-information) resting on recommendation `rid` of `guideline`."""
    return [a for a in result.advice
            if a.recommendation.guideline == guideline and a.recommendation.id == rid
            and a.kind != "needs-information"]


def principle_items(result, principle: str, key: str = "label") -> dict[str, list]:
    """Items of an axspa-kg principle (`same-class-failure` …) by therapy label (or "iri")."""
    items: dict[str, list] = {}
    for a in result.advice:
        if a.recommendation.guideline == "axspa-kg" and a.recommendation.id == principle:
            items.setdefault(getattr(a.therapy, key), []).append(a)
    return items


def us_held_back_items(result, rid: str) -> list:
    """Items of rule `rid` (JAK inhibitors) that the US indication restriction overrode
    (lbl:jaki_us_tnf_ir: only after a TNF inhibitor failed; absolute in shared/reference/safety.tsv),
    so they are shown as conflicts instead of advice."""
    return [c.advice for c in result.conflicts
            if c.advice.recommendation.id == rid and c.overridden_by.recommendation.id == "jaki_us_tnf_ir"]


def us_held_back(result, rid: str) -> set[str]:
    """The therapies of us_held_back_items."""
    return {a.therapy.iri for a in us_held_back_items(result, rid)}


def check_fires_and_near_miss(run, guideline: str, rid: str, kind: str, expected: set[str],
                              fires: dict[str, Any], near_miss: dict[str, Any] | None) -> None:
    """The rule for `rid` fires for `fires` with exactly `expected` therapies of `kind` (less what the
    record itself blocks, a failed drug), cites facts, and stays silent for `near_miss`."""
    result = run(fires)
    visible = advice_from(result, guideline, rid)
    held = us_held_back(result, rid)
    fired = visible + us_held_back_items(result, rid)
    assert fired, f"{rid} did not fire for {fires['id']}"
    assert {a.kind for a in fired} == {kind}
    got = {a.therapy.iri for a in visible}
    repeat = result.therapies("do-not-repeat")
    assert (got | held) - repeat == expected - repeat, f"{rid}: {sorted(got)} + held {sorted(held)}"
    for item in fired:
        assert item.because, f"{rid} gives no facts"
    if near_miss is not None:
        assert not advice_from(run(near_miss), guideline, rid), f"{rid} fired for the near miss {near_miss['id']}"
