"""The whole ODK Collect conversation — form list, form and media download, HEAD, POST — over
the Flask test client and over real HTTP against gunicorn, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from lxml import etree
from sqlalchemy import select

from server.extensions import db
from server.submissions.models import SubmissionVersion, SubmissionXml
from tests.collect_client import CollectClient, FlaskTransport, HttpTransport
from tests.instances import demo_instance, jpeg_bytes, new_instance_id


@pytest.fixture(params=["flask", "gunicorn"])
def collect(request, app, seeded):
    """A Collect client configured with the demo reviewer's QR code (token URL)."""
    if request.param == "flask":
        base, transport = "http://rasoat.test", FlaskTransport(app)
    else:
        server = request.getfixturevalue("live_server")
        base, transport = server.url, HttpTransport()
    return CollectClient(transport, f"{base}/key/{seeded.reviewer_token}")


def test_collect_lists_downloads_fills_and_sends_a_form(app, collect, seeded):
    entries = collect.form_list()
    assert [e.form_id for e in entries] == [seeded.form_id]  # not the other commune's form
    entry = entries[0]
    assert entry.name == "Phiếu thử nghiệm rasoat (demo)"
    assert entry.version == seeded.form_version
    prefix = collect.server_url
    assert entry.download_url.startswith(prefix + "/forms/")
    assert entry.manifest_url.startswith(prefix + "/forms/")

    xform = collect.download_form(entry)  # checks md5 against the list's hash
    assert etree.fromstring(xform).find(".//{http://www.w3.org/1999/xhtml}title").text == entry.name
    media = {m.filename: m for m in collect.manifest(entry)}
    assert sorted(media) == ["privacy_notice.csv", "villages.csv"]
    assert media["villages.csv"].download_url.startswith(prefix + "/")
    notice = collect.download_media(media["privacy_notice.csv"]).decode("utf-8")
    assert notice.startswith("name,label,label_en\nnotice,") and "thu thập" in notice
    csv = collect.download_media(media["villages.csv"])
    assert csv.decode("utf-8").splitlines() == [
        "name,label,area_type",
        "T01,Thôn Một,rural",
        "T02,Thôn Hai,rural",
        "T03,Làng Ba,rural",
    ]

    instance_id = new_instance_id()
    xml = demo_instance(instance_id, photo="ảnh nhà 1.jpg")
    photo = jpeg_bytes()
    replies = collect.submit(xml, {"ảnh nhà 1.jpg": photo, "unrelated.txt": b"ignored"})
    assert [r.status for r in replies] == [201]
    assert "Đã nhận phiếu" in replies[0].message

    with app.app_context():
        version = db.session.scalar(
            select(SubmissionVersion).where(SubmissionVersion.instance_id == instance_id)
        )
        assert db.session.get(SubmissionXml, version.id).xml == xml  # byte for byte
        assert version.device_id == collect.device_id
        assert version.user_agent.startswith("org.odk.collect.android/")
        assert version.fields["members[2]/name"] == "Y Bình"
        assert version.fields["village"] == "T01"
        assert version.submission.village.code == "T01"
        assert version.submission.commune.code == "X1"
        assert [(a.name, a.size) for a in version.attachments] == [("ảnh nhà 1.jpg", len(photo))]
        stored = app.extensions["rasoat.blobs"].read(version.attachments[0].blob_sha256)
        assert stored == photo
    methods = [(m, s) for m, _, s in collect.log]
    assert ("HEAD", 204) in methods and ("POST", 201) in methods


@pytest.mark.parametrize("transport", ["flask", "gunicorn"])
def test_collect_split_upload_is_assembled_into_one_submission(request, transport, app, seeded):
    """Collect splits when files exceed the advertised size; every part repeats the XML and all
    but the last carry *isIncomplete*=yes."""
    limit = 6000
    if transport == "flask":
        app.config["OPENROSA_ACCEPT_CONTENT_LENGTH"] = limit
        base, channel = "http://rasoat.test", FlaskTransport(app)
    else:
        server = request.getfixturevalue("live_server_factory")(
            OPENROSA_ACCEPT_CONTENT_LENGTH=limit
        )
        base, channel = server.url, HttpTransport()
    collect = CollectClient(channel, f"{base}/key/{seeded.reviewer_token}")
    instance_id = new_instance_id()
    xml = demo_instance(instance_id, photo="a.jpg")
    replies = collect.submit(xml, {"b.jpg": jpeg_bytes(2, 5000), "a.jpg": jpeg_bytes(1, 5000)})
    assert len(replies) == 2  # the two photos did not fit in one request
    assert [r.status for r in replies] == [201, 201]
    assert "a.jpg" in replies[0].message  # still missing after the first part
    with app.app_context():
        versions = db.session.scalars(
            select(SubmissionVersion).where(SubmissionVersion.instance_id == instance_id)
        ).all()
        assert len(versions) == 1
        assert versions[0].attachments_present == versions[0].attachments_expected == 1


def test_form_list_hash_is_md5_of_served_bytes_and_urls_are_encoded(app, collect, seeded):
    entry = collect.form_list()[0]
    reply = collect.request("GET", entry.download_url)
    assert entry.hash == "md5:" + hashlib.md5(reply.body).hexdigest()
    assert f"/forms/{quote(seeded.form_id)}/versions/{quote(seeded.form_version)}.xml" in (
        entry.download_url
    )
