"""Label safety facts whose condition is worked out from the record (age, TNF-inhibitor history) or
needs several conditions at once (queries/rules/label-safety.rq, label-safety-combined.rq).

These facts sat in the knowledge base without ever applying: no record states "age 65 or over" or
"no prior TNF-inhibitor failure" as a condition, and the thiopurine fact applied on IBD alone."""

from __future__ import annotations

from reasoner.namespaces import DRUG

from .patients import condition, course, nsaid_failure, patient

JAKI = {str(DRUG[d]) for d in ("tofacitinib", "upadacitinib", "filgotinib")}
TNFI = {str(DRUG[d]) for d in ("adalimumab", "certolizumab_pegol", "etanercept", "golimumab", "infliximab")}


def label_items(result, fact: str) -> list:
    return [a for a in result.advice if a.recommendation.guideline == "label" and a.recommendation.id == fact]


def test_age_65_or_over_brings_the_age_cautions(run) -> None:
    older = run(patient("label-age-66", age=66, treatments=nsaid_failure()))
    jaki = label_items(older, "jaki_ema_restricted_populations")
    assert {a.therapy.iri for a in jaki} == JAKI and {a.kind for a in jaki} == {"caution"}
    assert all([f.text for f in a.because] == ["age 66 years"] for a in jaki)
    assert all(f.fact == older.patient for a in jaki for f in a.because)  # the record's own age
    assert label_items(older, "nsaid_gi_bleeding")
    younger = run(patient("label-age-64", age=64, treatments=nsaid_failure()))
    assert not label_items(younger, "jaki_ema_restricted_populations")
    assert not label_items(younger, "nsaid_gi_bleeding")


def test_age_50_with_a_cardiovascular_risk_factor_brings_the_mortality_warning(run) -> None:
    smoker = run(patient("label-50-smoker", age=52, conditions=[condition("current_or_past_smoker")]))
    mortality = label_items(smoker, "jaki_mortality")
    assert {a.therapy.iri for a in mortality} == JAKI and {a.kind for a in mortality} == {"caution"}
    # both halves of the condition are shown (the age was left out: tenth-session review)
    assert {f.text for a in mortality for f in a.because} == {"current or past smoker: present", "age 52 years"}
    assert not label_items(run(patient("label-49-smoker", age=49, conditions=[condition("current_or_past_smoker")])),
                           "jaki_mortality")
    assert not label_items(run(patient("label-52-non-smoker", age=52,
                                       conditions=[condition("current_or_past_smoker", "absent")])), "jaki_mortality")


def test_jak_inhibitors_wait_for_a_tnf_inhibitor_failure_under_the_us_label(run) -> None:
    # safety.tsv grades the US indication restriction absolute: a TNF-naive patient's JAK
    # inhibitor recommendations become conflicts, shown with the fact that overrode them.
    naive = run(patient("label-tnf-naive", treatments=nsaid_failure()))
    restricted = label_items(naive, "jaki_us_tnf_ir")
    assert {a.therapy.iri for a in restricted} == JAKI and {a.kind for a in restricted} == {"contraindicated"}
    assert {f.text for a in restricted for f in a.because} == {"no prior TNF-inhibitor failure"}
    assert not naive.therapies("recommended") & JAKI
    assert {c.advice.therapy.iri for c in naive.conflicts if c.overridden_by.recommendation.id == "jaki_us_tnf_ir"}
    # On a TNF inhibitor that works: still no TNF-inhibitor failure.
    responding = run(patient("label-tnf-responding", treatments=nsaid_failure() + [
        course("adalimumab", status="ongoing", outcome="ongoing_response", start="2022-01-10")]))
    assert label_items(responding, "jaki_us_tnf_ir")
    # After a TNF inhibitor failed, for lack of effect or for intolerance, the restriction is met.
    for outcome in ("primary_nonresponse", "secondary_nonresponse", "intolerance"):
        failed = run(patient(f"label-tnf-{outcome}", treatments=nsaid_failure() + [
            course("etanercept", outcome=outcome, start="2022-01-10", end="2022-09-01")]))
        assert not label_items(failed, "jaki_us_tnf_ir"), outcome
        assert failed.therapies("recommended") & JAKI, outcome


