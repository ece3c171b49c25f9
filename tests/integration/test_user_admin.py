"""Province administrators manage accounts on ``/admin/nguoi-dung``: the accounts of their
province, creating one of each role, editing, deactivating, a new password, and the device
tokens (with the Collect QR code shown once) — through the Flask test client with a login
session and CSRF, on SQLite and PostgreSQL.  Another province's accounts are "not found" on
every route; other roles are refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from server.accounts.models import DeviceToken, Role, User
from server.accounts.services import create_user, issue_device_token
from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune, Village
from tests.collect_client import CollectClient, FlaskTransport
from tests.conftest import user_id
from tests.integration.procedure import add_other_province, add_village_heads, csrf, try_login

PASSWORD = "matkhau-123"
BASE = "/admin/nguoi-dung"
OPENROSA = {"X-OpenRosa-Version": "1.0"}


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def other_province(app, seeded):
    """A second province with one commune, its administrator, a reviewer and a device token."""
    add_other_province(app, V01="Buôn Khác")
    with app.app_context(), write_transaction(db.session):
        commune = db.session.scalar(select(Commune).where(Commune.code == "Y1"))
        reviewer = create_user(
            username="rsv.p2",
            display_name="Rà soát viên tỉnh khác",
            role=Role.REVIEWER,
            password=PASSWORD,
            commune=commune,
        )
        token_id = issue_device_token(reviewer, "máy tỉnh khác").record.id
    return {"reviewer_token_id": token_id}


_csrf = csrf
_login = try_login  # (browser keeping its session cookie, reply)


def _admin(app, username: str = "admin1"):
    browser, reply = _login(app, username)
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return browser


def _post(browser, url: str, data: dict | list):
    token = _csrf(browser.get(BASE).get_data(as_text=True))
    if isinstance(data, dict):
        data = list(data.items())
    return browser.post(url, data=MultiDict([*data, ("csrf_token", token)]))


def _village_id(app, commune: str, village: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Village.id)
            .join(Commune, Commune.id == Village.commune_id)
            .where(Commune.code == commune, Village.code == village)
        )


def _account(app, username: str) -> dict | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            return None
        return {
            "id": user.id,
            "display_name": user.display_name,
            "role": user.role,
            "commune": user.commune.code if user.commune else None,
            "province": user.province.code if user.province else None,
            "villages": [v.code for v in user.villages],
            "active": user.active,
        }


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return rows


def _usernames_listed(page: str) -> set[str]:
    return set(re.findall(r'<tr class="account" data-username="([^"]+)">', page))


def _new_account(**fields) -> list[tuple[str, str]]:
    data = {
        "username": "moi",
        "display_name": "Tài khoản mới",
        "role": "reviewer",
        "commune": "X1",
        "password": "mat-khau-moi-1",
    } | {k: v for k, v in fields.items() if k != "villages"}
    return [*data.items(), *(("villages", str(v)) for v in fields.get("villages", []))]


def _form_list(app, path: str):
    return app.test_client(use_cookies=False).get(path, headers=OPENROSA)


# --- list ------------------------------------------------------------------------------------


def test_list_shows_only_the_accounts_of_the_admins_province(app, seeded, other_province):
    browser = _admin(app)
    reply = browser.get(BASE)
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert f'href="{BASE}">Tài khoản</a>' in page  # in the administrators' navigation
    assert _usernames_listed(page) == {"rsv1", "rsv.t02", "rsv2", "canbo1", "admin1"}
    row = re.search(r'data-username="rsv.t02">(.*?)</tr>', page, re.S).group(1)
    assert "Rà soát viên (ODK Collect)" in row
    assert "Xã Một" in row and "T02 – Thôn Hai" in row and "Đang hoạt động" in row
    rsv1 = re.search(r'data-username="rsv1">(.*?)</tr>', page, re.S).group(1)
    assert rsv1.rstrip().endswith("<td>1</td>")  # one live device token
    admin = re.search(r'data-username="admin1">(.*?)</tr>', page, re.S).group(1)
    assert "Quản trị viên cấp tỉnh" in admin

    officers = browser.get(f"{BASE}?role=officer").get_data(as_text=True)
    assert _usernames_listed(officers) == {"canbo1"}
    assert "Công chức cấp xã" in officers
    assert _usernames_listed(browser.get(f"{BASE}?commune=X2").get_data(as_text=True)) == {"rsv2"}
    both = browser.get(f"{BASE}?commune=X1&role=reviewer").get_data(as_text=True)
    assert _usernames_listed(both) == {"rsv1", "rsv.t02"}
    # Another province's commune in the filter finds nothing of it.
    assert _usernames_listed(browser.get(f"{BASE}?commune=Y1").get_data(as_text=True)) == set()
    # The commune choices are the province's own.
    assert 'value="X1"' in page and 'value="X2"' in page and 'value="Y1"' not in page

    other = _admin(app, "admin2").get(BASE).get_data(as_text=True)
    assert _usernames_listed(other) == {"admin2", "rsv.p2"}


def test_the_page_is_in_english_when_chosen(app, seeded):
    browser = _admin(app)
    page = browser.get(f"{BASE}?lang=en").get_data(as_text=True)
    assert "Province administrator" in page
    assert "Create an account" in page


# --- create ----------------------------------------------------------------------------------


def test_admin_creates_an_account_of_each_role(app, seeded):
    browser = _admin(app)
    t01, t02, t03 = (_village_id(app, "X1", code) for code in ("T01", "T02", "T03"))

    reply = _post(browser, BASE, _new_account(username="canbo.moi", role="officer"))
    assert reply.status_code == 302
    assert reply.headers["Location"] == f"{BASE}/{user_id(app, 'canbo.moi')}"
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Đã tạo tài khoản canbo.moi." in page
    assert "Mã thiết bị (ODK Collect)" not in page  # no device tokens for officers

    reply = _post(browser, BASE, _new_account(username="rsv.moi", villages=[t01]))
    assert reply.status_code == 302
    reply = _post(
        browser,
        BASE,
        _new_account(
            username="truongthon.moi",
            display_name="Trưởng thôn Ba",
            role="village_head",
            villages=[t02, t03],
        ),
    )
    assert reply.status_code == 302
    page = browser.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Trưởng thôn (ODK Collect và xem thôn mình)" in page
    assert "Cấp mã thiết bị mới" in page
    # An administrator belongs to the creator's province, never to a commune (even if chosen).
    reply = _post(browser, BASE, _new_account(username="admin.moi", role="admin", villages=[t01]))
    assert reply.status_code == 302

    assert _account(app, "canbo.moi") | {"id": 0} == {
        "id": 0,
        "display_name": "Tài khoản mới",
        "role": Role.OFFICER,
        "commune": "X1",
        "province": "P1",
        "villages": [],
        "active": True,
    }
    assert _account(app, "rsv.moi")["villages"] == ["T01"]
    head = _account(app, "truongthon.moi")
    assert (head["role"], head["commune"], head["villages"]) == (
        Role.VILLAGE_HEAD,
        "X1",
        ["T02", "T03"],
    )
    admin = _account(app, "admin.moi")
    assert (admin["role"], admin["commune"], admin["province"], admin["villages"]) == (
        Role.ADMIN,
        None,
        "P1",
        [],
    )
    # The new accounts work: the officer logs in, the reviewer answers Digest.
    assert _login(app, "canbo.moi", "mat-khau-moi-1")[1].status_code == 302
    phone = CollectClient(FlaskTransport(app), "http://rasoat.test", "rsv.moi", "mat-khau-moi-1")
    assert [e.form_id for e in phone.form_list()] == [seeded.form_id]

    events = _events(app, "user.create")[-4:]
    admin_id = user_id(app, "admin1")
    assert [e.after["username"] for e in events] == [
        "canbo.moi",
        "rsv.moi",
        "truongthon.moi",
        "admin.moi",
    ]
    assert all(e.actor_id == admin_id for e in events)
    assert events[2].after["villages"] == ["T02", "T03"]
    assert events[3].after["province"] == "P1"
    assert _usernames_listed(browser.get(BASE).get_data(as_text=True)) >= {
        "canbo.moi",
        "rsv.moi",
        "truongthon.moi",
        "admin.moi",
    }


def test_village_head_without_a_village_is_refused_and_nothing_stored(app, seeded):
    browser = _admin(app)
    before = _users(app)
    reply = _post(
        browser,
        BASE,
        _new_account(username="truongthon", display_name="Trưởng thôn", role="village_head"),
    )
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert re.search(
        r'class="flash error" role="alert">Tài khoản trưởng thôn phải gắn với ít nhất một thôn.',
        html,
    )
    # The form is shown again with what was typed (never the password).
    assert 'name="username" value="truongthon"' in html
    assert '<option value="village_head" selected>' in html
    assert "mat-khau-moi-1" not in html
    assert _users(app) == before
    assert _account(app, "truongthon") is None
    assert [e.after["username"] for e in _events(app, "user.create")] == [
        "rsv1",
        "rsv.t02",
        "rsv2",
        "canbo1",
        "admin1",
    ]


def test_villages_of_another_commune_or_province_are_refused(app, seeded, other_province):
    browser = _admin(app)
    before = _users(app)
    x2_t01 = _village_id(app, "X2", "T01")
    reply = _post(browser, BASE, _new_account(role="village_head", villages=[x2_t01]))
    assert reply.status_code == 400
    assert "Thôn Tổ dân phố 1 không thuộc xã của tài khoản." in reply.get_data(as_text=True)

    y1_v01 = _village_id(app, "Y1", "V01")
    reply = _post(
        browser,
        BASE,
        _new_account(role="reviewer", villages=[_village_id(app, "X1", "T01"), y1_v01]),
    )
    assert reply.status_code == 400
    assert "Thôn đã chọn không thuộc tỉnh của anh/chị." in reply.get_data(as_text=True)
    for bad in ("abc", str(2**40)):
        reply = _post(browser, BASE, _new_account(villages=[bad]))
        assert reply.status_code == 400
        assert "Thôn đã chọn không hợp lệ." in reply.get_data(as_text=True)
    assert _users(app) == before


def test_a_commune_of_another_province_is_refused(app, seeded, other_province):
    browser = _admin(app)
    before = _users(app)
    reply = _post(browser, BASE, _new_account(commune="Y1"))
    assert reply.status_code == 400
    assert "Xã Y1 không thuộc tỉnh của anh/chị." in reply.get_data(as_text=True)
    reply = _post(browser, BASE, _new_account(commune=""))
    assert reply.status_code == 400
    assert "Tài khoản này phải thuộc một xã." in reply.get_data(as_text=True)
    assert _users(app) == before
    # The other province's administrator cannot use this province's commune either.
    reply = _post(_admin(app, "admin2"), BASE, _new_account(commune="X1"))
    assert reply.status_code == 400
    assert "Xã X1 không thuộc tỉnh của anh/chị." in reply.get_data(as_text=True)
    assert _users(app) == before


def test_duplicate_username_and_bad_fields_are_refused(app, seeded):
    browser = _admin(app)
    before = _users(app)
    reply = _post(browser, BASE, _new_account(username="rsv1"))
    assert reply.status_code == 409
    assert "Tên đăng nhập rsv1 đã tồn tại." in reply.get_data(as_text=True)
    for fields, message in [
        ({"username": "Có Dấu"}, "Tên đăng nhập chỉ gồm chữ thường không dấu"),
        ({"password": "ngan"}, "Mật khẩu phải có ít nhất 8 ký tự"),
        ({"display_name": "   "}, "Họ và tên phải có từ 1 đến 200 ký tự."),
        ({"role": ""}, "Hãy chọn vai trò."),
        ({"role": "superuser"}, "Hãy chọn vai trò."),
    ]:
        reply = _post(browser, BASE, _new_account(**fields))
        assert reply.status_code == 400, fields
        assert message in reply.get_data(as_text=True), fields
    assert _users(app) == before


def test_post_without_csrf_token_is_refused(app, seeded):
    browser = _admin(app)
    reply = browser.post(BASE, data=dict(_new_account()))
    assert reply.status_code == 400
    assert "Phiên làm việc đã hết hạn" in reply.get_data(as_text=True)
    assert _account(app, "moi") is None


# --- one account -----------------------------------------------------------------------------


def test_edit_display_name_and_villages(app, seeded):
    browser = _admin(app)
    uid = user_id(app, "rsv.t02")
    t01, t03 = _village_id(app, "X1", "T01"), _village_id(app, "X1", "T03")
    page = browser.get(f"{BASE}/{uid}").get_data(as_text=True)
    assert '<label for="display-name">Họ và tên</label>' in page
    villages = re.search(r'<fieldset class="villages".*?</fieldset>', page, re.S).group(0)
    assert re.search(rf'value="{_village_id(app, "X1", "T02")}" checked> T02 – Thôn Hai', villages)
    assert re.search(rf'value="{t01}" > T01 – Thôn Một', villages)
    assert "Tổ dân phố 1" not in villages  # only the villages of the account's commune

    reply = _post(
        browser,
        f"{BASE}/{uid}/sua",
        [("display_name", "Rà soát viên thôn Một và Ba"), ("villages", t03), ("villages", t01)],
    )
    assert reply.status_code == 302 and reply.headers["Location"] == f"{BASE}/{uid}"
    assert "Đã lưu thông tin tài khoản." in browser.get(f"{BASE}/{uid}").get_data(as_text=True)
    account = _account(app, "rsv.t02")
    assert account["display_name"] == "Rà soát viên thôn Một và Ba"
    assert account["villages"] == ["T01", "T03"]
    event = _events(app, "user.update")[-1]
    assert event.actor_id == user_id(app, "admin1") and event.target_id == str(uid)
    assert event.before == {"display_name": "Rà soát viên thôn Hai", "villages": ["T02"]}
    assert event.after == {
        "display_name": "Rà soát viên thôn Một và Ba",
        "villages": ["T01", "T03"],
    }

    # A reviewer with no village works in the whole commune.
    reply = _post(browser, f"{BASE}/{uid}/sua", {"display_name": "Rà soát viên cả xã"})
    assert reply.status_code == 302
    assert _account(app, "rsv.t02")["villages"] == []

    # A village of another commune is refused, the form shown again, nothing stored.
    reply = _post(
        browser,
        f"{BASE}/{uid}/sua",
        [("display_name", "Tên khác"), ("villages", _village_id(app, "X2", "T01"))],
    )
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Thôn Tổ dân phố 1 không thuộc xã của tài khoản." in html
    assert 'value="Tên khác"' in html
    assert _account(app, "rsv.t02")["display_name"] == "Rà soát viên cả xã"
    assert len(_events(app, "user.update")) == 2


def test_a_village_head_keeps_at_least_one_village(app, seeded):
    add_village_heads(app, {"truongthon1": "T01"})
    browser = _admin(app)
    uid = user_id(app, "truongthon1")
    reply = _post(browser, f"{BASE}/{uid}/sua", {"display_name": "Trưởng thôn Một"})
    assert reply.status_code == 400
    assert "Tài khoản trưởng thôn phải gắn với ít nhất một thôn." in reply.get_data(as_text=True)
    assert _account(app, "truongthon1")["villages"] == ["T01"]
    t02 = _village_id(app, "X1", "T02")
    reply = _post(
        browser, f"{BASE}/{uid}/sua", [("display_name", "Trưởng thôn Một"), ("villages", t02)]
    )
    assert reply.status_code == 302
    assert _account(app, "truongthon1")["villages"] == ["T02"]


def test_deactivated_accounts_cannot_log_in_nor_use_collect(app, seeded):
    browser = _admin(app)
    officer = user_id(app, seeded.officer)
    reply = _post(browser, f"{BASE}/{officer}/trang-thai", {"active": "0"})
    assert reply.status_code == 302
    page = browser.get(f"{BASE}/{officer}").get_data(as_text=True)
    assert "Đã khoá tài khoản." in page and "Mở lại tài khoản" in page
    assert _account(app, seeded.officer)["active"] is False
    assert _login(app, seeded.officer)[1].status_code == 401
    listed = browser.get(f"{BASE}?role=officer").get_data(as_text=True)
    assert "Đã khoá" in re.search(r'data-username="canbo1">(.*?)</tr>', listed, re.S).group(1)

    # A reviewer: Digest and its device token stop working.
    phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", seeded.reviewer, seeded.reviewer_password
    )
    assert phone.request("GET", "http://rasoat.test/formList").status == 200
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 200
    reviewer = user_id(app, seeded.reviewer)
    assert _post(browser, f"{BASE}/{reviewer}/trang-thai", {"active": "0"}).status_code == 302
    fresh = CollectClient(
        FlaskTransport(app), "http://rasoat.test", seeded.reviewer, seeded.reviewer_password
    )
    assert fresh.request("GET", "http://rasoat.test/formList").status == 401
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 403

    # Reactivated: the password works again, the old device token does not (it was revoked
    # with the deactivation; the page says a new one must be issued).
    assert _post(browser, f"{BASE}/{officer}/trang-thai", {"active": "1"}).status_code == 302
    assert _login(app, seeded.officer)[1].status_code == 302
    reply = _post(browser, f"{BASE}/{reviewer}/trang-thai", {"active": "1"})
    assert reply.status_code == 302
    page = browser.get(f"{BASE}/{reviewer}").get_data(as_text=True)
    assert "Mã thiết bị cũ vẫn bị thu hồi: hãy cấp mã mới cho điện thoại." in page
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 403
    again = CollectClient(
        FlaskTransport(app), "http://rasoat.test", seeded.reviewer, seeded.reviewer_password
    )
    assert again.request("GET", "http://rasoat.test/formList").status == 200

    events = _events(app, "user.active")
    assert [(e.target_id, e.before, e.after) for e in events] == [
        (str(officer), {"active": True}, {"active": False}),
        (str(reviewer), {"active": True}, {"active": False}),
        (str(officer), {"active": False}, {"active": True}),
        (str(reviewer), {"active": False}, {"active": True}),
    ]
    assert {e.actor_id for e in events} == {user_id(app, "admin1")}


def test_an_admin_cannot_deactivate_themself(app, seeded):
    browser = _admin(app)
    me = user_id(app, "admin1")
    page = browser.get(f"{BASE}/{me}").get_data(as_text=True)
    assert "không thể tự khoá" in page
    assert "Khoá tài khoản</button>" not in page
    reply = _post(browser, f"{BASE}/{me}/trang-thai", {"active": "0"})
    assert reply.status_code == 400
    assert "Không thể tự khoá tài khoản của chính mình." in reply.get_data(as_text=True)
    assert _account(app, "admin1")["active"] is True
    assert browser.get(BASE).status_code == 200  # still logged in
    assert _events(app, "user.active") == []


def test_set_a_new_password(app, seeded):
    browser = _admin(app)
    officer = user_id(app, seeded.officer)
    url = f"{BASE}/{officer}/mat-khau"
    reply = _post(browser, url, {"password": "mat-khau-moi-9", "password_again": "khac-hẳn-1"})
    assert reply.status_code == 400
    assert "Hai lần nhập mật khẩu không giống nhau." in reply.get_data(as_text=True)
    reply = _post(browser, url, {"password": "ngan", "password_again": "ngan"})
    assert reply.status_code == 400
    assert "Mật khẩu phải có ít nhất 8 ký tự" in reply.get_data(as_text=True)
    assert _login(app, seeded.officer)[1].status_code == 302  # unchanged so far
    assert _events(app, "user.password") == []

    reply = _post(browser, url, {"password": "mat-khau-moi-9", "password_again": "mat-khau-moi-9"})
    assert reply.status_code == 302
    assert "Đã đặt mật khẩu mới." in browser.get(f"{BASE}/{officer}").get_data(as_text=True)
    assert _login(app, seeded.officer)[1].status_code == 401
    assert _login(app, seeded.officer, "mat-khau-moi-9")[1].status_code == 302
    event = _events(app, "user.password")[-1]
    assert (event.target_id, event.actor_id) == (str(officer), user_id(app, "admin1"))

    # A reviewer's new password is the one Collect's Digest needs.
    reviewer = user_id(app, seeded.reviewer)
    reply = _post(
        browser,
        f"{BASE}/{reviewer}/mat-khau",
        {"password": "rsv-moi-12345", "password_again": "rsv-moi-12345"},
    )
    assert reply.status_code == 302
    phone = CollectClient(FlaskTransport(app), "http://rasoat.test", "rsv1", "rsv-moi-12345")
    assert phone.request("GET", "http://rasoat.test/formList").status == 200


def test_issue_a_device_token_with_its_qr_code_then_revoke_it(app, seeded):
    browser = _admin(app)
    reviewer = user_id(app, seeded.village_reviewer)
    reply = _post(browser, f"{BASE}/{reviewer}/ma-thiet-bi", {"label": "Điện thoại thôn Hai"})
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    html = reply.get_data(as_text=True)
    assert "Đã cấp mã thiết bị." in html
    url = re.search(r'<code id="collect-url">([^<]+)</code>', html).group(1)
    token = re.fullmatch(r"http://localhost/key/([A-Za-z0-9_-]{43})", url).group(1)
    assert re.search(r'role="img" aria-label="Mã QR cấu hình ODK Collect"><svg ', html)
    assert "Điện thoại thôn Hai" in html

    listed = _form_list(app, f"/key/{token}/formList")
    assert listed.status_code == 200
    assert listed.headers["X-OpenRosa-Version"] == "1.0"
    assert f"<formID>{seeded.form_id}</formID>" in listed.get_data(as_text=True)

    # Shown once: the account's page never shows it again.
    page = browser.get(f"{BASE}/{reviewer}").get_data(as_text=True)
    assert token not in page and "collect-url" not in page
    assert "Còn hiệu lực" in page
    row = re.search(
        r'data-username="rsv.t02">(.*?)</tr>', browser.get(BASE).get_data(as_text=True), re.S
    )
    assert row.group(1).rstrip().endswith("<td>1</td>")

    with app.app_context():
        token_id = db.session.scalar(select(DeviceToken.id).where(DeviceToken.user_id == reviewer))
    reply = _post(browser, f"{BASE}/{reviewer}/ma-thiet-bi/{token_id}/thu-hoi", {})
    assert reply.status_code == 302
    page = browser.get(f"{BASE}/{reviewer}").get_data(as_text=True)
    assert "Đã thu hồi mã thiết bị" in page and "Đã thu hồi lúc" in page
    assert _form_list(app, f"/key/{token}/formList").status_code == 403
    # Revoking again changes nothing.
    reply = _post(browser, f"{BASE}/{reviewer}/ma-thiet-bi/{token_id}/thu-hoi", {})
    assert reply.status_code == 302
    assert len(_events(app, "device_token.revoke")) == 1

    # A token of another account cannot be revoked through this one.
    with app.app_context():
        other_token = db.session.scalar(
            select(DeviceToken.id).where(DeviceToken.user_id == user_id(app, seeded.reviewer))
        )
    reply = _post(browser, f"{BASE}/{reviewer}/ma-thiet-bi/{other_token}/thu-hoi", {})
    assert reply.status_code == 404
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 200

    issued, revoked = (
        _events(app, "device_token.issue")[-1],
        _events(app, "device_token.revoke")[-1],
    )
    admin_id = user_id(app, "admin1")
    assert issued.after == {"user": "rsv.t02", "label": "Điện thoại thôn Hai"}
    assert (issued.actor_id, revoked.actor_id) == (admin_id, admin_id)
    assert revoked.target_id == str(token_id)


def test_the_collect_url_uses_the_external_url(make_app, database_url, seeded):
    app = make_app(database_url, EXTERNAL_URL="https://rasoat.example.vn/", SECURE_COOKIES="0")
    browser = _admin(app)
    reviewer = user_id(app, seeded.reviewer)
    html = _post(browser, f"{BASE}/{reviewer}/ma-thiet-bi", {}).get_data(as_text=True)
    url = re.search(r'<code id="collect-url">([^<]+)</code>', html).group(1)
    assert re.fullmatch(r"https://rasoat\.example\.vn/key/[A-Za-z0-9_-]{43}", url)


def test_device_tokens_only_for_collect_accounts(app, seeded):
    browser = _admin(app)
    officer = user_id(app, seeded.officer)
    reply = _post(browser, f"{BASE}/{officer}/ma-thiet-bi", {"label": "máy"})
    assert reply.status_code == 400
    assert "Chỉ cấp mã thiết bị cho rà soát viên và trưởng thôn." in reply.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(DeviceToken).where(DeviceToken.user_id == officer)
            )
            == 0
        )


def test_change_an_accounts_role_and_commune(app, seeded, other_province):
    browser = _admin(app)
    reviewer = user_id(app, seeded.reviewer)
    url = f"{BASE}/{reviewer}/vai-tro"
    # A commune of another province, a national role, no commune for an officer: refused.
    for data in (
        {"role": "officer", "commune": "Y1"},
        {"role": "national", "commune": ""},
        {"role": "officer", "commune": ""},
        {"role": "village_head", "commune": "X1"},  # without a village
    ):
        reply = _post(browser, url, data)
        assert reply.status_code == 400, data
    assert _account(app, seeded.reviewer)["role"] == "reviewer"
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 200

    # A reviewer becomes an officer of the second commune: its device tokens are revoked.
    reply = _post(browser, url, {"role": "officer", "commune": "X2"})
    assert reply.status_code == 302
    assert "Đã đổi vai trò; tài khoản phải đăng nhập lại." in browser.get(
        f"{BASE}/{reviewer}"
    ).get_data(as_text=True)
    account = _account(app, seeded.reviewer)
    assert (account["role"], account["commune"]) == ("officer", "X2")
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 403
    # Then a province administrator (no commune, the province of the one making the change).
    reply = _post(browser, url, {"role": "admin", "commune": "X1"})
    assert reply.status_code == 302
    with app.app_context():
        user = db.session.get(User, reviewer)
        assert (user.role, user.commune_id, user.province.code) == (Role.ADMIN, None, "P1")
    events = _events(app, "user.role")
    assert [(e.before["role"], e.after["role"]) for e in events] == [
        ("reviewer", "officer"),
        ("officer", "admin"),
    ]


# --- scope and roles -------------------------------------------------------------------------


def _every_route(uid: int, token_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", f"{BASE}/{uid}", {}),
        ("POST", f"{BASE}/{uid}/sua", {"display_name": "Đổi tên"}),
        ("POST", f"{BASE}/{uid}/trang-thai", {"active": "0"}),
        (
            "POST",
            f"{BASE}/{uid}/mat-khau",
            {"password": "x-12345678", "password_again": "x-12345678"},
        ),
        ("POST", f"{BASE}/{uid}/ma-thiet-bi", {"label": "máy lạ"}),
        ("POST", f"{BASE}/{uid}/ma-thiet-bi/{token_id}/thu-hoi", {}),
        ("POST", f"{BASE}/{uid}/vai-tro", {"role": "officer", "commune": "X1"}),
    ]


def test_another_provinces_admin_gets_404_on_every_account_route(app, seeded, other_province):
    def snapshot():
        with app.app_context():
            return (
                db.session.scalar(select(func.count()).select_from(AuditEvent)),
                db.session.scalar(select(func.count()).select_from(DeviceToken)),
            )

    before = snapshot()
    rsv1 = user_id(app, seeded.reviewer)
    with app.app_context():
        rsv1_token = db.session.scalar(select(DeviceToken.id).where(DeviceToken.user_id == rsv1))
    outsider = _admin(app, "admin2")
    for method, url, data in _every_route(rsv1, rsv1_token):
        if method == "GET":
            reply = outsider.get(url)
        else:
            reply = _post(outsider, url, data)
        assert reply.status_code == 404, (method, url)
        assert "Không tìm thấy" in reply.get_data(as_text=True)
    assert _account(app, seeded.reviewer)["active"] is True
    assert _account(app, seeded.reviewer)["display_name"] == "Rà soát viên Một"
    assert _login(app, seeded.officer)[1].status_code == 302
    assert _form_list(app, f"/key/{seeded.reviewer_token}/formList").status_code == 200
    assert snapshot() == before

    # And the other way round; an unknown id is the same 404.
    insider = _admin(app)
    for uid, token_id in [
        (user_id(app, "rsv.p2"), other_province["reviewer_token_id"]),
        (user_id(app, "admin2"), other_province["reviewer_token_id"]),
        (99999, 1),
        (2**40, 2**40),
    ]:
        for method, url, data in _every_route(uid, token_id):
            reply = insider.get(url) if method == "GET" else _post(insider, url, data)
            assert reply.status_code == 404, (method, url)
    assert _account(app, "admin2")["active"] is True
    assert snapshot() == before


def test_other_roles_are_refused(app, seeded):
    add_village_heads(app, {"truongthon1": "T01"})
    anonymous = app.test_client()
    reply = anonymous.get(BASE)
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith(f"/login?next={BASE}")

    rsv1 = user_id(app, seeded.reviewer)
    before = _users(app)
    for username in (seeded.officer, "truongthon1"):
        browser, reply = _login(app, username)
        assert reply.status_code == 302
        assert f'href="{BASE}"' not in browser.get("/xa/phieu").get_data(as_text=True)
        token = _csrf(browser.get("/xa/phieu").get_data(as_text=True))
        assert browser.get(BASE).status_code == 403
        reply = browser.post(BASE, data={**dict(_new_account()), "csrf_token": token})
        assert reply.status_code == 403
        for method, url, data in _every_route(rsv1, 1):
            if method == "GET":
                reply = browser.get(url)
            else:
                reply = browser.post(url, data={**data, "csrf_token": token})
            assert reply.status_code == 403, (username, method, url)
    assert _users(app) == before
    assert _account(app, seeded.reviewer)["active"] is True
