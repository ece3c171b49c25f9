"""A form of six photo questions, and a phone sending one submission whose parts are chosen
by the test (file name, bytes, declared content type): the way to probe how attachments are
stored and served (tests/integration/test_attachment_serving.py, the browser's XSS test)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from sqlalchemy import select

from server.blobs import blob_store
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.questionnaires.services import assign_form, publish_form_version
from server.submissions.models import Submission
from tests.collect_client import CollectClient, FlaskTransport, Reply

OCTET = "application/octet-stream"

FORM_ID = "anh_thu"
# Six image questions, so one submission can carry every case.
FIELDS = ("p1", "p2", "p3", "p4", "p5", "p6")

XFORM = (
    """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
        xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>Ảnh thử</h:title>
    <model>
      <instance>
        <data id="anh_thu" version="1">"""
    + "".join(f"<{f}/>" for f in FIELDS)
    + """<meta><instanceID/></meta>
        </data>
      </instance>"""
    + "".join(f'<bind nodeset="/data/{f}" type="binary"/>' for f in FIELDS)
    + """<bind nodeset="/data/meta/instanceID" type="string" readonly="true()"
            jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>"""
    + "".join(
        f'<upload ref="/data/{f}" mediatype="image/*"><label>{f}</label></upload>' for f in FIELDS
    )
    + """</h:body>
</h:html>
"""
).encode()


@dataclass(frozen=True)
class Case:
    """One file part: the question it answers, the name the phone gives it (in the XML answer
    and the multipart file name), the name the server should store it under, its bytes, the
    type the phone declares and the type the server should serve."""

    field: str
    part_name: str
    stored_name: str
    data: bytes
    declared: str
    served: str

    @property
    def inline(self) -> bool:
        return self.served != OCTET


def publish_photo_form(app) -> None:
    with app.app_context(), write_transaction(db.session):
        version = publish_form_version(XFORM, blobs=blob_store())
        assign_form(
            version.form,
            db.session.scalar(select(Commune).where(Commune.code == "X1")),
            actor=None,
        )


def instance(answers: dict[str, str], instance_id: str) -> bytes:
    body = "".join(f"<{f}>{answers.get(f, '')}</{f}>" for f in FIELDS)
    return (
        f'<data id="{FORM_ID}" version="1">{body}'
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()


def send_cases(app, token: str, cases) -> tuple[int | None, Reply]:
    """Send one submission carrying ``cases`` the way Collect does; its id and the reply."""
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{token}")
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = instance({c.field: escape(c.part_name) for c in cases}, instance_id)
    parts = [("xml_submission_file", "instance.xml", xml, "text/xml")]
    parts += [(c.part_name, c.part_name, c.data, c.declared) for c in cases]
    reply = phone.request("POST", f"{phone.server_url}/submission", parts)
    with app.app_context():
        submission_id = db.session.scalar(
            select(Submission.id).where(Submission.instance_id == instance_id)
        )
    return submission_id, reply
