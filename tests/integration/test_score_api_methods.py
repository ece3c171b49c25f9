"""``POST /api/v1/score`` with measured income, a B1 score given directly, both methods at once,
and B1 tables that do not fit the household (issue 12).

Figures from ``shared/domain/regulations.md``: lines 1,500,000 / 2,000,000 đ (2022–2025) and
2,200,000 / 2,800,000 đ (2027–2030); poor ⇔ income ≤ line and B ≥ 30; B1 cut-offs 140 / 175.
"""

from __future__ import annotations

from tests.integration.test_scoring_api import healthy


def facts(**kw):
    """``healthy()`` without B1 answers: deprived in water, latrine and telecom (B = 30) and not
    in the 2027–2030 digital-services and waste indicators."""
    return healthy(b1={}, digital_use=["internet"], waste="thu_gom") | kw


def score(client, **body):
    return client.post("/api/v1/score", json=body)


def test_measured_income_alone_classifies_and_says_so(client):
    reply = score(
        client,
        household=facts(income={"per_person_month": 1_500_000, "agricultural": False}),
        year=2026,
    )
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert (body["category"], body["score_b"]) == ("ngheo", 30)
    assert body["method"] == "income"
    assert body["method_vi"] == "thu nhập bình quân đầu người đo được"
    assert (body["income_line"], body["methods_disagree"], body["b1_given"]) == (
        1_500_000,
        False,
        False,
    )
    assert (body["income_category"], body["b1_category"]) == ("ngheo", None)
    assert "1.500.000 đ/người/tháng ≤ chuẩn nghèo 1.500.000 đ" in body["explanation_vi"][1]

    over = score(
        client,
        household=facts(income={"per_person_month": 1_500_001, "agricultural": False}),
        year=2026,
    )
    assert over.json["category"] == "khong_ngheo_khong_can_ngheo"


def test_2027_urban_household_is_classified_by_income(client):
    for income, category in ((2_800_000, "ngheo"), (2_800_001, "khong_ngheo_khong_can_ngheo")):
        reply = score(
            client,
            household=facts(
                area_type="urban", income={"per_person_month": income, "agricultural": True}
            ),
            year=2027,
        )
        assert reply.status_code == 200, reply.json
        assert (reply.json["standard"], reply.json["category"]) == ("2027_2030", category)
        assert (reply.json["method"], reply.json["income_line"]) == ("income", 2_800_000)


def test_both_methods_present_b1_decides_in_2026_and_the_disagreement_is_flagged(client):
    # The demo table gives these B1 answers A = 90 ≤ 140; measured income is over the line.
    reply = score(
        client,
        household=healthy(income={"per_person_month": 1_600_000, "agricultural": True}),
        year=2026,
        b1_table="demo_2022_2025_rural",
    )
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert (body["score_a"], body["method"], body["category"]) == (90, "b1", "ngheo")
    assert body["income_category"] == "muc_song_trung_binh"
    assert body["methods_disagree"] is True
    assert any("không thống nhất" in line for line in body["explanation_vi"])


def test_a_b1_score_given_directly_is_used_and_reported_as_given(client):
    at = score(client, household=facts(), year=2026, b1_score=140)
    assert at.status_code == 200, at.json
    assert (at.json["category"], at.json["method"], at.json["b1_given"]) == ("ngheo", "b1", True)
    assert (at.json["score_a"], at.json["cutoff"], at.json["b1_table"]) == (140, 140, None)
    assert (
        "Điểm A do người gọi cung cấp (không tính từ câu trả lời B1)." in at.json["explanation_vi"]
    )
    over = score(client, household=facts(area_type="urban"), year=2026, b1_score=175.5)
    assert over.json["category"] == "khong_ngheo_khong_can_ngheo"


def test_a_given_b1_score_conflicts_with_b1_answers_or_a_table(client):
    with_table = score(
        client, household=facts(), year=2026, b1_score=100, b1_table="demo_2022_2025_rural"
    )
    assert with_table.status_code == 400
    assert with_table.json["code"] == "score.b1_conflict"
    assert with_table.json["details"]["conflict"] == ["b1_score", "b1_table"]
    with_answers = score(client, household=healthy(), year=2026, b1_score=100)
    assert with_answers.status_code == 400
    assert with_answers.json["details"]["conflict"] == ["b1_score", "household.b1"]
    assert "household.b1" in with_answers.json["message"]


def test_a_given_b1_score_is_bounded(client):
    for bad in (10_001, -10_001, "many", True):
        reply = score(client, household=facts(), year=2026, b1_score=bad)
        assert reply.status_code == 400, bad
        assert "b1_score" in reply.json["details"]


def test_a_b1_table_of_another_area_or_standard_is_refused_naming_the_mismatch(client):
    urban = score(
        client, household=healthy(area_type="urban"), year=2026, b1_table="demo_2022_2025_rural"
    )
    assert urban.status_code == 400
    assert urban.json["code"] == "score.table_mismatch"
    assert urban.json["details"]["mismatch"] == {
        "area_type": {"table": "rural", "household": "urban"}
    }
    later = score(client, household=healthy(), year=2027, b1_table="demo_2022_2025_rural")
    assert later.status_code == 400
    assert later.json["details"]["mismatch"] == {
        "standard": {"table": "2022_2025", "household": "2027_2030"}
    }
    assert "2027_2030" in later.json["message"]


