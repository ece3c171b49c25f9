"""HTTP Digest/Basic (ODK Collect, the JSON API) are throttled against password guessing like the
login page: wrong credentials count per username (5 in 15 minutes), then the username gets 429
with a Retry-After and no challenge — even with the right password — until the lockout ends.
Requests without credentials (how every Collect request starts) and other usernames are not
affected, and a shared address (carrier NAT) is never locked out by phones' failures."""

from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import func, select

from server.accounts.models import LoginFailure
from server.db import write_transaction
from server.extensions import db
from tests.collect_client import CollectClient, FlaskTransport
from tests.integration.procedure import try_login

LOCKED_VI = "Đăng nhập sai quá nhiều lần nên tài khoản tạm thời bị khoá"


def _phone(app, username: str, password: str) -> CollectClient:
    phone = CollectClient(FlaskTransport(app), "http://rasoat.test")
    phone.username, phone.password = username, password
    return phone


def _form_list(phone: CollectClient):
    return phone.request("GET", f"{phone.server_url}/formList")


def _failures(app, username: str, channel: str | None = None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LoginFailure)
        query = query.where(LoginFailure.username == username)
        if channel:
            query = query.where(LoginFailure.channel == channel)
        return db.session.scalar(query)


def _age_failures(app, by: timedelta) -> None:
    with app.app_context(), write_transaction(db.session):
        for failure in db.session.scalars(select(LoginFailure)):
            failure.at -= by


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_wrong_digest_passwords_lock_the_username_out_then_it_recovers(app, seeded):
    right = _phone(app, seeded.reviewer, seeded.reviewer_password)
    assert _form_list(right).status == 200
    wrong = _phone(app, seeded.reviewer, "khong-dung-1")
    # The client answers the challenge once; the 401 without stale=true makes it give up (as
    # okhttp-digest does, and Collect asks the user again): one failure per attempt.
    for attempt in range(1, 5):
        assert _form_list(wrong).status == 401
        assert _failures(app, seeded.reviewer, "http") == attempt
    # The 5th starts the lockout, answered 429 without a challenge, so the client stops asking.
    assert _form_list(wrong).status == 429
    assert _failures(app, seeded.reviewer, "http") == 5
    locked = _form_list(_phone(app, seeded.reviewer, seeded.reviewer_password))
    assert locked.status == 429
    assert LOCKED_VI in locked.message
    assert "15 phút" in locked.message
    assert not locked.headers.getlist("WWW-Authenticate")
    assert 840 <= int(locked.headers["Retry-After"]) <= 900
    # Being locked out is not counted again (the lockout does not grow).
    assert _failures(app, seeded.reviewer) == 5
    # Another reviewer is not affected, from the same address.
    other = _phone(app, seeded.village_reviewer, seeded.password)
    assert _form_list(other).status == 200
    # The lockout ends after 15 minutes; the right password works again.
    _age_failures(app, timedelta(minutes=31))
    assert _form_list(_phone(app, seeded.reviewer, seeded.reviewer_password)).status == 200


def test_requests_without_credentials_and_stale_nonces_do_not_count(app, seeded):
    for _ in range(12):
        reply = app.test_client().get("/formList", headers={"X-OpenRosa-Version": "1.0"})
        assert reply.status_code == 401
        assert reply.headers.getlist("WWW-Authenticate")
    assert _failures(app, seeded.reviewer) == 0
    phone = _phone(app, seeded.reviewer, seeded.reviewer_password)
    for _ in range(8):
        assert _form_list(phone).status == 200
    assert _failures(app, seeded.reviewer) == 0


def test_unknown_usernames_are_counted_but_phones_never_lock_an_address_out(app, seeded):
    # 25 failures (more than the 20 that lock an address on the login page) for many names from
    # one address (as behind a carrier's NAT): each name is counted, the address is not locked
    # for the others, on Collect nor on the login page.
    for n in range(25):
        assert _form_list(_phone(app, f"khong-co-{n}", "sai-mat-khau")).status == 401
    assert _failures(app, "khong-co-0", "http") == 1
    assert _form_list(_phone(app, seeded.reviewer, seeded.reviewer_password)).status == 200
    assert try_login(app, seeded.officer, seeded.password)[1].status_code == 302


def test_the_json_api_answers_429_in_json_once_basic_guesses_lock_the_username(app, seeded):
    client = app.test_client()
    for attempt in range(5):
        reply = client.get(
            "/api/v1/submissions",
            headers=_basic(seeded.officer, f"sai-{attempt}"),
            base_url="https://r.test",
        )
        assert reply.status_code == (401 if attempt < 4 else 429), attempt
    reply = client.get(
        "/api/v1/submissions",
        headers=_basic(seeded.officer, seeded.password),
        base_url="https://r.test",
    )
    assert reply.status_code == 429
    assert reply.json["code"] == "auth.locked"
    assert "thử lại sau" in reply.json["message"]
    assert int(reply.headers["Retry-After"]) > 0
    assert not reply.headers.getlist("WWW-Authenticate")
    # The same guesses count for the web login page too (one limit per username).
    assert try_login(app, seeded.officer, seeded.password)[1].status_code == 429


def test_basic_over_plain_http_is_refused_without_counting_a_guess(app, seeded):
    client = app.test_client()
    for _ in range(7):
        reply = client.get("/api/v1/submissions", headers=_basic(seeded.officer, "sai"))
        assert reply.status_code == 401
    assert _failures(app, seeded.officer) == 0
