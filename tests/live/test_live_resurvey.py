"""A re-survey reaches the phone over real HTTP (gunicorn on loopback): the officer sends a
household back from the web page, the phone — talking OpenRosa with Digest like Collect — sees
a new MD5 for ``households.csv`` in the manifest, downloads it and finds the household first,
flagged with the officer's reason; the phone sends the new questionnaire and, once it is scored
(after the response, as Collect never waits for scoring), the list is again what it was."""

from __future__ import annotations

import csv
import io
import re
import time
import uuid

import requests

from tests.collect_client import CollectClient, HttpTransport
from tests.integration.test_review_pages import filled_b, world  # noqa: F401  (fixtures)

REASON = "Thiếu ảnh nhà, chụp lại"


def _phone(live_server, seeded) -> CollectClient:
    return CollectClient(
        HttpTransport(timeout=30), live_server.url, seeded.reviewer, seeded.reviewer_password
    )


def _households(phone: CollectClient) -> tuple[str, list[dict[str, str]]]:
    entry = next(e for e in phone.form_list() if e.form_id == "phieu_b_2022")
    media = {m.filename: m for m in phone.manifest(entry)}
    content = phone.download_media(media["households.csv"])
    return media["households.csv"].hash, list(csv.DictReader(io.StringIO(content.decode())))


def _officer(live_server, seeded) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{live_server.url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = session.post(
        f"{live_server.url}/login",
        data={"username": seeded.officer, "password": seeded.password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 302
    return session


def test_resurvey_from_the_page_reaches_the_phone_and_clears(
    seeded,
    live_server,
    world,  # noqa: F811
    filled_b,  # noqa: F811
):
    phone = _phone(live_server, seeded)
    before_hash, before = _households(phone)
    assert before[0]["label"] == "X1-T01-0001 – A Thút (Thôn Một)"

    officer = _officer(live_server, seeded)
    page_url = f"{live_server.url}/xa/phieu/{world['b']}"
    page = officer.get(page_url, timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = officer.post(
        f"{page_url}/trang-thai",
        data={"state": "resurvey", "comment": REASON, "then": "stay", "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert reply.status_code == 302

    after_hash, after = _households(phone)
    assert after_hash != before_hash
    assert after[0]["name"] == "X1-T01-0001"
    assert after[0]["label"] == f"[CẦN RÀ SOÁT LẠI: {REASON}] X1-T01-0001 – A Thút (Thôn Một)"
    assert after[0]["resurvey_reason"] == REASON

    again = filled_b.xml.replace(filled_b.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode())
    files = {name: path.read_bytes() for name, path in filled_b.files.items()}
    assert [r.status for r in phone.submit(again, files)] == [201]
    deadline = time.monotonic() + 60  # scored after the response: wait for it, bounded
    while time.monotonic() < deadline:
        cleared_hash, cleared = _households(phone)
        if cleared_hash == before_hash:
            break
        time.sleep(0.5)
    assert (cleared_hash, cleared) == (before_hash, before)
    assert 'id="resurvey-flag"' not in officer.get(page_url, timeout=30).text
