"""Importing a commune's household list on the web (``/xa/nhap-ho``): the template, an upload
read and checked on the server, the preview (nothing written), the confirmation (one
transaction, audited, idempotent), errors named by row and column, hostile files refused with a
clear 4xx and nothing written, and who may do it."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import (
    Household,
    HouseholdImport,
    HouseholdStatus,
    HouseholdYearStatus,
    ListSource,
)
from tests.integration.procedure import add_village_heads, csrf, login

HEADER = ["Mã hộ", "Thôn", "Họ tên chủ hộ", "Tình trạng năm trước", "Nguồn"]
ROWS = [
    ["X1-0001", "Thôn Một", "Nguyễn Văn Lâm", "Hộ nghèo", ""],
    ["X1-0002", "T02", "Y Blăng", "Hộ cận nghèo", "Hộ có giấy đề nghị"],
    ["X1-0003", "làng ba", "Siu H'Nga", "Không nghèo, không cận nghèo", ""],
]


def _csv(rows, header=HEADER, delimiter=",", bom=True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode()


def _xlsx(rows, header=HEADER, extra_sheet=False) -> bytes:
    book = Workbook()
    if extra_sheet:  # a notes sheet first: the list is found on the second
        book.active.title = "Ghi chú"
        book.active.append(["Danh sách do thôn gửi"])
        sheet = book.create_sheet("Danh sách hộ")
    else:
        sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _token(browser) -> str:
    return csrf(browser.get("/xa/nhap-ho").get_data(as_text=True))


def _upload(browser, content: bytes, name: str = "ds.csv", year="2025", commune="X1"):
    return browser.post(
        "/xa/nhap-ho",
        data={
            "csrf_token": _token(browser),
            "commune": commune,
            "year": year,
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def _commit(browser, preview_url: str):
    token = csrf(browser.get(preview_url).get_data(as_text=True))
    return browser.post(f"{preview_url}/xac-nhan", data={"csrf_token": token})


def _counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _stored(app) -> dict:
    with app.app_context():
        return {
            "households": sorted(
                db.session.execute(
                    select(Household.code, Household.head_name, Household.list_source)
                ).tuples()
            ),
            "statuses": sorted(
                db.session.execute(
                    select(Household.code, HouseholdYearStatus.year, HouseholdYearStatus.status)
                    .join(HouseholdYearStatus)
                    .order_by(Household.code)
                ).tuples()
            ),
            "imports": db.session.scalar(select(func.count()).select_from(HouseholdImport)),
            "audit": db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "households.import")
            ),
        }


def _nothing(app) -> None:
    assert _stored(app) == {"households": [], "statuses": [], "imports": 0, "audit": 0}


# --- the template ------------------------------------------------------------------------------


def test_the_template_lists_the_columns_statuses_and_villages(app, seeded):
    browser = login(app, seeded.officer)
    page = browser.get("/xa/ho").get_data(as_text=True)
    assert 'href="/xa/nhap-ho"' in page  # reachable from the households page
    page = browser.get("/xa/nhap-ho").get_data(as_text=True)
    assert "không bị xoá" in page
    reply = browser.get("/xa/nhap-ho/mau.xlsx?commune=X1")
    assert reply.status_code == 200
    assert reply.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(reply.data))
    assert book.sheetnames == ["Danh sách hộ", "Hướng dẫn"]
    header = next(book["Danh sách hộ"].iter_rows(values_only=False))
    assert [c.value for c in header] == HEADER
    assert {c.data_type for c in header} == {"s"}
    helper = [c for row in book["Hướng dẫn"].iter_rows() for c in row if c.value is not None]
    assert {c.data_type for c in helper} == {"s"}  # every cell is text
    texts = [c.value for c in helper]
    for expected in ("Hộ nghèo", "Hộ cận nghèo", "Thôn Một", "T01", "Thôn Hai", "Làng Ba"):
        assert expected in texts, expected
    assert "Tổ dân phố 1" not in texts  # X2's village
    reply = browser.get("/xa/nhap-ho/mau.csv")  # an officer's own commune without asking
    assert reply.mimetype == "text/csv"
    assert reply.data.startswith(b"\xef\xbb\xbf")
    assert reply.data[3:].decode().strip() == ",".join(HEADER)
    assert browser.get("/xa/nhap-ho/mau.xlsx?commune=Y9").status_code == 404


def test_an_administrator_chooses_the_commune(app, seeded):
    browser = login(app, seeded.admin)
    page = browser.get("/xa/nhap-ho").get_data(as_text=True)
    assert "Xã Hai" in page and "mau.xlsx" not in page
    assert browser.get("/xa/nhap-ho/mau.xlsx").status_code == 400
    reply = browser.get("/xa/nhap-ho/mau.xlsx?commune=X2")
    texts = " ".join(
        str(v) for row in load_workbook(io.BytesIO(reply.data)).worksheets[1].values for v in row
    )
    assert "Tổ dân phố 1" in texts and "Thôn Một" not in texts


# --- a valid list ------------------------------------------------------------------------------


def test_a_csv_is_previewed_then_imported_once(app, seeded):
    browser = login(app, seeded.officer)
    reply = _upload(browser, _csv(ROWS, delimiter=";"), "danh sach.csv")
    assert reply.status_code == 302, reply.get_data(as_text=True)
    preview = reply.headers["Location"]
    page = browser.get(preview).get_data(as_text=True)
    assert _counts(page) == {"new": 3, "updated": 0, "unchanged": 0, "errors": 0}
    assert "Nguyễn Văn Lâm" in page and "Xác nhận nhập" in page
    assert "không bị xoá" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 0  # not yet
    reply = _commit(browser, preview)
    assert reply.status_code == 302
    assert "/xa/ho" in reply.headers["Location"]
    stored = _stored(app)
    assert stored["households"] == [
        ("X1-0001", "Nguyễn Văn Lâm", ListSource.ON_LIST),
        ("X1-0002", "Y Blăng", ListSource.APPLICANT),
        ("X1-0003", "Siu H'Nga", ListSource.ON_LIST),
    ]
    assert stored["statuses"] == [
        ("X1-0001", 2025, HouseholdStatus.POOR),
        ("X1-0002", 2025, HouseholdStatus.NEAR_POOR),
        ("X1-0003", 2025, HouseholdStatus.NONE),
    ]
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "households.import")
        )
        assert event.after["created"] == 3 and event.after["year"] == 2025
        assert event.after["unchanged"] == 0
        communes = db.session.scalars(
            select(Commune.code).join(Household, Commune.id == Household.commune_id)
        ).all()
        assert set(communes) == {"X1"}
    # The households page shows them.
    page = browser.get("/xa/ho?year=2026").get_data(as_text=True)
    assert "Nguyễn Văn Lâm" in page
    # Confirming again changes nothing.
    reply = _commit(browser, preview)
    assert reply.status_code == 409
    assert "đã được nhập" in reply.get_data(as_text=True)
    page = browser.get(preview).get_data(as_text=True)  # the preview now says what was done
    assert "Tệp này đã được nhập lúc" in page and "Xác nhận nhập" not in page
    assert _counts(page) == {"new": 3, "updated": 0, "unchanged": 0, "errors": 0}
    assert _stored(app) == stored
    # The same file uploaded again: all unchanged, and importing it writes nothing new.
    reply = _upload(browser, _csv(ROWS, delimiter=";"))
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert _counts(page) == {"new": 0, "updated": 0, "unchanged": 3, "errors": 0}
    assert _commit(browser, reply.headers["Location"]).status_code == 302
    again = _stored(app)
    assert again["households"] == stored["households"]
    assert again["statuses"] == stored["statuses"]


def test_an_xlsx_updates_some_households_and_keeps_the_others(app, seeded):
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        t01 = next(v for v in commune.villages if v.code == "T01")
        for code, head in (("X1-0001", "Nguyễn Văn Lâm"), ("X1-0009", "Hộ không có trong tệp")):
            household = Household(
                commune=commune,
                village=t01,
                code=code,
                head_name=head,
                list_source=ListSource.ON_LIST,
            )
            household.statuses.append(HouseholdYearStatus(year=2025, status=HouseholdStatus.POOR))
            db.session.add(household)
    rows = [
        ["X1-0001", "Thôn Một", "Nguyễn Văn Lâm", "Hộ nghèo", ""],  # unchanged
        ["X1-0002", "Thôn Hai", "Y Blăng", "Hộ cận nghèo", ""],  # new
    ]
    browser = login(app, seeded.admin)
    reply = _upload(browser, _xlsx(rows, extra_sheet=True), "ds.xlsx")
    assert reply.status_code == 302
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert _counts(page) == {"new": 1, "updated": 0, "unchanged": 1, "errors": 0}
    assert "Danh sách hộ" in page  # the sheet read
    rows[0][3] = "can_ngheo"  # a code is accepted too; the status changes
    reply = _upload(browser, _xlsx(rows), "ds.xlsx")
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert _counts(page) == {"new": 1, "updated": 1, "unchanged": 0, "errors": 0}
    assert "Cập nhật:" in page
    assert _commit(browser, reply.headers["Location"]).status_code == 302
    stored = _stored(app)
    assert [h[0] for h in stored["households"]] == ["X1-0001", "X1-0002", "X1-0009"]
    assert ("X1-0001", 2025, HouseholdStatus.NEAR_POOR) in stored["statuses"]
    assert ("X1-0009", 2025, HouseholdStatus.POOR) in stored["statuses"]  # never touched


# --- rows with errors --------------------------------------------------------------------------


def test_errors_name_their_row_and_column_and_nothing_is_imported(app, seeded):
    rows = [
        ["X1-0001", "Thôn Một", "Nguyễn Văn Lâm", "Hộ nghèo", ""],
        ["", "Thôn Một", "Không mã", "Hộ nghèo", ""],  # row 3: empty code
        ["X1-0003", "Thôn Chín", "A Khoa", "Hộ nghèo", ""],  # row 4: unknown village
        ["X1-0001", "T02", "Trùng mã", "Hộ nghèo", ""],  # row 5: duplicate of row 2
        ["X1-0005", "T02", "Sai tình trạng", "nghèo lắm", ""],  # row 6: bad status
        ["X1-0006", "T02", "A" * 201, "Hộ nghèo", ""],  # row 7: name too long
        ["X1 0007", "T02", "Có khoảng trắng", "", ""],  # row 8: bad code, empty status
        ["X1-0008", "T02", '=HYPERLINK("http://x")', "Hộ nghèo", ""],  # row 9: formula
    ]
    browser = login(app, seeded.officer)
    reply = _upload(browser, _xlsx(rows), "ds.xlsx")
    assert reply.status_code == 302
    preview = reply.headers["Location"]
    page = browser.get(preview).get_data(as_text=True)
    assert _counts(page)["errors"] == 7
    errors = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>",
        page.split('id="import-errors"')[1].split("</table>")[0],
    )
    found = {(int(row), column) for row, column, _message in errors}
    assert found == {
        (3, "Mã hộ"),
        (4, "Thôn"),
        (5, "Mã hộ"),
        (6, "Tình trạng năm trước"),
        (7, "Họ tên chủ hộ"),
        (8, "Mã hộ"),
        (8, "Tình trạng năm trước"),
        (9, "Họ tên chủ hộ"),
    }
    messages = " ".join(m for _r, _c, m in errors)
    assert "Thôn Chín" in messages and "trùng với dòng 2" in messages
    assert "Hộ cận nghèo" in messages  # the allowed labels are named
    assert "công thức" in messages
    assert "Xác nhận nhập" not in page
    assert _commit(browser, preview).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def test_errors_in_english(app, seeded):
    browser = login(app, seeded.officer)
    page = browser.get("/xa/nhap-ho?lang=en").get_data(as_text=True)
    assert "Download the Excel template (.xlsx)" in page
    assert "Households not in the file are kept as they are, never deleted." in page
    reply = _upload(browser, _csv([["X1-1", "Nowhere", "A", "Hộ nghèo", ""]]))
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "no village “Nowhere” in the commune" in page
    assert "Village" in page


# --- refused files: a clear 4xx, what was typed kept, nothing written -------------------------


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * 60_000_000 + b"</a>")
    return out.getvalue()


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return out.getvalue()


def _handmade_xlsx(sheet_xml: str) -> bytes:
    """A workbook written by hand (inline strings), as other programs may write them."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="DS" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><dimension ref="A1:XFD1048576"/>'
            f"<sheetData>{sheet_xml}</sheetData></worksheet>",
        )
    return out.getvalue()


