"""Questionnaire → canonical household mappings (``forms/mappings``): blank and absent answers,
and the evidence kinds (Phiếu A, income survey)."""

from __future__ import annotations

from datetime import date

from server.scoring.mapping import EvidenceMapping, Mapping, all_mappings, mappings

ANSWERS = {
    "hh_code": "X1-T01-0001",
    "general/review_date": "2026-10-15",
    "members[1]/info/name": "A Thút",
    "members[1]/info/age": "42",
    "members[2]/info/name": "Y Nhơm",
    "members[2]/info/age": "",
    "housing/floor_area": "31.5",
    "b1_top_qual": "thpt",
}


def test_every_shipped_mapping_loads_with_its_kind():
    loaded = all_mappings()
    assert isinstance(loaded["phieu_b_2022"], Mapping)
    assert isinstance(loaded["phieu_a"], EvidenceMapping) and loaded["phieu_a"].kind == "screening"
    assert loaded["thu_nhap_mstb"].kind == "income"
    assert set(mappings()) == {"phieu_b_2022", "phieu_b_2027"}


def test_blank_means_unknown_except_for_a_computed_set_whose_blank_is_none_of_them():
    mapping = mappings()["phieu_b_2022"]
    absent = mapping.apply(ANSWERS, "tay_nguyen")
    assert "b1_assets" not in absent.facts.b1  # not in the submission: unknown
    blank = mapping.apply({**ANSWERS, "b1_assets": ""}, "tay_nguyen")
    assert blank.facts.b1["b1_assets"] == frozenset()  # computed and blank: none of them
    some = mapping.apply({**ANSWERS, "b1_assets": "xe_may tivi"}, "tay_nguyen")
    assert some.facts.b1["b1_assets"] == frozenset({"xe_may", "tivi"})
    # Ordinary blanks stay unknown, never a default.
    assert [m.age for m in absent.facts.members] == [42, None]
    assert absent.facts.floor_area == 31.5 and absent.facts.wall is None
    assert (absent.household_code, absent.review_date) == ("X1-T01-0001", date(2026, 10, 15))


def test_phieu_a_and_income_evidence():
    screening = all_mappings()["phieu_a"]
    stop = screening.apply(
        {
            "hh_code": "X1-T01-0001",
            "result": "dung",
            "stop_labels": "Có ô tô",
            "rsv/review_date": "2026-11-21",
        }
    )
    assert stop.data == {"screened_out": True, "reasons": "Có ô tô"}
    assert stop.review_date == date(2026, 11, 21)
    go = screening.apply({"hh_code": "X1-T01-0001", "result": "tiep_tuc_phieu_b"})
    assert go.data["screened_out"] is False and go.review_date is None
    assert screening.apply({"result": ""}).data["screened_out"] is None
    income = all_mappings()["thu_nhap_mstb"]
    farming = income.apply(
        {
            "hh_code": "X1-T02-0001",
            "main_occupation": "lam_nghiep",
            "income/income_per_person_month": "1875000",
        }
    )
    assert farming.data == {"per_person_month": 1_875_000, "agricultural": True}
    other = income.apply({"main_occupation": "khac"})
    assert other.data == {"per_person_month": None, "agricultural": False}
