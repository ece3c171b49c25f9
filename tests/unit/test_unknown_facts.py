"""Deciding when the known facts decide (issue 12): each indicator reasons over the bounds of
what is unknown, says "cannot determine" only when a missing fact could change it, and names
the missing facts that matter.

The working-age and dependant bounds are read from the standard's data (they are provisional
there, not figures of the law); the behaviour under test is the reasoning over them.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from server.scoring.engine import Category, score_household
from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member
from server.scoring.rules import Outcome, evaluate
from server.scoring.standards import standard_for_year

S2022, S2027 = standard_for_year(2026), standard_for_year(2027)
STANDARDS = [S2022, S2027]
UNDECIDED = {Category.UNDETERMINED, Category.NOT_ASSESSED}


def indicator(standard, code, household):
    spec = next(i for i in standard.indicators if i["code"] == code)
    return evaluate(spec, household, standard)


def bounds(standard):
    rule = standard.data["working_age"]
    return (
        rule["min"],
        min(rule["max_male"], rule["max_female"]),
        max(rule["max_male"], rule["max_female"]),
    )


def able(age, **kw):
    return Member(age=age, disability="khong", serious_illness=False, **kw)


# --- working age without the sex ---------------------------------------------------------


def test_an_age_inside_every_working_age_bound_decides_whatever_the_sex():
    for standard in STANDARDS:
        low, top_both, top_any = bounds(standard)
        for age in (low, (low + top_both) // 2, top_both):
            unemployed = Member(age=age, work_status="that_nghiep")
            result = indicator(standard, "viec_lam", HouseholdFacts(members=(unemployed,)))
            assert result.outcome == Outcome.DEPRIVED, (standard.code, age, result)
        for age in (low - 1, top_any + 1, 90):
            unemployed = Member(age=age, work_status="that_nghiep")
            result = indicator(standard, "viec_lam", HouseholdFacts(members=(unemployed,)))
            assert result.outcome == Outcome.NOT_DEPRIVED, (standard.code, age, result)


def test_between_the_two_bounds_the_sex_matters_and_is_named():
    _low, top_both, top_any = bounds(S2022)
    assert top_both < top_any  # the data has different bounds for men and women
    age = top_both + 1
    result = indicator(
        S2022, "viec_lam", HouseholdFacts(members=(Member(age=age, work_status="that_nghiep"),))
    )
    assert result.outcome == Outcome.UNKNOWN
    assert "giới tính" in result.reasons[0]
    assert "tuổi" not in result.reasons[0].split("thiếu thông tin")[1]
    # Once the sex is known it decides both ways.
    for sex, outcome in (("1", Outcome.DEPRIVED), ("2", Outcome.NOT_DEPRIVED)):
        member = Member(age=age, sex=sex, work_status="that_nghiep")
        assert indicator(S2022, "viec_lam", HouseholdFacts(members=(member,))).outcome == outcome


def test_only_the_missing_facts_that_matter_are_named():
    # Unemployed, age unknown: only the age matters (not the sex, not the contract).
    member = Member(name="Y Hlơn", work_status="that_nghiep")
    result = indicator(S2022, "viec_lam", HouseholdFacts(members=(member,)))
    assert result.outcome == Outcome.UNKNOWN
    assert result.reasons == ("Y Hlơn: thiếu thông tin (tuổi)",)
    # A farmer: neither way of being deprived applies, whatever the age and sex.
    farmer = Member(name="A Thút", work_status="nong_nghiep")
    result = indicator(S2022, "viec_lam", HouseholdFacts(members=(farmer,)))
    assert result.outcome == Outcome.NOT_DEPRIVED


# --- dependants ---------------------------------------------------------------------------


def test_a_severe_disability_makes_a_dependant_whatever_the_age():
    severe = S2022.data["dependant"]["severe_disability"][0]
    members = (Member(disability=severe), Member(disability=severe), able(30))
    result = indicator(S2022, "nguoi_phu_thuoc", HouseholdFacts(members=members))
    assert result.outcome == Outcome.DEPRIVED


def test_a_share_already_above_half_stays_above_half_whatever_the_unknown_members_are():
    rule = S2022.data["dependant"]
    child, elder = rule["child_under"] - 1, rule["elderly_from"]
    # 3 of 5 known dependants: more than half whatever the other 2 are.
    members = (able(child), able(elder), able(elder + 5), Member(), Member(name="B"))
    result = indicator(S2022, "nguoi_phu_thuoc", HouseholdFacts(members=members))
    assert result.outcome == Outcome.DEPRIVED
    assert result.reasons[0].startswith("ít nhất 3/5")
    # 1 known of 4, 1 unknown: at most 2 of 4 = half, never more than half.
    members = (able(child), able(30), able(40), Member())
    result = indicator(S2022, "nguoi_phu_thuoc", HouseholdFacts(members=members))
    assert result.outcome == Outcome.NOT_DEPRIVED
    assert result.reasons[0].startswith("nhiều nhất 2/4")
    # 1 known of 4, 2 unknown: 1 to 3 of 4 — the unknowns decide, and are named.
    members = (able(child), able(30), Member(name="C", age=35), Member(name="D"))
    result = indicator(S2022, "nguoi_phu_thuoc", HouseholdFacts(members=members))
    assert result.outcome == Outcome.UNKNOWN
    assert "C, 35 tuổi (bệnh nặng, khuyết tật)" in result.reasons[0]
    assert "D (bệnh nặng, khuyết tật, tuổi)" in result.reasons[0]


def test_one_deprived_member_decides_an_any_member_indicator():
    unknown = Member(name="E")  # nothing known about E
    uninsured = Member(age=30, health_insurance=False)
    result = indicator(S2022, "bhyt", HouseholdFacts(members=(unknown, uninsured)))
    assert result.outcome == Outcome.DEPRIVED


# --- the verdict: sound over every erasure --------------------------------------------------

full_members = st.builds(
    Member,
    name=st.sampled_from(["Nguyễn Văn A", "Y Hlơn"]),
    age=st.integers(0, 95),
    sex=st.sampled_from(["1", "2"]),
    work_status=st.sampled_from(["nong_nghiep", "lam_cong", "that_nghiep", "khong_hoat_dong"]),
    contract=st.sampled_from(["co_hd", "khong_hd"]),
    disability=st.sampled_from(["khong", "nhe", "nang", "dac_biet_nang"]),
    serious_illness=st.booleans(),
    health_insurance=st.booleans(),
    malnourished=st.booleans(),
    in_school=st.booleans(),
    education=st.sampled_from(["chua_tot_nghiep_th", "tieu_hoc", "thcs", "thpt"]),
    qualification=st.sampled_from(["khong", "so_cap", "dai_hoc"]),
    employer_training=st.booleans(),
)
full_households = st.builds(
    HouseholdFacts,
    members=st.lists(full_members, min_size=1, max_size=7).map(tuple),
    area_type=st.sampled_from(["rural", "urban"]),
    floor_area=st.floats(1, 200, allow_nan=False),
    wall=st.sampled_from(["gach_da", "dat", "go_tap"]),
    frame=st.sampled_from(["btct", "tre"]),
    roof=st.sampled_from(["ngoi", "la_tranh"]),
    water_source=st.sampled_from(["nuoc_may", "nuoc_mat"]),
    latrine=st.sampled_from(["tu_hoai", "khong_co"]),
    telecom_use=st.booleans(),
    info_devices=st.sets(st.sampled_from(["tivi", "radio"])).map(frozenset),
    digital_use=st.sets(st.sampled_from(["internet", "dvc_truc_tuyen"])).map(frozenset),
    waste=st.sampled_from(["thu_gom", "vut_bua_bai"]),
    income=st.builds(
        MeasuredIncome, per_person_month=st.integers(0, 4_000_000), agricultural=st.booleans()
    ),
)
MEMBER_FIELDS = [f.name for f in dataclasses.fields(Member) if f.name != "name"]
HOUSEHOLD_FIELDS = [
    "floor_area", "wall", "frame", "roof", "water_source", "latrine", "telecom_use",
    "info_devices", "digital_use", "waste",
]  # fmt: skip


@st.composite
def erased(draw):
    """A fully known household and the same household with some of its facts unknown."""
    full = draw(full_households)
    members = tuple(
        dataclasses.replace(m, **dict.fromkeys(draw(st.sets(st.sampled_from(MEMBER_FIELDS)))))
        for m in full.members
    )
    gone = draw(st.sets(st.sampled_from(HOUSEHOLD_FIELDS)))
    return full, dataclasses.replace(full, members=members, **dict.fromkeys(gone))


@settings(max_examples=400, deadline=None)
@given(erased(), st.sampled_from(STANDARDS))
def test_an_unknown_fact_never_changes_a_verdict_it_only_withholds_it(pair, standard):
    """Whatever facts are absent, every indicator and the verdict either agree with the fully
    known household or say "cannot determine": a decided answer never depends on an absent
    fact."""
    full, partial = pair
    known, guessed = score_household(full, standard), score_household(partial, standard)
    assert known.category not in UNDECIDED
    for a, b in zip(known.indicators, guessed.indicators, strict=True):
        assert b.outcome in (a.outcome, Outcome.UNKNOWN), (a.code, a, b)
    assert guessed.category in {known.category} | UNDECIDED
    if guessed.category == Category.UNDETERMINED:  # the explanation names what is missing
        assert any(line.startswith("Chưa xác định") for line in guessed.explanation_vi)


@settings(max_examples=200, deadline=None)
@given(full_households, st.sampled_from(STANDARDS))
def test_facts_that_cannot_matter_may_be_absent(full, standard):
    """The sex of members inside every working-age bound, and every fact of a household whose
    income is over the line, are never needed for its verdict."""
    low, top_both, _ = bounds(standard)
    members = tuple(
        dataclasses.replace(m, sex=None) if low <= m.age <= top_both else m for m in full.members
    )
    no_sex = dataclasses.replace(full, members=members)
    known = score_household(full, standard)
    assert [r.outcome for r in score_household(no_sex, standard).indicators] == [
        r.outcome for r in known.indicators
    ]
    line = standard.value("income_line", full.area_type)
    if full.income.per_person_month > line:
        bare = HouseholdFacts(
            members=tuple(Member() for _ in full.members),
            area_type=full.area_type,
            income=full.income,
        )
        assert score_household(bare, standard).category == known.category
