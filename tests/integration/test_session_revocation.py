"""Staff sessions are revocable on the server: a copy of a session cookie (taken from a shared
computer, a proxy log, a stolen laptop) logs nobody in once its session is over — after logout,
a password change by the user or by an administrator, deactivation, or a change of role or
villages; reactivating an account brings back neither its sessions nor its device tokens."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from flask_login.utils import encode_cookie
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from server.accounts.models import DeviceToken, Role, StaffSession, User
from server.accounts.services import check_password, create_user
from server.db import utcnow, write_transaction
from server.extensions import db
from server.geography.models import Commune
from tests.conftest import user_id
from tests.integration.procedure import csrf, try_login

BASE = "/admin/nguoi-dung"
# A page every logged-in web user may open (200), and anyone else is sent to log in from.
ANY_USER_PAGE = "/tai-khoan/mat-khau"


def _login(app, username: str, password: str = "matkhau-123"):
    browser, reply = try_login(app, username, password)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


def _captured(browser) -> str:
    """The session cookie as an eavesdropper would copy it."""
    return browser.get_cookie("session").value


def _replay(app, cookie: str):
    """The copied cookie in another browser."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(ANY_USER_PAGE)


def _is_logged_in(reply) -> bool:
    if reply.status_code == 200:
        return True
    assert reply.status_code == 302, reply.status_code
    assert reply.headers["Location"].startswith("/login")
    return False


def _post(browser, url: str, data: dict | list):
    token = csrf(browser.get(ANY_USER_PAGE).get_data(as_text=True))
    if isinstance(data, dict):
        data = list(data.items())
    return browser.post(url, data=MultiDict([*data, ("csrf_token", token)]))


def _live_sessions(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(StaffSession)
            .join(User)
            .where(User.username == username, StaffSession.revoked_at.is_(None))
        )


def test_a_captured_cookie_is_refused_after_logout(app, seeded):
    officer = _login(app, seeded.officer)
    cookie = _captured(officer)
    assert _is_logged_in(_replay(app, cookie))
    reply = _post(officer, "/logout", {})
    assert reply.status_code == 302
    assert not _is_logged_in(_replay(app, cookie))
    assert not _is_logged_in(officer.get(ANY_USER_PAGE))
    # The staff pages send the copy to the login page too.
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    reply = thief.get("/bao-cao")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/login")
    assert _live_sessions(app, seeded.officer) == 0


def test_a_captured_cookie_is_refused_after_the_user_changes_their_password(app, seeded):
    elsewhere = _login(app, seeded.officer)  # left logged in on another computer
    cookie = _captured(elsewhere)
    here = _login(app, seeded.officer)
    assert _is_logged_in(_replay(app, cookie))

    reply = _post(
        here,
        ANY_USER_PAGE,
        {"current_password": "sai-roi-123", "password": "moi-123456", "password_again": "x"},
    )
    assert reply.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in reply.get_data(as_text=True)
    assert _is_logged_in(_replay(app, cookie))  # nothing changed

    reply = _post(
        here,
        ANY_USER_PAGE,
        {
            "current_password": seeded.password,
            "password": "mat-khau-moi-1",
            "password_again": "mat-khau-moi-1",
        },
    )
    assert reply.status_code == 302
    assert not _is_logged_in(_replay(app, cookie))
    assert not _is_logged_in(elsewhere.get(ANY_USER_PAGE))
    # This browser stays logged in, and so does a copy of its own cookie.
    page = here.get(ANY_USER_PAGE)
    assert _is_logged_in(page)
    assert "Đã đổi mật khẩu." in page.get_data(as_text=True)
    assert _is_logged_in(_replay(app, _captured(here)))
    assert _live_sessions(app, seeded.officer) == 1
    assert try_login(app, seeded.officer)[1].status_code == 401
    assert try_login(app, seeded.officer, "mat-khau-moi-1")[1].status_code == 302


def test_a_captured_cookie_is_refused_after_an_administrator_resets_the_password(app, seeded):
    cookie = _captured(_login(app, seeded.officer))
    admin = _login(app, seeded.admin)
    admin_cookie = _captured(admin)
    assert _is_logged_in(_replay(app, cookie))
    officer = user_id(app, seeded.officer)
    reply = _post(
        admin,
        f"{BASE}/{officer}/mat-khau",
        {"password": "dat-lai-1234", "password_again": "dat-lai-1234"},
    )
    assert reply.status_code == 302
    assert not _is_logged_in(_replay(app, cookie))
    assert _is_logged_in(_replay(app, admin_cookie))  # nobody else's session ends


