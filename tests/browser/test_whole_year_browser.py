"""The whole 2026 review as a commune officer lives it, in Chromium against gunicorn, on the demo
commune (some of its households were never visited this year): the households page shows who
has no questionnaire yet and which of last year's poor / near-poor households have nothing; the
officer reviews results one after another (one sent back for re-survey), opens the round,
compiles the lists, is warned of the missing households and records a reason for each (some on
a phone), records every village's meeting (one on a phone), posts the lists, takes a complaint,
and records the decision — refused while a reason is missing, then accepted; the minutes, the
decision's annex and the report carry the recorded reasons.  Every page of the walk fits a
390 px phone screen."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from server.demo_households import VILLAGES
from server.i18n import vietnam_today
from tests.integration.procedure import seed_demo_commune, unvisited_of_last_years_lists

PHONE = {"width": 390, "height": 844}
# (label chosen, note typed, data-reason on the decision page), given in turn to the missing.
REASONS = [
    ("Chuyển đi nơi khác", "Cả hộ vào Bình Dương làm công nhân", "moved"),
    ("Chưa rà soát được", "Chủ hộ đi rẫy xa, hẹn rà soát tuần sau", "not_reviewed"),
    ("Hộ không còn người", "", "died_out"),
]


def background_pdf(page, button) -> Path:
    """Press a PDF button; the job page refreshes itself until the download link appears."""
    page.get_by_role("button", name=button).click()
    expect(page.locator("#export-state")).to_have_text("Đã xong", timeout=180_000)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Tải tệp")).click()
    return Path(download.value.path())


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", " ", "".join(p.extract_text() for p in PdfReader(path).pages))


def unspaced(text: str) -> str:
    """A PDF's text without spaces: a household code broken at its hyphen in a narrow cell
    ("DEMO01- T01-0030") reads whole again."""
    return re.sub(r"\s+", "", text)


def hold_meeting(page) -> bool:
    """Record the village meeting on ``page`` (a village's lists), everyone present agreeing;
    False when the village has nothing to put to the vote (a well-off village)."""
    if page.get_by_text("Không còn hộ nào chờ họp dân ở thôn này.").count():
        return False
    page.get_by_label("Chủ trì (trưởng thôn)").fill("Rơ Mah Hiền")
    page.get_by_label("Thư ký").fill("Lê Thị Hoa")
    page.get_by_label("Số người tham dự").fill("40")
    page.get_by_label("Có", exact=True).check()
    page.get_by_label("Họ tên đại diện Mặt trận").fill("Đinh Văn Tư")
    for field in page.get_by_label(re.compile("Số người đồng ý với kết quả của hộ")).all():
        field.fill("35")
    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.get_by_role("status").first).to_contain_text("hộ được thông qua")
    return True


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_whole_year_as_a_commune_officer(new_page, app, live_server, tmp_path):
    password, planned = seed_demo_commune(app)
    never_visited = [h for h in planned if h.outcome == "pending"]
    missing = sorted(
        (h.village.code, h.code, h.head_name) for h in unvisited_of_last_years_lists(planned)
    )
    assert len(missing) >= 4 and len(never_visited) > len(missing)
    base = live_server.url
    visited: list[str] = []

    desk = new_page(width=1366, height=900, accept_downloads=True)

    def shot(name, target=desk, full=True):
        target.screenshot(path=str(tmp_path / f"{name}.png"), full_page=full)
        visited.append(target.url)

    def log_in(page):
        page.goto(f"{base}/login")
        page.get_by_label("Tên đăng nhập").fill("canbo.demo")
        page.get_by_label("Mật khẩu").fill(password)
        page.get_by_role("button", name="Đăng nhập").click()

    log_in(desk)

    # 1. The households: who has nothing this year, and last year's poor with nothing.
    desk.goto(f"{base}/xa/ho")
    expect(desk.get_by_role("heading", level=1)).to_contain_text("rà soát năm 2026")
    shot("01-households")
    desk.get_by_label("Lọc", exact=True).select_option("chua_co_phieu")
    desk.get_by_role("button", name="Tìm").click()
    expect(desk.locator("#registry")).to_contain_text(f"({len(never_visited)})")
    desk.get_by_label("Lọc", exact=True).select_option("ngheo_chua_co_gi")
    desk.get_by_role("button", name="Tìm").click()
    expect(desk.locator("#registry")).to_contain_text(f"({len(missing)})")
    links = desk.locator("a[data-household]")
    expect(links).to_have_count(len(missing))
    assert sorted(links.evaluate_all("ls => ls.map(l => l.dataset.household)")) == sorted(
        code for _v, code, _h in missing
    )
    shot("02-households-missing")
    desk.locator(f"a[data-household='{missing[0][1]}']").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text(missing[0][1])
    shot("03-household")

    # 2. Review: one result after another from the list of received questionnaires, the
    #    decision at the top with "Duyệt" chosen; one household sent back for re-survey.
    desk.goto(f"{base}/xa/phieu?village=T01")
    desk.locator('a[href^="/xa/phieu/"][href*="village=T01"]').first.click()
    decision = desk.locator("#decision")
    expect(decision.get_by_label("Duyệt", exact=True)).to_be_checked()
    first = desk.url
    approved = re.search(r"DEMO01-T\d\d-\d{4}", desk.locator("h1").inner_text()).group()
    desk.get_by_role("button", name="Lưu và sang phiếu tiếp").click()
    expect(desk.locator(".flash.info")).to_contain_text("Đã lưu: Đã duyệt")
    assert desk.url != first
    shot("04-review-next", full=False)
    decision.get_by_role("radio", name=re.compile("Cần rà soát lại")).check()
    decision.get_by_role("button", name="Lưu", exact=True).click()
    expect(desk.get_by_role("alert").first).to_be_visible()  # a comment is required
    expect(decision.get_by_role("radio", name=re.compile("Cần rà soát lại"))).to_be_checked()
    decision.get_by_label(re.compile("Nhận xét")).fill(
        "Ảnh nhà không khớp địa chỉ, đề nghị đến lại"
    )
    decision.get_by_role("button", name="Lưu", exact=True).click()
    expect(desk.locator("#resurvey-flag")).to_be_visible()
    sent_back = re.search(r"DEMO01-T\d\d-\d{4}", desk.locator("h1").inner_text()).group()
    shot("05-resurvey", full=False)
    desk.goto(f"{base}/xa/ho?q={sent_back}")
    expect(desk.locator(f"a[data-household='{sent_back}']")).to_be_visible()
    expect(desk.locator("[data-flag='resurvey']")).to_have_count(1)

    # 3. The round: open it, compile the lists; the missing households are named.
    desk.get_by_role("link", name="Đợt rà soát").click()
    desk.get_by_label("Năm").fill("2026")
    desk.get_by_role("button", name="Mở đợt").click()
    desk.get_by_role("button", name="Lập / cập nhật danh sách từ kết quả chấm điểm").click()
    expect(desk.get_by_role("status").first).to_contain_text("Đã lập danh sách")
    round_url = desk.url.split("#")[0].split("?")[0]
    warning = desk.locator("[data-missing]")
    expect(warning).to_contain_text(
        f"{len(missing)} hộ nghèo/cận nghèo năm trước chưa có kết quả năm nay"
    )
    expect(desk.locator("[data-missing-household]")).to_have_count(len(missing))
    shot("06-round-missing")

    # The decision page refuses while any has no reason, naming how many.
    desk.goto(f"{round_url}/quyet-dinh")
    expect(desk.get_by_role("status").first).to_contain_text(
        f"{len(missing)} hộ nghèo/cận nghèo năm 2025 chưa có kết quả năm 2026 và chưa ghi lý do"
    )
    shot("07-decision-blocked")

    # Reasons: the first half on the laptop from the round page, the rest on a phone from
    # each household's village page.
    chosen = {}
    phone = new_page(**PHONE, accept_downloads=True)
    log_in(phone)
    for i, (village, code, _head) in enumerate(missing):
        label, note, key = REASONS[i % len(REASONS)]
        chosen[code] = (label, note, key)
        on_phone = i >= len(missing) // 2
        page = phone if on_phone else desk
        page.goto(f"{round_url}/thon/{village}#missing" if on_phone else round_url)
        row = page.locator(f"[data-missing-household='{code}']")
        row.locator("select[name=reason]").select_option(label=label)
        row.locator("input[name=note]").fill(note)
        row.get_by_role("button", name="Ghi lý do").click()
        expect(page.get_by_role("status").first).to_contain_text("Đã ghi lý do.")
        if i == len(missing) - 1:
            shot("08-reason-phone", target=phone, full=False)

    # 4. Every village's meeting: everyone present agrees (one village on the phone).
    nothing_to_vote: list[str] = []
    for n, (village, _name) in enumerate((v.code, v.name) for v in VILLAGES):
        page = phone if n == 0 else desk
        page.goto(f"{round_url}/thon/{village}")
        if not hold_meeting(page):
            nothing_to_vote.append(village)
        elif n == 0:
            shot("09-meeting-phone", target=phone, full=False)
            minutes = pdf_text(background_pdf(phone, "Biên bản (PDF, 2 bản)"))
            here = [code for v, code, _head in missing if v == village]
            assert here
            for code in here:
                assert code in unspaced(minutes) and chosen[code][0] in minutes, code

    assert len(nothing_to_vote) < len(VILLAGES) - 1, nothing_to_vote

    # 5. Posting (ten days, ended) and a complaint re-checked.
    desk.goto(f"{round_url}/niem-yet")
    desk.get_by_label("Từ ngày").fill((vietnam_today() - timedelta(days=10)).isoformat())
    desk.get_by_role("button", name="Niêm yết", exact=True).click()
    expect(desk.get_by_text("Lần 1")).to_be_visible()
    complained = desk.get_by_label("Hộ bị khiếu nại").locator("option").first.inner_text()
    desk.get_by_label("Ngày nhận").fill((vietnam_today() - timedelta(days=8)).isoformat())
    desk.get_by_label("Người khiếu nại").fill("Nguyễn Văn Bình")
    desk.get_by_label("Nội dung").fill("Hộ có xe máy mới, đề nghị xem lại")
    desk.get_by_role("button", name="Ghi khiếu nại").click()
    desk.get_by_label("Người phúc tra").fill("Trần Thị Lan")
    desk.get_by_label("Kết quả phúc tra").fill("Xe máy đi mượn; điều kiện sống không đổi")
    desk.get_by_role("button", name="Lưu kết quả phúc tra").click()
    expect(desk.locator("body")).to_contain_text("giữ nguyên")
    expect(desk.locator("body")).to_contain_text(complained.split(" — ")[0])
    shot("10-posting")

    # 6. The decision, now accepted; its annex and the report carry every reason.
    desk.goto(f"{round_url}/quyet-dinh")
    for code, (_label, _note, key) in chosen.items():
        expect(desk.locator(f"#missing tr[data-reason='{key}']", has_text=code)).to_have_count(1)
    desk.get_by_label("Số quyết định").fill("215/QĐ-UBND")
    desk.get_by_label("Người ký").fill("Hồ Văn Nam")
    desk.get_by_role("button", name="Ghi quyết định").click()
    expect(desk.get_by_role("status").first).to_contain_text("Đã ghi quyết định công nhận")
    # Each household's review state is on the decision page: the one sent back says so.
    expect(desk.locator(f"tr[data-case='{sent_back}'] td[data-review]")).to_have_attribute(
        "data-review", "resurvey"
    )
    expect(desk.locator(f"tr[data-case='{approved}'] td[data-review]")).to_have_attribute(
        "data-review", "approved"
    )
    shot("11-decision")
    annex = pdf_text(background_pdf(desk, "Quyết định (PDF)"))
    for code, (label, note, _key) in chosen.items():
        assert code in unspaced(annex) and label in annex and note in annex, code

    desk.goto(f"{base}/bao-cao")
    shot("12-report")
    report = desk.locator("body").inner_text()
    for label in {label for label, _note, _key in chosen.values()}:
        assert label in report, label

    # 7. Every page of the walk on a phone: nothing wider than the screen.
    for url in dict.fromkeys(visited):
        phone.goto(url)
        expect(phone.get_by_role("heading").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
