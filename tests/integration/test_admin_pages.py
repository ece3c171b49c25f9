"""Administrators' web pages for questionnaires, through the Flask test client (CSRF on)."""

from __future__ import annotations

import io
import re

import pytest

from tests.xlsforms import household_form, workbook


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def browser(app):
    return app.test_client()  # keeps the session cookie, like a browser


def _login(browser, username: str, password: str):
    token = _csrf(browser.get("/login").get_data(as_text=True))
    return browser.post(
        "/login?next=/admin/forms",
        data={"username": username, "password": password, "csrf_token": token},
    )


def test_login_refuses_wrong_password_and_reviewers(browser, seeded):
    reply = _login(browser, seeded.admin, "sai")
    assert reply.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in reply.get_data(as_text=True)
    reply = _login(browser, seeded.reviewer, seeded.reviewer_password)
    assert reply.status_code == 401  # reviewers use ODK Collect, not the web pages


def test_pages_require_login_and_the_admin_role(browser, seeded):
    reply = browser.get("/admin/forms")
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith("/login?next=/admin/forms")
    _login(browser, seeded.officer, seeded.password)
    reply = browser.get("/admin/forms")
    assert reply.status_code == 403
    assert "Không có quyền" in reply.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(browser, seeded):
    _login(browser, seeded.admin, seeded.password)
    reply = browser.post("/admin/forms/rasoat_demo/state", data={"state": "closed"})
    assert reply.status_code == 400
    assert "Phiên làm việc đã hết hạn" in reply.get_data(as_text=True)


def test_login_does_not_redirect_off_site(browser, seeded):
    token = _csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login?next=https://evil.example/x",
        data={"username": seeded.admin, "password": seeded.password, "csrf_token": token},
    )
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/bao-cao"  # the default page, on this site


def test_admin_uploads_sees_problems_then_tries_and_publishes_a_draft(browser, seeded):
    assert _login(browser, seeded.admin, seeded.password).status_code == 302
    page = browser.get("/admin/forms").get_data(as_text=True)
    assert "rasoat_demo" in page
    broken = workbook(
        [["type", "name", "label"], ["text", "a", "A"], ["integr", "b", "B"]],
        settings={"form_id": "hong", "version": "1"},
    )
    reply = browser.post(
        "/admin/forms/upload",
        data={"xlsform": (io.BytesIO(broken), "hong.xlsx"), "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Không tải lên được hong.xlsx" in html
    assert re.search(
        r"<td>survey</td><td>3</td><td>Sheet &#39;survey&#39;, dòng 3: Loại câu hỏi", html
    )

    source = household_form()
    reply = browser.post(
        "/admin/forms/upload",
        data={"xlsform": (io.BytesIO(source), "phieu.xlsx"), "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302
    detail = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Bản nháp phiên bản 2026120101" in detail
    assert "<svg" in detail  # the draft's test QR code
    test_url = re.search(r'<code id="test-url">([^<]+)</code>', detail).group(1)
    assert "/test/" in test_url

    reply = browser.post("/admin/forms/phieu_thu/publish", data={"csrf_token": _csrf(detail)})
    assert reply.status_code == 302
    detail = browser.get("/admin/forms/phieu_thu").get_data(as_text=True)
    assert "Đã xuất bản phiên bản mới" in detail
    assert "hiện hành" in detail
    download = browser.get("/admin/forms/phieu_thu/versions/2026120101.xlsx")
    assert download.data == source

    reply = browser.post(
        "/admin/forms/phieu_thu/assign", data={"commune": "X1", "csrf_token": _csrf(detail)}
    )
    assert "Đã giao biểu mẫu cho xã X1" in browser.get("/admin/forms/phieu_thu").get_data(
        as_text=True
    )
