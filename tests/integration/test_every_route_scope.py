"""Every staff page route, taken from the application's URL map (so a route added later is
covered, or this test fails on its unknown parameter): with a commune carried through the whole
procedure — submissions, meeting, posting, complaint and re-check, decision and certificates, a
monthly round with a refusal, an export — its own officer opens every page (proving the ids are
real), while an officer and a village head of another commune get 404 or 403 on every route,
GET and POST, and change nothing."""

from __future__ import annotations

import io
import re

import pytest
from flask import url_for
from openpyxl import load_workbook
from sqlalchemy import func, select

from server.access.models import AccessRecord
from server.accounts.models import Role
from server.accounts.services import create_user
from server.audit.models import AuditEvent
from server.db import write_transaction
from server.decisions.models import Certificate, Refusal
from server.exports import runner
from server.extensions import db
from server.geography.models import Commune, Province
from server.households.models import Household, HouseholdImport
from server.meetings.models import HouseholdCase, ReviewRound, VillageMeeting
from server.publication.models import Complaint, Posting
from server.submissions.models import Submission
from tests.integration.procedure import (
    HOUSEHOLDS,
    add_other_province,
    add_village_heads,
    case_rows,
    csrf,
    login,
    meeting_form,
    open_monthly_round,
    post_form,
)

# Pages over one commune's data, and pages only province administrators may open.
COMMUNE_PAGES = (
    "review",
    "workspace",
    "household_import",
    "meetings",
    "publication",
    "decisions",
    "exports",
    "reports",
    "maps",
    "household_data",
)
ADMIN_PAGES = (
    "audit",
    "access",
    "forms_admin",
    "b1_admin",
    "user_admin",
    "privacy_admin",
    "retention",
)
# Blueprints with both: their /admin/… routes are the administrators'.
MIXED_PAGES = ("approvals",)


