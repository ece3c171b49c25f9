"""Hostile or broken XML is refused with a clear message and nothing is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import DEMO_VERSION, demo_instance

XXE = f"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<data id="rasoat_demo" version="{DEMO_VERSION}"><hh_head>&secret;</hh_head>
<meta><instanceID>uuid:xxe</instanceID></meta></data>""".encode()

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<data id="rasoat_demo" version="{DEMO_VERSION}"><hh_head>&lol4;</hh_head>
<meta><instanceID>uuid:lol</instanceID></meta></data>""".encode()

EXTERNAL_DTD = f"""<?xml version="1.0"?>
<!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd">
<data id="rasoat_demo" version="{DEMO_VERSION}"><meta><instanceID>uuid:dtd</instanceID></meta></data>""".encode()

WRONG_NAMESPACE = demo_instance().replace(b"<data ", b'<data xmlns="urn:evil" ', 1)

ENCRYPTED = f"""<data id="rasoat_demo" version="{DEMO_VERSION}" encrypted="yes"
 xmlns="http://www.opendatakit.org/xforms/encrypted"><base64EncryptedKey>x</base64EncryptedKey>
 <meta xmlns="http://openrosa.org/xforms"><instanceID>uuid:enc</instanceID></meta></data>""".encode()


@pytest.fixture
def phone(app, seeded):
    return CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")


def _post(phone, xml: bytes):
    return phone.request(
        "POST",
        f"{phone.server_url}/submission",
        [("xml_submission_file", "instance.xml", xml, "text/xml")],
    )


@pytest.mark.parametrize(
    ("xml", "status", "phrase"),
    [
        (XXE, 400, "DOCTYPE"),
        (BILLION_LAUGHS, 400, "DOCTYPE"),
        (EXTERNAL_DTD, 400, "DOCTYPE"),
        (WRONG_NAMESPACE, 400, "không gian tên"),
        (ENCRYPTED, 400, "mã hoá"),
        (b"\x00\x01binary", 400, "không phải XML hợp lệ"),
        (b"<data id='rasoat_demo'>" + b"<a>" * 10 + b"</data>", 400, "không phải XML hợp lệ"),
    ],
    ids=[
        "xxe",
        "billion-laughs",
        "external-dtd",
        "wrong-namespace",
        "encrypted",
        "binary",
        "truncated",
    ],
)
def test_hostile_submission_is_refused_and_nothing_stored(app, phone, xml, status, phrase):
    reply = _post(phone, xml)
    assert reply.status == status
    assert phrase in reply.message
    assert "root:" not in reply.message  # /etc/passwd never echoed
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_50_megabyte_body_is_refused_413_with_openrosa_message(app, phone):
    big = b"<data>" + b"x" * (50 * 1024 * 1024) + b"</data>"
    reply = _post(phone, big)
    assert reply.status == 413
    assert "quá lớn" in reply.message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_xml_over_the_submission_limit_inside_an_allowed_body_is_413(make_app, database_url):
    from tests.conftest import seed

    app = make_app(database_url, MAX_SUBMISSION_XML_BYTES=10_000)
    seeded = seed(app)
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    reply = _post(phone, demo_instance(head="A" * 20_000))
    assert reply.status == 413
    assert "quá lớn" in reply.message
