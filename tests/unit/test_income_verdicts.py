"""Measured income classifies under both standards; B1 and income side by side (issue 12).

Expected values come from the law's figures in ``shared/domain/regulations.md`` — written here
as literals, never read from the standards files the engine uses:

* 2022–2025 (§2.1, §2.3): income lines 1,500,000 đ rural / 2,000,000 đ urban; poor ⇔ income ≤
  line and ≥ 3 deprivations (B ≥ 30), near-poor ⇔ income ≤ line and B < 30; average living
  standard (agricultural households only) (1,500,000; 2,250,000] rural, (2,000,000; 3,000,000]
  urban; B1 cut-offs 140 / 175 (§5.1).
* 2027–2030 (§0.2, §3): lines 2,200,000 đ rural / 2,800,000 đ urban, same B rule; no average
  band and no B1 cut-off published.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.scoring.engine import Category, score_household
from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member
from server.scoring.standards import standard_for_year
from tests.unit.test_scoring import table
from tests.unit.test_scoring_properties import WORSEN, households

S2022 = standard_for_year(2026)
S2027 = standard_for_year(2027)
STANDARDS = {"2022_2025": S2022, "2027_2030": S2027}

# Order of the verdicts: poor < near-poor < average / neither (richer to the right).
RANK = {
    Category.POOR: 0,
    Category.NEAR_POOR: 1,
    Category.AVERAGE: 2,
    Category.NEITHER: 2,
}

MEMBER = Member(
    name="Y Hlơn",
    age=35,
    sex="2",
    relationship="chu_ho",
    work_status="nong_nghiep",
    disability="khong",
    serious_illness=False,
    health_insurance=True,
    malnourished=None,
    in_school=False,
    education="thpt",
    qualification="khong",
    employer_training=False,
    pension=False,
)


def household(area: str, deprivations: int, **kw) -> HouseholdFacts:
    """A one-person household deprived in exactly 0–3 indicators (of both standards)."""
    base = {
        "members": (MEMBER,),
        "area_type": area,
        "floor_area": 30.0,
        "wall": "gach_da",
        "frame": "btct",
        "roof": "ngoi",
        "water_source": "nuoc_may",
        "latrine": "tu_hoai",
        "telecom_use": True,
        "info_devices": frozenset({"tivi"}),
        "digital_use": frozenset({"internet"}),
        "waste": "thu_gom",
    }
    worse = [{"water_source": "nuoc_mat"}, {"latrine": "khong_co"}, {"telecom_use": False}]
    for change in worse[:deprivations]:
        base |= change
    return HouseholdFacts(**(base | kw))


def with_income(area, deprivations, income, agricultural=False, **kw):
    return household(area, deprivations, income=MeasuredIncome(income, agricultural), **kw)


POOR, NEAR, AVG, NEITHER = (
    Category.POOR,
    Category.NEAR_POOR,
    Category.AVERAGE,
    Category.NEITHER,
)

# (standard, area, income, agricultural, score B, expected): each line exactly and one đồng over,
# each average band's upper end exactly and one đồng over.
BOUNDARIES = [
    ("2022_2025", "rural", 1_500_000, ag, b, POOR if b == 30 else NEAR)
    for ag in (True, False)
    for b in (20, 30)
] + [
    ("2022_2025", "rural", 1_500_001, True, 20, AVG),
    ("2022_2025", "rural", 1_500_001, True, 30, AVG),
    ("2022_2025", "rural", 1_500_001, False, 20, NEITHER),
    ("2022_2025", "rural", 1_500_001, False, 30, NEITHER),
    ("2022_2025", "rural", 2_250_000, True, 30, AVG),
    ("2022_2025", "rural", 2_250_001, True, 30, NEITHER),
    ("2022_2025", "rural", 2_250_000, False, 30, NEITHER),
]
BOUNDARIES += [
    ("2022_2025", "urban", 2_000_000, ag, b, POOR if b == 30 else NEAR)
    for ag in (True, False)
    for b in (20, 30)
] + [
    ("2022_2025", "urban", 2_000_001, True, 20, AVG),
    ("2022_2025", "urban", 2_000_001, True, 30, AVG),
    ("2022_2025", "urban", 2_000_001, False, 20, NEITHER),
    ("2022_2025", "urban", 2_000_001, False, 30, NEITHER),
    ("2022_2025", "urban", 3_000_000, True, 30, AVG),
    ("2022_2025", "urban", 3_000_001, True, 30, NEITHER),
    ("2022_2025", "urban", 3_000_000, False, 20, NEITHER),
]
BOUNDARIES += [
    ("2027_2030", area, line, ag, b, POOR if b == 30 else NEAR)
    for area, line in (("rural", 2_200_000), ("urban", 2_800_000))
    for ag in (True, False)
    for b in (20, 30)
] + [
    # No average band is published for 2027–2030: above the line is "neither", farming or not.
    ("2027_2030", area, line + 1, ag, b, NEITHER)
    for area, line in (("rural", 2_200_000), ("urban", 2_800_000))
    for ag in (True, False)
    for b in (20, 30)
]


@pytest.mark.parametrize(
    ("standard", "area", "income", "agricultural", "b", "expected"), BOUNDARIES
)
def test_measured_income_at_and_over_every_line(standard, area, income, agricultural, b, expected):
    facts = with_income(area, b // 10, income, agricultural)
    result = score_household(facts, STANDARDS[standard], None)
    assert (result.score_b, result.undetermined_indicators) == (b, 0)
    assert result.category == expected
    assert result.method == "income"
    assert result.income_category == expected and result.b1_category is None
    assert result.methods_disagree is False


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


@pytest.mark.parametrize(
    ("standard", "area", "line"),
    [
        ("2022_2025", "rural", 1_500_000),
        ("2022_2025", "urban", 2_000_000),
        ("2027_2030", "rural", 2_200_000),
        ("2027_2030", "urban", 2_800_000),
    ],
)
def test_the_result_carries_the_line_and_the_explanation_names_method_line_income_count(
    standard, area, line
):
    result = score_household(with_income(area, 3, line), STANDARDS[standard], None)
    assert result.income_line == line
    assert result.explanation_vi[0] == (
        "Phương pháp quyết định: thu nhập bình quân đầu người đo được."
    )
    # Amounts as Vietnamese writes them: 1.500.000 (the comma is the decimal mark).
    assert result.explanation_vi[1] == (
        f"Thu nhập đo được {vnd(line)} đ/người/tháng ≤ chuẩn nghèo {vnd(line)} đ; 3 chỉ số thiếu "
        "hụt, điểm B = 30 ≥ 30: hộ nghèo."
    )
    over = score_household(with_income(area, 0, line + 1), STANDARDS[standard], None)
    assert over.explanation_vi[1].startswith(
        f"Thu nhập đo được {vnd(line + 1)} đ/người/tháng > chuẩn nghèo {vnd(line)} đ"
    )


def test_income_only_was_not_assessed_before_and_is_classified_now():
    """The issue's finding: measured income alone gave "chưa đánh giá"."""
    poor = score_household(with_income("rural", 3, 1_000_000), S2022, None)
    assert poor.category == Category.POOR
    above = score_household(with_income("urban", 3, 5_000_000), S2022, None)
    assert above.category == Category.NEITHER  # not "chua_danh_gia"
    without = score_household(household("rural", 3), S2022, None)
    assert (without.category, without.method) == (Category.NOT_ASSESSED, None)


