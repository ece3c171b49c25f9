"""Times around midnight UTC are shown in Vietnam time (UTC+7) everywhere people read them: a
questionnaire received at 2026-12-06 17:30 UTC arrived at 00:30 on 07/12/2026 in Vietnam — on
its page, on the review list (and the list's day filters count Vietnam's days), on the
household's page, in the audit log; the village's lists (XLSX and PDF) print no UTC time or
raw date-time at all (no date cell: words are text cells).

The commune is the procedure's (``village`` fixture): four households of village T01, their
Phiếu B received, the lists compiled."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.geography.models import Commune
from server.meetings.models import HouseholdCase
from server.submissions.models import Submission
from tests.integration.procedure import exported_pdf, login
from tests.integration.test_plain_words import page_text, pdf_text
from tests.integration.test_review_pages import (  # noqa: F401  (fixtures)
    _login,
    filled_b,
    world,
)

UTC_MOMENT = datetime(2026, 12, 6, 17, 30)  # naive UTC, as stored
IN_VIETNAM = "07/12/2026 00:30"
CODE = "X1-T01-0101"


def _received_at_midnight(app) -> int:
    """CODE's questionnaire received (and an audit entry about it) at UTC_MOMENT; its id."""
    with app.app_context(), write_transaction(db.session):
        case = db.session.scalar(select(HouseholdCase).where(HouseholdCase.household_code == CODE))
        submission = db.session.get(Submission, case.submission_id)
        submission.created_at = UTC_MOMENT
        commune = db.session.scalar(select(Commune).where(Commune.code == "X1"))
        db.session.add(
            AuditEvent(
                at=UTC_MOMENT,
                action="submission.review_state",
                target_type="submission",
                target_id=str(submission.id),
                commune_id=commune.id,
                province_id=commune.province_id,
                note="Lúc nửa đêm (giờ UTC)",
            )
        )
        return submission.id


def test_times_around_midnight_utc_are_shown_as_the_next_day_in_vietnam(app, village):
    submission_id = _received_at_midnight(app)
    officer = village["officer"]

    page = page_text(officer.get(f"/xa/phieu/{submission_id}").get_data(as_text=True))
    assert IN_VIETNAM in page and "06/12/2026" not in page

    listed = page_text(officer.get("/xa/phieu").get_data(as_text=True))
    assert IN_VIETNAM in listed and "06/12/2026" not in listed
    # The list's days are Vietnam's: received on 07/12 there, not on 06/12.
    on_the_7th = officer.get("/xa/phieu?date_from=2026-12-07&date_to=2026-12-07")
    assert IN_VIETNAM in page_text(on_the_7th.get_data(as_text=True))
    on_the_6th = officer.get("/xa/phieu?date_from=2026-12-06&date_to=2026-12-06")
    assert IN_VIETNAM not in page_text(on_the_6th.get_data(as_text=True))

    household = page_text(officer.get(f"/xa/ho/{CODE}").get_data(as_text=True))
    assert IN_VIETNAM in household and "06/12/2026" not in household

    admin = login(app, "admin1")
    audit = page_text(admin.get("/admin/nhat-ky").get_data(as_text=True))
    assert f"{IN_VIETNAM}:00" in audit and "06/12/2026" not in audit
    on_the_7th = admin.get("/admin/nhat-ky?date_from=2026-12-07&date_to=2026-12-07")
    assert "Lúc nửa đêm (giờ UTC)" in page_text(on_the_7th.get_data(as_text=True))

    # The village's lists: no date-time cell, no UTC time, the cells text.
    url = f"{village['url']}/danh-sach.xlsx"
    book = load_workbook(io.BytesIO(officer.get(url).data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert cells
    assert not [c.coordinate for c in cells if isinstance(c.value, datetime)]
    # Words and dates are text cells (no formula, no date serial); numbers stay numbers.
    assert not [c.coordinate for c in cells if c.value is not None and c.data_type not in "sn"]
    assert not [c.coordinate for c in cells if isinstance(c.value, str) and c.data_type != "s"]
    text = "\n".join(str(c.value) for c in cells if c.value is not None)
    assert CODE in text
    assert "17:30" not in text and "2026-12-06" not in text and "06/12/2026" not in text
    pdf = "\n".join(
        pdf_text(
            exported_pdf(
                officer, "village_lists_pdf", round_id=village["round"], village_code="T01"
            )
        )
    )
    assert CODE in "".join(pdf.split())  # a narrow column may break the code
    assert "17:30" not in pdf and "2026-12-06" not in pdf and "06/12/2026" not in pdf


# A questionnaire's start and end (dateTime preloads) and its review date (a date question), as
# phones store them: another offset than Vietnam's, Vietnam's own, and a bare date.
STARTED = "2026-12-31T18:30:05.123Z"  # 01/01/2027 01:30 in Vietnam
ENDED = "2027-01-01T02:10:00.000+07:00"
REVIEWED = "2026-12-30"


def test_date_and_time_answers_are_shown_in_vietnam_time_not_as_iso(app, world):  # noqa: F811
    with app.app_context(), write_transaction(db.session):
        version = db.session.get(Submission, world["b"]).current_version
        version.fields = version.fields | {
            "start": STARTED,
            "end": ENDED,
            "general/review_date": REVIEWED,
        }
    officer = _login(app, "canbo1")
    # The questionnaire's answers, what the form computed shown too.
    page = page_text(officer.get(f"/xa/phieu/{world['b']}?tinh-toan=1").get_data(as_text=True))
    document = page_text(officer.get("/xa/ho/X1-T01-0001/du-lieu").get_data(as_text=True))
    pdf = "".join("".join(pdf_text(officer.get("/xa/ho/X1-T01-0001/du-lieu.pdf").data)).split())
    for shown in (page, document):
        assert "01/01/2027 01:30" in shown and "01/01/2027 02:10" in shown
        assert "30/12/2026" in shown
        assert STARTED not in shown and ENDED not in shown and REVIEWED not in shown
        assert "T18:30" not in shown and "+07:00" not in shown
    assert "01/01/202701:30" in pdf and "01/01/202702:10" in pdf and "30/12/2026" in pdf
    assert "T18:30" not in pdf and "2026-12-30" not in pdf and "+07:00" not in pdf
