"""A household's own data (issue 14): the officer opens, for a household, one page and one PDF of
everything held about it — every stored answer of every questionnaire in the form's words
(computed fields too), its files, its verdicts and procedure, who did what — and records the
corrections made at its request; each look and each correction is in the audit log; a village
head cannot produce it; a refused correction comes back with what was typed."""

from __future__ import annotations

import html
import io
import re

from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.questionnaires.labels import form_labels, labelled_answers
from server.submissions.models import Submission
from tests.integration.procedure import add_village_heads, csrf
from tests.integration.test_review_pages import (  # noqa: F401  (fixtures)
    _login,
    filled_b,
    world,
)

CODE = "X1-T01-0001"
URL = f"/xa/ho/{CODE}/du-lieu"


def _stored_rows(app, submission_id):
    with app.app_context():
        version = db.session.get(Submission, submission_id).current_version
        labels = form_labels(version.form_version.xform, "vi")
        rows = labelled_answers(labels, version.fields, include_calculated=True)
        names = [a.name for a in version.attachments]
        fields = dict(version.fields)
    return [r for r in rows if r.kind == "answer"], names, fields


def _actions(app, action):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def test_the_page_and_the_pdf_hold_every_stored_answer(app, world):  # noqa: F811
    officer = _login(app, "canbo1")
    # Looks recorded before: the household page and the questionnaire's answers.
    assert officer.get(f"/xa/ho/{CODE}").status_code == 200
    assert officer.get(f"/xa/phieu/{world['b']}").status_code == 200
    reply = officer.get(URL)
    assert reply.status_code == 200
    page = html.unescape(reply.get_data(as_text=True))
    rows, names, fields = _stored_rows(app, world["b"])
    assert len(rows) >= 50
    # Every stored value is on the page: each answer row with its label and its words.
    text = re.sub(r"\s+", " ", page)
    for row in rows:
        shown = re.sub(r"\s+", " ", row.display or "")
        assert re.sub(r"\s+", " ", row.label) in text, row.path
        assert shown in text, (row.path, shown)
    assert len([v for v in fields.values() if v not in (None, "")]) <= len(rows)
    for name in names:
        assert name in page
    assert "Hộ nghèo" in page  # last year's status in words
    looks = etree.HTML(reply.get_data(as_text=True)).xpath("//table[@data-accesses]//tr/td[3]")
    seen = {" ".join(td.itertext()) for td in looks}
    assert {"Trang hộ (các năm)", "Câu trả lời của phiếu"} <= seen, seen
    assert [e.after["format"] for e in _actions(app, "household.data_report")] == ["page"]

    pdf = officer.get(f"{URL}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    flat = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert "DỮLIỆUCÁNHÂNCỦAHỘGIAĐÌNH" in flat and CODE in flat and "AThút" in flat
    missing = [r.path for r in rows if r.display and re.sub(r"\s+", "", r.display) not in flat]
    assert missing == []
    assert [e.after["format"] for e in _actions(app, "household.data_report")] == [
        "page",
        "pdf",
    ]


def test_a_correction_is_recorded_or_refused_with_what_was_typed(app, world):  # noqa: F811
    officer = _login(app, "canbo1")
    token = csrf(officer.get(URL).get_data(as_text=True))
    typed = {
        "requested_on": "2026-12-01",
        "requested_by": "A Thút",
        "request": "Tên con thứ hai ghi sai dấu: Y Nga, không phải Y Ngà",
        "action": "",
    }
    refused = officer.post(
        f"{URL.rsplit('/', 1)[0]}/sua-thong-tin", data=typed | {"csrf_token": token}
    )
    assert refused.status_code == 400
    tree = etree.HTML(refused.get_data(as_text=True))
    assert "Hãy ghi việc xã đã sửa." in "".join(tree.xpath("//*[@role='alert']//text()"))
    assert tree.xpath("//input[@name='requested_by']/@value") == ["A Thút"]
    assert tree.xpath("//textarea[@name='request']/text()") == [typed["request"]]
    assert _actions(app, "household.correction") == []

    typed["action"] = "Đã sửa tên trong sổ hộ; rà soát viên sửa phiếu trên điện thoại"
    done = officer.post(
        f"{URL.rsplit('/', 1)[0]}/sua-thong-tin", data=typed | {"csrf_token": token}
    )
    assert done.status_code == 302
    page = html.unescape(officer.get(URL).get_data(as_text=True))
    assert typed["request"] in page and typed["action"] in page and "01/12/2026" in page
    [event] = _actions(app, "household.correction")
    assert event.after["request"] == typed["request"] and event.target_id == CODE
    flat = re.sub(
        r"\s+",
        "",
        "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(officer.get(f"{URL}.pdf").data)).pages
        ),
    )
    assert re.sub(r"\s+", "", typed["action"]) in flat

    # A date after today, a name too long: refused, nothing recorded.
    for bad in ({"requested_on": "2099-01-01"}, {"requested_by": "x" * 201}):
        reply = officer.post(
            f"{URL.rsplit('/', 1)[0]}/sua-thong-tin", data=typed | bad | {"csrf_token": token}
        )
        assert reply.status_code == 400
    assert len(_actions(app, "household.correction")) == 1


def test_a_village_head_cannot_produce_a_households_data(app, world):  # noqa: F811
    add_village_heads(app, {"tt.t01": "T01"})
    head = _login(app, "tt.t01")
    assert head.get(URL).status_code == 403
    assert head.get(f"{URL}.pdf").status_code == 403
    household = head.get(f"/xa/ho/{CODE}").get_data(as_text=True)
    assert 'id="household-data-link"' not in household
    assert _actions(app, "household.data_report") == []
