"""The scoring engine on hand-worked households, every indicator at its edges.

Rules as in ``forms/standards/2022_2025.yaml`` (status: secondary/inferred — provisional where
marked); the B1 table here is built in the test, so the cut-off boundary is exact.
"""

from __future__ import annotations

import dataclasses

import pytest

from server.scoring.b1 import load_table_yaml, score_b1, table_from_dict
from server.scoring.engine import Category, score_household
from server.scoring.facts import HouseholdFacts, MeasuredIncome, Member
from server.scoring.rules import Outcome
from server.scoring.standards import (
    STANDARDS_DIR,
    StandardError,
    all_standards,
    load_standard,
    standard_for_year,
)

S2022 = standard_for_year(2026)
S2027 = standard_for_year(2027)


def adult(name="Nguyễn Văn A", age=35, sex="1", **kw) -> Member:
    base = {
        "name": name,
        "age": age,
        "sex": sex,
        "relationship": "chu_ho",
        "work_status": "nong_nghiep",
        "contract": None,
        "disability": "khong",
        "serious_illness": False,
        "health_insurance": True,
        "malnourished": None,
        "in_school": False,
        "education": "thpt",
        "qualification": "khong",
        "employer_training": False,
        "pension": False,
    }
    return Member(**(base | kw))


def household(**kw) -> HouseholdFacts:
    base = {
        "members": (adult(), adult("Trần Thị B", 33, "2", relationship="vo_chong")),
        "area_type": "rural",
        "region": "tay_nguyen",
        "floor_area": 40.0,
        "wall": "gach_da",
        "frame": "btct",
        "roof": "ngoi",
        "water_source": "nuoc_may",
        "latrine": "tu_hoai",
        "telecom_use": True,
        "info_devices": frozenset({"tivi"}),
        "digital_use": frozenset({"internet"}),
        "waste": "thu_gom",
        "b1": {"a": "x"},
    }
    return HouseholdFacts(**(base | kw))


def table(points: float, area: str = "rural", standard: str = "2022_2025"):
    return table_from_dict(
        {
            "code": f"t{points}",
            "version": "1",
            "standard": standard,
            "region": "*",
            "area_type": area,
            "status": "demo",
            "source": "test",
            "label_vi": "bảng thử",
            "items": {"a": {"kind": "choice", "options": {"x": points}}},
        },
        "test",
    )


def outcome(result, code):
    return next(r for r in result.indicators if r.code == code).outcome


def test_standards_load_and_cover_the_years():
    standards = all_standards()
    assert set(standards) == {"2022_2025", "2027_2030"}
    assert standard_for_year(2026).value("income_line", "rural") == 1_500_000
    assert standard_for_year(2027).value("income_line", "urban") == 2_800_000
    assert len(S2022.indicators) == 12
    assert "phuong_tien_tt" not in [i["code"] for i in S2027.indicators]
    assert {"dich_vu_so", "rac_thai"} <= {i["code"] for i in S2027.indicators}


