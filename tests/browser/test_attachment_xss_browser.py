"""Stored XSS through attachments, in Debian's Chromium: a phone sends an HTML "photo" and an
SVG whose scripts would alert and post a comment as the officer who opens them.  The officer
opens the submission page and every attachment URL: no dialog, no request from the payload, no
comment — and the ordinary photo is still shown."""

from __future__ import annotations

import struct
import zlib

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import func, select

from server.extensions import db
from server.review.models import SubmissionEvent
from tests.photo_form import OCTET, Case, publish_photo_form, send_cases

PROBE = "/xss-probe"
# Reads the officer's CSRF token from the submission page and posts a comment with it.
STEAL = (
    "fetch('" + PROBE + "?from=script');"
    "alert('xss');"
    "var page = location.pathname.replace(/\\/tep\\/.*$/, '');"
    "fetch(page).then(function (r) { return r.text(); }).then(function (t) {"
    '  var token = t.match(/name="csrf_token" value="([^"]+)"/)[1];'
    "  var body = new URLSearchParams({comment: 'XSS da chay', csrf_token: token});"
    "  return fetch(page + '/nhan-xet', {method: 'POST', body: body});"
    "});"
)
HTML = f"<!DOCTYPE html><html><body><script>{STEAL}</script></body></html>".encode()
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'' + PROBE + "?from=onload');"
    "alert('svg')\"><script>" + STEAL + "</script></svg>"
).encode()


def png(width: int = 4, height: int = 3) -> bytes:
    """A real, decodable PNG (grey pixels), built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PAYLOADS = [
    Case("p1", "1700000000001.html", "1700000000001.html", HTML, "text/html", OCTET),
    Case("p2", "1700000000002.svg", "1700000000002.svg", SVG, "image/svg+xml", OCTET),
    Case("p3", "1700000000003.jpg", "1700000000003.jpg", HTML, "text/html", OCTET),
    Case("p4", "../1700000000004.svg", "1700000000004.svg", SVG, "text/html", OCTET),
]
PHOTO = Case("p6", "1700000000006.png", "1700000000006.png", png(), "image/png", "image/png")


@pytest.fixture
def page(new_page):
    return new_page(accept_downloads=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_attachment_scripts_never_run_for_the_officer(page, app, seeded, live_server):
    publish_photo_form(app)
    submission_id, reply = send_cases(app, seeded.reviewer_token, [*PAYLOADS, PHOTO])
    assert reply.status == 201, reply.body

    dialogs, requests = [], []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.context.on("request", lambda r: requests.append((r.method, r.url)))

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill(seeded.officer)
    page.get_by_label("Mật khẩu").fill(seeded.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()

    detail = f"{live_server.url}/xa/phieu/{submission_id}"
    page.goto(detail)
    photo = page.locator(f'img[src$="/tep/{PHOTO.stored_name}"]')
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 4
    assert page.locator("img").count() == 1  # none of the payloads is embedded
    for case in PAYLOADS:
        expect(page.locator(f'a[href$="/tep/{case.stored_name}"]')).to_be_visible()

    for case in PAYLOADS:  # what an officer does with a link copied from the page
        try:
            page.goto(f"{detail}/tep/{case.stored_name}")
        except PlaywrightError as error:  # the file is downloaded, not opened as a page
            assert "Download is starting" in str(error), error
        page.wait_for_timeout(500)  # time for a script, had one run, to act
    page.goto(detail)
    expect(photo).to_be_visible()

    assert dialogs == []
    assert not [r for r in requests if PROBE in r[1] or r[1].endswith("/nhan-xet")]
    with app.app_context():
        comments = db.session.scalar(
            select(func.count())
            .select_from(SubmissionEvent)
            .where(SubmissionEvent.submission_id == submission_id)
        )
    assert comments == 0
