"""A province administrator in Chromium: a national questionnaire is shown as national and
read-only (assignable to their communes, no publish/close/retire controls), their own upload as
their province's with every control; the list says who owns each form."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.xlsforms import household_form


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_province_sees_national_forms_read_only(page, live_server, seeded, tmp_path):
    shots = os.environ.get("RASOAT_SCREENSHOTS", str(tmp_path))
    page.goto(f"{live_server.url}/admin/forms")
    page.get_by_label("Tên đăng nhập").fill(seeded.admin)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    good = tmp_path / "phieu.xlsx"
    good.write_bytes(household_form())
    page.get_by_label("Tệp XLSForm (.xlsx)").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên bản nháp").click()
    expect(page.locator("#form-owner")).to_contain_text("Biểu mẫu của Tỉnh Thử.")
    expect(page.get_by_role("button", name="Xuất bản phiên bản 2026120101")).to_be_visible()
    page.get_by_role("button", name="Xuất bản phiên bản 2026120101").click()
    expect(page.get_by_role("button", name="Ngừng nhận phiếu")).to_be_visible()
    page.screenshot(path=f"{shots}/own-form.png", full_page=True)

    page.goto(f"{live_server.url}/admin/forms")
    national_row = page.get_by_role("row").filter(has_text=seeded.form_id)
    expect(national_row).to_contain_text("Trung ương")
    expect(page.get_by_role("row").filter(has_text="phieu_thu")).to_contain_text("Tỉnh")
    page.screenshot(path=f"{shots}/forms-list.png", full_page=True)

    page.goto(f"{live_server.url}/admin/forms/{seeded.form_id}")
    expect(page.locator("#form-owner")).to_contain_text("Biểu mẫu cấp trung ương.")
    expect(page.locator("#form-owner")).to_contain_text("không được xuất bản, đóng")
    expect(page.get_by_role("button", name="Ngừng nhận phiếu")).to_have_count(0)
    expect(page.get_by_label("Trạng thái biểu mẫu")).to_have_count(0)
    page.screenshot(path=f"{shots}/national-form.png", full_page=True)
    # Assigning it to a commune of the province still works.
    page.get_by_role("button", name="Giao").click()
    expect(page.get_by_role("status")).to_contain_text("Đã giao biểu mẫu cho xã X2")
