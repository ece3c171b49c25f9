"""``provisional`` per indicator and per figure (issue 12): a result is provisional only when
what decided it is unsettled, never because an unrelated figure is.

Statuses come from the standards' data, which records regulations.md's tags: the 2022–2025
income lines and B1 cut-offs (140 rural / 175 urban) are verified; the 2027–2030 lines
(2,200,000 / 2,800,000 đ) are verified; the 2027–2030 indicators are provisional.
"""

from __future__ import annotations

import pytest

from server.scoring.engine import Category, score_household
from server.scoring.facts import MeasuredIncome
from server.scoring.standards import standard_for_year
from tests.unit.test_income_verdicts import published
from tests.unit.test_scoring import household, table, three_deprivations

S2022, S2027 = standard_for_year(2026), standard_for_year(2027)


def figure(result, key):
    return next(f for f in result.figures if f.key == key)


def test_above_the_cut_off_the_provisional_indicators_do_not_make_the_result_provisional():
    # A = 150 > 140 (rural cut-off, verified): neither, whatever the indicators say.
    result = score_household(three_deprivations(), S2022, b1_score=150)
    assert result.category == Category.NEITHER
    assert any(r.provisional for r in result.indicators)  # e.g. bhyt is inferred
    assert (result.provisional, result.provisional_vi) == (False, ())
    cutoff = figure(result, "b1_cutoff")
    assert (cutoff.value, cutoff.status, cutoff.decides, cutoff.provisional) == (
        140,
        "verified",
        True,
        False,
    )
    assert figure(result, "poor_if_score_b_at_least").decides is False


def test_poor_on_settled_deprivations_is_not_provisional():
    # Water, latrine (secondary) and telecom (inferred) deprived: only 2 settled → provisional.
    shaky = score_household(three_deprivations(), S2022, b1_score=100)
    assert shaky.category == Category.POOR
    assert shaky.provisional
    assert shaky.provisional_vi == ("chỉ số Sử dụng dịch vụ viễn thông: tiêu chí (suy luận, "
                                    "chưa có văn bản)",)  # fmt: skip
    assert shaky.explanation_vi[-1].startswith("Kết quả tạm thời vì dựa trên: chỉ số Sử dụng")
    # Water, latrine and floor area (all secondary): settled.
    solid = household(water_source="nuoc_mat", latrine="khong_co", floor_area=10.0)
    result = score_household(solid, S2022, b1_score=100)
    assert (result.category, result.deprivations) == (Category.POOR, 3)
    assert (result.provisional, result.provisional_vi) == (False, ())


def test_near_poor_is_provisional_only_if_a_doubtful_indicator_could_reach_three():
    # 2 deprivations and unsettled indicators not deprived: one of them could make it poor.
    two = household(water_source="nuoc_mat", latrine="khong_co")
    result = score_household(two, S2022, b1_score=100)
    assert result.category == Category.NEAR_POOR
    assert result.provisional
    assert any("Bảo hiểm y tế" in part for part in result.provisional_vi)
    assert not any("Nguồn nước" in part for part in result.provisional_vi)


def test_a_demo_b1_table_makes_a_b1_verdict_provisional_and_says_which():
    result = score_household(household(), S2022, table(150))  # A 150 > 140: neither
    assert result.category == Category.NEITHER
    assert result.provisional
    assert result.provisional_vi == ("bảng điểm B1 t150 (1) (minh họa)",)
    assert figure(result, "b1_table").status == "demo"


def test_2027_income_over_the_verified_line_is_not_provisional_but_the_method_choice_is():
    income = MeasuredIncome(per_person_month=2_200_001, agricultural=False)
    alone = score_household(household(income=income, b1={}), S2027)
    assert alone.category == Category.NEITHER and alone.method == "income"
    assert (alone.provisional, figure(alone, "income_line").value) == (False, 2_200_000)
    # A B1 score alone cannot decide: no 2027–2030 cut-off is published.
    assert score_household(household(income=income, b1={}), S2027, b1_score=10).method == "income"
    # Once cut-offs are loaded as data, both methods are present and the choice of income as
    # the deciding one (inferred in the data) is what the verdict rests on.
    both = score_household(household(income=income, b1={}), published("income"), b1_score=10)
    assert (both.method, both.methods_disagree) == ("income", True)
    assert both.provisional_vi == ("phương pháp quyết định (tạm thời)",)
    # Under 2022–2025 the choice (B1 decides) is from secondary sources: settled.
    income_2022 = MeasuredIncome(per_person_month=1_500_001, agricultural=False)
    settled = score_household(household(income=income_2022, b1={}), S2022, b1_score=150)
    assert (settled.method, settled.provisional) == ("b1", False)


@pytest.mark.parametrize("standard", [S2022, S2027])
def test_every_indicator_reports_its_own_status(standard):
    result = score_household(household(), standard, b1_score=100)
    for indicator in result.indicators:
        spec = next(i for i in standard.indicators if i["code"] == indicator.code)
        if spec["status"] not in ("verified", "secondary"):
            assert indicator.provisional, indicator.code
    if standard is S2022:  # settled rules without unsettled definitions are not provisional
        settled = {r.code for r in result.indicators if not r.provisional}
        assert {"nuoc_sinh_hoat", "nha_tieu", "dien_tich_nha"} <= settled
