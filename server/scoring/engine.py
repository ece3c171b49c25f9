"""Classifying a household (pure): B2 deprivations, B1 score A, measured income → category.

Two methods tell whether a household's income is at or under the standard's line:

* **B1** (TT 07/2021 as reported in ``regulations.md`` §5.1): score A ≤ cut-off(area);
* **measured income** (§2.3, §3): income per person per month ≤ the income line(area).

Under the line, score B decides, inclusive at both boundaries: B ≥ 30 → poor, B < 30 →
near-poor.  Above the line the household is neither — or, for an agricultural household whose
measured income falls in the standard's band, of average living standard.  When both methods are
available, the standard's ``decisive_method`` chooses; the other verdict is computed, shown, and
a disagreement across the line is flagged (``methods_disagree``).  Unknown deprivations make B a
range; a verdict is given only when the whole range leads to it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from server.i18n import vi_number
from server.scoring.b1 import B1Result, PointTable, score_b1
from server.scoring.facts import HouseholdFacts
from server.scoring.rules import (
    NO_WORDS,
    SETTLED,
    STATUS_VI,
    FactWords,
    IndicatorResult,
    Outcome,
    evaluate,
)
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
class Figure:
    """One figure of the standard (or the B1 table) a result was measured against, with its
    status, and whether the verdict rests on it (``decides``) or it is only shown."""

    key: str  # "income_line", "b1_cutoff", "b1_table", "decisive_method", …
    vi: str
    value: Any
    status: str  # verified / secondary / inferred / provisional / missing; a table: its status
    decides: bool

    @property
    def provisional(self) -> bool:
        return self.status not in (*SETTLED, "official")


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
    # Added for issue 12 (defaults keep older callers and stored results readable):
    method: str | None = None  # "b1" | "income": the method that decided; None: neither could
    methods_disagree: bool = False  # both methods present, on different sides of the line
    income_line: int | None = None  # the standard's line for the household's area
    b1_given: bool = False  # score A was given by the caller, not computed from B1 answers
    b1_category: Category | None = None  # the B1 method's verdict (decisive or not)
    income_category: Category | None = None  # the measured-income verdict (decisive or not)
    figures: tuple[Figure, ...] = ()
    # What the verdict rests on that is not settled (figures and indicators), in words; the
    # result is provisional exactly when this is not empty.
    provisional_vi: tuple[str, ...] = ()


METHOD_VI = {
    "b1": "điểm B1 (điểm A ước tính thu nhập, phương pháp TT 07/2021)",
    "income": "thu nhập bình quân đầu người đo được",
}
NO_METHOD_VI = "chưa có điểm B1 (cùng ngưỡng điểm A) hay thu nhập đo được để so với chuẩn"


@dataclass(slots=True)
class _Verdict:
    """One method's verdict: its category, whether income is at or under the line, and why."""

    category: Category
    under_line: bool
    lines: list[str] = field(default_factory=list)


