"""A commune in the middle of its review, shared by the procedure tests (village meetings,
posting, complaints, decisions): four registry households of village T01 with their 2025
statuses, Phiếu B instances filled by the ODK Web Forms engine and sent like Collect, a review
round opened and its lists compiled through the pages."""

from __future__ import annotations

import re
import uuid
from datetime import date

from sqlalchemy import select

from server.accounts.models import Role
from server.accounts.services import create_user
from server.db import write_transaction
from server.exports import runner as export_runner
from server.extensions import db
from server.geography.models import AreaType, Commune, Province, Village
from server.households.models import HouseholdStatus
from server.i18n import vietnam_today
from server.meetings.models import HouseholdCase
from tests.collect_client import CollectClient, FlaskTransport

# Four households of village T01 and what they were recognised as in 2025.
HOUSEHOLDS = {
    "X1-T01-0101": ("Nguyễn Văn Lâm", HouseholdStatus.POOR),
    "X1-T01-0102": ("Y Blăng", HouseholdStatus.NEAR_POOR),
    "X1-T01-0103": ("A Khoa", None),
    "X1-T01-0104": ("Siu H'Nga", HouseholdStatus.POOR),
}


def add_village_heads(app, heads: dict[str, str], commune: str = "X1") -> None:
    """Village-head accounts (password matkhau-123): username → the village code they head."""
    with app.app_context(), write_transaction(db.session):
        found = db.session.scalar(select(Commune).where(Commune.code == commune))
        by_code = {v.code: v for v in found.villages}
        for username, code in heads.items():
            create_user(
                username=username,
                display_name=f"Trưởng thôn {code}",
                role=Role.VILLAGE_HEAD,
                password="matkhau-123",
                commune=found,
                villages=[by_code[code]],
            )


def add_other_province(app, commune_name: str = "Xã Khác", **villages: str) -> None:
    """A second province P2 with one commune Y1 (villages: code → name) and its administrator
    admin2 (password matkhau-123); call inside nothing (it commits)."""
    with app.app_context(), write_transaction(db.session):
        province = Province(code="P2", name="Tỉnh Khác")
        commune = Commune(
            province=province,
            code="Y1",
            name=commune_name,
            region="tay_nguyen",
            area_type=AreaType.RURAL,
        )
        for code, name in villages.items():
            commune.villages.append(Village(code=code, name=name))
        db.session.add(province)
        db.session.flush()
        create_user(
            username="admin2",
            display_name="Quản trị tỉnh khác",
            role=Role.ADMIN,
            password="matkhau-123",
            province=province,
        )


def add_national_admin(app, username: str = "quocgia") -> None:
    """A national administrator (no province; password matkhau-123)."""
    with app.app_context(), write_transaction(db.session):
        create_user(
            username=username,
            display_name="Quản trị trung ương",
            role=Role.NATIONAL,
            password="matkhau-123",
        )


def open_monthly_round(officer, started_on: date | None = None) -> str:
    """Open this month's in-year round for X1 through the page, starting ``started_on`` (default
    today, so that what was sent just now belongs to it); its URL."""
    today = vietnam_today()
    reply = post_form(
        officer,
        "/xa/ra-soat",
        {
            "commune": "X1",
            "year": str(today.year),
            "kind": "thuong_xuyen",
            "month": str(today.month),
            "started_on": (started_on or today).isoformat(),
        },
    )
    assert reply.status_code == 302, reply.status_code
    return reply.headers["Location"]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def try_login(app, username: str, password: str = "matkhau-123"):
    """One login attempt on the login page from a new browser: (browser, reply)."""
    browser = app.test_client()
    token = csrf(browser.get("/login").get_data(as_text=True))
    reply = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return browser, reply


def login(app, username):
    browser, reply = try_login(app, username)
    assert reply.status_code == 302
    return browser


def post_form(browser, url, data):
    token = csrf(browser.get("/xa/ra-soat").get_data(as_text=True))
    return browser.post(url, data={**data, "csrf_token": token})


def exported_pdf(browser, kind: str, **params) -> bytes:
    """A PDF made in the background, asked for as the page's button does (``POST /xuat`` with
    the kind and its fields): the job is waited for (whatever ``EXPORTS_RUNNER`` runs it) and
    its file downloaded from the job's page."""
    reply = post_form(browser, "/xuat", {"kind": kind} | {k: str(v) for k, v in params.items()})
    assert reply.status_code == 302, reply.status_code
    job = reply.headers["Location"]
    assert re.fullmatch(r".*/xuat/\d+", job), job
    assert export_runner.join_threads(120)
    page = browser.get(job).get_data(as_text=True)
    assert "Đã xong" in page, page
    download = browser.get(f"{job}/tep")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    data = download.data
    download.close()
    return data


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


def decide(app, village) -> None:
    """The ``village`` fixture's round carried to the chair's decision through the pages: the
    meeting (everyone agrees), the posting (24–27/11/2026), the decision of 02/12/2026."""
    officer, base = village["officer"], f"/xa/ra-soat/{village['round']}"
    voted = [c for c, case in case_rows(app).items() if case.list_type != "khong_thuoc_dien"]
    reply = post_form(
        officer, f"{village['url']}/hop-dan", meeting_form(30, dict.fromkeys(voted, 30), app)
    )
    assert reply.status_code == 302
    post_form(officer, f"{base}/niem-yet", {"places": "Trụ sở UBND xã", "starts_on": "2026-11-24"})
    post_form(
        officer,
        f"{base}/quyet-dinh",
        {"number": "125/QĐ-UBND", "signed_on": "2026-12-02", "signer_name": "Hồ Văn Nam"},
    )
    assert {c.stage for c in case_rows(app, village["round"]).values()} == {"decided"}


def seed_demo_commune(app):
    """The demo commune as ``scripts/demo`` makes it (Phiếu A and B published, the registry,
    the scored 2026 questionnaires) → (the officer's password, the demo's plan)."""
    from server.blobs import blob_store
    from server.demo import COMMUNE, seed_demo
    from server.demo_households import plan_households
    from server.demo_submissions import seed_demo_review
    from server.questionnaires.services import publish_form_version
    from server.questionnaires.sources import load_sources

    with app.app_context(), write_transaction(db.session):
        for source in load_sources():
            if source.name in ("phieu_b_2022", "phieu_a"):
                publish_form_version(
                    source.compiled_path.read_bytes(),
                    blobs=blob_store(),
                    media=source.media,
                    xlsx=source.xlsx,
                )
    with app.app_context():
        credentials = seed_demo()
        seed_demo_review(COMMUNE[0], "rsv.demo")
        planned = plan_households(COMMUNE[0])
    return credentials["accounts"]["officer"]["password"], planned


def unvisited_of_last_years_lists(planned) -> list:
    """The demo's households of last year's poor / near-poor lists no reviewer visited."""
    from server.demo_households import LIST_YEAR

    return [
        h
        for h in planned
        if h.outcome == "pending" and dict(h.history).get(LIST_YEAR) in ("ngheo", "can_ngheo")
    ]
