"""A village head (trưởng thôn) logs in to the web pages and sees their own village read-only:
its submissions (with answers, photos, score), the round, its village-meeting lists (page, PDF,
XLSX) and minutes — nothing of the commune's other villages, nothing of other communes, no action
offered and every change refused (403).  They still use ODK Collect like a reviewer."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.exports.models import ExportJob
from server.extensions import db
from server.geography.models import Commune
from server.meetings.models import ReviewRound, VillageMeeting
from server.review.models import SubmissionEvent
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.integration.procedure import (
    add_village_heads,
    case_rows,
    exported_pdf,
    login,
    meeting_form,
    post_form,
    try_login,
)


def _make_heads(app) -> None:
    add_village_heads(app, {"truongthon1": "T01", "truongthon2": "T02"})


@pytest.fixture
def heads(app, village):
    _make_heads(app)
    # The village meeting of T01 is held (all four households pass), so minutes exist.
    data = meeting_form(10, dict.fromkeys(case_rows(app, village["round"]), 8), app)
    assert post_form(village["officer"], f"{village['url']}/hop-dan", data).status_code == 302
    with app.app_context():
        meeting_id = db.session.scalar(select(VillageMeeting.id))
        # Submission → the village its form answer names (one instance says T02).
        villages = {s.id: s.village.code for s in db.session.scalars(select(Submission))}
    t01 = sorted(sid for sid, code in villages.items() if code == "T01")
    assert len(t01) >= 2 and set(villages.values()) == {"T01", "T02"}
    return {
        "own": login(app, "truongthon1"),
        "other": login(app, "truongthon2"),
        "meeting": meeting_id,
        "submissions": t01,
        "elsewhere": sorted(set(villages) - set(t01)),
        **village,
    }


def test_a_village_head_lands_on_their_villages_submissions(app, village):
    _make_heads(app)
    browser, reply = try_login(app, "truongthon1")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/xa/phieu"
    html = browser.get("/xa/phieu").get_data(as_text=True)
    assert "(chỉ xem)" in html
    assert "Báo cáo" not in html  # no link to the commune's reports


def _sees_exactly(browser, visible: list[int], hidden: list[int]) -> None:
    """The submission list shows ``visible`` and not ``hidden``, whose pages are 404."""
    listing = browser.get("/xa/phieu").get_data(as_text=True)
    for sid in visible:
        assert f'href="/xa/phieu/{sid}"' in listing, sid
    for sid in hidden:
        assert f'href="/xa/phieu/{sid}"' not in listing, sid
        for url in (f"/xa/phieu/{sid}", f"/xa/phieu/{sid}/tep/x.jpg"):
            assert browser.get(url).status_code == 404, url


def test_the_head_sees_their_villages_submissions_read_only(app, heads):
    _sees_exactly(heads["own"], heads["submissions"], heads["elsewhere"])
    _sees_exactly(heads["other"], heads["elsewhere"], heads["submissions"])
    listing = heads["own"].get("/xa/phieu").get_data(as_text=True)
    assert 'name="ids"' not in listing  # no bulk actions
    assert "Xét duyệt hàng loạt" not in listing and 'name="page_ids"' not in listing
    detail = heads["own"].get(f"/xa/phieu/{heads['submissions'][0]}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "Hộ nghèo" in html  # the score explanation is there
    # The review state is shown, the decision is not offered.
    assert 'id="review-state">Đã nhận<' in html and 'name="state"' not in html
    assert "/trang-thai" not in html and "/ra-soat-lai" not in html and "/nhan-xet" not in html


def test_every_change_is_refused_to_a_village_head(app, heads):
    own = heads["own"]
    sid = heads["submissions"][0]
    base = f"/xa/ra-soat/{heads['round']}"
    attempts = {
        f"/xa/phieu/{sid}/trang-thai": {"state": "approved", "comment": "ok"},
        f"/xa/phieu/{sid}/nhan-xet": {"comment": "xem"},
        f"/xa/phieu/{sid}/ra-soat-lai": {"reason": "sai"},
        "/xa/phieu/hang-loat": {"ids": str(sid), "state": "approved"},
        "/xa/ra-soat": {"commune": "X1", "year": "2027", "kind": "dinh_ky"},
        f"{base}/lap-danh-sach": {},
        f"{heads['url']}/hop-dan": meeting_form(10, {}, app),
        f"{base}/niem-yet": {"place": "Nhà văn hóa", "starts_on": "2026-11-21", "days": "7"},
        f"{base}/khieu-nai": {"household_code": "X1-T01-0101", "content": "x"},
        f"{base}/quyet-dinh": {"number": "1/QĐ-UBND", "signed_on": "2026-12-01"},
        f"{base}/tu-choi": {"household_code": "X1-T01-0101", "reason": "x"},
        "/xuat": {"round_id": str(heads["round"]), "format": "xlsx"},
    }
    for url, data in attempts.items():
        assert post_form(own, url, data).status_code == 403, url
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubmissionEvent)) == 0
        assert db.session.scalar(select(func.count()).select_from(ReviewRound)) == 1
        assert db.session.scalar(select(func.count()).select_from(VillageMeeting)) == 1
        states = set(db.session.scalars(select(Submission.review_state)))
        assert states == {"received"}


def test_pages_outside_the_village_head_view_are_forbidden(heads):
    own = heads["own"]
    base = f"/xa/ra-soat/{heads['round']}"
    for url in (
        f"{base}/niem-yet",
        f"{base}/quyet-dinh",
        f"{base}/quyet-dinh.pdf",
        "/bao-cao",
        "/bao-cao.xlsx",
        "/admin/nhat-ky",
        "/admin/forms",
        "/admin/b1-tables",
    ):
        assert own.get(url).status_code == 403, url


def test_the_head_reads_their_villages_lists_and_minutes_only(app, heads):
    own, other = heads["own"], heads["other"]
    base = f"/xa/ra-soat/{heads['round']}"
    rounds = own.get("/xa/ra-soat").get_data(as_text=True)
    assert f'href="{base}"' in rounds
    assert "Mở đợt rà soát" not in rounds
    round_page = own.get(base).get_data(as_text=True)
    assert "/thon/T01" in round_page and "/thon/T02" not in round_page
    assert "lap-danh-sach" not in round_page and "/xuat" not in round_page
    lists = own.get(heads["url"])
    assert lists.status_code == 200
    html = lists.get_data(as_text=True)
    assert "Nguyễn Văn Lâm" in html
    assert "Ghi biên bản họp dân" not in html
    assert f'action="{heads["url"]}/hop-dan"' not in html
    assert 'name="kind" value="minutes_pdf"' in html  # the minutes of the meeting held
    # The PDFs are made in the background: the head asks for them as for the page.
    pdf = exported_pdf(own, "village_lists_pdf", round_id=heads["round"], village_code="T01")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "NguyễnVănLâm" in re.sub(r"\s+", "", text)
    xlsx = own.get(f"{heads['url']}/danh-sach.xlsx")
    sheet_text = " ".join(
        str(cell.value)
        for ws in load_workbook(io.BytesIO(xlsx.data)).worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    )
    assert "Nguyễn Văn Lâm" in sheet_text
    minutes = exported_pdf(own, "minutes_pdf", round_id=heads["round"], meeting_id=heads["meeting"])
    assert minutes.startswith(b"%PDF")
    assert own.get(f"{base}/hop-dan/{heads['meeting']}/bien-ban.pdf").status_code == 200  # offer
    # The head of T02: the round, but not T01's lists nor its minutes.
    assert "/thon/T01" not in other.get(base).get_data(as_text=True)
    for url in (
        heads["url"],
        f"{heads['url']}/danh-sach.pdf",
        f"{heads['url']}/danh-sach.xlsx",
        f"{base}/hop-dan/{heads['meeting']}/bien-ban.pdf",
    ):
        assert other.get(url).status_code == 404, url
    # … nor the files made for T01's head, nor can they ask for T01's.
    with app.app_context():
        jobs = db.session.scalars(select(ExportJob.id)).all()
    assert len(jobs) == 2
    for job in jobs:
        for url in (f"/xuat/{job}", f"/xuat/{job}/tep"):
            assert other.get(url).status_code == 404, url
            assert own.get(url).status_code == 200, url
    for kind, fields in (
        ("village_lists_pdf", {"village_code": "T01"}),
        ("minutes_pdf", {"meeting_id": heads["meeting"]}),
    ):
        reply = post_form(other, "/xuat", {"kind": kind, "round_id": heads["round"]} | fields)
        assert reply.status_code == 404, kind
    # The commune's other files are not a village head's.
    for kind in ("commune_lists_pdf", "posting_pdf", "decision_pdf", "certificates_pdf"):
        reply = post_form(own, "/xuat", {"kind": kind, "round_id": heads["round"], "number": 1})
        assert reply.status_code == 403, kind
    with app.app_context():
        assert db.session.scalars(select(ExportJob.id)).all() == jobs


def test_a_village_head_of_another_commune_sees_nothing_here(app, heads):
    with app.app_context():
        x2_village = db.session.scalar(select(Commune).where(Commune.code == "X2")).villages[0]
        code = x2_village.code
    add_village_heads(app, {"truongthon-x2": code}, commune="X2")
    stranger = login(app, "truongthon-x2")
    base = f"/xa/ra-soat/{heads['round']}"
    assert base not in stranger.get("/xa/ra-soat").get_data(as_text=True)
    for url in (base, heads["url"], f"/xa/phieu/{heads['submissions'][0]}"):
        assert stranger.get(url).status_code == 404, url


def test_a_village_head_needs_a_village(app, seeded):
    from server.errors import AppError

    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        with pytest.raises(AppError) as raised:
            create_user(
                username="truongthon-x",
                display_name="Trưởng thôn",
                role=Role.VILLAGE_HEAD,
                password="matkhau-123",
                commune=x1,
            )
    assert "ít nhất một thôn" in raised.value.message_vi


def test_a_village_head_still_uses_odk_collect_for_their_village(app, village):
    _make_heads(app)
    phone = CollectClient(FlaskTransport(app), "http://rasoat.test")
    phone.username, phone.password = "truongthon1", "matkhau-123"
    forms = phone.form_list()
    assert any(f.form_id == "phieu_b_2022" for f in forms)
