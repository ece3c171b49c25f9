"""The staff pages in Vietnamese (the default, whatever the browser asks for) or English
(``?lang=en``, remembered in the session and in the ``rasoat_lang`` cookie)."""

from __future__ import annotations

import io
import logging
import re
from http.cookies import SimpleCookie

import pytest

from tests.integration.procedure import add_national_admin
from tests.xlsforms import workbook


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _html_lang(page: str) -> str:
    return re.search(r'<html lang="([^"]+)">', page).group(1)


def _language_cookie(reply) -> SimpleCookie | None:
    for header in reply.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if "rasoat_lang" in cookie:
            return cookie["rasoat_lang"]
    return None


def test_pages_are_vietnamese_by_default_even_for_an_english_browser(app):
    reply = app.test_client().get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    page = reply.get_data(as_text=True)
    assert _html_lang(page) == "vi"
    assert "<h1>Đăng nhập cán bộ</h1>" in page
    assert '<label for="username">Tên đăng nhập</label>' in page
    assert "Staff login" not in page
    assert _language_cookie(reply) is None
    # The switch offers English and marks Vietnamese as the current language.
    assert '<a href="/login?lang=en" lang="en" hreflang="en" title="English">EN</a>' in page
    assert 'aria-current="true">VI</strong>' in page


def test_lang_en_shows_english_and_is_remembered(app):
    browser = app.test_client()
    reply = browser.get("/login?lang=en")
    page = reply.get_data(as_text=True)
    assert _html_lang(page) == "en"
    assert "<h1>Staff login</h1>" in page
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page
    assert "Reviewers do not log in here" in page
    assert "Đăng nhập cán bộ" not in page
    cookie = _language_cookie(reply)
    assert cookie.value == "en"
    assert int(cookie["max-age"]) >= 364 * 24 * 3600
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert '<a href="/login?lang=vi" lang="vi" hreflang="vi" title="Tiếng Việt">VI</a>' in page

    # Remembered in the session: the next page needs no parameter.
    assert "<h1>Staff login</h1>" in browser.get("/login").get_data(as_text=True)
    # Remembered by the long-lived cookie alone (a new session, e.g. after the browser closed).
    fresh = app.test_client()
    fresh.set_cookie("rasoat_lang", "en")
    assert "<h1>Staff login</h1>" in fresh.get("/login").get_data(as_text=True)

    # And back to Vietnamese.
    reply = browser.get("/login?lang=vi")
    assert "<h1>Đăng nhập cán bộ</h1>" in reply.get_data(as_text=True)
    assert _language_cookie(reply).value == "vi"
    assert "<h1>Đăng nhập cán bộ</h1>" in browser.get("/login").get_data(as_text=True)


def test_unknown_languages_are_ignored(app):
    browser = app.test_client()
    reply = browser.get("/login?lang=fr")
    assert "<h1>Đăng nhập cán bộ</h1>" in reply.get_data(as_text=True)
    assert _language_cookie(reply) is None
    browser.set_cookie("rasoat_lang", "xx")
    assert "<h1>Đăng nhập cán bộ</h1>" in browser.get("/login").get_data(as_text=True)


def test_the_switch_keeps_the_page_and_its_query(app):
    page = app.test_client().get("/login?next=/admin/forms").get_data(as_text=True)
    assert 'href="/login?next=%2Fadmin%2Fforms&amp;lang=en"' in page


def test_login_messages_follow_the_language(app, seeded):
    browser = app.test_client()
    token = _csrf(browser.get("/login?lang=en").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": seeded.admin, "password": "sai", "csrf_token": token}
    )
    assert reply.status_code == 401
    assert "Wrong username or password." in reply.get_data(as_text=True)
    for _ in range(4):
        browser.post(
            "/login", data={"username": seeded.admin, "password": "sai", "csrf_token": token}
        )
    reply = browser.post(
        "/login", data={"username": seeded.admin, "password": "sai", "csrf_token": token}
    )
    assert reply.status_code == 429
    assert "Too many failed logins" in reply.get_data(as_text=True)
    assert "Try again in 15 minutes." in reply.get_data(as_text=True)


