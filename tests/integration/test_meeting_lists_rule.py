"""The commune's rule for its village-meeting lists (issue 13): either every result goes to the
meeting, or only those commune staff approved.  Either way the lists — page, PDF, XLSX, the
commune-wide exports — and the decision page say each household's review state in plain words;
with the rule on, the households not approved are shown apart ("chưa duyệt — không đưa vào
danh sách"), never dropped, kept out of the vote, and the decision waits for them."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.exports import runner
from server.extensions import db
from server.geography.models import Commune
from server.meetings.exports import SHEET_NAMES_VI
from tests.integration.procedure import (
    HOUSEHOLDS,
    case_rows,
    exported_pdf,
    meeting_form,
    post_form,
)
from tests.integration.test_exports import exports_app, request_export  # noqa: F401

APPROVED = "X1-T01-0101"
NOT_APPROVED = sorted(set(HOUSEHOLDS) - {APPROVED})
HELD_TITLE = "Hộ chưa duyệt — không đưa vào danh sách"

CODE_OF_SHEET = {name: code for code, name in SHEET_NAMES_VI.items()}


def _approve(app, officer, code: str) -> None:
    submission_id = case_rows(app)[code].submission_id
    reply = post_form(
        officer, f"/xa/phieu/{submission_id}/trang-thai", {"state": "approved", "comment": ""}
    )
    assert reply.status_code == 302


def _set_rule(officer, approved_only: bool, commune: str = "X1"):
    return post_form(
        officer,
        "/xa/ra-soat/cai-dat",
        {"commune": commune, "approved_only": "1" if approved_only else "0"},
    )


def _page_rows(page: str) -> dict[str, str]:
    """code → its review cell in the village page's lists (not the held-back section)."""
    lists = page[: page.index('id="meeting-h"')] if 'id="meeting-h"' in page else page
    lists = lists.split('class="list held"')[0]
    row = r'<tr><td>\d+</td><td><a href="[^"]+">([^<]+)</a>.*?<td data-review="[^"]*">([^<]*)</td>'
    return dict(re.findall(row, lists, re.DOTALL))


def _held_rows(page: str) -> list[str]:
    return re.findall(r'<tr data-held="([^"]+)">', page)


def _xlsx(data: bytes) -> dict[str, dict[str, str]]:
    """sheet → household code → its "Xét duyệt" cell."""
    out = {}
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        header = next(r for r in rows if r and r[0] == "STT")
        code, review = header.index("Mã hộ"), header.index("Xét duyệt")
        out[CODE_OF_SHEET[sheet.title]] = {
            r[code]: r[review] for r in rows[rows.index(header) + 1 :]
        }
    return out


def test_every_result_goes_to_the_meeting_by_default_with_its_review_state(app, village):
    officer = village["officer"]
    _approve(app, officer, APPROVED)
    page = officer.get(village["url"]).get_data(as_text=True)
    assert "<th>Xét duyệt</th>" in page
    assert _page_rows(page) == {APPROVED: "Đã duyệt"} | dict.fromkeys(
        NOT_APPROVED, "Chưa xét duyệt"
    )
    assert _held_rows(page) == [] and HELD_TITLE not in page
    sheets = _xlsx(officer.get(f"{village['url']}/danh-sach.xlsx").data)
    assert "chua_duyet" not in sheets
    reviews = {code: r for rows in sheets.values() for code, r in rows.items()}
    assert reviews == {APPROVED: "Đã duyệt"} | dict.fromkeys(NOT_APPROVED, "Chưa xét duyệt")
    decision = officer.get(f"/xa/ra-soat/{village['round']}/quyet-dinh").get_data(as_text=True)
    for code in HOUSEHOLDS:
        cell = re.search(rf'<tr data-case="{code}">.*?data-review="(\w*)">([^<]*)', decision, re.S)
        assert cell.group(2) == ("Đã duyệt" if code == APPROVED else "Chưa xét duyệt"), code
    assert "chưa duyệt — không đưa vào danh sách" not in decision