def test_the_thiopurine_lymphoma_warning_needs_both_ibd_and_a_thiopurine(run) -> None:
    crohn = run(patient("label-crohn", conditions=[condition("crohns_disease")]))
    assert not label_items(crohn, "tnfi_hstcl_ibd_thiopurine")
    thiopurine_only = run(patient("label-thiopurine", conditions=[condition("thiopurine_use")]))
    assert not label_items(thiopurine_only, "tnfi_hstcl_ibd_thiopurine")
    both = run(patient("label-crohn-thiopurine", conditions=[condition("crohns_disease"), condition("thiopurine_use")]))
    warned = label_items(both, "tnfi_hstcl_ibd_thiopurine")
    assert {a.therapy.iri for a in warned} == TNFI and {a.kind for a in warned} == {"caution"}
    assert {f.text for a in warned for f in a.because} == {"Crohn's disease: present", "thiopurine use: present"}


def test_a_systemic_fungal_infection_is_a_serious_infection(run) -> None:
    """Invasive fungal infections are among the serious infections of the TNF-inhibitor boxed
    warning (safety.tsv notes): TNF, IL-17 and JAK inhibitors are all held back, not only the depot
    glucocorticoids whose fact names the condition (ninth-session review)."""
    result = run(patient("label-fungal", conditions=[condition("systemic_fungal_infection")],
                         treatments=nsaid_failure()))
    blocked = {a.recommendation.id for a in result.advice if a.kind == "contraindicated"}
    assert {"tnfi_active_serious_infection", "il17i_active_infection", "jaki_serious_infection",
            "gc_depot_route_restrictions"} <= blocked
    assert not {a.therapy.iri for a in result.advice if a.kind in ("recommended", "preferred-over")} & (TNFI | JAKI)


def test_a_class_wide_nsaid_contraindication_holds_back_the_nsaid_strategies(run) -> None:
    """Continuous or on-demand NSAID use names no drug, so the per-drug override missed it: from 30
    weeks of pregnancy AS-02 still preferred continuous NSAID use (ninth-session review)."""
    def strategies(result) -> set[str]:
        return {a.therapy.label for a in result.advice if a.kind in ("recommended", "preferred-over")}

    def conflicts(result, label: str) -> list:
        return [c for c in result.conflicts if c.advice.therapy.label == label]

    late = run(patient("label-nsaid-30wk", conditions=[condition("pregnancy_30_weeks_or_more")]))
    assert "continuous NSAID use" not in strategies(late)
    held = conflicts(late, "continuous NSAID use")
    assert [c.overridden_by.recommendation.id for c in held] == ["nsaid_pregnancy_30wk"]  # listed once
    # the class-wide fact's item named is that of the NSAID being taken, else the first by name (the
    # smallest IRI, an MD5, named indomethacin for a patient on naproxen; session-32 probe 2, F8)
    assert [c.overridden_by.therapy.label for c in held] == ["celecoxib"]
    on_naproxen = run(patient("label-nsaid-30wk-naproxen", conditions=[condition("pregnancy_30_weeks_or_more")],
                              treatments=[course("naproxen", status="ongoing", start="2025-01-10", end=None)]))
    assert [c.overridden_by.therapy.label for c in conflicts(on_naproxen, "continuous NSAID use")] == ["naproxen"]
    stable = run(patient("label-nsaid-bleed-stable", state="stable", conditions=[condition("gi_bleeding")]))
    assert "on-demand NSAID use" not in strategies(stable)
    assert conflicts(stable, "on-demand NSAID use")
    # a caution on the class (hypertension) and a failed NSAID (do-not-repeat) hold back nothing
    for record in (patient("label-nsaid-hypertension", conditions=[condition("hypertension")]),
                   patient("label-nsaid-failed", treatments=nsaid_failure())):
        result = run(record)
        assert "continuous NSAID use" in strategies(result) and not conflicts(result, "continuous NSAID use")


