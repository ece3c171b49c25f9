"""Nothing forgotten at the decision: every household of last year's poor / near-poor lists with
no result this year is shown when the lists are compiled, needs a recorded reason before the
decision, and appears with its reason in the minutes, the decision and the report.

The world: the procedure fixture's four households of T01 (all surveyed in 2026) plus households
recorded in 2025 that no reviewer visited — a poor one in T01, a near-poor one in T02 — and, not
missing, a 2025 "neither" household, a 2024-only poor household and a poor household of another
commune."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus, ListSource
from server.meetings.models import MissingHouseholdReason
from tests.integration.procedure import case_rows, exported_pdf, meeting_form, post_form

UNVISITED = {
    "X1-T01-0105": ("Đinh Thị Lan", "T01", HouseholdStatus.POOR, 2025),
    "X1-T02-0201": ("Rơ Mah Bình", "T02", HouseholdStatus.NEAR_POOR, 2025),
    # not missing: neither poor nor near-poor in 2025; poor only in 2024; another commune
    "X1-T01-0106": ("Lê Văn Tám", "T01", HouseholdStatus.NONE, 2025),
    "X1-T02-0202": ("A Thuận", "T02", HouseholdStatus.POOR, 2024),
}


def _add_unvisited(app) -> None:
    with app.app_context(), write_transaction(db.session):
        communes = {c.code: c for c in db.session.scalars(select(Commune))}
        x1 = communes["X1"]
        villages = {v.code: v for v in x1.villages}
        for code, (head, village, status, year) in UNVISITED.items():
            household = Household(
                commune=x1,
                village=villages[village],
                code=code,
                head_name=head,
                list_source=ListSource.ON_LIST,
            )
            db.session.add(household)
            db.session.add(HouseholdYearStatus(household=household, year=year, status=status))
        x2 = communes["X2"]
        other = Household(
            commune=x2,
            village=x2.villages[0],
            code="X2-T01-0001",
            head_name="Hộ xã khác",
            list_source=ListSource.ON_LIST,
        )
        db.session.add(other)
        db.session.add(HouseholdYearStatus(household=other, year=2025, status=HouseholdStatus.POOR))


def _page(browser, url) -> str:
    reply = browser.get(url)
    assert reply.status_code == 200, url
    return reply.get_data(as_text=True)


def _missing_codes(page: str) -> list[str]:
    return re.findall(r'data-missing-household="([^"]+)"', page)


def _id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Household.id).where(Household.code == code))


def _reason(browser, app, base, code, reason, note="", village=None):
    data = {"household": str(_id(app, code)), "reason": reason, "note": note}
    if village:
        data["village"] = village
    return post_form(browser, f"{base}/ho-chua-co-ket-qua", data)


def _text(pdf: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", "", text)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_compiling_shows_them_and_reasons_are_checked(app, village):
    _add_unvisited(app)
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    page = _page(officer, base)
    assert _missing_codes(page) == ["X1-T01-0105", "X1-T02-0201"]
    assert "2 hộ nghèo/cận nghèo năm trước chưa có kết quả năm nay" in page
    assert "Đinh Thị Lan" in page and "Hộ cận nghèo" in page
    # Each village's list page shows its own.
    assert _missing_codes(_page(officer, f"{base}/thon/T01")) == ["X1-T01-0105"]
    assert _missing_codes(_page(officer, f"{base}/thon/T02")) == ["X1-T02-0201"]

    # A reason outside the list, "other" without a note, a note too long: 400, said in
    # Vietnamese, the page shown again with what was typed; nothing stored.
    reply = _reason(officer, app, base, "X1-T01-0105", "bo_di", "ghi chú giữ lại", "T01")
    assert reply.status_code == 400
    body = reply.get_data(as_text=True)
    assert "Lý do không hợp lệ: hãy chọn một lý do trong danh sách." in body
    assert 'value="ghi chú giữ lại"' in body
    reply = _reason(officer, app, base, "X1-T01-0105", "other", "  ")
    assert reply.status_code == 400
    assert "Lý do “Lý do khác” cần ghi chú cụ thể." in reply.get_data(as_text=True)
    reply = _reason(officer, app, base, "X1-T01-0105", "moved", "x" * 501)
    assert reply.status_code == 400
    assert "Ghi chú dài quá 500 ký tự" in reply.get_data(as_text=True)
    # A household that is not missing (surveyed, or not poor last year): not found.
    for code in ("X1-T01-0101", "X1-T01-0106", "X1-T02-0202", "X2-T01-0001"):
        assert _reason(officer, app, base, code, "moved").status_code == 404, code
    with app.app_context():
        assert db.session.scalars(select(MissingHouseholdReason)).all() == []

    # Recorded from the village page, then changed: one row, both changes audited.
    reply = _reason(officer, app, base, "X1-T01-0105", "moved", "", "T01")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/thon/T01#missing")
    reply = _reason(officer, app, base, "X1-T01-0105", "died_out", "Chủ hộ mất tháng 3/2026")
    assert reply.status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(MissingHouseholdReason)).all()
        assert [(r.reason, r.note) for r in rows] == [("died_out", "Chủ hộ mất tháng 3/2026")]
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "missing.reason")
        ).all()
        assert [e.target_id for e in events] == ["X1-T01-0105", "X1-T01-0105"]
    page = _page(officer, base)
    assert 'data-reason="died_out"' in page and "Chủ hộ mất tháng 3/2026" in page
    assert "1 hộ chưa ghi lý do" in page


def _to_the_decision(app, village):
    """Meeting, posting: the round waits only for the chair."""
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    codes = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    reply = post_form(
        officer, f"{village['url']}/hop-dan", meeting_form(30, dict.fromkeys(codes, 30), app)
    )
    assert reply.status_code == 302
    reply = post_form(
        officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"}
    )
    assert reply.status_code == 302


SIGN = {
    "number": "125/QĐ-UBND",
    "signed_on": "2026-12-02",
    "signer_name": "Hồ Văn Nam",
    "signer_title": "Phó Chủ tịch UBND xã",
}


def test_the_decision_waits_for_every_reason_then_shows_them(app, village):
    _add_unvisited(app)
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    _to_the_decision(app, village)
    assert _reason(officer, app, base, "X1-T01-0105", "moved", "Vào Bình Dương").status_code == 302

    # Refused while the T02 household has no reason: said, listed, and the form keeps it all.
    reply = post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert reply.status_code == 409
    body = reply.get_data(as_text=True)
    assert "1 hộ nghèo/cận nghèo năm 2025 chưa có kết quả năm 2026 và chưa ghi lý do" in body
    assert "X1-T02-0201 Rơ Mah Bình" in body
    for value in SIGN.values():
        assert f'value="{value}"' in body, value
    with app.app_context():
        assert (
            db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "decision.sign"))
            is None
        )

    reply = _reason(
        officer, app, base, "X1-T02-0201", "not_reviewed", "Hộ đi làm rẫy xa, hẹn tháng 12"
    )
    assert reply.status_code == 302
    reply = post_form(officer, f"{base}/quyet-dinh", SIGN)
    assert reply.status_code == 302
    page = _page(officer, f"{base}/quyet-dinh")
    assert "Đã ghi quyết định công nhận" in page
    assert _missing_codes(page) == ["X1-T01-0105", "X1-T02-0201"]
    assert "Chuyển đi nơi khác: Vào Bình Dương" in page
    assert "Chưa rà soát được: Hộ đi làm rẫy xa, hẹn tháng 12" in page
    # Neither household is in the decision's lists; both are in its annex with their reasons.
    decision = _text(exported_pdf(officer, "decision_pdf", round_id=village["round"]))
    annex = decision[decision.index("PHỤLỤC") :]
    assert "HỘNGHÈO,HỘCẬNNGHÈONĂM2025CHƯACÓKẾTQUẢRÀSOÁTNĂM2026(2hộ)" in annex
    assert _squeeze("X1-T01-0105 Đinh Thị Lan Hộ nghèo Chuyển đi nơi khác: Vào Bình Dương") in annex
    assert _squeeze("X1-T02-0201 Rơ Mah Bình Hộ cận nghèo Chưa rà soát được") in annex
    assert "X1-T01-0105" not in decision[: decision.index("PHỤLỤC")]
    # The T01 minutes list T01's household with its reason (not T02's).
    with app.app_context():
        from server.meetings.models import VillageMeeting

        meeting_id = db.session.scalar(select(VillageMeeting.id))
    minutes = _text(
        exported_pdf(officer, "minutes_pdf", round_id=village["round"], meeting_id=meeting_id)
    )
    assert (
        _squeeze("X1-T01-0105 Đinh Thị Lan Hộ nghèo Chuyển đi nơi khác: Vào Bình Dương") in minutes
    )
    assert "X1-T02-0201" not in minutes
    # Decided: the reasons can no longer change.
    reply = _reason(officer, app, base, "X1-T01-0105", "other", "đổi ý")
    assert reply.status_code == 409
    assert "Đợt rà soát đã có quyết định" in reply.get_data(as_text=True)

    # The report counts them by reason, on the page and in the XLSX.
    page = _page(officer, "/bao-cao?year=2026")
    row = re.search(
        r'<th scope="row">Xã Một</th>(.*?)</tr>', page[page.index('id="missing"') :], re.S
    )
    cells = dict(re.findall(r'data-missing="(\w+)">(?:<span[^>]*>)?(\d+)', row.group(1)))
    assert cells == {
        "total": "2",
        "moved": "1",
        "merged_split": "0",
        "died_out": "0",
        "not_reviewed": "1",
        "other": "0",
        "none": "0",
    }
    book = load_workbook(io.BytesIO(officer.get("/bao-cao.xlsx?year=2026").data), read_only=True)
    sheet = [list(r) for r in book["Hộ chưa có kết quả"].iter_rows(values_only=True)]
    header = next(r for r in sheet if r and r[0] == "Mã xã")
    assert header[2:] == [
        "Hộ nghèo/cận nghèo năm trước chưa có kết quả",
        "Chuyển đi nơi khác",
        "Nhập hộ hoặc tách hộ",
        "Hộ không còn người",
        "Chưa rà soát được",
        "Lý do khác",
        "Chưa ghi lý do",
    ]
    x1 = next(r for r in sheet if r and r[0] == "X1")
    assert x1[1:] == ["Xã Một", 2, 1, 0, 0, 1, 0, 0]


def test_a_household_that_gets_a_result_drops_off(app, seeded, village, procedure_instances):
    from tests.integration.procedure import send

    _add_unvisited(app)
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    assert (
        _reason(officer, app, base, "X1-T01-0105", "not_reviewed", "hẹn tuần sau").status_code
        == 302
    )
    send(app, seeded, procedure_instances["a_three_deprivations"], "X1-T01-0105")
    page = _page(officer, base)
    assert _missing_codes(page) == ["X1-T02-0201"]
    with app.app_context():  # the reason is kept, no longer required
        assert [r.note for r in db.session.scalars(select(MissingHouseholdReason))] == [
            "hẹn tuần sau"
        ]
    # Compiled, it is on T01's list like any surveyed household.
    assert post_form(officer, f"{base}/lap-danh-sach", {}).status_code == 302
    assert "X1-T01-0105" in case_rows(app, village["round"])
    # Only the T02 household still stops the decision.
    reply = post_form(
        officer, f"{base}/quyet-dinh", SIGN | {"signed_on": date(2026, 12, 2).isoformat()}
    )
    body = reply.get_data(as_text=True)
    assert (
        "1 hộ nghèo/cận nghèo năm 2025 chưa có kết quả năm 2026 và chưa ghi lý do (ghi lý do ở "
        "trang đợt rà soát): X1-T02-0201 Rơ Mah Bình." in body
    )


def test_the_demo_communes_unvisited_households_of_last_years_lists(app):
    """The demo commune: the households of the 2025 poor / near-poor lists that no reviewer
    visited in 2026 (the demo's plan says so, not the service) are the round's missing
    households; the decision page names each until it has a reason."""
    from server.demo import COMMUNE
    from tests.integration.procedure import (
        seed_demo_commune,
        try_login,
        unvisited_of_last_years_lists,
    )

    password, planned = seed_demo_commune(app)
    expected = sorted((h.village.code, h.code) for h in unvisited_of_last_years_lists(planned))
    assert len(expected) >= 3  # the demo leaves a few of last year's lists unvisited
    officer, reply = try_login(app, "canbo.demo", password)
    assert reply.status_code == 302
    reply = post_form(
        officer, "/xa/ra-soat", {"commune": COMMUNE[0], "year": "2026", "kind": "dinh_ky"}
    )
    base = reply.headers["Location"]
    page = _page(officer, base)
    assert _missing_codes(page) == [code for _v, code in expected]
    assert f"{len(expected)} hộ nghèo/cận nghèo năm trước chưa có kết quả năm nay" in page
    # The decision page names every one until each has a reason.
    decision = _page(officer, f"{base}/quyet-dinh")
    assert f"{len(expected)} hộ nghèo/cận nghèo năm 2025 chưa có kết quả năm 2026" in decision
    for _village, code in expected:
        assert _reason(officer, app, base, code, "merged_split").status_code == 302
    decision = _page(officer, f"{base}/quyet-dinh")
    assert "chưa có kết quả năm 2026 và chưa ghi lý do" not in decision
    assert decision.count('data-reason="merged_split"') == len(expected)