def test_an_administrator_resetting_their_own_password_stays_logged_in_here_only(app, seeded):
    elsewhere = _captured(_login(app, seeded.admin))
    admin = _login(app, seeded.admin)
    own = user_id(app, seeded.admin)
    reply = _post(
        admin,
        f"{BASE}/{own}/mat-khau",
        {"password": "dat-lai-1234", "password_again": "dat-lai-1234"},
    )
    assert reply.status_code == 302
    assert _is_logged_in(admin.get(ANY_USER_PAGE))
    assert not _is_logged_in(_replay(app, elsewhere))


def test_a_captured_cookie_is_refused_after_deactivation_and_after_reactivation(app, seeded):
    cookie = _captured(_login(app, seeded.officer))
    admin = _login(app, seeded.admin)
    officer = user_id(app, seeded.officer)
    assert _post(admin, f"{BASE}/{officer}/trang-thai", {"active": "0"}).status_code == 302
    assert not _is_logged_in(_replay(app, cookie))
    assert _post(admin, f"{BASE}/{officer}/trang-thai", {"active": "1"}).status_code == 302
    assert not _is_logged_in(_replay(app, cookie))  # reactivation revives no session
    assert _login(app, seeded.officer)  # a new login works


def test_a_captured_cookie_is_refused_after_a_role_change(app, seeded):
    cookie = _captured(_login(app, seeded.officer))
    admin = _login(app, seeded.admin)
    assert _is_logged_in(_replay(app, cookie))
    officer = user_id(app, seeded.officer)
    with app.app_context():
        t01 = (
            db.session.scalar(select(User).where(User.username == seeded.officer))
            .commune.villages[0]
            .id
        )
    reply = _post(
        admin,
        f"{BASE}/{officer}/vai-tro",
        [("role", "village_head"), ("commune", "X1"), ("villages", t01)],
    )
    assert reply.status_code == 302, reply.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, officer).role == Role.VILLAGE_HEAD
    assert not _is_logged_in(_replay(app, cookie))
    # Logging in again gives the new role's pages.
    again = _login(app, seeded.officer)
    assert again.get("/bao-cao").status_code == 403


def test_a_role_change_is_refused_for_oneself_and_keeps_sessions(app, seeded):
    admin = _login(app, seeded.admin)
    own = user_id(app, seeded.admin)
    reply = _post(admin, f"{BASE}/{own}/vai-tro", {"role": "officer", "commune": "X1"})
    assert reply.status_code == 400
    assert "Không thể tự đổi vai trò của chính mình." in reply.get_data(as_text=True)
    assert _is_logged_in(admin.get(ANY_USER_PAGE))


def test_a_captured_cookie_is_refused_after_a_change_of_villages(app, seeded):
    head = {"username": "truongthon9"}
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        create_user(
            username=head["username"],
            display_name="Trưởng thôn",
            role=Role.VILLAGE_HEAD,
            password="matkhau-123",
            commune=commune,
            villages=[commune.villages[0]],
        )
        other_village = commune.villages[1].id
    cookie = _captured(_login(app, head["username"]))
    admin = _login(app, seeded.admin)
    uid = user_id(app, head["username"])
    # The display name alone: the session goes on.
    reply = _post(
        admin,
        f"{BASE}/{uid}/sua",
        [("display_name", "Trưởng thôn Mới"), ("villages", _village_ids(app, uid)[0])],
    )
    assert reply.status_code == 302
    assert _is_logged_in(_replay(app, cookie))
    reply = _post(
        admin,
        f"{BASE}/{uid}/sua",
        [("display_name", "Trưởng thôn Mới"), ("villages", other_village)],
    )
    assert reply.status_code == 302
    assert not _is_logged_in(_replay(app, cookie))


def _village_ids(app, uid: int) -> list[int]:
    with app.app_context():
        return [v.id for v in db.session.get(User, uid).villages]


def test_a_device_token_is_refused_after_deactivation_and_still_after_reactivation(app, seeded):
    admin = _login(app, seeded.admin)
    reviewer = user_id(app, seeded.reviewer)
    old_url = f"/key/{seeded.reviewer_token}/formList"
    assert app.test_client().get(old_url).status_code == 200
    assert _post(admin, f"{BASE}/{reviewer}/trang-thai", {"active": "0"}).status_code == 302
    assert app.test_client().get(old_url).status_code == 403
    reply = _post(admin, f"{BASE}/{reviewer}/trang-thai", {"active": "1"})
    assert reply.status_code == 302
    page = admin.get(f"{BASE}/{reviewer}").get_data(as_text=True)
    assert "Mã thiết bị cũ vẫn bị thu hồi: hãy cấp mã mới cho điện thoại." in page
    assert app.test_client().get(old_url).status_code == 403
    with app.app_context():
        tokens = db.session.scalars(select(DeviceToken).where(DeviceToken.user_id == reviewer))
        assert all(t.revoked_at is not None for t in tokens)
    # A new token works.
    page = _post(admin, f"{BASE}/{reviewer}/ma-thiet-bi", {"label": "điện thoại mới"})
    assert page.status_code == 200
    new_token = re.search(r"/key/([A-Za-z0-9_-]{43})", page.get_data(as_text=True)).group(1)
    assert app.test_client().get(f"/key/{new_token}/formList").status_code == 200


