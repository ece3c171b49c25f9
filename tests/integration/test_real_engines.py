"""Submissions produced by real ODK software, end to end.

The shipped questionnaires are compiled by pyxform and validated by JavaRosa (ODK Validate);
the ODK Web Forms engine fills the demo form — choosing the village from the form's CSV
attachment, adding repeat instances, attaching a photo — and the instance it serialises is
re-opened by JavaRosa as Collect would, then sent over HTTP as Collect sends it.
"""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from server.extensions import db
from server.questionnaires.sources import XLSFORMS_DIR, compile_source, load_sources
from server.submissions.models import SubmissionVersion, SubmissionXml
from tests.collect_client import CollectClient, FlaskTransport, HttpTransport
from tests.engines import javarosa, webforms
from tests.instances import jpeg_bytes

SOURCES = load_sources()


@pytest.mark.parametrize("source", SOURCES, ids=[s.name for s in SOURCES])
def test_shipped_xlsform_compiles_validates_and_matches_forms_dir(source):
    compiled = compile_source(source, validate=True)  # ODK Validate runs JavaRosa
    assert source.compiled_path.read_bytes() == compiled.xform, (
        f"forms/{source.name}.xml is stale: run `flask --app wsgi forms compile`"
    )
    javarosa.validate_form(source.compiled_path)


def _fill_demo(tmp_path, photo) -> webforms.FilledInstance:
    source = next(s for s in SOURCES if s.name == "rasoat_demo")
    photo_path = tmp_path / "nha chu ho.jpg"
    photo_path.write_bytes(photo)
    steps = [
        {"op": "select", "ref": "/data/village", "value": "T02"},  # from villages.csv
        {"op": "set", "ref": "/data/hh_head", "value": "Đinh Thị Hờ"},
        {"op": "repeat_count", "ref": "/data/members", "count": 3},
        {"op": "set", "ref": "/data/members[1]/name", "value": "Đinh Thị Hờ"},
        {"op": "set", "ref": "/data/members[1]/age", "value": "37"},
        {"op": "select", "ref": "/data/members[1]/sex", "value": "2"},
        {"op": "set", "ref": "/data/members[2]/name", "value": "A Quang"},
        {"op": "set", "ref": "/data/members[2]/age", "value": "15"},
        {"op": "select", "ref": "/data/members[2]/sex", "value": "1"},
        {"op": "set", "ref": "/data/members[3]/name", "value": "Y Lan"},
        {"op": "set", "ref": "/data/members[3]/age", "value": "6"},
        {"op": "select", "ref": "/data/members[3]/sex", "value": "2"},
        {"op": "attach", "ref": "/data/house_photo", "file": str(photo_path)},
    ]
    return webforms.fill_form(
        source.compiled_path,
        steps,
        tmp_path / "out",
        attachments_dir=XLSFORMS_DIR / "rasoat_demo-media",
    )


@pytest.mark.parametrize("transport", ["flask", "gunicorn"])
def test_instance_filled_by_web_forms_engine_is_valid_and_accepted(
    request, transport, app, seeded, tmp_path
):
    webforms.ensure_installed()
    photo = jpeg_bytes(7, 4000)
    filled = _fill_demo(tmp_path, photo)
    # JavaRosa re-opens the instance against the form, with its CSV, as Collect does.
    assert (
        javarosa.check_instance(
            next(s for s in SOURCES if s.name == "rasoat_demo").compiled_path,
            filled.xml,
            XLSFORMS_DIR / "rasoat_demo-media",
        )
        == filled.instance_id
    )

    if transport == "flask":
        base, channel = "http://rasoat.test", FlaskTransport(app)
    else:
        base, channel = request.getfixturevalue("live_server").url, HttpTransport()
    collect = CollectClient(channel, f"{base}/key/{seeded.reviewer_token}")
    files = {name: path.read_bytes() for name, path in filled.files.items()}
    replies = collect.submit(filled.xml, files)
    assert [r.status for r in replies] == [201], replies[0].body

    photo_name = etree.fromstring(filled.xml).findtext("house_photo")
    with app.app_context():
        version = db.session.scalar(
            select(SubmissionVersion).where(SubmissionVersion.instance_id == filled.instance_id)
        )
        assert db.session.get(SubmissionXml, version.id).xml == filled.xml
        assert version.fields["members[3]/name"] == "Y Lan"
        assert version.fields["members[2]/age"] == "15"
        assert version.submission.village.code == "T02"
        assert [a.name for a in version.attachments] == [photo_name]
        assert version.missing_attachments == []
        blob = app.extensions["rasoat.blobs"].read(version.attachments[0].blob_sha256)
        assert blob == photo
