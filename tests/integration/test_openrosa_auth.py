"""Authentication as Collect performs it: Digest over http, Basic only over https, device token
URLs (bad token → 403), and what each account may see."""

from __future__ import annotations

import base64
import time

import pytest

from server.accounts.models import DeviceToken
from server.accounts.services import revoke_device_token
from server.db import write_transaction
from server.extensions import db
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import DEMO_VERSION


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


def test_form_list_without_credentials_gets_a_digest_challenge_only_over_http(client):
    reply = client.get("/formList?deviceID=collect:abc")
    assert reply.status_code == 401
    challenges = reply.headers.getlist("WWW-Authenticate")
    assert len(challenges) == 1  # Collect breaks on a Basic challenge over http
    assert challenges[0].startswith('Digest realm="rasoat", qop="auth"')
    assert reply.headers["X-OpenRosa-Version"] == "1.0"
    assert "Cần đăng nhập" in reply.get_data(as_text=True)


def test_https_offers_digest_and_basic(client):
    reply = client.get("/formList", base_url="https://rasoat.test")
    schemes = [c.split()[0] for c in reply.headers.getlist("WWW-Authenticate")]
    assert schemes == ["Digest", "Basic"]


def test_digest_answers_are_accepted_and_wrong_password_is_refused(app, seeded):
    ok = CollectClient(FlaskTransport(app), "http://rasoat.test", "rsv1", seeded.reviewer_password)
    assert [e.form_id for e in ok.form_list()] == [seeded.form_id]
    bad = CollectClient(FlaskTransport(app), "http://rasoat.test", "rsv1", "sai-mat-khau")
    reply = bad.request("GET", "http://rasoat.test/formList")
    assert reply.status == 401


def test_digest_is_stateless_across_requests_without_cookies(app, seeded):
    """Collect sends the next request's Authorization proactively with the same nonce."""
    phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", "rsv1", seeded.reviewer_password
    )
    phone.form_list()
    reply = phone.request("GET", "http://rasoat.test/formList")
    assert reply.status == 200
    assert [s for _, _, s in phone.log] == [200, 200]


def test_expired_nonce_gets_stale_challenge_and_client_recovers(app, seeded, monkeypatch):
    phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", "rsv1", seeded.reviewer_password
    )
    phone.form_list()
    later = time.time() + app.config["DIGEST_NONCE_SECONDS"] + 10
    monkeypatch.setattr(time, "time", lambda: later)
    raw = FlaskTransport(app).send(
        "GET",
        "http://rasoat.test/formList",
        {"Authorization": phone._digest("GET", "http://rasoat.test/formList")},
        None,
    )
    assert raw.status == 401
    assert "stale=true" in raw.headers["WWW-Authenticate"]
    assert phone.request("GET", "http://rasoat.test/formList").status == 200


def test_digest_for_another_uri_is_refused(app, seeded):
    phone = CollectClient(
        FlaskTransport(app), "http://rasoat.test", "rsv1", seeded.reviewer_password
    )
    phone.form_list()
    header = phone._digest("GET", "http://rasoat.test/submission")
    reply = FlaskTransport(app).send(
        "GET", "http://rasoat.test/formList", {"Authorization": header}, None
    )
    assert reply.status == 401


def test_basic_over_http_is_refused_and_over_https_accepted(client, seeded):
    headers = _basic("rsv1", seeded.reviewer_password)
    assert client.get("/formList", headers=headers).status_code == 401
    reply = client.get("/formList", headers=headers, base_url="https://rasoat.test")
    assert reply.status_code == 200
    assert b"<formID>rasoat_demo</formID>" in reply.data


def test_basic_behind_tls_proxy_uses_forwarded_proto(make_app, database_url, seeded):
    proxied = make_app(database_url, TRUSTED_PROXIES="127.0.0.1")  # the test client's address
    client = proxied.test_client()
    headers = _basic("rsv1", seeded.reviewer_password) | {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "rasoat.tinh.gov.vn",
        "X-Forwarded-Prefix": "/ra-soat",
    }
    reply = client.get("/formList", headers=headers)
    assert reply.status_code == 200
    assert b"<downloadUrl>https://rasoat.tinh.gov.vn/ra-soat/forms/rasoat_demo/" in reply.data


def test_external_url_setting_is_used_for_every_emitted_url(make_app, database_url, seeded):
    configured = make_app(database_url, EXTERNAL_URL="https://rasoat.example.vn/xa")
    client = configured.test_client()
    reply = client.get(f"/key/{seeded.reviewer_token}/formList")
    text = reply.get_data(as_text=True)
    assert f"https://rasoat.example.vn/xa/key/{seeded.reviewer_token}/forms/rasoat_demo/" in text


