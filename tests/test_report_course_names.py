"""How the report names a treatment course: by the drug's label, after the brand the record used
(session-21 probe, item e: a course of Amjevita was shown only as "adalimumab-atto course", and a
clinician who wrote the brand could not find it)."""

from __future__ import annotations

import pytest

from .patients import course, patient


@pytest.mark.parametrize(("written", "shown"), [
    ("Amjevita", "Amjevita (adalimumab-atto) course"),
    # the knowledge base's spelling, whatever the record's case
    ("AMJEVITA", "Amjevita (adalimumab-atto) course"),
    ("xeljanz xr", "Xeljanz XR (tofacitinib) course"),
    ("Humira", "Humira (adalimumab) course"),
    # a generic name, or a label that already holds the brand, is shown alone
    ("adalimumab", "adalimumab course"),
    ("Benepali", "etanercept (Benepali) course"),
])
def test_a_course_is_named_by_the_brand_the_record_used(advise, written, shown) -> None:
    result = advise(patient(f"course-name-{written.replace(' ', '-')}", state="stable", sex="male", treatments=[
        course(written, status="ongoing", outcome="ongoing_response", start="2023-03-01")]))
    texts = {f.text for a in result.advice for f in a.because if " course (" in f.text}
    assert texts == {f"{shown} (ongoing, 2023-03-01): ongoing response"}
