"""One village from received submissions to the chair's decision, in a real browser (Debian's
Chromium driven by Playwright) against gunicorn: a commune officer reviews a submission, opens
the review round, compiles the lists, records the village meeting, posts the results, records
the decision and downloads the certificates (made in the background: the job page refreshes
itself until its download link appears).  Screenshots of the key pages are read back with
OCR (Tesseract, Vietnamese) to check the Vietnamese text really renders."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.households.models import Household, HouseholdYearStatus, ListSource
from server.i18n import vietnam_today
from server.meetings.models import HouseholdCase
from server.scoring.b1_store import assign_table
from server.scoring.models import HouseholdScore
from tests.collect_client import CollectClient, HttpTransport
from tests.integration.conftest import procedure_instances  # noqa: F401  (fixture)
from tests.integration.procedure import HOUSEHOLDS, as_household

TESSERACT = shutil.which("tesseract") or "/usr/bin/tesseract"  # scripts/test installs it


def ocr(png: bytes) -> str:
    """The text Tesseract reads in a screenshot (Vietnamese model), whitespace squeezed."""
    result = subprocess.run(
        [TESSERACT, "stdin", "stdout", "-l", "vie", "--psm", "3"],
        input=png,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return re.sub(r"\s+", " ", result.stdout.decode("utf-8"))


def background_pdf(page, button) -> Path:
    """Press a PDF button: the file is made in the background; its job page refreshes itself
    (no script) with the pages laid out until the download link appears; download it."""
    page.get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("PDF")
    expect(page.locator("#export-progress")).to_be_visible()
    expect(page.locator("#export-state")).to_have_text("Đã xong", timeout=120_000)
    expect(page.locator("#export-count")).to_contain_text("100% — ")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Tải tệp")).click()
    return Path(download.value.path())


@pytest.fixture
def page(new_page):
    return new_page(width=1280, height=900, accept_downloads=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_village_from_submissions_to_decision(
    page,
    app,
    seeded,
    publish_shipped,
    live_server,
    procedure_instances,  # noqa: F811  (the imported fixture)
    tmp_path,
):
    publish_shipped("phieu_b_2022")
    with app.app_context(), write_transaction(db.session):
        x1 = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        assign_table(x1, "2022_2025", "rural", "demo_2022_2025_rural")
        t01 = next(v for v in x1.villages if v.code == "T01")
        for code, (head, status) in HOUSEHOLDS.items():
            household = Household(
                commune=x1, village=t01, code=code, head_name=head, list_source=ListSource.ON_LIST
            )
            db.session.add(household)
            if status is not None:
                db.session.add(HouseholdYearStatus(household=household, year=2025, status=status))
    # The reviewer's phone sends four questionnaires to gunicorn.
    phone = CollectClient(HttpTransport(), f"{live_server.url}/key/{seeded.reviewer_token}")
    for code in HOUSEHOLDS:
        case = "c1_boundaries_not_deprived" if code.endswith("4") else "a_three_deprivations"
        xml, files = as_household(procedure_instances[case], code)
        assert [r.status for r in phone.submit(xml, files)] == [201]
    deadline = time.monotonic() + 30  # scored by the server after each 201
    while True:
        with app.app_context():
            scored = len(db.session.scalars(select(HouseholdScore)).all())
        if scored == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert scored == 4

    shots, visited = {}, []

    def shot(name):
        shots[name] = page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=False)
        visited.append(page.url)

    # Log in and review a submission.
    page.goto(f"{live_server.url}/xa/phieu")
    page.get_by_label("Tên đăng nhập").fill(seeded.officer)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name=re.compile("Phiếu đã nhận"))).to_be_visible()
    shot("phieu")
    page.get_by_role("link", name=re.compile(r"#\d+")).first.click()
    expect(page.get_by_role("heading", name="Kết quả chấm điểm")).to_be_visible()
    visited.append(page.url)
    expect(page.get_by_role("note").first).to_contain_text(
        "minh họa — không phải số liệu chính thức"
    )
    expect(page.get_by_label("Duyệt", exact=True)).to_be_checked()  # the default decision
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator("#review-state")).to_have_text("Đã duyệt")

    # Open the round and compile the lists.
    page.get_by_role("link", name="Đợt rà soát").click()
    page.get_by_label("Năm").fill("2026")
    page.get_by_role("button", name="Mở đợt").click()
    page.get_by_role("button", name="Lập / cập nhật danh sách từ kết quả chấm điểm").click()
    expect(page.get_by_role("status")).to_contain_text("Đã lập danh sách: 4 hộ mới")
    page.get_by_role("link", name=re.compile("T01")).click()
    expect(page.get_by_role("heading", name=re.compile("Danh sách đưa ra họp dân"))).to_be_visible()
    shot("danh-sach")

    # The village meeting: everyone agrees.
    page.get_by_label("Chủ trì (trưởng thôn)").fill("Rơ Mah Hiền")
    page.get_by_label("Thư ký").fill("Lê Thị Hoa")
    page.get_by_label("Số người tham dự").fill("32")
    page.get_by_label("Có", exact=True).check()
    page.get_by_label("Họ tên đại diện Mặt trận").fill("Đinh Văn Tư")
    for field in page.get_by_label(re.compile("Số người đồng ý với kết quả của hộ")).all():
        field.fill("30")
    page.get_by_role("button", name="Lưu biên bản").click()
    expect(page.get_by_role("status")).to_contain_text("hộ được thông qua, 0 hộ phải rà soát lại")
    village_page = page.url
    minutes = background_pdf(page, "Biên bản (PDF, 2 bản)")
    text = "".join(p.extract_text() for p in PdfReader(minutes).pages)
    assert text.count("BIÊN BẢN HỌP DÂN") == 2
    page.goto(village_page)

    # Post the results (a posting that has ended), then the decision.
    page.get_by_role("link", name=re.compile("Đợt rà soát định kỳ|Rà soát định kỳ")).first.click()
    page.get_by_role("link", name="niêm yết, khiếu nại").click()
    started = vietnam_today() - timedelta(days=10)
    page.get_by_label("Từ ngày").fill(started.isoformat())
    page.get_by_role("button", name="Niêm yết", exact=True).click()
    expect(page.get_by_text("Lần 1")).to_be_visible()
    visited.append(page.url)
    page.get_by_role("link", name=re.compile("« 2026")).click()
    page.get_by_role("link", name="quyết định, giấy chứng nhận").click()
    page.get_by_label("Số quyết định").fill("125/QĐ-UBND")
    page.get_by_label("Người ký").fill("Hồ Văn Nam")
    page.get_by_role("button", name="Ghi quyết định").click()
    expect(page.get_by_role("status")).to_contain_text("Đã ghi quyết định công nhận")
    shot("quyet-dinh")
    decision_page = page.url
    pages = PdfReader(background_pdf(page, re.compile("Tất cả giấy chứng nhận"))).pages
    shot("giay-chung-nhan-xong")
    page.goto(decision_page)
    with app.app_context():
        decided = db.session.scalars(select(HouseholdCase)).all()
        assert {c.stage for c in decided} == {"decided"}
        certified = [c for c in decided if c.final_category in ("ngheo", "can_ngheo")]
        statuses = db.session.scalars(
            select(HouseholdYearStatus).where(HouseholdYearStatus.year == 2026)
        ).all()
    assert len(pages) == len(certified) >= 1
    assert len(statuses) == 4
    assert "GIẤY CHỨNG NHẬN" in pages[0].extract_text()

    # What the screenshots show, read back by OCR (Tesseract's Vietnamese model): the
    # diacritics really render (the words below are not in any English text of the pages).
    seen = {name: ocr(png) for name, png in shots.items()}
    # Every page of the walk on a phone's screen: nothing wider than the screen (wide tables
    # scroll on their own), the header and the first heading readable.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in [*visited, f"{live_server.url}/xa/ra-soat", f"{live_server.url}/bao-cao"]:
        page.goto(url)
        expect(page.get_by_role("heading").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
    page.screenshot(path=str(tmp_path / "phone-decision.png"), full_page=True)

    for name, words in {
        "phieu": ("Trạng thái", "Đã nhận", "Hộ nghèo"),
        "danh-sach": (
            "Danh sách đưa ra họp dân",
            "minh họa — không phải số liệu chính thức",
            "Hộ nghèo mới",
        ),
        "quyet-dinh": ("Đã ghi quyết định công nhận", "GCN-HN.HCN", "Hộ cận nghèo"),
    }.items():
        for word in words:
            assert word in seen[name], (name, word, seen[name])