NSAIDS = {str(DRUG[d]) for d in ("celecoxib", "naproxen", "ibuprofen", "diclofenac", "indomethacin", "meloxicam",
                                 "etodolac", "etoricoxib")}


def test_severe_heart_failure_holds_back_nsaids_and_any_heart_failure_is_a_caution(run) -> None:
    """NSAIDs were recommended (AS-01 strong, continuous use preferred by AS-02) in NYHA class III
    heart failure with only a caution, although the label row says to avoid them in severe heart
    failure (tenth-session clinical review): that instruction is now its own blocking fact."""
    def offered(result) -> set[str]:
        return {a.therapy.iri for a in result.advice if a.kind in ("recommended", "preferred-over", "no-preference")}

    severe = run(patient("label-nsaid-nyha3", conditions=[condition("severe_heart_failure")]))
    assert not offered(severe) & NSAIDS
    assert "continuous NSAID use" not in {a.therapy.label for a in severe.advice}
    blocked = label_items(severe, "nsaid_severe_heart_failure")
    assert {a.therapy.iri for a in blocked} == NSAIDS and {a.kind for a in blocked} == {"contraindicated"}
    assert any("NYHA" in f.text for a in blocked for f in a.because)
    assert {c.advice.recommendation.id for c in severe.conflicts
            if c.overridden_by.recommendation.id == "nsaid_severe_heart_failure"} >= {"AS-01", "AS-02"}
    assert {a.kind for a in label_items(severe, "nsaid_heart_failure")} == {"caution"}
    # near miss: heart failure of unstated degree keeps NSAIDs, with the caution
    mild = run(patient("label-nsaid-chf", conditions=[condition("congestive_heart_failure")]))
    assert offered(mild) & NSAIDS
    assert not label_items(mild, "nsaid_severe_heart_failure")
    assert {a.kind for a in label_items(mild, "nsaid_heart_failure")} == {"caution"}


# ---------------------------------------------------------------------------------------------
# tnfi_biologic_combination from an ongoing course (label-ongoing-biologic.rq)
# ---------------------------------------------------------------------------------------------
def _combination(result) -> list:  # type: ignore[no-untyped-def]
    return label_items(result, "tnfi_biologic_combination")


def test_a_tnfi_offered_beside_an_ongoing_biologic_carries_a_switch_caution(run) -> None:
    """Active AS with Crohn's disease on ustekinumab: the TNF antibodies were recommended with no word
    about the ustekinumab being taken (review, session 11). They stay recommended, as a switch, each
    with a caution naming the ongoing course; nothing is blocked."""
    on_ustekinumab = patient("label-ustekinumab", conditions=[condition("crohns_disease")], treatments=[
        *nsaid_failure(), course("ustekinumab", status="ongoing", outcome="ongoing_response", start="2025-03-01")])
    result = run(on_ustekinumab)
    cautions = _combination(result)
    # (not on etanercept, which a label fact rules out with IBD: no switch to it; session-31 review F1)
    assert {a.therapy.iri for a in cautions} == TNFI - {str(DRUG.etanercept)}
    assert {a.kind for a in cautions} == {"caution"}
    assert all([f.text for f in a.because] == ["ustekinumab course (ongoing, 2025-03-01): ongoing response"]
               for a in cautions)
    assert all(a.note.startswith("The record shows ustekinumab being taken") for a in cautions)
    assert {str(DRUG.adalimumab), str(DRUG.infliximab)} <= result.therapies("recommended")
    assert not (TNFI - {str(DRUG.etanercept)}) & result.therapies("contraindicated")  # etanercept: for IBD


