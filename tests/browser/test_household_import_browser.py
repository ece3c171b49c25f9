"""Importing a commune's household list in a real browser (Debian's Chromium driven by
Playwright) against gunicorn: from the households page, download the XLSX template, fill it in
as a spreadsheet program would, upload it, read the preview (counts and rows, nothing written
yet), confirm, and find the households on the households page."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from server.documents.spreadsheets import text_row


def _log_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_download_fill_upload_preview_and_confirm(new_page, seeded, live_server, tmp_path):
    page = new_page(width=1366, height=900)
    _log_in(page, live_server.url, seeded.officer, seeded.password)
    page.goto(f"{live_server.url}/xa/ho")
    page.get_by_role("link", name="Nhập danh sách hộ từ tệp Excel hoặc CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Nhập danh sách hộ từ tệp Excel hoặc CSV"
    )
    expect(page.get_by_text("Hộ không có trong tệp được giữ nguyên, không bị xoá.")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải mẫu Excel (.xlsx)").click()
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)
    book = load_workbook(template)
    helper = " ".join(str(v) for row in book["Hướng dẫn"].values for v in row if v)
    assert "Thôn Một" in helper and "Hộ cận nghèo" in helper
    sheet = book["Danh sách hộ"]
    for row in (
        ["X1-T01-0501", "Thôn Một", "Đinh Thị Hoa", "Hộ nghèo", ""],
        ["X1-T02-0502", "T02", "Rơ Mah Blir", "Hộ cận nghèo", "Hộ có giấy đề nghị"],
    ):
        sheet.append(text_row(sheet, row))
    filled = io.BytesIO()
    book.save(filled)
    (tmp_path / "danh-sach.xlsx").write_bytes(filled.getvalue())

    # A first try with a village the commune does not have: the problem by row and column,
    # and no way to confirm.
    (tmp_path / "sai.csv").write_bytes(
        "Mã hộ;Thôn;Họ tên chủ hộ;Tình trạng năm trước\nX1-T09-0001;Thôn Chín;A Khoa;Hộ nghèo\n".encode(
            "utf-8-sig"
        )
    )
    page.get_by_label("Năm của tình trạng trong tệp (thường là năm trước)").fill("2025")
    page.get_by_label("Tệp danh sách hộ (.xlsx hoặc .csv)").set_input_files(
        str(tmp_path / "sai.csv")
    )
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.locator('[data-count="errors"]')).to_have_text("1")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").nth(0)).to_have_text("2")
    expect(errors.locator("td").nth(1)).to_have_text("Thôn")
    expect(errors.locator("td").nth(2)).to_contain_text("Thôn Chín")
    expect(page.get_by_role("button", name="Xác nhận nhập")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "loi.png"), full_page=True)
    page.screenshot(path="/tmp/household-import-errors.png", full_page=True)
    page.get_by_role("link", name="Tải tệp khác lên").click()
    # The year chosen is kept.
    expect(page.get_by_label("Năm của tình trạng trong tệp (thường là năm trước)")).to_have_value(
        "2025"
    )
    page.get_by_label("Tệp danh sách hộ (.xlsx hoặc .csv)").set_input_files(
        str(tmp_path / "danh-sach.xlsx")
    )
    page.get_by_role("button", name="Tải lên và xem trước").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xem trước")
    expect(page.locator('[data-count="new"]')).to_have_text("2")
    expect(page.locator('[data-count="errors"]')).to_have_text("0")
    expect(page.locator("#import-changed")).to_contain_text("Rơ Mah Blir")
    expect(page.locator("#import-changed")).to_contain_text("Hộ có giấy đề nghị")
    expect(page.get_by_text("không có trong tệp được giữ nguyên, không bị xoá")).to_be_visible()
    page.screenshot(path=str(tmp_path / "xem-truoc.png"), full_page=True)
    page.screenshot(path="/tmp/household-import-preview.png", full_page=True)

    page.get_by_role("button", name="Xác nhận nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hộ gia đình")
    expect(page.get_by_role("status").first).to_contain_text("2 hộ mới")
    page.get_by_label("Tìm theo tên chủ hộ hoặc mã hộ").fill("Dinh Thi Hoa")
    with page.expect_navigation():
        page.get_by_role("button", name="Tìm").click()
    expect(page.locator("table[aria-labelledby=registry] tbody")).to_contain_text("X1-T01-0501")
