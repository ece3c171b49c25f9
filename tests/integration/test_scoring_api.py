"""``POST /api/v1/score``: facts in, classification and explanation out; every field error."""

from __future__ import annotations


def healthy(**kw):
    member = {
        "name": "Nguyễn Văn A",
        "age": 40,
        "sex": "1",
        "work_status": "nong_nghiep",
        "disability": "khong",
        "serious_illness": False,
        "health_insurance": True,
        "in_school": False,
        "education": "thpt",
        "qualification": "khong",
        "employer_training": False,
    }
    base = {
        "members": [member],
        "area_type": "rural",
        "floor_area": 30,
        "wall": "gach_da",
        "frame": "btct",
        "roof": "ngoi",
        "water_source": "nuoc_mat",
        "latrine": "khong_co",
        "telecom_use": False,
        "info_devices": ["tivi"],
        "b1": {
            "b1_hh_size": 1,
            "b1_dependants": 0,
            "b1_top_qual": "thpt",
            "b1_pension": "khong",
            "nonfarm_work": "khong",
            "electricity": "kwh_duoi_25",
            "b1_assets": ["xe_may"],
        },
    }
    return base | kw


def test_score_with_the_demo_table_is_explained_and_labelled(client):
    reply = client.post(
        "/api/v1/score",
        json={
            "household": healthy(),
            "year": 2026,
            "b1_table": "demo_2022_2025_rural",
        },
    )
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body["standard"] == "2022_2025"
    assert body["score_a"] == 60 + 15 + 5 + 10  # demo points for these answers
    assert (body["score_b"], body["category"]) == (30, "ngheo")
    assert body["category_vi"] == "Hộ nghèo"
    assert body["b1_table_disclaimer"] == "minh họa — không phải số liệu chính thức"
    assert body["provisional"] is True
    deprived = [i["code"] for i in body["indicators"] if i["outcome"] == "deprived"]
    assert deprived == ["nuoc_sinh_hoat", "nha_tieu", "vien_thong"]
    assert any(line.startswith("Điểm A = 90 ≤ 140") for line in body["explanation_vi"])


def test_without_table_no_verdict_and_2027_uses_new_standard(client):
    reply = client.post("/api/v1/score", json={"household": healthy(), "year": 2027})
    assert reply.json["standard"] == "2027_2030"
    assert reply.json["category"] == "chua_danh_gia"


def test_malformed_input_reports_every_field_error(client):
    reply = client.post(
        "/api/v1/score",
        json={
            "household": {
                "members": [{"age": -1, "sex": "nam"}],
                "area_type": "mountain",
                "floor_area": "big",
            },
            "year": 2026,
            "standard": "2022_2025",
        },
    )
    assert reply.status_code == 400
    details = reply.json["details"]
    assert set(details["household"]) == {"members", "area_type", "floor_area"}
    assert set(details["household"]["members"]["0"]) == {"age", "sex"}
    assert "standard" in details
    assert client.post("/api/v1/score", data="not json").status_code == 400
    unknown = client.post("/api/v1/score", json={"household": {}, "b1_table": "khong_co"})
    assert unknown.status_code == 400 and unknown.json["code"] == "score.no_table"


def test_openapi_description_covers_the_score_endpoint(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.0.3"
    operation = spec["paths"]["/api/v1/score"]["post"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ScoreRequest"
    assert "household" in spec["components"]["schemas"]["ScoreRequest"]["properties"]
    form_id = spec["components"]["schemas"]["ScoreRequest"]["properties"]["form_id"]
    assert "phieu_b_2022" in form_id["description"]
    assert "form_id" in operation["description"]


def _reasons(body: dict) -> dict[str, list[str]]:
    return {i["code"]: i["reasons"] for i in body["indicators"]}


def test_reasons_name_answers_by_the_labels_of_the_form_given(client):
    household = healthy(wall="dat", frame="tre", roof="la_tranh", info_devices=["tivi", "radio"])
    worded = client.post(
        "/api/v1/score", json={"household": household, "year": 2026, "form_id": "phieu_b_2022"}
    )
    assert worded.status_code == 200, worded.json
    reasons = _reasons(worded.json)
    # The labels of Phiếu B 2022's choice lists (xlsforms/phieu_b_2022.xlsx).
    assert reasons["nuoc_sinh_hoat"] == [
        "không tiếp cận nguồn nước sạch (nguồn nước: Nước sông, suối, ao, hồ)"
    ]
    assert reasons["nha_tieu"] == ["không dùng nhà tiêu hợp vệ sinh (nhà tiêu: Không có nhà tiêu)"]
    assert reasons["chat_luong_nha"] == [
        "ít nhất 2 trong 3 kết cấu chính (tường, khung cột, mái) không bền chắc "
        "(vật liệu tường: Đất (trình tường), vôi rơm; khung cột: Tre, nứa, luồng; "
        "mái: Lá, tranh, tre, nứa)"
    ]
    assert reasons["phuong_tien_tt"] == ["phương tiện thông tin: Radio, đài, Ti vi"]
    assert any(
        "(nguồn nước: Nước sông, suối, ao, hồ)" in line for line in worded.json["explanation_vi"]
    )
    # Without a form, the same sentences name the canonical codes.
    coded = client.post("/api/v1/score", json={"household": household, "year": 2026})
    assert _reasons(coded.json)["nuoc_sinh_hoat"] == [
        "không tiếp cận nguồn nước sạch (nguồn nước: nuoc_mat)"
    ]
    assert _reasons(coded.json)["phuong_tien_tt"] == ["phương tiện thông tin: radio, tivi"]
    # The verdict does not depend on the words.
    assert worded.json["category"] == coded.json["category"]
    assert worded.json["score_b"] == coded.json["score_b"] == 40


def test_an_unknown_form_for_the_words_is_refused_naming_the_shipped_ones(client):
    reply = client.post(
        "/api/v1/score", json={"household": healthy(), "year": 2026, "form_id": "phieu_a"}
    )
    assert reply.status_code == 400
    assert reply.json["code"] == "score.no_form"
    assert reply.json["details"]["form_id"] == ["phieu_b_2022", "phieu_b_2027"]
