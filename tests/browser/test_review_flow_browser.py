"""Reviewing one result after another in a real browser (Debian's Chromium driven by
Playwright) against gunicorn, at a laptop's 1366 px and a phone's 390 px: the decision sits at
the top of the page (on the laptop, whole and without scrolling) with "Duyệt" chosen; "save and
go to the next" lands on the next submission of the filtered list; the back link keeps the
filter; the header checkbox of the list (app.js) ticks every row."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.integration.test_review_flow import _expected, sent  # noqa: F401  (fixture)

SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_review_flow_at_laptop_and_phone_widths(
    new_page,
    app,
    seeded,
    live_server,
    sent,  # noqa: F811  (the imported fixture)
    tmp_path,
    size,
):
    width, height = SIZES[size]
    page = new_page(width=width, height=height)
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill(seeded.officer)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()

    order = _expected(app, "T01")
    page.goto(f"{live_server.url}/xa/phieu?village=T01")
    # Select-all: the header checkbox is shown by app.js and ticks every row of the page.
    header = page.locator("#select-all")
    expect(header).to_be_visible()
    rows = page.locator('input[type="checkbox"][name="ids"]')
    expect(rows).to_have_count(len(order))
    header.check()
    for i in range(len(order)):
        expect(rows.nth(i)).to_be_checked()
    rows.nth(1).uncheck()
    assert page.evaluate("document.querySelector('#select-all').indeterminate") is True
    expect(header).not_to_be_checked()
    page.screenshot(path=str(tmp_path / f"danh-sach-{size}.png"), full_page=True)
    header.check()  # from "some": every row again
    for i in range(len(order)):
        expect(rows.nth(i)).to_be_checked()
    header.uncheck()
    for i in range(len(order)):
        expect(rows.nth(i)).not_to_be_checked()

    page.locator(f'a[href^="/xa/phieu/{order[0]}?"]').click()
    expect(page).to_have_url(re.compile(rf"/xa/phieu/{order[0]}\?village=T01$"))
    decision = page.locator("#decision")
    expect(decision.get_by_label("Duyệt", exact=True)).to_be_checked()
    save_next = page.get_by_role("button", name="Lưu và sang phiếu tiếp")
    page.screenshot(path=str(tmp_path / f"phieu-{size}.png"))
    if size == "laptop":  # the whole decision, buttons included, without scrolling
        box = decision.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
        button = save_next.bounding_box()
        assert button["y"] + button["height"] <= height, button
    else:  # on a phone the decision starts on the first screen, before the answers
        box = decision.bounding_box()
        assert box["y"] < height, box
    answers = page.get_by_role("heading", name="Câu trả lời")
    assert answers.bounding_box()["y"] > decision.bounding_box()["y"]
    expect(page.locator("#list-position")).to_have_text(f"1 / {len(order)}")

    save_next.click()
    expect(page).to_have_url(re.compile(rf"/xa/phieu/{order[1]}\?village=T01$"))
    expect(page.locator(".flash.info")).to_contain_text("Đã lưu: Đã duyệt")
    expect(page.locator("#list-position")).to_have_text(f"2 / {len(order)}")
    page.screenshot(path=str(tmp_path / f"phieu-tiep-{size}.png"), full_page=True)
    # The previous one is approved; its link is "Phiếu trước".
    page.get_by_role("link", name=re.compile("Phiếu trước")).click()
    expect(page).to_have_url(re.compile(rf"/xa/phieu/{order[0]}\?village=T01$"))
    expect(page.locator("#review-state")).to_have_text("Đã duyệt")

    page.get_by_role("link", name=re.compile("Danh sách phiếu")).click()
    expect(page).to_have_url(re.compile(r"/xa/phieu\?village=T01$"))
    expect(page.locator("#f-village")).to_have_value("T01")
