"""The staff JSON API over submissions: missing attachments are visible; scope is enforced."""

from __future__ import annotations

import base64

from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import demo_instance, jpeg_bytes, new_instance_id


def _basic(username: str, password: str) -> dict[str, str]:
    return {
        "Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    }


def _send(app, seeded, xml, files=None):
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    parts = [("xml_submission_file", "i.xml", xml, "text/xml")]
    parts += [(n, n, c, "image/jpeg") for n, c in (files or {}).items()]
    return phone.request("POST", f"{phone.server_url}/submission", parts)


def test_api_requires_staff_credentials(client, seeded):
    assert client.get("/api/v1/submissions").status_code == 401
    reviewer = _basic("rsv1", seeded.reviewer_password)
    reply = client.get("/api/v1/submissions", headers=reviewer, base_url="https://r.test")
    assert reply.status_code == 403
    assert reply.json["code"] == "auth.forbidden"


def test_officer_sees_missing_attachments_and_filters_on_them(app, client, seeded):
    complete, incomplete = new_instance_id(), new_instance_id()
    _send(app, seeded, demo_instance(complete, photo="a.jpg"), {"a.jpg": jpeg_bytes()})
    _send(app, seeded, demo_instance(incomplete, photo="b.jpg"))
    headers = _basic(seeded.officer, seeded.password)
    listing = client.get("/api/v1/submissions", headers=headers, base_url="https://r.test").json
    assert [i["instance_id"] for i in listing["items"]] == [complete, incomplete]
    missing = client.get(
        "/api/v1/submissions?missing_attachments=true", headers=headers, base_url="https://r.test"
    ).json["items"]
    assert [i["instance_id"] for i in missing] == [incomplete]
    assert missing[0]["current"]["missing_attachments"] == ["b.jpg"]
    detail = client.get(
        f"/api/v1/submissions/{missing[0]['id']}", headers=headers, base_url="https://r.test"
    ).json
    assert detail["attachments"] == [
        {"name": "b.jpg", "present": False, "size": None, "content_type": None, "received_at": None}
    ]
    assert detail["fields"]["hh_head"] == "Nguyễn Văn A"


def test_invalid_query_is_400_with_field_errors(client, seeded):
    reply = client.get(
        "/api/v1/submissions?limit=0&review_state=nope",
        headers=_basic(seeded.officer, seeded.password),
        base_url="https://r.test",
    )
    assert reply.status_code == 400
    assert set(reply.json["details"]) == {"limit", "review_state"}


def test_officer_of_another_commune_sees_nothing(app, client, seeded):
    from server.accounts.models import Role
    from server.accounts.services import create_user
    from server.db import write_transaction
    from server.extensions import db
    from server.geography.models import Commune

    _send(app, seeded, demo_instance(photo=None))
    with app.app_context(), write_transaction(db.session):
        create_user(
            username="canbo2",
            display_name="Cán bộ xã Hai",
            role=Role.OFFICER,
            password="matkhau-456",
            commune=db.session.query(Commune).filter_by(code="X2").one(),
        )
    headers = _basic("canbo2", "matkhau-456")
    assert (
        client.get("/api/v1/submissions", headers=headers, base_url="https://r.test").json["items"]
        == []
    )
    own = client.get(
        "/api/v1/submissions",
        headers=_basic(seeded.officer, seeded.password),
        base_url="https://r.test",
    ).json["items"]
    assert (
        client.get(
            f"/api/v1/submissions/{own[0]['id']}", headers=headers, base_url="https://r.test"
        ).status_code
        == 404
    )
    admin = client.get(
        "/api/v1/submissions",
        headers=_basic(seeded.admin, seeded.password),
        base_url="https://r.test",
    ).json["items"]
    assert len(admin) == 1
