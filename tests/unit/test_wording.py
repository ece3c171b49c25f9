"""Coded answers in words (server/scoring/wording.py): the words come from the questionnaire
the facts were read from, through its mapping; the engine's reasons use them, and name the code
itself when it has none."""

from __future__ import annotations

from server.scoring.b1 import table_from_dict
from server.scoring.engine import score_household
from server.scoring.mapping import mappings
from server.scoring.rules import Outcome
from server.scoring.wording import member_words, shipped_forms, shipped_words
from tests.unit.test_scoring import S2022, S2027, household


def test_words_follow_the_mapping_to_the_forms_choice_labels():
    words = shipped_words("phieu_b_2022")
    # Labels as written in xlsforms/phieu_b_2022.xlsx, reached through forms/mappings/.
    assert words["water_source"]["gieng_khoan"] == "Giếng khoan"
    assert words["latrine"]["ban_tu_hoai"] == "Bán tự hoại"
    assert words["info_devices"]["dien_thoai_thong_minh"] == "Điện thoại thông minh"
    assert words["ethnicity"]["ba_na"] == "Ba Na"
    assert words["relationship"]["chu_ho"] == "Chủ hộ"
    assert words["sex"] == {"1": "Nam", "2": "Nữ"}
    # Facts read from numbers, text or calculates have no words.
    assert not {"floor_area", "age", "name", "b1.b1_top_qual"} & set(words)
    later = shipped_words("phieu_b_2027")
    assert "waste" in later and "digital_use" in later and "info_devices" not in later
    assert shipped_forms() == sorted(mappings())


def test_a_member_in_words_keeps_what_is_not_coded():
    member = {"name": "Y Dít", "age": 6, "sex": "2", "relationship": "con", "ethnicity": "ba_na"}
    assert member_words(member, shipped_words("phieu_b_2022")) == {
        "sex": "Nữ",
        "relationship": "Con (đẻ, nuôi, dâu, rể)",
        "ethnicity": "Ba Na",
    }
    # a code the form does not have stays as it is; no words at all: nothing to say
    assert member_words({"ethnicity": "cham"}, shipped_words("phieu_b_2022")) == {
        "ethnicity": "cham"
    }
    assert member_words(member, {}) == {}


def _reasons(result, code: str) -> tuple[str, ...]:
    return next(r for r in result.indicators if r.code == code).reasons


def test_reasons_in_words_or_naming_the_fact_beside_the_code():
    poor_house = household(
        wall="dat", frame="tre", roof="la_tranh", water_source="nuoc_mat", latrine="cau_tom"
    )
    words = shipped_words("phieu_b_2022")
    worded = score_household(poor_house, S2022, words=words)
    coded = score_household(poor_house, S2022)
    assert _reasons(worded, "nha_tieu") == (
        "không dùng nhà tiêu hợp vệ sinh (nhà tiêu: Cầu tõm trên ao, sông, suối)",
    )
    assert _reasons(coded, "nha_tieu") == ("không dùng nhà tiêu hợp vệ sinh (nhà tiêu: cau_tom)",)
    assert _reasons(worded, "chat_luong_nha") == (
        "ít nhất 2 trong 3 kết cấu chính (tường, khung cột, mái) không bền chắc "
        "(vật liệu tường: Đất (trình tường), vôi rơm; khung cột: Tre, nứa, luồng; "
        "mái: Lá, tranh, tre, nứa)",
    )
    assert _reasons(worded, "phuong_tien_tt") == ("phương tiện thông tin: Ti vi",)
    good = score_household(household(), S2022, words=words)
    assert _reasons(good, "nuoc_sinh_hoat") == (
        "nguồn nước: Nước máy (vào nhà hoặc vòi công cộng)",
    )
    # The words change how the reasons read, never the verdict.
    assert [r.outcome for r in worded.indicators] == [r.outcome for r in coded.indicators]
    assert worded.category == coded.category
    assert sum(r.outcome == Outcome.DEPRIVED for r in worded.indicators) == 3
    assert score_household(household(), S2027, words=words).category == (
        score_household(household(), S2027).category
    )


def test_b1_answers_missing_or_not_in_the_table_are_named_by_the_tables_words():
    points = table_from_dict(
        {
            "code": "t",
            "version": "1",
            "standard": "2022_2025",
            "region": "*",
            "area_type": "rural",
            "status": "demo",
            "source": "test",
            "label_vi": "bảng thử",
            "items": {
                "b1_pension": {"kind": "choice", "vi": "Lương hưu", "options": {"khong": 0}},
                "electricity": {"kind": "choice", "vi": "Lượng điện", "options": {"a": 1}},
            },
        },
        "test",
    )
    result = score_household(household(b1={"electricity": "z"}), S2022, points)
    assert "Thiếu câu trả lời B1: Lương hưu." in result.explanation_vi
    assert "Câu trả lời B1 không có trong bảng điểm: Lượng điện." in result.explanation_vi
