"""The commune's households in a real browser (Debian's Chromium driven by Playwright) against
gunicorn, at a laptop's 1366 px and a phone's 390 px: the header's link, the progress bars, a
filter and a search without diacritics kept in the address, a household's page and the way
back to the same filtered list — and no page wider than the screen.  The households are those of
``tests/integration/test_household_workspace.py``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.integration.conftest import procedure_instances, village  # noqa: F401  (fixtures)
from tests.integration.test_household_workspace import (  # noqa: F401  (fixtures)
    commune,
    income_instance,
)


def _log_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def _listed(page) -> list[str]:
    return page.locator('table[aria-labelledby="registry"] [data-household]').all_inner_texts()


def _search(page) -> None:
    """Press "Tìm" and wait for the filtered list."""
    with page.expect_navigation():
        page.get_by_role("button", name="Tìm").click()


def _fits(page) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [1366, 390])
def test_filter_search_and_follow_a_household(
    new_page,
    seeded,
    live_server,
    commune,  # noqa: F811  (the imported fixture)
    width,
    tmp_path,
):
    page = new_page(width=width, height=900 if width > 400 else 844)
    _log_in(page, live_server.url, seeded.officer, seeded.password)
    if width < 500:  # on a phone the header's links open under "Menu"
        page.get_by_text("Menu", exact=True).click()
    page.get_by_role("link", name="Hộ gia đình").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hộ gia đình — rà soát năm 2026")
    bars = page.locator("table.progress progress")
    assert bars.count() >= 12  # three per village (T01–T03) and per reviewer
    by_village = page.get_by_role("table", name="Theo thôn")
    expect(by_village.get_by_label("Có phiếu B: 5 / 6 hộ")).to_be_visible()  # T01
    _fits(page)
    page.screenshot(path=str(tmp_path / f"ho-{width}.png"), full_page=True)

    page.get_by_label("Lọc", exact=True).select_option("chua_co_phieu")
    _search(page)
    assert parse_qs(urlsplit(page.url).query)["show"] == ["chua_co_phieu"]
    assert _listed(page) == ["X1-T01-0105", "X1-T02-0201", "X1-T03-0301"]
    _fits(page)
    page.screenshot(path=str(tmp_path / f"ho-chua-co-phieu-{width}.png"), full_page=True)

    page.get_by_label("Tìm theo tên chủ hộ hoặc mã hộ").fill("Nguyen Van A")
    _search(page)
    assert _listed(page) == ["X1-T02-0201"]
    row = page.locator("table[aria-labelledby=registry] tbody tr").first
    expect(row).to_contain_text("Nguyễn Văn An")
    expect(row.locator('[data-kind="phieu_b"][data-missing]')).to_be_visible()

    row.get_by_role("link", name="X1-T02-0201").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("X1-T02-0201 – Nguyễn Văn An")
    expect(page.get_by_text("Năm này chưa có phiếu nào.")).to_be_visible()
    _fits(page)
    page.screenshot(path=str(tmp_path / f"ho-X1-T02-0201-{width}.png"), full_page=True)

    with page.expect_navigation():
        page.get_by_role("link", name="« Hộ gia đình").click()
    back = parse_qs(urlsplit(page.url).query)
    assert back == {"show": ["chua_co_phieu"], "q": ["Nguyen Van A"], "year": ["2026"]}, back
    expect(page.get_by_label("Tìm theo tên chủ hộ hoặc mã hộ")).to_have_value("Nguyen Van A")
    assert _listed(page) == ["X1-T02-0201"]

    # A household with a result: its year's score panel, linked questionnaires.
    page.get_by_label("Tìm theo tên chủ hộ hoặc mã hộ").fill("")
    page.get_by_label("Lọc", exact=True).select_option("khong_thong_nhat")
    _search(page)
    assert _listed(page) == ["X1-T01-0102"]
    page.get_by_role("link", name="X1-T01-0102").click()
    expect(page.get_by_role("heading", name="Kết quả chấm điểm năm 2026")).to_be_visible()
    expect(page.locator('[data-flag="methods-disagree"]').first).to_be_visible()
    _fits(page)
    page.screenshot(path=str(tmp_path / f"ho-X1-T01-0102-{width}.png"), full_page=True)
