"""After the village meeting: public posting, a complaint and its re-check, the second posting,
the chair's decision with what blocks it, the households' statuses for the year, certificates,
and the monthly review's written refusal — through the pages, with the PDFs opened."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.decisions.models import Certificate, Decision, Refusal
from server.extensions import db
from server.households.models import Household, HouseholdYearStatus
from server.i18n import vietnam_today
from server.publication.models import Complaint, Posting
from tests.integration.procedure import (
    HOUSEHOLDS,
    case_rows,
    exported_pdf,
    login,
    meeting_form,
    open_monthly_round,
    post_form,
)


def _text(pdf: bytes) -> str:
    """The PDF's text with whitespace removed (table cells wrap)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", "", text)


def _flash(browser, url) -> str:
    return browser.get(url).get_data(as_text=True)


def _all_agree(app, village):
    codes = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    reply = post_form(
        village["officer"],
        f"{village['url']}/hop-dan",
        meeting_form(30, dict.fromkeys(codes, 30), app),
    )
    assert reply.status_code == 302
    return codes


def test_posting_complaint_recheck_decision_and_certificates(app, village):
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    voted = _all_agree(app, village)
    # Deciding before posting is refused, with the reason.
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "1/QĐ-UBND", "signed_on": "2026-12-10", "signer_name": "Hồ Văn Nam"},
    )
    assert "Chưa niêm yết công khai kết quả" in _flash(officer, f"{base}/quyet-dinh")

    start = date(2026, 11, 24)
    post_form(
        officer,
        f"{base}/niem-yet",
        {"places": "Trụ sở UBND xã\nNhà văn hóa thôn Một", "starts_on": start.isoformat()},
    )
    with app.app_context():
        posting = db.session.scalar(select(Posting))
        assert (posting.number, posting.ends_on) == (1, start + timedelta(days=3))
        assert len(posting.items) == len(voted)
    assert {c.stage for code, c in case_rows(app).items() if code in voted} == {"posted"}
    notice = _text(exported_pdf(officer, "posting_pdf", round_id=village["round"], number=1))
    assert "THÔNGBÁONiêmyếtcôngkhaikếtquảràsoát" in notice and "NguyễnVănLâm" in notice
    assert "NhàvănhóathônMột" in notice

    # A complaint about the first household, then its re-check changes the result.
    target = case_rows(app)["X1-T01-0101"]
    before = target.proposed_category
    new = "can_ngheo" if before == "ngheo" else "ngheo"
    post_form(
        officer,
        f"{base}/khieu-nai",
        {
            "case_id": target.id,
            "received_on": "2026-11-25",
            "complainant": "Trần Văn Bảy",
            "content": "Hộ mới mua xe máy, đã có việc làm ổn định",
        },
    )
    assert case_rows(app)["X1-T01-0101"].stage == "complaint"
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "1/QĐ-UBND", "signed_on": "2026-12-10", "signer_name": "Hồ Văn Nam"},
    )
    assert "Còn khiếu nại chưa phúc tra" in _flash(officer, f"{base}/quyet-dinh")
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        assert complaint.recheck_due == date(2026, 11, 28)
    post_form(
        officer,
        f"{base}/khieu-nai/{complaint.id}/phuc-tra",
        {
            "rechecked_on": "2026-11-27",
            "rechecked_by": "Ban Chỉ đạo xã",
            "result": "Đã kiểm tra tại hộ",
            "outcome": "thay_doi",
            "new_category": new,
        },
    )
    changed = case_rows(app)["X1-T01-0101"]
    assert (changed.stage, changed.proposed_category) == ("changed", new)
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "1/QĐ-UBND", "signed_on": "2026-12-10", "signer_name": "Hồ Văn Nam"},
    )
    assert "kết quả thay đổi sau phúc tra chưa niêm yết lại" in _flash(
        officer, f"{base}/quyet-dinh"
    )
    # The change is posted again.
    post_form(
        officer,
        f"{base}/niem-yet",
        {"places": "Trụ sở UBND xã", "starts_on": "2026-11-28", "ends_on": "2026-12-01"},
    )
    with app.app_context():
        second = db.session.scalar(select(Posting).where(Posting.number == 2))
        assert [i.case.household_code for i in second.items] == ["X1-T01-0101"]
    # Signing during the posting period is refused; after it, accepted.
    reply = post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "1/QĐ-UBND", "signed_on": "2026-11-30", "signer_name": "Hồ Văn Nam"},
    )
    # Refused: the page again (409), with the reason and what was typed.
    assert reply.status_code == 409
    assert "Chưa hết thời gian niêm yết" in reply.get_data(as_text=True)
    assert 'value="2026-11-30"' in reply.get_data(as_text=True)
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {
            "number": "125/QĐ-UBND",
            "signed_on": "2026-12-02",
            "signer_name": "Hồ Văn Nam",
            "signer_title": "Chủ tịch UBND xã",
        },
    )
    assert "Đã ghi quyết định công nhận" in _flash(officer, f"{base}/quyet-dinh")
    cases = case_rows(app)
    assert {c.stage for c in cases.values()} == {"decided"}
    with app.app_context():
        decision = db.session.scalar(select(Decision))
        statuses = {
            h.code: s.status.value
            for h, s in db.session.execute(
                select(Household, HouseholdYearStatus)
                .join(HouseholdYearStatus)
                .where(HouseholdYearStatus.year == 2026)
            )
        }
        certified = db.session.scalars(select(Certificate).order_by(Certificate.sequence)).all()
        assert [c.number for c in certified] == [
            f"{n}/GCN-HN.HCN" for n in range(1, len(certified) + 1)
        ]
        assert {c.case.household_code for c in certified} == {
            code for code, c in cases.items() if c.final_category in ("ngheo", "can_ngheo")
        }
        assert db.session.get(type(decision.round), decision.round_id).state == "decided"
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert cases["X1-T01-0101"].final_category == new  # the re-checked result
    assert set(statuses) == set(HOUSEHOLDS)
    for code, case in cases.items():
        if case.final_category in ("ngheo", "can_ngheo"):
            assert statuses[code] == case.final_category
        elif HOUSEHOLDS[code][1] is not None and HOUSEHOLDS[code][1].value == "ngheo":
            assert statuses[code] == "thoat_ngheo"
    for action in ("posting.create", "complaint.file", "complaint.recheck", "decision.sign"):
        assert action in actions
    decision_text = _text(exported_pdf(officer, "decision_pdf", round_id=village["round"]))
    assert "QUYẾTĐỊNH" in decision_text and "125/QĐ-UBND" in decision_text
    assert "DANHSÁCHHỘNGHÈO" in decision_text and "HồVănNam" in decision_text
    certificates = exported_pdf(officer, "certificates_pdf", round_id=village["round"])
    pages = PdfReader(io.BytesIO(certificates)).pages
    assert len(pages) == len(certified)
    first = re.sub(r"\s+", "", pages[0].extract_text())
    assert "GIẤYCHỨNGNHẬN" in first and "1/GCN-HN.HCN" in first
    assert re.sub(r"\s+", "", certified[0].case.head_name) in first
    # A decided round takes no second decision.
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "126/QĐ-UBND", "signed_on": "2026-12-03", "signer_name": "Hồ Văn Nam"},
    )
    with app.app_context():
        assert len(db.session.scalars(select(Decision)).all()) == 1