def test_unknown_deprivations_leave_income_under_the_line_undetermined_only_when_they_matter():
    straddles = with_income("rural", 2, 1_500_000, roof=None, wall=None, frame=None)
    result = score_household(straddles, S2022, None)
    assert (result.score_b, result.score_b_max) == (20, 30)
    assert result.category == Category.UNDETERMINED
    already_poor = with_income("rural", 3, 1_500_000, floor_area=None)
    assert score_household(already_poor, S2022, None).category == Category.POOR
    # Above the line the deprivations do not matter at all.
    above = with_income("rural", 2, 1_500_001, roof=None, wall=None, frame=None)
    assert score_household(above, S2022, None).category == Category.NEITHER


# --- both methods present -------------------------------------------------------------------


def test_2022_b1_decides_when_both_present_and_a_disagreement_is_flagged():
    # Score A 140 ≤ 140 (under the line) but measured income 1,500,001 > 1,500,000 (over).
    facts = with_income("rural", 3, 1_500_001, agricultural=True, b1={"a": "x"})
    result = score_household(facts, S2022, table(140))
    assert (result.method, result.category) == ("b1", Category.POOR)
    assert result.b1_category == Category.POOR
    assert result.income_category == Category.AVERAGE  # shown, not deciding
    assert result.methods_disagree is True
    assert any("không thống nhất" in line for line in result.explanation_vi)
    assert any(line.startswith("Đối chiếu theo thu nhập") for line in result.explanation_vi)

    # The other way round: A 140.5 > 140 but income 1,500,000 ≤ the line.
    facts = with_income("rural", 3, 1_500_000, b1={"a": "x"})
    result = score_household(facts, S2022, table(140.5))
    assert (result.method, result.category, result.income_category) == (
        "b1",
        Category.NEITHER,
        Category.POOR,
    )
    assert result.methods_disagree is True


