"""The household map in Debian's Chromium against gunicorn, at 1366 px and 390 px.

Without a tile URL: a circle per household with a point (counted in the DOM), coloured by
verdict, the plain coordinate plot's grid and note, a popup naming the household with the link
to its questionnaire (which opens), the legend hiding a verdict, the households without a point
listed — with no Content-Security-Policy violation (the page's JSON data block included) and no
request to anywhere but the server itself.  With a tile server that cannot be reached, the plot
replaces it and says so; with one that answers (on this machine), its tiles show under the
page's policy.  Screenshots go to ``$RASOAT_SCREENSHOTS`` when set."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from scripts.pgcluster import free_port
from server.db import write_transaction
from server.extensions import db
from server.households.models import Household, HouseholdStatus, HouseholdYearStatus
from tests.browser.test_security_policy_browser import RECORD_VIOLATIONS
from tests.integration.conftest import procedure_instances, village  # noqa: F401  (fixtures)
from tests.integration.test_household_map import YEAR, add_household, send_with_point

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# Village T02's households, each at its own point (X1-T01-0101 … 0103 share one, 0104 has none).
SPREAD = {
    "X1-T02-0201": ("Đinh Văn Một", "14.3600 107.9800 610 3.0"),
    "X1-T02-0202": ("Rơ Châm Hai", "14.3620 107.9950 605 6.5"),
    "X1-T02-0203": ("Siu Ba", "14.3500 107.9700 630"),  # no accuracy given
    "X1-T02-0204": ("A Bốn", "14.3480 108.0000 640 12.0"),
}
PLACED = 3 + len(SPREAD)


@pytest.fixture
def commune(app, seeded, village, procedure_instances):  # noqa: F811
    instance = procedure_instances["a_three_deprivations"]
    for code, (head, gps) in SPREAD.items():
        add_household(app, code, head)
        send_with_point(app, seeded, instance, code, gps)
    add_household(app, "X1-T02-0205", "Đinh Thị Chưa Đến")  # no questionnaire
    with app.app_context(), write_transaction(db.session):
        decided = db.session.scalar(select(Household).where(Household.code == "X1-T02-0204"))
        db.session.add(
            HouseholdYearStatus(household=decided, year=YEAR, status=HouseholdStatus.NONE)
        )
    return village


def _shots() -> Path | None:
    shots = os.environ.get("RASOAT_SCREENSHOTS")
    if not shots:
        return None
    Path(shots).mkdir(parents=True, exist_ok=True)
    return Path(shots)


def _open_map(new_page, base: str, width: int, height: int):
    page = new_page(width=width, height=height)
    page.add_init_script(RECORD_VIOLATIONS)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill("canbo1")
    page.get_by_label("Mật khẩu").fill("matkhau-123")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)  # on a phone the header is a menu
    reply = page.goto(f"{base}/xa/ban-do")
    assert reply.status == 200
    return page, requests


@SQLITE_ONLY
@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_map_without_tiles_is_a_coordinate_plot(
    new_page, app, commune, live_server, width, height
):
    base = live_server.url
    page, requests = _open_map(new_page, base, width, height)
    markers = page.locator("#map path.household")
    expect(markers).to_have_count(PLACED)
    expect(page.locator("#map path.verdict-neither")).to_have_count(1)  # the decided one
    assert page.locator("#map path.verdict-undecided").count() == 0
    # Filled in their verdict's colour by the stylesheet (not Leaflet's default blue).
    fills = {m.evaluate("e => getComputedStyle(e).fill") for m in markers.all()}
    assert "rgb(51, 136, 255)" not in fills and len(fills) == 2, fills
    # The plain coordinate plot: its note, a grid with labels, a scale; no tile anywhere.
    expect(page.get_by_text("Chưa cấu hình nền bản đồ — chỉ hiển thị tọa độ")).to_be_visible()
    assert not page.get_by_text("Không tải được nền bản đồ").is_visible()
    assert page.locator("#map path.map-grid").count() >= 4
    labels = page.locator(".map-grid-label").all_inner_texts()
    assert any(t.endswith("°B") and t.startswith("14,") for t in labels), labels
    assert any(t.endswith("°Đ") and t.startswith("10") for t in labels), labels
    expect(page.locator(".leaflet-control-scale-line")).to_be_visible()
    assert page.locator("img.leaflet-tile").count() == 0
    # Every circle is inside the map's box (the view fits them all).
    box = page.locator("#map").bounding_box()
    for marker in markers.all():
        at = marker.bounding_box()
        assert box["x"] <= at["x"] and at["x"] + at["width"] <= box["x"] + box["width"]
        assert box["y"] <= at["y"] and at["y"] + at["height"] <= box["y"] + box["height"]
    assert box["width"] <= width
    # Nothing widens the page (a phone scrolls only down).
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    # A popup: head, code, village, verdict, accuracy, and the questionnaire's link.
    page.locator("#map path.household.verdict-neither").click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("A Bốn")
    expect(popup).to_contain_text("X1-T02-0204")
    expect(popup).to_contain_text("Thôn Hai")
    expect(popup).to_contain_text("Không nghèo, không cận nghèo")
    expect(popup).to_contain_text("đã công nhận")
    expect(popup).to_contain_text("±12 m")
    link = popup.get_by_role("link", name="Xem phiếu")
    href = link.get_attribute("href")
    assert href.startswith("/xa/phieu/")
    shots = _shots()
    if shots:
        page.screenshot(path=str(shots / f"map-{width}.png"), full_page=True)
    assert page.evaluate("window.__violations") == []
    with page.expect_navigation():
        link.click()
    assert page.url == base + href
    expect(page.get_by_text("X1-T02-0204").first).to_be_visible()
    page.go_back()
    expect(markers).to_have_count(PLACED)

    # Three households share one point: each one's popup names the other two.
    page.keyboard.press("Escape")
    shared = page.locator("#map path.household.verdict-poor").first.bounding_box()
    page.mouse.click(shared["x"] + shared["width"] / 2, shared["y"] + shared["height"] / 2)
    together = page.locator(".leaflet-popup-content")
    expect(together.locator(".map-popup")).to_have_count(3)
    expect(together).to_contain_text("Cùng vị trí còn 2 hộ khác:")
    for head in ("Nguyễn Văn Lâm", "Y Blăng", "A Khoa"):
        expect(together).to_contain_text(head)
    page.keyboard.press("Escape")

    # The legend hides and shows a verdict's households.
    neither = page.locator(".map-legend input[data-verdict='neither']")
    neither.uncheck()
    expect(page.locator("#map path.household")).to_have_count(PLACED - 1)
    neither.check()
    expect(page.locator("#map path.household")).to_have_count(PLACED)

    # Those without a point are listed under the map, with the reason.
    expect(page.get_by_role("heading", name="2 hộ chưa có tọa độ")).to_be_visible()
    rows = page.locator("#chua-co-toa-do + .scroll tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="X1-T01-0104")).to_contain_text("Phiếu không có tọa độ")
    expect(rows.filter(has_text="X1-T02-0205")).to_contain_text("Chưa có phiếu năm nay")
    if shots:
        page.screenshot(path=str(shots / f"map-{width}-popup-closed.png"), full_page=True)

    assert page.evaluate("window.__violations") == []
    foreign = [url for url in requests if not url.startswith(base + "/")]
    assert foreign == [], foreign
    assert any("/static/vendor/leaflet/leaflet.js" in url for url in requests)


class _Tiles(BaseHTTPRequestHandler):
    """A tile server on this machine: every tile a plain light-green square."""

    png = b""
    served = 0

    def do_GET(self):  # http.server calls it by this name
        type(self).served += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args):
        pass


@pytest.fixture
def tile_server():
    buffer = BytesIO()
    Image.new("RGB", (256, 256), (205, 230, 200)).save(buffer, "PNG")
    _Tiles.png, _Tiles.served = buffer.getvalue(), 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@SQLITE_ONLY
def test_tiles_from_the_configured_server_show_under_the_pages_policy(
    new_page, app, commune, live_server_factory, tile_server
):
    server = live_server_factory(
        MAP_TILE_URL=f"{tile_server}/{{z}}/{{x}}/{{y}}.png", MAP_TILE_ATTRIBUTION="Nền thử"
    )
    page, requests = _open_map(new_page, server.url, 1366, 900)
    expect(page.locator("#map path.household")).to_have_count(PLACED)
    expect(page.locator("img.leaflet-tile.leaflet-tile-loaded").first).to_be_visible()
    assert _Tiles.served > 0
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("Nền thử")
    assert not page.get_by_text("chỉ hiển thị tọa độ").first.is_visible()
    assert page.locator("#map path.map-grid").count() == 0
    assert page.evaluate("window.__violations") == []
    shots = _shots()
    if shots:
        page.screenshot(path=str(shots / "map-tiles.png"))
    assert {url.split("/", 3)[2] for url in requests} == {
        server.url.split("/")[2],
        tile_server.split("/")[2],
    }


@SQLITE_ONLY
def test_tiles_that_cannot_be_reached_give_way_to_the_coordinate_plot(
    new_page, app, commune, live_server_factory
):
    closed = free_port()  # nothing listens there: every tile fails at once
    server = live_server_factory(MAP_TILE_URL=f"http://127.0.0.1:{closed}/{{z}}/{{x}}/{{y}}.png")
    page, _requests = _open_map(new_page, server.url, 390, 844)
    expect(page.get_by_text("Không tải được nền bản đồ — chỉ hiển thị tọa độ")).to_be_visible()
    expect(page.locator("#map path.household")).to_have_count(PLACED)
    assert page.locator("#map path.map-grid").count() >= 4
    assert page.locator("img.leaflet-tile").count() == 0
    assert not page.get_by_text("Chưa cấu hình nền bản đồ").is_visible()
    assert page.evaluate("window.__violations") == []
    shots = _shots()
    if shots:
        page.screenshot(path=str(shots / "map-tiles-failed-390.png"), full_page=True)


@SQLITE_ONLY
def test_every_household_is_reachable_without_a_mouse(new_page, app, commune, live_server):
    """Tab reaches each circle (named for a screen reader), Enter opens its popup with the focus
    on its link, Escape closes it and gives the focus back; the list under the map names every
    household on it and its link, followed with the keyboard, opens the household's page."""
    base = live_server.url
    page, _requests = _open_map(new_page, base, 1366, 900)
    markers = page.locator("#map path.household")
    expect(markers).to_have_count(PLACED)
    reached: list[str] = []
    for _ in range(80):  # the header's links, the filters, the legend, then the circles
        page.keyboard.press("Tab")
        active = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e && e.matches('#map path.household') ? e.getAttribute('aria-label') : null }"
        )
        if active:
            reached.append(active)
        elif reached:
            break
    assert len(reached) == PLACED, reached
    assert any(label.startswith("A Bốn — X1-T02-0204 — ") for label in reached), reached

    # Back to A Bốn's circle with Shift+Tab, then Enter: its popup, the focus on its link.
    while not page.evaluate(
        "() => (document.activeElement.getAttribute('aria-label') || '').startsWith('A Bốn')"
    ):
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("X1-T02-0204")
    expect(popup).to_contain_text("Không nghèo, không cận nghèo")
    link = popup.get_by_role("link", name="Xem phiếu")
    expect(link).to_be_focused()
    shots = _shots()
    if shots:
        page.screenshot(path=str(shots / "map-keyboard-popup.png"))
    page.keyboard.press("Escape")
    expect(popup).to_have_count(0)
    page.wait_for_function(
        "() => (document.activeElement.getAttribute('aria-label') || '').startsWith('A Bốn')",
        timeout=3000,
    )

    # The list: every household on the map, its code a link to the household's page.
    rows = page.locator("#danh-sach-ho + .scroll tbody tr")
    expect(rows).to_have_count(PLACED)
    row = rows.filter(has_text="X1-T02-0204")
    expect(row).to_contain_text("Thôn Hai")
    expect(row).to_contain_text("A Bốn")
    expect(row).to_contain_text("Không nghèo, không cận nghèo")
    expect(row).to_contain_text("14,34800°B; 108,00000°Đ")
    page.get_by_role("link", name="Đến danh sách hộ").focus()
    page.keyboard.press("Enter")
    if shots:
        page.screenshot(path=str(shots / "map-list.png"), full_page=True)
    household = row.get_by_role("link", name="X1-T02-0204")
    household.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base}/xa/ho/X1-T02-0204"
    expect(page.get_by_text("A Bốn").first).to_be_visible()
    assert page.evaluate("window.__violations") == []
