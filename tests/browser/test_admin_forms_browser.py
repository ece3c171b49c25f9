"""An administrator in a real browser (Debian's Chromium driven by Playwright) uploads a broken
XLSForm, reads the Vietnamese problem, uploads a good one, sees the draft's QR code, publishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.xlsforms import household_form, workbook


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_uploads_and_publishes_in_a_browser(page, live_server, seeded, tmp_path):
    broken = tmp_path / "hong.xlsx"
    broken.write_bytes(
        workbook(
            [["type", "name", "label"], ["text", "a", "A"], ["integr", "b", "B"]],
            settings={"form_id": "hong", "version": "1"},
        )
    )
    good = tmp_path / "phieu.xlsx"
    good.write_bytes(household_form())

    page.goto(f"{live_server.url}/admin/forms")
    expect(page.get_by_role("heading", name="Đăng nhập cán bộ")).to_be_visible()
    page.get_by_label("Tên đăng nhập").fill(seeded.admin)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Biểu mẫu (XLSForm)")).to_be_visible()

    page.get_by_label("Tệp XLSForm (.xlsx)").set_input_files(str(broken))
    page.get_by_role("button", name="Tải lên bản nháp").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Không tải lên được hong.xlsx")
    expect(alert).to_contain_text("Sheet 'survey', dòng 3: Loại câu hỏi 'integr' không hợp lệ.")
    page.screenshot(path=str(tmp_path / "upload-error.png"), full_page=True)

    page.get_by_label("Tệp XLSForm (.xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên bản nháp").click()
    expect(page.get_by_role("heading", name="Bản nháp phiên bản 2026120101")).to_be_visible()
    expect(page.get_by_label("Mã QR thử bản nháp").locator("svg")).to_be_visible()
    expect(page.locator("#test-url")).to_contain_text(f"{live_server.url}/test/")
    page.screenshot(path=str(tmp_path / "draft.png"), full_page=True)

    page.get_by_role("button", name="Xuất bản phiên bản 2026120101").click()
    expect(page.get_by_role("status")).to_contain_text("Đã xuất bản phiên bản mới")
    expect(page.get_by_text("hiện hành")).to_be_visible()