def test_only_approved_results_go_to_the_meeting_and_the_others_are_shown_apart(app, village):
    officer = village["officer"]
    _approve(app, officer, APPROVED)
    assert _set_rule(officer, True).status_code == 302
    with app.app_context():
        assert db.session.scalar(
            select(Commune.meeting_lists_approved_only).where(Commune.code == "X1")
        )
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "commune.meeting_lists_rule")
        )
        assert (event.before, event.after) == ({"approved_only": False}, {"approved_only": True})
        assert event.actor.username == "canbo1" and event.target_id == "X1"

    page = officer.get(village["url"]).get_data(as_text=True)
    assert _page_rows(page) == {APPROVED: "Đã duyệt"}
    assert _held_rows(page) == NOT_APPROVED  # shown apart, by code: none dropped
    assert HELD_TITLE in page and 'id="approved-only-rule"' in page
    vote = page[page.index('id="meeting-h"') :]
    cases = case_rows(app)
    assert re.findall(r'name="agree_(\d+)"', vote) == [str(cases[APPROVED].id)]

    # The meeting cannot vote on a household kept out.
    held_vote = meeting_form(30, {APPROVED: 30, NOT_APPROVED[0]: 30}, app)
    refused = post_form(officer, f"{village['url']}/hop-dan", held_vote)
    # The page comes back at once with the reason (and what was typed), not after a redirect.
    assert refused.status_code in (400, 409)
    assert "không thuộc danh sách chờ họp dân" in refused.get_data(True)
    assert case_rows(app)[NOT_APPROVED[0]].stage == "listed"

    # Village XLSX: the lists without them, and a last sheet naming them.
    sheets = _xlsx(officer.get(f"{village['url']}/danh-sach.xlsx").data)
    assert sheets["chua_duyet"] == dict.fromkeys(NOT_APPROVED, "Chưa xét duyệt")
    in_lists = {code for name, rows in sheets.items() if name != "chua_duyet" for code in rows}
    assert in_lists == {APPROVED}
    # Village PDF: the same, under its own heading after the lists.
    pdf = exported_pdf(officer, "village_lists_pdf", round_id=village["round"], village_code="T01")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    squashed = re.sub(r"\s+", "", text)
    held_at = squashed.index(re.sub(r"\s+", "", "Hộ chưa duyệt — không đưa vào danh sách họp dân"))
    assert all(squashed.rindex(code) > held_at for code in NOT_APPROVED)
    assert squashed.index(APPROVED) < held_at

    # The decision page names them and the decision waits for them.
    decision = officer.get(f"/xa/ra-soat/{village['round']}/quyet-dinh").get_data(as_text=True)
    assert decision.count("chưa duyệt — không đưa vào danh sách") == len(NOT_APPROVED)
    assert decision.count("kết quả chưa được duyệt nên chưa đưa ra họp dân") == len(NOT_APPROVED)

    # Approving one puts it in its list at once; turning the rule off brings all back.
    _approve(app, officer, NOT_APPROVED[0])
    page = officer.get(village["url"]).get_data(as_text=True)
    assert set(_page_rows(page)) == {APPROVED, NOT_APPROVED[0]}
    assert _held_rows(page) == NOT_APPROVED[1:]
    assert _set_rule(officer, False).status_code == 302
    page = officer.get(village["url"]).get_data(as_text=True)
    assert set(_page_rows(page)) == set(HOUSEHOLDS) and _held_rows(page) == []


def test_commune_wide_exports_show_the_households_kept_out(exports_app, village):  # noqa: F811
    app, officer = exports_app, village["officer"]
    _approve(app, officer, APPROVED)
    _set_rule(officer, True)
    xlsx_job = request_export(officer, village["round"], "xlsx")
    pdf_job = request_export(officer, village["round"], "pdf")
    assert runner.join_threads(120)
    sheets = _xlsx(officer.get(f"/xuat/{xlsx_job}/tep").data)
    assert sheets["chua_duyet"] == dict.fromkeys(NOT_APPROVED, "Chưa xét duyệt")
    assert {c for n, rows in sheets.items() if n != "chua_duyet" for c in rows} == {APPROVED}
    reply = officer.get(f"/xuat/{pdf_job}/tep")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(reply.data)).pages)
    squashed = re.sub(r"\s+", "", text)
    held_at = squashed.rindex(re.sub(r"\s+", "", "Hộ chưa duyệt — không đưa vào danh sách"))
    assert all(squashed.rindex(code) > held_at for code in NOT_APPROVED)
    assert "Đãduyệt" in squashed and "Chưaxétduyệt" in squashed


def test_the_rule_is_shown_and_changed_on_the_rounds_page(app, village):
    officer = village["officer"]
    page = officer.get("/xa/ra-soat").get_data(as_text=True)
    assert 'data-rule="all"' in page and 'name="approved_only" value="1"' in page
    _set_rule(officer, True)
    page = officer.get("/xa/ra-soat").get_data(as_text=True)
    assert 'data-rule="approved-only"' in page and "Đã lưu: chỉ đưa hộ đã duyệt ra họp dân" in page
    round_page = officer.get(f"/xa/ra-soat/{village['round']}").get_data(as_text=True)
    assert "Xã chỉ đưa hộ có kết quả đã duyệt ra họp dân" in round_page
    # Setting it again to what it is writes nothing to the audit log.
    _set_rule(officer, True)
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "commune.meeting_lists_rule")
        ).all()
    assert len(events) == 1
