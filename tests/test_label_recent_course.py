"""A drug stopped lately whose label asks for something after the last dose (label-recent-course.rq).

Methotrexate asks for contraception for 6 months after the last dose in women and 3 in men, and
upadacitinib and tofacitinib for 4 weeks (shared/reference/safety.tsv). A woman planning a pregnancy
three weeks after stopping methotrexate, and one found pregnant a week after stopping upadacitinib,
got those drugs' label items with the stopped courses named nowhere (session-39 time probe T10).
The rule reads today (NOW(), pinned by the pipeline), so the records here are dated from the day
the tests' Reasoner takes as today (conftest.AS_OF).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from reasoner.report import AdviceItem, Result

from .conftest import AS_OF
from .patients import condition, course, local, patient

TODAY = AS_OF


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def label_item(result: Result, drug: str, fact: str) -> AdviceItem:
    assert result.conforms, result.validation
    [item] = [a for a in result.advice if local(a.therapy.iri) == drug and a.recommendation.id == fact
              and a.kind in ("contraindicated", "caution")]
    return item


def named(item: AdviceItem, drug: str) -> list[str]:
    return [b.text for b in item.because if b.text.startswith(f"{drug} course")]


@pytest.mark.parametrize(("sex", "conditions", "drug", "fact", "days", "period"), [
    # a woman planning a pregnancy: methotrexate's 6 months
    ("female", ["planning_pregnancy"], "methotrexate", "mtx_pregnancy", 21, "6 months"),
    ("female", ["planning_pregnancy"], "methotrexate", "mtx_pregnancy", 170, "6 months"),
    ("female", ["planning_pregnancy"], "methotrexate", "mtx_pregnancy", 200, None),
    # a man planning to father a child: 3 months
    ("male", ["male_planning_conception"], "methotrexate", "mtx_pregnancy", 60, "3 months"),
    ("male", ["male_planning_conception"], "methotrexate", "mtx_pregnancy", 100, None),
    # pregnant a week after the last upadacitinib: 4 weeks
    ("female", ["pregnancy"], "upadacitinib", "upadacitinib_pregnancy", 7, "4 weeks"),
    ("female", ["pregnancy"], "upadacitinib", "upadacitinib_pregnancy", 27, "4 weeks"),
    ("female", ["pregnancy"], "upadacitinib", "upadacitinib_pregnancy", 28, None),
])
def test_a_course_stopped_inside_the_labels_period_is_named(advise_as_of, sex, conditions, drug, fact, days,
                                                           period) -> None:
    record = patient(f"recent-{drug}-{sex}-{days}", age=32, sex=sex, state="stable",
                     conditions=[condition(name) for name in conditions],
                     treatments=[course(drug, outcome="stopped_other_reason", start="2023-01-01", end=ago(days))])
    item = label_item(advise_as_of(record), drug, fact)
    if period is None:
        assert not named(item, drug)
        assert "The last dose" not in (item.note or "")
    else:
        assert named(item, drug) == [f"{drug} course (stopped, 2023-01-01–{ago(days)}): stopped for another reason"]
        assert f"The last dose of {drug} here was on {ago(days)} (the course named), less than {period} ago" \
            in item.note
        assert item.note.endswith("the contraception this instruction asks for after the last dose is still due.")


def test_the_latest_course_is_named_once_and_a_course_taken_keeps_its_own_note(advise_as_of) -> None:
    """Two methotrexate courses stopped within the period: the latest is named, in one note. With
    methotrexate taken again, label-drug-taken.rq names that course and says to stop it; this rule
    adds nothing."""
    conditions = [condition("planning_pregnancy")]
    two = advise_as_of(patient("recent-mtx-twice", age=30, state="stable", conditions=conditions, treatments=[
        course("methotrexate", outcome="stopped_other_reason", start="2023-01-01", end=ago(120)),
        course("methotrexate", outcome="stopped_other_reason", start=ago(100), end=ago(20))]))
    item = label_item(two, "methotrexate", "mtx_pregnancy")
    assert len(named(item, "methotrexate")) == 1 and ago(20) in named(item, "methotrexate")[0]
    tie = advise_as_of(patient("recent-mtx-same-end", age=30, state="stable", conditions=conditions, treatments=[
        course("methotrexate", outcome="stopped_other_reason", start="2023-01-01", end=ago(20)),
        course("Otrexup", outcome="stopped_other_reason", start="2024-01-01", end=ago(20))]))
    assert len([b for b in label_item(tie, "methotrexate", "mtx_pregnancy").because
                if " course (stopped" in b.text]) == 1
    taken = advise_as_of(patient("recent-mtx-and-taken", age=30, state="stable", conditions=conditions, treatments=[
        course("methotrexate", outcome="stopped_other_reason", start="2023-01-01", end=ago(120)),
        course("methotrexate", status="ongoing", start=ago(30))]))
    item = label_item(taken, "methotrexate", "mtx_pregnancy")
    assert named(item, "methotrexate") == [f"methotrexate course (ongoing, {ago(30)})"]
    assert "The last dose" not in item.note and "to be stopped" in item.note


def test_the_day_taken_as_today_decides(advise_as_of) -> None:
    """The same record as of a later day: the six months after the last methotrexate have ended, and
    the course is no longer named (Reasoner(as_of=...), axspa recommend --as-of)."""
    from reasoner.pipeline import Reasoner

    record = patient("recent-mtx-as-of", age=32, state="stable", conditions=[condition("planning_pregnancy")],
                     treatments=[course("methotrexate", outcome="stopped_other_reason", start="2023-01-01",
                                        end=ago(21))])
    assert named(label_item(advise_as_of(record), "methotrexate", "mtx_pregnancy"), "methotrexate")
    later = Reasoner(as_of=AS_OF + timedelta(days=200)).recommend(record)
    assert not named(label_item(later, "methotrexate", "mtx_pregnancy"), "methotrexate")