def _walk_the_procedure(app, village) -> dict[str, object]:
    """The commune through every step; the ids of what each step made."""
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    voted = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    data = meeting_form(30, dict.fromkeys(voted, 30), app)
    assert post_form(officer, f"{village['url']}/hop-dan", data).status_code == 302
    post_form(officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"})
    target = case_rows(app)["X1-T01-0101"]
    post_form(
        officer,
        f"{base}/khieu-nai",
        {"case_id": target.id, "received_on": "2026-11-25", "complainant": "A", "content": "B"},
    )
    with app.app_context():
        complaint_id = db.session.scalar(select(Complaint.id))
    post_form(
        officer,
        f"{base}/khieu-nai/{complaint_id}/phuc-tra",
        {
            "rechecked_on": "2026-11-26",
            "rechecked_by": "Ban Chỉ đạo xã",
            "result": "Đúng như rà soát",
            "outcome": "giu_nguyen",
        },
    )
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "125/QĐ-UBND", "signed_on": "2026-12-02", "signer_name": "Hồ Văn Nam"},
    )
    monthly = open_monthly_round(officer)
    post_form(officer, f"{monthly}/lap-danh-sach", {})
    monthly_id = int(monthly.rsplit("/", 1)[-1])
    with app.app_context():
        case_id = db.session.scalar(
            select(HouseholdCase.id).where(HouseholdCase.round_id == monthly_id)
        )
    post_form(
        officer,
        f"{monthly}/tu-choi",
        {"case_id": case_id, "reason": "Không thiếu hụt", "answered_on": "2026-12-04"}
        | {"signer_name": "Hồ Văn Nam"},
    )
    # A household list uploaded for the preview (not confirmed): its page is the uploader's.
    token = csrf(officer.get("/xa/nhap-ho").get_data(as_text=True))
    listed = "Mã hộ,Thôn,Họ tên chủ hộ,Tình trạng năm trước\nX1-T01-0999,T01,Hộ nhập thử,Hộ nghèo\n"
    reply = officer.post(
        "/xa/nhap-ho",
        data={
            "csrf_token": token,
            "commune": "X1",
            "year": "2025",
            "file": (io.BytesIO(listed.encode()), "ds.csv"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302, reply.status_code
    import_token = reply.headers["Location"].rsplit("/", 1)[-1]
    reply = post_form(officer, "/xuat", {"round_id": str(village["round"]), "format": "xlsx"})
    job_id = int(re.fullmatch(r".*/xuat/(\d+)", reply.headers["Location"]).group(1))
    assert runner.join_threads(120)
    with app.app_context():
        attachment = next(
            (
                (a.name, s.id)
                for s in db.session.scalars(select(Submission).order_by(Submission.id))
                for a in s.current_version.attachments
                if a.blob_sha256
            ),
            None,
        )
        ids = {
            "round_id": village["round"],
            "monthly_round_id": monthly_id,
            "village_code": "T01",
            "code": "X1-T01-0101",  # a household of the registry
            "meeting_id": db.session.scalar(select(VillageMeeting.id)),
            "number": db.session.scalar(select(func.max(Posting.number))),
            "complaint_id": complaint_id,
            "certificate_id": db.session.scalar(select(Certificate.id)),
            "refusal_id": db.session.scalar(select(Refusal.id)),
            "job_id": job_id,
            "token": import_token,
            "submission_id": attachment[1] if attachment else None,
            "name": attachment[0] if attachment else None,
        }
    assert None not in ids.values(), ids  # every step really happened
    return ids


def _text_of(reply) -> str:
    """What a person would read in the response: page text, or a workbook's cells."""
    if reply.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(reply.data), read_only=True)
        return " ".join(
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    assert reply.mimetype in ("text/html", "text/csv", "application/json"), reply.mimetype
    return reply.get_data(as_text=True)


def _snapshot(app, own_province: str | None = None) -> tuple:
    """Counts and states of everything the walk made; audit events of ``own_province`` (what a
    stranger may change at home, e.g. their province's approval rule) are left out."""
    with app.app_context():
        events = select(func.count()).select_from(AuditEvent)
        if own_province is not None:
            own = select(Province.id).where(Province.code == own_province).scalar_subquery()
            events = events.where(AuditEvent.province_id.is_distinct_from(own))
        counts = [db.session.scalar(events)] + [
            db.session.scalar(select(func.count()).select_from(model))
            for model in (
                ReviewRound,
                VillageMeeting,
                Posting,
                Complaint,
                Refusal,
                Household,
                HouseholdImport,
            )
        ]
        return (
            *counts,
            tuple(db.session.scalars(select(Submission.review_state).order_by(Submission.id))),
            tuple(db.session.scalars(select(HouseholdCase.stage).order_by(HouseholdCase.id))),
        )


# Values for admin-only routes' parameters: refused by role before anything is looked up.
ADMIN_VALUES = {
    "form_id": "phieu_b_2022",
    "version": "1",
    "code": "demo_2022_2025_rural",
    "user_id": 1,
    "token_id": 1,
    "consultation_id": 1,
    "hold_id": 1,
}


def _kind(rule) -> str | None:
    """The rule's blueprint, or for a mixed one "audit" / "review" standing for the admin or the
    commune side; None for routes that are not staff pages."""
    blueprint = rule.endpoint.split(".", 1)[0]
    if blueprint in MIXED_PAGES:
        return ADMIN_PAGES[0] if rule.rule.startswith("/admin/") else COMMUNE_PAGES[0]
    return blueprint if blueprint in COMMUNE_PAGES + ADMIN_PAGES else None


def _routes(app, ids) -> list[tuple[str, str, str]]:
    """(blueprint, method, url) of every staff page route, its parameters filled in."""
    found = []
    for rule in app.url_map.iter_rules():
        blueprint = _kind(rule)
        if blueprint is None:
            continue
        values = ids | (ADMIN_VALUES if blueprint in ADMIN_PAGES else {})
        if "refusal_id" in rule.arguments:  # refusals belong to the monthly round
            values = values | {"round_id": ids["monthly_round_id"]}
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.rule}: give this test a value for {unknown}"
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        found.extend(
            (blueprint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        )
    return found


@pytest.fixture
def walked(app, village):
    ids = _walk_the_procedure(app, village)
    add_village_heads(app, {"truongthon-x2": "T01"}, commune="X2")
    # A second province with its administrator (admin2) and a commune officer.
    add_other_province(app, T01="Thôn Một Y")
    with app.app_context(), write_transaction(db.session):
        y1 = db.session.scalar(select(Commune).where(Commune.code == "Y1"))
        create_user(
            username="canbo.y1",
            display_name="Cán bộ xã Y1",
            role=Role.OFFICER,
            password="matkhau-123",
            commune=y1,
        )
    with app.app_context():
        submissions = [str(i) for i in db.session.scalars(select(Submission.id))]
    # What a stranger posts: this commune's objects wherever a form names one.
    form = {
        "ids": submissions,
        "state": "approved",
        "comment": "x",
        "round_id": str(village["round"]),
        "format": "xlsx",
        "commune": "X1",
        "year": "2027",
        "kind": "dinh_ky",
    }
    return {"ids": ids, "routes": _routes(app, ids), "form": form, **village}


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Households' data on a page: a head's name or a household code of the walked commune; a file
# (PDF, XLSX, CSV) is taken to carry them.
FILES = ("application/pdf", "text/csv", XLSX_MIMETYPE)


# Administration pages that show households' data (the audit log and its CSV name households
# by code in their targets): an administrator's look there is recorded too.
RECORDED_ADMIN_PAGES = ("audit",)

# Files that carry no household's data, each with why.
NO_HOUSEHOLD_DATA = {
    "/xa/nhap-ho/mau.xlsx": "the import template: column names and the commune's villages",
    "/xa/nhap-ho/mau.csv": "the import template: column names only",
    "/bao-cao.xlsx": "the report: counts per commune, no household named",
}


def _shows_households(reply) -> bool:
    reply.get_data()  # read to its end, as a browser does (a streamed file records when sent)
    if reply.mimetype in FILES or reply.mimetype.startswith("image/"):
        return True  # a document, or a questionnaire's photo
    text = reply.get_data(as_text=True)
    return "X1-T01-" in text or any(head in text for head, _status in HOUSEHOLDS.values())


def _looks(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AccessRecord))


def test_the_communes_own_officer_opens_every_page(app, walked):
    """…and every page that shows a household's data (issue 14) leaves an access record."""
    officer = walked["officer"]
    gets = [(bp, url) for bp, method, url in walked["routes"] if method == "GET"]
    assert len(gets) >= 20
    unrecorded = []
    for blueprint, url in gets:
        before = _looks(app)
        reply = officer.get(url)
        assert reply.status_code == (403 if blueprint in ADMIN_PAGES else 200), url
        if url.split("?")[0] in NO_HOUSEHOLD_DATA:
            continue
        if reply.status_code == 200 and _shows_households(reply) and _looks(app) == before:
            unrecorded.append(url)
    assert unrecorded == [], f"these pages show households' data and record no access: {unrecorded}"


@pytest.mark.parametrize("reader", ["admin1", "truongthon-x1"])
def test_every_read_of_a_households_data_by_any_role_is_recorded(app, walked, reader):
    """The province's administrator and a village head of the commune (read-only, village T01)
    open whatever of the commune they may: each page showing a household's data records the
    look in their name and role."""
    add_village_heads(app, {"truongthon-x1": "T01"})
    browser = login(app, reader)
    unrecorded, recorded = [], 0
    for blueprint, method, url in walked["routes"]:
        skipped = blueprint in ADMIN_PAGES and blueprint not in RECORDED_ADMIN_PAGES
        if method != "GET" or skipped or url.split("?")[0] in NO_HOUSEHOLD_DATA:
            continue
        before = _looks(app)
        reply = browser.get(url)
        if reply.status_code != 200 or not _shows_households(reply):
            continue
        if _looks(app) == before:
            unrecorded.append(url)
        else:
            recorded += 1
    assert unrecorded == [], f"{reader}: pages showing households' data record nothing"
    assert recorded >= 5, recorded
    with app.app_context():
        roles = set(
            db.session.scalars(
                select(AccessRecord.role).where(AccessRecord.username == reader).distinct()
            )
        )
    assert roles == {"admin" if reader == "admin1" else "village_head"}


@pytest.mark.parametrize("stranger", ["canbo2", "truongthon-x2", "canbo.y1", "admin2"])
def test_another_communes_staff_reach_nothing_on_any_route(app, walked, stranger):
    """Another commune's officer and village head, another province's officer and its
    administrator: nothing of X1 opens and nothing changes.  The other administrator opens
    their own administration pages (a national form's page among them), never X1's data, and
    their writes there change nothing of P1's (refused, or a page saying why)."""
    browser = login(app, stranger)
    home = "P2" if stranger in ("admin2", "canbo.y1") else None
    before = _snapshot(app, home)
    own_data = [head for head, _status in HOUSEHOLDS.values()] + ["X1-T01-"]
    checked = 0
    for blueprint, method, url in walked["routes"]:
        has_ids = any(ch.isdigit() for ch in url.split("?")[0])
        if method == "GET":
            reply = browser.get(url)
            if reply.status_code == 200:
                # Only a list or report of the stranger's own commune (or, for the other
                # province's administrator, their own administration pages) may open.
                own_admin = stranger == "admin2" and blueprint in ADMIN_PAGES
                assert own_admin or (blueprint in COMMUNE_PAGES and not has_ids), url
                page = _text_of(reply)
                leaked = [text for text in own_data if text in page]
                assert not leaked, (url, leaked)
            else:
                assert reply.status_code in (403, 404), (url, reply.status_code)
        else:
            reply = post_form(browser, url, walked["form"])
            own_admin = stranger == "admin2" and blueprint in ADMIN_PAGES
            refused = (403, 404) + ((302, 400) if own_admin else ())
            assert reply.status_code in refused, (method, url, reply.status_code)
        checked += 1
    assert checked == len(walked["routes"]) >= 30
    assert _snapshot(app, home) == before
    # Asking for the commune by its code is refused too.
    for url in (
        "/bao-cao?commune=X1",
        "/bao-cao.xlsx?commune=X1",
        "/xa/phieu?commune=X1",
        "/xa/ban-do?commune=X1",
        "/xa/ban-do.json?commune=X1",
    ):
        reply = browser.get(url)
        if reply.status_code == 200:
            assert not [t for t in own_data if t in _text_of(reply)], url
        else:
            assert reply.status_code in (403, 404), url
