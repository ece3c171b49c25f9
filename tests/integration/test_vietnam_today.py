""" "Today" is Vietnam's day, whatever the server's clock zone: at 18:30 UTC on 31 December 2026
it is 01:30 on 1 January 2027 in Vietnam, so the pages pre-fill 01/01/2027 and the year 2027
(the meeting's date, the new round's year, the retention dry run's day, the days left to a
monthly review's deadline), and a household's request dated 01/01/2027 is not "after today".

The clock is frozen where every "today" reads it (``server.i18n.clock``), after the fixtures
have run (they send questionnaires at the real time)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

from lxml import etree
from sqlalchemy import select

from server import i18n
from server.audit.models import AuditEvent
from server.db import write_transaction
from server.extensions import db
from server.meetings.models import ReviewRound
from tests.integration.procedure import csrf, login, open_monthly_round
from tests.integration.test_review_pages import (  # noqa: F401  (fixtures)
    _login,
    filled_b,
    world,
)

NEW_YEARS_EVE_UTC = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)  # 01/01/2027 01:30 in Vietnam


def _freeze(monkeypatch, moment: datetime = NEW_YEARS_EVE_UTC) -> None:
    monkeypatch.setattr(i18n, "clock", lambda: moment)


def _value(page: str, name: str) -> str:
    [value] = etree.HTML(page).xpath(f"//input[@name='{name}']/@value")
    return value


def test_forms_are_pre_filled_with_vietnams_date_and_year(app, village, monkeypatch):
    officer = village["officer"]
    _freeze(monkeypatch)
    # The village's meeting: held today (in Vietnam).
    meeting = officer.get(village["url"]).get_data(as_text=True)
    assert _value(meeting, "held_on") == "2027-01-01"
    # A new round: this year (in Vietnam).
    rounds = officer.get("/xa/ra-soat").get_data(as_text=True)
    assert _value(rounds, "year") == "2027"
    # The province's retention page: the dry run counts up to today (in Vietnam).
    retention = html.unescape(login(app, "admin1").get("/admin/luu-tru").get_data(as_text=True))
    assert _value(retention, "ngay") == "2027-01-01"
    assert "Chạy thử: sẽ xoá gì vào ngày 01/01/2027" in retention
    assert "31/12/2026" not in retention


def test_days_left_to_a_monthly_deadline_count_from_vietnams_day(app, village, monkeypatch):
    officer = village["officer"]
    monthly = open_monthly_round(officer)
    round_id = int(monthly.rsplit("/", 1)[-1])
    with app.app_context(), write_transaction(db.session):
        db.session.get(ReviewRound, round_id).deadline = date(2027, 1, 5)
    _freeze(monkeypatch)
    page = html.unescape(officer.get(f"{monthly}/quyet-dinh").get_data(as_text=True))
    # 5 January less 1 January: 4 days (the UTC day, 31 December, would say 5).
    assert "Hạn: 05/01/2027 — còn 4 ngày" in re.sub(r"\s+", " ", page)
    assert 'value="2027-01-01"' in page  # the date a decision is signed, pre-filled


def test_a_households_request_of_vietnams_today_is_not_after_today(app, world, monkeypatch):  # noqa: F811
    officer = _login(app, "canbo1")
    url = "/xa/ho/X1-T01-0001/du-lieu"
    _freeze(monkeypatch)
    page = officer.get(url).get_data(as_text=True)
    assert _value(page, "requested_on") == "2027-01-01"
    typed = {
        "requested_on": "2027-01-01",
        "requested_by": "A Thút",
        "request": "Sửa năm sinh của chủ hộ",
        "action": "Đã sửa trong sổ hộ",
        "csrf_token": csrf(page),
    }
    done = officer.post("/xa/ho/X1-T01-0001/sua-thong-tin", data=typed)
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "household.correction")
        )
    # The day after Vietnam's today is still refused.
    refused = officer.post(
        "/xa/ho/X1-T01-0001/sua-thong-tin", data=typed | {"requested_on": "2027-01-02"}
    )
    assert refused.status_code == 400