def score_household(  # noqa: PLR0912, PLR0915  (the decision table reads best as one chain)
    household: HouseholdFacts,
    standard: Standard,
    table: PointTable | None = None,
    *,
    b1_score: float | None = None,
    words: FactWords = NO_WORDS,
) -> ScoreResult:
    """Score and classify one household.  A pure function of its arguments.

    ``b1_score`` is a score A the caller already has (a paper questionnaire scored by hand,
    another system's result); it replaces computing score A from ``table``.  ``words`` are the
    labels of coded answers (fact → code → label, from the questionnaire the facts came from):
    reasons and explanation name a coded answer by its label, by its code when it has none.
    """
    area = household.area_type
    points = standard.value("points_per_deprivation")
    if household.screened_out and standard.value("phieu_a_stops_review"):
        return _screened_out(household, standard)
    indicators = tuple(evaluate(i, household, standard, words) for i in standard.indicators)
    deprived = sum(1 for r in indicators if r.outcome == Outcome.DEPRIVED)
    unknown = sum(1 for r in indicators if r.outcome == Outcome.UNKNOWN)
    score_b, score_b_max = points * deprived, points * (deprived + unknown)
    poor_from = standard.value("poor_if_score_b_at_least")
    known_area = area in ("rural", "urban")

    b1 = cutoff = line = None
    if (
        b1_score is None
        and table is not None
        and (table.standard, table.area_type)
        == (
            standard.code,
            area,
        )
    ):
        b1 = score_b1(household.b1, table, words)
    if known_area:
        cutoff = standard.value("b1_cutoff", area)
        line = standard.value("income_line", area)
    score_a = b1_score if b1_score is not None else (b1.total if b1 else None)
    income = household.income.per_person_month if household.income else None
    explanation: list[str] = []

    if household.screened_out:
        explanation.append(
            "Phiếu A ghi hộ thuộc tiêu chí dừng, nhưng chuẩn này không dừng rà soát ở Phiếu A."
        )
    if b1_score is not None:
        explanation.append("Điểm A do người gọi cung cấp (không tính từ câu trả lời B1).")
    b_range = (score_b, score_b_max, unknown, poor_from, deprived)
    by_b1 = by_income = None
    if known_area and score_a is not None and cutoff is not None:
        by_b1 = _b1_verdict(household, standard, area, score_a, cutoff, b_range)
    if known_area and income is not None and line is not None:
        by_income = _income_verdict(household, standard, area, income, line, b_range)

    method = None
    if by_b1 and by_income:
        method = standard.value("decisive_method")
    elif by_b1:
        method = "b1"
    elif by_income:
        method = "income"
    verdicts = {"b1": by_b1, "income": by_income}
    disagree = bool(by_b1 and by_income and by_b1.under_line != by_income.under_line)

    if not known_area:
        category = Category.NOT_ASSESSED
        explanation.append("Chưa biết hộ ở khu vực thành thị hay nông thôn.")
    elif method is None:
        category = Category.NOT_ASSESSED
        explanation.append(f"Chưa đánh giá được: {NO_METHOD_VI}.")
    else:
        decided = verdicts[method]
        category = decided.category
        if by_b1 and by_income:
            explanation.append(
                f"Phương pháp quyết định: {METHOD_VI[method]} (theo dữ liệu của chuẩn khi hộ có "
                "cả điểm B1 và thu nhập đo được)."
            )
        else:
            explanation.append(f"Phương pháp quyết định: {METHOD_VI[method]}.")
        explanation += decided.lines
        other_method = "income" if method == "b1" else "b1"
        other = verdicts[other_method]
        if other is not None:
            explanation.append(
                f"Đối chiếu theo {METHOD_VI[other_method]}: {CATEGORY_VI[other.category]} — "
                + " ".join(other.lines)
            )
        if disagree:
            explanation.append(
                "Hai phương pháp không thống nhất (một phương pháp cho thu nhập ≤ chuẩn, phương "
                "pháp kia > chuẩn): cần xem xét tại cuộc họp dân."
            )
    if known_area and by_b1 is None and b1_score is None:
        if table is None:
            explanation.append(
                "Không có bảng điểm B1 của chuẩn này để tính điểm A: B1 chưa được đánh giá."
            )
        elif b1 is None:
            explanation.append("Bảng điểm B1 không thuộc chuẩn/khu vực của hộ.")
        elif cutoff is None:
            explanation.append("Chuẩn này chưa có ngưỡng điểm A chính thức.")
        else:
            items = {line.item: line.vi or line.item for line in b1.lines}
            if b1.missing:
                explanation.append(
                    "Thiếu câu trả lời B1: " + ", ".join(items[i] for i in b1.missing) + "."
                )
            if b1.invalid:
                explanation.append(
                    "Câu trả lời B1 không có trong bảng điểm: "
                    + ", ".join(items[i] for i in b1.invalid)
                    + "."
                )
    elif known_area and by_b1 is None and cutoff is None:
        explanation.append("Chuẩn này chưa có ngưỡng điểm A chính thức.")
    decided = verdicts[method] if method and known_area else None
    under = bool(decided and decided.under_line and category != Category.UNDETERMINED)
    for result in indicators:
        if result.outcome == Outcome.DEPRIVED:
            explanation.append(f"Thiếu hụt {result.name_vi}: " + "; ".join(result.reasons))
        elif result.outcome == Outcome.UNKNOWN:
            matters = category in (Category.UNDETERMINED, Category.NOT_ASSESSED)
            note = "" if matters else " (không ảnh hưởng kết quả)"
            explanation.append(
                f"Chưa xác định {result.name_vi}{note}: " + "; ".join(result.reasons)
            )

    low_income = _low_income_worker(household, standard, category, explanation)
    figures = _figures(
        household, standard, area if known_area else None, table, b1_score, method, category,
        both=bool(by_b1 and by_income), under=under, low_income=low_income,
    )  # fmt: skip
    basis = [f"{f.vi} ({STATUS_VI[f.status]})" for f in figures if f.decides and f.provisional]
    basis += [
        f"chỉ số {r.name_vi}: {', '.join(r.provisional_vi)}"
        for r in _deciding_indicators(category, under, indicators, points, poor_from)
    ]
    if basis:
        explanation.append("Kết quả tạm thời vì dựa trên: " + "; ".join(basis) + ".")
    provisional = bool(basis)
    return ScoreResult(
        category=category,
        standard=standard.code,
        area_type=area,
        table_code=table.code if table and b1_score is None else None,
        table_version=table.version if table and b1_score is None else None,
        table_disclaimer_vi=table.disclaimer_vi if table and b1_score is None else None,
        score_a=score_a,
        cutoff=cutoff,
        b1=b1,
        indicators=indicators,
        deprivations=deprived,
        undetermined_indicators=unknown,
        score_b=score_b,
        score_b_max=score_b_max,
        income_per_person_month=income,
        low_income_worker_household=low_income,
        explanation_vi=tuple(explanation),
        provisional=provisional,
        method=method,
        methods_disagree=disagree,
        income_line=line,
        b1_given=b1_score is not None,
        b1_category=by_b1.category if by_b1 else None,
        income_category=by_income.category if by_income else None,
        figures=figures,
        provisional_vi=tuple(basis),
    )


