"""Exports carry who produced them and when, on every page and every sheet (issue 14): a PDF made
in the request or in the background names, at the foot of each page, the account that asked
for it and the time in Vietnam time; every sheet of an XLSX names them in its printed footer,
and the workbook's properties name the account."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from pypdf import PdfReader

from server.exports import runner as export_runner
from tests.integration.procedure import exported_pdf, post_form

# "Xuất bởi Cán bộ xã Một (canbo1) lúc 07/12/2026 19:55 (giờ Việt Nam)", spaces squeezed.
STAMP = re.compile(r"Xuấtbởi(?P<who>.+?)\(canbo1\)lúc\d\d/\d\d/\d{4}\d\d:\d\d\(giờViệtNam\)")


def _squeezed_pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]


def test_every_page_of_a_background_pdf_names_who_asked_and_when(app, village):
    officer = village["officer"]
    pdf = exported_pdf(officer, "village_lists_pdf", round_id=village["round"], village_code="T01")
    pages = _squeezed_pages(pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, 1):
        found = STAMP.search(text)
        assert found and found["who"] == "Cánbộxã Một".replace(" ", ""), (number, text[-200:])


def test_every_sheet_of_the_workbooks_names_who_asked_and_when(app, village):
    officer = village["officer"]
    books = {
        "village lists": officer.get(f"{village['url']}/danh-sach.xlsx").data,
        "report": officer.get("/bao-cao.xlsx?year=2026").data,
    }
    reply = post_form(
        officer, "/xuat", {"kind": "commune_lists_xlsx", "round_id": village["round"]}
    )
    assert reply.status_code == 302
    assert export_runner.join_threads(120)
    books["commune lists"] = officer.get(f"{reply.headers['Location']}/tep").data
    for name, content in books.items():
        book = load_workbook(io.BytesIO(content))
        assert book.properties.lastModifiedBy == "canbo1", name
        assert len(book.worksheets) >= 1
        for sheet in book.worksheets:
            line = re.sub(r"\s+", "", sheet.oddFooter.left.text or "")
            assert STAMP.fullmatch(line), (name, sheet.title, sheet.oddFooter.left.text)


def test_a_pdf_made_in_the_request_names_its_user(app, village):
    officer = village["officer"]
    reply = officer.get("/xa/ho/X1-T01-0101/du-lieu.pdf")
    assert reply.status_code == 200
    pages = _squeezed_pages(reply.data)
    assert pages and all(STAMP.search(text) for text in pages)
