"""HTTP Digest is one-use: a captured Authorization header is accepted once, a nonce count
(``nc``) must grow with every request, nonces live DIGEST_NONCE_SECONDS and are tracked in the
database so that every worker and every app server on it agrees.  Each refusal of a right
answer is 401 with ``stale=true`` and a fresh nonce, which Collect (okhttp-digest) answers by
itself; a replayed header goes no further."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update

from server.accounts.models import DigestNonce
from server.db import utcnow, write_transaction
from server.extensions import db
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport, _md5, _parse_digest_challenge
from tests.instances import demo_instance

BASE = "http://rasoat.test"
FORM_LIST = f"{BASE}/formList?deviceID=collect:phone1"
SUBMISSION = f"{BASE}/submission?deviceID=collect:phone1"


def _phone(app, seeded) -> CollectClient:
    phone = CollectClient(FlaskTransport(app), BASE, seeded.reviewer, seeded.reviewer_password)
    phone.form_list()  # answers the first challenge: the phone now holds a nonce
    return phone


def _answer(phone: CollectClient, method: str, url: str, nc: str) -> str:
    """A right Digest answer to the phone's nonce with any ``nc`` text (RFC 2617)."""
    challenge = phone._challenge
    split = urlsplit(url)
    uri = f"{split.path}?{split.query}"
    ha1 = _md5(f"{phone.username}:{challenge['realm']}:{phone.password}")
    ha2 = _md5(f"{method}:{uri}")
    cnonce = uuid.uuid4().hex[:16]
    response = _md5(f"{ha1}:{challenge['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{phone.username}", realm="{challenge["realm"]}", '
        f'nonce="{challenge["nonce"]}", uri="{uri}", response="{response}", qop=auth, '
        f'nc={nc}, cnonce="{cnonce}", algorithm=MD5, opaque="{challenge["opaque"]}"'
    )


def _send(app, method: str, url: str, authorization: str, parts=None):
    headers = {"Authorization": authorization, "X-OpenRosa-Version": "1.0"}
    return FlaskTransport(app).send(method, url, headers, parts)


def _challenge(reply) -> dict[str, str]:
    challenge = _parse_digest_challenge(reply.headers.getlist("WWW-Authenticate"))
    assert challenge is not None
    return challenge


def _stale(reply) -> bool:
    return reply.status == 401 and _challenge(reply).get("stale") == "true"


def _submission_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def test_a_captured_header_is_accepted_once(app, seeded):
    phone = _phone(app, seeded)
    captured = phone._digest("GET", FORM_LIST)
    replies = [_send(app, "GET", FORM_LIST, captured) for _ in range(3)]
    assert [r.status for r in replies] == [200, 401, 401]
    assert b"<formID>" in replies[0].body and b"<formID>" not in replies[1].body
    # Right answer, used count: a fresh nonce with stale=true (the phone would answer it without
    # asking the user), never the old one again.
    for reply in replies[1:]:
        assert _stale(reply)
        assert _challenge(reply)["nonce"] != phone._challenge["nonce"]
    assert _challenge(replies[1])["nonce"] != _challenge(replies[2])["nonce"]


def test_a_captured_submission_header_cannot_carry_another_body(app, seeded):
    phone = _phone(app, seeded)
    captured = phone._digest("POST", SUBMISSION)
    first = [("xml_submission_file", "i.xml", demo_instance(photo=None), "text/xml")]
    assert _send(app, "POST", SUBMISSION, captured, first).status == 201
    for head in ("Người Khác", "Kẻ Gian"):
        other = demo_instance(f"uuid:{uuid.uuid4()}", photo=None, head=head)
        reply = _send(
            app, "POST", SUBMISSION, captured, [("xml_submission_file", "i.xml", other, "text/xml")]
        )
        assert reply.status == 401
        assert _stale(reply)
    assert _submission_count(app) == 1


def test_the_nonce_count_must_grow(app, seeded):
    phone = _phone(app, seeded)  # nc 1 used by the form list
    assert _send(app, "GET", FORM_LIST, _answer(phone, "GET", FORM_LIST, "00000005")).status == 200
    # The same count again (another cnonce, so another header), then lower ones.
    for previous in ("00000005", "00000004", "00000001"):
        reply = _send(app, "GET", FORM_LIST, _answer(phone, "GET", FORM_LIST, previous))
        assert _stale(reply), previous
    assert _send(app, "GET", FORM_LIST, _answer(phone, "GET", FORM_LIST, "00000006")).status == 200


