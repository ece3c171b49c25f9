"""X-Forwarded-* headers are believed only from TRUSTED_PROXIES: from any other peer (loopback
included) they are ignored, so a client on plain http cannot pass for https (Basic refused) nor
choose the address the login throttle counts, nor the host in the URLs given to phones."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from server.accounts.models import LoginFailure
from server.extensions import db
from tests.integration.procedure import csrf

TLS = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rasoat.tinh.gov.vn"}


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


@pytest.mark.parametrize("trusted", ["", "10.0.0.1, 192.168.0.0/16"])
def test_basic_over_http_claiming_https_from_loopback_is_refused(
    make_app, database_url, seeded, trusted
):
    client = make_app(database_url, TRUSTED_PROXIES=trusted).test_client()  # peer 127.0.0.1
    reply = client.get("/formList", headers=_basic(seeded.reviewer, seeded.reviewer_password) | TLS)
    assert reply.status_code == 401
    # Still plain http: only the Digest challenge (Collect sends no Basic over http).
    assert [c.split()[0] for c in reply.headers.getlist("WWW-Authenticate")] == ["Digest"]


@pytest.mark.parametrize("peer", ["127.0.0.1", "::ffff:127.0.0.1"])
def test_basic_through_a_configured_proxy_is_accepted(make_app, database_url, seeded, peer):
    client = make_app(database_url, TRUSTED_PROXIES="127.0.0.1").test_client()
    reply = client.get(
        "/formList",
        headers=_basic(seeded.reviewer, seeded.reviewer_password) | TLS,
        environ_base={"REMOTE_ADDR": peer},
    )
    assert reply.status_code == 200
    assert b"<downloadUrl>https://rasoat.tinh.gov.vn/forms/" in reply.data


def test_forwarded_host_from_an_untrusted_peer_does_not_reach_phone_urls(
    make_app, database_url, seeded
):
    client = make_app(database_url, TRUSTED_PROXIES="10.0.0.1").test_client()
    reply = client.get(
        f"/key/{seeded.reviewer_token}/formList", headers=TLS, base_url="http://rasoat.test"
    )
    assert reply.status_code == 200
    assert b"http://rasoat.test/key/" in reply.data
    assert b"rasoat.tinh.gov.vn" not in reply.data


def _failed_login(app, forwarded_for: str, username: str = "khong-co"):
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    return browser.post(
        "/login",
        data={"username": username, "password": "sai-mat-khau", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
    )


def _failure_addresses(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(LoginFailure.ip)))


def test_the_login_throttle_counts_the_peer_not_a_forwarded_for_it_sends(
    make_app, database_url, seeded
):
    app = make_app(database_url)  # no proxy configured
    limit = app.config["LOGIN_MAX_FAILURES_PER_IP"]
    for n in range(limit):  # a new "address" and a new username each time
        _failed_login(app, f"198.51.100.{n + 1}", f"khong-co-{n}")
    assert _failure_addresses(app) == {"127.0.0.1"}
    # The address is locked out: even another account's right password is refused.
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login",
        data={"username": seeded.officer, "password": seeded.password, "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert reply.status_code == 429


def test_behind_a_configured_proxy_the_client_address_is_counted(make_app, database_url, seeded):
    app = make_app(database_url, TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    # The first entry is whatever the client sent; the proxies appended the real addresses.
    _failed_login(app, "203.0.113.5, 198.51.100.7, 10.1.2.3")
    assert _failure_addresses(app) == {"198.51.100.7"}


def test_the_old_setting_stops_the_server_instead_of_trusting_everyone(make_app, database_url):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        make_app(database_url, TRUST_PROXY_HEADERS=1)
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        make_app(database_url, TRUSTED_PROXIES="proxy.local")
