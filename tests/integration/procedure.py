"""A commune in the middle of its review, shared by the procedure tests (village meetings,
posting, complaints, decisions): four registry households of village T01 with their 2025
statuses, Phiếu B instances filled by the ODK Web Forms engine and sent like Collect, a review
round opened and its lists compiled through the pages."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from server.extensions import db
from server.households.models import HouseholdStatus
from server.meetings.models import HouseholdCase
from tests.collect_client import CollectClient, FlaskTransport

# Four households of village T01 and what they were recognised as in 2025.
HOUSEHOLDS = {
    "X1-T01-0101": ("Nguyễn Văn Lâm", HouseholdStatus.POOR),
    "X1-T01-0102": ("Y Blăng", HouseholdStatus.NEAR_POOR),
    "X1-T01-0103": ("A Khoa", None),
    "X1-T01-0104": ("Siu H'Nga", HouseholdStatus.POOR),
}


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(app, username):
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": "matkhau-123", "csrf_token": token}
    )
    assert reply.status_code == 302
    return browser


def post_form(browser, url, data):
    token = csrf(browser.get("/xa/ra-soat").get_data(as_text=True))
    return browser.post(url, data={**data, "csrf_token": token})


def as_household(instance, code: str) -> tuple[bytes, dict]:
    """The filled instance, for another household of the registry, as a new submission."""
    original = re.search(rb"<hh_code>([^<]*)</hh_code>", instance.xml).group(1)
    xml = instance.xml.replace(original, code.encode()).replace(
        instance.instance_id.encode(), f"uuid:{uuid.uuid4()}".encode()
    )
    return xml, {name: path.read_bytes() for name, path in instance.files.items()}


def send(app, seeded, instance, code):
    phone = CollectClient(FlaskTransport(app), f"http://rasoat.test/key/{seeded.reviewer_token}")
    xml, files = as_household(instance, code)
    assert [r.status for r in phone.submit(xml, files)] == [201]


def case_rows(app, round_id: int | None = None) -> dict[str, HouseholdCase]:
    """The cases (of one round, or all) by household code."""
    with app.app_context():
        query = select(HouseholdCase).order_by(HouseholdCase.id)
        if round_id is not None:
            query = query.where(HouseholdCase.round_id == round_id)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return {c.household_code: c for c in rows}


def meeting_form(attendees: int, agree: dict[str, int], app, front="yes", **extra):
    cases = case_rows(app)
    data = {
        "held_on": "2026-11-20",
        "place": "Nhà văn hóa thôn Một",
        "chair": "Rơ Mah Hiền",
        "secretary": "Lê Thị Hoa",
        "attendees": str(attendees),
        "fatherland_front_present": front,
        "fatherland_front_representative": "Đinh Văn Tư",
        **extra,
    }
    for code, n in agree.items():
        data[f"agree_{cases[code].id}"] = str(n)
    return data