def test_admin_pages_and_their_messages_in_english(app, seeded):
    browser = app.test_client()
    token = _csrf(browser.get("/login?lang=en").get_data(as_text=True))
    reply = browser.post(
        "/login?next=/admin/forms",
        data={"username": seeded.admin, "password": seeded.password, "csrf_token": token},
    )
    assert reply.status_code == 302
    page = browser.get("/admin/forms").get_data(as_text=True)
    assert "<h1>Forms (XLSForm)</h1>" in page
    assert "<strong>draft</strong>" in page  # a {% trans %} block with markup
    assert "Open (downloadable, accepting submissions)" in page
    assert ">Log out</button>" in page
    detail = browser.get(f"/admin/forms/{seeded.form_id}").get_data(as_text=True)
    assert "Published versions" in detail
    # The demo questionnaire is national: a province administrator is told why, in English.
    reply = browser.post(
        f"/admin/forms/{seeded.form_id}/state", data={"state": "closed", "csrf_token": token}
    )
    refused = browser.get(reply.headers.get("Location", f"/admin/forms/{seeded.form_id}"))
    assert "is national: a province may use it but not change it" in refused.get_data(as_text=True)
    # A national administrator closes it.
    add_national_admin(app)
    national = app.test_client()
    token = _csrf(national.get("/login?lang=en").get_data(as_text=True))
    national.post(
        "/login", data={"username": "quocgia", "password": "matkhau-123", "csrf_token": token}
    )
    reply = national.post(
        f"/admin/forms/{seeded.form_id}/state", data={"state": "closed", "csrf_token": token}
    )
    assert reply.status_code == 302
    detail = national.get(reply.headers["Location"]).get_data(as_text=True)
    assert "State: Closed (not accepting submissions)." in detail
    # The same page in Vietnamese, unchanged.
    detail = browser.get(f"/admin/forms/{seeded.form_id}?lang=vi").get_data(as_text=True)
    assert "Các phiên bản đã xuất bản" in detail
    assert "Đóng (không nhận phiếu)" in detail


def test_error_pages_follow_the_language_but_the_api_keeps_both(app, seeded):
    browser = app.test_client()
    page = browser.get("/khong-co?lang=en").get_data(as_text=True)
    assert "<h1>Not found</h1>" in page
    page = browser.get("/khong-co?lang=vi").get_data(as_text=True)
    assert "<h1>Không tìm thấy</h1>" in page
    browser.get("/login?lang=en")
    reply = browser.get("/api/v1/khong-co")
    assert reply.status_code == 404
    assert reply.is_json


def test_a_page_answering_a_post_switches_language_back_to_a_get_page(app, seeded):
    browser = app.test_client()
    token = _csrf(browser.get("/login").get_data(as_text=True))
    page = browser.post(
        "/login", data={"username": "x", "password": "y", "csrf_token": token}
    ).get_data(as_text=True)
    assert 'href="/login?lang=en"' in page  # /login has a GET
    browser.post(
        "/login",
        data={"username": seeded.admin, "password": seeded.password, "csrf_token": token},
    )
    broken = workbook(
        [["type", "name", "label"], ["integr", "b", "B"]],
        settings={"form_id": "hong", "version": "1"},
    )

    def upload(**headers):
        return browser.post(
            "/admin/forms/upload",
            data={"xlsform": (io.BytesIO(broken), "hong.xlsx"), "csrf_token": token},
            headers=headers,
        )

    reply = upload(Referer="http://localhost/admin/forms")
    assert reply.status_code == 400  # the upload's problems, shown at the POST's address
    assert 'href="/admin/forms?lang=en"' in reply.get_data(as_text=True)
    reply = upload(Referer="https://elsewhere.example/admin/forms")
    assert 'href="/?lang=en"' in reply.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_a_compiled_catalog_the_pages_stay_vietnamese(
    make_app, database_url, tmp_path, caplog
):
    caplog.set_level(logging.WARNING, logger="server.i18n")
    app = make_app(database_url, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "none"))
    assert any("no compiled 'en' catalog" in r.getMessage() for r in caplog.records)
    reply = app.test_client().get("/login?lang=en")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert _html_lang(page) == "vi"
    assert "<h1>Đăng nhập cán bộ</h1>" in page
    assert 'class="lang"' not in page  # no switch to a language that cannot be shown
