"""Spreadsheet exports write what users typed as text: a household head named
``=HYPERLINK("http://evil","x")`` (or ``+cmd``, ``@SUM(1)``, ``-1+1``) and a commune named like
a formula stay text in every XLSX the app writes — the village lists, the commune-wide export,
the report and the B1 template — never a live formula (issue 11, finding 5)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from server.db import write_transaction
from server.documents.spreadsheets import csv_text
from server.exports import runner
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household
from server.meetings.models import HouseholdCase
from server.scoring.b1 import template_xlsx
from tests.integration.procedure import login
from tests.integration.test_exports import request_export

HEADS = {
    "X1-T01-0101": '=HYPERLINK("http://evil","x")',
    "X1-T01-0102": "+cmd|' /C calc'!A0",
    "X1-T01-0103": "@SUM(1)",
    "X1-T01-0104": "-1+1",
}
COMMUNE = '=HYPERLINK("http://evil","xã")'
PAYLOADS = {*HEADS.values(), COMMUNE}


@pytest.fixture
def hostile(app, village, tmp_path):
    """The review round of the ``village`` fixture, its heads and commune renamed as formulas."""
    app.config["EXPORTS_TMP_DIR"] = str(tmp_path / "export-tmp")
    with app.app_context(), write_transaction(db.session):
        for code, head in HEADS.items():
            db.session.execute(
                update(Household).where(Household.code == code).values(head_name=head)
            )
            db.session.execute(
                update(HouseholdCase)
                .where(HouseholdCase.household_code == code)
                .values(head_name=head)
            )
        db.session.execute(update(Commune).where(Commune.code == "X1").values(name=COMMUNE))
    yield village
    assert runner.join_threads(120)


def inert_cells(data: bytes) -> set[str]:
    """Every payload found in the workbook, after checking it holds no formula at all."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name)
                assert not re.search(rb"<(\w+:)?f[ >/]", xml), f"formula element in {name}"
    found = set()
    for sheet in load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    found |= {p for p in PAYLOADS if p in cell.value}
    return found


def test_village_list_xlsx_writes_names_as_text(hostile):
    reply = hostile["officer"].get(f"{hostile['url']}/danh-sach.xlsx")
    assert reply.status_code == 200
    found = inert_cells(reply.data)
    assert set(HEADS.values()) <= found
    assert COMMUNE in found  # in the heading line


def test_commune_xlsx_export_writes_names_as_text(app, hostile):
    officer = hostile["officer"]
    job_id = request_export(officer, hostile["round"], "xlsx")
    assert runner.join_threads(120)
    reply = officer.get(f"/xuat/{job_id}/tep")
    assert reply.status_code == 200
    assert inert_cells(reply.data) == PAYLOADS
    book = load_workbook(io.BytesIO(reply.data))
    heads = {row[2]: row[3] for s in book.worksheets for row in s.iter_rows(values_only=True)}
    assert {code: heads[code] for code in HEADS} == HEADS  # shown as typed, nothing added
    reply.close()


def test_report_xlsx_writes_commune_names_as_text(app, hostile, seeded):
    admin = login(app, seeded.admin)
    reply = admin.get("/bao-cao.xlsx?year=2026")
    assert reply.status_code == 200
    assert COMMUNE in inert_cells(reply.data)


def test_b1_template_has_no_formula():
    inert_cells(template_xlsx())


def test_audit_csv_cells_are_neutralised():
    assert [csv_text(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "Lò Văn Á", 5)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@A1",
        "'\tx",
        "'\rx",
        "Lò Văn Á",
        5,
    ]