def test_the_switch_caution_spares_the_molecule_taken_and_stable_disease(run) -> None:
    losing = patient("label-ada-secondary", treatments=[
        *nsaid_failure(), course("Amjevita", status="ongoing", outcome="secondary_nonresponse", start="2022-01-01")])
    assert {a.therapy.iri for a in _combination(run(losing))} == TNFI - {str(DRUG.adalimumab)}
    # a TNF inhibitor an earlier course bars is no switch to caution about (session-30 probe F5)
    after_adalimumab = patient("label-tofa-after-ada", treatments=[
        *nsaid_failure(), course("adalimumab", outcome="primary_nonresponse", start="2022-01-10", end="2022-07-01"),
        course("tofacitinib", status="ongoing", outcome="partial_response", start="2022-08-01")])
    result = run(after_adalimumab)
    assert str(DRUG.adalimumab) in result.therapies("do-not-repeat")
    # ... nor one a label fact rules out for a stated condition (active tuberculosis: session-31
    # review F1); the label's own contraindication stands
    with_tb = run(patient("label-seku-active-tb", conditions=[condition("active_tuberculosis")], treatments=[
        *nsaid_failure(), course("secukinumab", status="ongoing", outcome="partial_response", start="2024-02-01")]))
    assert with_tb.therapies("contraindicated") >= TNFI
    assert not _combination(with_tb)
    assert {a.therapy.iri for a in _combination(result)} == TNFI - {str(DRUG.adalimumab)}
    # ... nor one a stated TNF-inhibitor contraindication holds back (multiple sclerosis)
    contraindicated = run(patient("label-seku-ms", conditions=[condition("multiple_sclerosis")], treatments=[
        *nsaid_failure(), course("secukinumab", status="ongoing", outcome="partial_response", start="2024-02-01")]))
    assert contraindicated.therapies("contraindicated") >= TNFI
    assert not _combination(contraindicated)
    stable = patient("label-ustekinumab-stable", state="stable", treatments=[
        course("ustekinumab", status="ongoing", outcome="ongoing_response", start="2025-03-01")])
    assert not _combination(run(stable))


def test_a_stated_combination_blocks_and_the_switch_caution_steps_aside(run) -> None:
    stated = run(patient("label-combination-stated", conditions=[condition("concurrent_biologic")], treatments=[
        *nsaid_failure(), course("ustekinumab", status="ongoing", outcome="ongoing_response", start="2025-03-01")]))
    assert {a.kind for a in _combination(stated)} == {"contraindicated"}
    assert stated.therapies("contraindicated") >= TNFI


def test_a_tnfi_taken_beside_another_biologic_is_flagged_in_any_disease_state(run) -> None:
    """Stable AS on Humira with ustekinumab added for Crohn's disease: the combination the label
    advises against was in the record and got no word (re-probe, session 11)."""
    def both(pid: str, state: str) -> dict:
        return patient(pid, state=state, conditions=[condition("crohns_disease")], treatments=[
            course("Humira", status="ongoing", outcome="ongoing_response", start="2021-01-01"),
            course("ustekinumab", status="ongoing", outcome="ongoing_response", start="2025-05-01")])

    stable = _combination(run(both("label-combination-stable", "stable")))
    assert [a.therapy.iri for a in stable] == [str(DRUG.adalimumab)]
    assert {f.text.split(" course")[0] for f in stable[0].because} == {"Humira (adalimumab)", "ustekinumab"}
    assert "together with this TNF inhibitor" in stable[0].note
    active = _combination(run(both("label-combination-active", "active")))
    on_adalimumab = [a for a in active if a.therapy.iri == str(DRUG.adalimumab)]
    assert len(on_adalimumab) == 1 and "together with this TNF inhibitor" in on_adalimumab[0].note
    assert {a.therapy.iri for a in active} == TNFI - {str(DRUG.etanercept)}  # ruled out with IBD