def _inline_row(number: int, values: list[str], start: str = "A") -> str:
    cells = "".join(
        f'<c r="{chr(ord(start) + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
        for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def test_a_sparse_workbook_is_read_by_the_rows_it_has(app, seeded):
    """A row numbered 1 048 576 under a dimension of the whole sheet: two rows are read, not a
    million, and the row keeps its number in the messages."""
    sheet = _inline_row(1, HEADER) + _inline_row(1048576, ["X1-1", "Thôn Chín", "A", "Hộ nghèo"])
    browser = login(app, seeded.officer)
    reply = _upload(browser, _handmade_xlsx(sheet), "ds.xlsx")
    assert reply.status_code == 302
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "<tr><td>1048576</td><td>Thôn</td>" in page
    assert _counts(page)["errors"] == 1


@pytest.mark.parametrize(
    ("name", "content", "status", "says"),
    [
        ("ds.xlsx", b"%PDF-1.7 this is not a spreadsheet \x00\x01", 400, ".xlsx"),
        ("ds.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, 400, ".xls"),
        ("ds.xlsx", b"PK\x03\x04 not really a zip", 400, "xlsx"),
        ("ds.xlsx", _plain_zip(), 400, ".xlsx"),
        ("ds.csv", b"M\xe3 h\xf4,Th\xf4n\nX1-1,Th\xf4n M\xf4t\n", 400, "UTF-8"),
        ("ds.csv", b"code,name\n1,2\n", 400, "Mã hộ"),
        ("ds.csv", _csv([]), 400, "chưa có hộ nào"),
        ("ds.csv", _csv([]) + b"," * 2_000_000 + b"\n", 400, "chưa có hộ nào"),
        ("ds.xlsx", "zip bomb", 413, "quá lớn"),
        ("ds.csv", "too many rows", 413, "Hãy chia"),
        ("ds.csv", "too large", 413, "MB"),
    ],
)
def test_hostile_or_wrong_files_are_refused(app, seeded, name, content, status, says):
    app.config["HOUSEHOLD_IMPORT_MAX_ROWS"] = 50
    if content == "zip bomb":
        content = _zip_bomb()
        assert len(content) < 200_000
    elif content == "too many rows":
        content = _csv([[f"X1-{i}", "T01", "A", "Hộ nghèo", ""] for i in range(51)])
    elif content == "too large":
        app.config["HOUSEHOLD_IMPORT_MAX_BYTES"] = 1_000_000
        content = _csv([[f"X1-{i}", "T01", "A" * 100, "Hộ nghèo", ""] for i in range(10_000)])
    browser = login(app, seeded.officer)
    reply = _upload(browser, content, name, year="2024")
    page = reply.get_data(as_text=True)
    assert reply.status_code == status, page
    assert says in page
    assert 'id="import-error"' in page
    assert 'value="2024"' in page  # the year typed is kept
    _nothing(app)


def test_the_year_must_be_a_past_year(app, seeded):
    browser = login(app, seeded.officer)
    for year in ("1999", "2999", "năm ngoái"):
        reply = _upload(browser, _csv(ROWS), year=year)
        assert reply.status_code == 400
        page = reply.get_data(as_text=True)
        assert "Năm của tình trạng phải từ 2000" in page
        assert f'value="{year}"' in page
    reply = _upload(browser, b"", year="2025")
    assert reply.status_code == 400
    _nothing(app)


def test_a_formula_cell_is_never_evaluated_and_a_csv_cell_is_bounded(app, seeded):
    app.config["HOUSEHOLD_IMPORT_MAX_CELL_CHARS"] = 300
    browser = login(app, seeded.officer)
    book = Workbook()
    book.active.append(HEADER)
    book.active.append(['=CONCAT("X1-","1")', "T01", "A Khoa", "Hộ nghèo", ""])
    out = io.BytesIO()
    book.save(out)
    reply = _upload(browser, out.getvalue(), "ds.xlsx")
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "công thức" in page and _counts(page)["errors"] == 1
    reply = _upload(browser, _csv([["X1-1", "T01", "A" * 400, "Hộ nghèo", ""]]))
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "quá dài (400 ký tự, tối đa 300)" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 0


# --- who may ---------------------------------------------------------------------------------


def test_only_the_uploader_sees_and_confirms_an_upload(app, seeded):
    add_village_heads(app, {"truongthon": "T01"})
    officer = login(app, seeded.officer)
    preview = _upload(officer, _csv(ROWS)).headers["Location"]
    for username, refused in (("admin1", 404), ("truongthon", 403)):
        other = login(app, username)
        assert other.get(preview).status_code == refused, username
        token = csrf(other.get("/xa/ho").get_data(as_text=True))
        reply = other.post(f"{preview}/xac-nhan", data={"csrf_token": token})
        assert reply.status_code == refused, username
    head = login(app, "truongthon")
    assert head.get("/xa/nhap-ho").status_code == 403
    assert "/xa/nhap-ho" not in head.get("/xa/ho").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Household)) == 0
    reply = _commit(officer, preview)
    assert reply.status_code == 302, reply.get_data(as_text=True)


def test_an_expired_upload_cannot_be_confirmed(app, seeded):
    officer = login(app, seeded.officer)
    preview = _upload(officer, _csv(ROWS)).headers["Location"]
    with app.app_context(), write_transaction(db.session):
        stored = db.session.scalar(select(HouseholdImport))
        stored.expires_at -= timedelta(days=1)
    assert officer.get(preview).status_code == 410
    token = csrf(officer.get("/xa/ho").get_data(as_text=True))
    assert officer.post(f"{preview}/xac-nhan", data={"csrf_token": token}).status_code == 410
    # The next upload clears it away.
    _upload(officer, _csv(ROWS))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HouseholdImport)) == 1
        assert db.session.scalar(select(func.count()).select_from(Household)) == 0