@pytest.mark.parametrize(
    "path", ["/formList", "/submission", f"/forms/rasoat_demo/versions/{DEMO_VERSION}.xml"]
)
def test_bad_token_is_403_not_401(client, path):
    reply = client.get(f"/key/{'x' * 43}{path}", headers={"X-OpenRosa-Version": "1.0"})
    assert reply.status_code == 403
    assert "WWW-Authenticate" not in reply.headers
    assert "quét lại mã QR" in reply.get_data(as_text=True)


def test_revoked_token_stops_working(app, client, seeded):
    assert client.get(f"/key/{seeded.reviewer_token}/formList").status_code == 200
    with app.app_context(), write_transaction(db.session):
        for record in db.session.query(DeviceToken).all():
            revoke_device_token(record)
    assert client.get(f"/key/{seeded.reviewer_token}/formList").status_code == 403


def test_form_list_shows_only_forms_assigned_to_the_reviewers_commune(app, seeded):
    other = CollectClient(FlaskTransport(app), "http://rasoat.test", "rsv2", seeded.password)
    assert [e.form_id for e in other.form_list()] == [seeded.other_form_id]
    reply = other.request(
        "GET", f"http://rasoat.test/forms/{seeded.form_id}/versions/{seeded.form_version}.xml"
    )
    assert reply.status == 404  # cannot download another commune's form either


def test_form_list_tolerates_collect_query_parameters_and_filters_by_form_id(client, seeded):
    base = f"/key/{seeded.reviewer_token}/formList"
    for query in ["?deviceID=collect:Xy12&verbose=true&listAllVersions=true", ""]:
        reply = client.get(base + query)
        assert reply.status_code == 200
        assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
        assert reply.headers["Cache-Control"] == "private, no-cache"
        assert reply.headers["ETag"]
    assert b"<formID>" not in client.get(base + "?formID=khac").data
    assert b"<formID>rasoat_demo" in client.get(base + "?formID=rasoat_demo").data
    etag = client.get(base).headers["ETag"]
    assert client.get(base, headers={"If-None-Match": etag}).status_code == 304


def test_head_submission_is_204_with_size_limit(client, seeded):
    reply = client.head(
        f"/key/{seeded.reviewer_token}/submission?deviceID=collect:1",
        headers={"X-OpenRosa-Version": "1.0"},
    )
    assert reply.status_code == 204
    assert reply.headers["X-OpenRosa-Accept-Content-Length"] == "20000000"
    get = client.get(
        f"/key/{seeded.reviewer_token}/submission", headers={"X-OpenRosa-Version": "1.0"}
    )
    assert get.status_code == 204


def test_manifest_lists_media_with_percent_encoded_urls(make_app, database_url, seeded):
    """A media file with a Vietnamese name and a space: raw in <filename>, encoded in the URL."""
    from server.blobs import blob_store
    from server.questionnaires.services import assign_form, publish_form_version

    app = make_app(database_url)
    xform = (
        b'<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"'
        b' xmlns:jr="http://openrosa.org/javarosa"><h:head><h:title>Anh</h:title><model>'
        b'<itext><translation lang="vi"><text id="q:label"><value form="image">'
        + "jr://images/ảnh mẫu.png".encode()
        + b"</value></text></translation></itext>"
        b'<instance><data id="media_form" version="3"><q/><meta><instanceID/></meta></data>'
        b'</instance><bind nodeset="/data/q" type="string"/></model></h:head><h:body>'
        b'<input ref="/data/q"><label ref="jr:itext(\'q:label\')"/></input></h:body></h:html>'
    )
    png = b"\x89PNG fake"
    with app.app_context(), write_transaction(db.session):
        version = publish_form_version(xform, blobs=blob_store(), media={"ảnh mẫu.png": png})
        from server.geography.models import Commune

        assign_form(version.form, db.session.query(Commune).filter_by(code="X1").one(), actor=None)
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    entry = next(e for e in phone.form_list() if e.form_id == "media_form")
    media = phone.manifest(entry)  # fails on unencoded URLs or a bad hash format
    assert [m.filename for m in media] == ["ảnh mẫu.png"]
    assert "%E1%BA%A3nh%20m%E1%BA%ABu.png" in media[0].download_url
    assert phone.download_media(media[0]) == png


def test_officer_fills_own_commune_forms_and_admin_fills_none(app, seeded):
    officer = CollectClient(FlaskTransport(app), "http://rasoat.test", "canbo1", seeded.password)
    assert [e.form_id for e in officer.form_list()] == [seeded.form_id]
    admin = CollectClient(FlaskTransport(app), "http://rasoat.test", "admin1", seeded.password)
    assert admin.form_list() == []
    from tests.instances import demo_instance

    reply = admin.request(
        "POST",
        "http://rasoat.test/submission",
        [("xml_submission_file", "i.xml", demo_instance(photo=None), "text/xml")],
    )
    assert reply.status == 403
    assert "không được gửi phiếu" in reply.message
