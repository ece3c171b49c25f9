"""A real gunicorn server under the conditions phones create: concurrent retries of the same
submission, and a server killed while uploads are in flight."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from server.extensions import db
from server.submissions.models import (
    Submission,
    SubmissionAttachment,
    SubmissionVersion,
    SubmissionXml,
)
from tests.collect_client import CollectClient, HttpTransport
from tests.instances import demo_instance, jpeg_bytes, new_instance_id


def _phone(server, seeded) -> CollectClient:
    return CollectClient(HttpTransport(timeout=30), f"{server.url}/key/{seeded.reviewer_token}")


def test_twenty_concurrent_identical_resends_store_one_submission(app, seeded, live_server):
    instance_id = new_instance_id()
    xml = demo_instance(instance_id, photo="p.jpg")
    photo = jpeg_bytes(11, 20_000)
    barrier = threading.Barrier(20)

    def send(_):
        phone = _phone(live_server, seeded)
        barrier.wait()
        return phone.request(
            "POST",
            f"{phone.server_url}/submission",
            [
                ("xml_submission_file", "i.xml", xml, "text/xml"),
                ("p.jpg", "p.jpg", photo, "image/jpeg"),
            ],
        ).status

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(send, range(20)))
    assert sorted(set(statuses)) in ([201], [201, 202])  # never 409/500
    assert statuses.count(201) >= 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
        assert db.session.scalar(select(func.count()).select_from(SubmissionVersion)) == 1
        attachment = db.session.scalar(select(SubmissionAttachment))
        assert attachment.blob_sha256 == hashlib.sha256(photo).hexdigest()


def _partial_upload(port: int, token: str, xml: bytes) -> socket.socket:
    """Start a multipart POST and send only half of its body, like a phone losing signal."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="xml_submission_file"; '
            f'filename="i.xml"\r\nContent-Type: text/xml\r\n\r\n'
        ).encode()
        + xml
        + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /key/{token}/submission?deviceID=collect:cut HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-OpenRosa-Version: 1.0\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head + body[: len(body) // 2])
    return sock


def test_server_killed_mid_upload_stores_nothing_and_retry_succeeds(app, seeded, live_server):
    instance_id = new_instance_id()
    xml = demo_instance(instance_id, photo=None, head="Hộ mất sóng " + "x" * 50_000)
    sock = _partial_upload(live_server.port, seeded.reviewer_token, xml)
    time.sleep(0.5)  # the worker is now blocked reading the rest of the body
    live_server.kill()
    sock.close()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    live_server.start()
    replies = _phone(live_server, seeded).submit(xml)
    assert [r.status for r in replies] == [201]
    with app.app_context():
        version = db.session.scalar(select(SubmissionVersion))
        assert version.instance_id == instance_id
        assert db.session.get(SubmissionXml, version.id).xml == xml


def test_kill_during_concurrent_uploads_leaves_only_whole_records(app, seeded, live_server):
    """Phones keep sending while the server is SIGKILLed; after a restart every record is
    complete and consistent, and the phones' retries store each submission exactly once."""
    instances = [(new_instance_id(), jpeg_bytes(i, 60_000)) for i in range(60)]
    stop = threading.Event()

    def phone_loop(chunk):
        phone = _phone(live_server, seeded)
        for instance_id, photo in chunk:
            if stop.is_set():
                return
            try:
                phone.submit(demo_instance(instance_id, photo="p.jpg"), {"p.jpg": photo})
            except Exception:  # connection refused or reset: the kill happened
                return

    threads = [threading.Thread(target=phone_loop, args=(instances[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    live_server.kill()
    stop.set()
    for thread in threads:
        thread.join(30)

    blobs = app.extensions["rasoat.blobs"]
    with app.app_context():
        for version in db.session.scalars(select(SubmissionVersion)):
            xml = db.session.get(SubmissionXml, version.id).xml
            assert hashlib.sha256(xml).hexdigest() == version.xml_sha256
            for attachment in version.attachments:
                if attachment.blob_sha256:
                    assert hashlib.sha256(blobs.read(attachment.blob_sha256)).hexdigest() == (
                        attachment.blob_sha256
                    )
            assert version.attachments_present == sum(
                1 for a in version.attachments if a.blob_sha256
            )
        stored_before = db.session.scalar(select(func.count()).select_from(Submission))
    assert stored_before < len(instances)  # the kill really interrupted the run

    live_server.start()
    phone = _phone(live_server, seeded)
    for instance_id, photo in instances:  # Collect retries everything not acknowledged
        replies = phone.submit(demo_instance(instance_id, photo="p.jpg"), {"p.jpg": photo})
        assert replies[-1].status in (201, 202)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == len(instances)
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(SubmissionAttachment)
                .where(SubmissionAttachment.blob_sha256.is_(None))
            )
            == 0
        )