def test_a_bad_standards_file_names_the_file_and_key(tmp_path):
    source = (STANDARDS_DIR / "2022_2025.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "2022_2025.yaml"
    broken.write_text(source.replace("kind: member_share", "kind: member_fraction"), "utf-8")
    with pytest.raises(StandardError) as error:
        load_standard(broken)
    assert str(error.value).startswith("2022_2025.yaml: indicators.1.rule.kind:")


def test_healthy_household_has_no_deprivation():
    result = score_household(household(), S2022, table(100))
    assert result.deprivations == 0 and result.undetermined_indicators == 0
    assert result.category == Category.NEAR_POOR  # A ≤ 140 with B = 0


@pytest.mark.parametrize(("age", "deprived"), [(5, False), (6, True)])
def test_health_insurance_counts_from_age_six(age, deprived):
    child = adult("Y Lan", age, "2", relationship="con", health_insurance=False, in_school=True)
    result = score_household(household(members=(adult(), child)), S2022)
    assert (outcome(result, "bhyt") == Outcome.DEPRIVED) is deprived


@pytest.mark.parametrize(
    ("age", "school", "adult_ed"),
    [(15, Outcome.DEPRIVED, Outcome.NOT_DEPRIVED), (16, Outcome.NOT_DEPRIVED, Outcome.DEPRIVED)],
)
def test_out_of_school_at_15_is_a_child_and_at_16_an_adult(age, school, adult_ed):
    youth = adult("A Quang", age, relationship="con", in_school=False, education="tieu_hoc")
    result = score_household(household(members=(adult(), youth)), S2022)
    assert outcome(result, "di_hoc_tre_em") == school
    assert outcome(result, "gd_nguoi_lon") == adult_ed


@pytest.mark.parametrize(("age", "deprived"), [(30, True), (31, False)])
def test_adult_education_covers_ages_16_to_30(age, deprived):
    person = adult("Đinh Văn C", age, education="thcs", qualification="khong")
    result = score_household(household(members=(person,)), S2022)
    assert (outcome(result, "gd_nguoi_lon") == Outcome.DEPRIVED) is deprived


@pytest.mark.parametrize(("area", "deprived"), [(16.0, False), (15.98, True)])
def test_floor_area_per_person_below_eight(area, deprived):
    result = score_household(household(floor_area=area), S2022)  # 2 people: 8 vs 7.99 m²
    assert (outcome(result, "dien_tich_nha") == Outcome.DEPRIVED) is deprived


def test_reason_names_the_member_and_the_fact():
    child = adult("Nguyễn Văn A", 8, relationship="con", in_school=False, education="tieu_hoc")
    result = score_household(household(members=(adult("Nguyễn Văn B"), child)), S2022)
    reasons = next(r for r in result.indicators if r.code == "di_hoc_tre_em").reasons
    assert reasons == ("Nguyễn Văn A, 8 tuổi: trẻ từ 3 đến dưới 16 tuổi không đi học",)


def test_missing_data_is_cannot_determine_not_deprived():
    unknown = adult("Y Bình", None, "2", health_insurance=None)
    result = score_household(household(members=(adult(), unknown), water_source=None), S2022)
    assert outcome(result, "bhyt") == Outcome.UNKNOWN
    assert outcome(result, "nuoc_sinh_hoat") == Outcome.UNKNOWN
    reasons = next(r for r in result.indicators if r.code == "bhyt").reasons
    assert reasons == ("Y Bình: thiếu thông tin (bảo hiểm y tế, tuổi)",)


def three_deprivations(**kw):
    return household(water_source="nuoc_mat", latrine="khong_co", telecom_use=False, **kw)


def test_exactly_three_deprivations_is_poor_and_two_near_poor():
    poor = score_household(three_deprivations(), S2022, table(140))
    assert (poor.deprivations, poor.score_b, poor.category) == (3, 30, Category.POOR)
    two = household(water_source="nuoc_mat", latrine="khong_co")
    near = score_household(two, S2022, table(140))
    assert (near.score_b, near.category) == (20, Category.NEAR_POOR)


@pytest.mark.parametrize(
    ("area", "points", "category"),
    [
        ("rural", 140, Category.POOR),
        ("rural", 140.5, Category.NEITHER),
        ("urban", 175, Category.POOR),
        ("urban", 176, Category.NEITHER),
        ("urban", 150, Category.POOR),
    ],
)
def test_score_a_at_the_cut_off_is_included(area, points, category):
    result = score_household(three_deprivations(area_type=area), S2022, table(points, area))
    assert result.category == category
    assert result.cutoff == (140 if area == "rural" else 175)


def test_without_a_b1_table_there_is_no_verdict_from_b1():
    result = score_household(three_deprivations(), S2022, None)
    assert result.category == Category.NOT_ASSESSED
    assert result.score_b == 30  # deprivations are still measured and explained
    assert any("Không có bảng điểm B1" in line for line in result.explanation_vi)


def test_unknowns_that_could_change_the_verdict_leave_it_undetermined():
    two_and_unknown = household(water_source="nuoc_mat", latrine="khong_co", telecom_use=None)
    result = score_household(two_and_unknown, S2022, table(100))
    assert result.category == Category.UNDETERMINED
    assert (result.score_b, result.score_b_max) == (20, 30)
    three_and_unknown = three_deprivations(roof=None, wall=None)
    assert score_household(three_and_unknown, S2022, table(100)).category == Category.POOR


def test_2026_uses_2022_standard_and_2027_the_new_one():
    facts = three_deprivations(info_devices=frozenset(), digital_use=frozenset({"khong_co"}))
    old = score_household(facts, standard_for_year(2026), table(100))
    assert outcome(old, "phuong_tien_tt") == Outcome.DEPRIVED
    new = score_household(facts, standard_for_year(2027), table(100, standard="2027_2030"))
    assert outcome(new, "dich_vu_so") == Outcome.DEPRIVED
    assert new.category == Category.NOT_ASSESSED  # no 2027–2030 B1 cut-off is published
    # No verdict, so nothing provisional about it; every 2027–2030 indicator is provisional.
    assert not new.provisional
    assert all(r.provisional for r in new.indicators)


def test_average_living_standard_from_measured_income():
    farming = household(income=MeasuredIncome(per_person_month=2_250_000, agricultural=True))
    result = score_household(farming, S2022, table(200))
    assert result.category == Category.AVERAGE
    above = household(income=MeasuredIncome(per_person_month=2_250_001, agricultural=True))
    assert score_household(above, S2022, table(200)).category == Category.NEITHER
    other = household(income=MeasuredIncome(per_person_month=2_000_000, agricultural=False))
    assert score_household(other, S2022, table(200)).category == Category.NEITHER


def test_low_income_worker_household_at_or_under_the_line():
    at_line = household(income=MeasuredIncome(per_person_month=2_250_000, agricultural=False))
    result = score_household(at_line, S2022, table(200))
    assert (result.category, result.low_income_worker_household) == (Category.NEITHER, True)
    above = household(income=MeasuredIncome(per_person_month=2_250_001, agricultural=False))
    assert score_household(above, S2022, table(200)).low_income_worker_household is False
    poor = three_deprivations(income=MeasuredIncome(per_person_month=900_000, agricultural=False))
    assert score_household(poor, S2022, table(100)).low_income_worker_household is None


def test_phieu_a_stop_short_circuits():
    facts = three_deprivations(screened_out=True, screening_reasons="Có ô tô")
    result = score_household(facts, S2022, table(100))
    assert result.category == Category.SCREENED_OUT
    assert (result.indicators, result.score_a, result.table_code) == ((), None, None)
    assert result.explanation_vi == (
        "Phiếu A: hộ thuộc tiêu chí dừng (Có ô tô); không rà soát Phiếu B.",
    )
    # Phiếu A said "continue" (or was not used): Phiếu B decides.
    for screened in (False, None):
        result = score_household(three_deprivations(screened_out=screened), S2022, table(100))
        assert result.category == Category.POOR


def test_phieu_a_stop_is_ignored_when_the_standard_does_not_stop_there():
    data = dict(S2022.data, phieu_a_stops_review={"value": False, "status": "inferred"})
    standard = dataclasses.replace(S2022, data=data)
    result = score_household(three_deprivations(screened_out=True), standard, table(100))
    assert result.category == Category.POOR
    assert "không dừng rà soát ở Phiếu A" in result.explanation_vi[0]


def test_demo_table_is_labelled_and_scores_coded_answers():
    demo = load_table_yaml(STANDARDS_DIR.parent / "b1_tables" / "demo_2022_2025_rural.yaml")
    assert demo.disclaimer_vi == "minh họa — không phải số liệu chính thức"
    answers = {
        "b1_hh_size": 5,
        "b1_dependants": 3,
        "b1_top_qual": "thpt",
        "b1_pension": "khong",
        "nonfarm_work": "khong",
        "electricity": "kwh_25_49",
        "b1_assets": frozenset({"xe_may", "tivi"}),
    }
    result = score_b1(answers, demo)
    assert result.total == 20 + 0 + 5 + 0 + 0 + 5 + 15
    missing = score_b1({k: v for k, v in answers.items() if k != "electricity"}, demo)
    assert (missing.total, missing.missing) == (None, ("electricity",))


def test_mismatched_table_area_is_not_used():
    result = score_household(three_deprivations(area_type="urban"), S2022, table(100, "rural"))
    assert result.category == Category.NOT_ASSESSED
    assert dataclasses.asdict(result)["b1"] is None
