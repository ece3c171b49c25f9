"""The household traits the reports count (``server.reports.traits``) at their edges: who the
head is, unknown ethnicity, the working-age bounds of the standard (15; 61 for men, 56 for
women), severe disability, serious illness and missing facts."""

from __future__ import annotations

import pytest

from server.reports.traits import (
    able_to_work,
    head_of,
    is_ethnic_minority,
    member_from_facts,
    without_labour_capacity,
)
from server.scoring.facts import Member
from server.scoring.standards import standard_for_year

S2022 = standard_for_year(2026)
S2027 = standard_for_year(2027)


def person(age=35, sex="1", **kw) -> Member:
    return Member(**{"age": age, "sex": sex, "disability": "khong", "serious_illness": False, **kw})


# --- ethnic-minority household ----------------------------------------------------------------


def test_the_head_decides_not_the_first_member():
    members = (
        Member(relationship="con", ethnicity="kinh"),
        Member(relationship="chu_ho", ethnicity="ba_na"),
    )
    assert head_of(members) is members[1]
    assert is_ethnic_minority(members) is True
    flipped = (
        Member(relationship="vo_chong", ethnicity="ba_na"),
        Member(relationship="chu_ho", ethnicity="kinh"),
    )
    assert is_ethnic_minority(flipped) is False


def test_without_a_recorded_head_the_first_member_stands_for_it():
    assert is_ethnic_minority((Member(ethnicity="gia_rai"), Member(ethnicity="kinh"))) is True
    assert is_ethnic_minority((Member(ethnicity="kinh"), Member(ethnicity="gia_rai"))) is False


@pytest.mark.parametrize(
    ("ethnicity", "expected"),
    [
        ("kinh", False),
        (" Kinh ", False),
        ("khac", True),  # another ethnic group
        ("hre", True),
        (None, None),
        ("", None),
        ("  ", None),
    ],
)
def test_ethnicity_known_and_not_kinh(ethnicity, expected):
    assert is_ethnic_minority((Member(relationship="chu_ho", ethnicity=ethnicity),)) is expected


def test_no_members_is_unknown():
    assert head_of(()) is None
    assert is_ethnic_minority(()) is None
    assert without_labour_capacity((), S2022) is None


def test_stored_member_facts_read_back():
    """As the reports extract them from stored results: booleans may come back as 0 / 1, and
    results scored before ethnicity was mapped have none (unknown)."""
    member = member_from_facts(("chu_ho", None, 40, "1", "khong", 0))
    assert member == Member(
        relationship="chu_ho", age=40, sex="1", disability="khong", serious_illness=False
    )
    assert is_ethnic_minority((member,)) is None
    assert member_from_facts((None, "ba_na", None, None, None, 1)).serious_illness is True
    assert member_from_facts((None,) * 6) == Member()
    with pytest.raises(ValueError):
        member_from_facts(("chu_ho",))


# --- labour capacity ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "sex", "able"),
    [
        (14, "1", False),
        (15, "1", True),
        (61, "1", True),
        (62, "1", False),
        (56, "2", True),
        (57, "2", False),
    ],
)
def test_working_age_bounds_of_the_standard(age, sex, able):
    assert able_to_work(person(age, sex), S2022) is able
    assert without_labour_capacity((person(age, sex),), S2022) is (not able)


@pytest.mark.parametrize(
    ("disability", "ill", "able"),
    [
        ("khong", False, True),
        ("nhe", False, True),  # a light disability does not take the capacity away
        ("nang", False, False),
        ("dac_biet_nang", False, False),
        ("khong", True, False),
        (None, False, None),
        ("khong", None, None),
        ("nang", None, False),  # already decided by the disability
    ],
)
def test_severe_disability_and_serious_illness(disability, ill, able):
    member = person(40, disability=disability, serious_illness=ill)
    assert able_to_work(member, S2022) is able


def test_one_able_member_is_enough_and_unknowns_stay_unknown():
    old, child = person(70), person(9)
    assert without_labour_capacity((old, child), S2022) is True
    assert without_labour_capacity((old, child, person(30)), S2022) is False
    unknown_age = Member(sex="1", disability="khong", serious_illness=False)
    assert without_labour_capacity((old, unknown_age), S2022) is None
    # Without the sex, 30 is inside every working-age bound (15–56 women, 15–61 men): decided;
    # 58 is working age for a man only, so the sex matters there.
    no_sex = Member(age=30, disability="khong", serious_illness=False)
    assert without_labour_capacity((old, no_sex), S2022) is False
    no_sex_58 = Member(age=58, disability="khong", serious_illness=False)
    assert without_labour_capacity((old, no_sex_58), S2022) is None
    # An unknown does not matter once someone is able to work.
    assert without_labour_capacity((unknown_age, person(30)), S2022) is False
    # Over working age, the missing illness answer does not matter either.
    assert without_labour_capacity((person(80, serious_illness=None),), S2022) is True


def test_the_2027_standard_is_used_when_given():
    # Both standards currently share the same (provisional) working age.
    assert without_labour_capacity((person(61),), S2027) is False
    assert without_labour_capacity((person(62),), S2027) is True
