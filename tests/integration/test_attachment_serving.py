"""Attachments a phone sends are served to staff by what their bytes are, never by the type the
phone declared or their name: an HTML or SVG "photo" is a download, never a page running under
the staff origin (stored XSS).  Hostile part names are stored under a safe base name and stay
viewable.  Flask test client, SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from server.extensions import db
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import jpeg_bytes
from tests.photo_form import OCTET, Case, publish_photo_form, send_cases

SCRIPT = b"<script>alert(document.domain)</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>"
PHOTO = jpeg_bytes(seed=7)


JPEG = "image/jpeg"
CASES = {
    "html-declared-html": Case(
        "p1", "1700000000001.html", "1700000000001.html", HTML, "text/html", OCTET
    ),
    "svg-with-script": Case(
        "p2", "1700000000002.svg", "1700000000002.svg", SVG, "image/svg+xml", OCTET
    ),
    "jpg-name-html-content": Case(
        "p3", "1700000000003.jpg", "1700000000003.jpg", HTML, "text/html", OCTET
    ),
    "real-jpeg-declared-html": Case(
        "p4", "1700000000004.jpg", "1700000000004.jpg", PHOTO, "text/html", JPEG
    ),
    "dot-dot-name": Case("p5", "../x.jpg", "x.jpg", jpeg_bytes(seed=8), JPEG, JPEG),
    "ordinary-photo": Case(
        "p6", "1700000000006.jpg", "1700000000006.jpg", jpeg_bytes(seed=9), JPEG, JPEG
    ),
}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(app, username="canbo1", password="matkhau-123"):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


@pytest.fixture
def sent(app, seeded):
    publish_photo_form(app)
    submission_id, reply = send_cases(app, seeded.reviewer_token, CASES.values())
    assert reply.status == 201, reply.body
    return submission_id


@pytest.mark.parametrize("key", list(CASES))
def test_attachment_is_served_by_its_content_with_nosniff(app, sent, key):
    case = CASES[key]
    officer = _login(app)
    reply = officer.get(f"/xa/phieu/{sent}/tep/{case.stored_name}")
    assert reply.status_code == 200
    assert reply.data == case.data
    assert reply.mimetype == case.served
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("inline" if case.inline else "attachment"), disposition


def test_detail_page_embeds_only_real_images_and_offers_the_rest_as_downloads(app, sent):
    page = _login(app).get(f"/xa/phieu/{sent}").get_data(as_text=True)
    images = set(re.findall(r'<img src="[^"]*/tep/([^"]+)"', page))
    assert images == {"1700000000004.jpg", "x.jpg", "1700000000006.jpg"}
    for name in ("1700000000001.html", "1700000000002.svg", "1700000000003.jpg"):
        assert f'/tep/{name}" download' in page
    assert page.count("Tệp không phải ảnh/âm thanh/video — chỉ tải về") == 3


def test_hostile_part_name_is_stored_under_its_base_name_and_the_submission_is_complete(app, sent):
    with app.app_context():
        submission = db.session.get(Submission, sent)
        version = submission.current_version
        names = sorted(a.name for a in version.attachments)
        assert version.missing_attachments == []
        assert "x.jpg" in names and not any("/" in n or "\\" in n for n in names)
        assert version.fields["p5"] == "../x.jpg"  # the answer itself is kept as sent


def test_stored_content_type_is_what_the_bytes_are(app, sent):
    with app.app_context():
        types = {
            a.name: a.content_type
            for a in db.session.get(Submission, sent).current_version.attachments
        }
    assert types["1700000000004.jpg"] == "image/jpeg"
    assert types["1700000000003.jpg"] == OCTET
    assert types["1700000000001.html"] == OCTET


def test_a_declared_content_type_too_long_for_the_column_does_not_lose_the_submission(app, seeded):
    publish_photo_form(app)
    case = Case("p1", "1700000000001.jpg", "1700000000001.jpg", PHOTO, "image/" + "x" * 300, JPEG)
    submission_id, reply = send_cases(app, seeded.reviewer_token, [case])
    assert reply.status == 201, reply.body
    served = _login(app).get(f"/xa/phieu/{submission_id}/tep/1700000000001.jpg")
    assert served.mimetype == "image/jpeg"


def test_form_media_sent_to_phones_is_a_nosniff_download(app, seeded):
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    entry = next(e for e in phone.form_list() if e.form_id == seeded.form_id)
    media = phone.manifest(entry)
    assert media
    for file in media:
        reply = phone.request("GET", file.download_url)
        assert reply.status == 200
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in reply.headers["Content-Security-Policy"]
        assert not reply.headers["Content-Type"].startswith(("text/html", "image/svg"))
