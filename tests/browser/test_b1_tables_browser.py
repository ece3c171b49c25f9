"""An administrator in a real browser (Debian's Chromium driven by Playwright) sees the demo
badge on the shipped table, uploads a test table from the XLSX template, reads a Vietnamese
error for a broken one, opens the table's points, and assigns a table to a commune."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.scoring.b1 import DEMO_LABEL_VI
from tests.integration.test_b1_tables import xlsx_bytes, yaml_bytes


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_uploads_a_table_and_sees_the_demo_badge(page, live_server, seeded, tmp_path):
    broken = tmp_path / "hong.yaml"
    broken.write_bytes(yaml_bytes(area_type="nui"))
    good = tmp_path / "bang thu.xlsx"
    good.write_bytes(xlsx_bytes())

    page.goto(f"{live_server.url}/admin/b1-tables")
    page.get_by_label("Tên đăng nhập").fill(seeded.admin)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Bảng điểm B1 (điểm A, thu nhập)")).to_be_visible()
    catalogue = page.get_by_role("table", name="Danh sách bảng điểm B1")
    shipped = catalogue.get_by_role("row").filter(has_text="demo_2022_2025_rural")
    expect(shipped.locator(".badge.warn")).to_have_text(DEMO_LABEL_VI)

    page.get_by_label("Tệp bảng điểm (.xlsx theo mẫu hoặc .yaml)").set_input_files(str(broken))
    page.get_by_role("button", name="Tải lên bảng điểm").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Không tải lên được hong.yaml")
    expect(alert).to_contain_text("hong.yaml: area_type: Must be one of: rural, urban.")

    page.get_by_label("Tệp bảng điểm (.xlsx theo mẫu hoặc .yaml)").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên bảng điểm").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Đã lưu bảng điểm thu_2022_nong_thon phiên bản t1."
    )
    note = page.get_by_role("note", name="Lưu ý về số liệu")
    expect(note.locator(".badge.warn")).to_be_visible()
    expect(note).to_contain_text(DEMO_LABEL_VI)
    points = page.get_by_role("table", name="Các mục và số điểm")
    expect(points.get_by_role("row").filter(has_text="mot_nguoi")).to_contain_text("7")
    page.screenshot(path=str(tmp_path / "b1-detail.png"), full_page=True)

    page.get_by_role("link", name="← Bảng điểm B1").click()
    uploaded = page.get_by_role("table", name="Danh sách bảng điểm B1").get_by_role("row")
    expect(uploaded.filter(has_text="thu_2022_nong_thon").locator(".badge.warn")).to_be_visible()
    select = page.locator("#xa-X1").get_by_label(
        "Chuẩn nghèo đa chiều giai đoạn 2022–2025 — nông thôn"
    )
    select.select_option("thu_2022_nong_thon")
    page.get_by_role("button", name="Lưu bảng điểm cho Xã Một").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lưu bảng điểm B1 cho Xã Một")
    expect(
        page.locator("#xa-X1").get_by_label("Chuẩn nghèo đa chiều giai đoạn 2022–2025 — nông thôn")
    ).to_have_value("thu_2022_nong_thon")
    page.screenshot(path=str(tmp_path / "b1-tables.png"), full_page=True)
