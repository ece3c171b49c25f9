"""The village-meeting list and the report in a real browser (Debian's Chromium driven by
Playwright) against gunicorn: the "Phương pháp" column reads in plain words and a B1/income
disagreement is a visible badge — read back from the screenshot by OCR (Tesseract, Vietnamese).
The households are those of ``tests/integration/test_deciding_method_everywhere.py``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_village_to_decision_browser import ocr
from tests.integration.conftest import procedure_instances, village  # noqa: F401  (fixtures)
from tests.integration.test_deciding_method_everywhere import (  # noqa: F401  (fixtures)
    method_instances,
    world,
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_method_column_and_disagreement_badge_are_visible(
    new_page,
    seeded,
    live_server,
    world,  # noqa: F811  (the imported fixture)
    tmp_path,
):
    page = new_page(width=1280, height=900)
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill(seeded.officer)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()

    page.goto(f"{live_server.url}{world['base']}/thon/T01")
    expect(page.get_by_role("columnheader", name="Phương pháp").first).to_be_visible()
    row = page.locator("table.householdlist tr").filter(has_text="X1-T01-0102")
    badge = row.locator('[data-flag="methods-disagree"]')
    expect(badge).to_be_visible()
    expect(row.get_by_role("cell", name=re.compile("^Điểm B1"))).to_be_visible()
    page.screenshot(path=str(tmp_path / "danh-sach-T01.png"), full_page=True)
    cell = row.locator("td").nth(-2)  # "Phương pháp"
    seen = ocr(cell.screenshot(path=str(tmp_path / "phuong-phap-X1-T01-0102.png")))
    assert "Điểm B1" in seen and "không thống nhất" in seen, seen

    page.goto(f"{live_server.url}/bao-cao?year=2026")
    methods = page.locator("#methods + p + div table")
    expect(
        methods.get_by_role("columnheader", name="Quyết định theo thu nhập đo được")
    ).to_be_visible()
    expect(methods.locator('[data-flag="methods-disagree"]').first).to_have_text("1")
    methods.screenshot(path=str(tmp_path / "bao-cao-phuong-phap.png"))