def test_monthly_review_refusal_in_writing_and_deadline(app, village):
    officer = village["officer"]
    # Started today (the default, the 15th, may be later this month): the households'
    # questionnaires, sent just now, are the month's requests.
    today = vietnam_today()
    monthly = open_monthly_round(officer)
    post_form(officer, f"{monthly}/lap-danh-sach", {})
    page = _flash(officer, f"{monthly}/quyet-dinh")
    assert "Hạn:" in page and ("còn" in page or "quá hạn" in page)
    case_id = re.search(r'name="case_id"><option value="(\d+)"', page).group(1)
    reply = post_form(
        officer,
        f"{monthly}/tu-choi",
        {
            "case_id": case_id,
            "reason": "",
            "answered_on": today.isoformat(),
            "signer_name": "Hồ Văn Nam",
        },
    )
    # Refused at once: the page again (4xx) with the reason and what was typed.
    assert reply.status_code == 400
    refused_page = reply.get_data(as_text=True)
    assert "Cần ghi rõ lý do" in refused_page and 'value="Hồ Văn Nam"' in refused_page
    post_form(
        officer,
        f"{monthly}/tu-choi",
        {
            "case_id": case_id,
            "reason": "Điểm B1 trên chuẩn, hộ không thiếu hụt",
            "answered_on": today.isoformat(),
            "signer_name": "Hồ Văn Nam",
        },
    )
    with app.app_context():
        refusal = db.session.scalar(select(Refusal))
        assert refusal.case.stage == "refused"
    letter = _text(officer.get(f"{monthly}/tu-choi/{refusal.id}.pdf").data)
    assert "VĂNBẢNTRẢLỜI" in letter and "ĐiểmB1trênchuẩn" in letter
    # Refusals are for the monthly review only.
    annual = f"/xa/ra-soat/{village['round']}"
    some_case = case_rows(app, village["round"])["X1-T01-0101"]
    reply = post_form(
        officer,
        f"{annual}/tu-choi",
        {
            "case_id": some_case.id,
            "reason": "x",
            "answered_on": today.isoformat(),
            "signer_name": "y",
        },
    )
    assert 400 <= reply.status_code < 500
    assert "Chỉ trả lời từ chối bằng văn bản trong rà soát thường xuyên" in reply.get_data(
        as_text=True
    )


def test_another_commune_reaches_no_posting_complaint_or_decision(app, village):
    other = login(app, "canbo2")
    base = f"/xa/ra-soat/{village['round']}"
    for url in (
        f"{base}/niem-yet",
        f"{base}/niem-yet/1.pdf",
        f"{base}/quyet-dinh",
        f"{base}/quyet-dinh.pdf",
        f"{base}/giay-chung-nhan.pdf",
    ):
        assert other.get(url).status_code == 404, url
    case_id = next(iter(case_rows(app).values())).id
    for url, data in (
        (f"{base}/niem-yet", {"places": "x", "starts_on": "2026-11-24"}),
        (f"{base}/khieu-nai", {"case_id": case_id, "complainant": "x", "content": "y"}),
        (f"{base}/quyet-dinh", {"number": "1", "signed_on": "2026-12-10", "signer_name": "x"}),
        (
            f"{base}/tu-choi",
            {"case_id": case_id, "reason": "x", "answered_on": "2026-12-10", "signer_name": "x"},
        ),
    ):
        reply = post_form(other, url, data)
        assert reply.status_code in (302, 404), url
    with app.app_context():
        assert db.session.scalars(select(Posting)).all() == []
        assert db.session.scalars(select(Complaint)).all() == []
        assert db.session.scalars(select(Decision)).all() == []
