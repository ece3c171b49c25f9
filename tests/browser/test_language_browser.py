"""A staff member whose browser is set to English still gets Vietnamese first; the VI | EN
switch in the header changes the language of the pages, and the choice is kept (Debian's
Chromium driven by Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.fixture
def page(new_page):
    # An English-configured browser, as commune computers often are.
    return new_page(locale="en-US", width=1000, height=800)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_switch_to_english_on_the_login_page_and_back(page, live_server, seeded, tmp_path):
    page.goto(f"{live_server.url}/admin/forms")
    expect(page.get_by_role("heading", name="Đăng nhập cán bộ")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    language = page.get_by_role("navigation", name="Ngôn ngữ")
    language.get_by_role("link", name="EN").click()
    expect(page.get_by_role("heading", name="Staff login")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.screenshot(path=str(tmp_path / "login-en.png"), full_page=True)

    # The choice is kept: log in and land on the forms page in English.
    page.get_by_label("Username").fill(seeded.admin)
    page.get_by_label("Password").fill(seeded.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Forms (XLSForm)")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Forms (XLSForm)")).to_be_visible()

    page.get_by_role("navigation", name="Language").get_by_role("link", name="VI").click()
    expect(page.get_by_role("heading", name="Biểu mẫu (XLSForm)")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập cán bộ")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Đã đăng xuất.")
