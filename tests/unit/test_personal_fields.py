"""forms/personal_fields.yaml cannot silently rot: every field it lists exists in its compiled
form, every shipped form is listed, and every field whose name or label looks personal (ID
number, birth, income, health insurance, illness, disability, nutrition) is classified or
listed as not personal with a reason.  And the one rule (show / mask / hide) per role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.accounts.models import Role
from server.privacy.fields import (
    CLASSES,
    HIDE,
    MASK,
    SHOW,
    field_class,
    mask_id,
    personal_fields,
    shown_result,
    treatment,
)
from server.questionnaires.labels import form_labels

FORMS = Path(__file__).resolve().parents[2] / "forms"
SHIPPED = sorted(p.stem for p in FORMS.glob("*.xml"))
LOOKS_PERSONAL = re.compile(
    r"cccd|cmnd|dob|birth|thu_nhap|income|bhyt|khuyet_tat|disab|benh|illness|health|insurance"
    r"|malnour|dinh_duong|allowance|năm sinh|ngày sinh|thu nhập|bảo hiểm y tế|khuyết tật|bệnh"
    r"|suy dinh dưỡng|trợ cấp|số cccd|số cmnd",
    re.I,
)


def _fields(form_id: str):
    labels = form_labels((FORMS / f"{form_id}.xml").read_bytes(), "vi")
    return {path: f for path, f in labels.fields.items() if not f.note}


def test_every_shipped_form_is_listed():
    assert set(personal_fields()["forms"]) == set(SHIPPED)


@pytest.mark.parametrize("form_id", SHIPPED)
def test_every_listed_field_exists_in_its_form(form_id):
    fields = _fields(form_id)
    classes = personal_fields()["forms"][form_id]
    assert set(classes) <= set(CLASSES)
    for klass, patterns in classes.items():
        for pattern in patterns:
            if pattern.endswith("/*"):
                assert any(p.startswith(pattern[:-1]) for p in fields), (form_id, pattern)
            else:
                assert pattern in fields, (form_id, klass, pattern)
    for path, reason in personal_fields()["not_personal"].get(form_id, {}).items():
        assert path in fields, (form_id, path)
        assert field_class(form_id, path) is None, (form_id, path)
        assert len(reason.strip()) > 20, (form_id, path)


@pytest.mark.parametrize("form_id", SHIPPED)
def test_every_field_that_looks_personal_is_decided(form_id):
    not_personal = personal_fields()["not_personal"].get(form_id, {})
    undecided = [
        path
        for path, f in _fields(form_id).items()
        if not path.startswith("meta/")
        and not path.startswith("privacy_text")  # the notice read to the household
        and (LOOKS_PERSONAL.search(path) or LOOKS_PERSONAL.search(f.label))
        and field_class(form_id, path) is None
        and path not in not_personal
    ]
    assert undecided == []


def test_the_request_forms_id_numbers_and_birth_dates():
    assert field_class("mau_01_de_nghi", "nguoi_de_nghi/id_number") == "id_number"
    assert field_class("mau_01_de_nghi", "members[3]/m_id") == "id_number"
    assert field_class("mau_01_de_nghi", "members[2]/m_birth_year") == "birth_date"
    assert field_class("mau_04_de_nghi_thoat_ngheo", "nguoi_de_nghi/applicant_dob") == (
        "birth_date"
    )
    assert field_class("phieu_b_2027", "income/farm/farm_rev") == "income"
    assert field_class("phieu_b_2022", "members[1]/health/disability") == "disability"
    assert field_class("phieu_b_2022", "members[1]/info/name") is None


@pytest.mark.parametrize(
    ("role", "klass", "revealed", "expected"),
    [
        (Role.OFFICER, None, False, SHOW),
        (Role.OFFICER, "id_number", False, MASK),
        (Role.OFFICER, "id_number", True, SHOW),
        (Role.ADMIN, "id_number", False, MASK),
        (Role.ADMIN, "income", False, SHOW),
        (Role.OFFICER, "health", False, SHOW),
        (Role.VILLAGE_HEAD, None, False, SHOW),
        *[(Role.VILLAGE_HEAD, k, r, HIDE) for k in CLASSES for r in (False, True)],
        (Role.REVIEWER, "birth_date", False, HIDE),
    ],
)
def test_the_rule(role, klass, revealed, expected):
    assert treatment(role, klass, revealed=revealed) == expected


def test_masking_keeps_the_last_three():
    assert mask_id("064189004455") == "•••••••••455"
    assert mask_id(" 12 ") == "••"


def test_a_village_head_reads_the_score_without_health_or_income_facts():
    result = {
        "category": "poor",
        "deprivations": 2,
        "income_per_person_month": 1_200_000,
        "explanation_vi": [
            "Phương pháp quyết định: điểm B1.",
            "Thiếu hụt Bảo hiểm y tế: Y Dít, 40 tuổi: không có bảo hiểm y tế",
            "Thiếu hụt Nguồn nước sinh hoạt: nguồn nước: Sông suối",
            "Thu nhập 1.200.000 đ/người/tháng ≤ 1.500.000 đ: thành viên có thể …",
        ],
        "indicators": [
            {"code": "bhyt", "name_vi": "Bảo hiểm y tế", "outcome": "deprived",
             "reasons": ["Y Dít, 40 tuổi: không có bảo hiểm y tế"]},
            {"code": "nuoc_sinh_hoat", "name_vi": "Nguồn nước sinh hoạt", "outcome": "deprived",
             "reasons": ["nguồn nước: Sông suối"]},
            {"code": "viec_lam", "name_vi": "Việc làm", "outcome": "not_deprived",
             "reasons": ["A Blưn: bệnh nặng, không còn khả năng lao động"]},
        ],
    }  # fmt: skip
    assert shown_result(result, Role.OFFICER) is result
    shown = shown_result(result, Role.VILLAGE_HEAD)
    text = repr(shown)
    assert "Y Dít" not in text and "bệnh nặng" not in text and "1.200.000" not in text
    assert shown["income_per_person_month"] is None
    assert shown["category"] == "poor" and shown["deprivations"] == 2
    assert [i["outcome"] for i in shown["indicators"]] == ["deprived", "deprived", "not_deprived"]
    assert shown["indicators"][1]["reasons"] == ["nguồn nước: Sông suối"]
    assert shown["explanation_vi"][0] == "Phương pháp quyết định: điểm B1."
    assert shown["explanation_vi"][1] == "Thiếu hụt Bảo hiểm y tế: (ẩn với trưởng thôn)"
    assert shown["explanation_vi"][2] == "Thiếu hụt Nguồn nước sinh hoạt: nguồn nước: Sông suối"