def test_upadacitinib_is_a_caution_for_a_woman_who_could_become_pregnant_and_held_back_in_pregnancy(run) -> None:
    """The upadacitinib row names pregnancy and women of reproductive potential under one absolute
    contraindication, but asks only for a pregnancy check and contraception in the latter: a woman of
    31, not pregnant, had upadacitinib held back after two biologics failed."""
    history = [*nsaid_failure(),
               course("adalimumab", outcome="secondary_nonresponse", start="2024-05-01", end="2025-06-01"),
               course("secukinumab", outcome="primary_nonresponse", start="2025-06-15", end="2026-09-01")]
    upa = str(DRUG.upadacitinib)
    able = run(patient("upa-reproductive-potential", sex="female", age=31, treatments=history, conditions=[
        condition("female_of_reproductive_potential"), condition("pregnancy", "absent")]))
    [caution] = label_items(able, "upadacitinib_reproductive_potential")
    assert caution.kind == "caution" and caution.therapy.iri == upa
    # a split fact names the safety.tsv row it comes from (its own id is no row of the table)
    assert caution.recommendation.from_row == "upadacitinib_pregnancy"
    assert any(a["recommendation"].get("from_row") == "upadacitinib_pregnancy" for a in able.as_dict()["advice"])
    from reasoner.report import render_text

    assert "upadacitinib_reproductive_potential (split from row upadacitinib_pregnancy)" in render_text(able)
    # from_row only where there is one: the JSON contract's other sources keep their four keys
    data = able.as_dict()
    sources = [a["recommendation"] for a in data["advice"]] + [o for n in data["needs_information"]
                                                              for o in n["options"]]
    assert data["needs_information"] and all(set(src) == {"id", "guideline", "iri", "label"} for src in sources
                                             if not src["id"].endswith("_reproductive_potential"))
    assert "contraception" in caution.note and not label_items(able, "upadacitinib_pregnancy")
    assert any(a.therapy.iri == upa and a.kind == "recommended" for a in able.advice)  # R12 offers it
    pregnant = run(patient("upa-pregnant", sex="female", age=31, treatments=history, conditions=[
        condition("female_of_reproductive_potential"), condition("pregnancy_20_to_under_30_weeks")]))
    assert {a.kind for a in label_items(pregnant, "upadacitinib_pregnancy")} == {"contraindicated"}
    assert not any(a.therapy.iri == upa and a.kind == "recommended" for a in pregnant.advice)


def test_a_woman_planning_a_pregnancy_gets_the_reproductive_potential_caution(run) -> None:
    """Planning a pregnancy falls under reproductive potential: the upadacitinib caution (pregnancy
    test, contraception during treatment) is shown beside R12's offer, and methotrexate is held back
    as before. Session-15 probe: a woman of 31 trying to conceive was offered upadacitinib and
    tofacitinib with no word on either."""
    history = [*nsaid_failure(),
               course("adalimumab", outcome="primary_nonresponse", start="2024-05-01", end="2024-11-01"),
               course("secukinumab", outcome="primary_nonresponse", start="2024-11-15", end="2025-06-01")]
    planning = run(patient("upa-planning-pregnancy", sex="female", age=31, treatments=history, conditions=[
        condition("planning_pregnancy"), condition("pregnancy", "absent")]))
    [caution] = label_items(planning, "upadacitinib_reproductive_potential")
    assert caution.kind == "caution" and [f.text for f in caution.because] == ["planning pregnancy: present"]
    assert {a.kind for a in label_items(planning, "mtx_pregnancy")} == {"contraindicated"}
    # near miss: pregnancy and planning both stated absent, no reproductive-potential statement: no
    # caution, and a question asks whether she could become pregnant (ni-reproductive-potential)
    plain = run(patient("upa-not-planning", sex="female", age=31, treatments=history, conditions=[
        condition("planning_pregnancy", "absent"), condition("pregnancy", "absent")]))
    assert [a.kind for a in label_items(plain, "upadacitinib_reproductive_potential")] == ["needs-information"]
    assert "whether the patient could become pregnant" in {n.fact for n in plain.needs_information}


