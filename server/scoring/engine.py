"""Classifying a household (pure): B2 deprivations, B1 score A, measured income → category.

The rule (TT 07/2021 as reported in ``regulations.md`` §5.1, inclusive at both boundaries):
poor ⇔ A ≤ cut-off(area) and B ≥ 30; near-poor ⇔ A ≤ cut-off(area) and B < 30; above the
cut-off neither.  Without a B1 table (or with B1 answers missing) there is no verdict from B1.
An agricultural household's measured income classifies it as average living standard when it
falls in the standard's band.  Unknown deprivations make B a range; a verdict is given only when
the whole range leads to it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from server.scoring.b1 import B1Result, PointTable, score_b1
from server.scoring.facts import HouseholdFacts
from server.scoring.rules import IndicatorResult, Outcome, evaluate
from server.scoring.standards import Standard


class Category(enum.StrEnum):
    POOR = "ngheo"
    NEAR_POOR = "can_ngheo"
    AVERAGE = "muc_song_trung_binh"
    NEITHER = "khong_ngheo_khong_can_ngheo"
    SCREENED_OUT = "dung_o_phieu_a"  # Phiếu A: clearly not poor, not scored further
    NOT_ASSESSED = "chua_danh_gia"  # no B1 table / B1 answers: no verdict from B1
    UNDETERMINED = "chua_xac_dinh"  # missing facts decide between poor and near-poor


CATEGORY_VI = {
    Category.POOR: "Hộ nghèo",
    Category.NEAR_POOR: "Hộ cận nghèo",
    Category.AVERAGE: "Hộ có mức sống trung bình",
    Category.NEITHER: "Không nghèo, không cận nghèo",
    Category.SCREENED_OUT: "Dừng ở Phiếu A (không thuộc diện rà soát Phiếu B)",
    Category.NOT_ASSESSED: "Chưa đánh giá được (chưa có bảng điểm B1 hoặc thiếu câu trả lời B1)",
    Category.UNDETERMINED: "Chưa xác định được (thiếu thông tin để tính điểm B)",
}


@dataclass(frozen=True, slots=True)
class ScoreResult:
    category: Category
    standard: str
    area_type: str | None
    table_code: str | None
    table_version: str | None
    table_disclaimer_vi: str | None
    score_a: float | None
    cutoff: float | None
    b1: B1Result | None
    indicators: tuple[IndicatorResult, ...]
    deprivations: int
    undetermined_indicators: int
    score_b: int
    score_b_max: int
    income_per_person_month: int | None
    # ND 30/2025: a household that is neither poor nor near-poor whose measured income is at or
    # under the low-income-worker line; None when it cannot be said.
    low_income_worker_household: bool | None
    explanation_vi: tuple[str, ...]
    provisional: bool


def score_household(  # noqa: PLR0912  (the decision table reads best as one chain)
    household: HouseholdFacts, standard: Standard, table: PointTable | None = None
) -> ScoreResult:
    """Score and classify one household.  A pure function of its arguments."""
    area = household.area_type
    points = standard.value("points_per_deprivation")
    if household.screened_out and standard.value("phieu_a_stops_review"):
        return _screened_out(household, standard)
    indicators = tuple(evaluate(i, household, standard) for i in standard.indicators)
    deprived = sum(1 for r in indicators if r.outcome == Outcome.DEPRIVED)
    unknown = sum(1 for r in indicators if r.outcome == Outcome.UNKNOWN)
    score_b, score_b_max = points * deprived, points * (deprived + unknown)
    poor_from = standard.value("poor_if_score_b_at_least")

    b1 = cutoff = None
    if table is not None and (table.standard, table.area_type) == (standard.code, area):
        b1 = score_b1(household.b1, table)
    if area in ("rural", "urban"):
        cutoff = standard.value("b1_cutoff", area)
    score_a = b1.total if b1 else None
    explanation: list[str] = []

    if household.screened_out:
        explanation.append(
            "Phiếu A ghi hộ thuộc tiêu chí dừng, nhưng chuẩn này không dừng rà soát ở Phiếu A."
        )
    if area not in ("rural", "urban"):
        category = Category.NOT_ASSESSED
        explanation.append("Chưa biết hộ ở khu vực thành thị hay nông thôn.")
    elif score_a is None or cutoff is None:
        category = _by_income(household, standard, area, explanation)
        if table is None:
            explanation.append("Xã chưa có bảng điểm B1 cho chuẩn này: B1 chưa được đánh giá.")
        elif b1 is None:
            explanation.append("Bảng điểm B1 không thuộc chuẩn/khu vực của hộ.")
        elif cutoff is None:
            explanation.append("Chuẩn này chưa có ngưỡng điểm A chính thức.")
        else:
            explanation.append("Thiếu câu trả lời B1: " + ", ".join(b1.missing) + ".")
    elif score_a > cutoff:
        category = _by_income(household, standard, area, explanation, default=Category.NEITHER)
        explanation.insert(0, f"Điểm A = {score_a:g} > {cutoff:g}: thu nhập trên chuẩn.")
    elif score_b >= poor_from:
        category = Category.POOR
        explanation.append(
            f"Điểm A = {score_a:g} ≤ {cutoff:g} và điểm B = {score_b} ≥ {poor_from}: hộ nghèo."
        )
    elif score_b_max < poor_from:
        category = Category.NEAR_POOR
        explanation.append(
            f"Điểm A = {score_a:g} ≤ {cutoff:g} và điểm B = {score_b} < {poor_from}: hộ cận nghèo."
        )
    else:
        category = Category.UNDETERMINED
        explanation.append(
            f"Điểm A = {score_a:g} ≤ {cutoff:g}; điểm B từ {score_b} đến {score_b_max} tuỳ "
            f"{unknown} chỉ số chưa xác định: cần bổ sung thông tin."
        )
    for result in indicators:
        if result.outcome == Outcome.DEPRIVED:
            explanation.append(f"Thiếu hụt {result.name_vi}: " + "; ".join(result.reasons))
        elif result.outcome == Outcome.UNKNOWN:
            explanation.append(f"Chưa xác định {result.name_vi}: " + "; ".join(result.reasons))

    low_income = _low_income_worker(household, standard, category, explanation)
    provisional = any(r.status not in ("verified", "secondary") for r in indicators) or (
        table is not None and table.status != "official"
    )
    return ScoreResult(
        category=category,
        standard=standard.code,
        area_type=area,
        table_code=table.code if table else None,
        table_version=table.version if table else None,
        table_disclaimer_vi=table.disclaimer_vi if table else None,
        score_a=score_a,
        cutoff=cutoff,
        b1=b1,
        indicators=indicators,
        deprivations=deprived,
        undetermined_indicators=unknown,
        score_b=score_b,
        score_b_max=score_b_max,
        income_per_person_month=household.income.per_person_month if household.income else None,
        low_income_worker_household=low_income,
        explanation_vi=tuple(explanation),
        provisional=provisional,
    )


def _screened_out(household: HouseholdFacts, standard: Standard) -> ScoreResult:
    """Phiếu A stopped the review: no B1/B2 verdict is computed (the household is not
    reviewed further), and the result says why."""
    reasons = household.screening_reasons or "tiêu chí dừng của Phiếu A"
    return ScoreResult(
        category=Category.SCREENED_OUT,
        standard=standard.code,
        area_type=household.area_type,
        table_code=None,
        table_version=None,
        table_disclaimer_vi=None,
        score_a=None,
        cutoff=None,
        b1=None,
        indicators=(),
        deprivations=0,
        undetermined_indicators=0,
        score_b=0,
        score_b_max=0,
        income_per_person_month=household.income.per_person_month if household.income else None,
        low_income_worker_household=None,
        explanation_vi=(f"Phiếu A: hộ thuộc tiêu chí dừng ({reasons}); không rà soát Phiếu B.",),
        # The Phiếu A criteria shipped with rasoat are illustrative (regulations.md §5.2).
        provisional=True,
    )


def _by_income(
    household: HouseholdFacts,
    standard: Standard,
    area: str,
    explanation: list[str],
    default: Category = Category.NOT_ASSESSED,
) -> Category:
    """Average living standard from measured income (agricultural households only)."""
    income = household.income
    band = standard.data["average_living_standard"][area]
    if income is None or not income.agricultural or band["above"] is None:
        return default
    if band["above"] < income.per_person_month <= band["up_to"]:
        explanation.append(
            f"Thu nhập đo được {income.per_person_month:,} đ/người/tháng trong khoảng "
            f"({band['above']:,}; {band['up_to']:,}]: hộ có mức sống trung bình."
        )
        return Category.AVERAGE
    return default


def _low_income_worker(
    household: HouseholdFacts, standard: Standard, category: Category, explanation: list[str]
) -> bool | None:
    """ND 30/2025: not poor or near-poor, measured income at or under the line."""
    line = standard.data["low_income_worker_line"].get(household.area_type or "", {})
    limit = line.get("up_to")
    if household.income is None or limit is None:
        return None
    if category not in (Category.NEITHER, Category.AVERAGE):
        return None
    income = household.income.per_person_month
    if income <= limit:
        explanation.append(
            f"Thu nhập {income:,} đ/người/tháng ≤ {limit:,}: thành viên có thể được xác định là "
            "người lao động có thu nhập thấp."
        )
        return True
    return False
