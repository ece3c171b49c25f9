"""The least shown (issue 14): a real Mẫu số 04 (filled by the ODK Web Forms engine, sent like
Collect) with the applicant's CCCD 064189004455 and birth date 1989-02-03, and a Mẫu số 01 with
members' birth years, read by each role:

- the commune officer and the province administrator see the ID number masked
  ("•••••••••455") with a "Hiện số" button, the birth dates in full; "Hiện số" (a POST) shows
  the number for that page view and writes one audit record naming the field;
- the village head of the household's village sees "(ẩn với trưởng thôn)" for the ID number,
  the birth dates, and a Phiếu B's health, disability and income answers, no "Hiện số", and is
  refused (403) if they post it; the score panel keeps the category and counts;
- the village's meeting lists (page, PDF, XLSX), the commune-wide XLSX and the public posting
  carry no ID number or birth date of the filled instances."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from server.access.models import AccessRecord
from server.audit.models import AuditEvent
from server.exports import runner
from server.extensions import db
from server.submissions.models import Submission
from tests.forms import test_income_and_characteristics as income_forms
from tests.integration.procedure import (
    add_village_heads,
    case_rows,
    exported_pdf,
    login,
    meeting_form,
    post_form,
)
from tests.integration.test_household_workspace import (  # the household with an income survey
    commune,  # noqa: F401
    income_instance,  # noqa: F401
)
from tests.integration.test_monthly_requests import (
    _as_registry_household,
    requests_filled,  # noqa: F401
)

ID_NUMBER = "064189004455"
MASKED = "•••••••••455"
BIRTH_DATE = "1989-02-03"
BIRTH_DATE_SHOWN = "03/02/1989"  # as pages show a date answer
HIDDEN = "(ẩn với trưởng thôn)"


@pytest.fixture
def filed(app, seeded, village, publish_shipped, requests_filled):  # noqa: F811
    """The Mẫu 04 of household X1-T01-0101 (village T01) and the Mẫu 01 of Nguyễn Thị Lan
    (T01); a village head of T01 (tt.t01)."""
    publish_shipped("mau_01_de_nghi")
    publish_shipped("mau_04_de_nghi_thoat_ngheo")
    mau_04 = _as_registry_household(requests_filled["mau_04"])
    assert ID_NUMBER.encode() in mau_04.xml and BIRTH_DATE.encode() in mau_04.xml
    income_forms.post(app, seeded, mau_04)
    income_forms.post(app, seeded, requests_filled["mau_01"])
    add_village_heads(app, {"tt.t01": "T01"})
    with app.app_context():
        ids = {
            s.form.xml_form_id: s.id
            for s in db.session.scalars(select(Submission).order_by(Submission.id.desc()))
            if s.village is not None and s.village.code == "T01"
        }
    assert set(ids) == {"phieu_b_2022", "mau_01_de_nghi", "mau_04_de_nghi_thoat_ngheo"}, ids
    return {**village, "ids": ids}


def _page(browser, url: str) -> str:
    reply = browser.get(url)
    assert reply.status_code == 200, (url, reply.status_code)
    return reply.get_data(as_text=True)


def _answer(page: str, label: str) -> list[str]:
    """The shown values of every answer row labelled ``label``."""
    return [
        re.sub(r"<form.*?</form>", "", value, flags=re.S).strip()
        for value in re.findall(rf">{re.escape(label)}</th><td>(.*?)</td></tr>", page, flags=re.S)
    ]


def _reveals(app) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(select(AuditEvent).where(AuditEvent.action == "personal.reveal_id"))
        )


@pytest.mark.parametrize("username", ["canbo1", "admin1"])
def test_staff_see_the_id_number_masked_and_reveal_it_on_demand(app, filed, username):
    browser = login(app, username)
    url = f"/xa/phieu/{filed['ids']['mau_04_de_nghi_thoat_ngheo']}"
    page = _page(browser, url)
    assert ID_NUMBER not in page
    assert _answer(page, "Số CCCD/CMND") == [MASKED]
    assert "Hiện số" in page and 'name="field" value="nguoi_de_nghi/id_number"' in page
    assert _answer(page, "Ngày, tháng, năm sinh") == [BIRTH_DATE_SHOWN]
    assert _reveals(app) == []

    reply = post_form(browser, f"{url}/hien-so", {"field": "nguoi_de_nghi/id_number"})
    assert reply.status_code == 200
    shown = reply.get_data(as_text=True)
    assert _answer(shown, "Số CCCD/CMND") == [ID_NUMBER]
    [event] = _reveals(app)
    assert event.target_type == "submission"
    assert event.target_id == str(filed["ids"]["mau_04_de_nghi_thoat_ngheo"])
    assert event.note == "nguoi_de_nghi/id_number"
    with app.app_context():
        assert db.session.get(AuditEvent, event.id).actor.username == username
        looks = db.session.scalars(
            select(AccessRecord).where(AccessRecord.kind == "id_number_reveal")
        ).all()
    assert [(a.username, a.submission_id, a.ref) for a in looks] == [
        (username, filed["ids"]["mau_04_de_nghi_thoat_ngheo"], "field:nguoi_de_nghi/id_number")
    ]
    # Only for that page view: the page opened again masks it.
    assert ID_NUMBER not in _page(browser, url)
    # The audit log names the action in words.
    assert "Xem số CCCD/CMND đầy đủ" in _page(login(app, "admin1"), "/admin/nhat-ky")


def test_a_reveal_of_what_is_not_an_id_number_is_refused(app, filed):
    browser = login(app, "canbo1")
    url = f"/xa/phieu/{filed['ids']['mau_04_de_nghi_thoat_ngheo']}/hien-so"
    for field in ("nguoi_de_nghi/applicant_dob", "members[1]/m_id", "x" * 5000, ""):
        reply = post_form(browser, url, {"field": field})
        assert reply.status_code == 400, field
        assert ID_NUMBER not in reply.get_data(as_text=True)
    assert _reveals(app) == []


def test_a_village_head_sees_none_of_it_and_cannot_reveal(app, filed):
    head = login(app, "tt.t01")
    url = f"/xa/phieu/{filed['ids']['mau_04_de_nghi_thoat_ngheo']}"
    page = _page(head, url)
    assert ID_NUMBER not in page and "455" not in page
    assert BIRTH_DATE not in page and BIRTH_DATE_SHOWN not in page
    assert _answer(page, "Số CCCD/CMND") == [HIDDEN]
    assert _answer(page, "Ngày, tháng, năm sinh") == [HIDDEN]
    assert _answer(page, "Họ và tên người đề nghị") == ["Đinh Thị Hờ"]
    assert "Hiện số" not in page
    reply = post_form(head, f"{url}/hien-so", {"field": "nguoi_de_nghi/id_number"})
    assert reply.status_code == 403
    assert ID_NUMBER not in reply.get_data(as_text=True)
    assert _reveals(app) == []
    # Mẫu 01: the members' birth years are hidden too, their names are not.
    page = _page(head, f"/xa/phieu/{filed['ids']['mau_01_de_nghi']}")
    assert _answer(page, "Năm sinh") == [HIDDEN, HIDDEN]
    assert "1972" not in page and "2004" not in page
    assert "Lê Văn Khoa" in page
    officer = _page(login(app, "canbo1"), f"/xa/phieu/{filed['ids']['mau_01_de_nghi']}")
    assert _answer(officer, "Năm sinh") == ["1972", "2004"]


def test_a_village_head_reads_a_phieu_b_without_health_disability_or_income(app, filed):
    head, officer = login(app, "tt.t01"), login(app, "canbo1")
    url = f"/xa/phieu/{filed['ids']['phieu_b_2022']}"
    as_head, as_officer = _page(head, url), _page(officer, url)
    for label in (
        "Có thẻ bảo hiểm y tế còn hạn không?",
        "Tình trạng khuyết tật",
        "Mắc bệnh nặng, bệnh hiểm nghèo, không còn khả năng lao động?",
        "Đang hưởng lương hưu hoặc trợ cấp BHXH hàng tháng?",
    ):
        shown = _answer(as_head, label)
        assert shown and set(shown) == {HIDDEN}, label
        assert HIDDEN not in _answer(as_officer, label), label
    # Members' names and ages, housing and the photo stay.
    assert _answer(as_head, "Tuổi (tuổi tròn)") == _answer(as_officer, "Tuổi (tuổi tròn)")
    assert _answer(as_head, "Vật liệu chính của mái nhà") == _answer(
        as_officer, "Vật liệu chính của mái nhà"
    )
    assert as_head.count("<img ") == as_officer.count("<img ")
    # The score: the category and the counts stay.
    category = re.compile(r'<strong class="category [^"]+">([^<]+)</strong>')
    assert category.findall(as_head) == category.findall(as_officer)
    deprivations = re.compile(r"\(\d+ chỉ số thiếu hụt\)")
    assert deprivations.findall(as_head) == deprivations.findall(as_officer) != []
    # Each indicator keeps its outcome; its reasons are the officer's or hidden, never a health,
    # disability, illness or money fact.
    rows = re.compile(
        r'<tr class="(\w+)" data-indicator="(\w+)">.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>', re.S
    )
    head_rows, officer_rows = rows.findall(as_head), rows.findall(as_officer)
    assert [r[:2] for r in head_rows] == [r[:2] for r in officer_rows] != []
    for (_outcome, code, reason), (_o, _c, full) in zip(head_rows, officer_rows, strict=True):
        assert reason in (full, HIDDEN), code
        assert not re.search(r"khuyết tật|bệnh|bảo hiểm y tế|dinh dưỡng|\d đ", reason), code
    explanation = re.search(r'<ol class="explanation">(.*?)</ol>', as_head, re.S).group(1)
    assert not re.search(r"khuyết tật|bệnh|bảo hiểm y tế|suy dinh dưỡng|\d đ", explanation)
    assert HIDDEN in explanation or any(r[2] == HIDDEN for r in head_rows)
    # The calculated fields asked for: what the form computed from health answers is hidden.
    computed = _page(head, f"{url}?tinh-toan=1")
    assert set(_answer(computed, "d_bhyt")) == {HIDDEN}
    assert HIDDEN not in _answer(_page(officer, f"{url}?tinh-toan=1"), "d_bhyt")


def _xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return " ".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_lists_exports_and_the_posting_carry_no_id_number_or_birth_date(app, filed):
    officer, head = filed["officer"], login(app, "tt.t01")
    round_id, base = filed["round"], f"/xa/ra-soat/{filed['round']}"
    voted = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    data = meeting_form(30, dict.fromkeys(voted, 30), app)
    assert post_form(officer, f"{filed['url']}/hop-dan", data).status_code == 302
    reply = post_form(
        officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"}
    )
    assert reply.status_code == 302
    texts = {
        "village page (officer)": _page(officer, filed["url"]),
        "village page (village head)": _page(head, filed["url"]),
        "village xlsx": _xlsx_text(officer.get(f"{filed['url']}/danh-sach.xlsx").data),
        "village xlsx (village head)": _xlsx_text(head.get(f"{filed['url']}/danh-sach.xlsx").data),
        "village pdf": _pdf_text(
            exported_pdf(officer, "village_lists_pdf", round_id=round_id, village_code="T01")
        ),
        "posting pdf": _pdf_text(exported_pdf(officer, "posting_pdf", round_id=round_id, number=1)),
    }
    reply = post_form(officer, "/xuat", {"round_id": str(round_id), "format": "xlsx"})
    job = reply.headers["Location"]
    assert runner.join_threads(120)
    texts["commune xlsx"] = _xlsx_text(officer.get(f"{job}/tep").data)
    assert "X1-T01-0101" in texts["posting pdf"] and "X1-T01-0101" in texts["commune xlsx"]
    for where, text in texts.items():
        squashed = re.sub(r"\s+", "", text)
        for secret in (ID_NUMBER, "064189", BIRTH_DATE, "03/02/1989", "1989", "02/1989"):
            assert secret not in squashed, (where, secret)


def test_a_village_head_reads_a_household_page_without_income_figures(app, commune):  # noqa: F811
    """The household page of X1-T01-0102 (Phiếu B and an income survey above the line): the
    officer reads the measured income, the village head of T01 only that there is a survey,
    and the score's category."""
    add_village_heads(app, {"tt.t01": "T01"})
    officer = _page(login(app, "canbo1"), "/xa/ho/X1-T01-0102")
    head = _page(login(app, "tt.t01"), "/xa/ho/X1-T01-0102")
    assert "đ/người/tháng" in officer and "Thu nhập đo được" in officer
    assert "đ/người/tháng" not in head and "Thu nhập đo được" not in head
    assert "Khảo sát thu nhập" in head and HIDDEN in head
    category = re.compile(r'<strong class="category [^"]+">([^<]+)</strong>')
    assert category.findall(head) == category.findall(officer) != []
