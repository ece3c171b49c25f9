"""Nothing forgotten at the decision, in Chromium against gunicorn on the demo commune: the
round page warns of last year's poor / near-poor households with no 2026 questionnaire, a
refused reason comes back with what was typed, the decision page names each household until it
has a reason — at 1366 px and on a 390 px phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.procedure import seed_demo_commune, unvisited_of_last_years_lists


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_round_shows_and_explains_its_missing_households(
    new_page, app, live_server, tmp_path
):
    password, planned = seed_demo_commune(app)
    missing = sorted((h.village.code, h.code) for h in unvisited_of_last_years_lists(planned))
    assert missing
    page = new_page(width=1366, height=900)

    def shot(name):
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/xa/ra-soat")
    page.get_by_label("Tên đăng nhập").fill("canbo.demo")
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_label("Năm").fill("2026")
    page.get_by_role("button", name="Mở đợt").click()
    page.get_by_role("button", name="Lập / cập nhật danh sách từ kết quả chấm điểm").click()
    warning = page.locator("[data-missing]")
    expect(warning).to_contain_text(
        f"{len(missing)} hộ nghèo/cận nghèo năm trước chưa có kết quả năm nay"
    )
    rows = page.locator("[data-missing-household]")
    expect(rows).to_have_count(len(missing))
    round_url = page.url.split("#")[0]
    shot("1-round-missing")

    # "Other" without a note: refused, said in Vietnamese, the choice kept.
    first = page.locator(f"[data-missing-household='{missing[0][1]}']")
    first.locator("select[name=reason]").select_option(label="Lý do khác")
    first.get_by_role("button", name="Ghi lý do").click()
    expect(page.get_by_role("alert")).to_contain_text("Lý do “Lý do khác” cần ghi chú cụ thể.")
    first = page.locator(f"[data-missing-household='{missing[0][1]}']")
    expect(first.locator("select[name=reason]")).to_have_value("other")
    shot("2-refused-reason")

    # The decision page names every one before their reasons are recorded.
    page.goto(f"{round_url}/quyet-dinh")
    expect(page.get_by_role("status").first).to_contain_text(
        f"{len(missing)} hộ nghèo/cận nghèo năm 2025 chưa có kết quả năm 2026 và chưa ghi lý do"
    )
    page.screenshot(path=str(tmp_path / "3-decision-blocked.png"))

    # Each reason recorded from its village's page (on a phone for the first village).
    phone = new_page(width=390, height=844)
    phone.goto(f"{live_server.url}/login")
    phone.get_by_label("Tên đăng nhập").fill("canbo.demo")
    phone.get_by_label("Mật khẩu").fill(password)
    phone.get_by_role("button", name="Đăng nhập").click()
    for village, code in missing:
        phone.goto(f"{round_url}/thon/{village}#missing")
        row = phone.locator(f"[data-missing-household='{code}']")
        row.locator("select[name=reason]").select_option(label="Chuyển đi nơi khác")
        row.locator("input[name=note]").fill("Chuyển vào Bình Dương làm công nhân")
        row.get_by_role("button", name="Ghi lý do").click()
        expect(phone.get_by_role("status").first).to_contain_text("Đã ghi lý do.")
    phone.goto(f"{round_url}/thon/{missing[0][0]}#missing")
    phone.screenshot(path=str(tmp_path / "4-village-phone.png"), full_page=False)
    page.goto(f"{round_url}/quyet-dinh")
    expect(page.locator("#missing tr[data-reason='moved']")).to_have_count(len(missing))
    expect(page.locator("body")).not_to_contain_text("chưa ghi lý do (ghi lý do")
    page.locator("#missing").screenshot(path=str(tmp_path / "5-decision-reasons.png"))