def test_a_chronic_or_recurrent_infection_brings_the_il17i_caution(run) -> None:
    """The IL-17-inhibitor infection row asks for care in chronic or recurrent infection; that part was
    left unmapped, so AS-11 offered an IL-17 inhibitor to such a patient without a word."""
    il17i = {str(DRUG[d]) for d in ("secukinumab", "ixekizumab", "bimekizumab")}
    infected = run(patient("il17i-recurrent-infection", treatments=nsaid_failure(),
                           conditions=[condition("chronic_or_recurrent_infection")]))
    cautions = label_items(infected, "il17i_chronic_infection")
    assert {a.therapy.iri for a in cautions} == il17i and {a.kind for a in cautions} == {"caution"}
    assert [f.text for f in cautions[0].because] == ["chronic or recurrent infection: present"]
    assert any(a.therapy.iri in il17i and a.kind in ("recommended", "preferred-over") for a in infected.advice)
    assert not label_items(infected, "il17i_active_infection")  # the absolute part is not drawn in
    clear = run(patient("il17i-no-infection", treatments=nsaid_failure(),
                        conditions=[condition("chronic_or_recurrent_infection", "absent")]))
    assert not label_items(clear, "il17i_chronic_infection")


def test_severe_hepatic_impairment_counts_as_chronic_liver_disease(run) -> None:
    """Session-18 probe s03: Child-Pugh C cirrhosis recorded as severe hepatic impairment alone.
    AS-04 recommended methotrexate: mtx_liver_alcohol names chronic liver disease, and the severe
    impairment was not placed under it (severe renal impairment is under chronic kidney disease).
    Control: a record with neither keeps methotrexate."""
    history = [*nsaid_failure()]
    cirrhosis = run(patient("severe-hepatic-peripheral", treatments=history, conditions=[
        condition("severe_hepatic_impairment"), condition("peripheral_arthritis")]))
    [mtx] = label_items(cirrhosis, "mtx_liver_alcohol")
    assert mtx.kind == "contraindicated" and [f.text for f in mtx.because] == ["severe hepatic impairment: present"]
    assert not any(a.therapy.iri == str(DRUG.methotrexate) and a.kind == "recommended" for a in cirrhosis.advice)
    control = run(patient("no-liver-disease-peripheral", treatments=history,
                          conditions=[condition("peripheral_arthritis")]))
    assert not label_items(control, "mtx_liver_alcohol")
    assert any(a.therapy.iri == str(DRUG.methotrexate) and a.kind == "recommended" for a in control.advice)


def test_methotrexate_and_tofacitinib_carry_the_contraception_caution_too(run) -> None:
    """Session-18 probe s40/s41: a woman of 29 recorded as able to become pregnant was offered
    methotrexate (AS-04, peripheral arthritis) and tofacitinib with no word on a pregnancy test or
    contraception; only upadacitinib carried that caution. Their pregnancy rows ask for both, so each
    now has a caution split from its row. Control: the potential stated absent, no caution."""
    history = [*nsaid_failure(), course("etanercept", outcome="primary_nonresponse", start="2024-01-10",
                                        end="2024-07-01")]
    able = run(patient("mtx-tofa-potential", age=29, treatments=history, conditions=[
        condition("female_of_reproductive_potential"), condition("pregnancy", "absent"),
        condition("peripheral_arthritis")]))
    for fact, drug, row, interval in (("mtx_reproductive_potential", "methotrexate", "mtx_pregnancy", "6 months"),
                                      ("tofacitinib_reproductive_potential", "tofacitinib", "tofacitinib_pregnancy",
                                       "4 weeks")):
        [caution] = label_items(able, fact)
        assert caution.kind == "caution" and caution.therapy.iri == str(DRUG[drug])
        assert caution.recommendation.from_row == row and interval in (caution.note or "")
    unable = run(patient("mtx-tofa-no-potential", age=29, treatments=history, conditions=[
        condition("female_of_reproductive_potential", "absent"), condition("pregnancy", "absent"),
        condition("peripheral_arthritis")]))
    assert not label_items(unable, "mtx_reproductive_potential")
    assert not label_items(unable, "tofacitinib_reproductive_potential")


