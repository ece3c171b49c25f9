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