def _figures(
    household: HouseholdFacts,
    standard: Standard,
    area: str | None,
    table: PointTable | None,
    b1_score: float | None,
    method: str | None,
    category: Category,
    *,
    both: bool,
    under: bool,
    low_income: bool | None,
) -> tuple[Figure, ...]:
    """Every figure the result was measured against, marked with whether the verdict rests on
    it — so a result is provisional only when what decided it is."""
    if area is None:
        return ()
    data = standard.data
    figures = [
        Figure(
            "income_line", "chuẩn thu nhập", data["income_line"][area]["value"],
            data["income_line"][area]["status"], method == "income",
        ),
        Figure(
            "b1_cutoff", "ngưỡng điểm A", data["b1_cutoff"][area]["value"],
            data["b1_cutoff"][area]["status"], method == "b1",
        ),
    ]  # fmt: skip
    if table is not None and b1_score is None:
        figures.append(
            Figure(
                "b1_table", f"bảng điểm B1 {table.code} ({table.version})", table.code,
                table.status, method == "b1",
            )
        )  # fmt: skip
    entry = data["decisive_method"]
    figures.append(Figure("decisive_method", "phương pháp quyết định", entry["value"],
                          entry["status"], both))  # fmt: skip
    for key, words in (
        ("poor_if_score_b_at_least", "ngưỡng điểm B của hộ nghèo"),
        ("points_per_deprivation", "điểm mỗi chỉ số thiếu hụt"),
    ):
        figures.append(Figure(key, words, data[key]["value"], data[key]["status"], under))
    band = data["average_living_standard"][area]
    income = household.income
    band_used = category == Category.AVERAGE or (
        category == Category.NEITHER and income is not None and income.agricultural
        and band["above"] is not None
    )  # fmt: skip
    figures.append(
        Figure(
            "average_living_standard", "khoảng thu nhập hộ có mức sống trung bình",
            [band["above"], band["up_to"]], band["status"], band_used,
        )
    )  # fmt: skip
    worker = data["low_income_worker_line"][area]
    if low_income is not None:  # it decides the low-income flag, not the category
        figures.append(
            Figure("low_income_worker_line", "ngưỡng lao động thu nhập thấp",
                   worker["up_to"], worker["status"], False)
        )  # fmt: skip
    return tuple(figures)