def test_a_malformed_count_is_refused_without_stale(app, seeded):
    phone = _phone(app, seeded)
    for bad in ("zzzzzzzz", "2", "000000002", "00000000", ""):
        reply = _send(app, "GET", FORM_LIST, _answer(phone, "GET", FORM_LIST, bad))
        assert reply.status == 401, bad
        assert "stale" not in _challenge(reply)
    assert _send(app, "GET", FORM_LIST, _answer(phone, "GET", FORM_LIST, "00000002")).status == 200


def test_the_phone_keeps_working_with_increasing_counts(app, seeded):
    """Collect reuses the cached nonce, nc + 1 each time: one challenge for many requests."""
    phone = _phone(app, seeded)
    for _ in range(5):
        assert phone.request("GET", f"{BASE}/formList").status == 200
    assert [s for _, _, s in phone.log] == [200] * 6
    assert phone._nc == 6
    assert phone.submit(demo_instance(photo=None))[-1].status == 201


def test_an_expired_nonce_is_stale_and_the_phone_recovers(app, seeded, monkeypatch):
    assert app.config["DIGEST_NONCE_SECONDS"] <= 300
    phone = _phone(app, seeded)
    old_nonce = phone._challenge["nonce"]
    later = time.time() + app.config["DIGEST_NONCE_SECONDS"] + 5
    monkeypatch.setattr(time, "time", lambda: later)
    reply = _send(app, "GET", FORM_LIST, phone._digest("GET", FORM_LIST))
    assert _stale(reply)
    # The phone sends the old nonce, is told stale, answers the fresh challenge: one request.
    assert phone.request("GET", f"{BASE}/formList").status == 200
    assert phone._challenge["nonce"] != old_nonce
    assert phone.log[-1][2] == 200


def test_a_forgotten_nonce_is_stale_and_the_phone_recovers(app, seeded):
    """A nonce the database does not know (purged, or issued by a server before this one)."""
    phone = _phone(app, seeded)
    with app.app_context(), write_transaction(db.session):
        db.session.execute(delete(DigestNonce))
    reply = _send(app, "GET", FORM_LIST, phone._digest("GET", FORM_LIST))
    assert _stale(reply)
    assert phone.request("GET", f"{BASE}/formList").status == 200
    assert [s for _, _, s in phone.log] == [200, 200]


def test_a_wrong_password_is_not_stale(app, seeded):
    """The phone must ask the user: 401 without stale (okhttp-digest then gives up)."""
    phone = _phone(app, seeded)
    phone.password = "sai-mat-khau"
    reply = phone.request("GET", f"{BASE}/formList")
    assert reply.status == 401
    assert "stale" not in _challenge(reply)


def test_expired_nonces_are_purged_a_batch_at_a_time(make_app, database_url, seeded):
    app = make_app(database_url, DIGEST_NONCE_PURGE_BATCH=3)
    client = app.test_client()
    for _ in range(5):
        assert client.get("/formList").status_code == 401  # 5 nonces issued
    with app.app_context(), write_transaction(db.session):
        long_ago = utcnow() - timedelta(seconds=app.config["DIGEST_NONCE_SECONDS"] + 120)
        db.session.execute(update(DigestNonce).values(issued_at=long_ago))

    def count():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(DigestNonce))

    assert count() == 5
    client.get("/formList")  # issues one, deletes 3 expired
    assert count() == 3
    client.get("/formList")  # issues one, deletes the 2 left
    assert count() == 2


def test_same_count_from_two_app_servers_at_once_is_accepted_once(make_app, database_url, seeded):
    """Two app servers (two apps on one database), four threads each, the same header at the
    same moment, several rounds: exactly one request per round gets in."""
    servers = [make_app(database_url), make_app(database_url)]
    phone = _phone(servers[0], seeded)
    threads = 8
    for _ in range(4):
        header = phone._digest("GET", FORM_LIST)
        barrier = threading.Barrier(threads)

        def attempt(index: int, header=header, barrier=barrier) -> int:
            transport = FlaskTransport(servers[index % 2])
            barrier.wait()
            return transport.send("GET", FORM_LIST, {"Authorization": header}, None).status

        with ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(attempt, range(threads)))
        assert sorted(statuses) == [200] + [401] * (threads - 1)