# The preferred-in facts say which b/tsDMARD to prefer, not that one is needed (queries/rules/label-preferred.rq).
PREFERRED = [
    ("certolizumab_pregnancy_preferred", "planning_pregnancy", {"certolizumab_pegol"}),
    ("tnfi_mab_ibd_preferred", "crohns_disease", {"adalimumab", "infliximab", "golimumab", "certolizumab_pegol"}),
    ("il17i_psoriasis_preferred", "significant_psoriasis", {"secukinumab", "ixekizumab", "bimekizumab"}),
]


def _preferred(result, fact: str) -> set[str]:
    return {a.therapy.iri.rsplit("/", 1)[-1] for a in label_items(result, fact) if a.kind == "preferred-over"}


def test_preferred_in_facts_wait_until_a_btsdmard_is_chosen_or_taken(run) -> None:
    """Session-27 safety audit finding 3: a woman planning pregnancy, stable on naproxen, was shown
    certolizumab pegol as preferred, though the row's condition reads "(TNFi required)"; stable
    NSAID responders with IBD or psoriasis likewise got biologics "preferred"."""
    for fact, stated, drugs in PREFERRED:
        on_naproxen = run(patient(f"preferred-stable-{stated}", state="stable", conditions=[condition(stated)],
                                  treatments=[course("naproxen", status="ongoing", outcome="ongoing_response")]))
        assert not _preferred(on_naproxen, fact), fact
        first_line = run(patient(f"preferred-first-line-{stated}", conditions=[condition(stated)]))
        assert not _preferred(first_line, fact), fact
        # NSAIDs failed in active disease: a b/tsDMARD is the next step
        choosing = run(patient(f"preferred-choosing-{stated}", conditions=[condition(stated)],
                               treatments=nsaid_failure()))
        assert _preferred(choosing, fact) == drugs, fact
        assert all(any(f.text == "in population: active axSpA despite NSAIDs" for f in a.because)
                   for a in label_items(choosing, fact)), fact


def test_certolizumab_is_preferred_for_a_woman_on_a_tnf_inhibitor_planning_pregnancy(run) -> None:
    """"When a TNFi must be continued through pregnancy": stable on adalimumab, planning pregnancy."""
    result = run(patient("preferred-on-humira-planning", state="stable", conditions=[condition("planning_pregnancy")],
                         treatments=[course("Humira", status="ongoing", outcome="ongoing_response")]))
    (item,) = label_items(result, "certolizumab_pregnancy_preferred")
    assert {f.text.split(" course")[0] for f in item.because} >= {"Humira (adalimumab)"}


def test_a_preferred_in_fact_of_another_class_waits_while_a_biologic_works(run) -> None:
    """Session-27 review l06, l07: stable ulcerative colitis on working tofacitinib was shown the TNF
    monoclonal antibodies as preferred, and psoriasis on working Humira the IL-17 inhibitors: a
    switch nobody is choosing."""
    on_xeljanz = run(patient("preferred-other-class-jaki", state="stable", conditions=[condition("ulcerative_colitis")],
                             treatments=[course("Xeljanz", status="ongoing", outcome="ongoing_response")]))
    assert not _preferred(on_xeljanz, "tnfi_mab_ibd_preferred")
    humira = course("Humira", status="ongoing", outcome="ongoing_response")
    on_humira = run(patient("preferred-other-class-tnfi", state="stable",
                            conditions=[condition("significant_psoriasis")], treatments=[humira]))
    assert not _preferred(on_humira, "il17i_psoriasis_preferred")


