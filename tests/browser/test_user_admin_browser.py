"""A province administrator, on a phone-sized screen in a real browser (Debian's Chromium driven
by Playwright), creates a village head account through the form, finds it in the list, and
issues the phone's device token with its QR code; then the village head logs in on the phone
and gets their village's pages, read-only."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_admin_creates_a_village_head_account(new_page, live_server, seeded, tmp_path):
    page = new_page(width=390, height=844)  # a phone
    page.goto(f"{live_server.url}/admin/nguoi-dung")
    page.get_by_label("Tên đăng nhập").fill(seeded.admin)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Tài khoản", exact=False).first).to_be_visible()

    form = page.get_by_role("form", name="Tạo tài khoản")
    form.get_by_label("Tên đăng nhập").fill("truongthon.hai")
    form.get_by_label("Họ và tên").fill("Trưởng thôn Hai")
    form.get_by_label("Vai trò").select_option(label="Trưởng thôn (ODK Collect và xem thôn mình)")
    form.get_by_label("Xã", exact=True).select_option("X1")
    form.locator("summary", has_text="Xã Một (X1)").click()  # open the commune's villages
    form.get_by_role("group", name="Xã Một (X1)").get_by_label("T02 – Thôn Hai").check()
    form.get_by_label("Mật khẩu", exact=True).fill("truongthon-mk-1")
    form.get_by_role("button", name="Tạo tài khoản").click()

    expect(page.get_by_role("status")).to_contain_text("Đã tạo tài khoản truongthon.hai.")
    expect(page.get_by_role("heading", name="Trưởng thôn Hai")).to_be_visible()
    page.get_by_label("Tên thiết bị").fill("Điện thoại thôn Hai")
    page.get_by_role("button", name="Cấp mã thiết bị mới").click()
    expect(
        page.get_by_role("img", name="Mã QR cấu hình ODK Collect").locator("svg")
    ).to_be_visible()
    expect(page.locator("#collect-url")).to_contain_text(f"{live_server.url}/key/")
    page.screenshot(path=str(tmp_path / "user-detail.png"), full_page=True)

    page.get_by_role("link", name="← Tài khoản").click()
    row = page.get_by_role("table", name="Danh sách tài khoản").get_by_role("row")
    created = row.filter(has_text="truongthon.hai")
    expect(created).to_contain_text("Trưởng thôn (ODK Collect và xem thôn mình)")
    expect(created).to_contain_text("Xã Một")
    expect(created).to_contain_text("T02 – Thôn Hai")
    expect(created.get_by_role("cell").last).to_have_text("1")  # one live device token
    # Nothing wider than the phone's screen but the table, which scrolls on its own.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "users.png"), full_page=True)

    # The new village head logs in on their phone: read-only pages of their village.  On a
    # phone the header's links, "Đăng xuất" among them, are under "Menu".
    page.get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Đăng xuất").click()
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill("truongthon.hai")
    page.get_by_label("Mật khẩu").fill("truongthon-mk-1")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Phiếu đã nhận")).to_be_visible()
    page.get_by_text("Menu", exact=True).click()
    expect(page.locator("header")).to_contain_text("(chỉ xem)")
    expect(page.get_by_role("link", name="Đợt rà soát")).to_be_visible()
    expect(page.get_by_role("link", name="Báo cáo")).to_have_count(0)
    expect(page.get_by_role("button", name="Áp dụng")).to_have_count(0)  # no bulk actions
    village = page.get_by_label("Thôn")
    expect(village.locator("option")).to_have_text(["— tất cả —", "T02 – Thôn Hai"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "village-head.png"), full_page=True)