def test_both_methods_on_the_same_side_do_not_disagree():
    facts = with_income("urban", 2, 2_000_000, b1={"a": "x"})
    result = score_household(facts, S2022, table(175, "urban"))
    assert (result.method, result.category, result.income_category) == (
        "b1",
        Category.NEAR_POOR,
        Category.NEAR_POOR,
    )
    assert result.methods_disagree is False
    assert not any("không thống nhất" in line for line in result.explanation_vi)


def test_2027_has_no_b1_cut_off_so_income_decides_even_with_a_table():
    facts = with_income("rural", 3, 2_200_000, b1={"a": "x"})
    result = score_household(facts, S2027, table(100, standard="2027_2030"))
    assert (result.method, result.category, result.b1_category) == ("income", POOR, None)
    assert result.cutoff is None and result.provisional


def published(decisive: str, cutoff: float = 150):
    """The 2027–2030 standard as it would be once a (here: labelled demo) B1 cut-off and the
    decisive method are loaded as data — no code change."""
    data = dict(S2027.data)
    data["b1_cutoff"] = {
        area: {"value": cutoff, "status": "provisional", "source": "demo (test)"}
        for area in ("rural", "urban")
    }
    data["decisive_method"] = {"value": decisive, "status": "provisional", "source": "demo"}
    return dataclasses.replace(S2027, data=data)


def test_2027_cut_offs_and_method_loaded_as_data_switch_the_decision():
    facts = with_income("rural", 3, 2_200_001, b1={"a": "x"})  # income over 2,200,000
    demo = table(150, standard="2027_2030")  # A = 150 ≤ the demo cut-off 150
    by_income = score_household(facts, published("income"), demo)
    assert (by_income.method, by_income.category, by_income.b1_category) == (
        "income",
        NEITHER,
        POOR,
    )
    by_b1 = score_household(facts, published("b1"), demo)
    assert (by_b1.method, by_b1.category, by_b1.income_category) == ("b1", POOR, NEITHER)
    assert by_income.methods_disagree and by_b1.methods_disagree
    assert by_b1.provisional and by_b1.table_disclaimer_vi  # the demo label is carried


def test_a_given_b1_score_is_used_at_the_cut_off_inclusive():
    at = score_household(household("rural", 3), S2022, None, b1_score=140)
    assert (at.method, at.category, at.b1_given, at.score_a) == ("b1", POOR, True, 140)
    assert "Điểm A do người gọi cung cấp (không tính từ câu trả lời B1)." in at.explanation_vi
    over = score_household(household("urban", 3), S2022, None, b1_score=175.5)
    assert (over.category, over.cutoff) == (NEITHER, 175)
    near = score_household(household("urban", 2), S2022, None, b1_score=175)
    assert near.category == NEAR


# --- properties ----------------------------------------------------------------------------

incomes = st.integers(0, 4_000_000)


@settings(max_examples=300, deadline=None)
@given(
    households,
    st.sampled_from(list(STANDARDS.values())),
    incomes,
    st.integers(0, 2_000_000),
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 300)),
)
def test_more_income_never_makes_a_household_poorer(facts, standard, income, more, ag, score_a):
    base = dataclasses.replace(facts, income=MeasuredIncome(income, ag))
    richer = dataclasses.replace(facts, income=MeasuredIncome(income + more, ag))
    before = score_household(base, standard, None, b1_score=score_a)
    after = score_household(richer, standard, None, b1_score=score_a)
    if before.category in RANK and after.category in RANK:
        assert RANK[after.category] >= RANK[before.category]
    if before.category in (Category.NEITHER, Category.AVERAGE):
        assert after.category in (Category.NEITHER, Category.AVERAGE)


@settings(max_examples=300, deadline=None)
@given(households, st.floats(0, 300), st.floats(0, 100), incomes, st.booleans())
def test_a_higher_b1_score_never_makes_a_household_poorer(facts, score_a, more, income, ag):
    facts = dataclasses.replace(facts, income=MeasuredIncome(income, ag))
    before = score_household(facts, S2022, None, b1_score=score_a)
    after = score_household(facts, S2022, None, b1_score=score_a + more)
    if before.category in RANK and after.category in RANK:
        assert RANK[after.category] >= RANK[before.category]


@settings(max_examples=300, deadline=None)
@given(
    households,
    st.sampled_from(list(STANDARDS.values())),
    st.sampled_from(WORSEN),
    incomes,
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 300)),
)
def test_more_deprivations_never_make_a_household_richer(
    facts, standard, change, income, ag, score_a
):
    facts = dataclasses.replace(facts, income=MeasuredIncome(income, ag))
    worse = dataclasses.replace(facts, **change)
    before = score_household(facts, standard, None, b1_score=score_a)
    after = score_household(worse, standard, None, b1_score=score_a)
    if before.category in RANK and after.category in RANK:
        assert RANK[after.category] <= RANK[before.category]
    assert after.method == before.method  # deprivations never change which method decides
