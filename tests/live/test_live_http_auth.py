"""HTTP authentication against a real gunicorn (two workers, loopback): gunicorn itself believes
X-Forwarded-Proto from 127.0.0.1, so this is where "Basic over http claiming https" was
accepted; and a captured Digest header is accepted once whichever worker gets it."""

from __future__ import annotations

import base64

import requests

from tests.collect_client import CollectClient, HttpTransport, _parse_digest_challenge

CLAIMS_HTTPS = (
    {"X-Forwarded-Proto": "https"},
    {"X-Forwarded-Ssl": "on"},
    {"X-Forwarded-Protocol": "ssl"},
)


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


def test_basic_over_http_claiming_https_from_loopback_is_refused(seeded, live_server):
    for claim in CLAIMS_HTTPS:
        reply = requests.get(
            f"{live_server.url}/formList",
            headers=_basic(seeded.reviewer, seeded.reviewer_password) | claim,
            timeout=30,
        )
        assert reply.status_code == 401, claim
        schemes = [c.split()[0] for c in reply.raw.headers.getlist("WWW-Authenticate")]
        assert schemes == ["Digest"], claim


def test_basic_through_a_configured_proxy_is_accepted(seeded, live_server_factory):
    server = live_server_factory(TRUSTED_PROXIES="127.0.0.1")
    reply = requests.get(
        f"{server.url}/formList",
        headers=_basic(seeded.reviewer, seeded.reviewer_password)
        | {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "rasoat.tinh.gov.vn"},
        timeout=30,
    )
    assert reply.status_code == 200
    assert b"<downloadUrl>https://rasoat.tinh.gov.vn/forms/" in reply.content


def test_a_captured_digest_header_is_accepted_once_by_any_worker(seeded, live_server):
    phone = CollectClient(
        HttpTransport(timeout=30), live_server.url, seeded.reviewer, seeded.reviewer_password
    )
    phone.form_list()
    url = f"{live_server.url}/formList?deviceID=collect:x"
    captured = phone._digest("GET", url)
    statuses = []
    for _ in range(6):  # new connections: both workers get some
        reply = requests.get(url, headers={"Authorization": captured}, timeout=30)
        statuses.append(reply.status_code)
        if reply.status_code == 401:
            challenge = _parse_digest_challenge(reply.raw.headers.getlist("WWW-Authenticate"))
            assert challenge["stale"] == "true"
    assert statuses == [200] + [401] * 5
    # The phone itself goes on with increasing counts, then a fresh nonce when told stale.
    for _ in range(3):
        assert phone.request("GET", f"{live_server.url}/formList").status == 200