def test_a_forged_remember_cookie_logs_nobody_in(app, seeded):
    """Flask-Login's "remember me" cookie is never issued; one made with the secret key (as a
    leaked key or an older version would allow) still needs a live session."""
    officer = user_id(app, seeded.officer)
    with app.test_request_context():
        remember = encode_cookie(str(officer))
    browser = app.test_client()
    browser.set_cookie("remember_token", remember)
    assert not _is_logged_in(browser.get(ANY_USER_PAGE))


def test_a_made_up_or_another_users_session_id_logs_nobody_in(app, seeded):
    officer = _login(app, seeded.officer)
    admin = _login(app, seeded.admin)
    with officer.session_transaction() as session:
        officer_sid = session["sid"]
    with admin.session_transaction() as session:
        session["sid"] = officer_sid  # the admin's user id with the officer's session id
    assert not _is_logged_in(admin.get(ANY_USER_PAGE))
    with officer.session_transaction() as session:
        session["sid"] = "x" * 43
    assert not _is_logged_in(officer.get(ANY_USER_PAGE))


def test_sessions_expire_on_the_server_and_are_touched_at_most_once_a_minute(app, seeded):
    officer = _login(app, seeded.officer)

    def row() -> StaffSession:
        with app.app_context():
            found = db.session.scalar(select(StaffSession))
            db.session.expunge(found)
            return found

    first = row()
    assert first.expires_at - first.created_at == timedelta(hours=8)
    for _ in range(3):
        assert _is_logged_in(officer.get(ANY_USER_PAGE))
    assert row().last_seen_at == first.last_seen_at  # no write per page

    _age_sessions(app, timedelta(minutes=2))
    aged = row()
    assert _is_logged_in(officer.get(ANY_USER_PAGE))
    touched = row()
    assert touched.last_seen_at > aged.last_seen_at
    assert touched.expires_at > aged.expires_at

    _age_sessions(app, timedelta(hours=9))
    assert not _is_logged_in(officer.get(ANY_USER_PAGE))
    # Expired rows are deleted at the next login (anyone's).
    _login(app, seeded.admin)
    with app.app_context():
        assert [s.user.username for s in db.session.scalars(select(StaffSession))] == ["admin1"]


def _age_sessions(app, by: timedelta) -> None:
    with app.app_context(), write_transaction(db.session):
        for found in db.session.scalars(select(StaffSession)):  # portable date arithmetic
            found.last_seen_at -= by
            found.expires_at -= by
            found.created_at -= by


def test_only_a_hash_of_the_session_id_is_stored(app, seeded):
    officer = _login(app, seeded.officer)
    with officer.session_transaction() as session:
        sid = session["sid"]
    with app.app_context():
        found = db.session.scalar(select(StaffSession))
        assert found.token_sha256 == hashlib.sha256(sid.encode()).hexdigest()
        assert found.ip == "127.0.0.1"
        assert found.revoked_at is None and found.expires_at > utcnow()


def test_the_account_page_lists_live_sessions(app, seeded):
    _login(app, seeded.officer)
    admin = _login(app, seeded.admin)
    page = admin.get(f"{BASE}/{user_id(app, seeded.officer)}").get_data(as_text=True)
    assert page.count('<tr class="session">') == 1


def test_guessing_the_current_password_is_throttled_like_logins(app, seeded):
    """Whoever holds a session cannot guess the password on the change form faster than on the
    login page (5 wrong per username, then 429 even with the right one)."""
    officer = _login(app, seeded.officer)
    for attempt in range(5):
        reply = _post(
            officer,
            ANY_USER_PAGE,
            {
                "current_password": f"doan-{attempt}",
                "password": "a" * 10,
                "password_again": "a" * 10,
            },
        )
        assert reply.status_code == 400, attempt
    reply = _post(
        officer,
        ANY_USER_PAGE,
        {"current_password": seeded.password, "password": "a" * 10, "password_again": "a" * 10},
    )
    assert reply.status_code == 429
    assert "Hãy thử lại sau 15 phút" in reply.get_data(as_text=True)
    # The username is locked out on the login page too, and the password is the old one.
    assert try_login(app, seeded.officer)[1].status_code == 429
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == seeded.officer))
        assert check_password(user, seeded.password)
