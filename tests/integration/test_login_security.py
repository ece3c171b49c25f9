"""Staff login security: failed logins throttled per username and per address (stored in the
database, so every gunicorn worker sees them), and the session cookie's flags."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select

from server.accounts.models import LoginFailure
from server.db import write_transaction
from server.extensions import db

LOCKED = "Đăng nhập sai quá nhiều lần nên tạm thời bị khoá"
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class Browser:
    """A test client that keeps its cookies, like one browser on one computer."""

    def __init__(self, app, ip: str = "192.0.2.10"):
        self.client = app.test_client()
        self.ip = ip
        self.token = _csrf(self.get("/login").get_data(as_text=True))

    def get(self, path: str):
        return self.client.get(path, environ_base={"REMOTE_ADDR": self.ip})

    def login(self, username: str, password: str):
        return self.client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.token},
            environ_base={"REMOTE_ADDR": self.ip},
        )

    def logout(self):
        return self.client.post(
            "/logout", data={"csrf_token": self.token}, environ_base={"REMOTE_ADDR": self.ip}
        )


def _age_failures(app, by: timedelta) -> None:
    """Move every stored failure back in time (instead of waiting)."""
    with app.app_context(), write_transaction(db.session):
        for failure in db.session.scalars(select(LoginFailure)):  # portable date arithmetic
            failure.at -= by


def _stored_failures(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.username == username)
        )


def test_the_fifth_failure_is_401_and_the_sixth_attempt_429_even_with_the_right_password(
    app, seeded
):
    browser = Browser(app)
    for attempt in range(1, 6):
        reply = browser.login(seeded.admin, f"sai-{attempt}")
        assert reply.status_code == 401, attempt
        assert WRONG in reply.get_data(as_text=True)
    reply = browser.login(seeded.admin, seeded.password)
    assert reply.status_code == 429
    html = reply.get_data(as_text=True)
    assert LOCKED in html
    assert "Hãy thử lại sau 15 phút" in html
    assert 890 <= int(reply.headers["Retry-After"]) <= 900
    assert "Tên đăng nhập" in html  # still the login page, with the form
    # Typing the name differently does not get round it.
    assert browser.login(" ADMIN1 ", seeded.password).status_code == 429
    # Another account from the same computer is not locked out (only 6 failures from the IP).
    assert browser.login(seeded.officer, seeded.password).status_code == 302
    # Attempts refused during the lockout were not counted.
    assert _stored_failures(app, seeded.admin) == 5


def test_the_lockout_lasts_fifteen_minutes_from_the_fifth_failure(app, seeded):
    browser = Browser(app)
    for _ in range(5):
        browser.login(seeded.admin, "sai")
    _age_failures(app, timedelta(minutes=14, seconds=50))
    reply = browser.login(seeded.admin, seeded.password)
    assert reply.status_code == 429
    assert "Hãy thử lại sau 1 phút" in reply.get_data(as_text=True)
    assert int(reply.headers["Retry-After"]) <= 10
    _age_failures(app, timedelta(seconds=11))
    reply = browser.login(seeded.admin, seeded.password)
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/bao-cao"  # an administrator lands on the reports
    assert _stored_failures(app, seeded.admin) == 0


def test_failures_spread_over_more_than_the_window_do_not_lock(app, seeded):
    browser = Browser(app)
    for _ in range(4):
        assert browser.login(seeded.admin, "sai").status_code == 401
    _age_failures(app, timedelta(minutes=15, seconds=1))
    for _ in range(4):
        assert browser.login(seeded.admin, "sai").status_code == 401
    assert browser.login(seeded.admin, seeded.password).status_code == 302


def test_a_successful_login_resets_the_usernames_counter(app, seeded):
    browser = Browser(app)
    for _ in range(4):
        assert browser.login(seeded.admin, "sai").status_code == 401
    assert browser.login(seeded.admin, seeded.password).status_code == 302
    assert _stored_failures(app, seeded.admin) == 0
    browser.logout()
    for _ in range(4):
        assert browser.login(seeded.admin, "sai").status_code == 401
    assert browser.login(seeded.admin, seeded.password).status_code == 302


def test_unknown_names_and_reviewers_count_as_failures(app, seeded):
    browser = Browser(app)
    for _ in range(5):
        assert browser.login("khong-co-ai", "sai").status_code == 401
    assert browser.login("khong-co-ai", "sai").status_code == 429
    for _ in range(5):
        reply = browser.login(seeded.reviewer, seeded.reviewer_password)
        assert reply.status_code == 401
    assert browser.login(seeded.reviewer, seeded.reviewer_password).status_code == 429


def test_twenty_failures_from_one_address_lock_that_address_out(app, seeded):
    guesser = Browser(app, ip="198.51.100.7")
    for n in range(20):  # 20 different names: no username reaches its own limit
        assert guesser.login(f"ten{n}", "sai").status_code == 401, n
    reply = guesser.login(seeded.admin, seeded.password)
    assert reply.status_code == 429
    assert LOCKED in reply.get_data(as_text=True)
    # The same account from another computer logs in; the admin's name was never guessed.
    assert Browser(app, ip="198.51.100.8").login(seeded.admin, seeded.password).status_code == 302
    _age_failures(app, timedelta(minutes=15, seconds=1))
    assert guesser.login(seeded.admin, seeded.password).status_code == 302


def test_the_nineteenth_failure_from_an_address_is_still_allowed_a_try(app, seeded):
    guesser = Browser(app, ip="198.51.100.9")
    for n in range(19):
        guesser.login(f"ten{n}", "sai")
    assert guesser.login(seeded.admin, seeded.password).status_code == 302


def test_logins_failures_and_lockouts_are_logged(app, seeded, caplog):
    caplog.set_level(logging.INFO, logger="rasoat.auth")
    browser = Browser(app, ip="203.0.113.5")
    for _ in range(5):
        browser.login(seeded.admin, "sai-mat-khau")
    browser.login(seeded.admin, seeded.password)
    browser.login(seeded.officer, seeded.password)
    messages = [r.getMessage() for r in caplog.records if r.name == "rasoat.auth"]
    failed = [m for m in messages if m.startswith("login failed")]
    assert len(failed) == 5
    assert "'admin1' from 203.0.113.5: wrong password" in failed[0]
    assert any(m.startswith("login lockout: username 'admin1'") for m in messages)
    assert any(m.startswith("login refused: username locked out") for m in messages)
    assert "login: 'canbo1' (officer) from 203.0.113.5" in messages
    assert not any("sai-mat-khau" in m or seeded.password in m for m in messages)


# --- cookies ---------------------------------------------------------------------------------


def _cookies(reply) -> dict[str, SimpleCookie]:
    found = {}
    for header in reply.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        found.update(cookie)
    return found


def _session_cookie_after_login(app, seeded):
    browser = Browser(app)
    reply = browser.login(seeded.admin, seeded.password)
    assert reply.status_code == 302
    return _cookies(reply)["session"]


def _expires_in(morsel) -> timedelta:
    expires = datetime.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT")
    return expires.replace(tzinfo=UTC) - datetime.now(UTC)


def test_the_session_cookie_is_httponly_samesite_lax_and_lasts_eight_hours(app, seeded):
    session = _session_cookie_after_login(app, seeded)
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert not session["secure"]  # plain http (no https EXTERNAL_URL): would never be sent
    assert timedelta(hours=7, minutes=58) < _expires_in(session) <= timedelta(hours=8)
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("settings", "secure"),
    [
        ({"EXTERNAL_URL": "https://rasoat.example.vn/ra-soat"}, True),
        ({"SECURE_COOKIES": True}, True),
        ({"SECURE_COOKIES": "true"}, True),  # as RASOAT_SECURE_COOKIES=true arrives
        ({"EXTERNAL_URL": "https://rasoat.example.vn", "SECURE_COOKIES": False}, False),
        ({"EXTERNAL_URL": "http://192.168.1.20:8000"}, False),
    ],
)
def test_cookies_are_secure_when_the_server_is_reached_over_https(
    make_app, database_url, settings, secure
):
    from tests.conftest import seed

    app = make_app(database_url, **settings)
    seeded = seed(app)
    session = _session_cookie_after_login(app, seeded)
    assert bool(session["secure"]) is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure
    language = _cookies(app.test_client().get("/login?lang=en"))["rasoat_lang"]
    assert bool(language["secure"]) is secure


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_session_lifetime_is_configurable(make_app, database_url):
    from tests.conftest import seed

    app = make_app(database_url, SESSION_LIFETIME_HOURS=1)
    session = _session_cookie_after_login(app, seed(app))
    assert timedelta(minutes=58) < _expires_in(session) <= timedelta(hours=1)
