"""Administrators upload XLSForms as drafts, try them through a test URL, publish them; version
and type rules hold; old versions keep accepting until retired; sources stay downloadable."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.questionnaires.models import DraftSubmission
from tests.collect_client import CollectClient, FlaskTransport
from tests.xlsforms import household_form, workbook

HTTPS = "https://rasoat.test"


def _admin(seeded) -> dict[str, str]:
    token = base64.b64encode(f"{seeded.admin}:{seeded.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _upload(client, seeded, xlsx: bytes, media: dict[str, bytes] | None = None):
    data = {"xlsform": (__import__("io").BytesIO(xlsx), "phieu.xlsx")}
    if media:
        data["media"] = [(__import__("io").BytesIO(c), n) for n, c in media.items()]
    return client.post("/api/v1/forms", data=data, headers=_admin(seeded), base_url=HTTPS)


def _instance(hh: str, version: str, age: str = "40", instance_id: str = "uuid:t-1") -> bytes:
    return (
        f'<data id="phieu_thu" version="{version}"><hh>{hh}</hh><village>T02</village>'
        f"<age>{age}</age><meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


SAMPLE_CSV = "name,label,village\nS-1,Hộ mẫu,T01\n".encode()


def test_only_administrators_manage_forms(client, seeded):
    officer = base64.b64encode(f"{seeded.officer}:{seeded.password}".encode()).decode()
    reply = client.get(
        "/api/v1/forms", headers={"Authorization": f"Basic {officer}"}, base_url=HTTPS
    )
    assert reply.status_code == 403
    assert client.get("/api/v1/forms", base_url=HTTPS).status_code == 401


def test_broken_xlsform_is_refused_with_sheet_row_and_vietnamese_message(client, seeded):
    broken = workbook(
        [["type", "name", "label"], ["text", "a", "A"], ["integr", "b", "B"]],
        settings={"form_id": "hong", "version": "1"},
    )
    reply = _upload(client, seeded, broken)
    assert reply.status_code == 400
    problem = reply.json["details"]["problems"][0]
    assert (problem["sheet"], problem["row"]) == ("survey", 3)
    assert problem["message"] == "Sheet 'survey', dòng 3: Loại câu hỏi 'integr' không hợp lệ."
    assert "Traceback" not in reply.get_data(as_text=True)


def test_invalid_expression_is_located_by_javarosa_problem(client, seeded):
    broken = workbook(
        [["type", "name", "label", "constraint"], ["integer", "tuoi", "Tuổi", ". >>> 3"]],
        settings={"form_id": "hong", "version": "1"},
    )
    reply = _upload(client, seeded, broken)
    assert reply.status_code == 400
    problem = reply.json["details"]["problems"][0]
    assert (problem["sheet"], problem["row"]) == ("survey", 2)
    assert "Biểu thức constraint của câu hỏi 'tuoi' không hợp lệ" in problem["message"]


def test_not_an_xlsx_is_a_clear_error(client, seeded):
    reply = _upload(client, seeded, b"this is not a workbook")
    assert reply.status_code == 400
    assert "Không đọc được tệp XLSForm" in reply.json["message"]


def test_draft_is_testable_through_its_own_url_then_published(app, client, seeded):
    reply = _upload(client, seeded, household_form("2026120101"), {"households.csv": SAMPLE_CSV})
    assert reply.status_code == 201, reply.json
    draft = reply.json
    assert draft["version"] == "2026120101"
    assert draft["test_url"].startswith(f"{HTTPS}/test/")

    # Not offered to phones yet.
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    assert "phieu_thu" not in [e.form_id for e in phone.form_list()]

    tester = CollectClient(FlaskTransport(app), draft["test_url"])
    entries = tester.form_list()
    assert [(e.form_id, e.version) for e in entries] == [("phieu_thu", "2026120101")]
    assert entries[0].download_url.startswith(draft["test_url"] + "/forms/")
    tester.download_form(entries[0])
    media = tester.manifest(entries[0])
    assert tester.download_media(media[0]) == SAMPLE_CSV  # the draft gets the sample list
    replies = tester.submit(_instance("S-1", "2026120101"))
    assert [r.status for r in replies] == [201]
    assert "phiếu thử" in replies[0].message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DraftSubmission)) == 1

    published = client.post(
        "/api/v1/forms/phieu_thu/draft/publish", headers=_admin(seeded), base_url=HTTPS
    )
    assert published.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DraftSubmission)) == 0
    assert tester.request("GET", draft["test_url"] + "/formList").status == 403
    assign = client.post(
        "/api/v1/forms/phieu_thu/assignments",
        json={"commune": "X1"},
        headers=_admin(seeded),
        base_url=HTTPS,
    )
    assert assign.status_code == 204
    assert "phieu_thu" in [e.form_id for e in phone.form_list()]


def _publish(client, seeded, xlsx):
    reply = _upload(client, seeded, xlsx)
    assert reply.status_code == 201, reply.json
    assert (
        client.post(
            "/api/v1/forms/phieu_thu/draft/publish", headers=_admin(seeded), base_url=HTTPS
        ).status_code
        == 200
    )


def test_version_must_change_with_content_and_types_may_not_change(client, seeded):
    _publish(client, seeded, household_form("2026120101"))
    same = _upload(client, seeded, household_form("2026120101"))
    assert same.status_code == 409
    assert same.json["code"] == "form.already_published"
    changed = _upload(client, seeded, household_form("2026120101", title="Tiêu đề khác"))
    assert changed.status_code == 409
    assert changed.json["code"] == "form.version_exists"
    assert "phải đổi 'version'" in changed.json["message"]
    retyped = _upload(client, seeded, household_form("2026120102", age_type="text"))
    assert retyped.status_code == 409
    assert retyped.json["code"] == "form.type_changed"
    assert retyped.json["details"]["fields"] == [
        {"path": "/data/age", "was": "int", "now": "string"}
    ]
    assert _upload(client, seeded, household_form("2026120102")).status_code == 201


def test_version_is_set_when_the_xlsform_has_none(client, seeded):
    unversioned = workbook(
        [["type", "name", "label"], ["text", "ghi_chu", "Ghi chú"]],
        settings={"form_id": "khong_version"},
    )
    reply = _upload(client, seeded, unversioned)
    assert reply.status_code == 201
    assert len(reply.json["version"]) == 14 and reply.json["version"].isdigit()


def test_older_version_accepts_until_retired_and_closing_still_accepts(app, client, seeded):
    _publish(client, seeded, household_form("2026120101"))
    client.post(
        "/api/v1/forms/phieu_thu/assignments",
        json={"commune": "X1"},
        headers=_admin(seeded),
        base_url=HTTPS,
    )
    _publish(client, seeded, household_form("2026120102"))
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    listed = {e.form_id: e.version for e in phone.form_list()}
    assert listed["phieu_thu"] == "2026120102"
    old = phone.submit(_instance("X1-T02-0001", "2026120101", instance_id="uuid:old-1"))
    assert [r.status for r in old] == [201]

    retire = client.patch(
        "/api/v1/forms/phieu_thu/versions/2026120101",
        json={"accepting_submissions": False},
        headers=_admin(seeded),
        base_url=HTTPS,
    )
    assert retire.status_code == 204
    refused = phone.submit(_instance("X1-T02-0001", "2026120101", instance_id="uuid:old-2"))
    assert refused[0].status == 409

    closing = client.patch(
        "/api/v1/forms/phieu_thu", json={"state": "closing"}, headers=_admin(seeded), base_url=HTTPS
    )
    assert closing.json["state"] == "closing"
    assert "phieu_thu" not in [e.form_id for e in phone.form_list()]
    accepted = phone.submit(_instance("X1-T02-0001", "2026120102", instance_id="uuid:new-1"))
    assert accepted[-1].status == 201
    bad = client.patch(
        "/api/v1/forms/phieu_thu", json={"state": "mo"}, headers=_admin(seeded), base_url=HTTPS
    )
    assert bad.status_code == 400
    assert "state" in bad.json["details"]


def test_every_version_keeps_its_xlsx_and_xml_downloadable(client, seeded):
    first = household_form("2026120101")
    _publish(client, seeded, first)
    _publish(client, seeded, household_form("2026120102"))
    xlsx = client.get(
        "/api/v1/forms/phieu_thu/versions/2026120101.xlsx", headers=_admin(seeded), base_url=HTTPS
    )
    assert xlsx.status_code == 200
    assert xlsx.data == first
    xml = client.get(
        "/api/v1/forms/phieu_thu/versions/2026120102.xml", headers=_admin(seeded), base_url=HTTPS
    )
    assert b'version="2026120102"' in xml.data
    # An uploaded file: saved by the browser, never sniffed or rendered.
    assert xml.headers["Content-Disposition"].startswith("attachment")
    assert xml.headers["X-Content-Type-Options"] == "nosniff"
    listing = client.get("/api/v1/forms/phieu_thu", headers=_admin(seeded), base_url=HTTPS).json
    assert [v["version"] for v in listing["versions"]] == ["2026120101", "2026120102"]
    assert listing["current_version"] == "2026120102"


@pytest.mark.parametrize("field", ["xlsform", None])
def test_upload_without_file_is_400(client, seeded, field):
    data = {field: (__import__("io").BytesIO(b""), "")} if field else {}
    reply = client.post("/api/v1/forms", data=data, headers=_admin(seeded), base_url=HTTPS)
    assert reply.status_code == 400
    assert reply.json["code"] == "form.no_file"
