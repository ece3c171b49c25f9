"""Questionnaire → canonical household mappings (``forms/mappings``): blank and absent answers,
and the evidence kinds (Phiếu A, income survey)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from server.scoring.facts import MeasuredIncome
from server.scoring.mapping import (
    MAPPINGS_DIR,
    EvidenceMapping,
    Mapping,
    all_mappings,
    load_mapping,
    mappings,
)
from server.scoring.services import standard_for_questionnaire
from server.scoring.standards import StandardError, all_standards

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


# --- the standard a questionnaire was written for, and its own income module ----------------


def test_each_phieu_b_declares_the_standard_it_was_written_for():
    assert mappings()["phieu_b_2022"].standard == "2022_2025"
    assert mappings()["phieu_b_2027"].standard == "2027_2030"


def _mapping_file(tmp_path, **changes) -> Path:
    source = (MAPPINGS_DIR / "phieu_b_2027.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(source)
    raw.update(changes)
    path = tmp_path / "phieu_b_x.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_an_unknown_standard_is_refused_naming_the_file_and_key(tmp_path):
    with pytest.raises(StandardError) as caught:
        load_mapping(_mapping_file(tmp_path, standard="2031_2035"))
    message = str(caught.value)
    assert message.startswith("phieu_b_x.yaml: standard: unknown standard '2031_2035'")
    assert "2022_2025" in message and "2027_2030" in message


def test_without_a_standard_the_review_year_decides(tmp_path):
    raw = yaml.safe_load((MAPPINGS_DIR / "phieu_b_2027.yaml").read_text(encoding="utf-8"))
    del raw["standard"]
    path = tmp_path / "phieu_b_x.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.standard is None
    standard, why = standard_for_questionnaire(mapping.standard, 2026)
    assert (standard.code, why) == ("2022_2025", None)
    assert standard_for_questionnaire(None, 2027)[0].code == "2027_2030"


def test_a_declared_standard_wins_over_the_review_year_and_says_why():
    # Phiếu B 2027–2030 in the late-2026 review (regulations.md §0.3: which standard that
    # review uses is not settled; the 2027–2030 standard applies from 2027, §3).
    standard, why = standard_for_questionnaire("2027_2030", 2026)
    assert standard.code == "2027_2030"
    assert why == (
        "Phiếu B 2027–2030 rà soát năm 2026: chấm theo chuẩn 2027–2030 (áp dụng từ năm "
        "2027); chuẩn của năm 2026 là chuẩn 2022–2025, không khớp câu hỏi của phiếu."
    )
    # The same standard as the review year's: nothing to explain.
    assert standard_for_questionnaire("2022_2025", 2026) == (all_standards()["2022_2025"], None)
    assert standard_for_questionnaire("2027_2030", 2028)[1] is None
    # An old questionnaire used after its period (2022–2025 applies through 2026, §0.1).
    standard, why = standard_for_questionnaire("2022_2025", 2027)
    assert standard.code == "2022_2025"
    assert "(áp dụng đến năm 2026)" in why and "chuẩn của năm 2027 là chuẩn 2027–2030" in why


def test_phieu_b_2027_reads_its_own_measured_income():
    mapping = mappings()["phieu_b_2027"]
    answers = {
        **ANSWERS,
        "income/occupation": "ngu_nghiep",
        "income/income_per_person_month": "2200000",
    }
    assert mapping.apply(answers, "tay_nguyen").facts.income == MeasuredIncome(2_200_000, True)
    other = {**answers, "income/occupation": "khac", "income/income_per_person_month": "-25000"}
    assert mapping.apply(other, "tay_nguyen").facts.income == MeasuredIncome(-25_000, False)
    # Income left to a separate survey: the section is not in the submission — no income.
    assert mapping.apply(ANSWERS, "tay_nguyen").facts.income is None
    # Without the occupation it cannot be said whether the household is agricultural.
    no_occupation = {**ANSWERS, "income/income_per_person_month": "2200000"}
    assert mapping.apply(no_occupation, "tay_nguyen").facts.income is None
    # The 2022 form has no income module.
    assert mappings()["phieu_b_2022"].apply(answers, "tay_nguyen").facts.income is None