def test_a_drug_taken_that_the_fact_prefers_is_the_only_one_shown(run) -> None:
    """Session-35 metamorphic probe F4: stable on Cimzia (a TNF monoclonal antibody) with recurrent
    uveitis, the other antibodies were listed as preferred too, hinting at a switch nobody is
    choosing. On etanercept, which the fact does not prefer, all of them are still shown, and so
    they are when NSAIDs failed and a b/tsDMARD is being chosen."""
    uveitis = [condition("recurrent_anterior_uveitis")]
    mabs = {"adalimumab", "certolizumab_pegol", "golimumab", "infliximab"}
    fact = "tnfi_mab_uveitis_preferred"
    on_cimzia = run(patient("preferred-on-cimzia-uveitis", state="stable", conditions=uveitis,
                            treatments=[course("Cimzia", status="ongoing", outcome="ongoing_response")]))
    assert _preferred(on_cimzia, fact) == {"certolizumab_pegol"}
    (item,) = label_items(on_cimzia, fact)
    assert any(f.text.startswith("Cimzia (certolizumab pegol) course") for f in item.because)
    on_enbrel = run(patient("preferred-on-enbrel-uveitis", state="stable", conditions=uveitis,
                            treatments=[course("Enbrel", status="ongoing", outcome="ongoing_response")]))
    assert _preferred(on_enbrel, fact) == mabs
    psoriasis = [condition("significant_psoriasis")]
    on_taltz = run(patient("preferred-on-taltz-psoriasis", state="stable", conditions=psoriasis,
                           treatments=[course("Taltz", status="ongoing", outcome="ongoing_response")]))
    assert _preferred(on_taltz, "il17i_psoriasis_preferred") == {"ixekizumab"}
    cimzia = course("Cimzia", status="ongoing", outcome="ongoing_response")
    choosing = run(patient("preferred-cimzia-after-nsaids", conditions=uveitis, treatments=[*nsaid_failure(), cimzia]))
    assert _preferred(choosing, fact) == mabs


def test_a_preference_that_restates_one_guideline_applies_only_under_that_guideline(acr_only, eular_only) -> None:
    """Session-31 probe F1: under ACR 2019 alone, significant psoriasis showed the IL-17 inhibitors as
    preferred (il17i_psoriasis_preferred, which restates ASAS-EULAR 2022 R10) beside AS-09, which
    prefers a TNF inhibitor as the first biologic. A fact the table credits to both guidelines
    (tnfi_mab_ibd_preferred), or one a label row points to, applies under either."""
    psoriasis = patient("preferred-psoriasis-by-setting", conditions=[condition("significant_psoriasis")],
                        treatments=nsaid_failure())
    assert not _preferred(acr_only.recommend(psoriasis), "il17i_psoriasis_preferred")
    assert _preferred(eular_only.recommend(psoriasis), "il17i_psoriasis_preferred") == {
        "secukinumab", "ixekizumab", "bimekizumab"}
    # ACR 2019's preference for an IL-17 inhibitor when heart failure rules out a TNF inhibitor stays in
    # every setting: the label row tnfi_heart_failure points to it (session-31 review F2)
    heart = patient("preferred-heart-failure-by-setting", conditions=[condition("severe_heart_failure")],
                    treatments=nsaid_failure())
    for reasoner in (acr_only, eular_only):
        assert _preferred(reasoner.recommend(heart), "tnfi_contraindicated_prefer_il17i") == {
            "secukinumab", "ixekizumab", "bimekizumab"}
    crohns = patient("preferred-crohns-by-setting", conditions=[condition("crohns_disease")],
                     treatments=nsaid_failure())
    for reasoner in (acr_only, eular_only):
        assert _preferred(reasoner.recommend(crohns), "tnfi_mab_ibd_preferred") == {
            "adalimumab", "infliximab", "golimumab", "certolizumab_pegol"}