def _deciding_indicators(
    category: Category,
    under: bool,
    indicators: tuple[IndicatorResult, ...],
    points: int,
    poor_from: int,
) -> list[IndicatorResult]:
    """The provisional indicators the verdict rests on.  Above the line none do; a poor
    household rests on its provisional deprivations only if the settled ones do not reach the
    threshold; a near-poor one on its provisional non-deprivations only if counting them
    deprived would reach it."""
    if not under:
        return []
    if category == Category.POOR:
        settled = sum(1 for r in indicators if r.outcome == Outcome.DEPRIVED and not r.provisional)
        if points * settled >= poor_from:
            return []
        return [r for r in indicators if r.outcome == Outcome.DEPRIVED and r.provisional]
    if category == Category.NEAR_POOR:
        counted = sum(1 for r in indicators if r.outcome != Outcome.NOT_DEPRIVED)
        doubtful = [r for r in indicators if r.outcome == Outcome.NOT_DEPRIVED and r.provisional]
        if points * (counted + len(doubtful)) < poor_from:
            return []
        return doubtful
    return []


def _under_line(score_b: int, score_b_max: int, poor_from: int) -> Category:
    """Income at or under the line: poor or near-poor by score B, when its range decides."""
    if score_b >= poor_from:
        return Category.POOR
    if score_b_max < poor_from:
        return Category.NEAR_POOR
    return Category.UNDETERMINED


def _b_words(category: Category, b_range: tuple[int, int, int, int, int]) -> str:
    score_b, score_b_max, unknown, poor_from, _deprived = b_range
    if category == Category.POOR:
        return f"điểm B = {score_b} ≥ {poor_from}: hộ nghèo."
    if category == Category.NEAR_POOR:
        return f"điểm B = {score_b} < {poor_from}: hộ cận nghèo."
    return (
        f"điểm B từ {score_b} đến {score_b_max} tuỳ {unknown} chỉ số chưa xác định: "
        "cần bổ sung thông tin."
    )


def _b1_verdict(
    household: HouseholdFacts,
    standard: Standard,
    area: str,
    score_a: float,
    cutoff: float,
    b_range: tuple[int, int, int, int, int],
) -> _Verdict:
    """Score A against the cut-off (TT 07/2021)."""
    if score_a > cutoff:
        lines = [f"Điểm A = {score_a:g} > {cutoff:g}: thu nhập trên chuẩn."]
        category = _by_income(household, standard, area, lines, default=Category.NEITHER)
        return _Verdict(category, False, lines)
    category = _under_line(*b_range[:2], b_range[3])
    joiner = "; " if category == Category.UNDETERMINED else " và "
    return _Verdict(
        category, True, [f"Điểm A = {score_a:g} ≤ {cutoff:g}{joiner}{_b_words(category, b_range)}"]
    )


def _income_verdict(
    household: HouseholdFacts,
    standard: Standard,
    area: str,
    income: int,
    line: int,
    b_range: tuple[int, int, int, int, int],
) -> _Verdict:
    """Measured income per person per month against the standard's income line."""
    deprived = b_range[4]
    if income > line:
        lines = [
            f"Thu nhập đo được {vi_number(income)} đ/người/tháng > chuẩn nghèo "
            f"{vi_number(line)} đ: không nghèo, không cận nghèo."
        ]
        category = _by_income(household, standard, area, lines, default=Category.NEITHER)
        return _Verdict(category, False, lines)
    category = _under_line(*b_range[:2], b_range[3])
    return _Verdict(
        category,
        True,
        [
            f"Thu nhập đo được {vi_number(income)} đ/người/tháng ≤ chuẩn nghèo "
            f"{vi_number(line)} đ; {deprived} chỉ số thiếu hụt, {_b_words(category, b_range)}"
        ],
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
        income_line=(
            standard.value("income_line", household.area_type)
            if household.area_type in ("rural", "urban")
            else None
        ),
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
            f"Thu nhập đo được {vi_number(income.per_person_month)} đ/người/tháng trong khoảng "
            f"({vi_number(band['above'])}; {vi_number(band['up_to'])}]: hộ có mức sống trung bình."
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
            f"Thu nhập {vi_number(income)} đ/người/tháng ≤ {vi_number(limit)} đ: thành viên có thể "
            "được xác định là "
            "người lao động có thu nhập thấp."
        )
        return True
    return False