def test_openapi_describes_the_new_fields(client):
    spec = client.get("/api/v1/openapi.json").json
    request = spec["components"]["schemas"]["ScoreRequest"]["properties"]
    assert request["b1_score"]["maximum"] == 10_000
    response = spec["components"]["schemas"]["ScoreOut"]["properties"]
    assert {"method", "method_vi", "methods_disagree", "income_line", "b1_given"} <= set(response)


def test_a_b1_table_of_another_income_region_is_refused(client, monkeypatch):
    from server.scoring import routes
    from server.scoring.b1 import table_from_dict

    regional = table_from_dict(
        {
            "code": "vung_tn",
            "version": "1",
            "standard": "2022_2025",
            "region": "tay_nguyen",
            "area_type": "rural",
            "status": "demo",
            "source": "test",
            "label_vi": "bảng thử",
            "items": {"a": {"kind": "choice", "options": {"x": 100}}},
        },
        "test",
    )
    monkeypatch.setattr(routes, "current_table", lambda code: regional)
    elsewhere = score(
        client, household=healthy(region="dbscl", b1={"a": "x"}), year=2026, b1_table="vung_tn"
    )
    assert elsewhere.status_code == 400
    assert elsewhere.json["details"]["mismatch"] == {
        "region": {"table": "tay_nguyen", "household": "dbscl"}
    }
    here = score(
        client, household=healthy(region="tay_nguyen", b1={"a": "x"}), year=2026, b1_table="x"
    )
    assert (here.status_code, here.json["score_a"], here.json["category"]) == (200, 100, "ngheo")


def test_a_given_b1_score_without_a_cut_off_is_reported_not_used(client):
    reply = score(client, household=facts(), year=2027, b1_score=100)
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert (body["category"], body["method"], body["b1_given"]) == ("chua_danh_gia", None, True)
    assert "Chuẩn này chưa có ngưỡng điểm A chính thức." in body["explanation_vi"]


def test_b1_answers_the_table_cannot_score_are_invalid_not_missing(client):
    """An option the table does not have (one answer, or one of several) is the caller's mistake:
    400 naming the item and what the table accepts; a missing answer is still "missing"."""
    from tests.integration.test_scoring_api import healthy as with_b1

    base = with_b1()
    cases = (
        ("electricity", "kwh_9999", "kwh_duoi_25"),
        ("b1_assets", ["xe_may", "phi_thuyen"], "xe_may"),
    )
    for item, answer, an_accepted_option in cases:
        reply = score(
            client,
            household=base | {"b1": base["b1"] | {item: answer}},
            year=2026,
            b1_table="demo_2022_2025_rural",
        )
        assert reply.status_code == 400, reply.json
        assert reply.json["code"] == "score.b1_invalid"
        assert item in reply.json["message"]
        assert list(reply.json["details"]["b1_invalid"]) == [item]
        assert an_accepted_option in reply.json["details"]["b1_invalid"][item]
    missing = {k: v for k, v in base["b1"].items() if k != "electricity"}
    reply = score(
        client, household=base | {"b1": missing}, year=2026, b1_table="demo_2022_2025_rural"
    )
    assert reply.status_code == 200
    assert (reply.json["b1_missing"], reply.json["b1_invalid"]) == (["electricity"], [])


def test_the_stateless_api_never_speaks_of_a_commune(client):
    reply = score(client, household=facts(), year=2026)
    assert reply.status_code == 200
    assert not any("Xã" in line for line in reply.json["explanation_vi"])
    assert any("Không có bảng điểm B1" in line for line in reply.json["explanation_vi"])


def test_provisional_is_reported_per_indicator_and_per_figure(client):
    """Over the line the verdict rests on the line only (verified): not provisional, although
    unsettled indicators are reported as such; under it, the unsettled indicator it rests on
    is named."""
    over = score(
        client,
        household=facts(income={"per_person_month": 1_500_001, "agricultural": False}),
        year=2026,
    ).json
    assert (over["category"], over["provisional"], over["provisional_vi"]) == (
        "khong_ngheo_khong_can_ngheo",
        False,
        [],
    )
    line = next(f for f in over["figures"] if f["key"] == "income_line")
    assert line == {
        "key": "income_line",
        "vi": "chuẩn thu nhập",
        "value": 1_500_000,
        "status": "verified",
        "provisional": False,
        "decides": True,
    }
    by_code = {i["code"]: i for i in over["indicators"]}
    assert by_code["vien_thong"]["provisional"] is True  # inferred in the 2022–2025 data
    assert by_code["nuoc_sinh_hoat"]["provisional"] is False
    under = score(
        client,
        household=facts(income={"per_person_month": 1_500_000, "agricultural": False}),
        year=2026,
    ).json
    assert (under["category"], under["provisional"]) == ("ngheo", True)
    assert under["provisional_vi"] == [
        "chỉ số Sử dụng dịch vụ viễn thông: tiêu chí (suy luận, chưa có văn bản)"
    ]
