"""A household's written request (Mẫu số 01 / 04), filled by the ODK Web Forms engine and sent
like Collect, appears on the monthly round of the month it arrived in, linked to the household's
case in that round (by household code, or by head and village for a household not on any list),
with the 15-day deadline: unanswered requests past it are flagged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.i18n import vietnam_today
from server.meetings.models import ReviewRound
from server.meetings.requests import request_forms
from tests.engines import webforms
from tests.forms import test_income_and_characteristics as income_forms
from tests.forms import test_requests_and_phieu_a as request_forms_cases
from tests.integration.procedure import add_village_heads, login, open_monthly_round, post_form


def _fill(tmp, form: str, steps):
    return webforms.fill_form(
        request_forms_cases._form(form),
        steps(tmp),
        tmp / "out",
        attachments_dir=request_forms_cases._media(form),
    )


@pytest.fixture(scope="module")
def requests_filled(tmp_path_factory):
    webforms.ensure_installed()
    return {
        # Mẫu 04 of the listed household X1-T02-0001 — re-pointed below at X1-T01-0101.
        "mau_04": _fill(
            tmp_path_factory.mktemp("m4"),
            "mau_04_de_nghi_thoat_ngheo",
            request_forms_cases.mau04_thoat_ngheo,
        ),
        # Mẫu 01 of a household on no list: Nguyễn Thị Lan, village T01.
        "mau_01": _fill(
            tmp_path_factory.mktemp("m1"),
            "mau_01_de_nghi",
            request_forms_cases.mau01_kinh_muc_song_tb,
        ),
    }


def _as_registry_household(filled):
    """The Mẫu 04 instance, for household X1-T01-0101 of the procedure's registry."""
    xml = filled.xml
    for old, new in (
        ("<hh_code>X1-T02-0001</hh_code>", "<hh_code>X1-T01-0101</hh_code>"),
        ("<village>T02</village>", "<village>T01</village>"),
        ("<head_name>Đinh Thị Hờ</head_name>", "<head_name>Nguyễn Văn Lâm</head_name>"),
    ):
        assert old.encode() in xml, old
        xml = xml.replace(old.encode(), new.encode())
    return webforms.FilledInstance(xml=xml, instance_id=filled.instance_id, files=filled.files)


@pytest.fixture
def monthly(app, seeded, village, publish_shipped, requests_filled):
    publish_shipped("mau_01_de_nghi")
    publish_shipped("mau_04_de_nghi_thoat_ngheo")
    income_forms.post(app, seeded, _as_registry_household(requests_filled["mau_04"]))
    income_forms.post(app, seeded, requests_filled["mau_01"])
    officer = village["officer"]
    url = open_monthly_round(officer)
    assert post_form(officer, f"{url}/lap-danh-sach", {}).status_code == 302
    return {"officer": officer, "url": url, "annual": f"/xa/ra-soat/{village['round']}"}


def test_the_request_forms_are_data():
    forms = request_forms()
    assert set(forms) == {"mau_01_de_nghi", "mau_04_de_nghi_thoat_ngheo"}
    assert forms["mau_04_de_nghi_thoat_ngheo"]["household_code"] == "hh_code"
    assert forms["mau_01_de_nghi"]["household_code"] is None


def test_requests_are_listed_on_the_monthly_round_with_their_cases(app, monthly):
    html = monthly["officer"].get(monthly["url"]).get_data(as_text=True)
    # In the page's body, not (as it was) inside its <title>.
    assert html.index("<main>") < html.index('id="requests-h"')
    assert "Giấy đề nghị" not in html.split("</title>", 1)[0]
    section = html.split('id="requests-h"', 1)[1]
    assert "(2)" in section.split("</h2>", 1)[0]
    assert "Mẫu số 04" in section and "Mẫu số 01" in section
    rows = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    by_form = {("04" if "Mẫu số 04" in row else "01"): row for row in rows}
    # Mẫu 04 → the household's case in this round, waiting for its village meeting.
    assert "X1-T01-0101" in by_form["04"] and "Nguyễn Văn Lâm" in by_form["04"]
    assert "Đinh Thị Hờ" in by_form["04"]  # the applicant as typed on the phone
    assert "Hộ thoát nghèo" in by_form["04"]  # the request's choice label
    assert "Chờ họp dân" in by_form["04"]
    # Mẫu 01 of a household not surveyed in this round yet: said so.
    assert "Nguyễn Thị Lan" in by_form["01"]
    assert "Xác định hộ có mức sống trung bình" in by_form["01"]
    assert "Hộ nộp trực tiếp tại UBND xã" in by_form["01"]
    assert "chưa có kết quả rà soát trong đợt này" in by_form["01"]
    assert "quá hạn" not in section
    deadline = (vietnam_today() + timedelta(days=15)).strftime("%d/%m/%Y")
    assert deadline in section
    # The annual round has no such section.
    annual = monthly["officer"].get(monthly["annual"]).get_data(as_text=True)
    assert 'id="requests-h"' not in annual


def test_unanswered_requests_past_the_deadline_are_flagged(app, monthly):
    with app.app_context(), write_transaction(db.session):
        review = db.session.scalar(select(ReviewRound).where(ReviewRound.kind == "thuong_xuyen"))
        review.deadline = vietnam_today() - timedelta(days=1)
    section = monthly["officer"].get(monthly["url"]).get_data(as_text=True)
    section = section.split('id="requests-h"', 1)[1]
    assert section.count("quá hạn") == 2


def test_a_village_head_sees_only_their_villages_requests(app, monthly):
    add_village_heads(app, {"truongthon1": "T01", "truongthon2": "T02"})
    own = login(app, "truongthon1").get(monthly["url"]).get_data(as_text=True)
    assert "(2)" in own.split('id="requests-h"', 1)[1].split("</h2>", 1)[0]
    other = login(app, "truongthon2").get(monthly["url"]).get_data(as_text=True)
    assert "(0)" in other.split('id="requests-h"', 1)[1].split("</h2>", 1)[0]
    assert "Nguyễn Thị Lan" not in other
