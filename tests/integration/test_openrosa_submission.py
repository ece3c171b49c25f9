"""Submission ingest rules (duplicates, conflicts, edits, split uploads, missing files) and the
errors Collect shows the reviewer, through the Flask test client on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.db import write_transaction
from server.extensions import db
from server.questionnaires.models import FormState, FormVersion
from server.questionnaires.services import get_form, set_form_state
from server.submissions.models import Submission, SubmissionAttachment, SubmissionVersion
from tests.collect_client import CollectClient, FlaskTransport
from tests.instances import demo_instance, jpeg_bytes, new_instance_id

BASE = "http://rasoat.test"


@pytest.fixture
def phone(app, seeded) -> CollectClient:
    return CollectClient(FlaskTransport(app), f"{BASE}/key/{seeded.reviewer_token}")


def post(phone: CollectClient, xml: bytes, files: dict[str, bytes] | None = None, **extra):
    parts = [("xml_submission_file", "instance.xml", xml, "text/xml")]
    parts += [(n, n, c, "image/jpeg") for n, c in (files or {}).items()]
    parts += [(k, None, v.encode(), None) for k, v in extra.items()]
    return phone.request("POST", f"{phone.server_url}/submission", parts)


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Submission)),
            db.session.scalar(select(func.count()).select_from(SubmissionVersion)),
        )


# --- rejections first ----------------------------------------------------------------------


def test_post_without_xml_part_is_rejected_400(app, phone):
    reply = phone.request("POST", f"{phone.server_url}/submission", [("x", "x.jpg", b"1", None)])
    assert reply.status == 400
    assert "xml_submission_file" in reply.message
    assert counts(app) == (0, 0)


def test_malformed_xml_is_rejected_with_vietnamese_message(app, phone):
    reply = post(phone, b"<data id='rasoat_demo'><village>T01</data>")
    assert reply.status == 400
    assert reply.message.startswith("Tệp phiếu (submission) không phải XML hợp lệ")
    assert counts(app) == (0, 0)


def test_unknown_form_is_404(app, phone):
    reply = post(phone, demo_instance(form_id="khong_co"))
    assert reply.status == 404
    assert "khong_co" in reply.message
    assert counts(app) == (0, 0)


def test_unknown_form_version_is_404_with_update_hint(app, phone):
    reply = post(phone, demo_instance(version="1999"))
    assert reply.status == 404
    assert "Hãy tải lại biểu mẫu mới" in reply.message


def test_retired_form_version_is_409(app, phone, seeded):
    with app.app_context(), write_transaction(db.session):
        form = get_form(seeded.form_id)
        db.session.scalar(
            select(FormVersion).where(FormVersion.form_id == form.id)
        ).accepting_submissions = False
    reply = post(phone, demo_instance())
    assert reply.status == 409
    assert "không còn được nhận" in reply.message
    assert counts(app) == (0, 0)


def test_closed_form_refuses_and_closing_form_accepts(app, phone, seeded):
    with app.app_context(), write_transaction(db.session):
        set_form_state(get_form(seeded.form_id), FormState.CLOSING, actor=None)
    assert (
        post(
            phone,
            demo_instance(),
        ).status
        == 201
    )
    assert phone.form_list() == []  # closing: no longer offered for download
    with app.app_context(), write_transaction(db.session):
        set_form_state(get_form(seeded.form_id), FormState.CLOSED, actor=None)
    reply = post(phone, demo_instance())
    assert reply.status == 409
    assert "đã đóng" in reply.message
    assert counts(app) == (1, 1)


def test_wrong_root_element_is_400(app, phone):
    reply = post(phone, demo_instance(root="ho_gia_dinh"))
    assert reply.status == 400
    assert "<ho_gia_dinh>" in reply.message
    assert counts(app) == (0, 0)


def test_missing_instance_id_is_400(app, phone):
    xml = demo_instance("uuid:x").replace(b"<instanceID>uuid:x</instanceID>", b"")
    reply = post(phone, xml)
    assert reply.status == 400
    assert "instanceID" in reply.message


def test_form_of_another_commune_is_403(app, seeded):
    phone = CollectClient(FlaskTransport(app), BASE, "rsv2", seeded.password)
    reply = post(phone, demo_instance())
    assert reply.status == 403
    assert counts(app) == (0, 0)


def test_reviewer_limited_to_a_village_cannot_submit_for_another(app, seeded):
    phone = CollectClient(FlaskTransport(app), BASE, seeded.village_reviewer, seeded.password)
    assert post(phone, demo_instance(village="T01")).status == 403
    assert post(phone, demo_instance(village="T02")).status == 201


def test_reviewer_of_one_village_gets_it_stamped_without_choosing(app, seeded):
    phone = CollectClient(FlaskTransport(app), BASE, seeded.village_reviewer, seeded.password)
    instance_id = new_instance_id()
    assert post(phone, demo_instance(instance_id, village="")).status == 201
    with app.app_context():
        submission = db.session.scalar(
            select(Submission).where(Submission.instance_id == instance_id)
        )
        assert submission.village.code == "T02"


def test_missing_openrosa_version_header_is_400(app, seeded):
    client = app.test_client(use_cookies=False)
    reply = client.post(
        f"/key/{seeded.reviewer_token}/submission",
        data={"xml_submission_file": (__import__("io").BytesIO(demo_instance()), "i.xml")},
    )
    assert reply.status_code == 400
    assert b"X-OpenRosa-Version" in reply.data


# --- the decision table ---------------------------------------------------------------------


def test_identical_resend_is_accepted_and_stored_once(app, phone):
    xml = demo_instance(photo=None)
    assert post(phone, xml).status == 201
    again = post(phone, xml)
    assert again.status == 202
    assert "đã được nhận trước đó" in again.message
    assert counts(app) == (1, 1)


def test_same_instance_id_with_different_xml_is_409_and_keeps_the_first(app, phone):
    instance_id = new_instance_id()
    first = demo_instance(instance_id, head="Nguyễn Văn A")
    assert post(phone, first).status == 201
    reply = post(phone, demo_instance(instance_id, head="Nguyễn Văn B"))
    assert reply.status == 409
    assert "nội dung khác" in reply.message
    with app.app_context():
        version = db.session.scalar(select(SubmissionVersion))
        assert version.fields["hh_head"] == "Nguyễn Văn A"


def test_same_instance_id_in_another_form_is_a_different_submission(app, phone, seeded):
    """instanceID uniqueness is per form."""
    instance_id = new_instance_id()
    assert post(phone, demo_instance(instance_id)).status == 201
    other_phone = CollectClient(FlaskTransport(app), BASE, "rsv2", seeded.password)
    other = (
        '<data id="other_form" version="1"><note_text>x</note_text>'
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()
    assert post(other_phone, other).status == 201
    assert counts(app) == (2, 2)


def test_missing_attachment_is_tracked_and_completed_by_a_later_post(app, phone):
    instance_id = new_instance_id()
    xml = demo_instance(instance_id, photo="nha.jpg")
    first = post(phone, xml)
    assert first.status == 201
    assert "Còn thiếu 1 tệp: nha.jpg" in first.message
    with app.app_context():
        version = db.session.scalar(select(SubmissionVersion))
        assert (version.attachments_expected, version.attachments_present) == (1, 0)
        assert version.missing_attachments == ["nha.jpg"]
    later = post(phone, xml, {"nha.jpg": jpeg_bytes()})
    assert later.status == 201
    assert "thiếu" not in later.message
    with app.app_context():
        version = db.session.scalar(select(SubmissionVersion))
        assert (version.attachments_expected, version.attachments_present) == (1, 1)
    assert counts(app) == (1, 1)


def test_split_upload_marked_incomplete_is_assembled(app, phone):
    xml = demo_instance(photo="a.jpg")
    assert post(phone, xml, **{"*isIncomplete*": "yes"}).status == 201
    assert post(phone, xml, {"a.jpg": jpeg_bytes(3)}).status == 201
    with app.app_context():
        assert db.session.scalar(select(SubmissionAttachment)).blob_sha256 is not None
    assert counts(app) == (1, 1)


def test_files_the_xml_does_not_name_are_ignored(app, phone):
    assert post(phone, demo_instance(photo=None), {"stray.jpg": jpeg_bytes()}).status == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SubmissionAttachment)) == 0


def test_edit_with_deprecated_id_creates_a_version_and_carries_files(app, phone):
    original_id = new_instance_id()
    photo = jpeg_bytes(5)
    assert post(phone, demo_instance(original_id, photo="p.jpg"), {"p.jpg": photo}).status == 201
    edit_id = new_instance_id()
    reply = post(
        phone, demo_instance(edit_id, head="Nguyễn Văn Á", photo="p.jpg", deprecated_id=original_id)
    )
    assert reply.status == 201
    assert "bản sửa" in reply.message
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        assert submission.instance_id == original_id
        assert submission.review_state == "edited"
        assert [v.instance_id for v in submission.versions] == [original_id, edit_id]
        assert [v.current for v in submission.versions] == [False, True]
        current = submission.current_version
        assert current.fields["hh_head"] == "Nguyễn Văn Á"
        assert current.missing_attachments == []
    assert counts(app) == (1, 2)


def test_edit_of_a_stale_copy_is_409(app, phone):
    original_id = new_instance_id()
    assert post(phone, demo_instance(original_id, photo=None)).status == 201
    assert (
        post(phone, demo_instance(new_instance_id(), photo=None, deprecated_id=original_id)).status
        == 201
    )
    reply = post(phone, demo_instance(new_instance_id(), photo=None, deprecated_id=original_id))
    assert reply.status == 409
    assert "đã cũ" in reply.message
    assert counts(app) == (1, 2)


def test_edit_of_an_unknown_submission_is_404(app, phone):
    reply = post(phone, demo_instance(deprecated_id="uuid:khong-co"))
    assert reply.status == 404
    assert counts(app) == (0, 0)


def test_submission_without_xml_declaration_is_accepted(app, phone):
    assert post(phone, demo_instance(declaration=False, photo=None)).status == 201


def test_submission_with_xforms_default_namespace_is_accepted(app, phone):
    xml = demo_instance(photo=None).replace(
        b"<data ", b'<data xmlns="http://www.w3.org/2002/xforms" ', 1
    )
    assert post(phone, xml).status == 201


def test_top_level_village_field_wins_over_one_in_a_group():
    from server.submissions.services import _village_code

    assert _village_code({"grp/village": "T03", "village": "T02"}) == "T02"
    assert _village_code({"grp/village": "T03"}) == "T03"
    assert _village_code({"members[1]/village": "T03"}) is None
