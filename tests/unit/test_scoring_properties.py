"""Properties of the classification that must hold for every household (hypothesis)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from server.scoring.b1 import table_from_dict
from server.scoring.engine import Category, score_household
from server.scoring.facts import HouseholdFacts, Member
from server.scoring.standards import standard_for_year

STANDARDS = [standard_for_year(2026), standard_for_year(2027)]
POVERTY_RANK = {Category.POOR: 2, Category.NEAR_POOR: 1, Category.NEITHER: 0, Category.AVERAGE: 0}


def maybe(strategy):
    return st.one_of(st.none(), strategy)


members = st.builds(
    Member,
    name=st.sampled_from(["Nguyễn Văn A", "Y Hlơn", "A Thút", None]),
    age=maybe(st.integers(0, 100)),
    sex=maybe(st.sampled_from(["1", "2"])),
    work_status=maybe(
        st.sampled_from(["nong_nghiep", "lam_cong", "that_nghiep", "khong_hoat_dong"])
    ),
    contract=maybe(st.sampled_from(["co_hd", "khong_hd"])),
    disability=maybe(st.sampled_from(["khong", "nhe", "nang"])),
    serious_illness=maybe(st.booleans()),
    health_insurance=maybe(st.booleans()),
    malnourished=maybe(st.booleans()),
    in_school=maybe(st.booleans()),
    education=maybe(st.sampled_from(["tieu_hoc", "thcs", "thpt"])),
    qualification=maybe(st.sampled_from(["khong", "so_cap", "dai_hoc"])),
    employer_training=maybe(st.booleans()),
)

households = st.builds(
    HouseholdFacts,
    members=st.lists(members, min_size=1, max_size=8).map(tuple),
    area_type=st.sampled_from(["rural", "urban"]),
    floor_area=maybe(st.floats(1, 300, allow_nan=False)),
    wall=maybe(st.sampled_from(["gach_da", "dat", "go_tap"])),
    frame=maybe(st.sampled_from(["btct", "tre"])),
    roof=maybe(st.sampled_from(["ngoi", "la_tranh"])),
    water_source=maybe(st.sampled_from(["nuoc_may", "nuoc_mat"])),
    latrine=maybe(st.sampled_from(["tu_hoai", "khong_co"])),
    telecom_use=maybe(st.booleans()),
    info_devices=maybe(
        st.sets(st.sampled_from(["tivi", "radio", "dien_thoai_thuong"])).map(frozenset)
    ),
    digital_use=maybe(st.sets(st.sampled_from(["internet", "khong_co"])).map(frozenset)),
    waste=maybe(st.sampled_from(["thu_gom", "vut_bua_bai"])),
    b1=st.fixed_dictionaries({"a": st.just("x")}),
)

# Worsening one household fact into its deprived value (one more deprivation, or none if the
# household was already deprived there).
WORSEN = [
    {"water_source": "nuoc_mat"},
    {"latrine": "khong_co"},
    {"telecom_use": False},
    {"floor_area": 1.0},
    {"wall": "dat", "frame": "tre", "roof": "la_tranh"},
    {"info_devices": frozenset()},
    {"digital_use": frozenset()},
    {"waste": "vut_bua_bai"},
]


def table(points: float, standard: str, area: str):
    return table_from_dict(
        {
            "code": "p",
            "version": "1",
            "standard": standard,
            "region": "*",
            "area_type": area,
            "status": "demo",
            "source": "test",
            "label_vi": "thử",
            "items": {"a": {"kind": "choice", "options": {"x": points}}},
        },
        "test",
    )


@settings(max_examples=300, deadline=None)
@given(households, st.sampled_from(STANDARDS), st.sampled_from(WORSEN), st.floats(0, 300))
def test_adding_a_deprivation_never_lowers_score_b(facts, standard, change, points):
    worse = dataclasses.replace(facts, **change)
    before = score_household(facts, standard, table(points, standard.code, facts.area_type))
    after = score_household(worse, standard, table(points, standard.code, facts.area_type))
    assert after.score_b >= before.score_b
    if before.category in POVERTY_RANK and after.category in POVERTY_RANK:
        assert POVERTY_RANK[after.category] >= POVERTY_RANK[before.category]


@settings(max_examples=300, deadline=None)
@given(households, st.floats(0, 300), st.floats(0, 100))
def test_more_income_never_makes_a_household_poorer(facts, points, more):
    standard = STANDARDS[0]  # the one with published B1 cut-offs
    base = score_household(facts, standard, table(points, standard.code, facts.area_type))
    richer = score_household(facts, standard, table(points + more, standard.code, facts.area_type))
    if base.category in POVERTY_RANK and richer.category in POVERTY_RANK:
        assert POVERTY_RANK[richer.category] <= POVERTY_RANK[base.category]
    if base.category == Category.NEITHER:
        assert richer.category == Category.NEITHER


@settings(max_examples=200, deadline=None)
@given(households, st.sampled_from(STANDARDS), st.floats(0, 300))
def test_classification_is_a_pure_function_of_its_inputs(facts, standard, points):
    scoring_table = table(points, standard.code, facts.area_type)
    first = score_household(facts, standard, scoring_table)
    second = score_household(dataclasses.replace(facts), standard, scoring_table)
    assert first == second
    assert first.score_b == 10 * first.deprivations
    assert first.deprivations + first.undetermined_indicators <= len(standard.indicators)
