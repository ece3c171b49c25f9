"""The Content-Security-Policy in Debian's Chromium against gunicorn: a commune officer and a
province administrator open the main pages (received submissions, a submission with its grouped
answers, the review rounds, a village's lists, the posting and decision pages, the report with
its charts; forms, accounts with a device QR code, B1 tables, audit log, provincial approvals)
and the browser reports no policy violation — no inline script, no inline style, nothing from
elsewhere — while what the pages' script does still works (the "In" link prints).  Screenshots
of the pages go to ``$RASOAT_SCREENSHOTS`` when set (to compare layouts before and after)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.accounts.models import User
from server.extensions import db
from server.submissions.models import Submission
from tests.integration.conftest import procedure_instances, village  # noqa: F401  (fixtures)

# Records every violation the page reports, from before its own scripts run.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture
def page(new_page):
    page = new_page(width=1280, height=900)
    page.add_init_script(RECORD_VIOLATIONS)
    return page


class Tour:
    """Opens pages, collecting the violations each reports and console errors about CSP."""

    def __init__(self, page, base: str, shots: Path | None):
        self.page, self.base, self.shots = page, base, shots
        self.violations: list[str] = []
        self.console: list[str] = []
        self.opened: list[str] = []
        page.on(
            "console",
            lambda m: self.console.append(m.text) if m.type in ("error", "warning") else None,
        )

    def visit(self, path: str, name: str, status: int = 200) -> None:
        reply = self.page.goto(self.base + path)
        assert reply.status == status, (path, reply.status)
        assert reply.headers["content-security-policy"].startswith("default-src 'self'")
        self.page.wait_for_load_state("load")
        self.collect(path)
        self.opened.append(path)
        if self.shots is not None:
            self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def collect(self, where: str) -> None:
        self.violations += [f"{where}: {v}" for v in self.page.evaluate("window.__violations")]
        self.page.evaluate("window.__violations = []")

    def csp_console_errors(self) -> list[str]:
        return [t for t in self.console if "Content Security Policy" in t]


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill("matkhau-123")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_policy_violation_on_the_main_pages(
    page,
    new_page,
    app,
    seeded,
    village,  # noqa: F811  (the imported fixture)
    live_server,
):
    shots = os.environ.get("RASOAT_SCREENSHOTS")
    shots = Path(shots) if shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        submission = db.session.scalar(select(Submission.id).order_by(Submission.id))
        reviewer = db.session.scalar(select(User.id).where(User.username == seeded.reviewer))
    base, round_page = live_server.url, f"/xa/ra-soat/{village['round']}"

    officer = Tour(page, base, shots)
    officer.visit("/", "front-page")
    officer.visit("/login", "login")
    _login(page, base, seeded.officer)
    officer.collect("/login (after)")
    officer.visit("/xa/phieu", "review-list")
    officer.visit(f"/xa/phieu/{submission}", "submission")
    # Grouped answers are indented by their depth (classes now, no style attribute).
    depths = page.locator("table.answers th[class*='depth-']")
    assert depths.count() > 10
    indents = {
        depths.nth(i).evaluate("th => getComputedStyle(th).paddingLeft")
        for i in range(depths.count())
    }
    assert {"6.4px", "22.4px"} <= indents, indents  # .4rem and 1.4rem at 16px
    officer.visit("/xa/ra-soat", "rounds")
    officer.visit(round_page, "round")
    officer.visit(f"{round_page}/thon/T01", "village-lists")
    officer.visit(f"{round_page}/niem-yet", "posting")
    officer.visit(f"{round_page}/quyet-dinh", "decisions")
    officer.visit("/bao-cao", "report")
    wide = page.locator("svg.chart-wide")
    assert wide.count() == 2 and page.locator("svg.chart-narrow:visible").count() == 0
    for chart in wide.all():  # as wide as they were, never wider than the page
        box = chart.bounding_box()
        assert 0 < box["width"] <= float(chart.get_attribute("width")), box
    # A phone: the narrow layout, labels over the bars, its 12-unit text drawn at >= 11 px
    # (the wide one shrank it to ~6 px); same shape, never wider than the screen.
    page.set_viewport_size({"width": 390, "height": 800})
    narrow = page.locator("svg.chart-narrow")
    assert narrow.count() == 2 and page.locator("svg.chart-wide:visible").count() == 0
    for chart in narrow.all():
        box, width, height = (
            chart.bounding_box(),
            float(chart.get_attribute("width")),
            float(chart.get_attribute("height")),
        )
        assert box["width"] < 390, box
        assert abs(box["height"] / box["width"] - height / width) < 0.02, box
        assert 12 * box["width"] / width >= 11, (box, width)
    # The header is one line on a phone; its links open under "Menu" (click or keyboard).
    assert page.locator("header").bounding_box()["height"] <= 64
    reports_link = page.locator("header a", has_text="Báo cáo")
    assert not reports_link.is_visible()
    page.locator("label.nav-button").click()
    assert reports_link.is_visible()
    page.locator("#nav-toggle").focus()
    page.keyboard.press("Space")
    assert not reports_link.is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    officer.visit("/xa/khong-co", "not-found", status=404)

    # The page's script: "In" prints (window.print, replaced to count calls) and stays put.
    officer.visit(f"{round_page}/thon/T01", "village-lists")
    page.evaluate(
        "() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }"
    )
    page.get_by_role("link", name="In", exact=True).click()
    assert page.evaluate("window.__printed") == 1
    assert page.url == f"{base}{round_page}/thon/T01"

    admin_page = new_page(width=1280, height=900)
    admin_page.add_init_script(RECORD_VIOLATIONS)
    admin = Tour(admin_page, base, shots)
    _login(admin_page, base, seeded.admin)
    admin.collect("/login (after)")
    for path, name in [
        ("/admin/forms", "forms"),
        ("/admin/forms/phieu_b_2022", "form"),
        ("/admin/nguoi-dung", "users"),
        (f"/admin/nguoi-dung/{reviewer}", "user"),
        ("/admin/b1-tables", "b1-tables"),
        ("/admin/b1-tables/demo_2022_2025_rural/demo-1", "b1-table"),
        ("/admin/nhat-ky", "audit-log"),
        ("/admin/phe-duyet", "approvals"),
        ("/xa/phieu", "admin-review-list"),
    ]:
        admin.visit(path, name)
    # A device token's QR code (inline SVG) shows under the policy.
    admin_page.goto(f"{base}/admin/nguoi-dung/{reviewer}")
    admin_page.get_by_role("button", name="Cấp mã thiết bị mới").click()
    expect(admin_page.locator(".qr svg")).to_be_visible()
    admin.collect("device token")
    if shots:
        admin_page.screenshot(path=str(shots / "device-token.png"), full_page=True)
    admin.visit("/bao-cao?lang=en", "report-en")

    for tour in (officer, admin):
        assert tour.violations == []
        assert tour.csp_console_errors() == []

    # The recorder is live: an inline script inserted now is refused, and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.append(s); }"
    )
    page.wait_for_timeout(200)
    officer.collect("probe")
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in officer.violations), officer.violations
